"""Moving a live network from the 2024 map onto the 2025 one (``loaxa stations migrate``).

A plan is worked out first and changes nothing; applying it is one transaction.

- A 2024 commune whose code the 2025 map gives to one of its successors **continues**: the same
  row (its agent token, rules, stream, users and history) takes the new name and moves under
  the new province. Every other 2024 unit is **retired** on the day of the move and linked to
  what it became — merged (several into one), split (one into several, one the default, the
  others for a human to confirm), a district (district radio ended: its successor is the
  province) — and gives up its code with a ``-2024`` suffix if a 2025 unit takes it.
- 2025 units nobody continues are created, airing from the day of the move.
- Broadcasts keep their past: retired targets stay on them (a retired station stops airing on
  the day it retires) and their successors are added, so the same communes hear the same
  airings at the same times; an owner or relay source that retired passes to its successor.
- Users, bulletins, programmes and alerts of a retired station pass to its default successor.
- Play logs stay where they were recorded; a successor reaches its predecessors' through the
  succession records, which keep the old name, level and parent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from config.map2025 import Mapping, Unit
from scheduler import audit
from scheduler.errors import Invalid
from scheduler.models import (
    Alert,
    Broadcast,
    BroadcastStatus,
    BroadcastTarget,
    Program,
    Segment,
    Station,
    StationSuccession,
    User,
)
from scheduler.stations import OLD_SUFFIX, bump_revisions, recode, repath


@dataclass
class StationStep:
    """What happens to one 2024 station."""

    station: Station
    kind: str  # continue | merge | split | district | province | unknown
    successors: list[str]  # 2025 codes, the heir first (the row itself when it is kept)
    keeps: bool = False  # the row goes on as the 2025 unit with its code

    @property
    def needs_choice(self) -> bool:
        return self.kind in ("split", "unknown")


@dataclass
class BroadcastStep:
    broadcast: Broadcast
    owner: str | None  # the new owner's code, when it changes
    source: str | None  # the new relay source's code, when it changes
    added: list[str]  # successor codes added to the targets
    choices: list[str]  # targets that were split: the default was added, a human confirms
    stopped_source: str | None = None  # a district's own programme, its stream kept as is


@dataclass
class Plan:
    on: date
    steps: list[StationStep] = field(default_factory=list)
    creates: list[Unit] = field(default_factory=list)
    broadcasts: list[BroadcastStep] = field(default_factory=list)
    users: list[tuple[User, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing would change (a second run, or only units the mapping does not know)."""
        return all(s.kind == "unknown" for s in self.steps)

    def count(self, kind: str) -> int:
        return sum(1 for s in self.steps if s.kind == kind)


def _candidates(session: Session, mapping: Mapping) -> list[Station]:
    """Live stations of the 2024 map: marked so, or unmarked with a 2024 code (a tree
    imported before stations knew their map)."""
    rows = session.scalars(
        select(Station).where(Station.retired_on.is_(None)).order_by(Station.depth, Station.code)
    ).all()
    out: list[Station] = []
    codes: set[str] = set()
    for station in rows:
        if station.admin_map == "2025":
            continue
        known = (
            station.code in mapping.provinces
            if station.level == "province"
            else station.code in mapping.communes
            if station.level == "commune"
            else station.parent is not None and station.parent.code in codes
        )
        if station.admin_map == "2024" or known:
            out.append(station)
            codes.add(station.code)
    return out


def plan(session: Session, mapping: Mapping, on: date) -> Plan:
    """What moving onto the 2025 map would do; nothing is changed."""
    result = Plan(on)
    old = _candidates(session, mapping)
    if not old:
        return result
    province_of: dict[str, str] = {}  # old station code → its 2024 province code
    for station in old:
        province_of[station.code] = station.ancestor_codes[0]
    existing = {s.code: s for s in session.scalars(select(Station))}
    for station in old:
        if station.level == "province":
            new = mapping.provinces.get(station.code)
            if new is None:
                result.steps.append(StationStep(station, "unknown", []))
            else:
                keeps = new == station.code
                kind = "continue" if keeps else "province"
                result.steps.append(StationStep(station, kind, [new], keeps))
        elif station.level == "district":
            new = mapping.provinces.get(province_of[station.code])
            result.steps.append(StationStep(station, "district", [new] if new else []))
        else:
            pieces = sorted(mapping.communes.get(station.code, []), key=lambda p: not p[1])
            codes = list(dict.fromkeys(code for code, _default in pieces))
            if not codes:
                result.steps.append(StationStep(station, "unknown", []))
            elif station.code in codes:  # the row goes on as the unit with its code
                codes.remove(station.code)
                kind = "continue" if not codes else "split"
                result.steps.append(StationStep(station, kind, [station.code, *codes], True))
            else:
                kind = "merge" if len(codes) == 1 else "split"
                result.steps.append(StationStep(station, kind, codes))
    continuing = {s.station.code for s in result.steps if s.keeps}
    for step in result.steps:
        for code in step.successors:
            row = existing.get(code)
            stuck = row is not None and code not in continuing and row.admin_map != "2025"
            if stuck and not any(s.station is row and not s.keeps for s in result.steps):
                assert row is not None
                raise Invalid(
                    f"station {code} ({row.name}) holds the code the 2025 map gives to "
                    f"{mapping.units[code].name}; retire or recode it first",
                    "code",
                )
    wanted: set[str] = set()
    for step in result.steps:
        wanted.update(step.successors)
        for code in step.successors:
            unit = mapping.units.get(code)
            if unit is not None and unit.province:
                wanted.add(unit.province)
    for code in sorted(wanted, key=lambda c: (len(c), c)):
        row = existing.get(code)
        if row is None or (code not in continuing and row.admin_map != "2025"):
            result.creates.append(mapping.units[code])
    default = {s.station.id: s.successors[0] for s in result.steps if s.successors}
    result.users = [
        (user, default[user.station_id])
        for user in session.scalars(select(User).order_by(User.username))
        if user.station_id in default and default[user.station_id] != user.station.code
    ]
    result.broadcasts = _broadcast_steps(session, result, mapping)
    return result


def _audiences(steps: Sequence[StationStep]) -> dict[int, list[str]]:
    """For each 2024 station, the 2025 communes that now hear what its subtree heard (each
    commune's heir, gathered up its ancestors in one pass)."""
    by_code = {s.station.code: s.station.id for s in steps}
    out: dict[int, list[str]] = defaultdict(list)
    for step in steps:
        if step.station.level != "commune" or not step.successors:
            continue
        heir = step.successors[0]
        for code in step.station.ancestor_codes:
            if code in by_code:
                out[by_code[code]].append(heir)
    return {key: list(dict.fromkeys(codes)) for key, codes in out.items()}


def _broadcast_steps(session: Session, result: Plan, mapping: Mapping) -> list[BroadcastStep]:
    steps = {s.station.id: s for s in result.steps}
    audiences = _audiences(result.steps)
    moving = {i for i, s in steps.items() if s.successors and not s.keeps}
    split_kept = {i for i, s in steps.items() if s.keeps and s.kind == "split"}
    out = []
    live = session.scalars(
        select(Broadcast)
        .where(Broadcast.status != BroadcastStatus.cancelled)
        .where((Broadcast.until.is_(None)) | (Broadcast.until >= result.on))
        .order_by(Broadcast.id)
    ).all()
    for broadcast in live:
        touched = [t.station for t in broadcast.targets if t.station_id in moving]
        choices = [t.station.code for t in broadcast.targets if t.station_id in split_kept]
        owner_moves = broadcast.owner_id in moving and steps[broadcast.owner_id].successors
        source_moves = broadcast.source_id in moving and steps[broadcast.source_id].successors
        if not touched and not owner_moves and not source_moves and not choices:  # untouched
            continue
        added: list[str] = []
        have = set(broadcast.target_codes)
        for station in touched:
            step = steps[station.id]
            if step.kind == "split":
                choices.append(station.code)
            added += [c for c in audiences.get(station.id, []) if c not in have and c not in added]
        owner = steps[broadcast.owner_id].successors[0] if owner_moves else None
        source = stopped = None
        if source_moves and broadcast.source_id is not None:
            step = steps[broadcast.source_id]
            if step.kind == "province":  # the provincial station goes on as the new one's
                source = step.successors[0]
            else:  # a district's (or commune's) own programme: not the province's to air
                stopped = step.station.code
        out.append(BroadcastStep(broadcast, owner, source, added, choices, stopped))
    return out


def apply(session: Session, result: Plan, mapping: Mapping, now: datetime, actor: str) -> None:
    """Carry the plan out inside the caller's transaction (nothing half-moved on failure)."""
    on = result.on
    by_code: dict[str, Station] = {}
    # Codes the 2025 map gives to other units: the retired rows holding them step aside.
    created_codes = {u.code for u in result.creates}
    for step in result.steps:
        row = step.station
        if not step.keeps and row.code in created_codes:
            recode(session, row, row.code + OLD_SUFFIX)
    for step in result.steps:  # successors first: provinces, then communes
        if step.keeps:
            by_code[step.station.code] = step.station
    for unit in sorted(result.creates, key=lambda u: u.level != "province"):
        parent = by_code.get(unit.province or "") or _existing(session, unit.province)
        path = (parent.path if parent else "") + unit.code + "/"
        station = Station(
            code=unit.code,
            name=unit.name,
            level=unit.level,
            parent=parent,
            path=path,
            depth=path.count("/") - 1,
            timezone=parent.timezone if parent else "Asia/Ho_Chi_Minh",
            schedule_revision=1,
            admin_map="2025",
            active_from=on,
        )
        session.add(station)
        by_code[unit.code] = station
    session.flush()

    def successor(code: str) -> Station:
        return by_code.get(code) or _existing(session, code)  # type: ignore[return-value]

    inherits: dict[int, int] = {}  # retired station id → its heir's
    for step in result.steps:
        row = step.station
        former = (
            row.code.removesuffix(OLD_SUFFIX),
            row.name,
            row.level,
            row.parent.code if row.parent else None,
        )
        if step.keeps:
            unit = mapping.units[row.code]
            parent = successor(unit.province) if unit.province else None
            _link(session, row, row, on, True, former)
            row.name, row.level, row.admin_map = unit.name, unit.level, "2025"
            row.parent = parent
            repath(session, row, (parent.path if parent else "") + row.code + "/")
            for extra in step.successors[1:]:
                _link(session, row, successor(extra), on, False, former)
            continue
        if not step.successors:
            continue  # unknown: left on the 2024 map, listed for a human decision
        row.retired_on = on
        for index, code in enumerate(step.successors):
            _link(session, row, successor(code), on, index == 0, former)
        heir = successor(step.successors[0])
        inherits[row.id] = heir.id
        if row.level == "province" and row.stream_url and not heir.stream_url:
            heir.stream_url = row.stream_url  # its programme goes on from the new province
    # The library passes to the heirs: a few bulk statements, not one per station.
    heir_of = list(inherits.items())
    for model in (Segment, Program, Alert):
        for chunk in range(0, len(heir_of), 500):
            part = dict(heir_of[chunk:][:500])
            session.execute(
                update(model)
                .where(model.owner_id.in_(part))
                .values(owner_id=case(part, value=model.owner_id))
                .execution_options(synchronize_session=False)
            )
    for user, code in result.users:
        user.station = successor(code)
    for move in result.broadcasts:
        broadcast = move.broadcast
        for code in move.added:
            broadcast.targets.append(BroadcastTarget(station=successor(code)))
        if move.owner:
            broadcast.owner = successor(move.owner)
        if move.source:
            broadcast.source = successor(move.source)
        if move.stopped_source and broadcast.source and not broadcast.stream_url:
            broadcast.stream_url = broadcast.source.stream_url  # listeners hear the same
    session.flush()
    bump_revisions(session, list(by_code.values()))
    audit.record(
        session,
        now,
        actor,
        "stations.migrate",
        None,
        None,
        to="2025",
        on=on.isoformat(),
        source=mapping.source,
        continued=result.count("continue"),
        merged=result.count("merge"),
        split=result.count("split"),
        districts=result.count("district"),
        unknown=result.count("unknown"),
        created=len(result.creates),
        broadcasts=len(result.broadcasts),
        users=len(result.users),
    )


def _existing(session: Session, code: str | None) -> Station | None:
    if code is None:
        return None
    return session.scalar(select(Station).where(Station.code == code))


def _link(
    session: Session,
    old: Station,
    new: Station,
    on: date,
    default: bool,
    former: tuple[str, str, str, str | None],
) -> None:
    code, name, level, parent = former
    session.add(
        StationSuccession(
            predecessor=old,
            successor=new,
            effective=on,
            is_default=default,
            former_code=code,
            former_name=name,
            former_level=level,
            former_parent=parent,
        )
    )


def successions(session: Session, station: Station) -> dict[str, list[StationSuccession]]:
    """What a station was before the move (``before``) and what it became (``after``)."""
    found: dict[str, list[StationSuccession]] = defaultdict(list)
    rows = session.scalars(
        select(StationSuccession).where(
            (StationSuccession.successor_id == station.id)
            | (StationSuccession.predecessor_id == station.id)
        )
    )
    for row in rows:
        if row.successor_id == station.id:
            found["before"].append(row)
        if row.predecessor_id == station.id and row.successor_id != station.id:
            found["after"].append(row)
    return found
