"""The user's own settings."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from scheduler.accounts import MAX_PASSWORD, MIN_PASSWORD
from web.forms import ChoiceField
from web.i18n import LANGUAGE_NAMES, LOCALES


class LanguageForm(FlaskForm):
    locale = ChoiceField(
        _l("Ngôn ngữ"),
        choices=[(code, LANGUAGE_NAMES[code]) for code in LOCALES],
        invalid=_l("Hãy chọn một ngôn ngữ trong danh sách."),
    )


class OwnPasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Mật khẩu hiện tại"),
        validators=[
            InputRequired(_l("Hãy nhập mật khẩu hiện tại.")),
            Length(max=MAX_PASSWORD, message=_l("Mật khẩu quá dài.")),
        ],
    )
    password = PasswordField(
        _l("Mật khẩu mới"),
        validators=[
            InputRequired(_l("Hãy nhập mật khẩu mới.")),
            Length(
                min=MIN_PASSWORD,
                max=MAX_PASSWORD,
                message=_l("Mật khẩu cần từ %(min)d đến %(max)d ký tự."),
            ),
        ],
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[
            InputRequired(_l("Hãy nhập lại mật khẩu mới.")),
            EqualTo("password", message=_l("Hai mật khẩu không giống nhau.")),
        ],
    )
