"""The off-air log: everything the station airs, in order, in one WAV file on a clock grid.

Sample ``n`` of the file is the sound of monotonic instant ``started_mono + n / rate``
(the player exposes the same instant as wall time, ``recording_started_at``). Each libvlc
player feeds a :class:`Tap` from its audio callbacks: blocks arrive up to ~1 s before they
are due, stamped with the instant they must be heard (libvlc's ``pts``), and are placed at
that instant (or when they came, if that was later), not appended. A writer thread
commits the grid ``lag_s`` behind now — silence where nothing was placed, so gaps between
items are real gaps — and keeps the header valid.

Taps emulate a sound card for libvlc: ``drain`` waits until the last sample is heard (so
libvlc's end-of-media event comes at the real end, not ~1 s early), ``flush`` (on stop)
drops what is not heard yet. A tap's *gate* limits what it may air: nothing before
``open`` (a relay opened early is silent until its start), nothing from ``close`` on (an
end or a cut, to the sample). At most one thing airs at a time: the first sample a tap
airs closes the gate of any tap that was airing before it.
"""

from __future__ import annotations

import logging
import math
import struct
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Frames = npt.NDArray[np.int16]  # shape (n, channels)
WAV_LIMIT = 0xFFFFFFFF - 36  # the RIFF size field is 32 bits
NEVER = 1 << 62  # a gate index that is never reached
SNAP_S = 0.002  # blocks this close to where the previous one ended are made contiguous
RESYNC_S = 0.1  # a tap this far behind its blocks' instants drops samples to catch up


def wav_header(rate: int, channels: int, data_bytes: int) -> bytes:
    """A 44-byte canonical header for 16-bit PCM."""
    block = channels * 2
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * block, block, 16)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


class Capture:
    """One WAV file fed by taps; ``close()`` finalises it."""

    def __init__(
        self,
        path: Path,
        sample_rate: int = 44100,
        channels: int = 2,
        *,
        lag_s: float = 0.5,
        flush_s: float = 0.1,
    ) -> None:
        self.path, self.rate, self.channels = path, sample_rate, channels
        self.lag_s, self.flush_s = lag_s, flush_s
        self.lock = threading.Lock()
        self.taps: list[Tap] = []
        self.late_frames = 0  # samples that came after their instant was written: dropped
        self._file: BinaryIO = path.open("wb")
        self._file.write(wav_header(sample_rate, channels, 0))
        self._committed = 0  # frames mixed (the grid is fixed up to here)
        self._written = 0  # frames in the file, flushed: what a reader may read
        self._full = False
        self._closed = threading.Event()
        self.started_mono = time.monotonic()
        self._writer = threading.Thread(target=self._run, name="capture-writer", daemon=True)
        self._writer.start()

    # -- the grid -----------------------------------------------------------------------
    def index(self, mono: float) -> int:
        return round((mono - self.started_mono) * self.rate)

    def mono(self, index: float) -> float:
        return self.started_mono + index / self.rate

    @property
    def frames_written(self) -> int:
        return self._committed

    def tap(
        self,
        name: str,
        open_at: float = -math.inf,
        close_at: float = math.inf,
        on_first: Callable[[Tap], None] | None = None,
        on_drain: Callable[[Tap], None] | None = None,
    ) -> Tap:
        tap = Tap(self, name, open_at, close_at, on_first, on_drain)
        with self.lock:
            self.taps.append(tap)
        return tap

    def span(self, start_mono: float, end_mono: float, timeout_s: float) -> Iterator[bytes]:
        """What aired from ``start_mono`` to ``end_mono``, as 16-bit PCM chunks read back from
        the file — once the writer has put it there (it runs ``lag_s`` behind), waiting up to
        ``timeout_s``. A span the file could not hold (its size limit) is cut to what it has."""
        first, last = max(0, self.index(start_mono)), max(0, self.index(end_mono))
        deadline = time.monotonic() + timeout_s
        while self._written < last and not self._full and not self._closed.is_set():
            if time.monotonic() > deadline:
                break
            time.sleep(self.flush_s)
        last = min(last, self._written)
        block = self.channels * 2
        with self.path.open("rb") as fh:
            fh.seek(44 + first * block)
            left = max(0, last - first) * block
            while left > 0 and (chunk := fh.read(min(left, 1 << 20))):
                left -= len(chunk)
                yield chunk

    def close(self) -> None:
        """Write everything up to now (silence where nothing plays) and finalise the header."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._writer.join(timeout=10)
        self._commit(self.index(time.monotonic()))
        self._file.close()
        if self.late_frames:
            log.warning("capture: %d samples came too late to be written", self.late_frames)

    # -- writing ----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._closed.wait(self.flush_s):
            try:
                self._commit(self.index(time.monotonic() - self.lag_s))
            except Exception:
                log.exception("capture: writing %s failed", self.path)

    def _commit(self, target: int) -> None:
        with self.lock:
            start = self._committed
            if target <= start:
                return
            mix = np.zeros((target - start, self.channels), dtype=np.int32)
            for tap in self.taps:
                tap.take(start, target, mix)
            self.taps = [t for t in self.taps if not (t.released and not t.blocks)]
            self._committed = target
        data = np.clip(mix, -32768, 32767).astype("<i2").tobytes()
        if self._full:
            return
        size = start * self.channels * 2
        if size + len(data) > WAV_LIMIT:
            log.error("capture: %s reached the WAV size limit; recording stops", self.path)
            self._full = True
            return
        self._file.write(data)
        size += len(data)
        self._file.seek(4)
        self._file.write(struct.pack("<I", 36 + size))
        self._file.seek(40)
        self._file.write(struct.pack("<I", size))
        self._file.seek(0, 2)
        self._file.flush()
        self._written = start + len(mix)


class Tap:
    """One player's audio on its way into the capture (see the module docstring)."""

    def __init__(
        self,
        capture: Capture,
        name: str,
        open_at: float,
        close_at: float,
        on_first: Callable[[Tap], None] | None,
        on_drain: Callable[[Tap], None] | None,
    ) -> None:
        self.capture, self.name = capture, name
        self.gate_open = capture.index(open_at) if math.isfinite(open_at) else -NEVER
        self.gate_close = capture.index(close_at) if math.isfinite(close_at) else NEVER
        self.on_first, self.on_drain = on_first, on_drain
        self.blocks: list[tuple[int, Frames]] = []
        self.first: int | None = None  # index of the first sample aired
        self.end: int | None = None  # index after the last sample aired
        self.arrived: int | None = None  # index after the newest sample delivered, aired or not
        self.drained = False
        self.released = False
        self._next: int | None = None
        self._release = threading.Event()

    @property
    def first_at(self) -> float | None:
        return None if self.first is None else self.capture.mono(self.first)

    @property
    def end_at(self) -> float | None:
        return None if self.end is None else self.capture.mono(self.end)

    @property
    def arrived_at(self) -> float | None:
        return None if self.arrived is None else self.capture.mono(self.arrived)

    # -- called by libvlc's threads --------------------------------------------------------
    def write(self, pts_mono: float, frames: Frames) -> None:
        """Place ``frames`` (shape (n, channels)) to be heard from ``pts_mono`` on.

        As a sound card would: a block that comes after its instant is heard when it comes
        (libvlc's first block sometimes carries an instant already past); a block that
        overlaps this tap's earlier sound queues behind it, or, when it is more than
        ``RESYNC_S`` behind, loses its overlapping start so the tap is back on time."""
        cap = self.capture
        at = max(cap.index(pts_mono), cap.index(time.monotonic()))
        if self._next is not None:
            behind = self._next - at
            if behind > RESYNC_S * cap.rate:
                frames, at = frames[behind:], self._next
            elif -SNAP_S * cap.rate <= behind:
                at = self._next  # queued, or rounding jitter: keep the signal contiguous
        if len(frames) == 0:
            return
        self._next = at + len(frames)
        first = False
        with cap.lock:
            self.arrived = self._next if self.arrived is None else max(self.arrived, self._next)
            lo = max(at, self.gate_open, cap._committed)
            hi = min(at + len(frames), self.gate_close)
            if at < cap._committed and hi > at:
                cap.late_frames += min(hi, cap._committed) - at
            if lo >= hi or self.released:
                return
            self.blocks.append((lo, frames[lo - at : hi - at]))
            self.end = hi if self.end is None else max(self.end, hi)
            if self.first is None:
                first = True
                self.first = lo
                for other in cap.taps:  # one thing on air: this start ends whatever aired
                    if other is not self and other.first is not None and other.first <= lo:
                        other._close_locked(lo)
        if first and self.on_first is not None:
            self.on_first(self)

    def drain(self) -> None:
        """The media has no more samples: wait, like a sound card, until the last is heard."""
        self.drained = True
        if self.on_drain is not None:
            self.on_drain(self)
        while not self._release.is_set():
            end = self.end_at
            remaining = 0.0 if end is None else end - time.monotonic()
            if remaining <= 0:
                return
            self._release.wait(min(remaining, 0.1))

    def flush(self) -> None:
        """Stop: what is not heard yet is never heard."""
        with self.capture.lock:
            self._trim(self.capture.index(time.monotonic()))

    # -- called by the player ---------------------------------------------------------------
    def open_gate(self, at_mono: float) -> None:
        """Nothing before ``at_mono`` airs (set before the player starts)."""
        with self.capture.lock:
            self.gate_open = self.capture.index(at_mono)

    def close_gate(self, at_mono: float) -> None:
        """Nothing from ``at_mono`` on airs (what was placed there already is removed)."""
        with self.capture.lock:
            self._close_locked(self.capture.index(at_mono))

    def release(self) -> None:
        """The player is being stopped: unblock ``drain``; accept nothing more."""
        self.released = True
        self._release.set()

    def take(self, start: int, stop: int, mix: npt.NDArray[np.int32]) -> None:
        """Add this tap's samples in [start, stop) into ``mix`` (capture lock held)."""
        keep: list[tuple[int, Frames]] = []
        for at, frames in self.blocks:
            end = at + len(frames)
            if at < stop and end > start:
                lo, hi = max(at, start), min(end, stop)
                mix[lo - start : hi - start] += frames[lo - at : hi - at]
            if end > stop:
                cut = max(stop - at, 0)
                keep.append((at + cut, frames[cut:]))
        self.blocks = keep

    def _close_locked(self, at: int) -> None:
        if at < self.gate_close:
            self.gate_close = at
            self._trim(at)

    def _trim(self, at: int) -> None:
        self.blocks = [(s, f[: max(at - s, 0)]) for s, f in self.blocks if s < at]
        if self.end is not None and self.end > at:
            self.end = at
            if self.first is not None and self.first >= at:
                self.first = self.end = None
