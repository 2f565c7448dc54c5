"""Tiny real audio files for the audio tests, made on the spot with ffmpeg and espeak-ng.

Every file is a few seconds long, so the whole audio suite stays fast; levels are exact
(``aevalsrc`` formulas), so tests can expect values BS.1770 predicts, e.g. a 1 kHz sine of
amplitude A measures −3.01 + 20·log10(A) LUFS.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np

from config.settings import Settings

FFMPEG = shutil.which("ffmpeg") or imageio_ffmpeg.get_ffmpeg_exe()
ESPEAK = shutil.which("espeak-ng")
RATE = 44100


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(instance_path=tmp_path / "instance", **overrides)


def ffmpeg(*args: str, binary: str = FFMPEG) -> None:
    subprocess.run([binary, "-nostdin", "-v", "error", "-y", *args], check=True)


def tone(
    path: Path,
    seconds: float,
    freq: float = 1000,
    amplitude: float = 0.1,
    channels: int = 1,
    codec: tuple[str, ...] = (),
) -> Path:
    """A sine of exact peak ``amplitude`` (1 kHz at 0.1 → −23.0 LUFS in mono)."""
    expr = f"{amplitude}*sin(2*PI*{freq}*t)"
    source = f"aevalsrc={'|'.join([expr] * channels)}:s={RATE}:d={seconds}"
    ffmpeg("-f", "lavfi", "-i", source, *codec, str(path))
    return path


def make_recording(path: Path, *, seconds: float = 4.0, volume_db: float = -12.0) -> Path:
    """A phone-style recording: stereo AAC of a quiet pulsing tone (about −30 LUFS), with
    1 s of silence before and 1.5 s after."""
    sine = f"sine=frequency=440:duration={seconds}:sample_rate={RATE}"
    shape = f"volume={volume_db}dB,apulsator=hz=2,adelay=1000:all=1,apad=pad_dur=1.5"
    ffmpeg(
        "-f", "lavfi", "-i", sine, "-af", shape, "-ac", "2", "-c:a", "aac", "-b:a", "96k", str(path)
    )
    return path


def silence_tone_silence(path: Path, lead: float, middle: float, tail: float) -> Path:
    """Digital silence, a 1 kHz tone at −20 dBFS peak, digital silence."""
    expr = f"if(between(t,{lead},{lead + middle}),0.1*sin(2*PI*1000*t),0)"
    ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{expr}':s={RATE}:d={lead + middle + tail}", str(path))
    return path


def silence(path: Path, seconds: float, codec: tuple[str, ...] = ()) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"anullsrc=r={RATE}:cl=mono", "-t", str(seconds), *codec, str(path))
    return path


def noise(path: Path, seconds: float, amplitude: float = 0.3, channels: int = 2) -> Path:
    """Pink noise, a stand-in for music and crowds: peaky, so the limiter has work."""
    src = f"anoisesrc=d={seconds}:c=pink:r={RATE}:a={amplitude}:seed=7"
    ffmpeg("-f", "lavfi", "-i", src, "-ac", str(channels), str(path))
    return path


def speech(path: Path, text: str = "Xin chào bà con, đây là loa truyền thanh của xã.") -> Path:
    """Vietnamese speech from espeak-ng (22.05 kHz mono WAV)."""
    assert ESPEAK, "espeak-ng is not installed"
    subprocess.run([ESPEAK, "-v", "vi", "-w", str(path), text], check=True, capture_output=True)
    return path


def speech_with_pause(path: Path, pause_s: float = 1.0) -> Path:
    """Two sentences with ``pause_s`` of digital silence between them (and no silence
    before or after beyond espeak's own), written as 44.1 kHz mono WAV."""
    first = speech(path.with_name("first.wav"), "Thông báo của Ủy ban nhân dân xã.")
    second = speech(path.with_name("second.wav"), "Mời bà con đi họp lúc bảy giờ tối.")
    graph = (
        f"[0]aresample={RATE}[a];[1]aresample={RATE},adelay={int(pause_s * 1000)}[b];"
        "[a][b]concat=n=2:v=0:a=1"
    )
    ffmpeg("-i", str(first), "-i", str(second), "-filter_complex", graph, "-ac", "1", str(path))
    return path


def convert(source: Path, dest: Path, *codec: str, binary: str = FFMPEG) -> Path:
    ffmpeg("-i", str(source), *codec, str(dest), binary=binary)
    return dest


def long_mp3(path: Path, seconds: int) -> Path:
    """A long MP3 for the duration limit, cheaply: one minute at 8 kHz/8 kbps, looped by
    stream copy (no re-encoding), so two hours cost a fraction of a second."""
    minute = tone(path.with_name("minute.mp3"), 60, freq=440, codec=("-ar", "8000", "-b:a", "8k"))
    ffmpeg("-stream_loop", str(seconds // 60 - 1), "-i", str(minute), "-c", "copy", str(path))
    return path


def video_without_audio(path: Path) -> Path:
    """A one-second MP4 with a picture and no sound track."""
    ffmpeg("-f", "lavfi", "-i", "testsrc=d=1:s=64x48:r=10", "-c:v", "mpeg4", str(path))
    return path


def pdf(path: Path) -> Path:
    """A minimal PDF (the kind of wrong file people attach by mistake)."""
    path.write_bytes(
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )
    return path


def random_bytes(path: Path, size: int = 50_000, seed: int = 1) -> Path:
    path.write_bytes(np.random.default_rng(seed).bytes(size))
    return path


def truncated(source: Path, dest: Path, fraction: float = 0.5) -> Path:
    """The first ``fraction`` of ``source``'s bytes: an upload cut off mid-way."""
    data = source.read_bytes()
    dest.write_bytes(data[: int(len(data) * fraction)])
    return dest


def amr_encoder() -> str | None:
    """An ffmpeg that can write AMR-NB (Debian's cannot; the imageio-ffmpeg wheel can)."""
    for binary in (FFMPEG, imageio_ffmpeg.get_ffmpeg_exe()):
        listing = subprocess.run(
            [binary, "-hide_banner", "-encoders"], capture_output=True, text=True
        ).stdout
        if "amr_nb" in listing:
            return binary
    return None


def decode(path: Path, rate: int = RATE) -> np.ndarray:
    """Float32 mono samples of any file, for checking results independently."""
    done = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"],
        check=True,
        capture_output=True,
    )
    return np.frombuffer(done.stdout, dtype="<f4")


def ffprobe_json(path: Path) -> dict[str, Any]:
    import json

    ffprobe = shutil.which("ffprobe")
    assert ffprobe, "ffprobe is needed to check results"
    done = subprocess.run(
        [
            ffprobe,
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
            str(path),
        ],
        check=True,
        capture_output=True,
    )
    return dict(json.loads(done.stdout))
