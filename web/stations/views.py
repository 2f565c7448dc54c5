"""``/stations``: the subtree with each agent's live status; ``/stations/<code>``: one
station — status, streams, rules (admins edit them), agent token and install steps, and
what it aired lately.

Bounded for a national admin: the tree shows two levels below the chosen root (``?root=``
drills down) and at most :data:`MAX_ROWS` lines; filters by status list matches only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, func, or_, select

from scheduler import accounts, overview, remap
from scheduler.db import now_utc
from scheduler.errors import DomainError
from scheduler.models import Broadcast, PlayLog, Role, Station
from scheduler.stations import set_station_rules
from web.auth import login_required, panel_user, require_station
from web.db import session, settings
from web.forms import show_error
from web.stations import bp
from web.stations.forms import RulesForm, number

MAX_ROWS = 300
LEVELS_SHOWN = 2
RECENT_PLAYS = 20
FILTERS = ("online", "offline", "never", "drift")


def offline_after() -> timedelta:
    return timedelta(seconds=settings().offline_after_s)


def _filter(key: str) -> ColumnElement[bool]:
    now, after = now_utc(), offline_after()
    online = overview.online_clause(now, after)
    return {
        "online": online,
        "offline": and_(Station.last_seen.is_not(None), Station.last_seen < now - after),
        "never": Station.last_seen.is_(None),
        "drift": and_(online, func.abs(Station.clock_offset_ms) > overview.DRIFT_MS),
    }[key]


@bp.get("/stations")
@login_required
def index() -> ResponseReturnValue:
    me = panel_user()
    root = require_station(request.args.get("root") or me.station.code)
    status = request.args.get("status", "")
    if status and status not in FILTERS:
        status = ""
    query = (request.args.get("q") or "").strip()[:100]
    condition = _filter(status) if status else Station.depth <= root.depth + LEVELS_SHOWN
    if query:  # a name or a code anywhere below (a national admin has 10,000 stations)
        found = or_(
            Station.code.startswith(query, autoescape=True),
            Station.name.icontains(query, autoescape=True),
        )
        condition = found & _filter(status) if status else found
    rows = list(
        session().scalars(
            select(Station)
            .where(overview.in_subtree(root), condition)
            .order_by(Station.path)
            .limit(MAX_ROWS + 1)
        )
    )
    cut = len(rows) > MAX_ROWS
    rows = rows[:MAX_ROWS]
    deepest = [s.id for s in rows if s.depth == root.depth + LEVELS_SHOWN or status]
    children = (
        dict(
            session()
            .execute(
                select(Station.parent_id, func.count(Station.id))
                .where(Station.parent_id.in_(deepest))
                .group_by(Station.parent_id)
            )
            .all()
        )
        if deepest
        else {}
    )
    now = now_utc()
    return render_template(
        "stations/index.html",
        root=root,
        rows=[(s, overview.live_status(s, now, offline_after())) for s in rows],
        children=children,
        cut=cut,
        status=status,
        query=query,
        counts=overview.station_counts(session(), root, now, offline_after()),
        max_rows=MAX_ROWS,
        is_mine=root.id == me.station_id,
    )


def _can_admin(station: Station) -> bool:
    me = panel_user()
    return me.role == Role.admin and station.path.startswith(me.station.path)


def _rules_form(station: Station, formdata: Any = None) -> RulesForm:
    data = {
        "allowed_windows": station.allowed_windows or "",
        "max_sessions_per_day": str(station.max_sessions_per_day or ""),
        "max_minutes_per_session": str(station.max_minutes_per_session or ""),
    }
    if formdata is None:
        return RulesForm(formdata=None, data=data)
    return RulesForm(data=data)


def _detail(
    station: Station, form: RulesForm, token: str | None = None, status: int = 200
) -> tuple[str, int]:
    now = now_utc()
    db = session()
    ancestors = overview.stations_named(db, set(station.ancestor_codes[:-1]))
    lineage = remap.successions(db, station)
    # A successor's record goes on from its predecessors': what they aired is listed too.
    predecessors = {link.predecessor_id: link for link in lineage["before"]}
    plays = list(
        db.scalars(
            select(PlayLog)
            .where(PlayLog.station_id.in_({station.id, *predecessors}))
            .order_by(PlayLog.scheduled_start.desc(), PlayLog.received_at.desc())
            .limit(RECENT_PLAYS)
        )
    )
    titles = dict(
        db.execute(
            select(Broadcast.id, Broadcast.title).where(
                Broadcast.id.in_({p.broadcast_id for p in plays if p.broadcast_id})
            )
        ).all()
    )
    children = db.scalar(select(func.count(Station.id)).where(Station.parent_id == station.id))
    return render_template(
        "stations/detail.html",
        station=station,
        live=overview.live_status(station, now, offline_after()),
        ancestors=[ancestors[c] for c in station.ancestor_codes[:-1] if c in ancestors],
        plays=plays,
        titles=titles,
        children=children or 0,
        before=[link for link in lineage["before"] if link.predecessor_id != station.id],
        renamed=next((k for k in lineage["before"] if k.predecessor_id == station.id), None),
        after=lineage["after"],
        predecessors=predecessors,
        form=form,
        can_admin=_can_admin(station),
        token=token,
        server_url=request.url_root.rstrip("/"),
        mqtt_url=settings().mqtt_url,
    ), status


@bp.get("/stations/<code>")
@login_required
def detail(code: str) -> ResponseReturnValue:
    station = require_station(code)
    return _detail(station, _rules_form(station))


@bp.post("/stations/<code>/rules")
@login_required
def rules(code: str) -> ResponseReturnValue:
    station = require_station(code)
    if not _can_admin(station):
        abort(403)
    form = _rules_form(station, request.form)
    if form.validate_on_submit():
        try:
            changed = set_station_rules(
                session(),
                now_utc(),
                panel_user(),
                station,
                str(form.allowed_windows.data or ""),
                number(form.max_sessions_per_day.data),
                number(form.max_minutes_per_session.data),
            )
        except DomainError as exc:
            session().rollback()
            show_error(form, exc, {"allowed_windows": _("Khung giờ không hợp lệ.")})
        else:
            session().commit()
            if changed:
                flash(_("Đã lưu quy định phát của %(name)s.", name=station.name), "success")
            return redirect(url_for(".detail", code=station.code) + "#rules")
    return _detail(station, form, status=400)


@bp.post("/stations/<code>/token")
@login_required
def rotate_token(code: str) -> ResponseReturnValue:
    """A new agent token, shown once on the page this answers with (never stored in clear);
    the old token stops working at once."""
    station = require_station(code)
    if not _can_admin(station):
        abort(403)
    token = accounts.new_station_token(session(), now_utc(), station.code, actor=panel_user())
    session().commit()
    page, status = _detail(station, _rules_form(station), token=token)
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"  # the secret must not stay in a cache
    return response
