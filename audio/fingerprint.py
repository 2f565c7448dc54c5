"""Acoustic fingerprints (Chromaprint's ``fpcalc``): was what aired the file that was planned?

``fingerprint(path)`` is the raw Chromaprint fingerprint, one 32-bit word per ~0.124 s of
audio. ``similarity(aired, reference)`` slides the shorter over the longer and returns the
best share of equal bits: the same audio re-encoded, or recorded off the air, stays well
above :data:`SAME_AUDIO`; unrelated audio sits near 0.5 (random bits).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from audio.errors import AudioError
from audio.tools import run

SAME_AUDIO = 0.8  # share of equal bits above which two fingerprints are the same audio
MIN_WORDS = 16  # about 2 s: less than that says nothing either way
SECONDS_PER_WORD = 0.1238  # Chromaprint's default: 4096-sample hops at 11,025 Hz / 3


def available(tool: str = "fpcalc") -> bool:
    return shutil.which(tool) is not None


def fingerprint(path: Path, tool: str = "fpcalc", max_seconds: int = 4 * 3600) -> list[int]:
    """The raw fingerprint of the audio file at ``path`` (its first ``max_seconds``)."""
    if not available(tool):
        raise AudioError(f"{tool} is not installed (apt-get install libchromaprint-tools)")
    try:
        done = run(
            [tool, "-raw", "-json", "-length", str(max_seconds), str(path)],
            timeout=60 + max_seconds / 20,
        )
    except subprocess.TimeoutExpired as exc:
        raise AudioError(f"{tool} took too long on {path.name}") from exc
    return _parse(done.stdout, done.stderr, tool, path.name)


def _parse(out: bytes, err: bytes, tool: str, what: str) -> list[int]:
    # fpcalc 1.5 may exit non-zero after a complete fingerprint ("Error decoding audio frame
    # (End of file)" at the end of a WAV): what it printed is what counts.
    try:
        words = json.loads(out)["fingerprint"]
    except (ValueError, KeyError, TypeError):
        why = err.decode("utf-8", "replace").strip()[-200:]
        raise AudioError(f"{tool} could not read {what}: {why}") from None
    return [int(word) & 0xFFFFFFFF for word in words]


def fingerprint_stream(url: str, seconds: float, tool: str = "fpcalc") -> list[int]:
    """The raw fingerprint of a live stream over the next ``seconds`` (fpcalc reads it in
    real time; a stream that ends early gives what it sent)."""
    if not available(tool):
        raise AudioError(f"{tool} is not installed (apt-get install libchromaprint-tools)")
    command = [tool, "-raw", "-json", "-length", str(max(1, round(seconds))), url]
    try:
        done = run(command, timeout=seconds + 30)
    except subprocess.TimeoutExpired as exc:  # it prints only at the end: nothing to keep
        raise AudioError(f"{tool}: the stream {url} stalled") from exc
    return _parse(done.stdout, done.stderr, tool, url)


def fingerprint_pcm(
    chunks: Iterable[bytes], rate: int, channels: int, seconds: float, tool: str = "fpcalc"
) -> list[int]:
    """The raw fingerprint of 16-bit little-endian PCM fed through a pipe (an off-air
    recording: no temporary file, however long the airing)."""
    if not available(tool):
        raise AudioError(f"{tool} is not installed (apt-get install libchromaprint-tools)")
    command = [
        tool,
        "-format",
        "s16le",
        "-rate",
        str(rate),
        "-channels",
        str(channels),
        "-raw",
        "-json",
        "-length",
        str(int(seconds) + 1),
        "-",
    ]
    with subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdin is not None
        try:
            for chunk in chunks:
                proc.stdin.write(chunk)
        except BrokenPipeError:
            pass  # it had all it wanted (-length): what it prints is what counts
        try:
            out, err = proc.communicate(timeout=60 + seconds / 20)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            raise AudioError(f"{tool} took too long on {seconds:.0f} s of audio") from exc
    return _parse(out, err, tool, "the recording")


def similarity(aired: Sequence[int], reference: Sequence[int]) -> float | None:
    """The best share of equal bits with the shorter fingerprint laid anywhere along the
    longer one (an airing joined late, or cut short, is part of its file); None when one of
    them is too short to judge."""
    a, r = _words(aired), _words(reference)
    if len(a) > len(r):
        a, r = r, a
    if len(a) < MIN_WORDS:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(r, len(a))
    best = len(a) * 32
    for start in range(0, len(windows), 256):  # bounded memory for long files
        differing = np.bitwise_count(windows[start : start + 256] ^ a).sum(axis=1)
        best = min(best, int(differing.min()))
    return 1.0 - best / (len(a) * 32)


def _words(values: Sequence[int]) -> npt.NDArray[np.uint32]:
    return np.asarray([v & 0xFFFFFFFF for v in values], dtype=np.uint32)
