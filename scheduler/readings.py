"""Readings editors teach the voice: an abbreviation the bundled dictionary lacks (or reads
wrong for this province) and the words to say for it. Every change is audited; from then
on the normaliser uses it — in the TTS composer's preview, the API and the bulletin spoken.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audio.tts.normalize_vi import load_abbreviations
from scheduler import audit
from scheduler.errors import Forbidden, Invalid, NotFound
from scheduler.models import Reading, Role, User

EDITORS = frozenset({Role.admin, Role.approver, Role.editor})
# Capitals (with Vietnamese ones), digits, "&", "-", "." and single spaces: "BCH", "TT&TT",
# "KT-XH", "TP. HCM". At least one capital: lower-case words are the voice's own.
_WRITTEN_RE = re.compile(r"(?=.*[A-ZĐÀ-Ỹ])[0-9A-Za-zÀ-ỹĐđ&.\-]+(?: [0-9A-Za-zÀ-ỹĐđ&.\-]+)*")
_SPOKEN_RE = re.compile(r"[^\W\d_]+(?:[ ,\-][^\W\d_]+)*", re.UNICODE)


def editor_readings(session: Session) -> dict[str, str]:
    return {
        written: spoken
        for written, spoken in session.execute(select(Reading.written, Reading.spoken))
    }


def reading_table(session: Session) -> Mapping[str, str]:
    """The bundled dictionary with the editors' readings over it (theirs win)."""
    return {**load_abbreviations(), **editor_readings(session)}


def add_reading(session: Session, actor: User, written: str, spoken: str, now: datetime) -> Reading:
    """Add (or change) the reading of ``written``; audited."""
    _require_editor(actor)
    written, spoken = " ".join(written.split()), " ".join(spoken.split())
    if not 1 <= len(written) <= 40 or not _WRITTEN_RE.fullmatch(written):
        raise Invalid(
            "written: an abbreviation as bulletins print it, with at least one capital letter "
            "(e.g. BCH, TT&TT, KT-XH), at most 40 characters",
            "written",
        )
    if not 1 <= len(spoken) <= 300 or not _SPOKEN_RE.fullmatch(spoken):
        raise Invalid(
            "spoken: the words to say, letters only (write numbers in words), at most 300 "
            "characters",
            "spoken",
        )
    reading = session.scalar(select(Reading).where(Reading.written == written))
    if reading is None:
        reading = Reading(written=written, spoken=spoken, added_by=actor.id, added_at=now)
        session.add(reading)
        session.flush()
        audit.record(session, now, actor, "reading.add", reading, written=written, spoken=spoken)
    elif reading.spoken != spoken:
        before = reading.spoken
        reading.spoken, reading.added_by, reading.added_at = spoken, actor.id, now
        audit.record(
            session,
            now,
            actor,
            "reading.change",
            reading,
            written=written,
            spoken=spoken,
            before=before,
        )
    return reading


def remove_reading(session: Session, actor: User, reading_id: int, now: datetime) -> None:
    _require_editor(actor)
    reading = session.get(Reading, reading_id)
    if reading is None:
        raise NotFound("no such reading")
    audit.record(
        session,
        now,
        actor,
        "reading.remove",
        reading,
        written=reading.written,
        spoken=reading.spoken,
    )
    session.delete(reading)


def _require_editor(actor: User) -> None:
    if actor.role not in EDITORS:
        raise Forbidden("only editors, approvers and admins teach the voice readings")
