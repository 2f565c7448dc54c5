"""The attention tone aired before an emergency's words.

Two sine tones together, 853 Hz and 960 Hz — the attention signal North American broadcasters
adopted for emergency alerts because the pair is unmistakable and carries over poor speakers —
with short fades so the loudspeakers do not click. Written as a 16-bit mono WAV; the pipeline
normalises it like any other audio.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

FREQUENCIES = (853.0, 960.0)
FADE_S = 0.05


def attention_tone(path: Path, seconds: float, sample_rate: int = 44100) -> Path:
    """Write ``seconds`` of the two-tone attention signal to ``path`` (a WAV file)."""
    count = max(1, int(seconds * sample_rate))
    t = np.arange(count) / sample_rate
    signal = np.mean([np.sin(2 * np.pi * f * t) for f in FREQUENCIES], axis=0)
    fade = min(count // 2, int(FADE_S * sample_rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        signal[:fade] *= ramp
        signal[-fade:] *= ramp[::-1]
    pcm = (signal * 0.7 * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return path
