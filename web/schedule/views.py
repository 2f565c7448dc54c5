"""``/schedule`` pages: the week calendar, a broadcast's page, the form (new, edit, preview,
save with force), cancel, and the approval queue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select

from scheduler import broadcasts as service
from scheduler import permissions
from scheduler.db import now_utc
from scheduler.errors import Clash, DomainError, NotFound
from scheduler.models import (
    AuditEvent,
    Broadcast,
    BroadcastStatus,
    Program,
    ProgramStatus,
    Role,
    Station,
    User,
)
from scheduler.programs import unapproved_segments
from scheduler.rules import RuleWarning
from scheduler.station_timelines import pending_occurrences, station_timeline
from scheduler.stations import subtree
from scheduler.timeline import Occurrence
from web.auth import login_required, panel_user, require_station, role_required
from web.db import notify_stations, session, settings
from web.forms import options
from web.schedule import bp
from web.schedule.calendar import build_days, build_month, month_grid
from web.schedule.forms import (
    CONFLICT_LABELS,
    KIND_LABELS,
    PRIORITY_LABELS,
    BroadcastForm,
    parse_days,
)
from web.schedule.messages import refusal
from web.schedule.recurrence import build, describe, weekday_name
from web.segments.views import mmss

SCHEDULERS = (Role.admin, Role.editor, Role.approver)
APPROVERS = (Role.admin, Role.approver)
# The domain's field names → the form's.
FIELD_OF = {
    "title": "title",
    "owner": "owner",
    "kind": "kind",
    "program": "program",
    "source": "source",
    "stream_url": "stream_url",
    "start": "start_date",
    "duration_s": "duration_min",
    "until": "until",
    "exdates": "exdates",
    "targets": "targets",
    "priority": "priority",
    "conflict": "conflict",
    "max_delay_s": "max_delay_min",
}


# --- Who sees what ---------------------------------------------------------------------------


def broadcast_or_404(broadcast_id: int) -> Broadcast:
    try:
        broadcast = service.get_broadcast(session(), broadcast_id)
    except NotFound:
        abort(404)
    targets = (t.station for t in broadcast.targets)
    if not permissions.can_see(panel_user(), broadcast.owner, targets):
        abort(403)
    return broadcast


def _may_change(me: User, broadcast: Broadcast) -> bool:
    return (
        me.role in SCHEDULERS
        and permissions.in_scope(me, broadcast.owner)
        and broadcast.status != BroadcastStatus.cancelled
    )


def may_approve(me: User, broadcast: Broadcast) -> bool:
    waits = broadcast.status == BroadcastStatus.pending or (
        broadcast.status == BroadcastStatus.approved and bool(broadcast.revision)
    )
    return waits and permissions.can_approve(me, broadcast.owner)


def revision_view(broadcast: Broadcast) -> dict[str, Any] | None:
    """The change waiting beside an approved broadcast, in words (None: nothing waits)."""
    spec = service.revision_of(broadcast)
    if spec is None:
        return None
    start = spec.start.replace(tzinfo=None)
    targets = _stations_named(spec.targets or [spec.owner])
    return {
        "title": spec.title,
        "when": describe(start, spec.rrule, spec.until, spec.exdates),
        "targets": [targets[c].name if c in targets else c for c in spec.targets or [spec.owner]],
        "by": users_by_id([broadcast.revision_by_id]).get(broadcast.revision_by_id or 0),
        "at": broadcast.revision_at,
    }


# --- The week calendar -----------------------------------------------------------------------


def _week_start(text: str | None, today: date) -> date:
    """``2026-W17`` → that week's Monday; none → this week; anything else → 400."""
    if not text:
        return today - timedelta(days=today.weekday())
    year, sep, week = text.strip().upper().partition("-W")
    if not (sep and year.isdigit() and week.isdigit() and len(year) == 4 and len(week) <= 2):
        abort(400)
    try:
        monday = date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        abort(400)
    if not 2000 <= monday.year <= 2099:
        abort(400)
    return monday


def iso_week(day: date) -> str:
    year, week, _day = day.isocalendar()
    return f"{year}-W{week:02d}"


def _titles(ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = session().execute(select(Broadcast.id, Broadcast.title).where(Broadcast.id.in_(wanted)))
    return {i: t for i, t in rows}


def _picker(me: User) -> list[Station]:
    if me.role == Role.operator:
        return [me.station]
    return list(subtree(session(), me.station, retired=False))


def _day(text: str | None, today: date) -> date:
    """``2026-12-04`` → that day; none → today; anything else → 400."""
    if not text:
        return today
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        abort(400)
    if not 2000 <= day.year <= 2099:
        abort(400)
    return day


def _month(text: str | None, today: date) -> date:
    """``2026-12`` → its 1st; none → this month; anything else → 400."""
    if not text:
        return today.replace(day=1)
    year, sep, month = text.strip().partition("-")
    if not (sep and len(year) == 4 and year.isdigit() and month.isdigit() and len(month) <= 2):
        abort(400)
    if not (2000 <= int(year) <= 2099 and 1 <= int(month) <= 12):
        abort(400)
    return date(int(year), int(month), 1)


def month_code(day: date) -> str:
    return f"{day.year}-{day.month:02d}"


def _shift_month(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


VIEWS = ("day", "week", "month")


@bp.get("/schedule")
@login_required
def index() -> ResponseReturnValue:
    me = panel_user()
    code = request.args.get("station") or me.station.code
    station = require_station(code)
    if me.role == Role.operator and station.id != me.station_id:
        abort(403)
    view = request.args.get("view") or "week"
    if view not in VIEWS:
        abort(400)
    zone = ZoneInfo(station.timezone)
    today = now_utc().astimezone(zone).date()
    nav: dict[str, dict[str, str]]
    month: date | None = None
    if view == "day":
        first = last = _day(request.args.get("day"), today)
        nav = {
            "prev": {"day": (first - timedelta(days=1)).isoformat()},
            "now": {"day": today.isoformat()},
            "next": {"day": (first + timedelta(days=1)).isoformat()},
        }
        anchor = first
    elif view == "month":
        month = _month(request.args.get("month"), today)
        first, last = month_grid(month)
        nav = {
            "prev": {"month": month_code(_shift_month(month, -1))},
            "now": {"month": month_code(today)},
            "next": {"month": month_code(_shift_month(month, 1))},
        }
        anchor = today if (today.year, today.month) == (month.year, month.month) else month
    else:
        first = _week_start(request.args.get("week"), today)
        last = first + timedelta(days=6)
        nav = {
            "prev": {"week": iso_week(first - timedelta(days=7))},
            "now": {"week": iso_week(today)},
            "next": {"week": iso_week(first + timedelta(days=7))},
        }
        anchor = today if first <= today <= last else first
    entries = station_timeline(
        session(), station, first, last, timedelta(seconds=settings().min_fragment_s)
    )
    pending = pending_occurrences(session(), station, first, last) if me.role in SCHEDULERS else []
    titles = {e.occurrence.broadcast: e.occurrence.payload.title for e in entries}
    titles |= _titles(e.by for e in entries if e.by and e.by not in titles)
    days = build_days(entries, pending, zone, first, last, today, titles)
    grid = build_month(days, month) if month else None
    origins = {
        s.code: s
        for s in session().scalars(select(Station).where(Station.code.in_(station.ancestor_codes)))
    }
    return render_template(
        "schedule/index.html",
        me=me,
        station=station,
        stations=_picker(me),
        view=view,
        week=days,
        month=grid,
        origins=origins,
        first=first,
        last=last,
        nav=nav,
        # Where each view opens from here: the day shown, today within this span, or its start.
        views={
            "day": {"day": anchor.isoformat()},
            "week": {"week": iso_week(anchor)},
            "month": {"month": month_code(anchor)},
        },
        week_code=iso_week(first),
        month_value=month_code(anchor),
        can_create=me.role in SCHEDULERS,
        priority_labels=PRIORITY_LABELS,
        kind_labels=KIND_LABELS,
        weekday_name=weekday_name,
    )


# --- One broadcast ---------------------------------------------------------------------------


def _rejection(broadcast: Broadcast) -> AuditEvent | None:
    return session().scalar(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "broadcast",
            AuditEvent.object_id == str(broadcast.id),
            AuditEvent.action.in_(("broadcast.reject", "broadcast.cancel")),
        )
        .order_by(AuditEvent.at.desc())
    )


@bp.get("/schedule/<int:broadcast_id>")
@login_required
def show(broadcast_id: int) -> ResponseReturnValue:
    broadcast = broadcast_or_404(broadcast_id)
    me = panel_user()
    return render_template(
        "schedule/show.html",
        b=broadcast,
        when=describe(broadcast.start_local, broadcast.rrule, broadcast.until, broadcast.exdates),
        may_change=_may_change(me, broadcast),
        may_approve=may_approve(me, broadcast),
        ended=_rejection(broadcast) if broadcast.status == BroadcastStatus.cancelled else None,
        revision=revision_view(broadcast),
        users=users_by_id([broadcast.created_by_id, broadcast.approved_by_id]),
        priority_labels=PRIORITY_LABELS,
        kind_labels=KIND_LABELS,
        conflict_labels=CONFLICT_LABELS,
        week=iso_week(max(broadcast.start_local.date(), now_utc().date())),
    )


def users_by_id(ids: Iterable[int | None]) -> dict[int, User]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return {u.id: u for u in session().scalars(select(User).where(User.id.in_(wanted)))}


# --- The form ---------------------------------------------------------------------------------


def _station_label(s: Station) -> str:
    return f"{s.name} ({s.code})"


def _programs(me: User, keep: int | None = None) -> list[tuple[str, str]]:
    """Ready programmes the user may schedule: owned in their area or above it."""
    found = session().scalars(
        select(Program)
        .where(
            ((Program.status == ProgramStatus.ready) & Program.archived_at.is_(None))
            | (Program.id == (keep or 0))
        )
        .order_by(Program.created_at.desc(), Program.id.desc())
    )
    pairs = [("", _("— Chọn chương trình —"))]
    for p in found:
        if permissions.can_use(me, p.owner) or p.id == keep:
            label = f"{p.title} — {mmss(p.duration_ms)} ({p.owner.name})"
            if unapproved_segments(p):
                label += " — " + _("còn bản tin chờ duyệt")
            pairs.append((str(p.id), label))
    return pairs


def _sources(me: User) -> list[tuple[str, str]]:
    found = session().scalars(
        select(Station).where(Station.stream_url.is_not(None)).order_by(Station.depth, Station.code)
    )
    pairs = [("", _("— Không chọn: dùng địa chỉ luồng bên dưới —"))]
    pairs += [(s.code, _station_label(s)) for s in found if permissions.can_use(me, s)]
    return pairs


def _tree(stations: list[Station]) -> list[dict[str, Any]]:
    """The target picker: nested nodes (station, children) from the user's subtree."""
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for s in stations:  # parents first
        node = {"station": s, "children": []}
        nodes[s.id] = node
        parent = nodes.get(s.parent_id) if s.parent_id else None
        (parent["children"] if parent else roots).append(node)
    return roots


def _setup(form: BroadcastForm, me: User, keep_program: int | None = None) -> list[Station]:
    area = list(subtree(session(), me.station, retired=False))
    form.owner.choices = options((s.code, _station_label(s)) for s in area)
    form.program.choices = options(_programs(me, keep_program))
    form.source.choices = options(_sources(me))
    form.targets.choices = options((s.code, s.code) for s in area)
    return area


def _attach(form: BroadcastForm, name: str, message: str) -> None:
    field = form._fields.get(name)
    if field is None:
        form.form_errors = [*form.form_errors, message]
    else:
        field.errors = [*field.errors, message]


def _recurrence_field(form: BroadcastForm) -> str:
    return "rrule" if form.recurrence.data == "custom" else "recurrence"


def _invalid(form: BroadcastForm, exc: ValidationError) -> None:
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else ""
        name = _recurrence_field(form) if key == "rrule" else FIELD_OF.get(key, "")
        if key in ("start", "until", "exdates"):
            message = _("Ngày phải nằm trong khoảng năm 2000–2099.")
        else:
            message = _("Giá trị này không hợp lệ.")
        if name not in form._fields or message not in form._fields[name].errors:
            _attach(form, name, message)


def _refused(form: BroadcastForm, exc: DomainError) -> None:
    rrule = exc.field == "rrule"
    name = _recurrence_field(form) if rrule else FIELD_OF.get(exc.field or "", "")
    _attach(form, name, refusal(exc))


def _stations_named(codes: Iterable[str]) -> dict[str, Station]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    return {s.code: s for s in session().scalars(select(Station).where(Station.code.in_(wanted)))}


def _warning_text(warning: RuleWarning, station: Station | None) -> str:
    if warning.rule == "allowed_windows":
        windows = station.allowed_windows if station else ""
        return _("Ngoài khung giờ được phát (%(windows)s).", windows=windows)
    if warning.rule == "max_sessions_per_day":
        limit = station.max_sessions_per_day if station else 0
        return _("Quá số buổi phát trong ngày (tối đa %(n)s buổi).", n=limit)
    limit = station.max_minutes_per_session if station else 0
    return _("Buổi phát dài quá giới hạn (tối đa %(n)s phút mỗi buổi).", n=limit)


def conflict_report(
    clashes: list[dict[str, Any]],
    found: list[dict[str, Any]],
    total: int,
    warnings: list[RuleWarning],
    draft_id: int | None,
) -> dict[str, Any]:
    """Clashes, conflicts and warnings with names instead of codes and ids."""
    codes = [c["station"] for c in clashes] + [c["station"] for c in found]
    codes += [w.station for w in warnings]
    stations = _stations_named(codes)
    ids = (
        [c["with"] for c in clashes] + [c["with"] for c in found] + [c["broadcast"] for c in found]
    )
    titles = _titles(i for i in ids if i != draft_id)
    this = _("buổi phát này")
    rows = []
    for c in found:
        mine = c["broadcast"] == draft_id
        rows.append(
            {
                **c,
                "station_name": stations.get(c["station"], c["station"]),
                "loser": this if mine else titles.get(c["broadcast"], f"#{c['broadcast']}"),
                "winner": this if c["with"] == draft_id else titles.get(c["with"], f"#{c['with']}"),
            }
        )
    return {
        "clashes": [
            {
                **c,
                "station_name": stations.get(c["station"], c["station"]),
                "title": c.get("title") or titles.get(c["with"], ""),
            }
            for c in clashes
        ],
        "conflicts": rows,
        "conflicts_total": total,
        "warnings": [
            {
                "station": stations.get(w.station, w.station),
                "date": w.date,
                "text": _warning_text(w, stations.get(w.station)),
            }
            for w in warnings
        ],
    }


def _initial(form: BroadcastForm, me: User, station: str | None) -> None:
    form.kind.data = "program"
    form.owner.data = me.station.code
    form.recurrence.data = "once"
    form.priority.data = "normal"
    form.conflict.data = ""
    form.max_delay_min.data = str(settings().default_max_delay_s // 60)
    if station:
        form.targets.data = [station]


def _initial_program(form: BroadcastForm, wanted: str) -> None:
    """ "Lên lịch phát" from a programme's page: that programme, titled after it."""
    if wanted and wanted in {str(choice[0]) for choice in form.program.iter_choices()}:
        program = session().get(Program, int(wanted))
        if program is not None:
            form.program.data = wanted
            form.title.data = program.title


def _form_page(
    form: BroadcastForm,
    area: list[Station],
    status: int,
    existing: Broadcast | None = None,
    report: dict[str, Any] | None = None,
    outcome: str | None = None,
    first: Occurrence | None = None,
) -> ResponseReturnValue:
    wording = ""
    if not form.errors and form.start_time.clock is not None:
        try:
            built = build(form.choice())
            start = datetime.combine(built.start, form.start_time.clock)
            exdates, _bad = parse_days(form.exdates.data)
            wording = describe(start, built.rrule, built.until, exdates)
        except (ValueError, TypeError):
            wording = ""
    picked = set(form.targets.data or [])
    return render_template(
        "schedule/form.html",
        form=form,
        nodes=_tree(area),
        picked=picked,
        open_codes={c for s in area if s.code in picked for c in s.ancestor_codes},
        existing=existing,
        report=report,
        outcome=outcome,
        wording=wording,
        first=first.start if first else None,
        revises=existing is not None and service.needs_revision(panel_user(), existing),
        owner_zone=next((s.timezone for s in area if s.code == form.owner.data), None),
    ), status


def _handle(
    form: BroadcastForm, area: list[Station], existing: Broadcast | None
) -> ResponseReturnValue:
    """POST: preview, or save (409 with the clashes when force is needed)."""
    me = panel_user()
    if not form.validate_on_submit():
        return _form_page(form, area, 400, existing)
    action = request.form.get("action", "save")
    try:
        spec = form.to_spec(force=bool(form.force.data))
    except ValidationError as exc:
        _invalid(form, exc)
        return _form_page(form, area, 400, existing)
    db = session()
    if action == "preview":
        try:
            seen = service.preview_broadcast(db, settings(), me, spec, now_utc(), existing)
        except DomainError as exc:
            _refused(form, exc)
            return _form_page(form, area, exc.status if exc.status == 403 else 400, existing)
        report = conflict_report(
            seen.clashes, seen.conflicts, seen.conflicts_total, seen.warnings, seen.draft_id
        )
        outcome = "revision" if seen.revision else seen.status.value
        return _form_page(form, area, 200, existing, report, outcome, seen.first_airing)
    before = existing.target_codes if existing is not None else []
    try:
        result = service.save_broadcast(db, settings(), me, spec, now_utc(), existing)
    except Clash as exc:
        db.rollback()
        report = conflict_report(
            exc.details.get("clashes", []), [], 0, [], existing.id if existing else None
        )
        form.form_errors = [
            *form.form_errors,
            _(
                "Trùng giờ với buổi phát cùng cấp và cùng mức ưu tiên. Hãy đổi giờ hoặc đài, "
                "hoặc đánh dấu “Vẫn lưu dù trùng giờ” rồi lưu lại."
            ),
        ]
        return _form_page(form, area, 409, existing, report)
    except DomainError as exc:
        db.rollback()
        _refused(form, exc)
        return _form_page(form, area, exc.status if exc.status == 403 else 400, existing)
    broadcast = result.broadcast
    db.commit()
    notify_stations([*before, *broadcast.target_codes])
    if result.revised:
        flash(
            _(
                "Đã gửi thay đổi «%(title)s» chờ duyệt. Lịch đã duyệt vẫn phát như cũ cho đến "
                "khi thay đổi được duyệt.",
                title=spec.title,
            ),
            "success",
        )
    elif broadcast.status == BroadcastStatus.approved:
        flash(_("Đã lưu và duyệt «%(title)s».", title=broadcast.title), "success")
    else:
        flash(_("Đã lưu «%(title)s»; buổi phát đang chờ duyệt.", title=broadcast.title), "success")
    if result.conflicts_total or result.warnings:
        flash(
            _(
                "Lưu ý: %(conflicts)d xung đột và %(warnings)d cảnh báo trong 7 ngày tới.",
                conflicts=result.conflicts_total,
                warnings=len(result.warnings),
            ),
            "info",
        )
    zone = ZoneInfo(broadcast.timezone)
    first = max(broadcast.start_local.date(), now_utc().astimezone(zone).date())
    return redirect(url_for(".index", station=broadcast.target_codes[0], week=iso_week(first)))


@bp.route("/schedule/new", methods=["GET", "POST"])
@role_required(*SCHEDULERS)
def new() -> ResponseReturnValue:
    me = panel_user()
    form = BroadcastForm()
    area = _setup(form, me)
    if request.method == "GET":
        # From a commune's calendar that commune is ticked; from a district's, nothing is:
        # ticking the district would tick (and lock) every commune under it unasked.
        wanted = request.args.get("station")
        parents = {s.parent_id for s in area}
        communes = {s.code for s in area if s.id not in parents}
        _initial(form, me, wanted if wanted in communes else None)
        _initial_program(form, request.args.get("program", ""))
        return _form_page(form, area, 200)
    return _handle(form, area, None)


@bp.route("/schedule/<int:broadcast_id>/edit", methods=["GET", "POST"])
@role_required(*SCHEDULERS)
def edit(broadcast_id: int) -> ResponseReturnValue:
    me = panel_user()
    broadcast = broadcast_or_404(broadcast_id)
    if not permissions.in_scope(me, broadcast.owner):
        abort(403)
    if broadcast.status == BroadcastStatus.cancelled:
        flash(_("Buổi phát này đã hủy; hãy tạo buổi phát mới."), "error")
        return redirect(url_for(".show", broadcast_id=broadcast.id))
    form = BroadcastForm()
    area = _setup(form, me, keep_program=broadcast.program_id)
    if request.method == "GET":
        waiting = service.revision_of(broadcast)
        mine = waiting if waiting and service.needs_revision(me, broadcast) else None
        form.fill(mine or service.spec_of(broadcast))
        return _form_page(form, area, 200, broadcast)
    return _handle(form, area, broadcast)


@bp.post("/schedule/<int:broadcast_id>/cancel")
@role_required(*SCHEDULERS)
def cancel(broadcast_id: int) -> ResponseReturnValue:
    broadcast = broadcast_or_404(broadcast_id)
    reason = (request.form.get("reason") or "").strip()[:500]
    try:
        service.cancel(session(), panel_user(), broadcast, now_utc(), reason)
    except DomainError:
        session().rollback()
        abort(403)
    session().commit()
    notify_stations(broadcast.target_codes)
    flash(_("Đã hủy «%(title)s». Lịch sử vẫn được giữ.", title=broadcast.title), "success")
    return redirect(url_for(".show", broadcast_id=broadcast.id))
