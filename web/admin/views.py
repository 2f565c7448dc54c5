"""``/users``: list, create, change role or station, reset a password, (de)activate.

Everything is scoped: an admin sees and changes only users whose station is in their own
subtree, and can only place users there. The rules live in ``scheduler.accounts``; this
module turns forms into calls and errors into messages next to the fields.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from scheduler import accounts
from scheduler.db import now_utc
from scheduler.errors import DomainError, NotFound
from scheduler.models import Role, User
from scheduler.permissions import in_scope
from scheduler.stations import subtree
from web.admin import bp
from web.admin.forms import PasswordResetForm, UserCreateForm, UserEditForm, station_choices
from web.auth import panel_user, role_required
from web.db import session
from web.forms import SelectChoice, options, show_error


def _stations() -> list[Any]:
    """The station picker, its communes grouped under their district (an optgroup each), so
    a province admin scrolls by district rather than through a hundred names."""
    me = panel_user()
    area = list(subtree(session(), me.station, retired=False))
    if SelectChoice is None:  # pragma: no cover - older WTForms: indented, ungrouped
        return options(station_choices(area, me.station))
    names = {s.id: s.name for s in area}
    parents = {s.parent_id for s in area}
    grouped = []
    for s in area:
        leaf = s.id not in parents and s.depth > me.station.depth
        group = names.get(s.parent_id or 0) if leaf else None
        label = f"{s.name} ({s.code})"
        grouped.append(SelectChoice(s.code, label, optgroup=group))
    return grouped


def _user_in_scope(user_id: int) -> User:
    """The user with this id, if the signed-in admin may manage them (else 404 / 403)."""
    try:
        user = accounts.get_user(session(), user_id)
    except NotFound:
        abort(404)
    if not in_scope(panel_user(), user.station):
        abort(403)
    return user


def _field_messages() -> dict[str, str]:
    """The domain's refusals, worded for the panel."""
    return {
        "username": _("Tên đăng nhập này đã có người dùng."),
        "station": _("Hãy chọn một đài trong phạm vi của bạn."),
        "role": _("Bạn không thể đổi vai trò của chính mình."),
        "password": _("Mật khẩu không hợp lệ."),
    }


@bp.get("/users")
@role_required(Role.admin)
def users() -> ResponseReturnValue:
    """Everyone in my area, searched by name or username and filtered by role (a national
    admin has thousands of accounts)."""
    people = accounts.users_in_scope(session(), panel_user())
    query = (request.args.get("q") or "").strip()[:100]
    role = request.args.get("role", "")
    if role not in {r.value for r in Role}:
        role = ""
    if query:
        wanted = query.casefold()
        people = [
            u
            for u in people
            if wanted in u.username.casefold()
            or wanted in (u.full_name or "").casefold()
            or wanted in u.station.name.casefold()
            or u.station.code.startswith(query)
        ]
    if role:
        people = [u for u in people if u.role.value == role]
    return render_template("admin/users.html", users=people, query=query, role=role)


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(Role.admin)
def new_user() -> ResponseReturnValue:
    form = UserCreateForm()
    form.station.choices = _stations()
    if request.method == "GET":
        form.role.data = Role.operator.value
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                session(),
                now_utc(),
                panel_user(),
                str(form.username.data),
                str(form.password.data),
                str(form.role.data),
                str(form.station.data),
                str(form.full_name.data or ""),
            )
        except DomainError as exc:
            session().rollback()
            show_error(form, exc, _field_messages())
        else:
            session().commit()
            flash(_("Đã tạo người dùng %(username)s.", username=user.username), "success")
            return redirect(url_for(".users"))
    return render_template("admin/new_user.html", form=form), 400 if form.errors else 200


def _edit_page(
    user: User, form: UserEditForm, password_form: PasswordResetForm, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "admin/edit_user.html",
        user=user,
        form=form,
        password_form=password_form,
        is_me=user.id == panel_user().id,
    ), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.admin)
def edit_user(user_id: int) -> ResponseReturnValue:
    user = _user_in_scope(user_id)
    is_me = user.id == panel_user().id
    form = UserEditForm(
        data={"full_name": user.full_name, "role": user.role.value, "station": user.station.code}
    )
    form.station.choices = _stations()
    # An admin cannot change their own role or station (the page shows them, not as inputs).
    if form.validate_on_submit():
        try:
            changes = accounts.update_user(
                session(),
                now_utc(),
                panel_user(),
                user,
                role=None if is_me else str(form.role.data),
                station_code=None if is_me else str(form.station.data),
                full_name=str(form.full_name.data or ""),
            )
        except DomainError as exc:
            session().rollback()
            show_error(form, exc, _field_messages())
        else:
            session().commit()
            if changes:
                flash(_("Đã lưu thay đổi của %(username)s.", username=user.username), "success")
            return redirect(url_for(".edit_user", user_id=user.id))
    return _edit_page(user, form, PasswordResetForm(formdata=None), 400 if form.errors else 200)


@bp.post("/users/<int:user_id>/password")
@role_required(Role.admin)
def reset_password(user_id: int) -> ResponseReturnValue:
    user = _user_in_scope(user_id)
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(session(), now_utc(), panel_user(), user, form.password.data)
        except DomainError as exc:
            session().rollback()
            show_error(form, exc, _field_messages())
        else:
            session().commit()
            flash(_("Đã đặt mật khẩu mới cho %(username)s.", username=user.username), "success")
            return redirect(url_for(".edit_user", user_id=user.id))
    edit = UserEditForm(
        formdata=None,
        data={"full_name": user.full_name, "role": user.role.value, "station": user.station.code},
    )
    edit.station.choices = _stations()
    return _edit_page(user, edit, form, 400)


@bp.post("/users/<int:user_id>/active")
@role_required(Role.admin)
def set_active(user_id: int) -> ResponseReturnValue:
    user = _user_in_scope(user_id)
    wanted = request.form.get("active")
    if wanted not in {"0", "1"}:
        abort(400)
    try:
        accounts.set_active(session(), now_utc(), panel_user(), user, wanted == "1")
    except DomainError:
        session().rollback()
        flash(_("Bạn không thể khóa tài khoản của chính mình."), "error")
        return redirect(url_for(".edit_user", user_id=user.id))
    session().commit()
    if wanted == "1":
        flash(_("Đã mở lại tài khoản %(username)s.", username=user.username), "success")
    else:
        flash(_("Đã khóa tài khoản %(username)s.", username=user.username), "success")
    return redirect(url_for(".edit_user", user_id=user.id))
