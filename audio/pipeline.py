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
The signal processing (loudness, true peak, limiter) is at the end of the module.
"""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import firwin, resample_poly, sosfilt

from audio.errors import Silent, TooLarge, TooLong, TooShort, Unplayable, UnsupportedFormat
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
    100 ms pad; everything between the first and last sound stays, pauses included."""
    x, sr = work.samples, settings.sample_rate
    assert x is not None
    frame = round(FRAME_S * sr)
    power = frame_power(x, frame)
    loud = np.flatnonzero(power > 10 ** (settings.silence_threshold_db / 10))
    if loud.size == 0:
        raise Silent(detail=f"no 20 ms frame above {settings.silence_threshold_db} dBFS")
    pad = round(EDGE_PAD_S * sr)
    start = max(0, int(loud[0]) * frame - pad)
    end = min(len(x), (int(loud[-1]) + 1) * frame + pad)
    if (end - start) / sr < settings.min_duration_s:
        raise TooShort(detail=f"{(end - start) / sr:.2f} s of sound")
    return work.noting(
        samples=x[start:end],
        trimmed_start_ms=round(start * 1000 / sr),
        trimmed_end_ms=round((len(x) - end) * 1000 / sr),
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


# --- ffmpeg and signal processing --------------------------------------------------------


def decode_file(path: Path, settings: Settings) -> tuple[Samples, list[str]]:
    """Any audio file as float32 mono at ``settings.sample_rate``, with ffmpeg's warnings."""
    ffmpeg, timeout = ffmpeg_path(settings), timeout_for(settings.max_duration_s)
    return decode_pcm(ffmpeg, path, settings.sample_rate, timeout)


def frame_power(x: Samples, frame: int) -> npt.NDArray[np.float64]:
    """Mean square of each ``frame``-sample frame (the last may be shorter), computed on a
    reshaped view so a long programme is not copied."""
    full = len(x) // frame
    body = x[: full * frame].reshape(full, frame)
    power = np.einsum("ij,ij->i", body, body).astype(np.float64) / frame
    tail = x[full * frame :]
    if len(tail):
        power = np.append(power, float(np.dot(tail, tail)) / len(tail))
    return power


def to_db(value: float) -> float:
    return float(20 * np.log10(max(value, 1e-12)))


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


# --- Loudness (ITU-R BS.1770-4) ----------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _k_filter(sr: int) -> npt.NDArray[np.float32]:
    """pyloudnorm's two K-weighting stages (its ``Meter`` defaults) as float32 second-order
    sections: ``sosfilt`` runs them ~7× faster than the meter's own ``lfilter`` calls."""
    stages = [
        pyloudnorm.IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sr, "high_shelf"),
        pyloudnorm.IIRfilter(0.0, 0.5, 38.0, sr, "high_pass"),
    ]
    return np.array([[*(st.b / st.a[0]), *(st.a / st.a[0])] for st in stages], np.float32)


def k_weighted(x: Samples, sr: int) -> Samples:
    return np.asarray(sosfilt(_k_filter(sr), x), dtype=np.float32)


def gated_loudness(weighted: Samples, sr: float) -> float:
    """pyloudnorm's BS.1770 gating on an already K-weighted signal, in LUFS (-inf for
    silence). Clips shorter than one 400 ms block are measured repeated to that length
    (a repeated signal has the same loudness): the meter needs one full block."""
    block = round(0.4 * sr) + 1
    if len(weighted) < block:
        weighted = np.resize(weighted, block)
    with np.errstate(divide="ignore"):
        meter = pyloudnorm.Meter(sr, filter_class="custom")  # custom = no more filtering
        return float(meter.integrated_loudness(weighted))


def integrated_loudness(x: Samples, sr: int) -> float:
    """Integrated loudness of float samples in LUFS, as ``pyloudnorm.Meter(sr)`` gives it."""
    return gated_loudness(k_weighted(x, sr), sr)


# --- True peak and limiter -----------------------------------------------------------------

# 4× interpolation filter for resample_poly (49 taps, Kaiser β=5: within 0.04 dB up to
# 18 kHz). TP_BOUND, its largest per-phase sum of |taps|, bounds how far an interpolated
# value can exceed the nearby samples: regions quieter than best/TP_BOUND are skipped.
TP_FILTER = firwin(49, 1 / 4, window=("kaiser", 5.0)).astype(np.float32)
TP_BOUND = float(max(np.abs(4 * TP_FILTER[p::4]).sum() for p in range(4)))
TP_MARGIN = 16  # context samples either side of a block (the filter reaches 6)
TP_BLOCK = 1024  # samples per oversampled block: quiet blocks are skipped
TP_BATCH = 128  # blocks oversampled per call (≈ 2 MB of output at a time)
BLOCK = 32  # limiter resolution in samples (0.7 ms)
LOOKAHEAD_S = 0.008  # the gain starts falling this long before a peak …
HOLD_S = 0.040  # … and stays down this long after it before recovering
MAX_MAKEUP = 8.0  # make-up gain after limiting: at most +18 dB
LIMITER_ROUNDS = 5  # make-up rounds to land on the target despite the limiting


def _block_peaks(x: Samples, size: int) -> npt.NDArray[np.float32]:
    """max |sample| of each ``size``-sample block (the last may be shorter), no copy."""
    full = len(x) // size
    body = x[: full * size].reshape(full, size)
    peaks = np.maximum(body.max(axis=1), -body.min(axis=1))
    if len(x) > full * size:
        peaks = np.append(peaks, np.abs(x[full * size :]).max())
    return peaks.astype(np.float32)


def _candidates(x: Samples, floor: float) -> tuple[npt.NDArray[np.intp], Samples]:
    """TP_BLOCKs whose true peak may exceed ``floor`` (nearby samples × TP_BOUND do),
    and each block's bound; the others need no oversampling."""
    peaks = _block_peaks(x, TP_BLOCK)
    nearby = np.maximum(peaks, np.maximum(np.roll(peaks, 1), np.roll(peaks, -1)))
    bound = nearby * np.float32(TP_BOUND)
    return np.flatnonzero(bound > floor), bound


def _oversampled(x: Samples, blocks: npt.NDArray[np.intp]) -> Samples:
    """|x| 4×-oversampled (resample_poly) for the given TP_BLOCKs, one row per block; each
    row is cut with TP_MARGIN samples of real context so the interpolation is exact."""
    index = blocks[:, None] * TP_BLOCK + np.arange(-TP_MARGIN, TP_BLOCK + TP_MARGIN)
    rows = np.take(x, index, mode="clip")
    rows[(index < 0) | (index >= len(x))] = 0.0
    over = resample_poly(rows, 4, 1, axis=1, window=TP_FILTER)
    return np.abs(over[:, 4 * TP_MARGIN : 4 * (TP_MARGIN + TP_BLOCK)])


def _batches(blocks: npt.NDArray[np.intp]) -> list[npt.NDArray[np.intp]]:
    return [blocks[i : i + TP_BATCH] for i in range(0, len(blocks), TP_BATCH)]


def true_peak(x: Samples) -> float:
    """BS.1770 true peak (linear): the largest |value| of the 4×-oversampled signal.

    The sample peak is a first answer; blocks are then oversampled loudest first, a batch
    per core at a time, and dropped as soon as their bound cannot beat the best so far,
    so quiet passages (pauses, breaths) are never oversampled."""
    if len(x) == 0:
        return 0.0
    best = float(_block_peaks(x, len(x))[0])
    todo, bound = _candidates(x, best)
    todo = todo[np.argsort(-bound[todo])]
    workers = os.cpu_count() or 1

    def batch_peak(batch: npt.NDArray[np.intp]) -> float:
        return float(_oversampled(x, batch).max())

    with ThreadPoolExecutor(max_workers=workers) as pool:
        while len(todo):
            best = max([best, *pool.map(batch_peak, _batches(todo[: workers * TP_BATCH]))])
            todo = todo[workers * TP_BATCH :]
            todo = todo[bound[todo] > best]
    return best


def block_envelope(x: Samples, floor: float) -> npt.NDArray[np.float32]:
    """True peak of every BLOCK of samples. Where it cannot reach ``floor`` the sample
    peak stands in (cheap, and below ``floor`` anyway). Batches run on all cores:
    resample_poly releases the GIL."""
    envelope = _block_peaks(x, BLOCK)
    per = TP_BLOCK // BLOCK
    todo, _ = _candidates(x, floor)

    def fill(batch: npt.NDArray[np.intp]) -> None:
        peaks = _oversampled(x, batch).reshape(len(batch), per, 4 * BLOCK).max(axis=2)
        index = batch[:, None] * per + np.arange(per)
        inside = index < len(envelope)
        envelope[index[inside]] = peaks[inside]

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(pool.map(fill, _batches(todo)))
    return envelope


def limiter_blocks(envelope: npt.NDArray[np.float32], ceiling: float, sr: int) -> Samples:
    """Gain per block (≤ 1) such that ``envelope × gain ≤ ceiling`` holds for every block
    and for any linear interpolation between neighbouring blocks.

    1. Needed gain per block: ``min(1, ceiling / envelope)``.
    2. Sliding minimum over [b − hold − 1, b + look-ahead + 1]: the gain is down before the
       peak arrives and stays down through the syllable instead of fluttering.
    3. Moving average over ± look-ahead: ramps instead of steps. Every value averaged at b
       comes from a window containing b and b ± 1, so neither the value nor its
       interpolation towards a neighbour exceeds the gain needed there: no overshoot.
    """
    need = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-9)).astype(np.float32)
    ahead = max(1, round(LOOKAHEAD_S * sr / BLOCK))
    hold = max(ahead, round(HOLD_S * sr / BLOCK))
    size = hold + ahead + 3
    floor = minimum_filter1d(need, size, origin=hold + 1 - size // 2, mode="nearest")
    return uniform_filter1d(floor, 2 * ahead + 1, mode="nearest")


def expand_blocks(blocks: Samples, n: int) -> Samples:
    """Per-sample gain from per-block gain, linear between block centres (flat before the
    first and after the last, like ``np.interp``). Centres are evenly spaced, so each
    sample's weight depends only on its place in the block: two broadcasts, no search."""
    half = BLOCK // 2
    before = np.concatenate([blocks[:1], blocks[:-1]])
    after = np.concatenate([blocks[1:], blocks[-1:]])
    offsets = ((np.arange(BLOCK) - (BLOCK - 1) / 2) / BLOCK).astype(np.float32)
    out = np.empty((len(blocks), BLOCK), dtype=np.float32)
    np.multiply((blocks - before)[:, None], offsets[:half], out=out[:, :half])
    np.multiply((after - blocks)[:, None], offsets[half:], out=out[:, half:])
    out += blocks[:, None]
    return out.reshape(-1)[:n]


def limit_to_target(
    x: Samples,
    weighted: Samples,
    envelope: npt.NDArray[np.float32],
    gain: float,
    ceiling: float,
    target: float,
    sr: int,
) -> tuple[Samples, float]:
    """The limiter's per-sample gain curve and the make-up gain that together put ``x`` at
    ``target`` LUFS with true peaks ≤ ``ceiling``.

    Each round measures the limited signal's loudness and corrects the gain by the secant
    method (the limiter eats part of every extra dB; the last two rounds say how much).
    Rounds work per block: K-weighting is linear and the curve slow, so the RMS of
    ``weighted`` per block × the block's gain is the limited signal at 1/BLOCK the rate,
    which the BS.1770 gating measures to within a few hundredths of a LU."""
    rms = np.sqrt(frame_power(weighted, BLOCK)).astype(np.float32)
    gain_db, last = to_db(gain), None
    most_db = gain_db + to_db(MAX_MAKEUP)  # the envelope was computed for up to this gain
    for attempt in range(LIMITER_ROUNDS):
        gain = 10 ** (gain_db / 20)
        blocks = limiter_blocks(envelope * np.float32(gain), ceiling, sr)
        loudness = gated_loudness(rms * blocks * np.float32(gain), sr / BLOCK)
        if abs(target - loudness) < 0.1 or attempt == LIMITER_ROUNDS - 1:
            break
        slope = 1.0
        if last is not None and gain_db != last[0]:
            slope = min(1.0, max(0.1, (loudness - last[1]) / (gain_db - last[0])))
        last = (gain_db, loudness)
        gain_db = min(gain_db + (target - loudness) / slope, most_db)
    curve = expand_blocks(blocks, len(x))
    return curve, gain
