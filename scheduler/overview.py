"""Read-only summaries for the panel: a station's live status from its heartbeats, a station's
schedule next to what its agent reported, and the dashboard's bounded lists and counts.

Everything takes ``now`` (and the window) from the caller. Lists are cut at a limit and come
with their full count, so a national admin's dashboard costs about what a province's does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from scheduler.dispatch import item_id
from scheduler.models import (
    AuditEvent,
    Broadcast,
    BroadcastStatus,
    PlayLog,
    Program,
    Segment,
    SegmentStatus,
    Station,
)
from scheduler.station_timelines import Airing, station_timeline
from scheduler.timeline import Entry

DRIFT_MS = 2000  # a clock further off than this makes airings audibly early or late
CHUNK = 500


# --- Live status ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveStatus:
    """What the last heartbeat says about a station's agent."""

    seen: bool  # has the agent ever reported?
    online: bool  # reported within ``offline_after``
    drift: bool  # clock off by more than DRIFT_MS

    @property
    def key(self) -> str:
        """``online`` | ``offline`` (lost contact) | ``never`` (no agent yet)."""
        if self.online:
            return "online"
        return "offline" if self.seen else "never"


def live_status(station: Station, now: datetime, offline_after: timedelta) -> LiveStatus:
    last = station.last_seen
    seen = last is not None
    online = last is not None and now - last <= offline_after
    drift = station.clock_offset_ms is not None and abs(station.clock_offset_ms) > DRIFT_MS
    return LiveStatus(seen=seen, online=online, drift=drift)


def in_subtree(root: Station) -> ColumnElement[bool]:
    return Station.path.startswith(root.path, autoescape=True)


def online_clause(now: datetime, offline_after: timedelta) -> ColumnElement[bool]:
    return and_(Station.last_seen.is_not(None), Station.last_seen >= now - offline_after)


@dataclass
class StationCounts:
    total: int = 0
    online: int = 0
    offline: int = 0  # reported once, silent now
    never: int = 0
    drift: int = 0


def station_counts(
    session: Session, root: Station, now: datetime, offline_after: timedelta
) -> StationCounts:
    """How many stations of the subtree are online, lost, never seen, drifting (one query)."""
    online = online_clause(now, offline_after)
    drifting = and_(online, func.abs(Station.clock_offset_ms) > DRIFT_MS)
    row = session.execute(
        select(
            func.count(Station.id),
            func.count(Station.id).filter(online),
            func.count(Station.id).filter(Station.last_seen.is_(None)),
            func.count(Station.id).filter(drifting),
        ).where(in_subtree(root))
    ).one()
    total, up, never, drift = (int(v or 0) for v in row)
    return StationCounts(total, up, total - up - never, never, drift)


def stations_where(
    session: Session, root: Station, condition: ColumnElement[bool], limit: int, order: Any
) -> list[Station]:
    return list(
        session.scalars(
            select(Station).where(in_subtree(root), condition).order_by(*order).limit(limit)
        )
    )


def playing_now(
    session: Session, root: Station, now: datetime, offline_after: timedelta, limit: int
) -> list[Station]:
    """Online stations of the subtree whose agent says it is playing something."""
    return stations_where(
        session,
        root,
        and_(online_clause(now, offline_after), Station.now_playing.is_not(None)),
        limit,
        (Station.depth, Station.code),
    )


def lost_stations(
    session: Session, root: Station, now: datetime, offline_after: timedelta, limit: int
) -> list[Station]:
    """Stations whose agent reported once and has been silent for longer than allowed —
    longest silent first."""
    return stations_where(
        session,
        root,
        and_(Station.last_seen.is_not(None), Station.last_seen < now - offline_after),
        limit,
        (Station.last_seen, Station.code),
    )


def drifting_stations(
    session: Session, root: Station, now: datetime, offline_after: timedelta, limit: int
) -> list[Station]:
    return stations_where(
        session,
        root,
        and_(online_clause(now, offline_after), func.abs(Station.clock_offset_ms) > DRIFT_MS),
        limit,
        (func.abs(Station.clock_offset_ms).desc(), Station.code),
    )


# --- A station's schedule next to its play logs -----------------------------------------------


@dataclass
class Line:
    """One airing of a station's timeline with what the agent reported about it."""

    entry: Entry
    item: str
    plays: list[PlayLog] = field(default_factory=list)

    @property
    def airing(self) -> Airing:
        return self.entry.occurrence.payload  # type: ignore[no-any-return,unused-ignore]

    @property
    def duration(self) -> timedelta:
        return self.entry.end - self.entry.start

    @property
    def play(self) -> PlayLog | None:
        """The last report (a rejoined item is reported again after its interruption)."""
        return self.plays[-1] if self.plays else None


def plays_for_items(
    session: Session, station: Station, items: Sequence[str]
) -> dict[str, list[PlayLog]]:
    found: dict[str, list[PlayLog]] = defaultdict(list)
    wanted = list(dict.fromkeys(items))
    for i in range(0, len(wanted), CHUNK):
        rows = session.scalars(
            select(PlayLog)
            .where(PlayLog.station_id == station.id, PlayLog.item.in_(wanted[i : i + CHUNK]))
            .order_by(PlayLog.received_at, PlayLog.id)
        )
        for row in rows:
            found[row.item].append(row)
    return found


def schedule_with_plays(
    session: Session, station: Station, first: date, last: date, min_fragment: timedelta
) -> list[Line]:
    """The station's timeline over whole local days, each airing with its play logs (matched
    by the manifest's item id, ``{broadcast}-{UTC start}``). Displaced airings are listed too,
    with no play log."""
    entries = station_timeline(session, station, first, last, min_fragment)
    lines = [Line(e, item_id(e.occurrence.broadcast, e.start)) for e in entries]
    plays = plays_for_items(session, station, [line.item for line in lines if line.entry.airs])
    for line in lines:
        if line.entry.airs:
            line.plays = plays.get(line.item, [])
    return lines


def stations_named(session: Session, codes: set[str]) -> dict[str, Station]:
    if not codes:
        return {}
    return {s.code: s for s in session.scalars(select(Station).where(Station.code.in_(codes)))}


# --- Dashboard --------------------------------------------------------------------------------


@dataclass
class Group:
    """Airings of one broadcast at one start, across the stations that hear it."""

    entry: Entry
    stations: list[str] = field(default_factory=list)

    @property
    def airing(self) -> Airing:
        return self.entry.occurrence.payload  # type: ignore[no-any-return,unused-ignore]


def _grouped(pairs: list[tuple[str, Entry]], key: Any) -> list[Group]:
    groups: dict[Any, Group] = {}
    for code, entry in pairs:
        groups.setdefault(key(entry), Group(entry)).stations.append(code)
    return sorted(groups.values(), key=lambda g: (g.entry.start, g.airing.broadcast))


def upcoming(timelines: dict[str, list[Entry]], codes: set[str], now: datetime) -> list[Group]:
    """What airs from ``now`` on at these stations, one line per broadcast and start."""
    pairs = [
        (code, e)
        for code, entries in timelines.items()
        if code in codes
        for e in entries
        if e.airs and e.end > now
    ]
    return _grouped(pairs, lambda e: (e.occurrence.broadcast, e.start))


def displaced(timelines: dict[str, list[Entry]], codes: set[str], now: datetime) -> list[Group]:
    """Airings from ``now`` on that lost to a higher one (shifted, truncated, preempted)."""
    pairs = [
        (code, e)
        for code, entries in timelines.items()
        if code in codes
        for e in entries
        if e.outcome != "scheduled" and e.occurrence.start >= now
    ]
    return _grouped(pairs, lambda e: (e.occurrence.broadcast, e.occurrence.start, e.outcome, e.by))


def _owned_by(root: Station, owner_id: Any) -> ColumnElement[bool]:
    inside = select(Station.id).where(in_subtree(root))
    return owner_id.in_(inside)


def pending_counts(session: Session, root: Station) -> tuple[int, int]:
    """(broadcasts, segments) owned in the subtree that wait for approval."""
    broadcasts = session.scalar(
        select(func.count(Broadcast.id)).where(
            Broadcast.status == BroadcastStatus.pending, _owned_by(root, Broadcast.owner_id)
        )
    )
    segments = session.scalar(
        select(func.count(Segment.id)).where(
            Segment.status == SegmentStatus.ready,
            Segment.approved_at.is_(None),
            Segment.rejected_at.is_(None),
            _owned_by(root, Segment.owner_id),
        )
    )
    return int(broadcasts or 0), int(segments or 0)


@dataclass(frozen=True)
class Failure:
    kind: str  # "segment" | "program"
    id: int
    title: str
    error: str | None
    at: datetime
    owner: str


def failed_renders(session: Session, root: Station, limit: int) -> tuple[list[Failure], int]:
    """Segments and programmes in the subtree whose processing failed, newest first."""
    found: list[Failure] = []
    total = 0
    models: tuple[tuple[type[Segment] | type[Program], str], ...] = (
        (Segment, "segment"),
        (Program, "program"),
    )
    for model, kind in models:
        where = (model.status == "failed", _owned_by(root, model.owner_id))
        total += int(session.scalar(select(func.count(model.id)).where(*where)) or 0)
        rows: Any = session.scalars(
            select(model).where(*where).order_by(model.created_at.desc()).limit(limit)
        )
        for row in rows:
            found.append(
                Failure(kind, row.id, row.title, row.error, row.created_at, row.owner.code)
            )
    found.sort(key=lambda f: f.at, reverse=True)
    return found[:limit], total


# --- Alerts: who has started playing ----------------------------------------------------------


def alert_progress(
    session: Session, broadcast: Broadcast, limit: int
) -> tuple[list[tuple[Station, list[PlayLog]]], int, int]:
    """Every station that hears the alert (its targets' subtrees, at most ``limit`` listed)
    with the play logs its agent sent for it; also how many stations in all and how many of
    them have reported playing it."""
    paths = [t.station.path for t in broadcast.targets]
    if not paths:
        return [], 0, 0
    hears = or_(*[Station.path.startswith(p, autoescape=True) for p in paths])
    total = int(session.scalar(select(func.count(Station.id)).where(hears)) or 0)
    started = int(
        session.scalar(
            select(func.count(func.distinct(PlayLog.station_id))).where(
                PlayLog.broadcast_id == broadcast.id, PlayLog.started_at.is_not(None)
            )
        )
        or 0
    )
    stations = list(
        session.scalars(select(Station).where(hears).order_by(Station.path).limit(limit))
    )
    plays: dict[int, list[PlayLog]] = defaultdict(list)
    ids = [s.id for s in stations]
    for i in range(0, len(ids), CHUNK):
        for row in session.scalars(
            select(PlayLog)
            .where(PlayLog.broadcast_id == broadcast.id, PlayLog.station_id.in_(ids[i : i + CHUNK]))
            .order_by(PlayLog.scheduled_start, PlayLog.received_at)
        ):
            plays[row.station_id].append(row)
    return [(s, plays.get(s.id, [])) for s in stations], total, started


def recent_alerts(session: Session, root: Station, limit: int) -> list[Broadcast]:
    """Alerts issued in the subtree, newest first."""
    ids = session.scalars(
        select(AuditEvent.object_id)
        .where(
            AuditEvent.action == "alert.create",
            AuditEvent.object_type == "broadcast",
            AuditEvent.station_id.in_(select(Station.id).where(in_subtree(root))),
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    wanted = [int(i) for i in ids if i and i.isdigit()]
    found = {b.id: b for b in session.scalars(select(Broadcast).where(Broadcast.id.in_(wanted)))}
    return [found[i] for i in wanted if i in found]
