"""Emergency alerts (DESIGN.md rule 6; API.md ``POST /api/v1/alerts``).

An alert is an emergency broadcast issued *now*. :func:`issue_alert` is the one way one is
made — from JSON or from a CAP message alike — inside the caller's transaction, with the
clock passed in:

1. Only approvers and admins issue alerts, and only to stations inside their area.
2. Timing: the first airing starts at ``now`` (to the second); an expiry lies ahead and within
   :data:`MAX_SPAN`; repeats make at most :data:`MAX_AIRINGS` airings, all within the span.
3. The audio: an existing approved, ready segment — or the text, spoken by the TTS pipeline
   into a new segment that the issuer approves at once.
4. A one-segment programme in the transaction, so the manifest names its file: the segment's
   own file (:func:`scheduler.programs.use_segment_audio`), already normalised, rather than a
   render of it. A repeat interval must be longer than that audio.
5. An approved ``emergency`` broadcast owned by the issuer's station with the repeat columns
   set (:func:`scheduler.schedule.repeat_starts` turns them into airings); the targets'
   schedule revisions are bumped (new manifest ETags) and the audit trail says
   ``alert.create``.

The resolver ranks emergencies first, so an alert pre-empts what the stations were to play.
Cancelling an alert is cancelling its broadcast. A CAP message becomes the same
:class:`AlertSpec` (:func:`spec_from_cap`); its sender and identifier are kept in the audit
event, which is how a later ``Cancel`` or ``Update`` finds the alert it references.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NaiveDatetime,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from scheduler import audit, permissions, programs, segments
from scheduler import broadcasts as broadcast_service
from scheduler.cap import CapMessage, CapReference
from scheduler.errors import Forbidden, Invalid, NotFound, Unprocessable
from scheduler.models import (
    AuditEvent,
    Broadcast,
    BroadcastStatus,
    BroadcastTarget,
    ConflictPolicy,
    Kind,
    Priority,
    Segment,
    Station,
    User,
)
from scheduler.recurrence import localize
from scheduler.schedule import repeat_starts
from scheduler.stations import bump_revisions, stations_by_code

MAX_ID = 2**31 - 1
MAX_TEXT = 2000  # characters: spoken inside the request, so an alert must stay short
MAX_AIRINGS = 100
MAX_SPAN = timedelta(days=7)
MAX_TARGETS = 1000
CAP_LOOKBACK = timedelta(days=30)  # how far back a CAP reference is looked for


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("alert", message)


class AlertSpec(BaseModel):
    """An alert as an approver writes it (API.md ``POST /api/v1/alerts``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=300)
    segment: int | None = Field(
        None, ge=1, le=MAX_ID, description="an approved segment to air (or give text)"
    )
    text: str | None = Field(
        None,
        max_length=MAX_TEXT,
        validate_default=True,
        description="words to speak with TTS (or give segment)",
    )
    targets: list[str] = Field(min_length=1, max_length=MAX_TARGETS)
    expires: AwareDatetime | NaiveDatetime | None = Field(
        None, description="no airing starts at or after this (local time when no offset)"
    )
    repeat_every_s: int | None = Field(
        None, ge=1, le=24 * 3600, description="seconds from one airing's start to the next"
    )
    repeat_count: int | None = Field(
        None,
        ge=1,
        le=MAX_AIRINGS,
        validate_default=True,
        description="airings in all, the first included",
    )

    @field_validator("text")
    @classmethod
    def _text_or_segment(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "segment" not in info.data:
            return value  # the segment's own error is reported first
        segment = info.data["segment"]
        if value is None and segment is None:
            raise _error("give the words to speak (text) or an approved segment id (segment)")
        if value is not None and segment is not None:
            raise _error("give either text or segment, not both")
        if value is not None and not re.search(r"\w", value):
            raise _error("there is nothing to read: the text is empty or only punctuation")
        return value

    @field_validator("repeat_count")
    @classmethod
    def _repeats_end(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "repeat_every_s" not in info.data or "expires" not in info.data:
            return value  # their own errors are reported first
        every = info.data["repeat_every_s"]
        if value is not None and value > 1 and every is None:
            raise _error("repeating needs repeat_every_s, the seconds between airings")
        if every is not None and value is None and info.data["expires"] is None:
            raise _error(
                f"an alert repeated every {every} s needs an end: "
                "give repeat_count (airings in all) or expires"
            )
        return value


@dataclass(frozen=True)
class Timing:
    first: datetime
    every: timedelta | None
    count: int | None
    expires_at: datetime | None
    starts: list[datetime]


@dataclass
class Issued:
    broadcast: Broadcast
    starts: list[datetime]
    duplicate: bool = False
    cancelled: list[Broadcast] = field(default_factory=list)


def require_issuer(actor: User, station: Station | None = None) -> None:
    if actor.role not in permissions.APPROVERS:
        raise Forbidden(
            f"only approvers and admins issue or cancel alerts (your role is {actor.role.value})"
        )
    if station is not None and not permissions.in_scope(actor, station):
        raise Forbidden(f"alert: station {station.code} is outside your area")


def plan(spec: AlertSpec, zone: ZoneInfo, now: datetime) -> Timing:
    """When the alert airs: now, then every ``repeat_every_s`` up to the count or expiry."""
    first = now.replace(microsecond=0)
    expires_at = None
    if spec.expires is not None:
        expires = spec.expires
        expires_at = (
            expires.astimezone(ZoneInfo("UTC")) if expires.tzinfo else localize(expires, zone)
        )
        shown = expires_at.astimezone(zone).isoformat()
        if expires_at <= first:
            raise Invalid(f"expires: {shown} is already past; an alert expires later", "expires")
        if expires_at > first + MAX_SPAN:
            raise Invalid(
                f"expires: {shown} is too far; an alert lasts at most {MAX_SPAN.days} days",
                "expires",
            )
    every = timedelta(seconds=spec.repeat_every_s) if spec.repeat_every_s else None
    count = spec.repeat_count
    if every is not None and count is not None and every * (count - 1) > MAX_SPAN:
        raise Invalid(
            f"repeat_count: {count} airings every {spec.repeat_every_s} s would go on past "
            f"{MAX_SPAN.days} days",
            "repeat_count",
        )
    if every is not None and count is None and expires_at is not None:
        airings = -(-(expires_at - first) // every)
        if airings > MAX_AIRINGS:
            raise Invalid(
                f"repeat_every_s: every {spec.repeat_every_s} s until the expiry is {airings} "
                f"airings, more than {MAX_AIRINGS}; repeat less often or give repeat_count",
                "repeat_every_s",
            )
    starts = repeat_starts(first, every, count, expires_at)
    return Timing(first, every, count, expires_at, starts)


def issue_alert(
    session: Session,
    settings: Settings,
    actor: User,
    spec: AlertSpec,
    now: datetime,
    cap: dict[str, str] | None = None,
) -> Issued:
    """Issue an alert (see the module docstring); on any refusal the session is rolled back."""
    try:
        return _issue(session, settings, actor, spec, now, cap)
    except Exception:
        session.rollback()
        raise


def _issue(
    session: Session,
    settings: Settings,
    actor: User,
    spec: AlertSpec,
    now: datetime,
    cap: dict[str, str] | None,
) -> Issued:
    require_issuer(actor)
    owner = actor.station
    targets = stations_by_code(session, spec.targets, "targets")
    for target in targets:
        if not permissions.in_scope(actor, target):
            raise Forbidden(
                f"targets: station {target.code} is outside your area ({owner.code})", "targets"
            )
    targets = [t for t in targets if not any(o is not t and o.contains(t) for o in targets)]
    zone = ZoneInfo(owner.timezone)
    timing = plan(spec, zone, now)
    segment = _audio(session, settings, actor, spec, now)
    program = programs.create_program(
        session,
        actor,
        programs.ProgramSpec(title=spec.title, items=[programs.ItemSpec(segment=segment.id)]),
        now,
    )
    if not programs.use_segment_audio(session, settings, program):
        programs.render_now(session, settings, program)
    if program.status != "ready" or not program.duration_ms:
        raise Unprocessable(f"the alert's audio could not be prepared: {program.error}")
    lasts = timedelta(milliseconds=program.duration_ms)
    if len(timing.starts) > 1 and timing.every is not None and timing.every <= lasts:
        raise Invalid(
            f"repeat_every_s: the alert lasts {lasts.total_seconds():.1f} s, so it must "
            "repeat at longer intervals than that",
            "repeat_every_s",
        )
    broadcast = Broadcast(
        title=spec.title, owner=owner, kind=Kind.program, program=program,
        start_local=timing.first.astimezone(zone).replace(tzinfo=None), timezone=owner.timezone,
        duration_s=None, rrule=None, until=timing.starts[-1].astimezone(zone).date(),
        priority=Priority.emergency, conflict=ConflictPolicy.shift,
        max_delay_s=settings.default_max_delay_s, status=BroadcastStatus.approved, forced=False,
        repeat_every_s=spec.repeat_every_s,
        repeat_count=spec.repeat_count, expires_at=timing.expires_at,
        created_by_id=actor.id, approved_by_id=actor.id, approved_at=now,
        created_at=now, updated_at=now,
        targets=[BroadcastTarget(station=t) for t in targets],
    )  # fmt: skip
    session.add(broadcast)
    session.flush()
    bump_revisions(session, targets)
    audit.record(
        session, now, actor, "alert.create", broadcast, owner.id,
        title=spec.title, targets=[t.code for t in targets], segment=segment.id,
        program=program.id, duration_ms=program.duration_ms,
        airings=[s.isoformat() for s in timing.starts],
        expires=timing.expires_at.isoformat() if timing.expires_at else None,
        repeat_every_s=spec.repeat_every_s, repeat_count=spec.repeat_count,
        source="cap" if cap else "json", cap=cap,
    )  # fmt: skip
    return Issued(broadcast=broadcast, starts=timing.starts)


def _audio(
    session: Session, settings: Settings, actor: User, spec: AlertSpec, now: datetime
) -> Segment:
    """The approved segment to air: the one named, or the text spoken now."""
    if spec.segment is not None:
        segment = session.get(Segment, spec.segment)
        if segment is None:
            raise Invalid(f"segment: there is no segment {spec.segment}", "segment")
        if not permissions.can_use(actor, segment.owner):
            raise Forbidden(f"segment: segment {segment.id} belongs to another area", "segment")
        if segment.status != "ready" or segment.media_file is None:
            raise Unprocessable(
                f"segment: segment {segment.id} is {segment.status}, not ready audio", "segment"
            )
        if segment.approved_at is None:
            raise Unprocessable(
                f"segment: segment {segment.id} is not approved; approve it or send text",
                "segment",
            )
        return segment
    assert spec.text is not None  # AlertSpec: one of the two
    meta = segments.prepare(session, actor, spec.title, None, None, None)
    done, engine, voice, spoken = segments.spoken_segment(settings, spec.text, None, None, 1.0)
    segment = segments.new_segment(
        session, actor, meta, now, source="tts", text=spec.text, speed=1.0,
        engine=engine, voice=voice, spoken_text=spoken,
    )  # fmt: skip
    segments.finish(session, segment, done, now)
    segments.approve(session, actor, segment, now)
    return segment


def alert_starts(broadcast: Broadcast) -> list[datetime]:
    """Every airing's start (UTC) of a stored alert."""
    first = localize(broadcast.start_local, ZoneInfo(broadcast.timezone))
    every = timedelta(seconds=broadcast.repeat_every_s) if broadcast.repeat_every_s else None
    return repeat_starts(first, every, broadcast.repeat_count, broadcast.expires_at)


def _alert_events() -> Any:
    return select(AuditEvent).where(
        AuditEvent.action == "alert.create", AuditEvent.object_type == "broadcast"
    )


def get_alert(session: Session, alert_id: int) -> Broadcast:
    """The broadcast of an alert; other broadcasts are not alerts (404)."""
    event = (
        session.scalar(_alert_events().where(AuditEvent.object_id == str(alert_id)))
        if alert_id <= MAX_ID
        else None
    )
    broadcast = session.get(Broadcast, alert_id) if event is not None else None
    if broadcast is None:
        raise NotFound(f"there is no alert {alert_id}")
    return broadcast


def cancel_alert(
    session: Session, actor: User, broadcast: Broadcast, now: datetime, via: str
) -> None:
    """Take the alert off every timeline (its record stays); cancelling twice is harmless."""
    require_issuer(actor, broadcast.owner)
    live = broadcast.status != BroadcastStatus.cancelled
    broadcast_service.cancel(session, actor, broadcast, now)
    if live:
        audit.record(session, now, actor, "alert.cancel", broadcast, broadcast.owner_id, via=via)


# --- CAP ------------------------------------------------------------------------------------

# AlertSpec field → the CAP element it comes from, so errors name what the sender wrote.
CAP_FIELDS = {
    "title": "headline",
    "text": "description",
    "segment": "loaxa:segment",
    "targets": "area",
    "expires": "expires",
    "repeat_every_s": "loaxa:repeat_every_s",
    "repeat_count": "loaxa:repeat_count",
}


def spec_from_cap(message: CapMessage) -> AlertSpec:
    """headline (or event) → title; description and instruction → text (spoken), unless a
    ``loaxa:segment`` parameter names a recording; station geocodes → targets; expires;
    ``loaxa:repeat_every_s`` and ``loaxa:repeat_count`` parameters → repeats."""
    if not message.has_info:
        raise Invalid(
            "info: the CAP alert has no <info>; it needs one with a headline, a description "
            "and an area",
            "info",
        )
    title = message.headline or message.event
    if not title:
        raise Invalid("headline: the CAP <info> has no <headline> (nor <event>) for a title",
                      "headline")  # fmt: skip
    segment = message.parameters.get("loaxa:segment")
    text = "\n".join(p for p in (message.description, message.instruction) if p) or None
    if segment is None and text is None:
        raise Invalid(
            "description: the CAP <info> has no <description> or <instruction> to read out "
            "(nor a loaxa:segment parameter naming a recording)",
            "description",
        )
    if not message.targets:
        raise Invalid(
            "area: no <area><geocode> names a station; use <geocode><valueName>loaxa"
            "</valueName><value>STATION CODE</value></geocode>",
            "area",
        )
    body: dict[str, Any] = {
        "title": title,
        "segment": segment,
        "text": None if segment is not None else text,
        "targets": list(message.targets),
        "expires": message.expires,
        "repeat_every_s": message.parameters.get("loaxa:repeat_every_s"),
        "repeat_count": message.parameters.get("loaxa:repeat_count"),
    }
    try:
        return AlertSpec.model_validate(body)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        name = CAP_FIELDS.get(str(error["loc"][0]), "body") if error["loc"] else "body"
        raise Invalid(f"{name}: {error['msg']}", name) from None


def cap_ref(message: CapMessage) -> dict[str, str]:
    return {"sender": message.sender, "identifier": message.identifier, "sent": message.sent}


def find_cap_alerts(
    session: Session, references: Iterable[CapReference], now: datetime
) -> list[Broadcast]:
    """Alerts issued here from the CAP messages ``references`` names (by sender and
    identifier), within :data:`CAP_LOOKBACK`."""
    wanted = {(r.sender, r.identifier) for r in references}
    ids = []
    for event in session.scalars(_alert_events().where(AuditEvent.at >= now - CAP_LOOKBACK)):
        cap = (event.detail or {}).get("cap")
        if isinstance(cap, dict) and (cap.get("sender"), cap.get("identifier")) in wanted:
            ids.append(int(event.object_id or 0))
    found = [session.get(Broadcast, i) for i in sorted(set(ids))]
    return [b for b in found if b is not None]


def receive_cap(
    session: Session, settings: Settings, actor: User, message: CapMessage, now: datetime
) -> Issued | list[Broadcast]:
    """Act on a CAP message: ``Alert`` issues; ``Update`` cancels what it references and
    issues; ``Cancel`` cancels (→ the cancelled alerts). Sending the same ``Alert`` again
    answers the alert already issued (``duplicate``)."""
    try:
        return _receive(session, settings, actor, message, now)
    except Exception:
        session.rollback()
        raise


def _receive(
    session: Session, settings: Settings, actor: User, message: CapMessage, now: datetime
) -> Issued | list[Broadcast]:
    require_issuer(actor)
    if message.status != "Actual":
        raise Unprocessable(
            f"status: this CAP message is {message.status}; only Actual messages are aired",
            "status",
        )
    kind = message.msg_type
    if kind not in {"Alert", "Update", "Cancel"}:
        raise Unprocessable(
            f"msgType: {kind} messages are not aired; send Alert, Update or Cancel", "msgType"
        )
    if kind != "Cancel":
        again = find_cap_alerts(session, [CapReference(message.sender, message.identifier)], now)
        if again:
            return Issued(again[0], alert_starts(again[0]), duplicate=True)
    spec = spec_from_cap(message) if kind != "Cancel" else None
    cancelled: list[Broadcast] = []
    if kind in {"Update", "Cancel"}:
        if not message.references:
            raise Invalid(
                f"references: a CAP {kind} must name the alert it "
                f"{'cancels' if kind == 'Cancel' else 'replaces'} in <references> "
                "(sender,identifier,sent)",
                "references",
            )
        cancelled = find_cap_alerts(session, message.references, now)
        if kind == "Cancel" and not cancelled:
            named = " ".join(f"{r.sender},{r.identifier}" for r in message.references)
            raise NotFound(f"references: no alert issued here matches {named}", "references")
        for broadcast in cancelled:
            cancel_alert(session, actor, broadcast, now, via=f"cap:{message.identifier}")
    if spec is None:
        return cancelled
    issued = _issue(session, settings, actor, spec, now, cap_ref(message))
    issued.cancelled = cancelled
    return issued
