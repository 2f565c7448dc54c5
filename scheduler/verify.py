"""Proof beyond the agent's word: is what the station aired the file that was planned?

An agent with an off-air capture sends the Chromaprint fingerprint of what it put on air with
its play log. A job (:func:`verify_job`, after the upload is answered) compares it with the
planned programme's file — whose own fingerprint is computed once and kept in the media
file's analysis — and marks the log ``verified`` (same audio), not verified (other audio),
or leaves it None (a relay: its source stream is not sampled yet; a fingerprint too short to
judge; no fpcalc on the server).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audio.errors import AudioError
from audio.fingerprint import SAME_AUDIO, available, fingerprint, similarity
from config import Settings
from scheduler.models import Broadcast, MediaFile, PlayLog, Program
from scheduler.segments import store_for

log = logging.getLogger(__name__)
KEY = "chromaprint"


def verify_job(sessions: sessionmaker[Session], settings: Settings, ids: Sequence[str]) -> None:
    if not ids or not available():
        return
    with sessions.begin() as session:
        verify(session, settings, ids)


def verify(session: Session, settings: Settings, ids: Sequence[str]) -> None:
    rows = session.execute(
        select(PlayLog, MediaFile)
        .join(Broadcast, PlayLog.broadcast_id == Broadcast.id)
        .join(Program, Broadcast.program_id == Program.id)
        .join(MediaFile, Program.media_file_id == MediaFile.id)
        .where(PlayLog.id.in_(list(ids)), PlayLog.fingerprint.is_not(None))
    ).all()
    for play, media in rows:
        reference = reference_of(settings, media)
        if reference is None:
            continue
        score = similarity(play.fingerprint or [], reference)
        play.similarity = round(score, 4) if score is not None else None
        play.verified = None if score is None else score >= SAME_AUDIO


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
