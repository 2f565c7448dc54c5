"""Saving, approving and cancelling broadcasts (docs/architecture.md rules 4 and 5).

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
from scheduler.conflicts import find_clashes, preview
from scheduler.db import MAX_ID
from scheduler.errors import Clash, DomainError, Forbidden, Invalid, NotFound, Unprocessable
from scheduler.models import (
    Alert,
    AlertState,
    Broadcast,
    BroadcastException,
    BroadcastStatus,
    BroadcastTarget,
    ConflictPolicy,
    Kind,
    Priority,
    Program,
    ProgramStatus,
    Station,
    User,
)
from scheduler.programs import unapproved_segments
from scheduler.recurrence import (
    EARLIEST,
    LATEST,
    RecurrenceError,
    check_rule,
)
from scheduler.rules import RuleWarning
from scheduler.station_timelines import next_airing, rule_of
from scheduler.stations import bump_revisions, stations_by_code
from scheduler.timeline import Occurrence

STREAM_SCHEMES = ("http://", "https://", "rtsp://", "rtmp://", "udp://", "rtp://", "srt://")


class BroadcastSpec(BaseModel):
    """A broadcast as an editor writes it (docs/api.md, ``POST /api/v1/broadcasts``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=300)
    owner: str = Field(min_length=1, max_length=32)
    kind: Literal["program", "relay"]
    program: int | None = Field(None, ge=1, le=MAX_ID)
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
    first_airing: Occurrence | None = None  # the next airing still to come (or on air)
    revised: bool = False  # kept as a pending revision; the approved version stays on air


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
    )


def _timing(spec: BroadcastSpec) -> tuple[object, ...]:
    """What decides where and when a broadcast airs (and so whom it may clash with)."""
    return (
        spec.owner,
        spec.kind,
        spec.program,
        spec.start,
        spec.duration_s,
        spec.rrule,
        spec.until,
        sorted(map(str, spec.exdates)),
        sorted(spec.targets or []),
        spec.priority,
    )


def save_broadcast(
    session: Session,
    settings: Settings,
    actor: User,
    spec: BroadcastSpec,
    now: datetime,
    existing: Broadcast | None = None,
) -> SaveResult:
    """Create (or, with ``existing``, change) a broadcast. See the module docstring.

    On any refusal the session is rolled back, so a caller cannot commit half a change.

    A change to an approved broadcast by someone who may not approve it is kept as a pending
    revision beside it (:func:`_propose`): what is on air stays on air until an approver
    accepts the change.
    """
    try:
        if existing is not None and (
            needs_revision(actor, existing) or _waits_for_bulletins(session, spec, existing)
        ):
            return _propose(session, settings, actor, spec, now, existing)
        result = _save(session, settings, actor, spec, now, existing)
        if existing is not None:
            _drop_revision(existing)  # an approver's own change replaces any waiting one
        return result
    except DomainError:
        session.rollback()
        raise


def needs_revision(actor: User, existing: Broadcast) -> bool:
    """Would this user's change to this broadcast wait beside it (rather than replace it)?"""
    return existing.status == BroadcastStatus.approved and not permissions.can_approve(
        actor, existing.owner
    )


def _waits_for_bulletins(session: Session, spec: BroadcastSpec, existing: Broadcast) -> bool:
    """An approved broadcast switched to a programme whose bulletins are not all approved
    yet: the switch waits too (saving it would take the approved version off air)."""
    if existing.status != BroadcastStatus.approved or spec.kind != "program" or not spec.program:
        return False
    program = session.get(Program, spec.program) if spec.program <= MAX_ID else None
    return _has_unapproved(program)


def _has_unapproved(program: Program | None) -> bool:
    """A bulletin nobody has approved must not reach the air through a programme."""
    return program is not None and bool(unapproved_segments(program))


def _propose(
    session: Session,
    settings: Settings,
    actor: User,
    spec: BroadcastSpec,
    now: datetime,
    existing: Broadcast,
) -> SaveResult:
    """Check the change exactly as a save would (clashes refused unless forced, conflicts
    and warnings previewed), undo it, and keep it as the broadcast's pending revision."""
    broadcast_id = existing.id
    try:
        seen = _save(session, settings, actor, spec, now, existing)
        checked = (seen.conflicts, seen.conflicts_total, seen.warnings, seen.first_airing)
    finally:
        session.rollback()  # the caller's session holds nothing else (as for a preview)
    broadcast = get_broadcast(session, broadcast_id)
    broadcast.revision = spec.model_dump(mode="json")
    broadcast.revision_by_id = actor.id
    broadcast.revision_at = now
    audit.record(
        session,
        now,
        actor,
        "broadcast.revise",
        broadcast,
        broadcast.owner_id,
        title=spec.title,
        status="pending",
    )
    conflicts, total, warnings, first = checked
    return SaveResult(
        broadcast=broadcast,
        created=False,
        conflicts=conflicts,
        conflicts_total=total,
        warnings=warnings,
        first_airing=first,
        revised=True,
    )


def revision_of(broadcast: Broadcast) -> BroadcastSpec | None:
    """The change waiting for approval, as the spec it would save (None: nothing waits)."""
    if not broadcast.revision:
        return None
    return BroadcastSpec.model_validate(broadcast.revision)


def _drop_revision(broadcast: Broadcast) -> None:
    broadcast.revision = None
    broadcast.revision_by_id = None
    broadcast.revision_at = None


def _save(
    session: Session,
    settings: Settings,
    actor: User,
    spec: BroadcastSpec,
    now: datetime,
    existing: Broadcast | None,
) -> SaveResult:
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
    start_day = _local_start(spec.start, owner).date()
    kept = {t.station_id for t in existing.targets} if existing is not None else set()
    for where, station in (("owner", owner), *(("targets", t) for t in targets)):
        retired = station.retired_on if station.id not in kept else None  # a move kept it
        if retired is not None and (
            start_day >= retired or spec.until is None or spec.until >= retired
        ):
            raise Invalid(
                f"{where}: station {station.code} ({station.name}) was retired on "
                f"{retired.isoformat()}; schedule its successor instead",
                where,
            )
    if existing is not None:
        permissions.require_schedule(actor, existing.owner, [])
    start_local = _local_start(spec.start, owner)
    what = _what(session, spec, owner)
    conflict = spec.conflict or ("truncate" if spec.kind == "relay" else "shift")
    if spec.kind == "relay" and conflict == "shift":
        raise Invalid(
            "conflict: a live relay cannot be moved in time; use truncate or skip", "conflict"
        )
    _check_recurrence(spec, start_local, what)

    # A broadcast once saved over a clash on purpose keeps that consent while its timing
    # and audience stay the same (fixing a title must not bring the 409 back).
    retimed = existing is None or _timing(spec_of(existing)) != _timing(spec)
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
    broadcast.updated_at = now
    broadcast.targets = [BroadcastTarget(station=t) for t in targets]
    broadcast.exceptions = [_exception(x) for x in spec.exdates]
    approved = permissions.can_approve(actor, owner) and not what.unapproved
    broadcast.status = BroadcastStatus.approved if approved else BroadcastStatus.pending
    broadcast.approved_by_id = actor.id if approved else None
    broadcast.approved_at = now if approved else None
    if existing is None:
        session.add(broadcast)
    session.flush()

    first = next_airing(rule_of(broadcast), now)
    if first is None and retimed:
        # Nobody schedules the past on purpose: it is a typo in the date (or an old form).
        raise Invalid("start: every airing of this broadcast is already over", "start")
    forced = spec.force or (existing is not None and existing.forced and not retimed)
    clashes = find_clashes(session, settings, broadcast, now)
    if clashes and not forced:
        raise Clash(
            f"this broadcast collides with {len(clashes)} airing(s) of the same level and "
            "class; change the time or targets, or save with force",
            clashes=clashes,
        )
    broadcast.forced = bool(clashes) and forced
    result = SaveResult(broadcast=broadcast, created=existing is None, first_airing=first)
    result.conflicts, result.conflicts_total, result.warnings = preview(
        session, settings, broadcast, now
    )
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
        forced=broadcast.forced,
    )
    return result


@dataclass
class _What:
    program: Program | None = None
    source: Station | None = None
    stream_url: str | None = None
    unapproved: list[int] = field(default_factory=list)  # the programme's segments awaiting


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
            raise Invalid(
                f"program: there is no programme {spec.program}", "program", code="program_unknown"
            )
        if not program.owner.path.startswith(owner.path) and not owner.path.startswith(
            program.owner.path
        ):
            raise Forbidden(
                f"program: programme {program.id} belongs to another area",
                "program",
                code="program_elsewhere",
            )
        if program.archived_at is not None:
            raise Unprocessable(
                f"program: programme {program.id} is archived; restore it to schedule it",
                "program",
                code="program_archived",
            )
        if program.status != ProgramStatus.ready or not program.duration_ms:
            raise Unprocessable(
                f"program: programme {program.id} is not rendered yet ({program.status})",
                "program",
                code="program_not_rendered",
            )
        # Bulletins still awaiting approval do not block scheduling: the broadcast waits
        # (pending) and airs only once they and it are approved.
        return _What(program=program, unapproved=unapproved_segments(program))
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


def _check_recurrence(spec: BroadcastSpec, start_local: datetime, what: _What) -> None:
    if spec.until is not None and spec.until < start_local.date():
        raise Invalid("until: the last day is before the first airing", "until")
    if spec.rrule:
        if what.program is not None and what.program.duration_ms:
            duration = timedelta(milliseconds=what.program.duration_ms)
        else:
            duration = timedelta(seconds=spec.duration_s or 0)
        try:
            check_rule(spec.rrule, start_local, spec.until, duration)
        except RecurrenceError as exc:
            raise Invalid(f"rrule: {exc}", "rrule", code=exc.code) from exc


def _exception(value: date | datetime) -> BroadcastException:
    if isinstance(value, datetime):
        return BroadcastException(at_local=value.replace(tzinfo=None))
    return BroadcastException(on_date=value)


def get_broadcast(session: Session, broadcast_id: int) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id) if broadcast_id <= MAX_ID else None
    if broadcast is None:
        raise NotFound(f"there is no broadcast {broadcast_id}")
    return broadcast


def approve(
    session: Session, settings: Settings, actor: User, broadcast: Broadcast, now: datetime
) -> None:
    """Approve a pending broadcast, or the revision waiting beside an approved one (which
    is then saved over it, with the approver's checks: a clash now refuses it)."""
    permissions.require_approve(actor, broadcast.owner)
    if broadcast.status == BroadcastStatus.cancelled:
        raise Unprocessable("a cancelled broadcast cannot be approved")
    revision = revision_of(broadcast)
    if revision is not None:
        held = _waits_for_bulletins(session, revision, broadcast)
    else:
        held = _has_unapproved(broadcast.program if broadcast.kind == Kind.program else None)
    if held:
        raise Unprocessable(
            "program: the programme has unapproved segments", "program", code="program_unapproved"
        )
    if revision is not None:
        try:
            _save(session, settings, actor, revision, now, broadcast)
        except DomainError:
            session.rollback()
            raise
        _drop_revision(broadcast)
        audit.record(
            session, now, actor, "broadcast.approve", broadcast, broadcast.owner_id, revision=True
        )
        return
    if broadcast.status != BroadcastStatus.approved:
        broadcast.status = BroadcastStatus.approved
        broadcast.approved_by_id = actor.id
        broadcast.approved_at = now
        bump_revisions(session, [t.station for t in broadcast.targets])
        audit.record(session, now, actor, "broadcast.approve", broadcast, broadcast.owner_id)


def cancel(
    session: Session, actor: User, broadcast: Broadcast, now: datetime, reason: str = ""
) -> None:
    """Cancel: the broadcast leaves every timeline; its record and history stay."""
    permissions.require_schedule(actor, broadcast.owner, [])
    if broadcast.status != BroadcastStatus.cancelled:
        broadcast.status = BroadcastStatus.cancelled
        broadcast.cancelled_at = now
        _drop_revision(broadcast)
        bump_revisions(session, [t.station for t in broadcast.targets])
        detail = {"reason": reason} if reason else {}
        audit.record(
            session, now, actor, "broadcast.cancel", broadcast, broadcast.owner_id, **detail
        )
        # An alert's broadcast cancelled directly: the alert is over too.
        for alert in session.scalars(select(Alert).where(Alert.broadcast_id == broadcast.id)):
            if alert.state == AlertState.ready:
                alert.state, alert.cancelled_at = AlertState.cancelled, now
                alert.cancelled_by = alert.cancelled_by or "broadcast"


def reject(session: Session, actor: User, broadcast: Broadcast, now: datetime, reason: str) -> None:
    """An approver turns a pending broadcast down: it is cancelled (history kept) and the
    reason is audited, so its editor can read why. Turning down a revision drops only the
    change: the approved version goes on airing."""
    permissions.require_approve(actor, broadcast.owner)
    if broadcast.revision and broadcast.status == BroadcastStatus.approved:
        _drop_revision(broadcast)
        audit.record(
            session,
            now,
            actor,
            "broadcast.reject",
            broadcast,
            broadcast.owner_id,
            reason=reason,
            revision=True,
        )
        return
    if broadcast.status != BroadcastStatus.pending:
        raise Unprocessable("only a broadcast waiting for approval can be rejected")
    broadcast.status = BroadcastStatus.cancelled
    broadcast.cancelled_at = now
    bump_revisions(session, [t.station for t in broadcast.targets])
    audit.record(
        session, now, actor, "broadcast.reject", broadcast, broadcast.owner_id, reason=reason
    )


@dataclass
class Preview:
    """What saving a draft would do, found without saving it."""

    status: BroadcastStatus  # what the save would give: approved at once, or pending
    draft_id: int  # the id the draft had while examined (conflicts name it)
    clashes: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    conflicts_total: int
    warnings: list[RuleWarning]
    first_airing: Occurrence | None = None
    revision: bool = False  # the change would wait beside the approved version


def preview_broadcast(
    session: Session,
    settings: Settings,
    actor: User,
    spec: BroadcastSpec,
    now: datetime,
    existing: Broadcast | None = None,
) -> Preview:
    """The "preview" button: same checks as :func:`save_broadcast`, plus the same-level
    clashes that a save without force would refuse — then everything is rolled back.

    The draft is saved with force inside the caller's transaction (so the resolver sees it
    exactly as it would be), examined, and the transaction is rolled back whatever happens:
    call it on a session with nothing else pending.
    """
    revision = existing is not None and needs_revision(actor, existing)
    try:
        forced = spec.model_copy(update={"force": True})
        result = _save(session, settings, actor, forced, now, existing)
        clashes = find_clashes(session, settings, result.broadcast, now)
        return Preview(
            status=result.broadcast.status,
            draft_id=result.broadcast.id,
            clashes=clashes,
            conflicts=result.conflicts,
            conflicts_total=result.conflicts_total,
            warnings=result.warnings,
            first_airing=result.first_airing,
            revision=revision,
        )
    finally:
        session.rollback()
