"""Planned against aired: which communes relayed what (docs/api.md "Reports", issue #10).

Every planned airing — an entry of a station's resolved timeline that airs (not pre-empted),
its fragments taken together — is matched to the play logs its agent sent by (station,
broadcast, scheduled start). Where nothing came back once the airing's end plus a grace
period has passed, the airing is **missed — no report**: the report is decided here, on the
server, from the timeline and the clock, so a dead station is counted, not only one whose
agent says it missed something. Airings still to come (or inside the grace) are ``upcoming``
and stay out of the rates.

Which stations air: those at the bottom of the tree (the communes' loudspeakers) and any
station an agent was ever set up for. A district's row sums its communes (and itself, when
it airs); the totals are the root's row.

:func:`outcome_of` and :func:`roll_up` are pure (the clock is passed in);
:func:`compliance` gathers their input.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from scheduler.errors import Invalid, NotFound
from scheduler.models import (
    AiringOutcome,
    Campaign,
    PlayLog,
    ProgramItem,
    Segment,
    SettledDay,
    Station,
    StationSuccession,
    StationToken,
)
from scheduler.recurrence import EARLIEST, LATEST, local_day_window
from scheduler.station_timelines import Airing, tree_timelines, with_ancestors
from scheduler.stations import subtree
from scheduler.timeline import Entry

MAX_DAYS = 366
KINDS = ("relay", "program")
STATUSES = ("played", "partial", "missed", "interrupted", "failed")
NO_REPORT = "no report"  # the server's reason for a missed airing nobody reported


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    @classmethod
    def checked(cls, first: date, last: date) -> Period:
        if last < first:
            raise Invalid("to: the last day is before the first", "to")
        for name, day in (("from", first), ("to", last)):
            if not EARLIEST <= day <= LATEST:
                raise Invalid(f"{name}: must be between {EARLIEST.year} and {LATEST.year}", name)
        if (last - first).days >= MAX_DAYS:
            raise Invalid(f"to: a report covers at most {MAX_DAYS} days", "to")
        return cls(first, last)


@dataclass(frozen=True)
class Filters:
    kind: str | None = None  # relay | program
    origin: str | None = None  # whose broadcasts (owner station code)
    campaign: str | None = None  # campaign code (programmes made of its segments)


@dataclass
class Planned:
    """One planned airing at one station, its fragments together."""

    station: str
    airing: Airing
    scheduled_start: datetime
    start: datetime
    end: datetime
    seconds: float  # planned airtime (what the resolved timeline leaves it)


@dataclass(frozen=True)
class Log:
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    detail: str | None
    verified: bool | None = None  # its fingerprint matched the planned file (scheduler.verify)
    proof: str | None = None  # what was fingerprinted: "off_air" or "decoded"


@dataclass(frozen=True)
class AiringResult:
    """What the report says of one planned airing: its status, minutes aired, why not."""

    planned: Planned
    status: str  # one of STATUSES, or "upcoming"
    aired_s: float
    reason: str | None
    logs: tuple[Log, ...] = ()

    @property
    def verified(self) -> bool | None:
        return verified_of(self.logs)


@dataclass
class Tally:
    planned: int = 0
    played: int = 0
    partial: int = 0
    missed: int = 0
    interrupted: int = 0
    failed: int = 0
    upcoming: int = 0
    verified: int = 0  # airings whose fingerprint matched the planned file
    planned_s: float = 0.0
    aired_s: float = 0.0
    verified_s: float = 0.0

    def add(self, outcome: AiringResult) -> None:
        if outcome.status == "upcoming":
            self.upcoming += 1
            return
        self.planned += 1
        setattr(self, outcome.status, getattr(self, outcome.status) + 1)
        self.planned_s += outcome.planned.seconds
        self.aired_s += outcome.aired_s
        if outcome.verified:
            self.verified += 1
            self.verified_s += outcome.aired_s

    def count(
        self,
        status: str,
        n: int,
        planned_s: float,
        aired_s: float,
        verified: int,
        verified_s: float,
    ) -> None:
        """Add ``n`` airings of one status, with their sums (a settled aggregate)."""
        self.planned += n
        setattr(self, status, getattr(self, status) + n)
        self.planned_s += planned_s or 0.0
        self.aired_s += aired_s or 0.0
        self.verified += verified or 0
        self.verified_s += verified_s or 0.0

    def merge(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def rate_count(self) -> float | None:
        return self.played / self.planned if self.planned else None

    @property
    def rate_minutes(self) -> float | None:
        return self.aired_s / self.planned_s if self.planned_s else None


@dataclass
class Row:
    station: Station
    airs: bool  # the station itself airs (a commune, or one with an agent)
    tally: Tally = field(default_factory=Tally)


@dataclass
class Report:
    root: Station
    period: Period
    filters: Filters
    rows: list[Row]  # parents before children
    outcomes: dict[str, list[AiringResult]]  # by station code, in time order (days not settled)
    days: dict[date, Tally] = field(default_factory=dict)  # the root's tally per local day

    @property
    def totals(self) -> Tally:
        return self.rows[0].tally if self.rows else Tally()


# --- pure ---------------------------------------------------------------------------------


def planned_airings(
    station: str, entries: Iterable[Entry], window: tuple[datetime, datetime]
) -> list[Planned]:
    """The airings a station's timeline plans inside ``window`` (by scheduled start), the
    parts of one cut in two by a higher item counted as one airing."""
    found: dict[tuple[int, datetime], Planned] = {}
    for entry in entries:
        occurrence = entry.occurrence
        if not entry.airs or not window[0] <= occurrence.start < window[1]:
            continue
        key = (occurrence.broadcast, occurrence.start)
        seconds = (entry.end - entry.start).total_seconds()
        known = found.get(key)
        if known is None:
            found[key] = Planned(
                station, occurrence.payload, occurrence.start, entry.start, entry.end, seconds
            )
        else:
            known.start, known.end = min(known.start, entry.start), max(known.end, entry.end)
            known.seconds += seconds
    return sorted(found.values(), key=lambda p: p.start)


def outcome_of(
    planned: Planned, logs: Sequence[Log], now: datetime, grace: timedelta
) -> AiringResult:
    """What became of one planned airing, from the logs its agent sent for it.

    Several logs (a restart mid-item, the two parts of a relay an alert cut through): played
    only when every one says played; partial when something aired; otherwise the most telling
    of interrupted, failed, missed. Aired time is what the logs' start and end enclose, never
    more than was planned."""
    if not logs:
        if now < planned.end + grace:
            return AiringResult(planned, "upcoming", 0.0, None)
        return AiringResult(planned, "missed", 0.0, NO_REPORT)
    status, aired, reason = judged(planned.seconds, logs)
    return AiringResult(planned, status, aired, reason, tuple(logs))


def judged(planned_s: float, logs: Sequence[Log]) -> tuple[str, float, str | None]:
    """(status, aired seconds, reason) of an airing from the logs sent for it (at least one)."""
    aired = sum(
        max(0.0, (log.ended_at - log.started_at).total_seconds())
        for log in logs
        if log.started_at is not None and log.ended_at is not None
    )
    aired = min(aired, planned_s)
    statuses = {log.status for log in logs}
    if statuses == {"played"}:
        status = "played"
    elif statuses & {"played", "partial"} or aired > 0:
        status = "partial"
    else:
        status = next(s for s in ("interrupted", "failed", "missed") if s in statuses)
    details = [log.detail for log in logs if log.detail]
    return status, aired, "; ".join(details) or None


def verified_of(logs: Sequence[Log]) -> bool | None:
    """True when every log that was checked matched; False when one did not; None when
    nothing was checked."""
    checked = [log.verified for log in logs if log.verified is not None]
    return all(checked) if checked else None


def roll_up(
    stations: Sequence[Station],
    airs: set[str],
    outcomes: Mapping[str, list[AiringResult]],
    settled: Mapping[str, Tally] | None = None,
    adopted: Mapping[str, str] | None = None,
) -> list[Row]:
    """A row per station (parents first), each summing its own airings (and the ``settled``
    tallies of days already written down) and its subtree's; an ``adopted`` predecessor
    (retired by a move between maps) sums into the row it names."""
    rows = {s.code: Row(s, s.code in airs) for s in stations}
    for code, found in outcomes.items():
        for outcome in found:
            rows[code].tally.add(outcome)
    for code, tally in (settled or {}).items():
        if code in rows:
            rows[code].tally.merge(tally)
    for station in sorted(stations, key=lambda s: -s.depth):  # children before parents
        parent = station.parent.code if station.parent is not None else None
        parent = (adopted or {}).get(station.code, parent)
        if parent in rows:
            rows[parent].tally.merge(rows[station.code].tally)
    return list(rows.values())


# --- gathering ----------------------------------------------------------------------------


def compliance(
    session: Session,
    root: Station,
    period: Period,
    filters: Filters,
    now: datetime,
    min_fragment: timedelta,
    grace: timedelta,
    *,
    settled: bool = True,
) -> Report:
    """The compliance report of ``root``'s subtree over ``period`` (local days of the root).

    With ``settled`` the days already written down (``scheduler.settle``) are summed in SQL
    and only the rest is resolved and matched here; without it every airing is, with its
    logs (a drill-down needs them)."""
    stations = list(subtree(session, root))
    adopted = predecessors_within(session, root, stations, period)
    stations += [station for station, _into in adopted.values()]
    airs = airing_stations(session, stations)
    wanted = wanted_for(session, filters)
    zone = ZoneInfo(root.timezone)
    window = local_day_window(period.first, period.last, root.timezone)
    tallies: dict[str, Tally] = {}
    days: dict[date, Tally] = defaultdict(Tally)
    done = settled_through(session, period) if settled else None
    if done is not None:
        upto = local_day_window(period.first, done, root.timezone)[1]
        tallies, by_day = settled_tallies(session, stations, (window[0], upto), wanted)
        days.update(by_day)
        window = (upto, window[1])
    outcomes: dict[str, list[AiringResult]] = {}
    if window[0] < window[1]:
        outcomes = live_outcomes(session, stations, airs, window, wanted, now, min_fragment, grace)
        for found in outcomes.values():
            for outcome in found:
                days[outcome.planned.scheduled_start.astimezone(zone).date()].add(outcome)
    rows = roll_up(
        stations, airs, outcomes, tallies, {c: into for c, (_s, into) in adopted.items()}
    )
    return Report(root, period, filters, rows, outcomes, dict(days))


def predecessors_within(
    session: Session, root: Station, stations: Sequence[Station], period: Period
) -> dict[str, tuple[Station, str]]:
    """Communes retired by a move between maps whose successors lie in ``stations`` and that
    still aired during ``period``: a report across the move shows them until the day they
    retired (their successors from then on), summed into the successor's parent."""
    ids = {s.id for s in stations}
    found: dict[str, tuple[Station, str]] = {}
    links = session.scalars(
        select(StationSuccession).where(
            StationSuccession.successor_id.in_(ids), StationSuccession.is_default
        )
    )
    for link in links:
        old, heir = link.predecessor, link.successor
        retired = old.retired_on
        if old is heir or old.id in ids or retired is None or retired <= period.first:
            continue
        if old.level == "commune" and heir is not root and heir.parent is not None:
            found[old.code] = (old, heir.parent.code)
    return found


def live_outcomes(
    session: Session,
    stations: Sequence[Station],
    airs: set[str],
    window: tuple[datetime, datetime],
    wanted: Callable[[Planned], bool],
    now: datetime,
    min_fragment: timedelta,
    grace: timedelta,
) -> dict[str, list[AiringResult]]:
    """Each airing station's planned airings in ``window``, resolved now and matched with
    their logs."""
    tree = with_ancestors(session, stations)
    timelines = tree_timelines(session, tree, window, min_fragment)
    planned = {
        code: [p for p in planned_airings(code, timelines.get(code, []), window) if wanted(p)]
        for code in sorted(airs)
    }
    logs = _logs(session, [s for s in stations if s.code in airs], window)
    return {
        code: [
            outcome_of(p, logs.get((code, p.airing.broadcast, p.scheduled_start), []), now, grace)
            for p in found
        ]
        for code, found in planned.items()
    }


def settled_through(session: Session, period: Period) -> date | None:
    """The last day of the unbroken run of settled days that begins the period, if any."""
    days = set(
        session.scalars(
            select(SettledDay.day).where(
                SettledDay.day >= period.first, SettledDay.day <= period.last
            )
        )
    )
    last = None
    day = period.first
    while day in days:
        last, day = day, day + timedelta(days=1)
    return last


def settled_tallies(
    session: Session,
    stations: Sequence[Station],
    window: tuple[datetime, datetime],
    wanted: _Wanted,
) -> tuple[dict[str, Tally], dict[date, Tally]]:
    """The tallies of the written-down airings in ``window``: per station and per day."""
    code_of = {s.id: s.code for s in stations}
    ids = list(code_of)
    verified_s = case((AiringOutcome.verified.is_(True), AiringOutcome.aired_s), else_=0.0)
    sums = (
        func.count(),
        func.sum(AiringOutcome.planned_s),
        func.sum(AiringOutcome.aired_s),
        func.sum(case((AiringOutcome.verified.is_(True), 1), else_=0)),
        func.sum(verified_s),
    )
    per_station: dict[str, Tally] = defaultdict(Tally)
    per_day: dict[date, Tally] = defaultdict(Tally)
    for chunk in range(0, len(ids), 1000):
        where = [
            AiringOutcome.station_id.in_(ids[chunk : chunk + 1000]),
            AiringOutcome.scheduled_start >= window[0],
            AiringOutcome.scheduled_start < window[1],
            *wanted.sql(),
        ]
        for station_id, status, *values in session.execute(
            select(AiringOutcome.station_id, AiringOutcome.status, *sums)
            .where(*where)
            .group_by(AiringOutcome.station_id, AiringOutcome.status)
        ):
            per_station[code_of[station_id]].count(status, *values)
        for day, status, *values in session.execute(
            select(AiringOutcome.day, AiringOutcome.status, *sums)
            .where(*where)
            .group_by(AiringOutcome.day, AiringOutcome.status)
        ):
            per_day[day].count(status, *values)
    return dict(per_station), dict(per_day)


def airing_stations(session: Session, stations: Sequence[Station]) -> set[str]:
    """Codes of the stations that air: no station below them, or an agent set up for them."""
    parents = {s.parent_id for s in stations if s.parent_id is not None}
    ids = [s.id for s in stations]
    with_agent: set[int] = set()
    for chunk in range(0, len(ids), 1000):
        with_agent.update(
            session.scalars(
                select(StationToken.station_id).where(
                    StationToken.station_id.in_(ids[chunk : chunk + 1000])
                )
            )
        )
    return {s.code for s in stations if s.id not in parents or s.id in with_agent}


def wanted_for(session: Session, filters: Filters) -> _Wanted:
    """The test an airing must pass to be counted under ``filters``."""
    programs: set[int] | None = None
    if filters.campaign is not None:
        campaign = session.scalar(select(Campaign).where(Campaign.code == filters.campaign))
        if campaign is None:
            raise NotFound(f"campaign: there is no campaign {filters.campaign!r}", "campaign")
        programs = set(
            session.scalars(
                select(ProgramItem.program_id)
                .join(Segment, ProgramItem.segment_id == Segment.id)
                .where(Segment.campaign_id == campaign.id)
            )
        )
    return _Wanted(filters, programs)


@dataclass(frozen=True)
class _Wanted:
    filters: Filters
    programs: set[int] | None

    def sql(self) -> list[Any]:
        """The same filters as conditions on ``airing_outcomes``."""
        f = self.filters
        found: list[Any] = []
        if f.kind is not None:
            found.append(AiringOutcome.kind == f.kind)
        if f.origin is not None:
            found.append(AiringOutcome.origin == f.origin)
        if self.programs is not None:
            found.append(AiringOutcome.program_id.in_(sorted(self.programs) or [-1]))
        return found

    def __call__(self, planned: Planned) -> bool:
        airing, f = planned.airing, self.filters
        if f.kind is not None and airing.kind != f.kind:
            return False
        if f.origin is not None and airing.origin != f.origin:
            return False
        return self.programs is None or airing.program in self.programs


def _logs(
    session: Session, stations: Sequence[Station], window: tuple[datetime, datetime]
) -> dict[tuple[str, int | None, datetime], list[Log]]:
    code_of = {s.id: s.code for s in stations}
    found: dict[tuple[str, int | None, datetime], list[Log]] = defaultdict(list)
    ids = list(code_of)
    for chunk in range(0, len(ids), 1000):
        rows = session.execute(
            select(
                PlayLog.station_id,
                PlayLog.broadcast_id,
                PlayLog.scheduled_start,
                PlayLog.status,
                PlayLog.started_at,
                PlayLog.ended_at,
                PlayLog.detail,
                PlayLog.verified,
                PlayLog.fingerprint_source,
            )
            .where(PlayLog.station_id.in_(ids[chunk : chunk + 1000]))
            .where(PlayLog.scheduled_start >= window[0], PlayLog.scheduled_start < window[1])
            .order_by(PlayLog.started_at)
        )
        for station_id, broadcast, start, status, started, ended, detail, verified, proof in rows:
            key = (code_of[station_id], broadcast, start)
            found[key].append(Log(status, started, ended, detail, verified, proof))
    return found
