"""Segments: uploads and TTS bulletins, from the request to a broadcast-ready media file.

Short work runs in the request (the answer is ``ready`` at once); long work goes to the job
runner and the client polls the segment's ``status`` and ``progress``. Bad audio is refused
before anything is stored: the checks that need no decoding (size, format, duration) always
run in the request, so even a background ingest only fails for reasons found while decoding.
The API, the panel and the command line all come in through :func:`prepare` (who may, and
the metadata), then :func:`store_upload` or :func:`speak_bulletin`.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from audio.errors import AudioError
from audio.pipeline import Ingested, Work, check_size, ingest, probe, run_steps, validate
from audio.store import MediaStore
from audio.tts.base import TtsError
from audio.tts.normalize_vi import normalize
from audio.tts.speak import speak
from config import Settings
from scheduler import audit, permissions
from scheduler.db import MAX_ID, now_utc
from scheduler.errors import Invalid, NotFound, Unprocessable
from scheduler.models import Campaign, MediaFile, Segment, SegmentStatus, Station, Topic, User
from scheduler.readings import reading_table
from scheduler.stations import stations_by_code

if TYPE_CHECKING:
    from scheduler.jobs import Jobs


@dataclass(frozen=True)
class SegmentMeta:
    """What the author says about a segment, validated by :func:`prepare`."""

    title: str
    owner: Station
    campaign: Campaign | None
    topic: Topic | None


def prepare(
    session: Session,
    actor: User,
    title: str,
    owner_code: str | None,
    campaign_code: str | None,
    topic_code: str | None,
) -> SegmentMeta:
    title = (title or "").strip()
    if not title or len(title) > 300 or "\x00" in title:
        raise Invalid("title: give a title of 1–300 characters", "title")
    owner = stations_by_code(session, [owner_code], "owner")[0] if owner_code else actor.station
    permissions.require_author(actor, owner)
    campaign = topic = None
    if campaign_code:
        campaign = session.scalar(select(Campaign).where(Campaign.code == campaign_code))
        if campaign is None:
            raise Invalid(f"campaign: there is no campaign {campaign_code!r}", "campaign")
    if topic_code:
        if campaign is None:
            raise Invalid("topic: name the campaign the topic belongs to", "topic")
        topic = next((t for t in campaign.topics if t.code == topic_code), None)
        if topic is None:
            raise Invalid(f"topic: campaign {campaign.code} has no topic {topic_code!r}", "topic")
    return SegmentMeta(title=title, owner=owner, campaign=campaign, topic=topic)


def new_segment(
    session: Session, actor: User, meta: SegmentMeta, now: datetime, **fields: object
) -> Segment:
    segment = Segment(
        title=meta.title,
        owner=meta.owner,
        created_by_id=actor.id,
        campaign=meta.campaign,
        topic=meta.topic,
        created_at=now,
        status=SegmentStatus.processing,
        progress=0,
        **fields,
    )
    session.add(segment)
    session.flush()
    audit.record(
        session, now, actor, f"segment.{segment.source}", segment, meta.owner.id, title=meta.title
    )
    return segment


def media_for(session: Session, done: Ingested, now: datetime) -> MediaFile:
    """The media row for a stored file (one row per content, however often it is uploaded)."""
    media = session.scalar(select(MediaFile).where(MediaFile.sha256 == done.sha256))
    if media is None:
        # Two requests storing the same content at once (the same alert text sent to two
        # provinces) both get here: let the database keep one row, never an IntegrityError.
        postgres = session.get_bind().dialect.name == "postgresql"
        insert = pg_insert if postgres else sqlite_insert
        row = {
            "sha256": done.sha256,
            "bytes": done.bytes,
            "duration_ms": done.duration_ms,
            "mime_type": "audio/mpeg",
            "analysis": done.analysis,
            "created_at": now,
        }
        session.execute(insert(MediaFile).on_conflict_do_nothing(index_elements=["sha256"]), [row])
        media = session.scalars(select(MediaFile).where(MediaFile.sha256 == done.sha256)).one()
    return media


def finish(session: Session, segment: Segment, done: Ingested, now: datetime) -> None:
    segment.media_file = media_for(session, done, now)
    segment.analysis = done.analysis
    segment.status = SegmentStatus.ready
    segment.progress = 100
    segment.error = None


def store_for(settings: Settings) -> MediaStore:
    return MediaStore(settings.resolved_media_dir)


def check_upload(path: Path, settings: Settings, original_name: str | None) -> float:
    """The pipeline's checks that need no decoding — size, format, duration — so bad files
    are refused in the request even when the ingest itself runs later. Returns the seconds."""
    with TemporaryDirectory(prefix="loaxa-check-") as tmp:
        work = Work(path, original_name or path.name, Path(tmp), store_for(settings))
        checked = run_steps([check_size, probe, validate], work, settings)
    assert checked.probe is not None
    # An unknown length is treated as long: better a background job than a stuck request.
    return checked.probe.duration_s if checked.probe.duration_s is not None else float("inf")


@dataclass(frozen=True)
class Stored:
    """A new segment and how its audio comes: ``ingested`` now, or by the ``job`` queued in
    the segment's session (wake the runner with it once that commits)."""

    segment: Segment
    ingested: Ingested | None = None
    job: int | None = None


def store_upload(
    session: Session,
    settings: Settings,
    actor: User,
    meta: SegmentMeta,
    path: Path,
    original_name: str | None,
    now: datetime,
    *,
    jobs: Jobs | None,
) -> Stored:
    """An uploaded recording at ``path`` becomes a segment (``meta`` from :func:`prepare`,
    which says who may). A bad file is refused with :class:`AudioError` before anything is
    stored. Up to ``sync_audio_max_s`` it is ingested now; longer, it is moved out of
    ``path``, kept under the segment's id for a restart to find, and an ``ingest`` job is
    queued in ``jobs``. Without ``jobs`` (no runner to hand the work to, as on the command
    line) it is ingested now whatever its length, and ``path`` is left where it is."""
    seconds = check_upload(path, settings, original_name)
    if jobs is None or seconds <= settings.sync_audio_max_s:
        done = ingest(path, settings, store_for(settings), original_name=original_name)
        segment = new_segment(session, actor, meta, now, original_name=original_name)
        finish(session, segment, done, now)
        return Stored(segment, ingested=done)
    segment = new_segment(session, actor, meta, now, original_name=original_name)
    keep_upload(path, settings, segment.id)
    return Stored(segment, job=jobs.submit(session, "ingest", segment=segment.id))


def ingest_job(
    sessions: sessionmaker[Session], settings: Settings, segment_id: int, source: Path
) -> None:
    """Background ingest of an upload already checked; the source file is removed after."""
    try:
        done = ingest(source, settings, store_for(settings))
        failure = None
    except AudioError as exc:
        done, failure = None, exc.message
    finally:
        source.unlink(missing_ok=True)
    _record(sessions, segment_id, done, failure)


def _record(
    sessions: sessionmaker[Session], segment_id: int, done: Ingested | None, failure: str | None
) -> None:
    with sessions.begin() as session:
        segment = session.get(Segment, segment_id)
        if segment is None:
            return
        if done is not None:
            finish(session, segment, done, now_utc())
        else:
            segment.status, segment.error = SegmentStatus.failed, failure


def spoken_segment(
    settings: Settings,
    text: str,
    engine: str | None,
    voice: str | None,
    speed: float,
    readings: Mapping[str, str] | None = None,
) -> tuple[Ingested, str, str, str]:
    """Speak the text and run the result through the pipeline (same loudness as uploads).
    ``readings``: the abbreviations to read (:func:`scheduler.readings.reading_table`; the
    bundled dictionary when None).

    Returns the stored media, the engine that actually spoke, the voice and what it read.
    """

    def read(words: str) -> str:
        return normalize(words, readings)

    with TemporaryDirectory(prefix="loaxa-tts-") as tmp:
        spoken = speak(
            text, settings, Path(tmp), engine=engine, voice=voice, speed=speed, normalize=read
        )
        done = ingest(spoken.path, settings, store_for(settings), original_name="tts.wav")
    return done, spoken.engine, spoken.voice, spoken.normalized_text


def speak_bulletin(
    session: Session,
    settings: Settings,
    actor: User,
    meta: SegmentMeta,
    text: str,
    now: datetime,
    *,
    jobs: Jobs | None,
    engine: str | None = None,
    voice: str | None = None,
    speed: float = 1.0,
) -> Stored:
    """A typed bulletin becomes a segment, for the API and the panel: spoken now with the
    editors' readings when at most ``sync_tts_max_chars`` long (a :class:`TtsError` or
    :class:`AudioError` stores nothing), else left to a ``speak`` job queued in ``jobs``
    (without ``jobs``, spoken now whatever the length). ``text`` is checked by the caller:
    each edge refuses empty or too long text with its own message."""
    fields: dict[str, Any] = {"source": "tts", "text": text, "speed": speed}
    if jobs is None or len(text) <= settings.sync_tts_max_chars:
        done, used, used_voice, spoken = spoken_segment(
            settings, text, engine, voice, speed, reading_table(session)
        )
        segment = new_segment(
            session, actor, meta, now, engine=used, voice=used_voice, spoken_text=spoken, **fields
        )
        finish(session, segment, done, now)
        return Stored(segment, ingested=done)
    # What was asked for, kept on the row so a restart can pick the job up again (the job
    # replaces it with the engine and voice that actually spoke).
    segment = new_segment(session, actor, meta, now, engine=engine, voice=voice, **fields)
    return Stored(segment, job=jobs.submit(session, "speak", segment=segment.id))


def tts_job(
    sessions: sessionmaker[Session],
    settings: Settings,
    segment_id: int,
    text: str,
    engine: str | None,
    voice: str | None,
    speed: float,
) -> None:
    with sessions() as session:
        readings = reading_table(session)
    try:
        done, used, used_voice, read = spoken_segment(
            settings, text, engine, voice, speed, readings
        )
    except (TtsError, AudioError) as exc:
        _record(sessions, segment_id, None, str(exc))
        return
    with sessions.begin() as session:
        segment = session.get(Segment, segment_id)
        if segment is not None:
            segment.engine, segment.voice, segment.spoken_text = used, used_voice, read
            finish(session, segment, done, now_utc())


def get_segment(session: Session, segment_id: int) -> Segment:
    segment = session.get(Segment, segment_id) if segment_id <= MAX_ID else None
    if segment is None:
        raise NotFound(f"there is no segment {segment_id}")
    return segment


def approve(session: Session, actor: User, segment: Segment, now: datetime) -> None:
    permissions.require_approve(actor, segment.owner)
    if segment.status != SegmentStatus.ready:
        raise Unprocessable(
            f"segment {segment.id} is {segment.status}; only ready audio is approved"
        )
    segment.approved_at, segment.approved_by_id = now, actor.id
    segment.rejected_at = segment.rejected_reason = None
    audit.record(session, now, actor, "segment.approve", segment, segment.owner_id)


def publish(session: Session, actor: User, segment: Segment, now: datetime) -> None:
    """Put an approved bulletin on the public feed (the plan's third channel, the e-portal).
    Only what an approver already approved for the air is published; alert audio never is."""
    permissions.require_approve(actor, segment.owner)
    if segment.for_alert:
        raise Unprocessable(f"segment {segment.id} is an emergency alert's audio, not a bulletin")
    if segment.status != SegmentStatus.ready or segment.approved_at is None:
        raise Unprocessable(f"segment {segment.id} is not approved; approve it before publishing")
    if segment.published_at is None:
        segment.published_at, segment.published_by_id = now, actor.id
        audit.record(session, now, actor, "segment.publish", segment, segment.owner_id)


MAX_PUBLISHED = 200


def published_bulletins(
    session: Session, campaign: str | None = None, limit: int = MAX_PUBLISHED
) -> Sequence[Segment]:
    """What the public feed lists: published, still approved and ready, newest first."""
    query = (
        select(Segment)
        .where(
            Segment.published_at.is_not(None),
            Segment.approved_at.is_not(None),
            Segment.status == SegmentStatus.ready,
            ~Segment.for_alert,
            Segment.media_file_id.is_not(None),
        )
        .order_by(Segment.published_at.desc(), Segment.id.desc())
        .limit(limit)
    )
    if campaign is not None:
        found = session.scalar(select(Campaign).where(Campaign.code == campaign))
        if found is None:
            raise NotFound(f"campaign: there is no campaign {campaign!r}", "campaign")
        query = query.where(Segment.campaign_id == found.id)
    return session.scalars(query).all()


def unpublish(session: Session, actor: User, segment: Segment, now: datetime) -> None:
    permissions.require_approve(actor, segment.owner)
    if segment.published_at is not None:
        segment.published_at = segment.published_by_id = None
        audit.record(session, now, actor, "segment.unpublish", segment, segment.owner_id)


def reject(session: Session, actor: User, segment: Segment, reason: str, now: datetime) -> None:
    permissions.require_approve(actor, segment.owner)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("reason: say why the segment is rejected", "reason")
    segment.rejected_at, segment.rejected_reason = now, reason[:2000]
    segment.approved_at = segment.approved_by_id = None
    segment.published_at = segment.published_by_id = None  # nothing rejected stays public
    audit.record(session, now, actor, "segment.reject", segment, segment.owner_id, reason=reason)


def keep_upload(source: Path, settings: Settings, segment_id: int) -> Path:
    """Move an upload next to the media store (same file system) for a background job,
    named by its segment so a restart finds it again (:func:`kept_upload`)."""
    incoming = settings.resolved_media_dir / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    target = incoming / f"segment-{segment_id}-{source.name}"
    shutil.move(source, target)
    return target


def kept_upload(settings: Settings, segment_id: int) -> Path | None:
    """The upload a background ingest of ``segment_id`` was working from, if still there."""
    incoming = settings.resolved_media_dir / "incoming"
    return next(iter(sorted(incoming.glob(f"segment-{segment_id}-*"))), None)
