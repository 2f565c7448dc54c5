"""The station rules form: allowed windows and caps, checked before the domain sees them."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import Length, ValidationError

from scheduler.rules import RuleSyntaxError, parse_windows
from scheduler.stations import MAX_MINUTES_PER_SESSION, MAX_SESSIONS_PER_DAY
from web.forms import strip


def _windows(form: Any, field: Field) -> None:
    try:
        parse_windows(field.data)
    except RuleSyntaxError:
        raise ValidationError(
            _(
                "Hãy viết các khung giờ như 05:00-07:00, 16:30-19:00 "
                "(giờ bắt đầu trước giờ kết thúc)."
            )
        ) from None


class WholeNumber:
    """An optional whole number between 1 and ``top``; the field keeps the text typed."""

    def __init__(self, top: int) -> None:
        self.top = top

    def __call__(self, form: Any, field: Field) -> None:
        text = (field.data or "").strip()
        if not text:
            return
        if not text.isdigit() or not 1 <= int(text) <= self.top:
            raise ValidationError(
                _("Hãy nhập một số nguyên từ 1 đến %(top)d, hoặc để trống.", top=self.top)
            )


def number(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text else None


class RulesForm(FlaskForm):
    allowed_windows = StringField(
        _l("Khung giờ được phát"),
        filters=[strip],
        validators=[Length(max=200, message=_l("Tối đa 200 ký tự.")), _windows],
    )
    max_sessions_per_day = StringField(
        _l("Số buổi phát tối đa mỗi ngày"),
        filters=[strip],
        validators=[WholeNumber(MAX_SESSIONS_PER_DAY)],
    )
    max_minutes_per_session = StringField(
        _l("Số phút tối đa mỗi buổi"),
        filters=[strip],
        validators=[WholeNumber(MAX_MINUTES_PER_SESSION)],
    )
