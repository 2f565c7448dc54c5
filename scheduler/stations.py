"""The station tree: importing directories, subtree queries, schedule revisions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from config.directory import MAPS, StationNode, read_directory
from scheduler import audit
from scheduler.errors import Forbidden, Invalid, NotFound
from scheduler.models import Role, Station, User


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    total: int


def import_directory(
    session: Session,
    source: str | Path,
    now: datetime,
    timezone: str = "Asia/Ho_Chi_Minh",
    actor: str = "cli",
    province: str | None = None,
) -> ImportReport:
    """Create or update stations from a directory; existing codes keep their rules and tokens.

    Parents come before children in the directory, so each parent is known when its children
    arrive. Re-importing is harmless: names and parents are refreshed, nothing is duplicated.
    A bundled map (``ha-nam-2024``, ``vn-2025``) marks its stations with the map they belong
    to; ``province`` imports one province of it.
    """
    nodes = read_directory(source, province)
    admin_map = MAPS.get(str(source))
    existing = {s.code: s for s in session.scalars(select(Station))}
    created = updated = 0
    moved: list[Station] = []
    for node in nodes:
        parent = existing.get(node.parent) if node.parent else None
        path = (parent.path if parent else "") + node.code + "/"
        station = existing.get(node.code)
        taken = station is not None and station.retired_on is not None
        if taken and admin_map and station is not None and station.admin_map != admin_map:
            # A retired unit of another map holds the code: its row keeps the history
            # under a suffixed code, and the code goes to the new unit.
            recode(session, station, station.code + OLD_SUFFIX)
            station = None
        if station is None:
            station = _new_station(node, parent, path, timezone)
            station.admin_map = admin_map
            session.add(station)
            existing[node.code] = station
            created += 1
            continue
        if admin_map is not None and station.admin_map != admin_map:
            if station.admin_map is not None:
                raise Invalid(
                    f"{source}: station {station.code} is {station.name} on the "
                    f"{station.admin_map} map; move a network between maps with "
                    "'loaxa stations migrate', not by importing over it",
                    "source",
                )
            station.admin_map = admin_map
        if station.path != path:
            moved.append(station)
            station.parent = parent
        if (station.name, station.level, station.path) != (node.name, node.level, path):
            station.name, station.level = node.name, node.level
            updated += 1
        _set_path(station, path)
    # Stations the file does not mention keep their parent; their paths follow a moved one.
    by_parent: dict[int | None, list[Station]] = {}
    for station in existing.values():
        by_parent.setdefault(station.parent_id, []).append(station)
    for station in moved:
        _repath_below(station, by_parent)
    session.flush()
    if moved:
        bump_revisions(session, moved)
    audit.record(
        session,
        now,
        actor,
        "stations.import",
        None,
        None,
        source=str(source),
        province=province,
        created=created,
        updated=updated,
    )
    return ImportReport(created=created, updated=updated, total=len(nodes))


def _set_path(station: Station, path: str) -> None:
    station.path, station.depth = path, path.count("/") - 1


def _repath_below(station: Station, by_parent: dict[int | None, list[Station]]) -> None:
    for child in by_parent.get(station.id, []):
        if child.parent is station or child.parent_id == station.id:
            _set_path(child, station.path + child.code + "/")
            _repath_below(child, by_parent)


def _new_station(node: StationNode, parent: Station | None, path: str, timezone: str) -> Station:
    return Station(
        code=node.code,
        name=node.name,
        level=node.level,
        parent=parent,
        path=path,
        depth=path.count("/") - 1,
        timezone=parent.timezone if parent else timezone,
        schedule_revision=1,
    )


CODE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


def get_station(session: Session, code: str) -> Station:
    station = (
        session.scalar(select(Station).where(Station.code == code)) if CODE.match(code) else None
    )
    if station is None:
        raise NotFound(f"there is no station with code {code!r}")
    return station


def stations_by_code(session: Session, codes: Iterable[str], field: str) -> list[Station]:
    """Look up several codes at once; name the first unknown one."""
    wanted = list(dict.fromkeys(codes))
    for code in wanted:
        if not isinstance(code, str) or not CODE.match(code):
            raise Invalid(f"{field}: {code!r} is not a station code", field=field)
    found = {s.code: s for s in session.scalars(select(Station).where(Station.code.in_(wanted)))}
    for code in wanted:
        if code not in found:
            raise Invalid(f"{field}: there is no station with code {code!r}", field=field)
    return [found[c] for c in wanted]


def subtree(session: Session, root: Station, retired: bool = True) -> Sequence[Station]:
    """``root`` and every station below it, parents before children; ``retired=False``
    leaves out stations retired by a move between maps (for pickers: they take nothing new)."""
    query = select(Station).where(Station.path.startswith(root.path, autoescape=True))
    if not retired:
        query = query.where(Station.retired_on.is_(None))
    return session.scalars(query.order_by(Station.depth, Station.code)).all()


def bump_revisions(session: Session, roots: Iterable[Station]) -> None:
    """Every station below these roots has a new schedule (its manifest ETag changes)."""
    paths: list[str] = []
    for path in sorted({r.path for r in roots}):  # a parent sorts before its children
        if not paths or not path.startswith(paths[-1]):
            paths.append(path)  # only the outermost: the prefix covers what lies below
    # A move between maps bumps thousands of roots: a bounded OR per statement (SQLite
    # refuses expressions deeper than 1,000).
    for chunk in range(0, len(paths), BUMP_CHUNK):
        prefixes = [Station.path.startswith(p, autoescape=True) for p in paths[chunk:][:BUMP_CHUNK]]
        session.execute(
            update(Station)
            .where(or_(*prefixes))
            .values(schedule_revision=Station.schedule_revision + 1)
            .execution_options(synchronize_session=False)
        )
    if paths:
        session.expire_all()


BUMP_CHUNK = 200


# --- Station rules (docs/architecture.md rule 5), set by an admin from the panel ---------

MAX_SESSIONS_PER_DAY = 48
MAX_MINUTES_PER_SESSION = 24 * 60


def set_station_rules(
    session: Session,
    now: datetime,
    actor: User,
    station: Station,
    windows: str,
    max_sessions: int | None,
    max_minutes: int | None,
) -> bool:
    """Change a station's allowed windows and caps (admins, inside their area); the windows
    are checked and stored in one spelling, ``05:00-07:00,16:30-19:00``. Rules only warn at
    scheduling time, so timelines (and manifests) do not change. True when anything did."""
    from scheduler.rules import RuleSyntaxError, parse_windows

    if actor.role != Role.admin:
        raise Forbidden("only admins change a station's rules")
    if not station.path.startswith(actor.station.path):
        raise Forbidden(f"station {station.code} is outside your area")
    try:
        parsed = parse_windows(windows)
    except RuleSyntaxError as exc:
        raise Invalid(f"allowed_windows: {exc}", "allowed_windows") from None
    spelled = ",".join(f"{a:%H:%M}-{'24:00' if b == time.max else f'{b:%H:%M}'}" for a, b in parsed)
    for name, value, top in (
        ("max_sessions_per_day", max_sessions, MAX_SESSIONS_PER_DAY),
        ("max_minutes_per_session", max_minutes, MAX_MINUTES_PER_SESSION),
    ):
        if value is not None and not 1 <= value <= top:
            raise Invalid(f"{name}: must be between 1 and {top}", name)
    before = (
        station.allowed_windows,
        station.max_sessions_per_day,
        station.max_minutes_per_session,
    )
    after = (spelled or None, max_sessions, max_minutes)
    if before == after:
        return False
    station.allowed_windows, station.max_sessions_per_day, station.max_minutes_per_session = after
    audit.record(
        session,
        now,
        actor,
        "station.rules",
        station,
        station.id,
        allowed_windows=after[0],
        max_sessions_per_day=max_sessions,
        max_minutes_per_session=max_minutes,
        before=list(before),
    )
    return True


def retire(session: Session, station: Station, on: date, now: datetime, actor: str) -> bool:
    """From ``on`` no new broadcast may target the station; its history and reports stay.
    False when it was already retired on that day (nothing to do)."""
    if station.retired_on == on:
        return False
    before = station.retired_on
    station.retired_on = on
    bump_revisions(session, [station])
    audit.record(
        session,
        now,
        actor,
        "station.retire",
        station,
        station.id,
        code=station.code,
        on=on.isoformat(),
        before=before.isoformat() if before else None,
    )
    return True


OLD_SUFFIX = "-2024"  # a retired 2024 station's code, once the 2025 map gives it to another


def recode(session: Session, station: Station, code: str) -> None:
    """Give up a code to the unit that now takes it; the paths below follow."""
    station.code = code
    head = station.path.rsplit("/", 2)[0]
    repath(session, station, (head + "/" if head else "") + code + "/")


def repath(session: Session, station: Station, path: str) -> None:
    old = station.path
    _set_path(station, path)
    if old == path:
        return
    for child in session.scalars(select(Station).where(Station.path.startswith(old))):
        if child is not station:
            _set_path(child, path + child.path[len(old) :])
