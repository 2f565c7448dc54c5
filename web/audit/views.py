"""``/audit``: audit events of the reader's subtree, newest first, 50 a page, filtered by
user, action and local dates. Admins and approvers only. Events tied to no station (a station
import from the command line) are shown to readers at the top of the tree only."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import ColumnElement, func, or_, select
from wtforms import StringField
from wtforms.validators import Length, Optional, ValidationError

from scheduler import overview
from scheduler.models import AuditEvent, Role, Station, User
from scheduler.recurrence import EARLIEST, LATEST, local_day_window
from web.audit import bp
from web.audit.wording import action_label, tell
from web.auth import panel_user, role_required
from web.db import session
from web.forms import ChoiceField, options, strip

PER_PAGE = 50
MAX_PAGE = 10_000


def _day(form: Any, field: Any) -> None:
    if not field.data:
        return
    try:
        value = date.fromisoformat(field.data)
    except ValueError:
        raise ValidationError(_("Hãy nhập ngày như 2026-04-21.")) from None
    if not EARLIEST <= value <= LATEST:
        raise ValidationError(_("Ngày nằm ngoài khoảng cho phép."))


class AuditFilter(FlaskForm):
    class Meta:
        csrf = False  # a GET search: nothing changes

    user = StringField(
        _l("Người dùng"),
        filters=[strip],
        validators=[Optional(), Length(max=100, message=_l("Tối đa 100 ký tự."))],
    )
    action = ChoiceField(_l("Thao tác"), invalid=_l("Hãy chọn một thao tác trong danh sách."))
    since = StringField(_l("Từ ngày"), filters=[strip], validators=[_day])
    until = StringField(_l("Đến ngày"), filters=[strip], validators=[_day])


def _scope(me: User) -> ColumnElement[bool]:
    inside = AuditEvent.station_id.in_(select(Station.id).where(overview.in_subtree(me.station)))
    return or_(inside, AuditEvent.station_id.is_(None)) if me.station.depth == 0 else inside


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return max(1, min(int(raw), MAX_PAGE)) if raw.isdigit() else 1


@bp.get("/audit")
@role_required(Role.admin, Role.approver)
def index() -> ResponseReturnValue:
    me = panel_user()
    db = session()
    scope = _scope(me)
    actions = sorted(db.scalars(select(AuditEvent.action).where(scope).distinct()))
    form = AuditFilter(request.args)
    form.action.choices = options(
        [("", str(_("Mọi thao tác"))), *((a, action_label(a)) for a in actions)]
    )
    if not request.args.get("action"):
        form.action.data = ""
    valid = form.validate() if request.args else True
    wheres: list[ColumnElement[bool]] = [scope]
    zone = me.station.timezone
    if valid:
        if form.user.data:
            wheres.append(func.lower(AuditEvent.actor) == form.user.data.lower())
        if form.action.data:
            wheres.append(AuditEvent.action == form.action.data)
        if form.since.data:
            first = date.fromisoformat(form.since.data)
            wheres.append(AuditEvent.at >= local_day_window(first, first, zone)[0])
        if form.until.data:
            last = date.fromisoformat(form.until.data)
            wheres.append(AuditEvent.at < local_day_window(last, last, zone)[1])
    total = int(db.scalar(select(func.count(AuditEvent.id)).where(*wheres)) or 0)
    page = _page_number()
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    events = list(
        db.scalars(
            select(AuditEvent)
            .where(*wheres)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE)
        )
    )
    stations = {
        s.id: s
        for s in db.scalars(
            select(Station).where(Station.id.in_({e.station_id for e in events if e.station_id}))
        )
    }
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "audit/index.html",
        form=form,
        events=tell(db, events, zone),
        stations=stations,
        total=total,
        page=page,
        pages=pages,
        args=args,
    ), 200 if valid else 400
