"""What is inside a file, judged by its content (never by its name).

``ffprobe -print_format json`` when ffprobe exists; otherwise the banner ``ffmpeg -i``
prints on stderr, which carries the same facts for the first audio stream. A file ffmpeg
cannot open at all is :class:`UnsupportedFormat` (415), unless its first bytes show it is
a known audio container, in which case it is a damaged recording: :class:`Unplayable`.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audio.errors import Unplayable, UnsupportedFormat
from audio.tools import FfmpegSettings, ffmpeg_path, ffprobe_path, run

PROBE_TIMEOUT_S = 30.0
# First bytes of audio containers: a file starting like this is audio, even if broken.
AUDIO_MAGIC = (b"ID3", b"RIFF", b"OggS", b"fLaC", b"#!AMR", b"\xff\xfb", b"\xff\xf3")
MP4_MAGIC = b"ftyp"  # at offset 4: m4a, 3gp


@dataclass(frozen=True)
class ProbeResult:
    """The container and its first audio stream; ``codec`` is None when there is none."""

    format_name: str
    codec: str | None
    duration_s: float | None
    sample_rate: int | None
    channels: int | None
    bit_rate: int | None  # bits per second, of the stream if known else of the file

    @property
    def has_audio(self) -> bool:
        return self.codec is not None


def probe(path: Path, settings: FfmpegSettings, *, use_ffprobe: bool = True) -> ProbeResult:
    """Probe ``path``; ``use_ffprobe=False`` forces the ``ffmpeg -i`` fallback."""
    ffprobe = ffprobe_path(settings) if use_ffprobe else None
    try:
        if ffprobe:
            return _with_ffprobe(ffprobe, path)
        return _with_ffmpeg(ffmpeg_path(settings), path)
    except subprocess.TimeoutExpired as exc:
        raise Unplayable(detail=f"probe timed out: {exc}") from exc


def _unreadable(path: Path, stderr: str) -> Exception:
    with path.open("rb") as fh:
        head = fh.read(12)
    if head.startswith(AUDIO_MAGIC) or head[4:8] == MP4_MAGIC:
        return Unplayable(detail=stderr.strip()[-500:])
    return UnsupportedFormat(detail=stderr.strip()[-500:])


def _with_ffprobe(ffprobe: str, path: Path) -> ProbeResult:
    cmd = [ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    done = run([*cmd, "--", str(path)], PROBE_TIMEOUT_S)
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise _unreadable(path, stderr)
    info = json.loads(done.stdout or b"{}")
    fmt = info.get("format", {})
    audio: dict[str, Any] = next(
        (s for s in info.get("streams", []) if s.get("codec_type") == "audio"), {}
    )
    return ProbeResult(
        format_name=fmt.get("format_name", "?"),
        codec=audio.get("codec_name"),
        duration_s=_float(audio.get("duration")) or _float(fmt.get("duration")),
        sample_rate=_int(audio.get("sample_rate")),
        channels=_int(audio.get("channels")),
        bit_rate=_int(audio.get("bit_rate")) or _int(fmt.get("bit_rate")),
    )


_INPUT = re.compile(r"^Input #0, (.+), from '", re.M)
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")
_FILE_RATE = re.compile(r"Duration: [^\n]*bitrate: (\d+) kb/s")
_AUDIO = re.compile(r"Stream #0:\d+\S*: Audio: (\w+)([^\n]*)")
_HZ = re.compile(r", (\d+) Hz")
_LAYOUT = re.compile(r" Hz, ([^,]+)")
_KBPS = re.compile(r"(\d+) kb/s")
_LAYOUT_CHANNELS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "5.0": 5, "5.1": 6, "7.1": 8}


def _with_ffmpeg(ffmpeg: str, path: Path) -> ProbeResult:
    """Parse the ``Input #0`` banner; ffmpeg exits 1 here by design (no output file)."""
    done = run([ffmpeg, "-hide_banner", "-nostdin", "-i", str(path)], PROBE_TIMEOUT_S)
    stderr = done.stderr.decode("utf-8", "replace")
    found = _INPUT.search(stderr)
    if not found:
        raise _unreadable(path, stderr)
    duration = _DURATION.search(stderr)
    audio = _AUDIO.search(stderr)
    rest = audio.group(2) if audio else ""
    hz, layout, kbps = _HZ.search(rest), _LAYOUT.search(rest), _KBPS.search(rest)
    file_kbps = _FILE_RATE.search(stderr)
    kbps_value = kbps or file_kbps
    return ProbeResult(
        format_name=found.group(1),
        codec=audio.group(1) if audio else None,
        duration_s=(
            int(duration.group(1)) * 3600 + int(duration.group(2)) * 60 + float(duration.group(3))
            if duration
            else None
        ),
        sample_rate=int(hz.group(1)) if hz else None,
        channels=_channels(layout.group(1).strip()) if layout else None,
        bit_rate=int(kbps_value.group(1)) * 1000 if kbps_value else None,
    )


def _channels(layout: str) -> int | None:
    if layout in _LAYOUT_CHANNELS:
        return _LAYOUT_CHANNELS[layout]
    match = re.match(r"(\d+) channels", layout)
    return int(match.group(1)) if match else None


def _float(value: object) -> float | None:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _int(value: object) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None
