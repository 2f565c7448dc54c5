"""ffmpeg: where it lives, and the three ways we use it (decode, encode, calibrate).

The system ffmpeg (Debian package) is preferred because it comes with ffprobe; the
imageio-ffmpeg wheel is the fallback so a server without root can still process audio,
and then :mod:`audio.probe` parses ``ffmpeg -i`` instead. Commands are always argument
lists, never a shell string: file names come from users. Audio crosses the process
boundary as raw float32 through pipes, never as temporary WAV files.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from audio.errors import Unplayable

Samples = npt.NDArray[np.float32]
# ffmpeg warnings that say nothing about damage.
HARMLESS = re.compile(r"Estimating duration from bitrate|Guessed Channel Layout", re.I)


class FfmpegSettings(Protocol):
    """The one setting this module reads (``config.settings.Settings`` has it)."""

    @property
    def ffmpeg_path(self) -> str | None: ...


def ffmpeg_path(settings: FfmpegSettings) -> str:
    """The configured ffmpeg, else the one on PATH, else the imageio-ffmpeg wheel's."""
    if settings.ffmpeg_path:
        return settings.ffmpeg_path
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg  # imported late: it looks for its binary when called

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def ffprobe_path(settings: FfmpegSettings) -> str | None:
    """The ffprobe that belongs with :func:`ffmpeg_path`, or None (wheel ffmpeg only).

    A configured ffmpeg is paired only with an ffprobe in the same directory, so the
    two never come from different builds.
    """
    ffmpeg = Path(ffmpeg_path(settings))
    sibling = ffmpeg.with_name("ffprobe" + ffmpeg.suffix)
    if sibling.is_file():
        return str(sibling)
    if settings.ffmpeg_path:
        return None
    return shutil.which("ffprobe")


def run(
    cmd: Sequence[str], timeout: float, input: bytes | memoryview | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``cmd`` without a shell, capture stdout and stderr as bytes, never raise on a
    non-zero exit (callers judge the result); raise ``subprocess.TimeoutExpired`` after
    ``timeout`` seconds, having killed the process."""
    return subprocess.run(
        list(cmd), input=input, capture_output=True, timeout=timeout, check=False, shell=False
    )


def timeout_for(duration_s: float) -> float:
    """Generous: ffmpeg runs at ≥ 20× real time even on a small ARM board."""
    return 60.0 + duration_s


def decode_pcm(
    ffmpeg: str, path: Path, sample_rate: int, timeout: float
) -> tuple[Samples, list[str]]:
    """The first audio stream as float32 mono, and ffmpeg's warnings (harmless ones
    dropped: the caller decides what the others mean). Failure or hang → Unplayable."""
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-v", "warning", "-i", str(path)]
    cmd += ["-map", "0:a:0", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"]
    try:
        done = run(cmd, timeout)
    except subprocess.TimeoutExpired as exc:
        raise Unplayable(detail=f"decoding took over {timeout:.0f} s") from exc
    lines = done.stderr.decode("utf-8", "replace").splitlines()
    warnings = [line for line in lines if line.strip() and not HARMLESS.search(line)]
    if done.returncode != 0:
        raise Unplayable(detail="; ".join(warnings[-3:]))
    return np.frombuffer(done.stdout, dtype="<f4"), warnings


def encode_mp3(samples: Samples, out: Path, ffmpeg: str, sample_rate: int, kbps: int) -> None:
    """Float32 mono samples → CBR MP3 through a pipe (the samples are not copied)."""
    cmd = [ffmpeg, "-nostdin", "-hide_banner", "-v", "error", "-y", "-f", "f32le"]
    cmd += ["-ar", str(sample_rate), "-ac", "1", "-i", "pipe:0", "-c:a", "libmp3lame"]
    cmd += ["-b:a", f"{kbps}k", "-ar", str(sample_rate), "-ac", "1", "-map_metadata", "-1"]
    data = np.ascontiguousarray(samples, dtype="<f4")
    view = data.data.cast("B")  # a byte view: subprocess slices it by bytes
    done = run([*cmd, str(out)], timeout_for(len(data) / sample_rate), view)
    if done.returncode != 0:
        raise RuntimeError(f"MP3 encoding failed: {done.stderr.decode(errors='replace')}")


@functools.lru_cache(maxsize=8)
def encoder_gain(ffmpeg: str, sample_rate: int, kbps: int) -> float:
    """The level change libmp3lame applies by itself, measured once per process.

    LAME's CBR/ABR presets scale the input (about ×0.95, −0.45 dB, as clipping insurance),
    so every file would land half a LU under the target. A pure scale is the same for any
    signal, so one second of 997 Hz sine through the real encoder measures it exactly."""
    sr = sample_rate
    tone = (0.25 * np.sin(2 * np.pi * 997 * np.arange(sr) / sr)).astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="loaxa-calibrate-") as tmp:
        encode_mp3(tone, Path(tmp) / "tone.mp3", ffmpeg, sr, kbps)
        back, _ = decode_pcm(ffmpeg, Path(tmp) / "tone.mp3", sr, timeout_for(1))
    middle = slice(sr // 4, 3 * sr // 4)
    rms = np.sqrt(np.mean(np.square(back[middle], dtype=np.float64)))
    return float(rms / np.sqrt(np.mean(np.square(tone[middle], dtype=np.float64))))
