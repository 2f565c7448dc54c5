"""The calendar's layout: resolved entries (and pending airings) → blocks placed by time in
day columns (a day, a week) or listed in a month's grid, each with the words that say what
happened to it and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from scheduler.timeline import Entry, Occurrence

FIRST_HOUR, LAST_HOUR = 5, 20  # the usual broadcasting day; widened when airings fall outside


@dataclass
class Block:
    broadcast: int
    title: str
    kind: str  # program | relay
    priority: str  # normal | priority | emergency
    origin: str  # owner station code
    outcome: str  # scheduled | shifted | truncated | preempted | pending
    start: datetime  # local, clipped to the day
    end: datetime
    reason: str = ""
    top: float = 0.0  # percent of the day column
    height: float = 0.0
    lane: int = 0
    lanes: int = 1

    @property
    def airs(self) -> bool:
        return self.outcome not in ("preempted", "pending")


@dataclass
class Day:
    day: date
    today: bool
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Week:
    """Day columns side by side (seven for a week, one for a day view)."""

    first: date
    days: list[Day]
    first_hour: int
    last_hour: int

    @property
    def hours(self) -> list[int]:
        return list(range(self.first_hour, self.last_hour))

    @property
    def empty(self) -> bool:
        return not any(d.blocks for d in self.days)


def hhmm(moment: datetime) -> str:
    return f"{moment:%H:%M}"


def reason(entry: Entry, zone: ZoneInfo, titles: Mapping[int, str]) -> str:
    """Why an entry is not simply on air as planned, in the editor's words."""
    by = titles.get(entry.by or 0, f"#{entry.by}")
    if entry.outcome == "shifted":
        return _(
            "Dời từ %(planned)s sang %(start)s vì trùng giờ với «%(by)s».",
            planned=hhmm(entry.occurrence.start.astimezone(zone)),
            start=hhmm(entry.start.astimezone(zone)),
            by=by,
        )
    if entry.outcome == "truncated":
        return _(
            "Cắt bớt: chỉ phát %(start)s–%(end)s vì trùng giờ với «%(by)s».",
            start=hhmm(entry.start.astimezone(zone)),
            end=hhmm(entry.end.astimezone(zone)),
            by=by,
        )
    if entry.outcome == "preempted":
        return _("Không phát: nhường giờ cho «%(by)s».", by=by)
    return ""


def _pieces(
    start: datetime, end: datetime, first: date, last: date
) -> list[tuple[date, datetime, datetime]]:
    """An airing cut at local midnights, kept to the week's days."""
    out = []
    day = start.date()
    while day <= last and datetime.combine(day, time(), start.tzinfo) < end:
        day_start = datetime.combine(day, time(), start.tzinfo)
        day_end = day_start + timedelta(days=1)
        if day >= first:
            out.append((day, max(start, day_start), min(end, day_end)))
        day += timedelta(days=1)
    return out


def build_week(
    entries: Sequence[Entry],
    pending: Sequence[Occurrence],
    zone: ZoneInfo,
    monday: date,
    today: date,
    titles: Mapping[int, str],
) -> Week:
    """Day columns Monday to Sunday with each entry's block; pending airings last."""
    return build_days(entries, pending, zone, monday, monday + timedelta(days=6), today, titles)


def build_month(span: Week, month: date) -> Month:
    """The month's weeks, Monday to Sunday, from the days of ``month_grid(month)`` (the
    neighbouring months' days included, greyed by the page)."""
    weeks = [span.days[i : i + 7] for i in range(0, len(span.days), 7)]
    return Month(month.replace(day=1), weeks)


def month_grid(month: date) -> tuple[date, date]:
    """The Monday on or before the 1st and the Sunday on or after the month's last day."""
    start = month.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return start - timedelta(days=start.weekday()), end + timedelta(days=6 - end.weekday())


@dataclass
class Month:
    first: date  # the 1st
    weeks: list[list[Day]]

    def within(self, day: date) -> bool:
        return (day.year, day.month) == (self.first.year, self.first.month)

    @property
    def empty(self) -> bool:
        return not any(d.blocks for week in self.weeks for d in week if self.within(d.day))


def build_days(
    entries: Sequence[Entry],
    pending: Sequence[Occurrence],
    zone: ZoneInfo,
    first: date,
    last: date,
    today: date,
    titles: Mapping[int, str],
) -> Week:
    """A column for each day from ``first`` to ``last`` with each entry's block."""
    count = (last - first).days + 1
    days = {first + timedelta(days=i): Day(first + timedelta(days=i), False) for i in range(count)}
    if today in days:
        days[today].today = True
    items: list[tuple[Occurrence, datetime, datetime, str, str]] = [
        (e.occurrence, e.start, e.end, e.outcome, reason(e, zone, titles)) for e in entries
    ]
    items += [
        (o, o.start, o.end, "pending", _("Chờ duyệt: chưa có trong lịch phát.")) for o in pending
    ]
    for occurrence, start, end, outcome, why in items:
        airing = occurrence.payload
        for day, a, b in _pieces(start.astimezone(zone), end.astimezone(zone), first, last):
            days[day].blocks.append(
                Block(
                    airing.broadcast,
                    airing.title,
                    airing.kind,
                    airing.priority,
                    airing.origin,
                    outcome,
                    a,
                    b,
                    why,
                )
            )
    first_hour, last_hour = FIRST_HOUR, LAST_HOUR
    for column in days.values():
        for block in column.blocks:
            first_hour = min(first_hour, block.start.hour)
            end_hour = block.end.hour + (1 if block.end.minute or block.end.second else 0)
            last_hour = max(last_hour, 24 if block.end.date() > column.day else end_hour)
    for column in days.values():
        _place(column, first_hour, last_hour)
    return Week(first, list(days.values()), first_hour, last_hour)


def _place(day: Day, first_hour: int, last_hour: int) -> None:
    """Vertical position from the time; side lanes for what overlaps (a preempted airing
    beside the one that won, a pending one beside what is already approved)."""
    origin = datetime.combine(day.day, time(first_hour))
    span = (last_hour - first_hour) * 3600
    day.blocks.sort(key=lambda b: (not b.airs, b.start, b.broadcast))
    lane_ends: list[datetime] = []
    for block in day.blocks:
        offset = (block.start.replace(tzinfo=None) - origin).total_seconds()
        block.top = round(100 * offset / span, 3)
        block.height = round(100 * (block.end - block.start).total_seconds() / span, 3)
        for i, end in enumerate(lane_ends):
            if end <= block.start:
                block.lane, lane_ends[i] = i, block.end
                break
        else:
            block.lane = len(lane_ends)
            lane_ends.append(block.end)
    for block in day.blocks:
        block.lanes = len(lane_ends)
    day.blocks.sort(key=lambda b: (b.start, b.lane))
