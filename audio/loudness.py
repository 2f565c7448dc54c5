"""Signal processing for the pipeline: loudness, true peak and the limiter.

Pure functions on float32 mono samples (no files, no ffmpeg), shared by
:mod:`audio.pipeline`'s steps, the renderer's tests and the benchmark.

1. Loudness follows ITU-R BS.1770-4 with pyloudnorm's own coefficients: its two
   K-weighting stages are run as float32 second-order sections through ``sosfilt``
   (several times faster than the meter's ``lfilter`` calls), then pyloudnorm's meter does
   the 400 ms block gating on the already-weighted signal, so our figures are pyloudnorm's.
2. True peak is the largest value of the 4× oversampled signal (``resample_poly`` with a
   49-tap Kaiser filter). A bound on how far interpolation can rise above nearby samples
   lets quiet blocks (pauses, breaths) skip oversampling altogether; the rest runs in
   batches on every core, since ``resample_poly`` releases the GIL.
3. The limiter works on 32-sample blocks of the true-peak envelope: a sliding minimum
   with look-ahead and hold, then a moving average, gives a smooth gain that never lets a
   peak over the ceiling; make-up gain is found by a few secant rounds so the limited
   signal still lands on the loudness target.
"""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pyloudnorm
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import firwin, resample_poly, sosfilt

from audio.tools import Samples

# --- Levels -----------------------------------------------------------------------------


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
