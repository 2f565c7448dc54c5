"""The recurrence builder: what an editor ticks (once, daily, weekdays, chosen days, dates)
↔ an RFC 5545 RRULE, and the rule said in words.

The rule itself is checked and expanded by :mod:`scheduler.recurrence` (python-dateutil);
this module only translates between the form and the rule's text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

# RFC 5545 weekday codes, Monday first, with the Vietnamese short and long names.
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_SHORT = {
    "MO": _l("T2"),
    "TU": _l("T3"),
    "WE": _l("T4"),
    "TH": _l("T5"),
    "FR": _l("T6"),
    "SA": _l("T7"),
    "SU": _l("CN"),
}
DAY_LONG = {
    "MO": _l("thứ Hai"),
    "TU": _l("thứ Ba"),
    "WE": _l("thứ Tư"),
    "TH": _l("thứ Năm"),
    "FR": _l("thứ Sáu"),
    "SA": _l("thứ Bảy"),
    "SU": _l("Chủ nhật"),
}
MODES = ("once", "daily", "weekdays", "days", "dates", "custom")
MODE_LABELS = {
    "once": _l("Một lần"),
    "daily": _l("Hằng ngày"),
    "weekdays": _l("Ngày làm việc (T2–T6)"),
    "days": _l("Các thứ trong tuần"),
    "dates": _l("Các ngày cụ thể"),
    "custom": _l("Quy tắc lặp tự viết (nâng cao)"),
}
WORKDAYS = WEEKDAYS[:5]


@dataclass
class Recurrence:
    """The builder's choice; ``start``/``until`` are the first and last days of airing."""

    mode: str
    start: date
    until: date | None = None
    days: list[str] = field(default_factory=list)
    dates: list[date] = field(default_factory=list)
    rule: str = ""  # custom mode: the RRULE as typed


@dataclass(frozen=True)
class Built:
    start: date
    rrule: str | None
    until: date | None


def build(choice: Recurrence) -> Built:
    """The broadcast's first day, RRULE and last day for the builder's choice.

    "Specific dates" become ``FREQ=YEARLY;BYYEARDAY=…`` from the first date to the last: the
    one RFC 5545 rule that hits exactly a set of days (the form keeps them within a year, so
    no day number repeats inside the range).
    """
    if choice.mode == "once":
        return Built(choice.start, None, None)
    if choice.mode == "daily":
        return Built(choice.start, "FREQ=DAILY", choice.until)
    if choice.mode == "weekdays":
        return Built(choice.start, "FREQ=WEEKLY;BYDAY=" + ",".join(WORKDAYS), choice.until)
    if choice.mode == "days":
        days = [d for d in WEEKDAYS if d in choice.days]
        return Built(choice.start, "FREQ=WEEKLY;BYDAY=" + ",".join(days), choice.until)
    if choice.mode == "dates":
        dates = sorted(set(choice.dates))
        if len(dates) == 1:
            return Built(dates[0], None, None)
        yeardays = ",".join(str(d.timetuple().tm_yday) for d in dates)
        return Built(dates[0], f"FREQ=YEARLY;BYYEARDAY={yeardays}", dates[-1])
    return Built(choice.start, choice.rule.strip() or None, choice.until)


def _parts(rule: str) -> dict[str, str]:
    text = rule.strip().upper().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for piece in text.split(";"):
        name, _sep, value = piece.strip().partition("=")
        if name:
            parts[name] = value
    return parts


def read(start: date, rule: str | None, until: date | None) -> Recurrence:
    """The builder's choice that gives back this rule (``custom`` when no mode does)."""
    if not rule:
        return Recurrence("once", start)
    parts = _parts(rule)
    freq, byday = parts.pop("FREQ", ""), parts.pop("BYDAY", "")
    if parts.keys() - {"WKST"} and not (freq == "YEARLY" and set(parts) == {"BYYEARDAY"}):
        return Recurrence("custom", start, until, rule=rule)
    days = byday.split(",") if byday else []
    if freq == "DAILY" and not days:
        return Recurrence("daily", start, until)
    if freq in ("DAILY", "WEEKLY") and days and set(days) <= set(WEEKDAYS):
        mode = "weekdays" if sorted(days, key=WEEKDAYS.index) == list(WORKDAYS) else "days"
        return Recurrence(mode, start, until, days=sorted(days, key=WEEKDAYS.index))
    if freq == "YEARLY" and not days and "BYYEARDAY" in parts and until is not None:
        try:
            wanted = {int(n) for n in parts["BYYEARDAY"].split(",")}
        except ValueError:
            return Recurrence("custom", start, until, rule=rule)
        span = (until - start).days
        dates = [
            start + timedelta(days=i)
            for i in range(span + 1)
            if (start + timedelta(days=i)).timetuple().tm_yday in wanted
        ]
        if 0 <= span < 366 and all(n > 0 for n in wanted) and dates:
            return Recurrence("dates", start, until, dates=dates)
    return Recurrence("custom", start, until, rule=rule)


def vn_date(value: date) -> str:
    return f"{value.day}/{value.month}/{value.year}"


def describe(
    start: datetime, rule: str | None, until: date | None, exdates: Sequence[date | datetime] = ()
) -> str:
    """The rule in words: "Thứ Hai, thứ Tư lúc 17:30, từ 20/4/2026 đến 30/6/2026"."""
    at = f"{start:%H:%M}"
    choice = read(start.date(), rule, until)
    if choice.mode == "once":
        text = _("Một lần, lúc %(time)s ngày %(date)s", time=at, date=vn_date(start.date()))
    elif choice.mode == "dates":
        listed = ", ".join(vn_date(d) for d in choice.dates)
        text = _("Lúc %(time)s các ngày %(dates)s", time=at, dates=listed)
    else:
        if choice.mode == "daily":
            what = _("Hằng ngày")
        elif choice.mode == "weekdays":
            what = _("Từ thứ Hai đến thứ Sáu")
        elif choice.mode == "days":
            names = [str(DAY_LONG[d]) for d in choice.days]
            what = ", ".join(names)
            what = what[:1].upper() + what[1:]
        else:
            what = _("Theo quy tắc %(rule)s", rule=rule)
        if until is not None:
            span = _("từ %(first)s đến %(last)s", first=vn_date(start.date()), last=vn_date(until))
        else:
            span = _("từ %(first)s, không hẹn ngày kết thúc", first=vn_date(start.date()))
        text = _("%(what)s lúc %(time)s, %(span)s", what=what, time=at, span=span)
    if exdates:
        skipped = ", ".join(
            f"{x:%H:%M} {vn_date(x.date())}" if isinstance(x, datetime) else vn_date(x)
            for x in sorted(exdates, key=str)
        )
        text += _(" (trừ %(dates)s)", dates=skipped)
    return text


def parse_day(text: str) -> date | None:
    """ "2026-04-21" (a date input) or "21/4/2026" (typed by hand) → a date; None if neither."""
    text = text.strip()
    try:
        if "/" in text:
            day, month, year = (int(p) for p in text.split("/"))
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_clock(text: str) -> time | None:
    """ "17:30" or "17h30" → 17:30; None when it is not a time of day."""
    text = text.strip().lower().replace("h", ":")
    hours, sep, minutes = text.partition(":")
    if not hours.isdigit() or (sep and minutes and not minutes.isdigit()) or len(hours) > 2:
        return None
    try:
        return time(int(hours), int(minutes or 0))
    except ValueError:
        return None


def weekday_name(day: date) -> str:
    """ "Thứ Hai" … "Chủ nhật" (capitalised, for a column heading)."""
    name = str(DAY_LONG[WEEKDAYS[day.weekday()]])
    return name[:1].upper() + name[1:]
