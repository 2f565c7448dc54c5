"""The station player on libvlc (python-vlc): files and live relays, on the instant.

Threads: the caller's (the agent) only posts to the *loop*, which owns every decision and
timer; a small pool prepares media (parse, dry run) and stops players, both of which can
take tens of milliseconds; libvlc's own threads deliver sound and events and only post
back. Outcomes go out on a notifier thread.

With ``capture`` the sound goes into one WAV file (:mod:`audio.player.capture`), not to a
sound card; without it, to ``audio_output``/``audio_device`` (libvlc's ``--aout`` and
device id; VLC's default when None).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import vlc

from audio.player.base import Clock, Cue, CueResult, Notifier, Recording, Timebase, utc_now
from audio.player.capture import Capture
from audio.player.items import CueItem, FileItem
from audio.player.latency import Latency
from audio.player.loop import Loop
from audio.player.relay import RelayItem

log = logging.getLogger(__name__)

WORKERS = 4  # preparing media (parse, dry runs), making and stopping libvlc players


class VlcPlayer:
    """Plays cues through libvlc; see the module docstring.

    ``relay_preroll_s`` opens a relay that long before its window (the agent should hand a
    relay over at least that early); ``relay_retry_s`` is the pause between reconnects;
    ``filler`` airs (looped) while a relay's source is dead. ``capture``: everything aired
    goes into that WAV file (``sample_rate``, ``channels``; 16-bit) instead of a sound card;
    ``recording_started_at`` is the wall instant of its first sample. ``relay_caching_ms``
    is libvlc's network buffer for relays; ``vlc_args`` are extra libvlc options."""

    def __init__(
        self,
        on_done: Callable[[CueResult], None],
        *,
        audio_output: str | None = None,
        audio_device: str | None = None,
        capture: Path | None = None,
        sample_rate: int = 44100,
        relay_preroll_s: float = 5.0,
        relay_retry_s: float = 3.0,
        filler: Path | None = None,
        clock: Clock = utc_now,
        channels: int = 2,
        relay_caching_ms: int = 1000,
        vlc_args: Sequence[str] = (),
    ) -> None:
        args = ["--no-video", "--quiet", "--no-stats", *vlc_args]
        if capture is not None:  # each player's sound goes to the capture, never to a card
            args.append("--aout=adummy")
        elif audio_output:
            args.append(f"--aout={audio_output}")
        instance = vlc.Instance(args)
        if instance is None:
            raise RuntimeError(f"libvlc could not start with {args}")
        self.instance: vlc.Instance = instance
        self.audio_device = audio_device
        self.channels, self.sample_rate = channels, sample_rate
        self.relay_preroll_s, self.relay_retry_s = relay_preroll_s, relay_retry_s
        self.relay_caching_ms = relay_caching_ms
        self.filler = filler
        self.timebase = Timebase(clock)
        self.capture = Capture(capture, sample_rate, channels) if capture else None
        self.recording_started_at: datetime | None = (
            self.timebase.wall(self.capture.started_mono) if self.capture else None
        )
        self.starts: dict[int, float] = {}  # id(item) → when it starts libvlc (monotonic)
        self.latency = Latency(self.instance, sample_rate, lambda: list(self.starts.values()))
        self.notify = Notifier(on_done, "vlc-player-done")
        self.pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="vlc-player-work")
        for _ in range(WORKERS):  # start the threads now, not when a start is near
            self.pool.submit(time.sleep, 0.01)
        self.loop = Loop("vlc-player")
        self._items: list[CueItem] = []
        self._on_air: CueItem | None = None
        self._playing: str | None = None
        self._closed = False

    # -- the Player protocol (any thread) ----------------------------------------------
    def play(self, cue: Cue) -> None:
        if self._closed:
            raise RuntimeError("the player is closed")
        self.timebase.rebase()
        self.loop.call_soon(self._accept, cue)

    def cut(self, item_id: str, at: datetime) -> None:
        self.loop.call_soon(self._cut, item_id, self.timebase.mono(at))

    def stop(self, detail: str = "stopped by the agent") -> None:
        self.loop.call_soon(self._stop, detail)

    def playing(self) -> str | None:
        return self._playing

    def recording(self, start: datetime, end: datetime) -> Recording | None:
        if self.capture is None:
            return None
        chunks = self.capture.span(
            self.timebase.mono(start), self.timebase.mono(end), timeout_s=self.capture.lag_s + 10
        )
        seconds = (end - start).total_seconds()
        return Recording(chunks, self.capture.rate, self.capture.channels, seconds)

    def close(self) -> None:
        """Interrupt everything, stop every libvlc player, finalise the capture."""
        if self._closed:
            return
        self._closed = True
        done = threading.Event()
        self.loop.call_soon(self._close, done)
        done.wait(10)
        self.loop.close()
        self.pool.shutdown(wait=True)
        if self.capture is not None:
            self.capture.close()
        self.notify.close()
        self.instance.release()

    # -- on the loop ----------------------------------------------------------------------
    def _accept(self, cue: Cue) -> None:
        item: CueItem
        if cue.media is not None or cue.stream_url is None:
            item = FileItem(self, cue)
        else:
            item = RelayItem(self, cue)
        self._items.append(item)
        self._refresh()
        item.begin()

    def take_air(self, item: CueItem) -> None:
        """``item``'s start: it airs now, and whatever aired before ends here."""
        if item.done:
            return
        current = self._on_air
        # One that ends by itself here (back to back) is left to its own end timer.
        if current not in (None, item) and not current.done and current.end > item.start + 1e-3:
            current.pre_empt(item.start, item.cue.item_id)
        self._on_air = item
        item.on_air = True
        self._refresh()

    def forget(self, item: CueItem) -> None:
        self.starts.pop(id(item), None)
        if item in self._items:
            self._items.remove(item)
        if self._on_air is item:
            self._on_air = None
        self._refresh()

    def _cut(self, item_id: str, at: float) -> None:
        for item in [i for i in self._items if i.cue.item_id == item_id]:
            item.cut(at)

    def _stop(self, detail: str) -> None:
        if self._on_air is not None:
            self._on_air.interrupt(time.monotonic(), detail)

    def _close(self, done: threading.Event) -> None:
        now = time.monotonic()
        for item in list(self._items):
            item.interrupt(now, "the player was closed")
        done.set()

    def _refresh(self) -> None:
        if self._on_air is not None:
            self._playing = self._on_air.cue.item_id
        elif self._items:
            self._playing = min(self._items, key=lambda i: i.start).cue.item_id
        else:
            self._playing = None
