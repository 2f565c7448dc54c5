"""``/alerts/new``: approvers and admins issue an emergency alert to stations of their area
(:func:`scheduler.alerts.accept_alert`, as the JSON API does), confirmed twice; then
``/alerts/<id>`` shows, station by station, what each station reported — received, on air,
aired in full, interrupted, missed and why, offline — refreshed every few seconds from
``/alerts/<id>/stations``, with a button to cancel it; a CAP alert that came without
Vietnamese words shows a form for them there (:func:`scheduler.cap_alerts.translate`, as
``POST /api/v1/alerts/<id>/translation`` does). ``/alerts`` is the history: every alert of the
area, past and active, with its counts.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import select

from scheduler import alerts as service
from scheduler import permissions
from scheduler.alert_status import AlertStatus, alert_status
from scheduler.cap_alerts import awaits_translation
from scheduler.cap_alerts import translate as enter_translation
from scheduler.db import now_utc
from scheduler.errors import DomainError, Forbidden, NotFound
from scheduler.models import Alert, Role, Segment, SegmentStatus, Station, User
from scheduler.stations import subtree
from web.alerts import bp
from web.alerts.forms import AlertForm, TranslationForm, parse_local
from web.api.alerts import visible
from web.auth import panel_user, role_required
from web.db import air_alert, alert_announcer, session, settings
from web.forms import options, show_error
from web.stations.forms import number

ISSUERS = (Role.admin, Role.approver)
PICKER_LEVELS = 2  # the target picker lists two levels below the issuer's station
MAX_LISTED = 500
MAX_SEGMENTS = 200
RECENT = 10
PAGE = 30


def _targets(me: User) -> list[Station]:
    return [
        s
        for s in subtree(session(), me.station, retired=False)
        if s.depth <= me.station.depth + PICKER_LEVELS
    ][: service.MAX_TARGETS]


def _segments(me: User) -> list[tuple[str, str]]:
    """Approved, ready recordings the issuer may air (their area's and those from above)."""
    rows = session().scalars(
        select(Segment)
        .where(
            Segment.status == SegmentStatus.ready,
            Segment.approved_at.is_not(None),
            ~Segment.for_alert,
        )
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
            now = now_utc()
            who = service.Identity(f"loaxa-{uuid.uuid4()}", me.username, now, source="panel")
            try:
                alert = service.accept_alert(session(), settings(), me, spec, now, who)
            except DomainError as exc:
                session().rollback()
                field = "segment" if exc.field == "text" else exc.field
                exc.field = field
                show_error(form, exc, _messages())
            else:
                session().commit()
                air_alert(alert)
                flash(_("Đã gửi cảnh báo khẩn cấp tới %(n)s đài.", n=len(alert.codes)), "success")
                return redirect(url_for(".show", alert_id=alert.id))
    recent = service.alerts_in(session(), me.station, RECENT)
    status = 400 if form.errors or form.form_errors else 200
    return render_template(
        "alerts/new.html", form=form, stations=stations, root=me.station, recent=recent
    ), status


def _alert(alert_id: int) -> Alert:
    """The alert, if the signed-in user's area overlaps it (its owner or a target)."""
    try:
        alert = service.get_alert(session(), alert_id)
    except NotFound:
        abort(404)
    try:
        visible(panel_user(), alert)
    except Forbidden:
        abort(403)
    return alert


def _status(alert: Alert) -> AlertStatus:
    after = timedelta(seconds=settings().offline_after_s)
    return alert_status(session(), alert, now_utc(), after, MAX_LISTED)


@bp.get("/alerts")
@role_required(*ISSUERS)
def index() -> ResponseReturnValue:
    """Past and active alerts of my area, newest first, with what the stations reported."""
    me = panel_user()
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    found = service.alerts_in(session(), me.station, PAGE + 1, (page - 1) * PAGE)
    rows = [(a, _status(a)) for a in found[:PAGE]]
    return render_template(
        "alerts/index.html",
        rows=rows,
        now=now_utc(),
        page=page,
        more=len(found) > PAGE,
        can_cancel=lambda a: permissions.in_scope(me, a.owner),
    )


def _show(alert: Alert, translation: TranslationForm | None = None) -> str:
    may_act = permissions.in_scope(panel_user(), alert.owner)
    if may_act and awaits_translation(alert, now_utc()):
        translation = translation if translation is not None else TranslationForm()
    else:
        translation = None
    return render_template(
        "alerts/show.html",
        alert=alert,
        status=_status(alert),
        now=now_utc(),
        can_cancel=may_act,
        translation=translation,
    )


@bp.get("/alerts/<int:alert_id>")
@role_required(*ISSUERS)
def show(alert_id: int) -> ResponseReturnValue:
    return _show(_alert(alert_id))


def _translation_messages() -> dict[str, str]:
    return {
        "text": _("Cảnh báo này không còn chờ bản dịch (đã được dịch, đã hủy hoặc đã hết hạn)."),
        "expires": _("Cảnh báo đã hết hạn nên không được phát."),
        "targets": _("Bạn không có quyền phát tới tất cả các đài của cảnh báo này."),
    }


@bp.post("/alerts/<int:alert_id>/translation")
@role_required(*ISSUERS)
def translate(alert_id: int) -> ResponseReturnValue:
    """Air a CAP alert that came in another language with the Vietnamese words entered."""
    alert = _alert(alert_id)
    if not permissions.in_scope(panel_user(), alert.owner):
        abort(403)
    form = TranslationForm()
    if not awaits_translation(alert, now_utc()):
        flash(_translation_messages()["text"], "error")
        return redirect(url_for(".show", alert_id=alert.id))
    if form.validate_on_submit():
        try:
            enter_translation(session(), settings(), panel_user(), alert, form.text.data, now_utc())
        except DomainError as exc:  # translate() has rolled back; the words stay in the form
            alert = _alert(alert_id)
            key = "targets" if isinstance(exc, Forbidden) else exc.field or ""
            known = _translation_messages().get(key)
            form.form_errors = [known or _("Không phát được: %(reason)s", reason=exc.message)]
        else:
            session().commit()
            air_alert(alert)
            flash(_("Đã nhận bản dịch; cảnh báo đang được chuẩn bị để phát."), "success")
            return redirect(url_for(".show", alert_id=alert.id))
    return _show(alert, form), 400


@bp.get("/alerts/<int:alert_id>/stations")
@role_required(*ISSUERS)
def stations(alert_id: int) -> ResponseReturnValue:
    """The station-by-station panel alone, for the page's auto-refresh."""
    alert = _alert(alert_id)
    return render_template(
        "alerts/_progress.html", alert=alert, status=_status(alert), now=now_utc()
    )


@bp.post("/alerts/<int:alert_id>/cancel")
@role_required(*ISSUERS)
def cancel(alert_id: int) -> ResponseReturnValue:
    alert = _alert(alert_id)
    if service.cancel_alert(session(), panel_user(), alert, now_utc(), via="panel"):
        session().commit()
        alert_announcer()(alert, True)
        flash(_("Đã hủy cảnh báo. Các đài sẽ dừng phát khi đồng bộ."), "success")
    back = request.form.get("next")
    if back == "index":
        return redirect(url_for(".index"))
    return redirect(url_for(".show", alert_id=alert.id))
