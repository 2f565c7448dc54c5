"""Forms for uploads, TTS bulletins and approval."""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired, MultipleFileField
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, StopValidation, ValidationError

from scheduler.models import Campaign, Role, Station, User
from scheduler.stations import subtree
from web.forms import ChoiceField, options, strip

VOICE_LABELS = {
    "north": _l("Giọng Bắc"),
    "central": _l("Giọng Trung"),
    "south": _l("Giọng Nam"),
}
SPEEDS = {
    "0.8": _l("Chậm (0,8×)"),
    "0.9": _l("Hơi chậm (0,9×)"),
    "1.0": _l("Bình thường (1×)"),
    "1.1": _l("Hơi nhanh (1,1×)"),
    "1.25": _l("Nhanh (1,25×)"),
}


def owner_choices(session: Session, user: User) -> list[tuple[str, str]]:
    """Stations the user may add audio for: an operator their own; the others their subtree."""
    root = user.station
    stations: list[Station] = (
        [root] if user.role == Role.operator else list(subtree(session, root, retired=False))
    )
    return [(s.code, f"{'— ' * (s.depth - root.depth)}{s.name} ({s.code})") for s in stations]


def campaign_choices(session: Session) -> list[tuple[str, str]]:
    return [("", str(_l("— Không gắn chiến dịch —")))] + [
        (c.code, c.name) for c in session.scalars(select(Campaign).order_by(Campaign.name))
    ]


def topic_choices(session: Session) -> list[tuple[str, str]]:
    """Topics as ``campaign/topic`` (a topic's code is unique only inside its campaign)."""
    pairs = [("", str(_l("— Không gắn chủ đề —")))]
    for campaign in session.scalars(select(Campaign).order_by(Campaign.name)):
        pairs += [(f"{campaign.code}/{t.code}", t.name) for t in campaign.topics]
    return pairs


def _title() -> StringField:
    return StringField(
        _l("Tiêu đề"),
        filters=[strip],
        validators=[
            DataRequired(_l("Hãy nhập tiêu đề.")),
            Length(max=300, message=_l("Tiêu đề dài tối đa 300 ký tự.")),
        ],
    )


class _Meta(FlaskForm):
    title = _title()
    owner = ChoiceField(_l("Đài sở hữu"), invalid=_l("Hãy chọn một đài trong phạm vi của bạn."))
    campaign = ChoiceField(_l("Chiến dịch"), default="")
    topic = ChoiceField(_l("Chủ đề"), default="")

    def fill(self, session: Session, user: User) -> None:
        self.owner.choices = options(owner_choices(session, user))
        self.campaign.choices = options(campaign_choices(session))
        self.topic.choices = options(topic_choices(session))
        if not self.is_submitted():
            self.owner.data = self.owner.data or user.station.code

    def campaign_topic(self) -> tuple[str | None, str | None]:
        """The campaign and topic codes; a topic alone names its campaign."""
        campaign = str(self.campaign.data or "") or None
        topic_campaign, _, topic = str(self.topic.data or "").partition("/")
        if topic and campaign and topic_campaign != campaign:
            message = str(_l("Chủ đề này không thuộc chiến dịch đã chọn."))
            self.topic.errors = [*self.topic.errors, message]
            raise ValueError("topic")
        return campaign or (topic_campaign or None), topic or None


MAX_FILES = 20  # at once: a district's week of bulletins, not a whole archive


def _at_most(form: Any, field: Any) -> None:
    if len(field.data or []) > MAX_FILES:
        raise ValidationError(str(_l("Chọn tối đa %(num)d tệp mỗi lần.", num=MAX_FILES)))


def _title_unless_several(form: Any, field: Any) -> None:
    """One file needs a title; several take theirs from their file names."""
    if not field.data and not form.several_files():
        raise StopValidation(str(_l("Hãy nhập tiêu đề.")))


def upload_title(typed: str, filename: str | None, several: bool) -> str:
    """A file's bulletin title: the typed one for a file alone; for each of several, its
    file's name (``ban_tin_thu_hai.mp3`` → "ban tin thu hai"), after the typed title if any."""
    if not several:
        return typed
    stem = " ".join(PurePath(filename or "").stem.replace("_", " ").replace("\x00", "").split())
    stem = stem or str(_l("Bản ghi"))
    return (f"{typed} — {stem}" if typed else stem)[:300]


class UploadForm(_Meta):
    title = StringField(
        _l("Tiêu đề"),
        filters=[strip],
        validators=[
            _title_unless_several,
            Length(max=300, message=_l("Tiêu đề dài tối đa 300 ký tự.")),
        ],
    )
    file = MultipleFileField(
        _l("Tệp âm thanh"),
        validators=[FileRequired(_l("Hãy chọn tệp âm thanh để tải lên.")), _at_most],
    )
    # Set by the upload script, which sends several files one request each.
    several = HiddenField()

    def several_files(self) -> bool:
        return self.several.data == "1" or len(self.file.data or []) > 1


def _has_words(form: Any, field: Any) -> None:
    if not re.search(r"\w", field.data or ""):
        raise ValidationError(str(_l("Văn bản trống hoặc chỉ có dấu câu, không có gì để đọc.")))


class TtsForm(_Meta):
    text = TextAreaField(_l("Văn bản bản tin"), filters=[strip], validators=[_has_words])
    engine = ChoiceField(_l("Bộ đọc"), invalid=_l("Hãy chọn một bộ đọc trong danh sách."))
    voice = ChoiceField(
        _l("Giọng đọc"),
        choices=lambda: [(k, str(v)) for k, v in VOICE_LABELS.items()],
        invalid=_l("Hãy chọn giọng Bắc, Trung hoặc Nam."),
    )
    speed = ChoiceField(
        _l("Tốc độ đọc"),
        choices=lambda: [(k, str(v)) for k, v in SPEEDS.items()],
        invalid=_l("Hãy chọn một tốc độ trong danh sách."),
    )
    # The text whose normalised form the editor has seen (a fingerprint): speaking needs it.
    checked = HiddenField()


class ApproveForm(FlaskForm):
    pass


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Lý do không duyệt"),
        filters=[strip],
        validators=[
            DataRequired(_l("Hãy ghi lý do không duyệt để người biên tập biết cần sửa gì.")),
            Length(max=2000, message=_l("Lý do dài tối đa 2000 ký tự.")),
        ],
    )
