"""What a broadcast being saved collides with (docs/architecture.md rule 4) and what it does to the
stations it reaches (conflicts per station and date, rule warnings)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from config import Settings
from scheduler.models import Broadcast, BroadcastStatus, BroadcastTarget, Station
from scheduler.recurrence import local_day_window
from scheduler.rules import RuleWarning, check_rules
from scheduler.station_timelines import expand, load_rules, rule_of, tree_timelines, with_ancestors
from scheduler.timeline import Entry

MAX_LISTED_CONFLICTS = 500
LIVE = (BroadcastStatus.pending, BroadcastStatus.approved)


def affected_stations(session: Session, broadcast: Broadcast) -> list[Station]:
    """Every station that hears the broadcast (the subtrees of its targets), in one query."""
    paths = [t.station.path for t in broadcast.targets]
    if not paths:
        return []
    return list(
        session.scalars(
            select(Station)
            .where(or_(*[Station.path.startswith(p, autoescape=True) for p in paths]))
            .order_by(Station.depth, Station.code)
        )
    )


def horizon(broadcast: Broadcast, now: datetime, days: int) -> tuple[datetime, datetime]:
    """Whole local days from the first airing (or today, if that is past) on."""
    zone = ZoneInfo(broadcast.timezone)
    first = max(broadcast.start_local.date(), now.astimezone(zone).date())
    return local_day_window(first, first + timedelta(days=days - 1), broadcast.timezone)


def find_clashes(
    session: Session, settings: Settings, broadcast: Broadcast, now: datetime
) -> list[dict[str, Any]]:
    """Airings of other live broadcasts with the same owner level and class that overlap this
    one's at a station both reach, within the clash horizon. Precedence would settle them by
    creation order alone — usually a mistake the editor wants to hear about.

    Candidates are narrowed in SQL to broadcasts targeting an ancestor of one of our targets
    or a station inside one, so the cost follows the neighbourhood, not the country.
    """
    window = horizon(broadcast, now, settings.clash_horizon_days)
    mine = [(o.start, o.end) for o in expand(rule_of(broadcast), window)]
    if not mine:
        return []
    my_paths = [t.station.path for t in broadcast.targets]
    above = {p[: i + 1] for p in my_paths for i, ch in enumerate(p) if ch == "/"}
    near = (
        select(BroadcastTarget.broadcast_id, Station.code, Station.path)
        .join(Station, BroadcastTarget.station_id == Station.id)
        .join(Broadcast, BroadcastTarget.broadcast_id == Broadcast.id)
        .where(Broadcast.id != broadcast.id, Broadcast.priority == broadcast.priority)
        .where(Broadcast.status.in_(LIVE))
        .where(
            or_(
                Station.path.in_(above),
                *[Station.path.startswith(p, autoescape=True) for p in my_paths],
            )
        )
    )
    shared: dict[int, str] = {}
    for other_id, code, path in session.execute(near):
        shared.setdefault(other_id, _shared_station(my_paths, code, path))
    if not shared:
        return []
    only = (
        select(Broadcast.id)
        .join(Station, Broadcast.owner_id == Station.id)
        .where(Broadcast.id.in_(list(shared)), Station.depth == broadcast.owner.depth)
    )
    zone = ZoneInfo(broadcast.timezone)
    clashes = []
    for rule in load_rules(session, window, statuses=LIVE, only=only):
        theirs = [(o.start, o.end) for o in expand(rule, window)]
        hit = _first_overlap(mine, theirs)
        if hit is not None:
            clashes.append(
                {
                    "station": shared[rule.airing.broadcast],
                    "start": hit.astimezone(zone),
                    "with": rule.airing.broadcast,
                    "title": rule.airing.title,
                }
            )
    return sorted(clashes, key=lambda c: (c["start"], c["with"]))


def _shared_station(my_paths: list[str], code: str, path: str) -> str:
    """The deepest station both reach: theirs if it lies inside one of ours, else ours."""
    for mine in my_paths:
        if path.startswith(mine):
            return code
    deepest = max((p for p in my_paths if p.startswith(path)), key=len)
    return deepest.rstrip("/").rsplit("/", 1)[-1]


def _first_overlap(
    mine: list[tuple[datetime, datetime]], theirs: list[tuple[datetime, datetime]]
) -> datetime | None:
    """Start of our first airing that overlaps one of theirs (both lists sorted by start)."""
    j = 0
    for start, end in mine:
        while j < len(theirs) and theirs[j][1] <= start:
            j += 1
        if j < len(theirs) and theirs[j][0] < end:
            return start
    return None


def preview(
    session: Session, settings: Settings, broadcast: Broadcast, now: datetime
) -> tuple[list[dict[str, Any]], int, list[RuleWarning]]:
    """Resolve the affected stations over the preview days: what this broadcast loses or
    displaces (one line per station and airing) and which station rules it breaks."""
    window = horizon(broadcast, now, settings.conflict_preview_days)
    stations = affected_stations(session, broadcast)
    timelines = tree_timelines(
        session,
        with_ancestors(session, stations),
        window,
        timedelta(seconds=settings.min_fragment_s),
        extra=broadcast,
    )
    conflicts: dict[tuple[str, int, datetime], dict[str, Any]] = {}
    warnings: list[RuleWarning] = []
    for station in stations:
        entries = timelines.get(station.code, [])
        for entry in entries:
            mine = entry.occurrence.broadcast == broadcast.id
            if entry.outcome == "scheduled" or not (mine or entry.by == broadcast.id):
                continue
            key = (station.code, entry.occurrence.broadcast, entry.occurrence.start)
            conflicts.setdefault(key, _conflict(station, entry, broadcast.id))  # first part only
        warnings.extend(check_rules(station, entries, broadcast.id, settings.session_gap_s))
    listed = list(conflicts.values())
    return listed[:MAX_LISTED_CONFLICTS], len(listed), warnings


def _conflict(station: Station, entry: Entry, broadcast_id: int) -> dict[str, Any]:
    mine = entry.occurrence.broadcast == broadcast_id
    zone = ZoneInfo(station.timezone)
    start = entry.occurrence.start.astimezone(zone)
    return {
        "station": station.code,
        "date": start.date().isoformat(),
        "start": start,
        "broadcast": entry.occurrence.broadcast,
        "with": entry.by if mine else entry.occurrence.broadcast,
        "outcome": entry.outcome,
        "new_start": entry.start.astimezone(zone),
        "new_end": entry.end.astimezone(zone),
    }
