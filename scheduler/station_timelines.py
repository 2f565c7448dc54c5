"""Timelines from the database: load broadcasts, expand their occurrences, resolve.

The glue between the stored schedule and the pure parts (:mod:`scheduler.recurrence`,
:mod:`scheduler.timeline`). Callers pass the window (and so the clock) in.

Broadcasts are read as plain :class:`Rule` values with a few column queries rather than as
ORM objects: a country has tens of thousands of broadcasts, and building full objects (with
owners, targets and exceptions) would cost more than resolving them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, aliased

from scheduler.models import (
    Broadcast,
    BroadcastException,
    BroadcastStatus,
    BroadcastTarget,
    ConflictPolicy,
    Kind,
    Priority,
    Program,
    Station,
)
from scheduler.recurrence import local_day_window, localize, occurrences
from scheduler.timeline import PRIORITY_RANK, Entry, Occurrence, TreeNode, resolve, resolve_tree

# Airings near the edge of a window are decided by what lies just outside it (an item shifted
# past midnight, yesterday's late relay), so windows are resolved with this margin.
MARGIN = timedelta(days=1)
SMALL_SET = 1000


@dataclass(frozen=True, slots=True)
class Airing:
    """What the caller needs to show or play an occurrence (the resolver's payload)."""

    broadcast: int
    title: str
    kind: str
    priority: str
    origin: str  # owner station code
    program: int | None
    source: str | None
    stream_url: str | None


@dataclass(frozen=True, slots=True)
class Rule:
    """A broadcast reduced to what expansion and resolution need."""

    airing: Airing
    owner_depth: int
    start_local: datetime
    timezone: str
    duration: timedelta | None
    rrule: str | None
    until: date | None
    exdates: frozenset[date | datetime]
    conflict: str
    max_delay: timedelta
    targets: frozenset[str]
    # Alerts: airings every ``repeat_every`` (elapsed time), ``repeat_count`` in all, none
    # starting at or after ``expires_at``.
    repeat_every: timedelta | None = None
    repeat_count: int | None = None
    expires_at: datetime | None = None

    @property
    def repeats(self) -> bool:
        """Aired by :func:`repeat_starts` rather than by the calendar rule."""
        return self.rrule is None and (
            self.repeat_every is not None
            or self.repeat_count is not None
            or self.expires_at is not None
        )


def airtime(kind: Kind, duration_s: int | None, program_ms: int | None) -> timedelta | None:
    """Relays last ``duration_s``; programmes last as long as their render."""
    if kind == Kind.relay:
        return timedelta(seconds=duration_s) if duration_s else None
    return timedelta(milliseconds=program_ms) if program_ms else None


def rule_of(broadcast: Broadcast) -> Rule:
    """The rule of an ORM broadcast (a draft being previewed, say): the same row
    :func:`load_rules` reads from SQL, so both paths build a rule in one place."""
    source = broadcast.source
    program = broadcast.program
    row = RuleRow(
        id=broadcast.id,
        title=broadcast.title,
        kind=broadcast.kind,
        priority=broadcast.priority,
        origin=broadcast.owner.code,
        depth=broadcast.owner.depth,
        program=broadcast.program_id,
        source=source.code if source else None,
        stream_url=broadcast.stream_url,
        source_url=source.stream_url if source else None,
        start_local=broadcast.start_local,
        timezone=broadcast.timezone,
        duration_s=broadcast.duration_s,
        program_ms=program.duration_ms if program is not None else None,
        rrule=broadcast.rrule,
        until=broadcast.until,
        conflict=broadcast.conflict,
        max_delay_s=broadcast.max_delay_s,
        repeat_every_s=broadcast.repeat_every_s,
        repeat_count=broadcast.repeat_count,
        expires_at=broadcast.expires_at,
    )
    return _rule(row, set(broadcast.target_codes), set(broadcast.exdates))


def _repeat_fields(
    every_s: int | None, count: int | None, expires_at: datetime | None
) -> dict[str, Any]:
    return {
        "repeat_every": timedelta(seconds=every_s) if every_s else None,
        "repeat_count": count,
        "expires_at": expires_at,
    }


# However a stored alert was made, it never airs more often than this.
MAX_REPEATS = 1000


def repeat_starts(
    first: datetime,
    every: timedelta | None,
    count: int | None,
    expires_at: datetime | None,
    window: tuple[datetime, datetime] | None = None,
    duration: timedelta = timedelta(0),
) -> list[datetime]:
    """Starts of an alert: ``first``, ``first + every``, … — ``count`` airings in all (one
    when there is no interval), none at or after ``expires_at``; with ``window``, only those
    whose airing (``duration`` long) overlaps it. Elapsed time, so no calendar is involved.
    """
    total = min(count or (MAX_REPEATS if every else 1), MAX_REPEATS)
    if every is None or every <= timedelta(0):
        every, total = None, 1
    skip = 0
    if window is not None and every is not None and first + duration <= window[0]:
        skip = (window[0] - duration - first) // every  # airings long over
    starts = []
    for k in range(skip, total):
        start = first + every * k if every is not None else first
        if expires_at is not None and start >= expires_at:
            break
        if window is not None and start >= window[1]:
            break
        if window is None or start + duration > window[0]:
            starts.append(start)
    return starts


def airing_deadlines(
    starts: Sequence[datetime], expires_at: datetime | None
) -> list[datetime | None]:
    """The latest each of an alert's airings may still begin where it arrives late: when the
    next one is due (it would only be heard twice over), the last one until the alert
    expires. None: no deadline."""
    nexts: list[datetime | None] = [*starts[1:], None]
    return [min((d for d in (n, expires_at) if d is not None), default=None) for n in nexts]


def expand(rule: Rule, window: tuple[datetime, datetime]) -> list[Occurrence]:
    """The rule's occurrences overlapping ``window``, ready for the resolver."""
    if rule.duration is None:
        return []
    if rule.repeats:
        first = localize(rule.start_local, ZoneInfo(rule.timezone))
        starts = repeat_starts(
            first, rule.repeat_every, rule.repeat_count, rule.expires_at, window, rule.duration
        )
        spans = [(start, start + rule.duration) for start in starts]
    else:
        spans = occurrences(
            rule.start_local,
            rule.timezone,
            rule.duration,
            rule.rrule,
            rule.until,
            rule.exdates,
            *window,
        )
    broadcast, rank = rule.airing.broadcast, PRIORITY_RANK[rule.airing.priority]
    return [
        Occurrence(
            broadcast,
            start,
            end,
            rank,
            rule.owner_depth,
            broadcast,
            rule.conflict,  # type: ignore[arg-type]
            rule.max_delay,
            rule.targets,
            rule.airing,
        )
        for start, end in spans
    ]


# How far ahead :func:`next_airing` looks, nearest first: most rules air within days.
LOOKAHEAD = (timedelta(days=8), timedelta(days=400), timedelta(days=5 * 366))


def next_airing(rule: Rule, now: datetime) -> Occurrence | None:
    """The first airing still on air or to come at ``now`` (None: every airing is past).

    A rule is refused when this is None, and the editor is told when it first really airs
    (a weekly rule started last month airs next on its weekday, not on its start date).
    """
    for ahead in LOOKAHEAD:
        found = [o for o in expand(rule, (now, now + ahead)) if o.end > now]
        if found:
            return min(found, key=lambda o: o.start)
    return None


# A broadcast's owner and relay source: aliased once, not on every query (every manifest).
_owner, _source = aliased(Station), aliased(Station)


def _rules_query(window: tuple[datetime, datetime], statuses: Sequence[BroadcastStatus]) -> Select:  # type: ignore[type-arg,unused-ignore]
    owner, source = _owner, _source
    first_day = (window[0] - MARGIN).date()
    return (
        select(
            Broadcast.id,
            Broadcast.title,
            Broadcast.kind,
            Broadcast.priority,
            owner.code,
            owner.depth,
            Broadcast.program_id,
            source.code,
            Broadcast.stream_url,
            source.stream_url,
            Broadcast.start_local,
            Broadcast.timezone,
            Broadcast.duration_s,
            Program.duration_ms,
            Broadcast.rrule,
            Broadcast.until,
            Broadcast.conflict,
            Broadcast.max_delay_s,
            Broadcast.repeat_every_s,
            Broadcast.repeat_count,
            Broadcast.expires_at,
        )
        .join(owner, Broadcast.owner_id == owner.id)
        .outerjoin(source, Broadcast.source_id == source.id)
        .outerjoin(Program, Broadcast.program_id == Program.id)
        .where(Broadcast.status.in_(statuses))
        .where(or_(Broadcast.until.is_(None), Broadcast.until >= first_day))
        .where(Broadcast.start_local <= (window[1] + MARGIN).replace(tzinfo=None))
    )


def load_rules(
    session: Session,
    window: tuple[datetime, datetime],
    station_ids: Iterable[int] | None = None,
    extra: Broadcast | None = None,
    statuses: Sequence[BroadcastStatus] = (BroadcastStatus.approved,),
    only: Select | None = None,  # type: ignore[type-arg,unused-ignore]
) -> list[Rule]:
    """Broadcasts (approved, unless ``statuses`` says otherwise) that may air in ``window`` —
    optionally only those targeting these stations, or whose ids ``only`` selects — plus
    ``extra`` (a draft being previewed), whatever its status."""
    query = _rules_query(window, statuses)
    if only is not None:
        query = query.where(Broadcast.id.in_(only))
    if station_ids is not None:
        targeting = select(BroadcastTarget.broadcast_id).where(
            BroadcastTarget.station_id.in_(list(station_ids))
        )
        query = query.where(Broadcast.id.in_(targeting))
    rows = session.execute(query).all()
    ids = [row[0] for row in rows if extra is None or row[0] != extra.id]
    targets: dict[int, set[str]] = defaultdict(set)
    exdates: dict[int, set[date | datetime]] = defaultdict(set)
    for chunk in _chunks(ids, 5000):
        for broadcast_id, code in session.execute(
            select(BroadcastTarget.broadcast_id, Station.code)
            .join(Station, BroadcastTarget.station_id == Station.id)
            .where(BroadcastTarget.broadcast_id.in_(chunk))
        ):
            targets[broadcast_id].add(code)
        exceptions: Any = session.execute(
            select(
                BroadcastException.broadcast_id,
                BroadcastException.on_date,
                BroadcastException.at_local,
            ).where(BroadcastException.broadcast_id.in_(chunk))
        )
        for broadcast_id, on_date, at_local in exceptions:
            exdates[broadcast_id].add(at_local or on_date)
    rules = [
        _rule(RuleRow(*row), targets[row[0]], exdates[row[0]]) for row in rows if row[0] in targets
    ]
    if extra is not None:
        rules.append(rule_of(extra))
    return rules


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class RuleRow(NamedTuple):
    """One broadcast's columns as :func:`_rules_query` selects them, in that order."""

    id: int
    title: str
    kind: Kind
    priority: Priority
    origin: str
    depth: int
    program: int | None
    source: str | None
    stream_url: str | None
    source_url: str | None
    start_local: datetime
    timezone: str
    duration_s: int | None
    program_ms: int | None
    rrule: str | None
    until: date | None
    conflict: ConflictPolicy
    max_delay_s: int
    repeat_every_s: int | None
    repeat_count: int | None
    expires_at: datetime | None


def _rule(row: RuleRow, targets: set[str], exdates: set[date | datetime]) -> Rule:
    """The one builder of a :class:`Rule` from a broadcast's stored columns."""
    return Rule(
        airing=Airing(
            broadcast=row.id,
            title=row.title,
            kind=row.kind.value,
            priority=row.priority.value,
            origin=row.origin,
            program=row.program,
            source=row.source,
            stream_url=row.stream_url or row.source_url,
        ),
        owner_depth=row.depth,
        start_local=row.start_local,
        timezone=row.timezone,
        duration=airtime(row.kind, row.duration_s, row.program_ms),
        rrule=row.rrule,
        until=row.until,
        exdates=frozenset(exdates),
        conflict=row.conflict.value,
        max_delay=timedelta(seconds=row.max_delay_s),
        targets=frozenset(targets),
        **_repeat_fields(row.repeat_every_s, row.repeat_count, row.expires_at),
    )


def station_timeline(
    session: Session,
    station: Station,
    first_day: date,
    last_day: date,
    min_fragment: timedelta,
    extra: Broadcast | None = None,
) -> list[Entry]:
    """The resolved timeline of one station over whole local days (``last_day`` inclusive)."""
    window = local_day_window(first_day, last_day, station.timezone)
    wide = (window[0] - MARGIN, window[1] + MARGIN)
    path = station.ancestor_codes
    path_ids = session.scalars(select(Station.id).where(Station.code.in_(path))).all()
    found: list[Occurrence] = []
    for rule in load_rules(session, wide, path_ids, extra):
        found.extend(expand(rule, wide))
    entries = resolve(found, path, wide, min_fragment)
    start, end = on_air(station, window)
    return [e for e in entries if e.end > start and e.start < end]


def on_air(station: Station, window: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    """``window`` narrowed to the days the station exists: from the day a move between maps
    created it, until the day it was retired (empty when it falls outside)."""
    start, end = window
    if station.active_from is not None:
        start = max(
            start, local_day_window(station.active_from, station.active_from, station.timezone)[0]
        )
    if station.retired_on is not None:
        end = min(
            end, local_day_window(station.retired_on, station.retired_on, station.timezone)[0]
        )
    return start, max(start, end)


def tree_timelines(
    session: Session,
    stations: Sequence[Station],
    window: tuple[datetime, datetime],
    min_fragment: timedelta,
    extra: Broadcast | None = None,
) -> dict[str, list[Entry]]:
    """Timelines of many stations at once (a subtree, or the whole country).

    ``stations`` must be closed under "parent of" up to the roots and listed parents first;
    the broadcasts are loaded and expanded once each, not once per station.
    """
    wide = (window[0] - MARGIN, window[1] + MARGIN)
    by_target: dict[str, list[Occurrence]] = defaultdict(list)
    # A small set is filtered in the query; for thousands of stations one pass over all
    # approved broadcasts is cheaper than a huge IN list.
    ids = [s.id for s in stations] if len(stations) <= SMALL_SET else None
    for rule in load_rules(session, wide, ids, extra):
        found = expand(rule, wide)
        for code in rule.targets:
            by_target[code].extend(found)
    id_to_code = {s.id: s.code for s in stations}
    nodes = [
        TreeNode(s.code, id_to_code.get(s.parent_id) if s.parent_id else None) for s in stations
    ]
    timelines = resolve_tree(nodes, by_target, min_fragment)
    spans = {s.code: on_air(s, window) for s in stations}
    return {
        code: [e for e in entries if e.end > span[0] and e.start < span[1]]
        for code, entries in timelines.items()
        for span in [spans.get(code, window)]
    }


def with_ancestors(session: Session, stations: Sequence[Station]) -> list[Station]:
    """``stations`` plus all their ancestors, parents first (input for :func:`tree_timelines`)."""
    codes = {c for s in stations for c in s.ancestor_codes}
    missing = codes - {s.code for s in stations}
    extra = (
        list(session.scalars(select(Station).where(Station.code.in_(missing)))) if missing else []
    )
    return sorted([*stations, *extra], key=lambda s: (s.depth, s.code))


def pending_occurrences(
    session: Session, station: Station, first_day: date, last_day: date
) -> list[Occurrence]:
    """Airings of broadcasts still waiting for approval that would reach ``station`` (they
    target it or an ancestor), over whole local days — unresolved, since they are not on any
    timeline yet; the calendar shows them apart so editors and approvers see what is coming."""
    window = local_day_window(first_day, last_day, station.timezone)
    path_ids = session.scalars(
        select(Station.id).where(Station.code.in_(station.ancestor_codes))
    ).all()
    found: list[Occurrence] = []
    for rule in load_rules(session, window, path_ids, statuses=(BroadcastStatus.pending,)):
        found.extend(expand(rule, window))
    return sorted(found, key=lambda o: (o.start, o.broadcast))
