"""Work a stopped server left half-done, picked up again when it starts (``loaxa serve``).

A render needs only its programme; a long TTS bulletin its text and the voice asked for
(both on the row); a long upload the file kept for it in ``media/incoming`` (named by its
segment). What cannot be redone — an upload whose file is gone — is marked failed with the
reason, so nobody waits for it for ever.

Only a process that knows no other is working on them may call this: ``loaxa serve`` at
start-up (one process owns the jobs it queues). Under several gunicorn workers the rows of
a worker that died stay "processing" until a queue shared by the workers exists (issue #13).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from scheduler import programs, segments
from scheduler.jobs import INTERRUPTED, Jobs
from scheduler.models import Program, Segment


@dataclass(frozen=True)
class Resumed:
    renders: int = 0
    speeches: int = 0
    ingests: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.renders + self.speeches + self.ingests


def resume_interrupted(sessions: sessionmaker[Session], settings: Settings, jobs: Jobs) -> Resumed:
    """Queue again what can be redone; mark failed what cannot."""
    renders = speeches = ingests = failed = 0
    with sessions.begin() as session:
        for program_id in session.scalars(select(Program.id).where(Program.status == "rendering")):
            jobs.submit(programs.render_job, sessions, settings, program_id)
            renders += 1
        for segment in session.scalars(select(Segment).where(Segment.status == "processing")):
            if segment.source == "tts" and segment.text:
                jobs.submit(segments.tts_job, sessions, settings, segment.id, segment.text,
                            segment.engine, segment.voice, segment.speed or 1.0)  # fmt: skip
                speeches += 1
            elif (kept := segments.kept_upload(settings, segment.id)) is not None:
                jobs.submit(segments.ingest_job, sessions, settings, segment.id, kept)
                ingests += 1
            else:
                segment.status, segment.error = "failed", INTERRUPTED
                failed += 1
    return Resumed(renders, speeches, ingests, failed)
