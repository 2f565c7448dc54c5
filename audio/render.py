"""Render a programme: its segments and pauses, joined into one normalised MP3.

Segments are usually files that already went through :func:`audio.pipeline.ingest`
(each at the target loudness), but a programme mixes them with TTS and jingles, so the
whole is normalised once more: one consistent level for the listener, and one true-peak
check on the final signal, where crossfades can add up. Decoding, loudness, limiting,
encoding and storing are the pipeline's own functions and steps.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audio.errors import Unplayable
from audio.pipeline import FINISH_STEPS, Ingested, Samples, Work, decode_file, finished, run_steps
from audio.store import MediaStore
from config.settings import Settings


@dataclass(frozen=True)
class RenderItem:
    """One entry of the running order: the audio at ``path`` (if any), then
    ``silence_ms`` of silence. ``RenderItem(None, 2000)`` is a two-second pause."""

    path: Path | None
    silence_ms: int = 0

    def __post_init__(self) -> None:
        if self.silence_ms < 0:
            raise ValueError("silence_ms must be ≥ 0")
        if self.path is None and self.silence_ms == 0:
            raise ValueError("a render item needs a path or a silence")


def render_program(
    items: Sequence[RenderItem],
    settings: Settings,
    store: MediaStore,
    crossfade_ms: int = 0,
) -> Ingested:
    """Decode every segment, insert the silences, crossfade audio that touches audio
    (``crossfade_ms`` > 0), then normalise, limit, encode, measure and store the whole."""
    if not items:
        raise ValueError("a programme needs at least one item")
    samples = assemble(items, settings, crossfade_ms)
    with tempfile.TemporaryDirectory(prefix="loaxa-render-") as tmp:
        work = Work(None, "programme", Path(tmp), store, samples=samples)
        work = work.noting(
            segments=sum(1 for item in items if item.path is not None),
            crossfade_ms=crossfade_ms,
            trimmed_start_ms=0,
            trimmed_end_ms=0,
        )
        return finished(run_steps(FINISH_STEPS, work, settings))


def assemble(items: Sequence[RenderItem], settings: Settings, crossfade_ms: int = 0) -> Samples:
    """The programme's samples before loudness: segments, pauses and crossfades."""
    sr = settings.sample_rate
    fade = round(crossfade_ms * sr / 1000)
    parts: list[Samples] = []
    touching = False  # the last part is audio with no pause after it
    for item in items:
        if item.path is not None:
            segment, _ = decode_file(item.path, settings)
            if len(segment) == 0:
                raise Unplayable(detail=f"segment {item.path} decoded to nothing")
            if touching and fade > 0:
                parts[-1], segment = crossfade(parts[-1], segment, fade)
            parts.append(segment)
            touching = True
        if item.silence_ms > 0:
            parts.append(np.zeros(round(item.silence_ms * sr / 1000), dtype=np.float32))
            touching = False
    return np.concatenate(parts).astype(np.float32, copy=False)


def crossfade(a: Samples, b: Samples, length: int) -> tuple[Samples, Samples]:
    """Overlap the end of ``a`` with the start of ``b`` by ``length`` samples (at most half
    of either), equal-power so the level does not dip in the middle of the overlap.
    Returns ``a`` shortened by the overlap and ``b`` with the mixed overlap at its start."""
    length = min(length, len(a) // 2, len(b) // 2)
    if length == 0:
        return a, b
    t = np.linspace(0.0, np.pi / 2, length, dtype=np.float32)
    mixed = a[-length:] * np.cos(t) + b[:length] * np.sin(t)
    return a[:-length], np.concatenate([mixed, b[length:]])
