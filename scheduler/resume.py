"""Work a stopped server left half-done, picked up again when ``loaxa serve`` starts.

Jobs live in the database queue (:mod:`scheduler.workqueue`): one left running by a process
that died is claimed again by another once its lease runs out. ``loaxa serve`` is the only
process of the embedded set-up, so it need not wait for that: at start-up it puts back in
the queue what the last run was doing, and queues a job for any row still waiting from a
version without the queue. A render needs only its programme; a long TTS bulletin its text
and the voice asked for (both on the row); a long upload the file kept for it in
``media/incoming`` (named by its segment). What cannot be redone — an upload whose file is
gone — is marked failed with the reason, so nobody waits for it for ever.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from scheduler import segments
from scheduler.jobs import INTERRUPTED, Jobs
from scheduler.models import Program, ProgramStatus, Segment, SegmentStatus, WorkItem


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
    """Queue again what can be redone; mark failed what cannot. Call only from a process
    that knows no other is working (``loaxa serve`` at start-up)."""
    kinds: Counter[str] = Counter()
    failed = 0
    with sessions.begin() as session:
        session.execute(
            update(WorkItem)
            .where(WorkItem.state == "running")
            .values(state="queued", lease_until=None, worker=None)
            .execution_options(synchronize_session=False)
        )
        open_jobs = session.execute(
            select(WorkItem.id, WorkItem.kind, WorkItem.args).where(WorkItem.state == "queued")
        ).all()
        ids = [job_id for job_id, _kind, _args in open_jobs]
        queued = {
            (kind, key, args.get(key))
            for _id, kind, args in open_jobs
            for key in ("program", "segment")
        }
        kinds.update(kind for _id, kind, _args in open_jobs)
        for program_id in session.scalars(
            select(Program.id).where(Program.status == ProgramStatus.rendering)
        ):
            if ("render", "program", program_id) not in queued:
                ids.append(jobs.submit(session, "render", program=program_id))
                kinds["render"] += 1
        for segment in session.scalars(
            select(Segment).where(Segment.status == SegmentStatus.processing)
        ):
            kind = "speak" if segment.source == "tts" and segment.text else "ingest"
            if (kind, "segment", segment.id) in queued:
                continue
            if kind == "ingest" and segments.kept_upload(settings, segment.id) is None:
                segment.status, segment.error = SegmentStatus.failed, INTERRUPTED
                failed += 1
                continue
            ids.append(jobs.submit(session, kind, segment=segment.id))
            kinds[kind] += 1
    if ids:
        jobs.committed(*ids)
    return Resumed(kinds["render"], kinds["speak"], kinds["ingest"], failed)
