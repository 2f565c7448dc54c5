"""Occurrences of a broadcast: local start + RFC 5545 RRULE + until + exceptions → instants.

Recurrence is expanded in the broadcast's own zone, in wall-clock time, by python-dateutil;
each local start is then turned into an instant with the zone's rules (a start that falls in a
spring-forward gap moves to the first real minute after it; an ambiguous one takes its first
occurrence). Durations are elapsed time. Nothing here reads the clock or the database.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil import rrule as du_rrule
from dateutil import tz as du_tz

ALLOWED_FREQS = {"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY"}
# Periods whose length in wall-clock time never varies: a rule with one of them repeats
# exactly after INTERVAL periods, which lets an old rule skip ahead (see _fast_forward).
FIXED_PERIODS = {
    "WEEKLY": timedelta(weeks=1),
    "DAILY": timedelta(days=1),
    "HOURLY": timedelta(hours=1),
}
# The calendar the network schedules in; anything outside is a typo, and far-off years
# overflow datetime arithmetic near the edges of the representable range.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
# A rule must air at least once this soon after its start to be accepted.
TRIAL_DAYS = 400
# Margin for converting an instant window to local wall time across any UTC offset change.
DST_SLACK = timedelta(hours=3)


KNOWN_PARTS = {
    "FREQ",
    "INTERVAL",
    "COUNT",
    "UNTIL",
    "WKST",
    "BYDAY",
    "BYMONTHDAY",
    "BYMONTH",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYHOUR",
    "BYMINUTE",
    "BYSECOND",
    "BYSETPOS",
}
# INTERVAL=0 would make dateutil loop for ever; COUNT=0 would never air.
NUMERIC_PARTS = {"INTERVAL": re.compile(r"0*[1-9]\d{0,3}"), "COUNT": re.compile(r"0*[1-9]\d{0,4}")}
LOCAL_UNTIL = re.compile(r"\d{8}(T\d{6})?")


class RecurrenceError(ValueError):
    """The recurrence rule cannot be used; the message says why in plain words, ``code``
    which refusal it is (``rrule_never_airs``, ``rrule_overlap``; None for a bad rule)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


@lru_cache(maxsize=4096)
def parse_rule(rule: str, dtstart: datetime, until: date | None = None) -> du_rrule.rrule:
    """Parse an RRULE (with or without the ``RRULE:`` prefix) anchored at a local start.

    ``until`` (a local date, inclusive) overrides any UNTIL inside the rule. Only one rule per
    broadcast: RDATE/EXRULE/EXDATE lines belong in the broadcast's own fields.
    """
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or ":" in text:
        raise RecurrenceError("rrule must be a single RRULE such as FREQ=DAILY;BYDAY=MO,TU")
    parts = _parts(text)
    freq = parts.get("FREQ")
    if freq not in ALLOWED_FREQS:
        allowed = ", ".join(sorted(ALLOWED_FREQS))
        raise RecurrenceError(f"rrule FREQ must be one of {allowed} (got {freq or 'nothing'})")
    for name, pattern in NUMERIC_PARTS.items():
        if name in parts and not pattern.fullmatch(parts[name]):
            raise RecurrenceError(f"rrule {name} must be a whole number from 1 (got {parts[name]})")
    if "UNTIL" in parts and not LOCAL_UNTIL.fullmatch(parts["UNTIL"].rstrip("Z")):
        raise RecurrenceError("rrule UNTIL must look like 20261231 or 20261231T235959")
    if parts.get("UNTIL", "").endswith("Z"):
        raise RecurrenceError("rrule UNTIL must be a local time; use the until field instead")
    if until is not None and "COUNT" in parts:
        raise RecurrenceError("rrule has COUNT, so it cannot also have an until date")
    try:
        parsed = du_rrule.rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise RecurrenceError(f"rrule is not valid RFC 5545: {exc}") from exc
    if not isinstance(parsed, du_rrule.rrule):
        raise RecurrenceError("rrule must be a single RRULE")
    if until is not None:
        parsed = parsed.replace(until=datetime.combine(until, time.max))
    return parsed


def _parts(text: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for piece in text.upper().split(";"):
        if not piece.strip():
            continue  # a trailing ";" is harmless
        name, sep, value = piece.strip().partition("=")
        if not sep or not value:
            raise RecurrenceError(f"rrule part {piece!r} is not NAME=VALUE")
        if name not in KNOWN_PARTS:
            raise RecurrenceError(f"rrule part {name} is not supported")
        if name in parts:
            raise RecurrenceError(f"rrule part {name} appears twice")
        parts[name] = value
    return parts


def check_rule(rule: str, start_local: datetime, until: date | None, duration: timedelta) -> None:
    """Refuse a rule an editor cannot have meant: one that does not air within
    :data:`TRIAL_DAYS` of its start (``BYMONTH=2;BYMONTHDAY=30``), one dateutil cannot expand,
    or one whose airings would overlap each other (hourly, two hours long)."""
    parse_rule(rule, start_local, until)
    parts = _parts(rule.upper().removeprefix("RRULE:"))
    _check_ranges(parts)
    uncounted = ";".join(f"{k}={v}" for k, v in parts.items() if k not in {"COUNT", "UNTIL"})
    horizon = start_local.date() + timedelta(days=TRIAL_DAYS)
    try:
        bounded = parse_rule(uncounted, start_local, min(until, horizon) if until else horizon)
        first = list(itertools.islice(iter(bounded), 50))
    except (ValueError, IndexError, OverflowError) as exc:
        raise RecurrenceError(f"rrule cannot be expanded ({exc})") from exc
    if not first:
        raise RecurrenceError(
            f"rrule never airs within {TRIAL_DAYS} days of the start; check BYMONTH/BYMONTHDAY",
            "rrule_never_airs",
        )
    shortest = min((b - a for a, b in itertools.pairwise(first)), default=None)
    if shortest is not None and shortest < duration:
        raise RecurrenceError(
            f"rrule repeats every {shortest} but each airing lasts {duration}: they would overlap",
            "rrule_overlap",
        )


# Allowed values of the numeric BY parts (RFC 5545 §3.3.10); negatives count from the end.
BY_RANGES = {
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (1, 31, True),
    "BYYEARDAY": (1, 366, True),
    "BYWEEKNO": (1, 53, True),
    "BYHOUR": (0, 23, False),
    "BYMINUTE": (0, 59, False),
    "BYSECOND": (0, 59, False),
    "BYSETPOS": (1, 366, True),
}
MONTH_DAYS = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


def _check_ranges(parts: dict[str, str]) -> None:
    """Values dateutil would accept but that can never match: it would then search for the
    next airing until the year 9999 (seconds of CPU per request)."""
    values: dict[str, list[int]] = {}
    for name, (low, high, signed) in BY_RANGES.items():
        if name not in parts:
            continue
        try:
            numbers = [int(v) for v in parts[name].split(",")]
        except ValueError:
            raise RecurrenceError(f"rrule {name} must be a list of whole numbers") from None
        for n in numbers:
            if not (low <= abs(n) <= high if signed else low <= n <= high) or (n == 0 and low > 0):
                raise RecurrenceError(f"rrule {name}={n} is outside {low}–{high}")
        values[name] = numbers
    days, months = values.get("BYMONTHDAY"), values.get("BYMONTH")
    impossible = days and months and min(days) > max(MONTH_DAYS[m] for m in months)
    if impossible and all(d > 0 for d in (days or [])):
        raise RecurrenceError("rrule BYMONTHDAY does not exist in the months of BYMONTH")


def localize(local: datetime, zone: ZoneInfo) -> datetime:
    """A local wall-clock time in ``zone`` as an aware UTC instant (gaps move forward)."""
    aware = du_tz.resolve_imaginary(local.replace(tzinfo=zone, fold=0))
    return aware.astimezone(UTC)


def occurrences(
    start_local: datetime,
    zone: str,
    duration: timedelta,
    rule: str | None,
    until: date | None,
    exdates: Iterable[date | datetime],
    window_start: datetime,
    window_end: datetime,
) -> list[tuple[datetime, datetime]]:
    """(start, end) instants, in UTC, of every airing that overlaps ``[window_start, window_end)``.

    1. Widen the instant window by the duration (an airing that began before the window may
       still be on air) and turn it into local wall time with some slack for offset changes.
    2. Ask the rule for the local starts in that range (or take the single start).
    3. Drop exceptions: a whole local date, or one exact local start.
    4. Localise each start and keep the airings that really overlap the window.
    """
    return list(
        _occurrences(
            start_local.replace(tzinfo=None),
            zone,
            duration,
            rule or None,
            until,
            frozenset(exdates),
            window_start.astimezone(UTC),
            window_end.astimezone(UTC),
        )
    )


@lru_cache(maxsize=65536)
def _occurrences(
    start_local: datetime,
    zone_name: str,
    duration: timedelta,
    rule: str | None,
    until: date | None,
    exdates: frozenset[date | datetime],
    window_start: datetime,
    window_end: datetime,
) -> tuple[tuple[datetime, datetime], ...]:
    # Many broadcasts share a rhythm (every commune's 06:30 bulletin): same inputs, same answer.
    zone = ZoneInfo(zone_name)
    local_from = (window_start - duration).astimezone(zone).replace(tzinfo=None) - DST_SLACK
    local_to = window_end.astimezone(zone).replace(tzinfo=None) + DST_SLACK
    if rule is None:
        if until is not None and start_local.date() > until:
            return ()
        starts = [start_local] if local_from <= start_local <= local_to else []
    else:
        parse_rule(rule, start_local, until)  # validates before the rule is taken apart
        anchor = _fast_forward(rule, start_local, local_from)
        if "COUNT" not in _parts(rule.upper().removeprefix("RRULE:")):
            # dateutil looks for a next airing until it finds one; an end keeps a rule that
            # rarely (or never) matches from walking to the year 9999.
            until = min(until, local_to.date()) if until else local_to.date()
        starts = parse_rule(rule, anchor, until).between(local_from, local_to, inc=True)
    skip_days = {d for d in exdates if not isinstance(d, datetime)}
    skip_times = {d.replace(tzinfo=None) for d in exdates if isinstance(d, datetime)}
    found = []
    for local in starts:
        if local.date() in skip_days or local in skip_times:
            continue
        begin = localize(local, zone)
        end = begin + duration
        if end > window_start and begin < window_end:
            found.append((begin, end))
    return tuple(found)


def _fast_forward(rule: str, start_local: datetime, local_from: datetime) -> datetime:
    """A later anchor that yields the same starts from ``local_from`` on.

    dateutil walks a rule from its first airing, so a daily rule started three years ago
    costs a thousand steps per query. Rules without COUNT, whose period has a fixed wall-clock
    length, are the same rule when anchored whole INTERVALs later (same time of day, same
    weekday, same phase), so the anchor moves to the last such point before the window.
    """
    parts = _parts(rule.upper().removeprefix("RRULE:"))
    period = FIXED_PERIODS.get(parts.get("FREQ", ""))
    if period is None or "COUNT" in parts or start_local >= local_from:
        return start_local
    step = period * int(parts.get("INTERVAL", "1"))  # validated by parse_rule: 1 or more
    whole_steps = (local_from - start_local) // step - 1
    return start_local + step * whole_steps if whole_steps > 0 else start_local


def local_day_window(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    """The instants bounding whole local days ``first``..``last`` (inclusive) in ``zone``."""
    tzinfo = ZoneInfo(zone)
    start = localize(datetime.combine(first, time()), tzinfo)
    end = localize(datetime.combine(last + timedelta(days=1), time()), tzinfo)
    return start, end
