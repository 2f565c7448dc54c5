"""What proof of broadcast costs a station agent: fpcalc CPU and upload bytes per aired hour.

The agent fingerprints its off-air capture over each airing (44.1 kHz stereo 16-bit, read
back from the WAV and piped to fpcalc) and sends the raw fingerprint with the play log as a
JSON list. This times ``audio.fingerprint.fingerprint_pcm`` on MINUTES of Vietnamese speech
(espeak-ng, looped with a little noise so it is not digitally identical), and prints CPU
seconds per aired hour and the bytes the fingerprint adds to the upload per aired hour.

    .venv/bin/python benchmarks/fingerprint_cost.py [MINUTES]
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from audio.fingerprint import available, fingerprint_pcm

RATE, CHANNELS = 44100, 2
TEXT = ("Xin chào bà con, đây là bản tin học tập suốt đời của xã. Mời bà con cùng lắng nghe "
        "và tham gia xây dựng xã hội học tập, học tập suốt đời cho mọi người dân.")  # fmt: skip


def speech_pcm(seconds: float) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), TEXT], check=True)
        raw = subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-i", str(wav), "-ar", str(RATE), "-ac",
             str(CHANNELS), "-f", "s16le", "-"], check=True, capture_output=True,
        ).stdout  # fmt: skip
    one = np.frombuffer(raw, dtype="<i2")
    reps = int(seconds * RATE * CHANNELS / len(one)) + 1
    rng = np.random.default_rng(1)
    looped = np.tile(one, reps)[: int(seconds * RATE) * CHANNELS].astype(np.int32)
    looped += rng.integers(-200, 200, size=looped.size)
    return np.clip(looped, -32768, 32767).astype("<i2").tobytes()


def main() -> None:
    if not available():
        sys.exit("fpcalc is not installed (apt-get install libchromaprint-tools)")
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    seconds = minutes * 60
    pcm = speech_pcm(seconds)
    chunks = (pcm[i : i + (1 << 20)] for i in range(0, len(pcm), 1 << 20))
    before = [resource.getrusage(who) for who in (resource.RUSAGE_CHILDREN, resource.RUSAGE_SELF)]
    began = time.perf_counter()
    words = fingerprint_pcm(chunks, RATE, CHANNELS, seconds)
    wall = time.perf_counter() - began
    after = [resource.getrusage(who) for who in (resource.RUSAGE_CHILDREN, resource.RUSAGE_SELF)]
    # fpcalc's own time and the agent's (piping the PCM to it).
    pairs = zip(after, before, strict=True)
    cpu = sum(a.ru_utime - b.ru_utime + a.ru_stime - b.ru_stime for a, b in pairs)
    body = len(json.dumps({"fingerprint": words, "fingerprint_source": "off_air"}))
    per_hour = 3600 / seconds
    print(f"audio: {minutes:.0f} min of 44.1 kHz stereo speech ({len(pcm) / 1e6:.0f} MB of PCM)")
    print(f"fpcalc: {cpu:.2f} s CPU, {wall:.2f} s wall -> {cpu * per_hour:.1f} s CPU per aired hour"
          f" ({cpu / seconds * 100:.2f} % of one core while on air)")  # fmt: skip
    print(f"fingerprint: {len(words)} words, {body:,} bytes of JSON"
          f" -> {body * per_hour / 1024:.0f} KiB per aired hour of upload")  # fmt: skip


if __name__ == "__main__":
    main()
