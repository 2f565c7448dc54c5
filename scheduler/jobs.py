"""Background work in the server process (renders, long ingests, TTS of long bulletins).

Boring on purpose: module-level job functions take ids and open their own transaction; the
runner is a small thread pool created on first use, never at import or app-factory time.
A job that dies with the process leaves its row "processing"; ``scheduler.resume`` picks
such rows up again at start-up (or marks failed what cannot be redone).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)
INTERRUPTED = "Bị gián đoạn do máy chủ khởi động lại; hãy gửi lại."


class Jobs:
    """Two lazily started thread pools: one for ordinary work, one for emergencies alone, so
    an alert's words are never spoken after an hour-long render someone queued first."""

    def __init__(self, workers: int = 2, urgent_workers: int = 2) -> None:
        self.workers = workers
        self.urgent_workers = urgent_workers
        self._executors: dict[bool, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()

    def submit(self, job: Callable[..., Any], *args: Any) -> Future[Any]:
        return self._pool(urgent=False).submit(_logged, job, *args)

    def submit_urgent(self, job: Callable[..., Any], *args: Any) -> Future[Any]:
        return self._pool(urgent=True).submit(_logged, job, *args)

    def _pool(self, urgent: bool) -> ThreadPoolExecutor:
        with self._lock:
            if urgent not in self._executors:
                size, name = (self.urgent_workers, "urgent") if urgent else (self.workers, "job")
                self._executors[urgent] = ThreadPoolExecutor(size, f"loaxa-{name}")
            return self._executors[urgent]

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            executors, self._executors = list(self._executors.values()), {}
        for executor in executors:
            executor.shutdown(wait=wait)


def _logged(job: Callable[..., Any], *args: Any) -> Any:
    try:
        return job(*args)
    except Exception:
        log.exception("job %s failed", getattr(job, "__name__", job))
        raise
