"""Background work of the server: renders, long ingests, TTS of long bulletins, alerts'
audio, fingerprint checks — queued in the database (:mod:`scheduler.workqueue`) so that any
server process runs each once, and another picks it up when the one running it dies.

Each kind is a handler taking the ids it needs (JSON on the queued row) and opening its own
transaction. Handlers are idempotent: each first checks its row still waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from scheduler import workqueue
from scheduler.dispatch import etag_for
from scheduler.manifest_store import ManifestStore, build_province
from scheduler.models import (
    Alert,
    AlertState,
    Program,
    ProgramStatus,
    Segment,
    SegmentStatus,
    Station,
)
from scheduler.workqueue import Handler, WorkRunner

log = logging.getLogger(__name__)
INTERRUPTED = "Bị gián đoạn do máy chủ khởi động lại; hãy gửi lại."
GAVE_UP = "Không làm xong được ({reason}); hãy gửi lại."
Announce = Callable[[Alert, bool], None]


class Jobs:
    """The app's queue of background work and the runner of this process.

    ``submit`` queues a job in the caller's session (committed with it) and wakes this
    process's threads once ``committed`` is called; every other server process finds it by
    polling within ``poll_s``.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        announce: Announce | None = None,
        *,
        manifests: ManifestStore | None = None,
        workers: int = 2,
        lease_s: float = workqueue.LEASE_S,
        poll_s: float = workqueue.POLL_S,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions, self.settings, self.announce, self.clock = (
            sessions,
            settings,
            announce,
            clock,
        )
        self.manifests = manifests
        self.runner = WorkRunner(
            sessions, self._handlers(), workers=workers, lease_s=lease_s, poll_s=poll_s, clock=clock
        )

    def submit(self, session: Session, kind: str, *, urgent: bool = False, **args: Any) -> int:
        """Queue ``kind`` with ``args`` in ``session``'s transaction; returns the job's id.
        Call :meth:`committed` with it after the commit."""
        return workqueue.enqueue(session, kind, args, self.clock(), urgent=urgent).id

    def committed(self, *ids: int) -> None:
        self.runner.queued(list(ids))

    def start(self) -> Jobs:
        """Run jobs in this process too (``loaxa serve``, each gunicorn worker)."""
        self.runner.start()
        return self

    def shutdown(self, wait: bool = True) -> None:
        """Stop this process's runner; with ``wait``, after the jobs it queued are done."""
        if self.runner.started:
            self.runner.stop(wait=wait)

    # --- the kinds of job -----------------------------------------------------------------

    def _handlers(self) -> dict[str, Handler]:
        return {
            "render": Handler(self._render, self._program_failed),
            "speak": Handler(self._speak, self._segment_failed),
            "ingest": Handler(self._ingest, self._segment_failed),
            "alert": Handler(self._alert, self._alert_failed),
            "verify": Handler(self._verify),
            "manifests": Handler(self._manifests),
        }

    def _render(self, args: dict[str, Any]) -> None:
        from scheduler.programs import render_job

        if self._waiting(Program, args["program"], ProgramStatus.rendering):
            render_job(self.sessions, self.settings, args["program"])

    def _speak(self, args: dict[str, Any]) -> None:
        from scheduler.segments import tts_job

        with self.sessions() as session:
            segment = session.get(Segment, args["segment"])
            if segment is None or segment.status != SegmentStatus.processing or not segment.text:
                return
            text, engine, voice, speed = (
                segment.text,
                segment.engine,
                segment.voice,
                segment.speed or 1.0,
            )
        tts_job(self.sessions, self.settings, args["segment"], text, engine, voice, speed)

    def _ingest(self, args: dict[str, Any]) -> None:
        from scheduler.segments import ingest_job, kept_upload

        if not self._waiting(Segment, args["segment"], SegmentStatus.processing):
            return
        kept = kept_upload(self.settings, args["segment"])
        if kept is None:
            self._segment_failed(args, INTERRUPTED)
            return
        ingest_job(self.sessions, self.settings, args["segment"], kept)

    def _alert(self, args: dict[str, Any]) -> None:
        from scheduler.alerts import prepare_job

        prepare_job(self.sessions, self.settings, args["alert"], self.announce)

    def _verify(self, args: dict[str, Any]) -> None:
        from scheduler.verify import verify_job

        verify_job(self.sessions, self.settings, args["plays"])

    def _manifests(self, args: dict[str, Any]) -> None:
        """Build changed provinces' manifests into the shared store before their agents ask
        (an agent that asks first builds them itself; then this finds them built)."""
        if self.manifests is None:
            return
        with self.sessions() as session:
            for code in args["provinces"]:
                province = session.scalar(select(Station).where(Station.code == code))
                if province is None:
                    continue
                now = self.clock()
                with self.manifests.building(code):
                    if self.manifests.get(etag_for(province, now)) is None:
                        build_province(session, self.settings, self.manifests, code, now)

    def _waiting(
        self,
        model: type[Program] | type[Segment],
        row_id: int,
        status: ProgramStatus | SegmentStatus,
    ) -> bool:
        with self.sessions() as session:
            return session.scalar(select(model.status).where(model.id == row_id)) == status

    def _program_failed(self, args: dict[str, Any], reason: str) -> None:
        with self.sessions.begin() as session:
            program = session.get(Program, args["program"])
            if program is not None and program.status == ProgramStatus.rendering:
                program.status, program.error = ProgramStatus.failed, GAVE_UP.format(reason=reason)

    def _segment_failed(self, args: dict[str, Any], reason: str) -> None:
        with self.sessions.begin() as session:
            segment = session.get(Segment, args["segment"])
            if segment is not None and segment.status == SegmentStatus.processing:
                text = reason if reason == INTERRUPTED else GAVE_UP.format(reason=reason)
                segment.status, segment.error = SegmentStatus.failed, text

    def _alert_failed(self, args: dict[str, Any], reason: str) -> None:
        with self.sessions.begin() as session:
            alert = session.get(Alert, args["alert"])
            if alert is not None and alert.state == AlertState.preparing:
                alert.state, alert.error = AlertState.failed, reason
