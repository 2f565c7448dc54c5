"""The sign-in form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, InputRequired, Length

from scheduler.accounts import MAX_PASSWORD


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class LoginForm(FlaskForm):
    username = StringField(
        _l("Tên đăng nhập"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Hãy nhập tên đăng nhập.")),
            Length(max=64, message=_l("Tên đăng nhập dài tối đa 64 ký tự.")),
        ],
    )
    password = PasswordField(
        _l("Mật khẩu"),
        validators=[
            InputRequired(_l("Hãy nhập mật khẩu.")),
            Length(max=MAX_PASSWORD, message=_l("Mật khẩu quá dài.")),
        ],
    )
    next = HiddenField()
