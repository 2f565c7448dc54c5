"""Background work in the server process (renders, long ingests, TTS of long bulletins).

Boring on purpose: module-level job functions take ids and open their own transaction; the
runner is a small thread pool created on first use, never at import or app-factory time.
A job that dies with the process leaves its row "processing"; :func:`fail_interrupted`
marks such rows failed at start-up so nobody waits for them for ever.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from scheduler.models import Program, Segment

log = logging.getLogger(__name__)
INTERRUPTED = "Bị gián đoạn do máy chủ khởi động lại; hãy gửi lại."


class Jobs:
    """A lazily started thread pool."""

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[..., Any], *args: Any) -> Future[Any]:
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="loaxa-job")
        return self._executor.submit(_logged, job, *args)

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=wait)
                self._executor = None


def _logged(job: Callable[..., Any], *args: Any) -> Any:
    try:
        return job(*args)
    except Exception:
        log.exception("job %s failed", getattr(job, "__name__", job))
        raise


def fail_interrupted(sessions: sessionmaker[Session], now: datetime) -> int:
    """Mark segments and programs left half-done by a previous process as failed."""
    with sessions.begin() as session:
        changed = 0
        for model, busy in ((Segment, "processing"), (Program, "rendering")):
            result: Any = session.execute(
                update(model).where(model.status == busy).values(status="failed", error=INTERRUPTED)
            )
            changed += int(result.rowcount or 0)
    return changed
