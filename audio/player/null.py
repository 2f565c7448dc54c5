"""A player that only keeps time: for demos, machines without sound, and fast agent tests.

It follows the same rules as the real player — one item on air, a new start pre-empts,
``end`` and cuts stop early, missing media fails — but plays nothing. Waits re-read the
injected clock every ``tick_s``, so a test that moves time (time-machine) is followed.
"""

from __future__ import annotations

import logging
import threading
import wave
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from audio.errors import AudioError
from audio.player.base import Clock, Cue, CueResult, Notifier, Recording, Status, utc_now
from audio.player.loop import Loop, Timer

TOLERANCE_S = 0.3  # how far a probed media end may run past its window and still be "played"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _NoSettings:
    ffmpeg_path: str | None = None


def media_duration(path: Path) -> float | None:
    """Seconds of audio in ``path``: a WAV from its header, anything else by probing
    (ffprobe, tens of milliseconds). None when it cannot be told."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (wave.Error, EOFError, OSError):
        pass
    from audio.probe import probe

    try:
        return probe(path, _NoSettings()).duration_s
    except (AudioError, OSError) as exc:
        log.warning("no duration for %s: %s", path, exc)
        return None


class _Slot:
    """A cue from play() to its outcome."""

    def __init__(self, cue: Cue, length_s: float | None) -> None:
        self.cue = cue
        self.end = cue.end
        self.length_s = length_s  # media left after offset_s; None: unknown (or a relay)
        self.started_at: datetime | None = None
        self.timer: Timer | None = None

    def natural_end(self) -> datetime | None:
        if self.length_s is None:
            return None
        return self.cue.start + timedelta(seconds=self.length_s)


class NullPlayer:
    def __init__(
        self,
        on_done: Callable[[CueResult], None],
        *,
        clock: Clock = utc_now,
        duration_s: Callable[[Path], float | None] = media_duration,
        tick_s: float = 0.05,
    ) -> None:
        self.clock = clock
        self._duration = duration_s
        self._notify = Notifier(on_done, "null-player-done")
        self._loop = Loop("null-player", lambda: clock().timestamp(), max_wait_s=tick_s)
        self._slots: list[_Slot] = []
        self._on_air: _Slot | None = None
        self._playing: str | None = None
        self._closed = False

    # -- the Player protocol (any thread) ----------------------------------------------
    def play(self, cue: Cue) -> None:
        if self._closed:
            raise RuntimeError("the player is closed")
        self._loop.call_soon(self._accept, cue)

    def cut(self, item_id: str, at: datetime) -> None:
        self._loop.call_soon(self._cut, item_id, at)

    def stop(self, detail: str = "stopped by the agent") -> None:
        self._loop.call_soon(self._stop, detail)

    def playing(self) -> str | None:
        return self._playing

    def recording(self, start: datetime, end: datetime) -> Recording | None:
        return None  # nothing airs, so nothing is recorded

    def close(self) -> None:
        """Interrupt what is on air or armed (each gets its outcome), then stop."""
        if self._closed:
            return
        self._closed = True
        done = threading.Event()
        self._loop.call_soon(self._close, done)
        done.wait(10)
        self._loop.close()
        self._notify.close()

    # -- on the loop ---------------------------------------------------------------------
    def _accept(self, cue: Cue) -> None:
        length: float | None = None
        if cue.media is not None:
            if not cue.media.is_file():
                return self._done(_Slot(cue, None), "failed", f"media missing: {cue.media}")
            duration = self._duration(cue.media)
            if duration is not None:
                length = duration - cue.offset_s
                if length <= 0:
                    return self._done(_Slot(cue, None), "failed", "joined after the media's end")
        elif cue.stream_url is None:
            return self._done(_Slot(cue, None), "failed", "the cue has neither media nor stream")
        slot = _Slot(cue, length)
        self._slots.append(slot)
        self._refresh()
        self._loop.call_at(cue.start.timestamp(), self._start, slot)

    def _start(self, slot: _Slot) -> None:
        if slot not in self._slots:
            return
        now = self.clock()
        if slot.end <= max(slot.cue.start, now):
            if slot.end < slot.cue.end:
                return self._done(slot, "interrupted", "cut before its start")
            return self._done(slot, "failed", "its window was over before it could start")
        current = self._on_air
        if current is not None and current is not slot:
            if current.end <= slot.cue.start:
                self._end(current)
            else:
                self._done(current, "interrupted", f"pre-empted by {slot.cue.item_id}")
        self._on_air = slot
        slot.started_at = slot.cue.start
        self._refresh()
        self._arm_end(slot)

    def _arm_end(self, slot: _Slot) -> None:
        if slot.timer is not None:
            slot.timer.cancel()
        natural = slot.natural_end()
        until = min(slot.end, natural) if natural is not None else slot.end
        slot.timer = self._loop.call_at(until.timestamp(), self._end, slot)

    def _end(self, slot: _Slot) -> None:
        natural = slot.natural_end()
        # An MP3's probed length runs a few frames past the decoded length the item's end
        # was computed from: that is not a cut.
        if natural is not None and natural <= slot.end + timedelta(seconds=TOLERANCE_S):
            self._done(slot, "played", None, ended_at=min(natural, slot.end))
        elif slot.end < slot.cue.end:
            self._done(slot, "partial", "cut", ended_at=slot.end)
        elif natural is None:  # a relay, or a file of unknown length: its whole window
            self._done(slot, "played", None, ended_at=slot.end)
        else:
            self._done(slot, "partial", "cut at its end", ended_at=slot.end)

    def _cut(self, item_id: str, at: datetime) -> None:
        for slot in [s for s in self._slots if s.cue.item_id == item_id]:
            slot.end = min(slot.end, at)
            if slot.started_at is None:
                if slot.end <= slot.cue.start:
                    self._done(slot, "interrupted", "cut before its start")
            elif slot.end <= self.clock():
                self._done(slot, "partial", "cut", ended_at=max(slot.end, slot.cue.start))
            else:
                self._arm_end(slot)

    def _stop(self, detail: str) -> None:
        if self._on_air is not None:
            self._done(self._on_air, "interrupted", detail)

    def _close(self, done: threading.Event) -> None:
        for slot in list(self._slots):
            self._done(slot, "interrupted", "the player was closed")
        done.set()

    def _done(
        self, slot: _Slot, status: Status, detail: str | None, ended_at: datetime | None = None
    ) -> None:
        if slot.timer is not None:
            slot.timer.cancel()
        if slot in self._slots:
            self._slots.remove(slot)
        if self._on_air is slot:
            self._on_air = None
        self._refresh()
        started = slot.started_at
        ended = ended_at or self.clock()
        if started is not None:
            ended = max(ended, started)
        self._notify.send(CueResult(slot.cue.item_id, status, started, ended, detail))

    def _refresh(self) -> None:
        if self._on_air is not None:
            self._playing = self._on_air.cue.item_id
        elif self._slots:
            self._playing = min(self._slots, key=lambda s: s.cue.start).cue.item_id
        else:
            self._playing = None
