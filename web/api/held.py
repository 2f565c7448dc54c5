"""Held manifest requests: an agent without a broker hears of a change within a second.

``GET /api/v1/agent/manifest?wait=S`` with ``If-None-Match`` naming the current manifest is
not answered ``304`` at once: it is held until the station's schedule revision changes (or
the hour turns, which changes the ETag too) or ``S`` seconds pass. One watcher thread per
process reads the revisions of every station with a held request in one query per tick, so
a thousand waiting agents cost four small queries a second, not four thousand; it starts on
the first held request, never at import or in the app factory.

MQTT stays the production push (a held request is a thread per agent in the web server);
this is what makes the embedded default — no broker — fast enough for emergencies.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from scheduler.models import Station

TICK_S = 0.25


class RevisionWatch:
    def __init__(self, engine: Engine, tick_s: float = TICK_S) -> None:
        self.engine = engine
        self.tick_s = tick_s
        self._lock = threading.Lock()
        self._waiting: dict[str, list[tuple[int, threading.Event]]] = defaultdict(list)
        self._thread: threading.Thread | None = None

    def wait(self, code: str, revision: int, seconds: float) -> None:
        """Block until ``code``'s revision is no longer ``revision``, or ``seconds`` pass."""
        if seconds <= 0:
            return
        event = threading.Event()
        entry = (revision, event)
        with self._lock:
            self._waiting[code].append(entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="loaxa-held", daemon=True)
                self._thread.start()
        try:
            event.wait(seconds)
        finally:
            with self._lock:
                entries = self._waiting.get(code, [])
                if entry in entries:
                    entries.remove(entry)
                if not entries:
                    self._waiting.pop(code, None)

    def _run(self) -> None:
        stop = threading.Event()
        while not stop.wait(self.tick_s):
            with self._lock:
                codes = list(self._waiting)
            if not codes:
                continue
            try:
                with self.engine.connect() as connection:
                    current = dict(
                        connection.execute(
                            select(Station.code, Station.schedule_revision).where(
                                Station.code.in_(codes)
                            )
                        ).all()
                    )
            except Exception:  # a database hiccup: the held requests time out as 304s
                continue
            with self._lock:
                for code, entries in self._waiting.items():
                    for revision, event in entries:
                        if current.get(code, revision) != revision:
                            event.set()


def until_next_hour(now: datetime) -> float:
    """Seconds to the next hour: the manifest's ETag names the hour, so a held request is
    answered then with the new one."""
    turn = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return (turn - now).total_seconds()
