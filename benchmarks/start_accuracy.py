"""Benchmark: how close to its instant the first sample of a cue is due, MP3 and WAV.

The error of one start is (the instant its first sample is due) − (the scheduled instant).
"Due" is libvlc's own stamp: the ``pts`` on the first block its audio callback receives,
which is the instant a sound card would play it, mapped to wall time — or the instant the
block arrived, when that was later (now and then libvlc hands over a first block stamped
tens of ms in the past; no sound card can play it before it has it). Two ways to start:

1. ``compensated`` — :class:`audio.player.VlcPlayer`, as the agent uses it: ``play(cue)``
   ``--lead`` seconds before the start; the player parses and dry-runs the file, then calls
   libvlc's ``play()`` early by the measured latency. The first sample's instant is the
   outcome's ``started_at`` (read from the capture tap, i.e. from the same ``pts``).
2. ``naive`` — a libvlc player made and loaded ahead, ``play()`` called at the instant by a
   timer of the same kind (a condition wait on the monotonic clock).

Each method airs ``--trials`` cues per format, one every ``--every`` seconds (0.25 s tones).
The target from the issue: |error| p99 ≤ 20 ms for the compensated start.

Run from the project root::

    .venv/bin/python benchmarks/start_accuracy.py [--trials 50] [--lead 3] [--every 0.5]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import vlc

# The editable install may predate the player; run from a checkout regardless.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio.player import Cue, CueResult, VlcPlayer, utc_now
from audio.player.deck import CLOCK_OFFSET_S
from audio.player.loop import Loop

TONE_S = 0.25


def machine() -> str:
    model = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{model}; {os.cpu_count()} cores; load average {load}\n"
        f"python {platform.python_version()}, python-vlc {vlc.__version__}, "
        f"libvlc {vlc.libvlc_get_version().decode()}"
    )


def make_media(workdir: Path) -> dict[str, Path]:
    files = {"MP3": workdir / "tone.mp3", "WAV": workdir / "tone.wav"}
    for path in files.values():
        tone = f"sine=f=440:d={TONE_S}:r=44100"
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", tone, str(path)]
        subprocess.run(cmd, check=True)
    return files


def compensated(path: Path, trials: int, lead: float, every: float, workdir: Path) -> list[float]:
    """Errors (s) of VlcPlayer starts, read from the outcomes' ``started_at``."""
    outcomes: dict[str, CueResult] = {}
    done = threading.Condition()

    def on_done(outcome: CueResult) -> None:
        with done:
            outcomes[outcome.item_id] = outcome
            done.notify_all()

    player = VlcPlayer(on_done, capture=workdir / f"air-{path.suffix[1:]}.wav")
    first = utc_now() + timedelta(seconds=lead + 0.5)
    cues = []
    for i in range(trials):
        start = first + timedelta(seconds=i * every)
        cues.append(Cue(f"t{i}", path.name, start, start + timedelta(seconds=every), media=path))
    try:
        for cue in cues:  # each handed over ``lead`` before its start, as the agent does
            wait = (cue.start - timedelta(seconds=lead) - utc_now()).total_seconds()
            time.sleep(max(wait, 0))
            player.play(cue)
        with done:
            done.wait_for(lambda: len(outcomes) == trials, timeout=lead + 30)
    finally:
        player.close()
    errors = []
    for cue in cues:
        outcome = outcomes.get(cue.item_id)
        if outcome is None or outcome.started_at is None:
            print(f"  {cue.item_id}: {outcome}", file=sys.stderr)
            continue
        errors.append((outcome.started_at - cue.start).total_seconds())
    return errors


def naive(path: Path, trials: int, every: float) -> list[float]:
    """Errors (s) of libvlc's ``play()`` called at the instant, player and media ready."""
    instance = vlc.Instance(["--no-video", "--quiet", "--aout=adummy"])
    loop = Loop("naive")
    try:
        errors = [naive_start(instance, loop, path, every) for _ in range(trials)]
    finally:
        loop.close()
        instance.release()
    return [e for e in errors if e is not None]


def naive_start(instance: vlc.Instance, loop: Loop, path: Path, every: float) -> float | None:
    player = instance.media_player_new()
    media = instance.media_new_path(str(path))
    media.parse_with_options(vlc.MediaParseFlag.local, 2000)
    first: list[float] = []
    heard = threading.Event()

    @vlc.CallbackDecorators.AudioPlayCb
    def play(_opaque: int, _samples: int, _count: int, pts: int) -> None:
        if not first:  # due at its pts, or when it came if that was later (as the capture)
            first.append(max(pts / 1e6 - CLOCK_OFFSET_S, time.monotonic()))
            heard.set()

    player.audio_set_callbacks(play, None, None, None, None, None)
    player.audio_set_format("S16N", 44100, 2)
    player.set_media(media)
    instant = time.monotonic() + every
    loop.call_at(instant, player.play)
    heard.wait(every + 2)
    time.sleep(max(instant + TONE_S - time.monotonic(), 0))
    player.stop()
    player.release()
    media.release()
    return first[0] - instant if first else None


def report(name: str, errors: list[float]) -> None:
    ms = np.array(errors) * 1e3
    magnitude = np.abs(ms)
    p50, p95, p99 = np.percentile(magnitude, [50, 95, 99])
    s50, s5, s95 = np.percentile(ms, [50, 5, 95])
    print(
        f"{name:<18} n={len(ms):>3}  |error| p50 {p50:6.1f}  p95 {p95:6.1f}  p99 {p99:6.1f}  "
        f"max {magnitude.max():6.1f} ms   (signed: median {s50:+6.1f}, 5–95 % {s5:+.1f}…{s95:+.1f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--lead", type=float, default=3.0, help="play() this early (agent_lead_s)")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between starts")
    args = parser.parse_args()
    print(machine())
    print(f"{args.trials} starts per row; error = first sample due − scheduled instant\n")
    with tempfile.TemporaryDirectory(prefix="loaxa-start-") as tmp:
        workdir = Path(tmp)
        files = make_media(workdir)
        for fmt, path in files.items():
            report(f"{fmt} naive", naive(path, args.trials, args.every))
            errors = compensated(path, args.trials, args.lead, args.every, workdir)
            report(f"{fmt} compensated", errors)


if __name__ == "__main__":
    main()
