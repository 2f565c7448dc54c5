"""``/relay`` (the signed-in user's own station) and ``/stations/<code>/relay``: today and
the week (Monday to Sunday) of a station's schedule — relays first of all, programmes too —
each airing with what the agent reported (matched by the manifest's item id), a print view
(``?print=1``: an A4 table) and the ``.ics`` subscription link.

Operators see their own station only (another commune is a 403); the others see any station
of their subtree.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from scheduler import accounts, overview
from scheduler.db import now_utc
from scheduler.models import Broadcast, Station
from scheduler.recurrence import EARLIEST, LATEST
from web.auth import login_required, panel_user, require_station
from web.db import session, settings
from web.relay import bp
from web.stations.labels import PLAY_STATUS, PLAY_TONE


@bp.get("/relay")
@login_required
def index() -> ResponseReturnValue:
    return redirect(url_for(".station", code=panel_user().station.code))


def _week_of(station: Station, now: datetime) -> tuple[date, date]:
    """The Monday of the week asked for (``?day=YYYY-MM-DD``, default today) and today."""
    today = now.astimezone(ZoneInfo(station.timezone)).date()
    raw = request.args.get("day")
    day = today
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            abort(400)
        if not EARLIEST + timedelta(days=7) <= day <= LATEST - timedelta(days=7):
            abort(400)
    return day - timedelta(days=day.weekday()), today


def _state(line: overview.Line, now: datetime) -> tuple[str, Any]:
    """(tone, words) for the "what aired" column."""

    if not line.entry.airs:
        return "muted", _("Không phát")
    if line.play is not None:
        status = line.play.status
        return PLAY_TONE.get(status, "muted"), PLAY_STATUS.get(status, status)
    if line.entry.start > now:
        return "info", _("Sắp phát")
    if line.entry.end > now:
        return "info", _("Đang đến giờ phát")
    # As the reports judge it: past its end plus the grace with nothing reported is missed
    # (a dead station is counted, not only one whose agent says so).
    if now < line.entry.end + timedelta(seconds=settings().report_grace_s):
        return "muted", _("Chờ máy trạm báo về")
    return "bad", _("Bỏ lỡ — không có báo cáo")


def _page(station: Station, token: str | None = None) -> tuple[str, int]:
    now = now_utc()
    monday, today = _week_of(station, now)
    sunday = monday + timedelta(days=6)
    fragment = timedelta(seconds=settings().min_fragment_s)
    db = session()
    lines = overview.schedule_with_plays(db, station, monday, sunday, fragment)
    todays = (
        [line for line in lines if _local_day(line, station) == today]
        if monday <= today <= sunday
        else overview.schedule_with_plays(db, station, today, today, fragment)
    )
    codes = {c for line in [*lines, *todays] for c in (line.airing.source, line.airing.origin) if c}
    names = overview.stations_named(db, codes)
    winners = {line.entry.by for line in [*lines, *todays] if line.entry.by}
    titles = (
        dict(
            db.execute(select(Broadcast.id, Broadcast.title).where(Broadcast.id.in_(winners))).all()
        )
        if winners
        else {}
    )
    by_day: dict[date, list[overview.Line]] = {monday + timedelta(days=i): [] for i in range(7)}
    for line in lines:
        by_day.setdefault(_local_day(line, station), []).append(line)
    days = [(day, by_day[day]) for day in sorted(by_day) if monday <= day <= sunday]
    context = {
        "station": station,
        "today": today,
        "todays": todays,
        "days": days,
        "monday": monday,
        "sunday": sunday,
        "names": names,
        "titles": titles,
        "state": lambda line: _state(line, now),
        "now": now,
        "token": token,
        "ics_url": url_for("feeds.schedule_ics", code=station.code, _external=True),
        # webcal:// makes a phone offer "subscribe" instead of downloading the file once.
        "webcal_url": "webcal://"
        + url_for("feeds.schedule_ics", code=station.code, _external=True).split("://", 1)[1],
        "prev_week": (monday - timedelta(days=7)).isoformat(),
        "next_week": (monday + timedelta(days=7)).isoformat(),
        "this_week": monday <= today <= sunday,
    }
    template = "relay/print.html" if request.args.get("print") == "1" else "relay/station.html"
    return render_template(template, **context), 200


def _local_day(line: overview.Line, station: Station) -> date:
    return line.entry.start.astimezone(ZoneInfo(station.timezone)).date()


@bp.get("/stations/<code>/relay")
@login_required
def station(code: str) -> ResponseReturnValue:
    return _page(require_station(code))


@bp.post("/stations/<code>/relay/token")
@login_required
def calendar_token(code: str) -> ResponseReturnValue:
    """A personal token for the calendar link (phones cannot send headers), shown once."""
    where = require_station(code)
    me = panel_user()
    token = accounts.new_api_token(session(), now_utc(), me.username, actor=me)
    session().commit()
    page, status = _page(where, token=token)
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response
