"""A deck: one libvlc media player, its media, and where its sound goes.

With a capture the sound goes into a :class:`~audio.player.capture.Tap` through libvlc's
audio callbacks, and the tap knows to the sample when it airs. Without one it goes to the
sound card, and a :class:`DeviceTap` stands in: the gate is libvlc's mute, and instants are
the player's own estimates (a sound card tells libvlc, not us, when a sample is heard).

libvlc calls back on its own threads: the callbacks here only copy samples or post a
message to the player's loop, never stop or release a player (that deadlocks libvlc).
Stopping and releasing happen on a worker thread, after the tap has let go.
"""

from __future__ import annotations

import ctypes
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import vlc

from audio.player.capture import Capture, Tap
from audio.player.loop import Loop, Timer

if TYPE_CHECKING:
    from audio.player.base import Studio

log = logging.getLogger(__name__)

STREAM_LEAD_S = 1.0  # without a capture: a stream's first sample is assumed this late
CLOCK_OFFSET_S = vlc.libvlc_clock() / 1e6 - time.monotonic()  # libvlc's clock vs ours (≈0)
AudioPlay = vlc.CallbackDecorators.AudioPlayCb
AudioDrain = vlc.CallbackDecorators.AudioDrainCb
AudioFlush = vlc.CallbackDecorators.AudioFlushCb
TapHook = Callable[[Any], None]


class AnyTap(Protocol):
    drained: bool

    @property
    def first_at(self) -> float | None: ...  # when the first sample aired (monotonic s)

    @property
    def end_at(self) -> float | None: ...  # when the last sample aired ends

    @property
    def arrived_at(self) -> float | None: ...  # end of the newest audio delivered, aired or not

    def open_gate(self, at_mono: float) -> None: ...

    def close_gate(self, at_mono: float) -> None: ...

    def release(self) -> None: ...


def bind_tap(player: vlc.MediaPlayer, tap: Tap, channels: int) -> list[Any]:
    """Route ``player``'s decoded audio into ``tap``; returns the ctypes callbacks, which
    must stay referenced while the player lives."""
    width = channels * 2

    @AudioPlay
    def play(_opaque: int, samples: int, count: int, pts: int) -> None:
        data = ctypes.string_at(samples, count * width)
        tap.write(pts / 1e6 - CLOCK_OFFSET_S, np.frombuffer(data, "<i2").reshape(-1, channels))

    @AudioDrain
    def drain(_opaque: int) -> None:
        tap.drain()

    @AudioFlush
    def flush(_opaque: int, _pts: int) -> None:
        tap.flush()

    player.audio_set_callbacks(play, None, None, flush, drain, None)
    player.audio_set_format("S16N", tap.capture.rate, channels)
    return [play, drain, flush]


class DeviceTap:
    """The sound card's stand-in for a tap (see the module docstring)."""

    def __init__(self, loop: Loop, player: vlc.MediaPlayer, open_at: float, close_at: float):
        self._loop, self._player = loop, player
        self.first_at: float | None = None
        self.end_at: float | None = None
        self.arrived_at: float | None = None
        self.drained = False
        self.gate_open, self.gate_close = -math.inf, close_at
        self._timers: list[Timer] = []
        self.open_gate(open_at)

    def open_gate(self, at_mono: float) -> None:
        self.gate_open = at_mono
        if math.isfinite(at_mono) and at_mono > time.monotonic():
            self._player.audio_set_mute(True)
            self._timers.append(self._loop.call_at(at_mono, self._player.audio_set_mute, False))

    def started(self, expected_first: float | None) -> None:
        """libvlc says it is playing: the first sample is due at ``expected_first`` (a file
        started with latency compensation) or about a stream lead from now."""
        now = time.monotonic()
        first = expected_first if expected_first is not None else now + STREAM_LEAD_S
        self.arrived_at = max(first, now)
        self.first_at = max(first, self.gate_open)

    def ended(self) -> None:
        now = time.monotonic()
        self.drained = True
        if self.first_at is not None:
            self.end_at = self.arrived_at = min(max(now, self.first_at), self.gate_close)

    def close_gate(self, at_mono: float) -> None:
        if at_mono >= self.gate_close:
            return
        self.gate_close = at_mono
        if self.end_at is not None:
            self.end_at = min(self.end_at, at_mono)
        if self.first_at is not None and self.first_at >= at_mono:
            self.first_at = self.end_at = None
        self._timers.append(self._loop.call_at(at_mono, self._player.audio_set_mute, True))

    def release(self) -> None:
        for timer in self._timers:
            timer.cancel()


class Deck:
    """One libvlc player for one media; ``on_event(deck, kind)`` gets ``"first"``,
    ``"drain"``, ``"end"`` and ``"error"`` on the player's loop."""

    def __init__(
        self,
        studio: Studio,
        media: vlc.Media,
        name: str,
        on_event: Callable[[Deck, str], None],
        *,
        open_at: float = -math.inf,
        close_at: float = math.inf,
    ) -> None:
        self.name, self.media, self._on_event = name, media, on_event
        self._loop: Loop = studio.loop
        self._pool: Executor = studio.pool
        self.player: vlc.MediaPlayer = studio.instance.media_player_new()
        self.started: float | None = None  # when libvlc's play() was called
        self.expected_first: float | None = None
        self._callbacks: list[Any] = []
        self.tap: AnyTap
        capture: Capture | None = studio.capture
        if capture is not None:
            tap = capture.tap(name, open_at, close_at, self._post_first, self._post_drain)
            self._callbacks = bind_tap(self.player, tap, studio.channels)
            self.tap = tap
        else:
            if studio.audio_device:
                self.player.audio_output_device_set(None, studio.audio_device)
            self.tap = DeviceTap(studio.loop, self.player, open_at, close_at)
        self.player.set_media(media)
        events = self.player.event_manager()
        events.event_attach(vlc.EventType.MediaPlayerPlaying, self._vlc_event, "playing")
        events.event_attach(vlc.EventType.MediaPlayerEndReached, self._vlc_event, "end")
        events.event_attach(vlc.EventType.MediaPlayerEncounteredError, self._vlc_event, "error")
        self.discarded = False

    @property
    def captured(self) -> bool:
        return isinstance(self.tap, Tap)

    def play(self, expected_first: float | None = None) -> None:
        """Start now; ``expected_first`` is when the first sample should be heard."""
        self.expected_first = expected_first
        self.started = time.monotonic()
        self.player.play()

    def discard(self, when: float | None = None) -> None:
        """Let go of the player (at ``when``, so sound already delivered is heard first)."""
        if self.discarded:
            return
        if when is not None and when > time.monotonic():
            self._loop.call_at(when, self.discard)
            return
        self.discarded = True
        self.tap.release()
        self._pool.submit(self._stop)

    def _stop(self) -> None:
        try:
            self.player.stop()
            self.player.release()
            self.media.release()
        except Exception:
            log.exception("deck %s: stopping libvlc failed", self.name)

    # -- libvlc threads: post, nothing else -----------------------------------------------
    def _post_first(self, _tap: Tap) -> None:
        self._loop.call_soon(self._on_event, self, "first")

    def _post_drain(self, _tap: Tap) -> None:
        self._loop.call_soon(self._on_event, self, "drain")

    def _vlc_event(self, _event: vlc.Event, kind: str) -> None:
        handler = self._on_event if self.captured else self._device_event
        self._loop.call_soon(handler, self, kind)

    def _device_event(self, _deck: Deck, kind: str) -> None:
        tap = self.tap
        assert isinstance(tap, DeviceTap)
        if kind == "playing":
            tap.started(self.expected_first)
            self._on_event(self, "first")
        elif kind in ("end", "error"):
            tap.ended()
            self._on_event(self, kind)
