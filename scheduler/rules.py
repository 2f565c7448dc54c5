"""Station rules (docs/architecture.md rule 5): allowed broadcast windows and caps.

They warn, they do not refuse: a district may have good reason to air outside the usual
hours, but the editor should see it before saving. Emergencies are exempt. A *session* is a
run of airings with gaps of at most ``session_gap_s`` between them — what listeners hear as
one sitting of the loudspeakers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.models import Station
from scheduler.timeline import Entry

WINDOW = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class RuleSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class RuleWarning:
    station: str
    date: date
    rule: str  # "allowed_windows" | "max_sessions_per_day" | "max_minutes_per_session"
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_windows(text: str | None) -> list[tuple[time, time]]:
    """ "05:00-07:00, 16:30-19:00" → [(05:00, 07:00), (16:30, 19:00)]."""
    if not text or not text.strip():
        return []
    windows = []
    for part in text.split(","):
        match = WINDOW.match(part)
        if not match:
            raise RuleSyntaxError(f"{part.strip()!r} is not a window like 05:00-07:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise RuleSyntaxError(f"{part.strip()!r} is not a time of day")
        end = time.max if h2 == 24 else time(h2, m2)
        if end <= time(h1, m1):
            raise RuleSyntaxError(f"{part.strip()!r} ends before it starts")
        windows.append((time(h1, m1), end))
    return windows


def _hhmm(moment: datetime | time) -> str:
    return moment.strftime("%H:%M")


def check_rules(
    station: Station, entries: list[Entry], broadcast_id: int, session_gap_s: int
) -> list[RuleWarning]:
    """Warnings about ``broadcast_id``'s airings at ``station`` (entries sorted by start)."""
    zone = ZoneInfo(station.timezone)
    airing = [e for e in entries if e.airs and e.occurrence.payload.priority != "emergency"]
    mine = [e for e in airing if e.occurrence.broadcast == broadcast_id]
    if not mine:
        return []
    warnings: list[RuleWarning] = []
    try:
        windows = parse_windows(station.allowed_windows)
    except RuleSyntaxError as exc:  # a bad rule must not block scheduling; say so instead
        day = mine[0].start.astimezone(zone).date()
        warnings.append(RuleWarning(station.code, day, "allowed_windows", f"unreadable: {exc}"))
        windows = []
    for entry in mine if windows else []:
        start, end = entry.start.astimezone(zone), entry.end.astimezone(zone)
        last = (end - timedelta(microseconds=1)).time()
        if start.date() == end.date() and any(a <= start.time() and last <= b for a, b in windows):
            continue
        allowed = ", ".join(f"{_hhmm(a)}–{_hhmm(b)}" for a, b in windows)
        warnings.append(
            RuleWarning(
                station.code,
                start.date(),
                "allowed_windows",
                f"airs {_hhmm(start)}–{_hhmm(end)}, outside {allowed}",
            )
        )
    if station.max_sessions_per_day or station.max_minutes_per_session:
        warnings.extend(_cap_warnings(station, airing, broadcast_id, session_gap_s, zone))
    return warnings


def _cap_warnings(
    station: Station, airing: list[Entry], broadcast_id: int, gap_s: int, zone: ZoneInfo
) -> list[RuleWarning]:
    sessions_by_day: dict[date, list[list[Entry]]] = defaultdict(list)
    gap = timedelta(seconds=gap_s)
    last_end: datetime | None = None
    for entry in airing:
        day = entry.start.astimezone(zone).date()
        sessions = sessions_by_day[day]
        if sessions and last_end is not None and entry.start - last_end <= gap:
            sessions[-1].append(entry)
        else:
            sessions.append([entry])
        last_end = entry.end if last_end is None else max(last_end, entry.end)
    warnings = []
    for day, sessions in sorted(sessions_by_day.items()):
        if not any(e.occurrence.broadcast == broadcast_id for s in sessions for e in s):
            continue
        cap = station.max_sessions_per_day
        if cap and len(sessions) > cap:
            warnings.append(
                RuleWarning(
                    station.code,
                    day,
                    "max_sessions_per_day",
                    f"{len(sessions)} sessions, the limit is {cap}",
                )
            )
        limit = station.max_minutes_per_session
        for session in sessions:
            if limit and any(e.occurrence.broadcast == broadcast_id for e in session):
                minutes = sum((e.end - e.start).total_seconds() for e in session) / 60
                if minutes > limit:
                    start = session[0].start.astimezone(zone)
                    warnings.append(
                        RuleWarning(
                            station.code,
                            day,
                            "max_minutes_per_session",
                            f"the session from {_hhmm(start)} lasts {minutes:.0f} min, "
                            f"the limit is {limit}",
                        )
                    )
    return warnings
