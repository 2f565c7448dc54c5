"""Benchmark: the ingest pipeline against ffmpeg's own two-pass ``loudnorm``, and TTS speed.

The target from the issue: ingesting a recording (probe → decode → trim → BS.1770
normalise with true-peak limiting → MP3 → measure → store) takes at most half the time of
ffmpeg's two-pass loudnorm doing the same job (measure, then normalise and encode to mono
MP3 at the same bit rate).

1. TTS: a 1,000-word Vietnamese bulletin through ``espeak-ng -v vi -w`` (called directly;
   the TTS module is someone else's), timed. Its speech is the test material below.
2. Inputs like a phone recording: the speech over a faint noise bed, stereo 44.1 kHz MP3
   128 kbit/s; 3 minutes, and 60 minutes (the 3 minutes looped by stream copy).
3. For each: our :func:`audio.pipeline.ingest` (per-step times from its debug log), then
   ffmpeg pass 1 (``loudnorm=…:print_format=json`` to null) and pass 2 (the measured values,
   ``linear=true``, libmp3lame). Both results are measured with our BS.1770 meter. The
   3-minute case runs ``--runs`` times each and compares the best times (the machine is
   shared); the long one runs once.

Run from the project root::

    .venv/bin/python benchmarks/pipeline.py [--long-minutes 60] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy

# The editable install may predate the audio package; run from a checkout regardless.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio.loudness import integrated_loudness, to_db, true_peak
from audio.pipeline import decode_file, ingest
from audio.store import MediaStore
from audio.tools import ffmpeg_path
from config.settings import Settings

PARAGRAPHS = [
    "Thông báo của Ủy ban nhân dân xã về việc tiêm chủng mở rộng cho trẻ em dưới năm tuổi.",
    "Đề nghị các gia đình có con nhỏ đưa trẻ đến trạm y tế xã vào sáng thứ bảy tuần này,",
    "mang theo sổ tiêm chủng và thẻ bảo hiểm y tế. Thời gian tiêm từ bảy giờ đến mười một giờ.",
    "Ban chỉ huy quân sự xã thông báo lịch khám sức khỏe nghĩa vụ quân sự cho thanh niên",
    "trong độ tuổi từ mười tám đến hai mươi lăm. Đề nghị các thôn trưởng thông báo đến",
    "từng hộ gia đình. Hội nông dân xã hướng dẫn bà con phòng trừ sâu cuốn lá nhỏ trên lúa",
    "vụ xuân, phun thuốc khi mật độ sâu vượt ngưỡng, không phun khi trời sắp mưa.",
    "Trạm khí tượng dự báo đêm nay và ngày mai có mưa rào và dông rải rác, nhiệt độ",
    "thấp nhất từ hai mươi hai đến hai mươi bốn độ. Bà con chú ý chằng chống nhà cửa.",
]


def bulletin(words: int = 1000) -> str:
    """A bulletin of exactly ``words`` words, the paragraphs above repeated as needed."""
    pool = " ".join(PARAGRAPHS).split()
    return " ".join(pool[i % len(pool)] for i in range(words))


def sh(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def timed_tts(workdir: Path) -> Path:
    text = bulletin(1000)
    out = workdir / "bulletin.wav"
    started = time.perf_counter()
    sh("espeak-ng", "-v", "vi", "-w", str(out), text)
    took = time.perf_counter() - started
    duration = ["-show_entries", "format=duration", "-of", "csv=p=0"]
    seconds = float(sh("ffprobe", "-v", "error", *duration, str(out)).stdout)
    print(f"TTS, espeak-ng -v vi: {len(text.split())} words, {len(text)} characters")
    print(
        f"  synthesis {took:.2f} s for {seconds / 60:.1f} min of speech "
        f"({seconds / took:.0f}× real time)"
    )
    return out


def make_inputs(ffmpeg: str, speech: Path, workdir: Path, long_minutes: int) -> list[Path]:
    """3 min of speech over a faint pink-noise bed, stereo MP3; then the long one by loop."""
    short = workdir / "phone-3min.mp3"
    graph = (
        "[0]aresample=44100,volume=-3dB,pan=stereo|c0=c0|c1=0.9*c0[s];"
        "anoisesrc=c=pink:a=0.004:r=44100:seed=3,pan=stereo|c0=c0|c1=c0[n];"
        "[s][n]amix=inputs=2:duration=first:normalize=0"
    )
    quiet = ["-v", "error", "-y", "-nostdin"]
    loop = ["-stream_loop", "-1", "-i", str(speech), "-t", "180", "-filter_complex", graph]
    sh(ffmpeg, *quiet, *loop, "-c:a", "libmp3lame", "-b:a", "128k", str(short))
    long = workdir / f"phone-{long_minutes}min-looped.mp3"
    copies = ["-stream_loop", str(long_minutes // 3 - 1), "-i", str(short), "-c", "copy"]
    sh(ffmpeg, *quiet, *copies, str(long))
    return [short, long]


class StepTimes(logging.Handler):
    """Collects the pipeline's ``step: 1.23 s`` debug lines."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def ours(source: Path, settings: Settings, workdir: Path, runs: int) -> float:
    """Best wall time of ``runs`` ingests (the first one also calibrates the encoder)."""
    handler = StepTimes()
    log = logging.getLogger("audio.pipeline")
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    times = []
    for _ in range(runs):
        handler.lines.clear()
        started = time.perf_counter()
        result = ingest(source, settings, MediaStore(workdir / "media"))
        times.append(time.perf_counter() - started)
    log.removeHandler(handler)
    a = result.analysis
    print(
        f"  ours: {_times(times)} → {result.duration_ms / 60000:.1f} min, "
        f"{a['loudness_after_lufs']:.2f} LUFS, true peak {a['true_peak_after_dbtp']:.2f} dBTP "
        f"(source {a['loudness_before_lufs']:.2f} LUFS / {a['true_peak_before_dbtp']:.2f} dBTP; "
        f"limiter up to {a['limiter_max_reduction_db']:.1f} dB)"
    )
    print("        steps (last run): " + ", ".join(handler.lines))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"        process peak RSS so far: {rss_mb:.0f} MB")
    return min(times)


def ffmpeg_two_pass(
    ffmpeg: str, source: Path, settings: Settings, workdir: Path, runs: int
) -> float:
    """Best wall time of ``runs`` two-pass loudnorm jobs (measure, then normalise + MP3)."""
    target = f"I={settings.target_lufs}:TP={settings.true_peak_db}:LRA=11"
    mono = "aformat=channel_layouts=mono,"  # the same job as ours: a mono programme
    out = workdir / "ffmpeg-loudnorm.mp3"
    times, first_pass = [], []
    for _ in range(runs):
        started = time.perf_counter()
        measure = ["-af", f"{mono}loudnorm={target}:print_format=json", "-f", "null", "-"]
        first = sh(ffmpeg, "-hide_banner", "-nostdin", "-i", str(source), *measure)
        first_pass.append(time.perf_counter() - started)
        found = re.search(r"\{[^{}]*\"input_i\"[^{}]*\}", first.stderr)
        assert found, first.stderr[-2000:]
        m = json.loads(found.group(0))
        measured = (
            f"measured_I={m['input_i']}:measured_TP={m['input_tp']}:measured_LRA={m['input_lra']}"
            f":measured_thresh={m['input_thresh']}:offset={m['target_offset']}:linear=true"
        )
        normalise = ["-af", f"{mono}loudnorm={target}:{measured}"]
        mp3 = ["-ar", str(settings.sample_rate), "-ac", "1", "-c:a", "libmp3lame"]
        mp3 += ["-b:a", f"{settings.mp3_bitrate_k}k"]
        sh(ffmpeg, "-v", "error", "-y", "-nostdin", "-i", str(source), *normalise, *mp3, str(out))
        times.append(time.perf_counter() - started)
    y, _ = decode_file(out, settings)
    print(
        f"  ffmpeg two-pass loudnorm: {_times(times)} (pass 1 {_times(first_pass)}) → "
        f"{integrated_loudness(y, settings.sample_rate):.2f} LUFS, "
        f"true peak {to_db(true_peak(y)):.2f} dBTP (our meter)"
    )
    return min(times)


def _times(times: list[float]) -> str:
    if len(times) == 1:
        return f"{times[0]:.1f} s"
    return f"best {min(times):.2f} s of {len(times)} ({', '.join(f'{t:.2f}' for t in times)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-minutes", type=int, default=60, help="a multiple of 3")
    parser.add_argument("--runs", type=int, default=3, help="runs of the 3-minute case")
    args = parser.parse_args()
    if args.long_minutes < 3 or args.long_minutes % 3:
        parser.error("--long-minutes must be a multiple of 3")
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()} "
        f"{platform.release()}; Python {sys.version.split()[0]}, numpy {np.__version__}, "
        f"scipy {scipy.__version__}"
    )
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="loaxa-bench-") as tmp:
        workdir = Path(tmp)
        settings = Settings(instance_path=workdir / "instance")
        ffmpeg = ffmpeg_path(settings)
        print(f"ffmpeg: {ffmpeg} ({sh(ffmpeg, '-version').stdout.splitlines()[0]})")
        speech = timed_tts(workdir)
        short, long = make_inputs(ffmpeg, speech, workdir, args.long_minutes)
        for source, runs in ((short, args.runs), (long, 1)):
            mb = source.stat().st_size / 1e6
            print(f"\n{source.name} ({mb:.1f} MB, stereo 44.1 kHz MP3 128 kbit/s)")
            mine = ours(source, settings, workdir, runs)
            theirs = ffmpeg_two_pass(ffmpeg, source, settings, workdir, runs)
            print(f"  ratio ours / ffmpeg: {mine / theirs:.2f}× (target ≤ 0.5×)")
    print(f"\nBenchmark total: {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
