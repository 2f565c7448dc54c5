"""libvlc's start latency: from ``play()`` to the instant its first sample is due.

Measured, not assumed. With libvlc 3.0 it is about 66 ms for MP3 and 14 ms for WAV, with a
spread of a millisecond or two, but it depends on the codec, on a seek (``offset_s``) and on
the machine. So before a file airs, a *dry run* plays it into a callback that throws the
sound away and times its first block (the ``pts`` libvlc stamps on it says when it would be
heard). The start is then led by the median of the recent measurements for that kind of
file (its suffix): one slow dry run does not move the start. The dry run also proves the
file decodes before its instant comes.
"""

from __future__ import annotations

import logging
import math
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import vlc

from audio.player.deck import CLOCK_OFFSET_S

log = logging.getLogger(__name__)

DEFAULTS = {".mp3": 0.066, ".wav": 0.015}
FALLBACK_S = 0.06
KEEP = 9  # measurements per kind that the median looks at
SETTLED = 3  # dry runs per file until a kind has this many measurements
RUN_S = 0.15  # time a dry run may take (they take 15–70 ms on an idle machine)
QUIET_S = 0.05  # and how far it keeps from a start


@dataclass(frozen=True)
class DryRun:
    latency_s: float | None  # None: no sound came
    error: str | None = None


def media_kind(path: Path) -> str:
    return path.suffix.lower() or "?"


class Latency:
    """``starts`` are the monotonic instants when the player will start libvlc players:
    no dry run overlaps one (it would take CPU from the start it must not delay)."""

    def __init__(
        self,
        instance: vlc.Instance,
        sample_rate: int = 44100,
        starts: Callable[[], Iterable[float]] = tuple,
    ) -> None:
        self._instance = instance
        self._rate = sample_rate
        self._starts = starts
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._dry_lock = threading.Lock()

    def _quiet(self, deadline: float) -> bool:
        """Wait until a dry run would overlap no start; False if that is after ``deadline``."""
        while True:
            now = time.monotonic()
            if now + RUN_S > deadline:
                return False
            near = [t for t in self._starts() if now - QUIET_S < t < now + RUN_S + QUIET_S]
            if not near:
                return True
            time.sleep(max(near) + QUIET_S - now)

    def estimate(self, kind: str) -> float:
        with self._lock:
            seen = list(self._seen.get(kind, ()))
        return statistics.median(seen) if seen else DEFAULTS.get(kind, FALLBACK_S)

    def observe(self, kind: str, seconds: float) -> None:
        if 0 <= seconds < 1.0:  # anything else is a stall, not a latency
            with self._lock:
                self._seen.setdefault(kind, deque(maxlen=KEEP)).append(seconds)

    def dry_run(
        self,
        path: Path,
        offset_s: float = 0.0,
        deadline: float = math.inf,
        timeout_s: float = 3.0,
    ) -> DryRun:
        """Play ``path`` (from ``offset_s``) until its first block; record the latency.

        One at a time (two at once slow each other down), and none begins after
        ``deadline`` (monotonic): the start must not wait for its measurement. The first of
        a kind in this process gets a run that is thrown away (it pays for loading libvlc's
        modules and the file into memory, which later starts do not), and until a kind has
        ``SETTLED`` measurements, several runs are made, so one slow run cannot set the lead
        alone. ``DryRun(None)`` without an error: there was no time."""
        kind = media_kind(path)
        took: list[float] = []
        with self._dry_lock:
            with self._lock:
                seen = len(self._seen.get(kind, ()))
            runs = max(SETTLED - seen, 1) + (seen == 0)
            for run in range(runs):
                if not self._quiet(deadline):
                    break
                trial = self._trial(path, offset_s, timeout_s)
                if trial.latency_s is None:
                    return trial  # no sound: the file is broken
                if run > 0 or seen > 0:  # the very first run only warmed up
                    took.append(trial.latency_s)
        if not took:
            return DryRun(None)
        for seconds in took:
            self.observe(kind, seconds)
        log.debug("dry run of %s: %s ms", path.name, ", ".join(f"{t * 1e3:.1f}" for t in took))
        return DryRun(statistics.median(took))

    def _trial(self, path: Path, offset_s: float, timeout_s: float) -> DryRun:
        first: list[float] = []
        done = threading.Event()

        @vlc.CallbackDecorators.AudioPlayCb
        def play(_opaque: int, _samples: int, _count: int, pts: int) -> None:
            if not first:
                first.append(pts / 1e6 - CLOCK_OFFSET_S)
                done.set()

        player = self._instance.media_player_new()
        media = self._instance.media_new_path(str(path))
        try:
            player.audio_set_callbacks(play, None, None, None, None, None)
            player.audio_set_format("S16N", self._rate, 2)
            if offset_s > 0:
                media.add_option(f":start-time={offset_s:.3f}")
            player.set_media(media)
            events = player.event_manager()
            ended = vlc.EventType.MediaPlayerEndReached, vlc.EventType.MediaPlayerEncounteredError
            for kind in ended:
                events.event_attach(kind, lambda _e: done.set())
            called = time.monotonic()
            player.play()
            done.wait(timeout_s)
        finally:
            player.stop()
            player.release()
            media.release()
        if not first:
            return DryRun(None, "libvlc found no sound it can decode in the file")
        return DryRun(first[0] - called)
