"""Timelines from the database: load broadcasts, expand their occurrences, resolve.

The glue between the stored schedule and the pure parts (:mod:`scheduler.recurrence`,
:mod:`scheduler.timeline`). Callers pass the window (and so the clock) in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import Broadcast, BroadcastStatus, BroadcastTarget, Kind, Station
from scheduler.recurrence import local_day_window, occurrences
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


def duration_of(broadcast: Broadcast) -> timedelta | None:
    """Relays last ``duration_s``; programmes last as long as their render."""
    if broadcast.kind == Kind.relay:
        return timedelta(seconds=broadcast.duration_s) if broadcast.duration_s else None
    if broadcast.program is not None and broadcast.program.duration_ms:
        return timedelta(milliseconds=broadcast.program.duration_ms)
    return None


def expand(
    broadcast: Broadcast, window: tuple[datetime, datetime], target_codes: frozenset[str]
) -> list[Occurrence]:
    """The broadcast's occurrences overlapping ``window``, ready for the resolver."""
    duration = duration_of(broadcast)
    if duration is None:
        return []
    airing = Airing(
        broadcast=broadcast.id,
        title=broadcast.title,
        kind=broadcast.kind.value,
        priority=broadcast.priority.value,
        origin=broadcast.owner.code,
        program=broadcast.program_id,
        source=broadcast.source.code if broadcast.source else None,
        stream_url=broadcast.stream_url
        or (broadcast.source.stream_url if broadcast.source else None),
    )
    spans = occurrences(
        broadcast.start_local,
        broadcast.timezone,
        duration,
        broadcast.rrule,
        broadcast.until,
        broadcast.exdates,
        *window,
    )
    return [
        Occurrence(
            broadcast=broadcast.id,
            start=start,
            end=end,
            rank=PRIORITY_RANK[broadcast.priority.value],
            owner_depth=broadcast.owner.depth,
            created=broadcast.id,
            policy=broadcast.conflict.value,
            max_delay=timedelta(seconds=broadcast.max_delay_s),
            targets=target_codes,
            payload=airing,
        )
        for start, end in spans
    ]


def live_broadcasts(
    session: Session,
    window: tuple[datetime, datetime],
    station_ids: Iterable[int] | None = None,
    extra: Broadcast | None = None,
) -> list[Broadcast]:
    """Approved broadcasts that may air in ``window`` (optionally only those targeting these
    stations), plus ``extra`` (a draft being previewed), whatever its status."""
    first_day = (window[0] - MARGIN).date()
    query = (
        select(Broadcast)
        .where(Broadcast.status == BroadcastStatus.approved)
        .where(or_(Broadcast.until.is_(None), Broadcast.until >= first_day))
        .where(Broadcast.start_local <= (window[1] + MARGIN).replace(tzinfo=None))
        .options(selectinload(Broadcast.targets), selectinload(Broadcast.exceptions))
    )
    if station_ids is not None:
        query = query.where(
            Broadcast.id.in_(
                select(BroadcastTarget.broadcast_id).where(
                    BroadcastTarget.station_id.in_(list(station_ids))
                )
            )
        )
    found = list(session.scalars(query))
    if extra is not None:
        found = [b for b in found if b.id != extra.id] + [extra]
    return found


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
    path_ids = select(Station.id).where(Station.code.in_(path))
    broadcasts = live_broadcasts(session, wide, session.scalars(path_ids).all(), extra)
    found: list[Occurrence] = []
    for broadcast in broadcasts:
        found.extend(expand(broadcast, wide, frozenset(broadcast.target_codes)))
    entries = resolve(found, path, wide, min_fragment)
    return [e for e in entries if e.end > window[0] and e.start < window[1]]


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
    for broadcast in live_broadcasts(session, wide, ids, extra):
        codes = frozenset(broadcast.target_codes)
        occurrences_ = expand(broadcast, wide, codes)
        for code in codes:
            by_target[code].extend(occurrences_)
    id_to_code = {s.id: s.code for s in stations}
    nodes = [
        TreeNode(s.code, id_to_code.get(s.parent_id) if s.parent_id else None) for s in stations
    ]
    timelines = resolve_tree(nodes, by_target, min_fragment)
    return {
        code: [e for e in entries if e.end > window[0] and e.start < window[1]]
        for code, entries in timelines.items()
    }


def with_ancestors(session: Session, stations: Sequence[Station]) -> list[Station]:
    """``stations`` plus all their ancestors, parents first (input for :func:`tree_timelines`)."""
    codes = {c for s in stations for c in s.ancestor_codes}
    missing = codes - {s.code for s in stations}
    extra = (
        list(session.scalars(select(Station).where(Station.code.in_(missing)))) if missing else []
    )
    return sorted([*stations, *extra], key=lambda s: (s.depth, s.code))
