"""Emergency alerts (docs/architecture.md rule 6; docs/api.md ``POST /api/v1/alerts``).

An alert is recorded first and aired once its audio is ready, so the request that sends it
answers at once and the words are spoken after (:func:`prepare_alert`, in a job):

1. :func:`accept_alert` checks everything the sender can get wrong — role and area, targets,
   expiry and repeats, the named recording — and records an :class:`~scheduler.models.Alert`
   in the caller's transaction: ``preparing`` (words to speak), or aired at once when its
   audio needs no making (an approved recording, no tone, no repeats).
2. :func:`prepare_alert` makes the audio: the optional attention tone, then the recording or
   the spoken words, then — repeated alerts, as disaster bulletins must — the issue time read
   out ("Bản tin phát lúc 9 giờ 30 phút ngày 20/11/2026"). Then an approved ``emergency``
   broadcast owned by the issuer's station, starting *now*, every ``repeat_every_s`` up to
   the count or the expiry; the targets' schedule revisions are bumped (new manifest ETags).
   An alert without an expiry expires ``alert_default_expiry_s`` after its last airing's
   start: until then a station that learns of it late still airs it (the manifest says how
   long each airing may wait, :func:`scheduler.station_timelines.airing_deadline`).
3. Cancelling an alert cancels its broadcast; the record stays.

CAP 1.2 messages become the same :class:`AlertSpec` in :mod:`scheduler.cap_alerts`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NaiveDatetime,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audio.errors import AudioError
from audio.pipeline import ingest
from audio.tone import attention_tone
from audio.tts.base import TtsError
from config import Settings
from scheduler import audit, permissions, programs, segments
from scheduler import broadcasts as broadcast_service
from scheduler.cap_audio import ResourceError, fetch_resource
from scheduler.db import MAX_ID, now_utc
from scheduler.errors import Forbidden, Invalid, NotFound, Unprocessable
from scheduler.models import (
    Alert,
    AlertState,
    Broadcast,
    BroadcastStatus,
    BroadcastTarget,
    ConflictPolicy,
    Kind,
    Priority,
    Program,
    ProgramStatus,
    Segment,
    SegmentStatus,
    Station,
    User,
)
from scheduler.readings import reading_table
from scheduler.recurrence import localize
from scheduler.station_timelines import repeat_starts
from scheduler.stations import bump_revisions, stations_by_code

MAX_TEXT = 2000  # characters: an alert is short, and speaking it must stay fast
MAX_AIRINGS = 100
MAX_SPAN = timedelta(days=7)
MAX_TARGETS = 1000
UTC = ZoneInfo("UTC")


def _error(message: str) -> PydanticCustomError:
    return PydanticCustomError("alert", message)


class AlertSpec(BaseModel):
    """An alert as an approver writes it (docs/api.md ``POST /api/v1/alerts``)."""

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
class Identity:
    """Who sent the message and what kind it is (CAP's header; made up for JSON alerts)."""

    identifier: str
    sender: str
    sent: datetime
    source: str = "json"  # json | cap | panel
    status: str = "Actual"
    msg_type: str = "Alert"
    scope: str = "Public"
    references: str | None = None
    language: str | None = None
    area: str | None = None


@dataclass(frozen=True)
class Handling:
    """How the alert airs (CAP: :func:`scheduler.cap_policy.decide`; JSON: an emergency now)
    and the CAP values it came from. ``resource_uri`` is the sender's audio to air instead
    of speaking the text; ``note`` what was done otherwise, and why."""

    outcome: str = "emergency"  # emergency | scheduled | priority
    priority: Priority = Priority.emergency
    starts_at: datetime | None = None  # None: at once
    urgency: str | None = None
    severity: str | None = None
    certainty: str | None = None
    resource_uri: str | None = None
    resource_mime: str | None = None
    resource_digest: str | None = None
    note: str | None = None

    def columns(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def require_issuer(actor: User, station: Station | None = None) -> None:
    if actor.role not in permissions.APPROVERS:
        raise Forbidden(
            f"only approvers and admins issue or cancel alerts (your role is {actor.role.value})"
        )
    if station is not None and not permissions.in_scope(actor, station):
        raise Forbidden(f"alert: station {station.code} is outside your area")


def check_expiry(spec: AlertSpec, zone: ZoneInfo, now: datetime) -> datetime | None:
    """The expiry as an aware UTC instant: ahead of ``now``, within :data:`MAX_SPAN`."""
    if spec.expires is None:
        return None
    expires = spec.expires
    expires_at = expires.astimezone(UTC) if expires.tzinfo else localize(expires, zone)
    shown = expires_at.astimezone(zone).isoformat()
    if expires_at <= now:
        raise Invalid(f"expires: {shown} is already past; an alert expires later", "expires")
    if expires_at > now + MAX_SPAN:
        raise Invalid(
            f"expires: {shown} is too far; an alert lasts at most {MAX_SPAN.days} days", "expires"
        )
    return expires_at


def plan(
    every_s: int | None, count: int | None, expires_at: datetime | None, first: datetime
) -> list[datetime]:
    """Every airing's start: ``first``, then every ``every_s`` up to the count or expiry."""
    every = timedelta(seconds=every_s) if every_s else None
    if every is not None and count is not None and every * (count - 1) > MAX_SPAN:
        raise Invalid(
            f"repeat_count: {count} airings every {every_s} s would go on past "
            f"{MAX_SPAN.days} days",
            "repeat_count",
        )
    if every is not None and count is None and expires_at is not None:
        airings = -(-(expires_at - first) // every)
        if airings > MAX_AIRINGS:
            raise Invalid(
                f"repeat_every_s: every {every_s} s until the expiry is {airings} airings, "
                f"more than {MAX_AIRINGS}; repeat less often or give repeat_count",
                "repeat_every_s",
            )
    return repeat_starts(first, every, count, expires_at)


def accept_alert(
    session: Session,
    settings: Settings,
    actor: User,
    spec: AlertSpec,
    now: datetime,
    identity: Identity | None = None,
    handling: Handling | None = None,
) -> Alert:
    """Check and record an alert (``preparing``); :func:`prepare_alert` airs it. On any
    refusal the session is rolled back and nothing is recorded."""
    try:
        return _accept(session, settings, actor, spec, now, identity, handling or Handling())
    except Exception:
        session.rollback()
        raise


def _accept(
    session: Session,
    settings: Settings,
    actor: User,
    spec: AlertSpec,
    now: datetime,
    identity: Identity | None,
    handling: Handling,
) -> Alert:
    require_issuer(actor)
    owner = actor.station
    targets = stations_by_code(session, spec.targets, "targets")
    for target in targets:
        if not permissions.in_scope(actor, target):
            raise Forbidden(
                f"targets: station {target.code} is outside your area ({owner.code})", "targets"
            )
    targets = [t for t in targets if not any(o is not t and o.contains(t) for o in targets)]
    expires_at = check_expiry(spec, ZoneInfo(owner.timezone), now)
    first = check_start(handling.starts_at, expires_at, ZoneInfo(owner.timezone), now)
    plan(spec.repeat_every_s, spec.repeat_count, expires_at, first)  # refuses what cannot air
    segment = _named_segment(session, actor, spec.segment) if spec.segment else None
    _check_interval(spec, segment)
    who = identity or Identity(f"loaxa-{uuid.uuid4()}", actor.username, now)
    alert = Alert(
        identifier=who.identifier,
        sender=who.sender,
        sent=who.sent,
        references=who.references,
        status=who.status,
        msg_type=who.msg_type,
        scope=who.scope,
        source=who.source,
        language=who.language,
        title=spec.title,
        text=spec.text,
        area=who.area or ", ".join(t.name for t in targets),
        target_codes=" ".join(t.code for t in targets),
        repeat_every_s=spec.repeat_every_s,
        repeat_count=spec.repeat_count,
        expires_at=expires_at,
        state=AlertState.preparing,
        segment_id=segment.id if segment else None,
        spoken=segment is None,
        owner=owner,
        created_by_id=actor.id,
        created_at=now,
        **handling.columns(),
    )
    session.add(alert)
    session.flush()
    audit.record(
        session,
        now,
        actor,
        "alert.create",
        alert,
        owner.id,
        title=spec.title,
        outcome=handling.outcome,
        priority=handling.priority.value,
        starts=_iso(handling.starts_at),
        targets=alert.codes,
        segment=alert.segment_id,
        expires=_iso(expires_at),
        repeat_every_s=spec.repeat_every_s,
        repeat_count=spec.repeat_count,
        source=who.source,
        cap={"sender": who.sender, "identifier": who.identifier} if who.source == "cap" else None,
    )
    return alert


def check_start(
    starts_at: datetime | None, expires_at: datetime | None, zone: ZoneInfo, now: datetime
) -> datetime:
    """The first airing's start: ``now``, or a later one that is before the expiry and
    within :data:`MAX_SPAN`."""
    if starts_at is None or starts_at <= now:
        return now
    shown = starts_at.astimezone(zone).isoformat()
    if expires_at is not None and starts_at >= expires_at:
        raise Invalid(f"effective: it takes effect at {shown}, not before it expires", "effective")
    if starts_at > now + MAX_SPAN:
        raise Invalid(
            f"effective: {shown} is too far ahead; an alert is scheduled at most "
            f"{MAX_SPAN.days} days ahead",
            "effective",
        )
    return starts_at


def record_only(
    session: Session,
    actor: User,
    now: datetime,
    identity: Identity,
    title: str,
    text: str | None,
    targets: list[str],
    why: str,
    handling: Handling | None = None,
    outcome: str = "recorded",
    expires_at: datetime | None = None,
) -> Alert:
    """Keep a message that is not aired (a CAP Test, a Restricted alert, a Cancel), with why."""
    kept = {**(handling or Handling()).columns(), "outcome": outcome}
    alert = Alert(
        identifier=identity.identifier,
        sender=identity.sender,
        sent=identity.sent,
        references=identity.references,
        status=identity.status,
        msg_type=identity.msg_type,
        scope=identity.scope,
        source=identity.source,
        language=identity.language,
        title=title[:300],
        text=text,
        area=identity.area,
        target_codes=" ".join(targets),
        state=AlertState.recorded,
        error=why,
        spoken=False,
        owner=actor.station,
        created_by_id=actor.id,
        created_at=now,
        expires_at=expires_at,
        **kept,
    )
    session.add(alert)
    session.flush()
    audit.record(
        session,
        now,
        actor,
        "alert.record",
        alert,
        actor.station.id,
        title=title,
        status=identity.status,
        scope=identity.scope,
        reason=why,
    )
    return alert


# Nobody reads four words a second on air: an alert of n words lasts at least n × this.
SECONDS_PER_WORD = 0.25


def _check_interval(spec: AlertSpec, segment: Segment | None) -> None:
    """A repeat must come after the airing before it is over: known exactly for a recording,
    bounded from below for words still to be spoken (checked again once they are)."""
    if spec.repeat_every_s is None or (spec.repeat_count or 2) < 2:
        return
    if segment is not None and segment.media_file is not None:
        lasts = (segment.media_file.duration_ms or 0) / 1000
    else:
        lasts = len((spec.text or "").split()) * SECONDS_PER_WORD
    if spec.repeat_every_s <= lasts:
        raise Invalid(
            f"repeat_every_s: the alert lasts {'about ' if segment is None else ''}"
            f"{lasts:.1f} s, so it must repeat at longer intervals than that",
            "repeat_every_s",
        )


def needs_making(alert: Alert, settings: Settings) -> bool:
    """Its audio must be spoken or rendered (a job), rather than aired as it is."""
    return alert.spoken or alert.repeats or settings.alert_tone_s > 0


def _named_segment(session: Session, actor: User, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id)
    if segment is None:
        raise Invalid(f"segment: there is no segment {segment_id}", "segment")
    if not permissions.can_use(actor, segment.owner):
        raise Forbidden(f"segment: segment {segment.id} belongs to another area", "segment")
    if segment.status != SegmentStatus.ready or segment.media_file is None:
        raise Unprocessable(
            f"segment: segment {segment.id} is {segment.status}, not ready audio", "segment"
        )
    if segment.approved_at is None:
        raise Unprocessable(
            f"segment: segment {segment.id} is not approved; approve it or send text", "segment"
        )
    return segment


# --- making the audio and airing ------------------------------------------------------------


def issue_time_phrase(alert: Alert) -> str:
    """The issue time as the announcer says it, in the owner's zone."""
    sent = alert.sent.astimezone(ZoneInfo(alert.owner.timezone))
    minutes = f" {sent.minute} phút" if sent.minute else ""
    return f"Bản tin phát lúc {sent.hour} giờ{minutes} ngày {sent.day}/{sent.month}/{sent.year}."


def prepare_alert(session: Session, settings: Settings, alert: Alert, now: datetime) -> None:
    """Make the alert's audio and put it on the targets' timelines (see the module docstring).
    A failure is recorded on the alert (``failed`` with the reason), never raised."""
    if alert.state != AlertState.preparing:
        return  # cancelled meanwhile, or done by another worker
    actor = session.get(User, alert.created_by_id) if alert.created_by_id else None
    if actor is None:
        _fail(alert, "the sender's account no longer exists")
        return
    try:
        program = _program(session, settings, actor, alert, now)
    except (TtsError, AudioError, Unprocessable, Invalid) as exc:
        _fail(alert, getattr(exc, "message", None) or str(exc))
        return
    if program.status != ProgramStatus.ready or not program.duration_ms:
        _fail(alert, f"the alert's audio could not be prepared: {program.error}")
        return
    session.flush()
    session.refresh(alert)  # cancelled while its words were being spoken?
    if alert.state != AlertState.preparing:
        return
    lasts = timedelta(milliseconds=program.duration_ms)
    first = max(now, alert.starts_at or now).replace(microsecond=0)
    if alert.expires_at is not None and alert.expires_at <= first:
        _fail(alert, "it expired before its audio was ready")
        return
    starts = plan(alert.repeat_every_s, alert.repeat_count, alert.expires_at, first)
    every = timedelta(seconds=alert.repeat_every_s) if alert.repeat_every_s else None
    if len(starts) > 1 and every is not None and every <= lasts:
        _fail(
            alert,
            f"the alert lasts {lasts.total_seconds():.1f} s, so it must repeat at "
            "longer intervals than that (repeat_every_s)",
        )
        return
    expires_at = alert.expires_at or starts[-1] + timedelta(seconds=settings.alert_default_expiry_s)
    owner = alert.owner
    zone = ZoneInfo(owner.timezone)
    targets = stations_by_code(session, alert.codes, "targets")
    broadcast = Broadcast(
        title=alert.title,
        owner=owner,
        kind=Kind.program,
        program=program,
        start_local=first.astimezone(zone).replace(tzinfo=None),
        timezone=owner.timezone,
        duration_s=None,
        rrule=None,
        until=starts[-1].astimezone(zone).date(),
        priority=alert.priority,
        conflict=ConflictPolicy.shift,
        max_delay_s=settings.default_max_delay_s,
        status=BroadcastStatus.approved,
        forced=False,
        repeat_every_s=alert.repeat_every_s,
        repeat_count=alert.repeat_count,
        expires_at=expires_at,
        created_by_id=actor.id,
        approved_by_id=actor.id,
        approved_at=now,
        created_at=now,
        updated_at=now,
        targets=[BroadcastTarget(station=t) for t in targets],
    )
    session.add(broadcast)
    session.flush()
    bump_revisions(session, targets)
    alert.broadcast, alert.program_id = broadcast, program.id
    alert.state, alert.ready_at, alert.error = AlertState.ready, now, None
    if alert.expires_at is None:
        alert.expires_at = expires_at
    airings = [s.isoformat() for s in starts]
    audit.record(
        session,
        now,
        actor,
        "alert.air",
        alert,
        owner.id,
        broadcast=broadcast.id,
        airings=airings,
        duration_ms=program.duration_ms,
    )


def _fail(alert: Alert, why: str) -> None:
    alert.state, alert.error = AlertState.failed, why


def _program(
    session: Session, settings: Settings, actor: User, alert: Alert, now: datetime
) -> Program:
    """The alert's programme: [tone] + words (+ issue time when repeated), one file."""
    parts: list[Segment] = []
    if settings.alert_tone_s > 0:
        parts.append(_tone(session, settings, actor, alert, now))
    if alert.resource_uri and alert.spoken:
        sender = _sender_audio(session, settings, actor, alert, now)
        if sender is not None:
            alert.segment_id, alert.spoken = sender.id, False
    if alert.segment_id is not None and not alert.spoken:
        named = session.get(Segment, alert.segment_id)
        if named is None or named.media_file is None:
            raise Unprocessable("segment: the alert's recording is gone")
        parts.append(named)
        if alert.repeats:
            parts.append(_spoken(session, settings, actor, alert, issue_time_phrase(alert), now))
    else:
        words = f"{alert.text}\n{issue_time_phrase(alert)}"
        spoken = _spoken(session, settings, actor, alert, words, now)
        alert.segment_id = spoken.id
        parts.append(spoken)
    spec = programs.ProgramSpec(
        title=alert.title, items=[programs.ItemSpec(segment=p.id) for p in parts]
    )
    program = programs.create_program(session, actor, spec, now)
    program.for_alert = True
    if not programs.use_segment_audio(session, settings, program):
        programs.render_now(session, settings, program)
    return program


def _sender_audio(
    session: Session, settings: Settings, actor: User, alert: Alert, now: datetime
) -> Segment | None:
    """The sender's own recording (a CAP ``resource``) as an approved segment, or None —
    with the alert's ``note`` saying why — so that the text is spoken instead."""
    uri = alert.resource_uri or ""
    name = (
        "cap-resource"
        if uri.startswith("data:")
        else (Path(urlsplit(uri).path).name or "cap-resource")
    )
    with TemporaryDirectory(prefix="loaxa-cap-") as tmp:
        try:
            path = fetch_resource(settings, uri, alert.resource_digest, Path(tmp) / "resource")
            seconds = segments.check_upload(path, settings, name)
            if seconds > settings.cap_resource_max_s:
                raise ResourceError(
                    f"resource: the audio lasts {seconds:.0f} s, more than cap_resource_max_s "
                    f"({settings.cap_resource_max_s} s)"
                )
            done = ingest(path, settings, segments.store_for(settings), original_name=name)
        except ResourceError as exc:
            alert.note = f"{exc}; the text was spoken instead"
            return None
        except AudioError as exc:
            alert.note = f"resource: {exc.message}; the text was spoken instead"
            return None
    meta = segments.SegmentMeta(title=alert.title, owner=alert.owner, campaign=None, topic=None)
    segment = segments.new_segment(
        session, actor, meta, now, source="upload", original_name=name, for_alert=True
    )
    segments.finish(session, segment, done, now)
    segments.approve(session, actor, segment, now)
    alert.note = "the sender's own recording (CAP resource) is aired"
    return segment


def _spoken(
    session: Session, settings: Settings, actor: User, alert: Alert, words: str, now: datetime
) -> Segment:
    meta = segments.SegmentMeta(title=alert.title, owner=alert.owner, campaign=None, topic=None)
    done, engine, voice, read = segments.spoken_segment(
        settings, words, None, None, 1.0, reading_table(session)
    )
    segment = segments.new_segment(
        session,
        actor,
        meta,
        now,
        source="tts",
        text=words,
        speed=1.0,
        engine=engine,
        voice=voice,
        spoken_text=read,
        for_alert=True,
    )
    segments.finish(session, segment, done, now)
    segments.approve(session, actor, segment, now)
    return segment


def _tone(
    session: Session, settings: Settings, actor: User, alert: Alert, now: datetime
) -> Segment:
    meta = segments.SegmentMeta(
        title="Hiệu lệnh cảnh báo", owner=alert.owner, campaign=None, topic=None
    )
    with TemporaryDirectory(prefix="loaxa-tone-") as tmp:
        path = attention_tone(Path(tmp) / "tone.wav", settings.alert_tone_s, settings.sample_rate)
        done = ingest(path, settings, segments.store_for(settings), original_name="tone.wav")
    segment = segments.new_segment(
        session, actor, meta, now, source="upload", original_name="tone.wav", for_alert=True
    )
    segments.finish(session, segment, done, now)
    segments.approve(session, actor, segment, now)
    return segment


def prepare_job(
    sessions: sessionmaker[Session],
    settings: Settings,
    alert_id: int,
    announce: object = None,
) -> None:
    """:func:`prepare_alert` in its own transaction (the job after a ``202``); then
    ``announce(alert)`` — the MQTT push — once it is committed."""
    with sessions.begin() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            return
        prepare_alert(session, settings, alert, now_utc())
    if callable(announce):
        with sessions() as session:
            alert = session.get(Alert, alert_id)
            if alert is not None and alert.state == AlertState.ready:
                announce(alert)


# --- reading and cancelling -----------------------------------------------------------------


def get_alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id) if 0 < alert_id <= MAX_ID else None
    if alert is None:
        raise NotFound(f"there is no alert {alert_id}")
    return alert


def alert_starts(alert: Alert) -> list[datetime]:
    """Every airing's start (UTC) of an alert on air (none before its audio is ready)."""
    broadcast = alert.broadcast
    if broadcast is None:
        return []
    first = localize(broadcast.start_local, ZoneInfo(broadcast.timezone))
    every = timedelta(seconds=broadcast.repeat_every_s) if broadcast.repeat_every_s else None
    return repeat_starts(first, every, broadcast.repeat_count, broadcast.expires_at)


def cancel_alert(session: Session, actor: User, alert: Alert, now: datetime, via: str) -> bool:
    """Take the alert off every timeline (its record stays); True when it was live.
    Cancelling twice is harmless."""
    require_issuer(actor, alert.owner)
    if alert.state in (AlertState.cancelled, AlertState.recorded, AlertState.failed):
        return False
    if alert.broadcast is not None and alert.broadcast.status != BroadcastStatus.cancelled:
        broadcast_service.cancel(session, actor, alert.broadcast, now)
    alert.state, alert.cancelled_at, alert.cancelled_by = AlertState.cancelled, now, via
    audit.record(session, now, actor, "alert.cancel", alert, alert.owner_id, via=via)
    return True


def alerts_in(session: Session, root: Station, limit: int, offset: int = 0) -> list[Alert]:
    """Alerts issued in ``root``'s subtree or reaching into it, newest first."""
    owners = select(Station.id).where(Station.path.startswith(root.path, autoescape=True))
    query = (
        select(Alert)
        .where(Alert.owner_id.in_(owners))
        .order_by(Alert.created_at.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
