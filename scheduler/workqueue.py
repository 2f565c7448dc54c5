"""A job queue in the database, shared by every server process (issue #13).

A job is a row (:class:`~scheduler.models.WorkItem`). Any process may claim it — one
``UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)`` so two never take the same row —
and holds a lease it renews while it works. A process that dies (``kill -9``, a gunicorn
worker restarted) stops renewing; once the lease runs out another process claims the job
again, up to ``max_attempts`` times, after which the job's ``give_up`` marks its row failed
with the reason, so nobody waits for it for ever.

Why a table rather than RQ on Redis or procrastinate: the job is written in the same
transaction as the row it concerns (a segment "processing", a programme "rendering"), so no
commit can leave a row waiting for a job nobody queued; the embedded default (SQLite, one
process) needs no Redis and runs the very same code as PostgreSQL under gunicorn (SQLite
serialises writers, so its single UPDATE is the claim); and the work — a few renders an
hour — needs nothing a queue server adds. Jobs must be idempotent: each handler first
checks its row still waits for it (a job may run again after a crash at its very end).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.models import WorkItem

log = logging.getLogger(__name__)
LEASE_S = 30.0  # a dead process's job is claimed again this long after its last renewal
POLL_S = 2.0  # how often an idle process looks for work queued by another
MAX_ATTEMPTS = 3
KEEP_DONE = timedelta(days=7)  # finished rows kept for the record, then deleted


@dataclass(frozen=True)
class Handler:
    """What a kind of job does, and what to record when it can no longer be done."""

    run: Callable[[dict[str, Any]], None]
    give_up: Callable[[dict[str, Any], str], None] = lambda _args, _reason: None


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    args: dict[str, Any]
    attempts: int


def enqueue(
    session: Session, kind: str, args: dict[str, Any], now: datetime, *, urgent: bool = False
) -> WorkItem:
    """Queue a job in the caller's transaction: it exists once (and only if) that commits."""
    item = WorkItem(kind=kind, args=args, urgent=urgent, state="queued", attempts=0, created_at=now)
    session.add(item)
    session.flush()
    return item


def claim(
    session: Session, worker: str, now: datetime, lease: timedelta, *, urgent_only: bool = False
) -> Claimed | None:
    """Take the next job (urgent first, then oldest) queued, or running under a lease that
    ran out; None when there is none. Commits nothing: the caller's transaction does."""
    claimable = or_(
        WorkItem.state == "queued",
        and_(WorkItem.state == "running", WorkItem.lease_until < now),
    )
    if urgent_only:
        claimable = and_(claimable, WorkItem.urgent.is_(True))
    next_id = (
        select(WorkItem.id)
        .where(claimable)
        .order_by(WorkItem.urgent.desc(), WorkItem.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time
        .scalar_subquery()
    )
    row = session.execute(
        update(WorkItem)
        .where(WorkItem.id == next_id, claimable)
        .values(
            state="running", worker=worker, lease_until=now + lease, attempts=WorkItem.attempts + 1
        )
        .returning(WorkItem.id, WorkItem.kind, WorkItem.args, WorkItem.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    return None if row is None else Claimed(row.id, row.kind, dict(row.args), row.attempts)


class WorkRunner:
    """Threads in one process that claim and run jobs: ``workers`` for any job (urgent
    first) and ``urgent_workers`` for urgent ones alone, so an alert's words are never
    spoken after an hour-long render queued first. Started on first use, never at import."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        handlers: Mapping[str, Handler],
        *,
        workers: int = 2,
        urgent_workers: int = 1,
        lease_s: float = LEASE_S,
        poll_s: float = POLL_S,
        max_attempts: int = MAX_ATTEMPTS,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.sessions, self.handlers, self.clock = sessions, dict(handlers), clock
        self.workers, self.urgent_workers = workers, urgent_workers
        self.lease = timedelta(seconds=lease_s)
        self.poll_s, self.max_attempts = poll_s, max_attempts
        self.worker = ""  # named at start, after any fork: host, process, a random tag
        self._running: set[int] = set()
        self._queued_here: set[int] = set()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def started(self) -> bool:
        return bool(self._threads)

    def start(self) -> WorkRunner:
        with self._lock:
            if self._threads:
                return self
            self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
            self._stopping.clear()
            lanes = [False] * self.workers + [True] * self.urgent_workers
            for number, urgent in enumerate(lanes):
                name = f"loaxa-{'urgent' if urgent else 'job'}-{number}"
                thread = threading.Thread(target=self._work, args=(urgent,), name=name, daemon=True)
                self._threads.append(thread)
            self._threads.append(
                threading.Thread(target=self._renew, name="loaxa-lease", daemon=True)
            )
        for thread in self._threads:
            thread.start()
        log.info("work runner %s started", self.worker)
        return self

    def forked(self) -> None:
        """In a child process forked from this one: the threads stayed behind; start anew."""
        was_started = bool(self._threads)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._threads, self._running, self._queued_here = [], set(), set()
        if was_started:
            self.start()

    def queued(self, ids: list[int]) -> None:
        """Jobs this process committed: wake its threads (others find them by polling)."""
        self.start()
        with self._wake:
            self._queued_here.update(ids)
            self._wake.notify_all()

    def drain(self, timeout_s: float = 120.0) -> bool:
        """Wait until every job queued here has finished (tests, a graceful stop)."""
        deadline = time.monotonic() + timeout_s
        while self._threads and time.monotonic() < deadline:
            with self._lock:
                pending = set(self._queued_here)
            if not pending:
                return True
            with self.sessions() as session:
                open_ids = session.scalars(
                    select(WorkItem.id).where(
                        WorkItem.id.in_(pending), WorkItem.state.in_(["queued", "running"])
                    )
                ).all()
            with self._lock:
                self._queued_here -= pending - set(open_ids)
            time.sleep(0.05)
        return not self._queued_here

    def stop(self, wait: bool = True) -> None:
        if wait:
            self.drain()
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()
        threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout=30)

    # --- inside the threads ---------------------------------------------------------------

    def _work(self, urgent_only: bool) -> None:
        while not self._stopping.is_set():
            try:
                job = self._claim(urgent_only)
            except Exception:  # the database restarting: try again after a pause
                log.exception("claiming a job failed")
                job = None
            if job is None:
                with self._wake:
                    if not self._stopping.is_set():
                        self._wake.wait(self.poll_s)
                continue
            self._run(job)

    def _claim(self, urgent_only: bool) -> Claimed | None:
        with self.sessions.begin() as session:
            job = claim(session, self.worker, self.clock(), self.lease, urgent_only=urgent_only)
        if job is not None:
            with self._lock:
                self._running.add(job.id)
        return job

    def _run(self, job: Claimed) -> None:
        handler = self.handlers.get(job.kind)
        error: str | None = None
        try:
            if handler is None:
                error = f"no handler for jobs of kind {job.kind!r}"
            elif job.attempts > self.max_attempts:
                error = f"gave up after {self.max_attempts} attempts (the process died each time)"
                handler.give_up(job.args, error)
            else:
                if job.attempts > 1:
                    log.warning("job %s (%s) again, attempt %s", job.id, job.kind, job.attempts)
                handler.run(job.args)
        except Exception as exc:  # a bug in one job must not end the thread or hide the row
            log.exception("job %s (%s) failed", job.id, job.kind)
            error = f"{type(exc).__name__}: {exc}"
            if handler is not None:
                try:
                    handler.give_up(job.args, error)
                except Exception:
                    log.exception("recording job %s as failed failed too", job.id)
        finally:
            with self._lock:
                self._running.discard(job.id)
        self._finish(job, error)

    def _finish(self, job: Claimed, error: str | None) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            session.execute(
                update(WorkItem)
                .where(WorkItem.id == job.id, WorkItem.worker == self.worker)
                .values(
                    state="failed" if error else "done",
                    finished_at=now,
                    error=error,
                    lease_until=None,
                )
                .execution_options(synchronize_session=False)
            )

    def _renew(self) -> None:
        while not self._stopping.wait(self.lease.total_seconds() / 3):
            with self._lock:
                ids = list(self._running)
            if not ids:
                continue
            try:
                with self.sessions.begin() as session:
                    session.execute(
                        update(WorkItem)
                        .where(WorkItem.id.in_(ids), WorkItem.worker == self.worker)
                        .values(lease_until=self.clock() + self.lease)
                        .execution_options(synchronize_session=False)
                    )
            except Exception:
                log.exception("renewing the leases of jobs %s failed", ids)


def prune(session: Session, now: datetime) -> int:
    """Delete finished jobs older than :data:`KEEP_DONE`; return how many."""
    result = session.execute(
        delete(WorkItem).where(
            WorkItem.state.in_(["done", "failed"]), WorkItem.finished_at < now - KEEP_DONE
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
