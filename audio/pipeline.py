"""Ingest: any recording a commune sends → one loudness-normalised mono MP3 in the store.

The pipeline is a list of small named steps, each ``step(work, settings) -> work`` on a
frozen :class:`Work` record, so each can be tested alone on a tiny real file:

1. ``check_size`` – refuse empty or oversized uploads by their size on disk, before any
   program reads them;
2. ``probe`` – what the content is (never the file name);
3. ``validate`` – an audio stream, a codec people actually send, a duration in limits;
4. ``decode`` – ffmpeg → float32 mono at the configured rate through a pipe;
5. ``trim_silence`` – cut silent edges, never pauses inside the speech;
6. ``normalize_loudness`` – BS.1770 gain to the target, true peak held by a limiter;
7. ``encode`` – libmp3lame, mono, configured bit rate, from the samples through a pipe;
8. ``measure`` – decode the MP3 back and measure what listeners will really hear;
9. ``store`` – into the content-addressed :class:`~audio.store.MediaStore`.

Temporary files live in one ``TemporaryDirectory``, removed on success and on error.
The signal processing (loudness, true peak, limiter) lives in :mod:`audio.loudness`.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from audio.errors import Silent, TooLarge, TooLong, TooShort, Unplayable, UnsupportedFormat
from audio.loudness import (
    MAX_MAKEUP,
    block_envelope,
    frame_power,
    gated_loudness,
    integrated_loudness,
    k_weighted,
    limit_to_target,
    to_db,
    true_peak,
)
from audio.probe import ProbeResult
from audio.probe import probe as probe_file
from audio.store import MediaStore, Stored
from audio.tools import Samples, decode_pcm, encode_mp3, encoder_gain, ffmpeg_path, timeout_for
from config.settings import Settings

log = logging.getLogger(__name__)

# Codecs people send: phones (AMR in .amr/.3gp, AAC in .m4a), messaging apps (Opus in .ogg),
# recorders and PCs (MP3, WAV, FLAC, Vorbis), broadcast kit (MP2). Video files are fine if
# they have one of these as a sound track; only the sound is used.
ACCEPTED_CODECS = {"mp3", "mp2", "aac", "alac", "vorbis", "opus", "flac", "amr_nb", "amr_wb"}
ACCEPTED_PREFIXES = ("pcm_", "adpcm_")  # WAV / AIFF / CAF variants
FRAME_S = 0.020  # silence detection: short-term RMS in 20 ms frames
EDGE_PAD_S = 0.100  # keep this much of the silence at each trimmed edge
TRUNCATED_RATIO = 0.9  # decoded < 90 % of the probed length (and warnings) → cut off
CODEC_HEADROOM_DB = 0.5  # MP3 encoding raises true peaks; aim this far below the ceiling
MB = 1024 * 1024


@dataclass(frozen=True)
class Work:
    """Everything one run of the pipeline knows so far; each step returns a new one."""

    source: Path | None
    original_name: str
    workdir: Path
    store: MediaStore
    probe: ProbeResult | None = None
    samples: Samples | None = None
    analysis: dict[str, Any] = field(default_factory=dict)
    output: Path | None = None
    stored: Stored | None = None

    def noting(self, **changes: Any) -> Work:
        """A copy with ``changes`` to the fields; unknown names go into ``analysis``."""
        fields = {k: v for k, v in changes.items() if k in self.__dataclass_fields__}
        notes = {k: v for k, v in changes.items() if k not in fields}
        return replace(self, **fields, analysis={**self.analysis, **notes})


@dataclass(frozen=True)
class Ingested:
    """A stored, normalised MP3 and what we measured on the way."""

    sha256: str
    path: Path
    bytes: int
    duration_ms: int
    analysis: dict[str, Any]


Step = Callable[[Work, Settings], Work]


def run_steps(steps: Iterable[Step], work: Work, settings: Settings) -> Work:
    for step in steps:
        started = time.perf_counter()
        work = step(work, settings)
        log.debug("%s: %.2f s", step.__name__, time.perf_counter() - started)
    return work


def ingest(
    source: Path, settings: Settings, store: MediaStore, original_name: str | None = None
) -> Ingested:
    """Run :data:`INGEST_STEPS` on ``source``; raise an :class:`AudioError` to refuse it."""
    source = Path(source)
    with tempfile.TemporaryDirectory(prefix="loaxa-ingest-") as tmp:
        work = Work(source, original_name or source.name, Path(tmp), store)
        return finished(run_steps(INGEST_STEPS, work, settings))


def finished(work: Work) -> Ingested:
    assert work.stored is not None, "the pipeline ended before the store step"
    return Ingested(
        work.stored.sha256,
        work.stored.path,
        work.stored.bytes,
        work.analysis["duration_ms"],
        dict(work.analysis),
    )


# --- The steps --------------------------------------------------------------------------


def check_size(work: Work, settings: Settings) -> Work:
    """By size on disk only: a 4 GB upload is refused without being read."""
    assert work.source is not None
    size = work.source.stat().st_size
    if size == 0:
        raise Unplayable("Tệp rỗng, không có nội dung.", detail="zero-length file")
    if size > settings.max_upload_mb * MB:
        raise TooLarge(
            f"Tệp quá lớn ({size / MB:.0f} MB); chỉ nhận tệp đến {settings.max_upload_mb} MB.",
            detail=f"{size} bytes",
        )
    notes = {"original_name": work.original_name, "source_bytes": size}
    return replace(work, analysis={**work.analysis, **notes})


def probe(work: Work, settings: Settings) -> Work:
    assert work.source is not None
    found = probe_file(work.source, settings)
    return work.noting(
        probe=found,
        source_format=found.format_name,
        source_codec=found.codec,
        source_sample_rate=found.sample_rate,
        source_channels=found.channels,
    )


def validate(work: Work, settings: Settings) -> Work:
    """Refuse what is not sound, or sound of a length we cannot use, before decoding."""
    found = work.probe
    assert found is not None
    if found.codec is None:
        raise UnsupportedFormat(
            "Tệp không có tiếng (không có phần âm thanh).", detail=found.format_name
        )
    if found.codec not in ACCEPTED_CODECS and not found.codec.startswith(ACCEPTED_PREFIXES):
        raise UnsupportedFormat(detail=f"codec {found.codec}")
    if found.duration_s is not None:
        _check_duration(found.duration_s, settings)
    return work


def decode(work: Work, settings: Settings) -> Work:
    """Decode to float32 mono; a recording that stops well short of its declared length
    *and* made ffmpeg complain is cut off (a truncated upload), not merely odd."""
    assert work.source is not None and work.probe is not None
    samples, warnings = decode_file(work.source, settings)
    got_s = len(samples) / settings.sample_rate
    expected_s = work.probe.duration_s
    if got_s == 0:
        raise Unplayable(detail="; ".join(warnings[-3:]) or "no samples decoded")
    if expected_s and got_s < TRUNCATED_RATIO * expected_s - 0.5 and warnings:
        raise Unplayable(
            f"Tệp bị hỏng hoặc bị cắt ngang: chỉ đọc được {got_s:.0f} trên {expected_s:.0f} giây.",
            detail="; ".join(warnings[-3:]),
        )
    _check_duration(got_s, settings)
    return work.noting(
        samples=samples,
        source_duration_ms=round(got_s * 1000),
        decode_warnings=len(warnings),
    )


def trim_silence(work: Work, settings: Settings) -> Work:
    """Cut the silent edges (20 ms frames below ``silence_threshold_db``), keeping a
    100 ms pad; everything between the first and last sound stays, pauses included.

    A recording with no frame that loud but some above ``inaudible_db`` is quiet, not
    silent (a phone held far away): its edges are cut at the lower level, the loudness
    step raises it, and the result is flagged ``quiet`` so the editor is warned. Only one
    with nothing audible at all is refused."""
    x, sr = work.samples, settings.sample_rate
    assert x is not None
    frame = round(FRAME_S * sr)
    power = frame_power(x, frame)
    loud = np.flatnonzero(power > 10 ** (settings.silence_threshold_db / 10))
    quiet = loud.size == 0
    if quiet:
        loud = np.flatnonzero(power > 10 ** (settings.inaudible_db / 10))
    if loud.size == 0:
        raise Silent(detail=f"no 20 ms frame above {settings.inaudible_db} dBFS")
    pad = round(EDGE_PAD_S * sr)
    start = max(0, int(loud[0]) * frame - pad)
    end = min(len(x), (int(loud[-1]) + 1) * frame + pad)
    if (end - start) / sr < settings.min_duration_s:
        raise TooShort(detail=f"{(end - start) / sr:.2f} s of sound")
    return work.noting(
        samples=x[start:end],
        trimmed_start_ms=round(start * 1000 / sr),
        trimmed_end_ms=round((len(x) - end) * 1000 / sr),
        quiet=quiet,
    )


def normalize_loudness(work: Work, settings: Settings) -> Work:
    """Gain to ``target_lufs``. Where that gain would push the true peak over the ceiling,
    the look-ahead limiter lowers just those peaks, and the gain is raised again by what
    the limiting cost, so speech stays at the target instead of landing quieter."""
    x, sr = work.samples, settings.sample_rate
    assert x is not None
    weighted = k_weighted(x, sr)
    before = gated_loudness(weighted, sr)
    if not np.isfinite(before):
        raise Silent(detail="integrated loudness is -inf (every block gated out)")
    gain = 10 ** ((settings.target_lufs - before) / 20)
    ceiling = 10 ** ((settings.true_peak_db - CODEC_HEADROOM_DB) / 20)
    floor = ceiling / (gain * MAX_MAKEUP)
    envelope = block_envelope(x, floor)
    peak = float(envelope.max())
    if peak < floor:  # only the chunks that could reach the floor were oversampled
        peak = true_peak(x)
    reduction_db = 0.0
    if peak * gain <= ceiling:
        y = x * np.float32(gain)
    else:
        target = settings.target_lufs
        curve, gain = limit_to_target(x, weighted, envelope, gain, ceiling, target, sr)
        reduction_db = -to_db(float(curve.min()))
        y = np.multiply(curve, np.float32(gain), out=curve)
        y *= x
    return work.noting(
        samples=y,
        loudness_before_lufs=round(before, 2),
        true_peak_before_dbtp=round(to_db(peak), 2),
        gain_db=round(to_db(gain), 2),
        limiter_max_reduction_db=round(reduction_db, 2),
    )


def encode(work: Work, settings: Settings) -> Work:
    """MP3 from the samples, pre-scaled by the inverse of the encoder's own gain (see
    :func:`encoder_gain`) so the file measures what ``normalize_loudness`` aimed for."""
    assert work.samples is not None
    out = work.workdir / "encoded.mp3"
    ffmpeg, sr, kbps = ffmpeg_path(settings), settings.sample_rate, settings.mp3_bitrate_k
    gain = encoder_gain(ffmpeg, sr, kbps)
    encode_mp3(work.samples * np.float32(1 / gain), out, ffmpeg, sr, kbps)
    return work.noting(output=out, encoder_gain_db=round(to_db(gain), 2))


def measure(work: Work, settings: Settings) -> Work:
    """Figures of the encoded file itself, decoded back, not of the samples we sent in."""
    assert work.output is not None
    y, _ = decode_file(work.output, settings)
    return work.noting(
        duration_ms=round(len(y) * 1000 / settings.sample_rate),
        loudness_after_lufs=round(integrated_loudness(y, settings.sample_rate), 2),
        true_peak_after_dbtp=round(to_db(true_peak(y)), 2),
        sample_rate=settings.sample_rate,
        channels=1,
        bit_rate_k=settings.mp3_bitrate_k,
    )


def store(work: Work, settings: Settings) -> Work:
    assert work.output is not None
    return work.noting(stored=work.store.put(work.output, ".mp3"))


INGEST_STEPS: tuple[Step, ...] = (
    check_size,
    probe,
    validate,
    decode,
    trim_silence,
    normalize_loudness,
    encode,
    measure,
    store,
)
# What a rendered programme goes through once its samples are assembled.
FINISH_STEPS: tuple[Step, ...] = (normalize_loudness, encode, measure, store)


# --- ffmpeg and durations ---------------------------------------------------------------


def decode_file(path: Path, settings: Settings) -> tuple[Samples, list[str]]:
    """Any audio file as float32 mono at ``settings.sample_rate``, with ffmpeg's warnings."""
    ffmpeg, timeout = ffmpeg_path(settings), timeout_for(settings.max_duration_s)
    return decode_pcm(ffmpeg, path, settings.sample_rate, timeout)


def _check_duration(seconds: float, settings: Settings) -> None:
    if seconds > settings.max_duration_s:
        raise TooLong(
            f"Bản ghi dài {_spoken(seconds)}; chỉ nhận bản ghi đến "
            f"{_spoken(settings.max_duration_s)}.",
            detail=f"{seconds:.1f} s",
        )
    if seconds < settings.min_duration_s:
        raise TooShort(detail=f"{seconds:.2f} s")


def _spoken(seconds: float) -> str:
    """A duration as people say it: "45 giây", "12 phút", "1 giờ 30 phút"."""
    if seconds < 60:
        return f"{seconds:.0f} giây"
    hours, minutes = divmod(round(seconds / 60), 60)
    if not hours:
        return f"{minutes} phút"
    return f"{hours} giờ" + (f" {minutes} phút" if minutes else "")
