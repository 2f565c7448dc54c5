"""The alert form: what to say (text for the voice, or an approved recording), where (a
subtree picker), how often, and two deliberate confirmations; and the Vietnamese words an
approver enters for a CAP alert that came in another language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from scheduler.alerts import MAX_AIRINGS, MAX_TEXT
from web.forms import ChoiceField, options, strip
from web.stations.forms import WholeNumber

# The words the voice reads, in the alert form and in a CAP alert's translation.
SPOKEN_LENGTH = Length(max=MAX_TEXT, message=_l("Văn bản dài tối đa %(max)d ký tự.", max=MAX_TEXT))

SOURCES = [
    ("text", _l("Đọc văn bản bằng giọng đọc tự động")),
    ("segment", _l("Phát bản tin đã duyệt")),
]


class StationsField(SelectMultipleField):
    """Target stations as checkboxes, refused in Vietnamese."""

    def pre_validate(self, form: Any) -> None:
        allowed = {str(value) for value, *_rest in self.iter_choices()}
        if not self.data:
            raise ValidationError(_("Hãy chọn ít nhất một đài."))
        if any(str(value) not in allowed for value in self.data):
            raise ValidationError(_("Hãy chọn các đài trong phạm vi của bạn."))


def _same_title(form: Any, field: Field) -> None:
    if (field.data or "").strip() != (form.title.data or "").strip():
        raise ValidationError(_("Hãy gõ lại đúng tiêu đề của cảnh báo."))


def parse_local(text: str | None) -> datetime | None:
    """``2026-04-20T09:30`` (a datetime-local input) or ``09:30 20/4/2026``; None if empty."""
    text = (text or "").strip()
    if not text:
        return None
    for pattern in ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%H:%M %d/%m/%Y", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(text, pattern)  # noqa: DTZ007 - a local wall time
        except ValueError:
            continue
    raise ValueError(text)


def _local_time(form: Any, field: Field) -> None:
    try:
        parse_local(field.data)
    except ValueError:
        raise ValidationError(_("Hãy nhập thời điểm như 20/4/2026 09:30.")) from None


class AlertForm(FlaskForm):
    title = StringField(
        _l("Tiêu đề"),
        filters=[strip],
        validators=[
            DataRequired(_l("Hãy nhập tiêu đề.")),
            Length(max=300, message=_l("Tiêu đề dài tối đa 300 ký tự.")),
        ],
    )
    targets = StationsField(_l("Phát tới các đài"))
    source = ChoiceField(_l("Nội dung phát"), choices=SOURCES)
    text = TextAreaField(
        _l("Văn bản đọc"),
        filters=[strip],
        validators=[SPOKEN_LENGTH],
    )
    segment = ChoiceField(
        _l("Bản tin đã duyệt"), invalid=_l("Hãy chọn một bản tin trong danh sách.")
    )
    repeat_every_s = StringField(
        _l("Nhắc lại sau mỗi (giây)"), filters=[strip], validators=[WholeNumber(24 * 3600)]
    )
    repeat_count = StringField(
        _l("Số lần phát (kể cả lần đầu)"), filters=[strip], validators=[WholeNumber(MAX_AIRINGS)]
    )
    expires = StringField(_l("Hết hạn lúc"), filters=[strip], validators=[_local_time])
    confirm = BooleanField(
        _l("Tôi xác nhận phát khẩn cấp"),
        validators=[DataRequired(_l("Hãy đánh dấu xác nhận trước khi phát."))],
    )
    confirm_title = StringField(
        _l("Gõ lại tiêu đề để xác nhận"), filters=[strip], validators=[_same_title]
    )

    def set_segments(self, pairs: list[tuple[str, str]]) -> None:
        self.segment.choices = options([("", str(_l("— Chọn bản tin —"))), *pairs])


class TranslationForm(FlaskForm):
    """The words the voice reads for a CAP alert that came without Vietnamese."""

    text = TextAreaField(
        _l("Nội dung tiếng Việt"),
        filters=[strip],
        validators=[
            DataRequired(_l("Hãy nhập nội dung tiếng Việt cần đọc.")),
            SPOKEN_LENGTH,
        ],
    )
