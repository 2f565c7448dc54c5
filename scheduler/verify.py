"""Proof beyond the agent's word: is what the station aired what was planned?

An agent sends the Chromaprint fingerprint of what it put on air with its play log
(``scheduler.agent.proof``). A job (:func:`verify_job`, after the upload is answered)
compares it with the reference and marks the log ``verified`` (same audio), not verified
(other audio), or leaves it None (nothing to compare with yet, a fingerprint too short to
judge, no fpcalc on the server). The reference of a programme is its file, fingerprinted once
and kept in the media file's analysis; that of a relay is its source stream as the server
heard it during the window (``scheduler.relay_proof``), which may come after the log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audio.errors import AudioError
from audio.fingerprint import SAME_AUDIO, available, fingerprint, similarity
from config import Settings
from scheduler.models import Broadcast, Kind, MediaFile, PlayLog, Program, SourceSample
from scheduler.segments import store_for
from scheduler.settle import refresh

log = logging.getLogger(__name__)
KEY = "chromaprint"


def verify_job(sessions: sessionmaker[Session], settings: Settings, ids: Sequence[str]) -> None:
    if not ids or not available():
        return
    with sessions.begin() as session:
        verify(session, settings, ids)


def verify(session: Session, settings: Settings, ids: Sequence[str]) -> None:
    rows = session.execute(
        select(PlayLog, Broadcast)
        .join(Broadcast, PlayLog.broadcast_id == Broadcast.id)
        .where(PlayLog.id.in_(list(ids)), PlayLog.fingerprint.is_not(None))
    ).all()
    checked: list[tuple[int, int | None, datetime]] = []
    for play, broadcast in rows:
        reference = reference_for(session, settings, play, broadcast)
        if reference is None:
            continue  # a relay whose sample is not done yet: checked when it is
        score = similarity(play.fingerprint or [], reference)
        play.similarity = round(score, 4) if score is not None else None
        play.verified = None if score is None else score >= SAME_AUDIO
        checked.append((play.station_id, play.broadcast_id, play.scheduled_start))
    session.flush()
    refresh(session, checked)  # a day already written down counts the proof too


def reference_for(
    session: Session, settings: Settings, play: PlayLog, broadcast: Broadcast
) -> list[int] | None:
    if broadcast.kind == Kind.relay:
        url = stream_of(broadcast)
        sample = sample_for(session, url, play.started_at) if url and play.started_at else None
        return sample.fingerprint if sample is not None else None
    media = session.scalars(
        select(MediaFile)
        .join(Program, Program.media_file_id == MediaFile.id)
        .where(Program.id == broadcast.program_id)
    ).first()
    return reference_of(settings, media) if media is not None else None


def reference_of(settings: Settings, media: MediaFile) -> list[int] | None:
    """The planned file's fingerprint, computed on first use and kept with the file."""
    analysis = dict(media.analysis or {})
    if KEY not in analysis:
        try:
            analysis[KEY] = fingerprint(store_for(settings).path_for(media.sha256))
        except AudioError as exc:
            log.warning("no fingerprint for %s: %s", media.sha256[:12], exc)
            return None
        media.analysis = analysis  # a new dict: the JSON column sees the change
    words: list[int] = analysis[KEY]
    return words


def stream_of(broadcast: Broadcast) -> str | None:
    """What a relay airs: its own stream address, or its source station's."""
    source = broadcast.source
    return broadcast.stream_url or (source.stream_url if source is not None else None)


def sample_for(session: Session, stream_url: str, at: datetime) -> SourceSample | None:
    """The server's fingerprinted sample of ``stream_url`` that was listening at ``at``."""
    return session.scalars(
        select(SourceSample)
        .where(SourceSample.stream_url == stream_url, SourceSample.fingerprint.is_not(None))
        .where(SourceSample.sampled_from <= at, SourceSample.sampled_to >= at)
        .order_by(SourceSample.starts_at.desc())
        .limit(1)
    ).first()
