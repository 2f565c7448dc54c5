"""One thread, a heap of timers and a mailbox: where a player makes all its decisions.

Everything that changes what is on air runs here, one thing at a time, so players need no
locks of their own; other threads (the agent, libvlc's callbacks) only post messages. A
timer waits on a condition until its instant (futex wait on the monotonic clock, well
under a millisecond late on an idle machine).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

LATE_S = 0.02  # a timer this late (or a call this slow) is worth a warning


class Timer:
    __slots__ = ("args", "cancelled", "fn", "when")

    def __init__(self, when: float, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.when, self.fn, self.args, self.cancelled = when, fn, args, False

    def cancel(self) -> None:
        self.cancelled = True


class Loop:
    """Runs ``fn(*args)`` at instants of ``now()`` (monotonic seconds by default).

    ``max_wait_s`` makes the loop look at ``now()`` again at least that often: needed when
    ``now`` is a wall clock a test may move (the :class:`NullPlayer`)."""

    def __init__(
        self,
        name: str,
        now: Callable[[], float] = time.monotonic,
        max_wait_s: float | None = None,
    ) -> None:
        self.now = now
        self._max_wait = max_wait_s
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> Timer:
        timer = Timer(when, fn, args)
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), timer))
            self._cond.notify()
        return timer

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> Timer:
        return self.call_at(float("-inf"), fn, *args)

    def in_loop(self) -> bool:
        return threading.current_thread() is self._thread

    def close(self, timeout: float = 10.0) -> None:
        """Stop after the calls already due; later timers are dropped."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if not self.in_loop():
            self._thread.join(timeout)

    def _next(self) -> Timer | None:
        with self._cond:
            while not self._closed:
                if self._heap:
                    wait = self._heap[0][0] - self.now()
                    if wait <= 0:
                        return heapq.heappop(self._heap)[2]
                else:
                    wait = None
                if self._max_wait is not None:
                    wait = self._max_wait if wait is None else min(wait, self._max_wait)
                self._cond.wait(wait)
            return None

    def _run(self) -> None:
        while (timer := self._next()) is not None:
            if timer.cancelled:
                continue
            name = getattr(timer.fn, "__qualname__", timer.fn)
            late = self.now() - timer.when
            if LATE_S < late < float("inf"):
                log.warning("player loop: %s ran %.0f ms late", name, late * 1e3)
            try:
                timer.fn(*timer.args)
            except Exception:
                log.exception("player loop: %s failed", name)
            took = self.now() - late - timer.when if late != float("inf") else 0.0
            if took > LATE_S:
                log.warning("player loop: %s took %.0f ms", name, took * 1e3)
