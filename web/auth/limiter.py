"""Login rate limiting: a few wrong passwords per username and address, then a pause.

In-process on purpose (no extra service on a provincial intranet). With several web workers
(gunicorn ``-w 4``) each worker counts on its own, so an attacker gets up to
``workers × max_failures`` tries per window; that is still slow guessing against argon2, but a
national deployment should move the counts to a shared store (a database table, or
Flask-Limiter with Redis) — only this class needs to change.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

# Bounded memory: keys with no recent failure are dropped; past this many keys, the oldest go.
MAX_KEYS = 10_000


class LoginLimiter:
    """Counts failures per key inside a sliding window.

    ``check(*keys)`` returns the seconds to wait while any key has reached its limit (the
    right password does not help meanwhile: that is what stops guessing), else 0.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window_s: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, ...], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def check(self, *keys: tuple[str, ...], limits: tuple[int, ...] | None = None) -> float:
        now = self.clock()
        limits = limits or (self.max_failures,) * len(keys)
        wait = 0.0
        with self._lock:
            for key, limit in zip(keys, limits, strict=True):
                times = self._recent(key, now)
                if len(times) >= limit:
                    wait = max(wait, self.window_s - (now - times[-limit]))
        return wait

    def failed(self, *keys: tuple[str, ...]) -> None:
        now = self.clock()
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                times.append(now)
                self._failures[key] = times
            while len(self._failures) > MAX_KEYS:
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, key: tuple[str, ...]) -> None:
        with self._lock:
            self._failures.pop(key, None)
