"""``/schedule/approvals``: the approval queue — pending broadcasts and changes waiting
beside approved ones — and approving (one, or the ticked ones) or rejecting with a reason."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import or_, select

from scheduler import broadcasts as service
from scheduler import conflicts
from scheduler.db import now_utc
from scheduler.errors import DomainError, Forbidden
from scheduler.models import Broadcast, BroadcastStatus, Station, User
from web.auth import panel_user, role_required
from web.db import notify_stations, session, settings
from web.schedule import bp
from web.schedule.forms import KIND_LABELS, PRIORITY_LABELS, ApproveManyForm
from web.schedule.messages import refusal
from web.schedule.recurrence import describe
from web.schedule.views import (
    APPROVERS,
    SCHEDULERS,
    broadcast_or_404,
    conflict_report,
    may_approve,
    revision_view,
    users_by_id,
)


def _queue(me: User) -> list[Broadcast]:
    """Pending broadcasts, and approved ones with a change waiting beside them."""
    waiting = or_(
        Broadcast.status == BroadcastStatus.pending,
        (Broadcast.status == BroadcastStatus.approved) & Broadcast.revision_at.is_not(None),
    )
    query = (
        select(Broadcast)
        .join(Station, Broadcast.owner_id == Station.id)
        .where(waiting)
        .order_by(Broadcast.start_local, Broadcast.id)
    )
    if me.role in APPROVERS:
        query = query.where(Station.path.startswith(me.station.path, autoescape=True))
    else:
        query = query.where(
            or_(Broadcast.created_by_id == me.id, Broadcast.revision_by_id == me.id)
        )
    return list(session().scalars(query))


def _queue_item(b: Broadcast) -> dict[str, Any]:
    revision = revision_view(b)
    if revision is None:
        found, total, warnings = conflicts.preview(session(), settings(), b, now_utc())
        report = conflict_report([], found, total, warnings, b.id)
    else:
        report = None  # the change is previewed when it is approved (a clash refuses it)
    program = b.program if b.program is not None and b.kind.value == "program" else None
    return {
        "b": b,
        "when": describe(b.start_local, b.rrule, b.until, b.exdates),
        "report": report,
        "revision": revision,
        "program": program,
        "bulletins": [i.segment for i in program.items if i.segment and not i.segment.approved_at]
        if program
        else [],
    }


def _approvals_page(
    errors: dict[int, str] | None = None, kept: dict[int, str] | None = None, status: int = 200
) -> ResponseReturnValue:
    me = panel_user()
    items = [_queue_item(b) for b in _queue(me)]
    return render_template(
        "schedule/approvals.html",
        items=items,
        approver=me.role in APPROVERS,
        users=users_by_id(i["b"].created_by_id for i in items),
        errors=errors or {},
        reasons=kept or {},
        many=ApproveManyForm(),
        priority_labels=PRIORITY_LABELS,
        kind_labels=KIND_LABELS,
    ), status


@bp.get("/schedule/approvals")
@role_required(*SCHEDULERS)
def approvals() -> ResponseReturnValue:
    return _approvals_page()


@bp.post("/schedule/<int:broadcast_id>/approve")
@role_required(*APPROVERS)
def approve(broadcast_id: int) -> ResponseReturnValue:
    broadcast = broadcast_or_404(broadcast_id)
    try:
        service.approve(session(), settings(), panel_user(), broadcast, now_utc())
    except Forbidden:
        session().rollback()
        abort(403)
    except DomainError as exc:
        session().rollback()
        flash(_("Không duyệt được: %(reason)s", reason=refusal(exc)), "error")
        return redirect(url_for(".approvals"))
    session().commit()
    notify_stations(broadcast.target_codes)
    flash(_("Đã duyệt «%(title)s».", title=broadcast.title), "success")
    return redirect(url_for(".approvals"))


@bp.post("/schedule/approvals")
@role_required(*APPROVERS)
def approve_many() -> ResponseReturnValue:
    """Approve the ticked broadcasts of the queue, each on its own: one refused (a clash, a
    bulletin still waiting) does not hold back the others, and says why."""
    if not ApproveManyForm().validate_on_submit():
        abort(400)
    ids = sorted({int(i) for i in request.form.getlist("ids") if i.isdigit() and len(i) < 10})
    if not ids:
        flash(_("Hãy chọn ít nhất một buổi phát để duyệt."), "error")
        return redirect(url_for(".approvals"))
    me, db = panel_user(), session()
    done: list[str] = []
    refused: list[str] = []
    for broadcast_id in ids:
        broadcast = db.get(Broadcast, broadcast_id)
        if broadcast is None or not may_approve(me, broadcast):
            continue
        title, targets = broadcast.title, broadcast.target_codes
        try:
            service.approve(db, settings(), me, broadcast, now_utc())
        except DomainError as exc:
            db.rollback()
            refused.append(f"«{title}»: {refusal(exc)}")
            continue
        db.commit()
        notify_stations(targets)
        done.append(title)
    if done:
        flash(_("Đã duyệt %(n)d buổi phát.", n=len(done)), "success")
    for line in refused:
        flash(_("Không duyệt được %(what)s", what=line), "error")
    return redirect(url_for(".approvals"))


@bp.post("/schedule/<int:broadcast_id>/reject")
@role_required(*APPROVERS)
def reject(broadcast_id: int) -> ResponseReturnValue:
    broadcast = broadcast_or_404(broadcast_id)
    reason = (request.form.get("reason") or "").strip()
    if not reason or len(reason) > 500:
        message = _("Hãy ghi lý do từ chối (tối đa 500 ký tự).")
        return _approvals_page({broadcast.id: message}, {broadcast.id: reason[:500]}, 400)
    try:
        service.reject(session(), panel_user(), broadcast, now_utc(), reason)
    except Forbidden:
        session().rollback()
        abort(403)
    except DomainError:
        session().rollback()
        flash(_("Buổi phát này không còn chờ duyệt."), "error")
        return redirect(url_for(".approvals"))
    session().commit()
    notify_stations(broadcast.target_codes)
    flash(_("Đã từ chối «%(title)s».", title=broadcast.title), "success")
    return redirect(url_for(".approvals"))
