"""Relays checked against their source: the server listens to what the source sent.

A relay has no file to compare with. While a relay is on, :class:`RelaySampler` fingerprints
its source stream itself, once per stream and window however many communes relay it, from a
little before the window to a little after (a station airs the stream a second or two late:
its whole airing must lie inside the sample). The sample is kept (``source_samples``) and
each relaying station's off-air fingerprint is compared with it (``scheduler.verify``), when
its log comes in or when the sample is done, whichever is later.

One sampler must run per deployment: ``loaxa serve`` starts one in-process; under gunicorn
run ``loaxa server-jobs`` beside the workers (README, production).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from audio.errors import AudioError
from audio.fingerprint import available, fingerprint_stream
from config import Settings
from scheduler.models import Broadcast, Kind, PlayLog, SourceSample
from scheduler.station_timelines import expand, load_rules
from scheduler.verify import stream_of, verify

log = logging.getLogger(__name__)

BEFORE = timedelta(seconds=5)  # sampled before the window opens
AFTER = timedelta(seconds=10)  # and after it closes: stations air the stream a little late
AHEAD = timedelta(seconds=60)  # how far ahead the sampler looks for windows to take


@dataclass(frozen=True, order=True)
class SourceWindow:
    """A source stream some station relays over ``[start, end)``."""

    start: datetime
    end: datetime
    stream_url: str


def windows_due(session: Session, now: datetime, ahead: timedelta = AHEAD) -> list[SourceWindow]:
    """Relay windows on now or opening within ``ahead``: one per stream and start (many
    broadcasts, and all their communes, share one sample)."""
    span = (now, now + ahead + BEFORE)
    found: dict[tuple[str, datetime], datetime] = {}
    relays = select(Broadcast.id).where(Broadcast.kind == Kind.relay)  # every 15 s: only these
    for rule in load_rules(session, span, only=relays):
        url = rule.airing.stream_url
        if not url:
            continue
        for occurrence in expand(rule, span):
            key = (url, occurrence.start)
            found[key] = max(found.get(key, occurrence.end), occurrence.end)
    return sorted(SourceWindow(start, end, url) for (url, start), end in found.items())


def relay_logs_in(session: Session, sample: SourceSample) -> list[str]:
    """Fingerprinted, unchecked logs of relays that began while ``sample`` was listening."""
    rows = session.execute(
        select(PlayLog.id, Broadcast)
        .join(Broadcast, PlayLog.broadcast_id == Broadcast.id)
        .where(Broadcast.kind == Kind.relay, PlayLog.fingerprint.is_not(None))
        .where(PlayLog.verified.is_(None))
        .where(PlayLog.started_at >= sample.sampled_from, PlayLog.started_at <= sample.sampled_to)
    ).all()
    return [log_id for log_id, broadcast in rows if stream_of(broadcast) == sample.stream_url]


class RelaySampler:
    """Every ``tick_s``, takes the relay windows about to open and samples each on its own
    thread; a window already sampled (by this process or another) is left alone."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tick_s: float = 15.0,
    ) -> None:
        self.sessions, self.settings, self.clock, self.tick_s = sessions, settings, clock, tick_s
        self._taken: set[tuple[str, datetime]] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> RelaySampler:
        if not available():
            log.warning("fpcalc is not installed: relays will not be checked against sources")
            return self
        self._thread = threading.Thread(target=self._run, name="loaxa-relay-sampler", daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.take_due()
            except Exception:  # the loop must outlive one bad tick (a database restart)
                log.exception("relay sampler: looking for windows failed")
            self._stopping.wait(self.tick_s)

    def take_due(self) -> list[SourceWindow]:
        """Start sampling each window that is due and not yet taken; return those started."""
        now = self.clock()
        with self.sessions() as session:
            due = windows_due(session, now)
        started = []
        for window in due:
            key = (window.stream_url, window.start)
            if key in self._taken or window.end + AFTER <= now:
                continue
            self._taken.add(key)
            threading.Thread(
                target=self._sample,
                args=(window,),
                daemon=True,
                name=f"loaxa-sample-{window.start:%H%M%S}",
            ).start()
            started.append(window)
        return started

    def _sample(self, window: SourceWindow) -> None:
        with self.sessions() as session:  # claim the window: one sample per deployment
            session.add(
                SourceSample(
                    stream_url=window.stream_url, starts_at=window.start, ends_at=window.end
                )
            )
            try:
                session.commit()
            except IntegrityError:
                return  # another process has it
        wait = (window.start - BEFORE - self.clock()).total_seconds()
        if wait > 0 and self._stopping.wait(wait):
            return
        began = self.clock()
        seconds = (window.end + AFTER - began).total_seconds()
        words: list[int] | None = None
        error = None
        try:
            words = fingerprint_stream(window.stream_url, seconds)
        except AudioError as exc:
            error = str(exc)
            log.warning("relay sampler: %s", exc)
        with self.sessions.begin() as session:
            sample = session.scalars(
                select(SourceSample)
                .where(SourceSample.stream_url == window.stream_url)
                .where(SourceSample.starts_at == window.start)
            ).one()
            sample.sampled_from, sample.sampled_to = began, self.clock()
            sample.fingerprint, sample.error = words, error
            if words:
                verify(session, self.settings, relay_logs_in(session, sample))
