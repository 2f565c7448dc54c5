"""``/alerts/new``: approvers and admins issue an emergency alert to stations of their area
(:func:`scheduler.alerts.issue_alert`, as the JSON API does), confirmed twice; then
``/alerts/<id>`` shows, station by station, who has started playing it — refreshed every few
seconds from ``/alerts/<id>/stations`` — with a button to cancel it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select

from scheduler import alerts as service
from scheduler import overview, permissions
from scheduler.db import now_utc
from scheduler.errors import DomainError, NotFound
from scheduler.models import Broadcast, BroadcastStatus, Role, Segment, Station, User
from scheduler.stations import subtree
from web.alerts import bp
from web.alerts.forms import AlertForm, parse_local
from web.auth import panel_user, role_required
from web.db import announce_alert, session, settings
from web.forms import options, show_error
from web.stations.forms import number

ISSUERS = (Role.admin, Role.approver)
PICKER_LEVELS = 2  # the target picker lists two levels below the issuer's station
MAX_LISTED = 500
MAX_SEGMENTS = 200
RECENT = 10


def _targets(me: User) -> list[Station]:
    return [
        s for s in subtree(session(), me.station) if s.depth <= me.station.depth + PICKER_LEVELS
    ][: service.MAX_TARGETS]


def _segments(me: User) -> list[tuple[str, str]]:
    """Approved, ready recordings the issuer may air (their area's and those from above)."""
    rows = session().scalars(
        select(Segment)
        .where(Segment.status == "ready", Segment.approved_at.is_not(None))
        .order_by(Segment.created_at.desc())
        .limit(MAX_SEGMENTS * 4)
    )
    usable = [s for s in rows if permissions.can_use(me, s.owner)][:MAX_SEGMENTS]
    return [(str(s.id), f"{s.title} (#{s.id})") for s in usable]


# Fields of AlertSpec → the form's, and what to say when the spec refuses a value.
def _messages() -> dict[str, str]:
    return {
        "title": _("Hãy nhập tiêu đề (tối đa 300 ký tự)."),
        "text": _("Hãy nhập văn bản cần đọc (có chữ), hoặc chọn một bản tin đã duyệt."),
        "segment": _(
            "Bản tin này không phát được: chưa duyệt, chưa sẵn sàng hoặc thuộc đơn vị khác."
        ),
        "targets": _("Hãy chọn các đài trong phạm vi của bạn."),
        "expires": _("Thời điểm hết hạn phải ở tương lai và trong vòng 7 ngày."),
        "repeat_every_s": _(
            "Khoảng nhắc lại phải dài hơn bản tin, và không quá 100 lần phát trước khi hết hạn."
        ),
        "repeat_count": _(
            "Nhắc lại cần cả khoảng cách giữa các lần phát và số lần phát "
            "(hoặc thời điểm hết hạn), trong vòng 7 ngày."
        ),
    }


def _spec(form: AlertForm) -> service.AlertSpec | None:
    """The form as the domain's AlertSpec, or None with the refusal shown next to its field."""
    use_text = form.source.data == "text"
    body: dict[str, Any] = {
        "title": form.title.data,
        "text": (form.text.data or None) if use_text else None,
        "segment": None if use_text else (int(form.segment.data) if form.segment.data else None),
        "targets": list(form.targets.data or []),
        "expires": parse_local(form.expires.data),
        "repeat_every_s": number(form.repeat_every_s.data),
        "repeat_count": number(form.repeat_count.data),
    }
    try:
        return service.AlertSpec.model_validate(body)
    except ValidationError as exc:
        messages = _messages()
        for error in exc.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else ""
            if name == "text" and not use_text:
                name = "segment"
            field = getattr(form, name, None)
            text = messages.get(name, _("Giá trị không hợp lệ."))
            if field is not None and text not in field.errors:
                field.errors = [*field.errors, text]
        return None


@bp.route("/alerts/new", methods=["GET", "POST"])
@role_required(*ISSUERS)
def new() -> ResponseReturnValue:
    me = panel_user()
    form = AlertForm()
    stations = _targets(me)
    form.targets.choices = options((s.code, s.name) for s in stations)
    form.set_segments(_segments(me))
    if request.method == "GET":
        form.source.data = "text"
    if form.validate_on_submit():
        spec = _spec(form)
        if spec is not None:
            try:
                issued = service.issue_alert(session(), settings(), me, spec, now_utc())
            except DomainError as exc:
                session().rollback()
                field = "segment" if exc.field == "text" else exc.field
                exc.field = field
                show_error(form, exc, _messages())
            else:
                session().commit()
                announce_alert(issued.broadcast, service.alert_starts(issued.broadcast))
                flash(_("Đã phát cảnh báo khẩn cấp tới %(n)s đài.", n=len(spec.targets)), "success")
                return redirect(url_for(".show", alert_id=issued.broadcast.id))
    recent = overview.recent_alerts(session(), me.station, RECENT)
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "alerts/new.html", form=form, stations=stations, root=me.station, recent=recent
    ), status


def _alert(alert_id: int) -> Broadcast:
    """The alert, if the signed-in user's area overlaps it (its owner or a target)."""
    try:
        broadcast = service.get_alert(session(), alert_id)
    except NotFound:
        abort(404)
    me = panel_user()
    if not (
        permissions.in_scope(me, broadcast.owner)
        or any(
            permissions.in_scope(me, t.station) or permissions.can_use(me, t.station)
            for t in broadcast.targets
        )
    ):
        abort(403)
    return broadcast


def _progress(broadcast: Broadcast) -> dict[str, Any]:
    now = now_utc()
    rows, total, started = overview.alert_progress(session(), broadcast, MAX_LISTED)
    after = timedelta(seconds=settings().offline_after_s)
    return {
        "rows": [(s, overview.live_status(s, now, after), plays) for s, plays in rows],
        "total": total,
        "started": started,
        "listed": len(rows),
        "online": sum(1 for s, _p in rows if overview.live_status(s, now, after).online),
        "now": now,
    }


def _state(broadcast: Broadcast, now: datetime) -> str:
    if broadcast.status == BroadcastStatus.cancelled:
        return "cancelled"
    starts = service.alert_starts(broadcast)
    lasts = (
        timedelta(milliseconds=broadcast.program.duration_ms or 0)
        if broadcast.program
        else timedelta(0)
    )
    if starts and now >= starts[-1] + lasts:
        return "over"
    return "live"


@bp.get("/alerts/<int:alert_id>")
@role_required(*ISSUERS)
def show(alert_id: int) -> ResponseReturnValue:
    broadcast = _alert(alert_id)
    now = now_utc()
    return render_template(
        "alerts/show.html",
        alert=broadcast,
        starts=service.alert_starts(broadcast),
        state=_state(broadcast, now),
        can_cancel=permissions.in_scope(panel_user(), broadcast.owner),
        **_progress(broadcast),
    )


@bp.get("/alerts/<int:alert_id>/stations")
@role_required(*ISSUERS)
def stations(alert_id: int) -> ResponseReturnValue:
    """The station-by-station panel alone, for the page's auto-refresh."""
    broadcast = _alert(alert_id)
    return render_template("alerts/_progress.html", alert=broadcast, **_progress(broadcast))


@bp.post("/alerts/<int:alert_id>/cancel")
@role_required(*ISSUERS)
def cancel(alert_id: int) -> ResponseReturnValue:
    broadcast = _alert(alert_id)
    was_live = broadcast.status != BroadcastStatus.cancelled
    service.cancel_alert(session(), panel_user(), broadcast, now_utc(), via="panel")
    session().commit()
    if was_live:
        announce_alert(broadcast, service.alert_starts(broadcast), cancelled=True)
        flash(_("Đã hủy cảnh báo. Các đài sẽ dừng phát khi đồng bộ."), "success")
    return redirect(url_for(".show", alert_id=broadcast.id))
