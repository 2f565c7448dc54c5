"""The broadcast form: what, for whom, when (the recurrence builder), how important.

Fields check what they can on their own (a date is a date, a number a number); the form
checks what depends on other fields (a relay needs a length, "chosen days" needs a day);
everything else — permissions, programmes that cannot air, rules that never air — is the
domain's job (:func:`scheduler.broadcasts.save_broadcast`), whose refusals are shown next to
the field they name.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, RadioInput

from scheduler.broadcasts import BroadcastSpec
from web.forms import ChoiceField, options, strip
from web.schedule.recurrence import (
    DAY_SHORT,
    MODE_LABELS,
    MODES,
    WEEKDAYS,
    Recurrence,
    build,
    parse_clock,
    parse_day,
    read,
    vn_date,
)

PRIORITY_LABELS = {
    "normal": _l("Thường"),
    "priority": _l("Ưu tiên"),
    "emergency": _l("Khẩn cấp"),
}
KIND_LABELS = {"program": _l("Chương trình"), "relay": _l("Tiếp âm")}
CONFLICT_LABELS = {
    "": _l("Mặc định: dời giờ với chương trình, cắt bớt với tiếp âm"),
    "shift": _l("Dời giờ — phát muộn hơn, vào khoảng trống gần nhất (không quá thời gian chờ)"),
    "truncate": _l("Cắt bớt — chỉ phát phần thời gian còn trống"),
    "skip": _l("Bỏ qua — không phát lần đó"),
}
MAX_DATES = 366


class OptionalChoiceField(ChoiceField):
    """A select that may be left empty (or left out, as a hidden part of the form is)."""

    def pre_validate(self, form: Form) -> None:
        if self.data:
            super().pre_validate(form)
        else:
            self.data: Any = ""


class RadioChoiceField(ChoiceField):
    widget = ListWidget(prefix_label=False)
    option_widget = RadioInput()


class OptionalRadioField(OptionalChoiceField):
    widget = ListWidget(prefix_label=False)
    option_widget = RadioInput()


class CheckboxesField(SelectMultipleField):
    """Several choices as checkboxes, refused in Vietnamese when a value is not offered."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args: Any, invalid: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid = invalid or _l("Hãy chọn trong danh sách.")

    def pre_validate(self, form: Form) -> None:
        allowed = {str(value) for value, *_rest in self.iter_choices()}
        if any(str(v) not in allowed for v in self.data or []):
            raise ValidationError(str(self.invalid))


class WholeNumberField(StringField):
    """A whole number typed as text: anything else gets a Vietnamese message, and what was
    typed stays in the box. ``number`` is the value (None when empty)."""

    def __init__(self, *args: Any, low: int = 0, high: int = 10**6, **kwargs: Any) -> None:
        kwargs.setdefault("filters", [strip])
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(*args, **kwargs)
        self.low, self.high = low, high

    @property
    def number(self) -> int | None:
        text = (self.data or "").strip()
        return int(text) if text.isdigit() else None

    def pre_validate(self, form: Form) -> None:
        text = (self.data or "").strip()
        if text and (not text.isdigit() or not self.low <= int(text) <= self.high):
            raise ValidationError(
                str(
                    _l(
                        "Hãy nhập một số nguyên từ %(low)d đến %(high)d.",
                        low=self.low,
                        high=self.high,
                    )
                )
            )


class DayField(StringField):
    """A date (the browser's date picker sends 2026-04-21; typed by hand, 21/4/2026)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("filters", [strip])
        kwargs.setdefault("render_kw", {"type": "date"})
        super().__init__(*args, **kwargs)

    @property
    def day(self) -> date | None:
        return parse_day(self.data) if self.data else None

    def pre_validate(self, form: Form) -> None:
        if self.data and self.day is None:
            raise ValidationError(str(_l("Ngày không hợp lệ; hãy nhập như 21/4/2026.")))


class ClockField(StringField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("filters", [strip])
        kwargs.setdefault("render_kw", {"type": "time"})
        super().__init__(*args, **kwargs)

    @property
    def clock(self) -> time | None:
        return parse_clock(self.data) if self.data else None

    def pre_validate(self, form: Form) -> None:
        if self.data and self.clock is None:
            raise ValidationError(str(_l("Giờ không hợp lệ; hãy nhập như 17:30.")))


def parse_days(text: str | None) -> tuple[list[date], list[str]]:
    """Dates separated by commas, spaces or lines → (the dates, the pieces that are not)."""
    pieces = (text or "").replace(",", " ").replace(";", " ").split()
    found, bad = [], []
    for piece in pieces:
        day = parse_day(piece)
        if day is None:
            bad.append(piece)
        else:
            found.append(day)
    return sorted(set(found)), bad


class BroadcastForm(FlaskForm):
    title = StringField(
        _l("Tên buổi phát"),
        filters=[strip],
        validators=[
            DataRequired(_l("Hãy nhập tên buổi phát.")),
            Length(max=300, message=_l("Tên dài tối đa 300 ký tự.")),
        ],
    )
    owner = ChoiceField(_l("Đài lập lịch"), invalid=_l("Hãy chọn một đài trong phạm vi của bạn."))
    kind = RadioChoiceField(
        _l("Loại"), choices=list(KIND_LABELS.items()), invalid=_l("Hãy chọn loại buổi phát.")
    )
    program = OptionalChoiceField(
        _l("Chương trình"), invalid=_l("Hãy chọn một chương trình trong danh sách.")
    )
    source = OptionalChoiceField(
        _l("Tiếp âm từ đài"), invalid=_l("Hãy chọn một đài trong danh sách.")
    )
    stream_url = StringField(
        _l("Địa chỉ luồng phát (nếu khác luồng của đài nguồn)"),
        filters=[strip],
        validators=[Length(max=500, message=_l("Địa chỉ dài tối đa 500 ký tự."))],
    )
    duration_min = WholeNumberField(_l("Thời lượng tiếp âm (phút)"), low=1, high=24 * 60)
    recurrence = RadioChoiceField(
        _l("Lặp lại"),
        choices=[(m, MODE_LABELS[m]) for m in MODES],
        invalid=_l("Hãy chọn một kiểu lặp lại."),
    )
    start_date = DayField(_l("Ngày bắt đầu"))
    start_time = ClockField(_l("Giờ phát"))
    days = CheckboxesField(
        _l("Các thứ"),
        choices=options((d, DAY_SHORT[d]) for d in WEEKDAYS),
        invalid=_l("Hãy chọn thứ trong tuần từ T2 đến CN."),
    )
    dates = TextAreaField(_l("Các ngày phát"), filters=[strip], render_kw={"rows": 2})
    rrule = StringField(_l("Quy tắc lặp (theo chuẩn lịch RFC 5545)"), filters=[strip])
    until = DayField(_l("Phát đến hết ngày"))
    exdates = TextAreaField(_l("Trừ các ngày"), filters=[strip], render_kw={"rows": 2})
    targets = CheckboxesField(
        _l("Phát cho các đài"), invalid=_l("Hãy chọn các đài trong phạm vi của bạn.")
    )
    priority = RadioChoiceField(
        _l("Mức ưu tiên"),
        choices=list(PRIORITY_LABELS.items()),
        invalid=_l("Hãy chọn mức ưu tiên."),
    )
    conflict = OptionalRadioField(
        _l("Khi trùng giờ với buổi phát khác"),
        choices=list(CONFLICT_LABELS.items()),
        invalid=_l("Hãy chọn cách xử lý khi trùng giờ."),
    )
    max_delay_min = WholeNumberField(_l("Dời muộn nhất (phút)"), low=0, high=24 * 60)
    force = BooleanField(_l("Vẫn lưu dù trùng giờ với buổi phát cùng cấp"))

    # --- Checks that need several fields ---------------------------------------------------

    def validate_program(self, field: ChoiceField) -> None:
        if self.kind.data == "program" and not field.data:
            raise ValidationError(str(_l("Hãy chọn chương trình sẽ phát.")))

    def validate_source(self, field: ChoiceField) -> None:
        if self.kind.data == "relay" and not field.data and not self.stream_url.data:
            raise ValidationError(str(_l("Hãy chọn đài nguồn hoặc nhập địa chỉ luồng phát.")))

    def validate_duration_min(self, field: WholeNumberField) -> None:
        if self.kind.data == "relay" and not field.data:
            raise ValidationError(str(_l("Hãy nhập thời lượng tiếp âm.")))

    def validate_start_date(self, field: DayField) -> None:
        if self.recurrence.data != "dates" and not field.data:
            raise ValidationError(str(_l("Hãy chọn ngày bắt đầu.")))

    def validate_start_time(self, field: ClockField) -> None:
        if not field.data:
            raise ValidationError(str(_l("Hãy nhập giờ phát, như 17:30.")))

    def validate_days(self, field: CheckboxesField) -> None:
        if self.recurrence.data == "days" and not field.data:
            raise ValidationError(str(_l("Hãy chọn ít nhất một thứ trong tuần.")))

    def validate_dates(self, field: TextAreaField) -> None:
        if self.recurrence.data != "dates":
            return
        found, bad = parse_days(field.data)
        if bad:
            raise ValidationError(
                str(_l("Không đọc được ngày: %(bad)s. Hãy nhập như 21/4/2026.", bad=", ".join(bad)))
            )
        if not found:
            raise ValidationError(str(_l("Hãy nhập ít nhất một ngày phát.")))
        if (found[-1] - found[0]).days >= 365:
            raise ValidationError(str(_l("Các ngày phát phải nằm trong vòng một năm.")))
        if len(found) > MAX_DATES:
            raise ValidationError(str(_l("Nhiều ngày quá; hãy dùng kiểu lặp khác.")))

    def validate_rrule(self, field: StringField) -> None:
        if self.recurrence.data == "custom" and not field.data:
            raise ValidationError(str(_l("Hãy nhập quy tắc, như FREQ=WEEKLY;BYDAY=MO,WE.")))

    def validate_until(self, field: DayField) -> None:
        start = self.start_date.day
        if field.day and start and field.day < start and self.recurrence.data != "dates":
            raise ValidationError(str(_l("Ngày kết thúc phải sau ngày bắt đầu.")))

    def validate_exdates(self, field: TextAreaField) -> None:
        _found, bad = parse_days(field.data)
        if bad:
            raise ValidationError(
                str(_l("Không đọc được ngày: %(bad)s. Hãy nhập như 21/4/2026.", bad=", ".join(bad)))
            )

    def validate_targets(self, field: CheckboxesField) -> None:
        if not field.data:
            raise ValidationError(str(_l("Hãy chọn ít nhất một đài sẽ phát.")))

    # --- What the form says -----------------------------------------------------------------

    def choice(self) -> Recurrence:
        """The recurrence builder's state (after validation)."""
        dates, _bad = parse_days(self.dates.data)
        start = self.start_date.day or (dates[0] if dates else date(2000, 1, 1))
        return Recurrence(
            mode=str(self.recurrence.data),
            start=start,
            until=self.until.day,
            days=list(self.days.data or []),
            dates=dates,
            rule=self.rrule.data or "",
        )

    def max_delay(self) -> timedelta | None:
        minutes = self.max_delay_min.number
        return None if minutes is None else timedelta(minutes=minutes)

    def to_spec(self, force: bool) -> BroadcastSpec:
        """The broadcast the (validated) form describes, as the domain saves it."""
        built = build(self.choice())
        clock = self.start_time.clock
        assert clock is not None  # validated
        exdates, _bad = parse_days(self.exdates.data)
        delay = self.max_delay_min.number
        data: dict[str, Any] = {
            "title": self.title.data,
            "owner": self.owner.data,
            "kind": self.kind.data,
            "start": datetime.combine(built.start, clock),
            "rrule": built.rrule,
            "until": built.until,
            "exdates": [d.isoformat() for d in exdates],
            "targets": list(self.targets.data or []),
            "priority": self.priority.data,
            "conflict": self.conflict.data or None,
            "max_delay_s": None if delay is None else delay * 60,
            "force": force,
        }
        if self.kind.data == "program":
            data["program"] = int(self.program.data)
        else:
            data["source"] = self.source.data or None
            data["stream_url"] = self.stream_url.data or None
            data["duration_s"] = (self.duration_min.number or 0) * 60
        return BroadcastSpec.model_validate(data)

    def fill(self, spec: BroadcastSpec) -> None:
        """Fill the form with a broadcast as saved, or with the change waiting beside it."""
        start = spec.start.replace(tzinfo=None)
        choice = read(start.date(), spec.rrule, spec.until)
        self.title.data = spec.title
        self.owner.data = spec.owner
        self.kind.data = spec.kind
        self.program.data = str(spec.program or "")
        self.source.data = spec.source or ""
        self.stream_url.data = spec.stream_url or ""
        self.duration_min.data = str(spec.duration_s // 60) if spec.duration_s else ""
        self.recurrence.data = choice.mode
        self.start_date.data = start.date().isoformat()
        self.start_time.data = f"{start:%H:%M}"
        self.days.data = choice.days
        self.dates.data = ", ".join(vn_date(d) for d in choice.dates)
        self.rrule.data = spec.rrule or "" if choice.mode == "custom" else ""
        self.until.data = spec.until.isoformat() if spec.until and choice.mode != "dates" else ""
        self.exdates.data = ", ".join(
            vn_date(x) for x in spec.exdates if not isinstance(x, datetime)
        )
        self.targets.data = list(spec.targets or [spec.owner])
        self.priority.data = spec.priority
        self.conflict.data = spec.conflict or ""
        self.max_delay_min.data = str((spec.max_delay_s or 0) // 60)


class ApproveManyForm(FlaskForm):
    """The approval queue's "approve the ticked ones" (the CSRF token; ids come as a list)."""
