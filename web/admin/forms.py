"""Forms for creating and changing users."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Regexp

from scheduler.accounts import MAX_PASSWORD, MIN_PASSWORD, USERNAME
from scheduler.models import Role, Station
from web.forms import ChoiceField, strip, strip_lower
from web.panel import ROLE_LABELS


def station_choices(stations: Sequence[Station], root: Station) -> list[tuple[str, str]]:
    """The station picker: ``root``'s subtree, indented by depth below it."""
    return [
        (s.code, f"{'— ' * (s.depth - root.depth)}{s.name} ({s.code})")
        for s in stations
        if s.path.startswith(root.path)
    ]


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, str(ROLE_LABELS[role])) for role in Role]


def _password(label: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            InputRequired(_l("Hãy nhập mật khẩu.")),
            Length(
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
                message=_l("Mật khẩu cần từ %(min)d đến %(max)d ký tự."),
            ),
        ],
    )


def _confirm() -> PasswordField:
    return PasswordField(
        _l("Nhập lại mật khẩu"),
        validators=[
            InputRequired(_l("Hãy nhập lại mật khẩu.")),
            EqualTo("password", message=_l("Hai mật khẩu không giống nhau.")),
        ],
    )


def _role() -> ChoiceField:
    return ChoiceField(
        _l("Vai trò"), choices=role_choices, invalid=_l("Hãy chọn một vai trò trong danh sách.")
    )


def _station() -> ChoiceField:
    return ChoiceField(
        _l("Đài (phạm vi làm việc)"),
        invalid=_l("Hãy chọn một đài trong phạm vi của bạn."),
    )


def _full_name() -> StringField:
    return StringField(
        _l("Họ và tên"),
        filters=[strip],
        validators=[Length(max=200, message=_l("Họ và tên dài tối đa 200 ký tự."))],
    )


class UserCreateForm(FlaskForm):
    username = StringField(
        _l("Tên đăng nhập"),
        filters=[strip_lower],
        validators=[
            DataRequired(_l("Hãy nhập tên đăng nhập.")),
            Regexp(
                USERNAME.pattern,
                message=_l(
                    "Tên đăng nhập gồm 2–64 ký tự: chữ cái không dấu, chữ số, dấu chấm, "
                    "gạch dưới hoặc gạch ngang, bắt đầu bằng chữ hoặc số."
                ),
            ),
        ],
    )
    full_name = _full_name()
    role = _role()
    station = _station()
    password = _password(_l("Mật khẩu"))
    confirm = _confirm()


class UserEditForm(FlaskForm):
    full_name = _full_name()
    role = _role()
    station = _station()


class PasswordResetForm(FlaskForm):
    password = _password(_l("Mật khẩu mới"))
    confirm = _confirm()
