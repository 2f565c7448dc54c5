"""Saving, approving and cancelling broadcasts (DESIGN.md rules 4 and 5).

:func:`save_broadcast` is the one way a broadcast is created or changed — the API and the
command line both call it. In one transaction it validates the draft, checks permissions,
refuses same-level clashes unless forced, saves, previews conflicts and rule warnings per
station and date, bumps the schedule revision of the affected subtree and writes an audit
event. Anything wrong raises a :mod:`scheduler.errors` error before the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NaiveDatetime,
    field_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from scheduler import audit, permissions
from scheduler.errors import Clash, Forbidden, Invalid, NotFound, Unprocessable
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
    User,
)
from scheduler.recurrence import (
    EARLIEST,
    LATEST,
    RecurrenceError,
    local_day_window,
    occurrences,
    parse_rule,
)
from scheduler.rules import RuleWarning, check_rules
from scheduler.schedule import duration_of, tree_timelines, with_ancestors
from scheduler.stations import bump_revisions, stations_by_code, subtree
from scheduler.timeline import Entry

STREAM_SCHEMES = ("http://", "https://", "rtsp://", "rtmp://", "udp://", "rtp://", "srt://")
MAX_LISTED_CONFLICTS = 500


class BroadcastSpec(BaseModel):
    """A broadcast as an editor writes it (API.md, ``POST /api/v1/broadcasts``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=1, max_length=32)
    kind: Literal["program", "relay"]
    program: int | None = Field(None, ge=1)
    source: str | None = Field(None, max_length=32)
    stream_url: str | None = Field(None, max_length=500)
    start: NaiveDatetime | AwareDatetime
    duration_s: int | None = Field(None, ge=1, le=24 * 3600)
    rrule: str | None = Field(None, max_length=500)
    until: date | None = None
    exdates: list[date | NaiveDatetime] = Field(default_factory=list, max_length=1000)
    targets: list[str] | None = Field(None, max_length=20_000)
    priority: Literal["normal", "priority", "emergency"] = "normal"
    conflict: Literal["shift", "truncate", "skip"] | None = None
    max_delay_s: int | None = Field(None, ge=0, le=24 * 3600)
    force: bool = False

    @field_validator("exdates", mode="before")
    @classmethod
    def _exdates_keep_their_kind(cls, value: Any) -> Any:
        """ "2026-04-22" skips the day; "2026-04-22T00:00:00" skips only the midnight airing
        (pydantic alone would read the latter as a date)."""
        if not isinstance(value, list):
            return value
        return [_date_or_datetime(v) if isinstance(v, str) else v for v in value]

    @field_validator("start", "until")
    @classmethod
    def _in_calendar(cls, value: date | datetime | None) -> date | datetime | None:
        if value is not None and not EARLIEST <= _day(value) <= LATEST:
            raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year}")
        return value

    @field_validator("exdates")
    @classmethod
    def _exdates_in_calendar(cls, value: list[date | datetime]) -> list[date | datetime]:
        for item in value:
            if not EARLIEST <= _day(item) <= LATEST:
                raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year}")
        return value

    @field_validator("targets")
    @classmethod
    def _some_targets(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("give at least one station, or leave targets out for the whole area")
        return value


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _date_or_datetime(text: str) -> date | datetime | str:
    try:
        if "T" in text or " " in text.strip():
            return datetime.fromisoformat(text.strip())
        return date.fromisoformat(text.strip())
    except ValueError:
        return text  # let the field's own validation say what is wrong


@dataclass
class SaveResult:
    broadcast: Broadcast
    created: bool
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    conflicts_total: int = 0
    warnings: list[RuleWarning] = field(default_factory=list)


def spec_of(broadcast: Broadcast) -> BroadcastSpec:
    """The spec that would produce this broadcast (PATCH merges into it)."""
    return BroadcastSpec(
        title=broadcast.title,
        owner=broadcast.owner.code,
        kind=broadcast.kind.value,
        program=broadcast.program_id,
        source=broadcast.source.code if broadcast.source else None,
        stream_url=broadcast.stream_url,
        start=broadcast.start_local,
        duration_s=broadcast.duration_s,
        rrule=broadcast.rrule,
        until=broadcast.until,
        exdates=sorted(broadcast.exdates, key=str),
        targets=broadcast.target_codes,
        priority=broadcast.priority.value,
        conflict=broadcast.conflict.value,
        max_delay_s=broadcast.max_delay_s,
        force=broadcast.forced,
    )


def save_broadcast(
    session: Session,
    settings: Settings,
    actor: User,
    spec: BroadcastSpec,
    now: datetime,
    existing: Broadcast | None = None,
) -> SaveResult:
    """Create (or, with ``existing``, change) a broadcast. See the module docstring."""
    if existing is not None and existing.status == BroadcastStatus.cancelled:
        raise Unprocessable("this broadcast is cancelled; create a new one")
    owner = stations_by_code(session, [spec.owner], "owner")[0]
    targets = stations_by_code(session, spec.targets or [owner.code], "targets")
    permissions.require_schedule(actor, owner, targets)
    for target in targets:
        if not owner.contains(target):
            raise Forbidden(
                f"targets: station {target.code} is outside the owner's area ({owner.code})",
                "targets",
            )
    # A target inside another target's subtree adds nothing: keep the outermost ones.
    targets = [t for t in targets if not any(o is not t and o.contains(t) for o in targets)]
    if existing is not None:
        permissions.require_schedule(actor, existing.owner, [])
    start_local = _local_start(spec.start, owner)
    what = _what(session, spec, owner)
    conflict = spec.conflict or ("truncate" if spec.kind == "relay" else "shift")
    if spec.kind == "relay" and conflict == "shift":
        raise Invalid(
            "conflict: a live relay cannot be moved in time; use truncate or skip", "conflict"
        )
    _check_recurrence(spec, start_local)

    broadcast = existing or Broadcast(created_at=now, created_by_id=actor.id)
    old_targets = [t.station for t in broadcast.targets]
    broadcast.title = spec.title
    broadcast.owner = owner
    broadcast.kind = Kind(spec.kind)
    broadcast.program = what.program
    broadcast.source = what.source
    broadcast.stream_url = what.stream_url
    broadcast.start_local = start_local
    broadcast.timezone = owner.timezone
    broadcast.duration_s = spec.duration_s if spec.kind == "relay" else None
    broadcast.rrule = spec.rrule or None
    broadcast.until = spec.until
    broadcast.priority = Priority(spec.priority)
    broadcast.conflict = ConflictPolicy(conflict)
    broadcast.max_delay_s = (
        spec.max_delay_s if spec.max_delay_s is not None else settings.default_max_delay_s
    )
    broadcast.forced = spec.force
    broadcast.updated_at = now
    broadcast.targets = [BroadcastTarget(station=t) for t in targets]
    broadcast.exceptions = [_exception(x) for x in spec.exdates]
    approved = permissions.can_approve(actor, owner)
    broadcast.status = BroadcastStatus.approved if approved else BroadcastStatus.pending
    broadcast.approved_by_id = actor.id if approved else None
    broadcast.approved_at = now if approved else None
    if existing is None:
        session.add(broadcast)
    session.flush()

    clashes = find_clashes(session, settings, broadcast, now)
    if clashes and not spec.force:
        raise Clash(
            f"this broadcast collides with {len(clashes)} airing(s) of the same level and "
            "class; change the time or targets, or save with force",
            clashes=clashes,
        )
    result = SaveResult(broadcast=broadcast, created=existing is None)
    _preview(session, settings, broadcast, now, result)
    bump_revisions(session, [*targets, *old_targets])
    audit.record(
        session,
        now,
        actor,
        "broadcast.create" if existing is None else "broadcast.update",
        broadcast,
        owner.id,
        title=broadcast.title,
        status=broadcast.status.value,
        forced=bool(clashes and spec.force),
    )
    return result


@dataclass
class _What:
    program: Program | None = None
    source: Station | None = None
    stream_url: str | None = None


def _what(session: Session, spec: BroadcastSpec, owner: Station) -> _What:
    """Check what is to be aired: a rendered, approved programme, or a relayable stream."""
    if spec.kind == "program":
        if spec.program is None:
            raise Invalid("program: a programme broadcast needs the id of a programme", "program")
        if spec.source or spec.stream_url or spec.duration_s:
            raise Invalid(
                "duration_s: a programme lasts as long as its audio; source, stream_url and "
                "duration_s are for relays",
                "duration_s",
            )
        program = session.get(Program, spec.program)
        if program is None:
            raise Invalid(f"program: there is no programme {spec.program}", "program")
        if not program.owner.path.startswith(owner.path) and not owner.path.startswith(
            program.owner.path
        ):
            raise Forbidden(f"program: programme {program.id} belongs to another area", "program")
        if program.status != "ready" or not program.duration_ms:
            raise Unprocessable(
                f"program: programme {program.id} is not rendered yet ({program.status})", "program"
            )
        unapproved = [
            i.segment_id for i in program.items if i.segment and not i.segment.approved_at
        ]
        if unapproved:
            listed = ", ".join(str(s) for s in unapproved)
            raise Unprocessable(
                f"program: programme {program.id} has unapproved segments ({listed})", "program"
            )
        return _What(program=program)
    if not spec.duration_s:
        raise Invalid("duration_s: a relay needs its length in seconds", "duration_s")
    if spec.program is not None:
        raise Invalid("program: a relay airs a live stream, not a programme", "program")
    source = stations_by_code(session, [spec.source], "source")[0] if spec.source else None
    stream_url = spec.stream_url or None
    if stream_url and not stream_url.lower().startswith(STREAM_SCHEMES):
        raise Invalid(
            "stream_url: must be an http(s), rtsp, rtmp, udp, rtp or srt URL", "stream_url"
        )
    if source is None and stream_url is None:
        raise Invalid("source: a relay needs a source station or a stream_url", "source")
    if source is not None and stream_url is None and not source.stream_url:
        raise Invalid(f"source: station {source.code} has no stream URL; give stream_url", "source")
    return _What(source=source, stream_url=stream_url)


def _local_start(start: datetime, owner: Station) -> datetime:
    """Starts are wall-clock times in the owner's zone; an offset given is converted to it."""
    if start.tzinfo is not None:
        start = start.astimezone(ZoneInfo(owner.timezone))
    return start.replace(tzinfo=None, microsecond=0)


def _check_recurrence(spec: BroadcastSpec, start_local: datetime) -> None:
    if spec.until is not None and spec.until < start_local.date():
        raise Invalid("until: the last day is before the first airing", "until")
    if spec.rrule:
        try:
            parse_rule(spec.rrule, start_local, spec.until)
        except RecurrenceError as exc:
            raise Invalid(f"rrule: {exc}", "rrule") from exc


def _exception(value: date | datetime) -> BroadcastException:
    if isinstance(value, datetime):
        return BroadcastException(at_local=value.replace(tzinfo=None))
    return BroadcastException(on_date=value)


def affected_stations(session: Session, broadcast: Broadcast) -> list[Station]:
    """Every station that hears the broadcast (the subtrees of its targets)."""
    seen: dict[str, Station] = {}
    for target in broadcast.targets:
        for station in subtree(session, target.station):
            seen[station.code] = station
    return list(seen.values())


def _horizon(broadcast: Broadcast, now: datetime, days: int) -> tuple[datetime, datetime]:
    first = max(broadcast.start_local.date(), now.astimezone(ZoneInfo(broadcast.timezone)).date())
    return local_day_window(first, first + timedelta(days=days - 1), broadcast.timezone)


def find_clashes(
    session: Session, settings: Settings, broadcast: Broadcast, now: datetime
) -> list[dict[str, Any]]:
    """Airings of other broadcasts with the same owner level and class that overlap this
    one's at a station both reach (within the clash horizon). Precedence would settle them
    by creation order alone — usually a mistake an editor wants to hear about."""
    duration = duration_of(broadcast)
    if duration is None:
        return []
    window = _horizon(broadcast, now, settings.clash_horizon_days)
    mine = _spans(broadcast, duration, window)
    if not mine:
        return []
    paths = [t.station.path for t in broadcast.targets]
    candidates = session.scalars(
        select(Broadcast)
        .join(Station, Broadcast.owner_id == Station.id)
        .where(Station.depth == broadcast.owner.depth)
        .where(Broadcast.id != broadcast.id)
        .where(Broadcast.priority == broadcast.priority)
        .where(Broadcast.status != BroadcastStatus.cancelled)
    )
    clashes = []
    for other in candidates:
        shared = _shared_station(paths, [t.station for t in other.targets])
        other_duration = duration_of(other)
        if shared is None or other_duration is None:
            continue
        theirs = _spans(other, other_duration, window)
        for start, end in mine:
            hit = next((s for s, e in theirs if s < end and e > start), None)
            if hit is not None:
                local = start.astimezone(ZoneInfo(broadcast.timezone))
                clashes.append(
                    {"station": shared, "start": local, "with": other.id, "title": other.title}
                )
                break
    return clashes


def _spans(
    broadcast: Broadcast, duration: timedelta, window: tuple[datetime, datetime]
) -> list[tuple[datetime, datetime]]:
    return occurrences(
        broadcast.start_local,
        broadcast.timezone,
        duration,
        broadcast.rrule,
        broadcast.until,
        broadcast.exdates,
        *window,
    )


def _shared_station(paths: list[str], others: list[Station]) -> str | None:
    """The deepest station both target sets reach, if any (one target contains the other)."""
    for path in paths:
        for other in others:
            if other.path.startswith(path):
                return other.code
            if path.startswith(other.path):
                return path.rstrip("/").rsplit("/", 1)[-1]
    return None


def _preview(
    session: Session, settings: Settings, broadcast: Broadcast, now: datetime, result: SaveResult
) -> None:
    """Resolve the affected stations over the preview days: what this broadcast loses or
    displaces, and which station rules it breaks."""
    window = _horizon(broadcast, now, settings.conflict_preview_days)
    stations = affected_stations(session, broadcast)
    timelines = tree_timelines(
        session,
        with_ancestors(session, stations),
        window,
        timedelta(seconds=settings.min_fragment_s),
        extra=broadcast,
    )
    conflicts = []
    for station in stations:
        entries = timelines.get(station.code, [])
        for entry in entries:
            mine = entry.occurrence.broadcast == broadcast.id
            if entry.outcome == "scheduled" or not (mine or entry.by == broadcast.id):
                continue
            conflicts.append(_conflict(station, entry, broadcast.id))
        result.warnings.extend(check_rules(station, entries, broadcast.id, settings.session_gap_s))
    result.conflicts_total = len(conflicts)
    result.conflicts = conflicts[:MAX_LISTED_CONFLICTS]


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


def get_broadcast(session: Session, broadcast_id: int) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise NotFound(f"there is no broadcast {broadcast_id}")
    return broadcast


def approve(session: Session, actor: User, broadcast: Broadcast, now: datetime) -> None:
    permissions.require_approve(actor, broadcast.owner)
    if broadcast.status == BroadcastStatus.cancelled:
        raise Unprocessable("a cancelled broadcast cannot be approved")
    if broadcast.kind == Kind.program and broadcast.program is not None:
        unapproved = [i for i in broadcast.program.items if i.segment and not i.segment.approved_at]
        if unapproved:
            raise Unprocessable("program: the programme has unapproved segments", "program")
    if broadcast.status != BroadcastStatus.approved:
        broadcast.status = BroadcastStatus.approved
        broadcast.approved_by_id = actor.id
        broadcast.approved_at = now
        bump_revisions(session, [t.station for t in broadcast.targets])
        audit.record(session, now, actor, "broadcast.approve", broadcast, broadcast.owner_id)


def cancel(session: Session, actor: User, broadcast: Broadcast, now: datetime) -> None:
    """Cancel: the broadcast leaves every timeline; its record and history stay."""
    permissions.require_schedule(actor, broadcast.owner, [])
    if actor.role.value == "operator" and broadcast.owner_id != actor.station_id:
        raise Forbidden("an operator cancels only their own station's broadcasts")
    if broadcast.status != BroadcastStatus.cancelled:
        broadcast.status = BroadcastStatus.cancelled
        broadcast.cancelled_at = now
        bump_revisions(session, [t.station for t in broadcast.targets])
        audit.record(session, now, actor, "broadcast.cancel", broadcast, broadcast.owner_id)
