"""The programme builder's form: title, owner, crossfade and the tools to add items."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from scheduler.models import User
from web.forms import ChoiceField, options, strip
from web.segments.forms import campaign_choices, owner_choices

CROSSFADES = {
    "0": _l("Không"),
    "300": _l("0,3 giây"),
    "500": _l("0,5 giây"),
    "1000": _l("1 giây"),
    "2000": _l("2 giây"),
}


class ProgramForm(FlaskForm):
    title = StringField(
        _l("Tên chương trình"),
        filters=[strip],
        validators=[
            DataRequired(_l("Hãy nhập tên chương trình.")),
            Length(max=300, message=_l("Tên chương trình dài tối đa 300 ký tự.")),
        ],
    )
    owner = ChoiceField(_l("Đài sở hữu"), invalid=_l("Hãy chọn một đài trong phạm vi của bạn."))
    crossfade = ChoiceField(
        _l("Chuyển tiếp giữa các mục"),
        choices=lambda: [(k, str(v)) for k, v in CROSSFADES.items()],
        invalid=_l("Hãy chọn một giá trị trong danh sách."),
    )
    silence_s = StringField(_l("Khoảng lặng (giây)"), filters=[strip])
    # The candidate list's filter.
    q = StringField(_l("Tìm bản tin"), filters=[strip])
    campaign = ChoiceField(_l("Chiến dịch"), default="")
    approved_only = BooleanField(_l("Chỉ bản tin đã duyệt"))

    def fill(self, session: Session, user: User) -> None:
        self.owner.choices = options(owner_choices(session, user))
        self.campaign.choices = options(campaign_choices(session))
