"""What a station player is told (a :class:`Cue`) and what it answers (an :class:`CueResult`).

The agent decides *what* airs *when*; a player only hits instants. Instants are aware UTC
``datetime`` values at this boundary; inside, players work on the monotonic clock (what
``time.monotonic()`` and ``libvlc_clock()`` both read on Linux), and :class:`Timebase`
converts between the two once, so a timer never depends on the wall clock's ticks.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:  # the studio's parts; base itself needs no libvlc (the null player)
    from concurrent.futures import ThreadPoolExecutor

    import vlc

    from audio.player.capture import Capture
    from audio.player.items import CueItem
    from audio.player.latency import Latency
    from audio.player.loop import Loop

log = logging.getLogger(__name__)

Status = Literal["played", "partial", "failed", "interrupted"]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Cue:
    """One thing to air: a local file (``media``) or a live relay (``stream_url``).

    ``start`` is the instant the first sample must be heard, ``end`` a hard stop; the item
    airs until its media ends or ``end``, whichever comes first. ``offset_s`` begins that far
    into the media (a late start joins in progress — except ``from_top`` cues, emergencies,
    which start late rather than lose their first words)."""

    item_id: str
    title: str
    start: datetime
    end: datetime
    media: Path | None = None
    stream_url: str | None = None
    offset_s: float = 0.0
    priority: str = "normal"
    from_top: bool = False

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError(f"cue {self.item_id}: start and end must be aware datetimes")
        if self.offset_s < 0:
            raise ValueError(f"cue {self.item_id}: offset_s must be ≥ 0")

    @property
    def is_relay(self) -> bool:
        return self.media is None and self.stream_url is not None


@dataclass(frozen=True)
class CueResult:
    """What happened to a cue: ``played`` (aired fully), ``partial`` (stopped early by its end
    or a cut, or a relay with gaps), ``failed`` (nothing aired) or ``interrupted`` (pre-empted
    or stopped). ``started_at`` is when the first sample was heard; ``detail`` says why."""

    item_id: str
    status: Status
    started_at: datetime | None
    ended_at: datetime
    detail: str | None = None


@dataclass(frozen=True)
class Recording:
    """What went on air over a span, recorded off air: 16-bit PCM read as it is iterated."""

    chunks: Iterator[bytes]
    rate: int
    channels: int
    seconds: float


class Player(Protocol):
    """Plays cues at their instants; reports each one exactly once through ``on_done``."""

    def play(self, cue: Cue) -> None: ...

    def cut(self, item_id: str, at: datetime) -> None: ...

    def stop(self, detail: str = "stopped by the agent") -> None: ...

    def playing(self) -> str | None: ...

    def recording(self, start: datetime, end: datetime) -> Recording | None:
        """What aired from ``start`` to ``end`` (an off-air capture), or None without one."""
        ...

    def close(self) -> None: ...


class Studio(Protocol):
    """What a cue airing inside the libvlc player (:mod:`audio.player.items`,
    :mod:`audio.player.relay`, :mod:`audio.player.deck`) reaches of the player around it —
    the shared loop, clock, workers and libvlc instance, the one air — and nothing more.
    :class:`~audio.player.vlc_player.VlcPlayer` is the studio; items never import it."""

    loop: Loop
    pool: ThreadPoolExecutor
    instance: vlc.Instance
    timebase: Timebase
    latency: Latency
    notify: Notifier
    capture: Capture | None
    channels: int
    audio_device: str | None
    filler: Path | None
    relay_preroll_s: float
    relay_retry_s: float
    relay_caching_ms: int
    starts: dict[int, float]  # id(item) → when it starts libvlc (monotonic)

    def take_air(self, item: CueItem) -> None: ...

    def forget(self, item: CueItem) -> None: ...


class Timebase:
    """Wall instants ↔ monotonic seconds, from one reading of both clocks.

    ``rebase()`` takes a fresh reading when the wall clock has stepped (NTP) by more than
    ``tolerance_s``, so later cues follow the new wall time."""

    def __init__(self, clock: Clock, tolerance_s: float = 0.25) -> None:
        self.clock = clock
        self.tolerance_s = tolerance_s
        self._wall, self._mono = clock(), time.monotonic()

    def mono(self, when: datetime) -> float:
        return self._mono + (when - self._wall).total_seconds()

    def wall(self, mono: float) -> datetime:
        return (self._wall + timedelta(seconds=mono - self._mono)).astimezone(UTC)

    def rebase(self) -> None:
        wall, mono = self.clock(), time.monotonic()
        drift = (wall - self.wall(mono)).total_seconds()
        if abs(drift) > self.tolerance_s:
            log.warning("wall clock stepped by %+.3f s; re-reading it", drift)
            self._wall, self._mono = wall, mono


class Notifier:
    """Calls ``on_done`` on its own thread, in order, so a slow or re-entrant agent callback
    never holds up a start and never runs inside a caller's lock."""

    def __init__(self, on_done: Callable[[CueResult], None], name: str) -> None:
        self._on_done = on_done
        self._queue: queue.SimpleQueue[CueResult | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def send(self, outcome: CueResult) -> None:
        log.info(
            "%s %s (%s → %s) %s",
            outcome.item_id,
            outcome.status,
            outcome.started_at and outcome.started_at.time(),
            outcome.ended_at.time(),
            outcome.detail or "",
        )
        self._queue.put(outcome)

    def close(self) -> None:
        self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while (outcome := self._queue.get()) is not None:
            try:
                self._on_done(outcome)
            except Exception:
                log.exception("on_done failed for %s", outcome.item_id)


def clock_time(when: datetime) -> str:
    """``03:00:01.250`` — an instant in an outcome's detail (UTC, to the millisecond)."""
    return when.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]


def span(seconds: float) -> str:
    """``01:02.5`` — a length in an outcome's detail."""
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes):02d}:{rest:04.1f}"
