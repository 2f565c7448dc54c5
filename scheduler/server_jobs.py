"""The server's own periodic work — one runner per deployment, whatever the web processes.

- relay sources sampled during their windows (``scheduler.relay_proof``), every 15 s;
- finished days written down for reports (``scheduler.settle``), every 5 minutes, and
  manifests of past hours dropped from the shared store (``scheduler.manifest_store``).

``loaxa serve`` runs one in-process; under gunicorn run ``loaxa server-jobs`` beside the
workers — as many as you like, on as many machines: one leads (``scheduler.leader``) and
runs the jobs, the others stand by and take over within seconds if it goes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from scheduler.leader import Leadership
from scheduler.manifest_store import open_store
from scheduler.relay_proof import RelaySampler
from scheduler.settle import settle_due

log = logging.getLogger(__name__)
SETTLE_EVERY_S = 300.0
STANDBY_RETRY_S = 5.0  # how soon a standby notices the leader is gone


class ServerJobs:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        settle_every_s: float = SETTLE_EVERY_S,
    ) -> None:
        self.sessions, self.settings, self.clock = sessions, settings, clock
        self.settle_every_s = settle_every_s
        self.sampler = RelaySampler(sessions, settings, clock)
        engine = sessions.kw["bind"]
        self.leadership = Leadership(engine, settings.instance_path / "server-jobs.lock")
        self.manifests = open_store(engine, settings.redis_url)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def leading(self) -> bool:
        return self.leadership.leading

    def start(self) -> ServerJobs:
        self._thread = threading.Thread(target=self._run, name="loaxa-settle", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sampler.stop()
        self.leadership.release()

    def settle(self) -> list[date]:
        """Write down the days that are due; return them."""
        cfg = self.settings
        with self.sessions.begin() as session:
            days = settle_due(
                session,
                cfg.timezone,
                self.clock(),
                timedelta(seconds=cfg.min_fragment_s),
                timedelta(seconds=cfg.report_grace_s),
            )
        return days

    def _run(self) -> None:
        while not self._stopping.is_set() and not self.leadership.try_lead():
            self._stopping.wait(STANDBY_RETRY_S)  # another process leads: stand by
        if self._stopping.is_set():
            return
        self.sampler.start()
        while not self._stopping.is_set():
            try:
                if days := self.settle():
                    said = ", ".join(f"{d.day}/{d.month}/{d.year}" for d in days)
                    log.info("reports: days written down: %s", said)
                self.manifests.prune(self.clock())
            except Exception:  # the loop must outlive one bad tick (a database restart)
                log.exception("writing down finished days failed")
            self._stopping.wait(self.settle_every_s)
