"""The ingest pipeline, step by step, on tiny real audio made by ffmpeg and espeak-ng.

Expected values come from the standards, not from our own output: a 1 kHz sine of peak
amplitude A in one channel is −3.01 + 20·log10(A) LUFS (ITU-R BS.1770); a sine at a
quarter of the sample rate, sampled 45° off its crest, has samples at 0.707 A and a true
peak of A.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pyloudnorm
import pytest

from audio import loudness, pipeline, tools
from audio.errors import (
    AudioError,
    Silent,
    TooLarge,
    TooLong,
    TooShort,
    Unplayable,
    UnsupportedFormat,
)
from audio.loudness import integrated_loudness, to_db, true_peak
from audio.pipeline import Work, ingest
from audio.probe import probe
from audio.store import MediaStore
from config.settings import Settings
from tests import audio_fixtures as af

# No temporary file may be left behind, whatever happens (the ``temp_dir`` fixture checks).
pytestmark = [pytest.mark.usefixtures("temp_dir"), pytest.mark.slow]
SR = 44100


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The shared source files, made once for the module."""
    d = tmp_path_factory.mktemp("clips")
    speech = af.speech_with_pause(d / "speech.wav")
    return {
        "speech": speech,
        "tone": af.tone(d / "tone.wav", 3),
        "edges": af.silence_tone_silence(d / "edges.wav", 2, 3, 2),
        "mp3": af.convert(speech, d / "speech.mp3", "-ac", "2", "-b:a", "96k"),
        "silent": af.silence(d / "silent.wav", 3),
    }


def work_on(path: Path, tmp_path: Path, store: MediaStore, settings: Settings) -> Work:
    """A Work that has been through probe, validate and decode (input to later steps)."""
    work = Work(path, path.name, tmp_path, store)
    return pipeline.run_steps(pipeline.INGEST_STEPS[:4], work, settings)


# --- errors and tools -------------------------------------------------------------------


def test_errors_carry_an_http_status_and_a_vietnamese_message() -> None:
    expected = {
        UnsupportedFormat: 415,
        Unplayable: 422,
        TooLarge: 413,
        TooLong: 413,
        TooShort: 422,
        Silent: 422,
    }
    for cls, status in expected.items():
        error = cls(detail="ffmpeg said something")
        assert isinstance(error, AudioError) and isinstance(error, ValueError)
        assert error.status == status
        assert str(error).endswith(".") and any(c in str(error) for c in "ăâđêôơưạảấầ")
        assert "ffmpeg" not in str(error)


def test_ffmpeg_is_found_configured_then_on_path_then_in_the_wheel(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert tools.ffmpeg_path(settings.model_copy(update={"ffmpeg_path": "/opt/ff"})) == "/opt/ff"
    assert tools.ffmpeg_path(settings) == shutil.which("ffmpeg")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert tools.ffmpeg_path(settings) == imageio_ffmpeg.get_ffmpeg_exe()
    assert tools.ffprobe_path(settings) is None


def test_ffprobe_is_none_when_only_the_wheel_ffmpeg_is_configured(settings: Settings) -> None:
    wheel = settings.model_copy(update={"ffmpeg_path": imageio_ffmpeg.get_ffmpeg_exe()})
    assert tools.ffprobe_path(wheel) is None
    system = settings.model_copy(update={"ffmpeg_path": "/usr/bin/ffmpeg"})
    assert tools.ffprobe_path(system) == "/usr/bin/ffprobe"


def test_run_passes_arguments_without_a_shell() -> None:
    done = tools.run(["echo", "$HOME; rm -rf /"], timeout=5)
    assert done.stdout == b"$HOME; rm -rf /\n"


# --- probe ------------------------------------------------------------------------------


@pytest.mark.parametrize("use_ffprobe", [True, False], ids=["ffprobe", "ffmpeg -i"])
def test_probe_reads_the_content_not_the_name(
    clips: dict[str, Path], tmp_path: Path, settings: Settings, use_ffprobe: bool
) -> None:
    disguised = shutil.copy(clips["mp3"], tmp_path / "ghi-am.wav")
    found = probe(Path(disguised), settings, use_ffprobe=use_ffprobe)
    assert (found.format_name, found.codec, found.channels) == ("mp3", "mp3", 2)
    assert found.sample_rate == SR
    assert found.bit_rate == 96_000


@pytest.mark.parametrize(
    "codec",
    [("-c:a", "pcm_s16le"), ("-c:a", "aac"), ("-c:a", "flac"), ("-c:a", "libopus")],
    ids=["wav", "m4a", "flac", "opus"],
)
def test_ffprobe_and_the_ffmpeg_fallback_agree(
    tmp_path: Path, settings: Settings, codec: tuple[str, str]
) -> None:
    suffix = {"pcm_s16le": ".wav", "aac": ".m4a", "flac": ".flac", "libopus": ".ogg"}[codec[1]]
    clip = af.tone(tmp_path / f"clip{suffix}", 2.0, channels=2, codec=codec)
    a = probe(clip, settings, use_ffprobe=True)
    b = probe(clip, settings, use_ffprobe=False)
    assert (a.format_name, a.codec, a.channels) == (b.format_name, b.codec, b.channels)
    assert a.sample_rate == b.sample_rate == (48000 if codec[1] == "libopus" else SR)
    assert a.duration_s == pytest.approx(2.0, abs=0.05)
    assert b.duration_s == pytest.approx(2.0, abs=0.05)


def test_probe_falls_back_by_itself_with_the_wheel_ffmpeg(
    clips: dict[str, Path], settings: Settings
) -> None:
    wheel = settings.model_copy(update={"ffmpeg_path": imageio_ffmpeg.get_ffmpeg_exe()})
    found = probe(clips["tone"], wheel)
    assert (found.format_name, found.codec, found.channels, found.sample_rate) == (
        "wav",
        "pcm_s16le",
        1,
        SR,
    )
    assert found.duration_s == pytest.approx(3.0, abs=0.01)


def test_probe_tells_not_audio_from_broken_audio(tmp_path: Path, settings: Settings) -> None:
    with pytest.raises(UnsupportedFormat):
        probe(af.random_bytes(tmp_path / "x.mp3"), settings)
    with pytest.raises(UnsupportedFormat):
        probe(af.pdf(tmp_path / "cong-van.pdf"), settings)
    m4a = af.tone(tmp_path / "t.m4a", 3, codec=("-c:a", "aac"))
    with pytest.raises(Unplayable):  # "ftyp" header, moov atom missing
        probe(af.truncated(m4a, tmp_path / "cut.m4a"), settings)


# --- the steps, one by one ----------------------------------------------------------------


def test_check_size_refuses_before_reading_anything(
    tmp_path: Path, store: MediaStore, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = af.tone(tmp_path / "big.wav", 15)  # 1.3 MB of PCM
    small_limit = settings.model_copy(update={"max_upload_mb": 1})
    monkeypatch.setattr(pipeline, "probe_file", lambda *a: pytest.fail("probed"))
    with pytest.raises(TooLarge) as refused:
        ingest(big, small_limit, store)
    assert refused.value.status == 413 and "1 MB" in str(refused.value)


def test_validate_refuses_video_without_sound_and_bad_lengths(
    tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    steps = pipeline.INGEST_STEPS[:3]
    video = af.video_without_audio(tmp_path / "clip.mp4")
    with pytest.raises(UnsupportedFormat) as refused:
        pipeline.run_steps(steps, Work(video, "clip.mp4", tmp_path, store), settings)
    assert refused.value.status == 415
    short = af.tone(tmp_path / "short.wav", 0.2)
    with pytest.raises(TooShort):
        pipeline.run_steps(steps, Work(short, "short.wav", tmp_path, store), settings)
    ten = af.tone(tmp_path / "ten.wav", 12)
    strict = settings.model_copy(update={"max_duration_s": 10})
    with pytest.raises(TooLong, match="dài 12 giây; chỉ nhận bản ghi đến 10 giây"):
        pipeline.run_steps(steps, Work(ten, "ten.wav", tmp_path, store), strict)


def test_decode_gives_float32_mono_at_the_configured_rate(
    tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    sine = "sine=f=440:r=48000:d=2"  # 48 kHz stereo in, 44.1 kHz mono out
    af.ffmpeg("-f", "lavfi", "-i", sine, "-ac", "2", str(tmp_path / "s.flac"))
    work = work_on(tmp_path / "s.flac", tmp_path, store, settings)
    assert work.samples is not None and work.samples.dtype == np.float32
    assert work.samples.ndim == 1 and len(work.samples) == pytest.approx(2 * SR, abs=64)
    assert work.analysis["source_duration_ms"] == pytest.approx(2000, abs=2)


def test_decode_refuses_a_truncated_mp3(
    tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    whole = af.tone(tmp_path / "whole.mp3", 10, codec=("-b:a", "128k"))
    cut = af.truncated(whole, tmp_path / "cut.mp3", 0.5)
    with pytest.raises(Unplayable, match="cắt ngang") as refused:
        work_on(cut, tmp_path, store, settings)
    assert refused.value.status == 422
    assert "5 trên 10 giây" in str(refused.value)


def test_trim_silence_cuts_the_edges_and_keeps_a_pad(
    clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    work = pipeline.trim_silence(work_on(clips["edges"], tmp_path, store, settings), settings)
    assert work.samples is not None
    assert len(work.samples) / SR == pytest.approx(3.2, abs=0.03)  # 3 s + 2 × 100 ms
    assert work.analysis["trimmed_start_ms"] == pytest.approx(1900, abs=25)
    assert work.analysis["trimmed_end_ms"] == pytest.approx(1900, abs=25)


def test_trim_silence_keeps_a_pause_inside_the_speech(
    clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    work = pipeline.trim_silence(work_on(clips["speech"], tmp_path, store, settings), settings)
    assert work.samples is not None
    quiet = loudness.frame_power(work.samples, 882) <= 10 ** (settings.silence_threshold_db / 10)
    longest, run = 0, 0
    for is_quiet in quiet:
        run = run + 1 if is_quiet else 0
        longest = max(longest, run)
    assert longest * 0.020 >= 0.95  # the 1 s pause between the sentences is still there


def test_trim_silence_refuses_a_silent_recording(
    clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    with pytest.raises(Silent) as refused:
        pipeline.trim_silence(work_on(clips["silent"], tmp_path, store, settings), settings)
    assert refused.value.status == 422


def test_a_quiet_but_audible_recording_is_kept_raised_to_the_target_and_flagged(
    tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    """A 440 Hz tone at −51 dBFS RMS (a phone held far from the speaker) is quiet, not
    silent: below the −50 dB edge threshold everywhere, yet plainly audible."""
    amplitude = 10 ** (-51 / 20) * np.sqrt(2)
    quiet = af.tone(tmp_path / "quiet.wav", 3, 440, amplitude=amplitude)
    done = pipeline.ingest(quiet, settings, store)
    assert done.analysis["quiet"] is True
    assert done.duration_ms == pytest.approx(3000, abs=250)  # nothing of it trimmed away
    assert done.analysis["loudness_after_lufs"] == pytest.approx(settings.target_lufs, abs=1.0)
    loud = pipeline.ingest(af.tone(tmp_path / "loud.wav", 3, 440), settings, store)
    assert loud.analysis["quiet"] is False


def test_only_an_inaudible_recording_is_refused_as_silent(
    tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    faint = af.tone(tmp_path / "faint.wav", 3, 440, amplitude=10 ** (-65 / 20) * np.sqrt(2))
    with pytest.raises(Silent, match="im lặng") as refused:
        pipeline.ingest(faint, settings, store)
    assert "-60" in (refused.value.detail or "")


def test_normalize_measures_a_tone_as_bs1770_says_and_reaches_the_target(
    clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    work = pipeline.normalize_loudness(work_on(clips["tone"], tmp_path, store, settings), settings)
    expected = -3.01 + 20 * np.log10(0.1)  # −23.01 LUFS
    assert work.analysis["loudness_before_lufs"] == pytest.approx(expected, abs=0.5)
    assert work.analysis["true_peak_before_dbtp"] == pytest.approx(-20.0, abs=0.1)
    assert work.analysis["limiter_max_reduction_db"] == 0.0  # −20 + 7 dB is far from −1
    assert work.samples is not None
    assert integrated_loudness(work.samples, SR) == pytest.approx(-16.0, abs=0.05)


def test_normalize_limits_peaks_but_keeps_speech_at_the_target(
    clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    work = pipeline.normalize_loudness(
        work_on(clips["speech"], tmp_path, store, settings), settings
    )
    assert work.samples is not None
    assert work.analysis["limiter_max_reduction_db"] > 1.0  # espeak-ng is peaky
    ceiling = settings.true_peak_db - pipeline.CODEC_HEADROOM_DB
    assert to_db(true_peak(work.samples)) <= ceiling + 0.05
    assert integrated_loudness(work.samples, SR) == pytest.approx(-16.0, abs=0.2)


def test_encode_writes_mono_mp3_at_the_configured_rate_and_level(
    clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    work = work_on(clips["tone"], tmp_path, store, settings)
    work = pipeline.encode(pipeline.normalize_loudness(work, settings), settings)
    assert work.output is not None
    info = af.ffprobe_json(work.output)["streams"][0]
    assert (info["codec_name"], info["channels"], int(info["sample_rate"])) == ("mp3", 1, SR)
    assert int(info["bit_rate"]) == 128_000
    # LAME's own ≈ −0.45 dB is compensated: the file measures the target, not −16.45.
    assert integrated_loudness(af.decode(work.output), SR) == pytest.approx(-16.0, abs=0.1)
    assert work.analysis["encoder_gain_db"] == pytest.approx(-0.45, abs=0.2)


# --- signal processing --------------------------------------------------------------------


def test_true_peak_finds_the_crest_between_samples() -> None:
    t = np.arange(SR) / SR
    fade = np.minimum(1, np.minimum(t, t[::-1]) / 0.01)  # no clicks at the ends
    x = (0.5 * fade * np.sin(2 * np.pi * SR / 4 * t + np.pi / 4)).astype(np.float32)
    assert np.abs(x).max() == pytest.approx(0.5 * np.sqrt(0.5), rel=1e-3)  # −3 dB samples
    assert to_db(true_peak(x)) == pytest.approx(to_db(0.5), abs=0.1)


def test_our_loudness_is_pyloudnorms(clips: dict[str, Path]) -> None:
    x = af.decode(clips["speech"])
    reference = pyloudnorm.Meter(SR).integrated_loudness(x.astype(np.float64))
    assert integrated_loudness(x, SR) == pytest.approx(reference, abs=0.01)


def test_limiter_curve_never_lets_a_peak_through() -> None:
    rng = np.random.default_rng(5)
    envelope = (rng.random(20_000) ** 4 * 3).astype(np.float32)  # sparse peaks up to +9.5 dB
    ceiling = 0.8
    blocks = loudness.limiter_blocks(envelope, ceiling, SR)
    assert (envelope * blocks <= ceiling * 1.0001).all()
    curve = loudness.expand_blocks(blocks, len(envelope) * loudness.BLOCK)
    per_block = curve.reshape(-1, loudness.BLOCK).max(axis=1)  # interpolation included
    assert (envelope * per_block <= ceiling * 1.0001).all()
    assert np.abs(np.diff(curve)).max() < 0.01  # ramps, not steps


# --- the whole ingest ---------------------------------------------------------------------


def test_ingest_speech_gives_a_normalised_mono_mp3_in_the_store(
    clips: dict[str, Path], store: MediaStore, settings: Settings
) -> None:
    result = ingest(clips["mp3"], settings, store, original_name="thong-bao.mp3")
    a = result.analysis
    assert a["loudness_after_lufs"] == pytest.approx(-16.0, abs=1.0)
    assert a["true_peak_after_dbtp"] <= -1.0 + 0.2
    assert (a["source_format"], a["source_codec"], a["original_name"]) == (
        "mp3",
        "mp3",
        "thong-bao.mp3",
    )
    assert a["sample_rate"] == SR and a["channels"] == 1
    assert a["source_duration_ms"] - a["trimmed_start_ms"] - a["trimmed_end_ms"] == (
        pytest.approx(result.duration_ms, abs=60)
    )
    assert result.path == store.path_for(result.sha256)
    assert hashlib.sha256(result.path.read_bytes()).hexdigest() == result.sha256
    assert result.bytes == result.path.stat().st_size
    info = af.ffprobe_json(result.path)["streams"][0]
    assert (info["codec_name"], info["channels"], int(info["sample_rate"])) == ("mp3", 1, SR)
    # measured independently, on the file: what the analysis says
    y = af.decode(result.path)
    assert integrated_loudness(y, SR) == pytest.approx(a["loudness_after_lufs"], abs=0.02)
    assert len(y) * 1000 / SR == pytest.approx(result.duration_ms, abs=1)


def test_ingesting_the_same_recording_twice_stores_it_once(
    clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    first = ingest(clips["tone"], settings, store)
    again = ingest(Path(shutil.copy(clips["tone"], tmp_path / "copy.wav")), settings, store)
    assert (again.sha256, again.path) == (first.sha256, first.path)
    assert [p for p in store.root.rglob("*") if p.is_file()] == [first.path]


def test_the_wheel_ffmpeg_alone_can_ingest(
    clips: dict[str, Path], store: MediaStore, settings: Settings
) -> None:
    wheel = settings.model_copy(update={"ffmpeg_path": imageio_ffmpeg.get_ffmpeg_exe()})
    result = ingest(clips["mp3"], wheel, store)
    assert result.analysis["source_codec"] == "mp3"
    assert result.analysis["loudness_after_lufs"] == pytest.approx(-16.0, abs=1.0)


def test_an_mp3_named_wav_is_accepted(
    clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    disguised = Path(shutil.copy(clips["mp3"], tmp_path / "ghi-am.wav"))
    result = ingest(disguised, settings, store)
    assert result.analysis["source_format"] == "mp3"
    assert result.analysis["original_name"] == "ghi-am.wav"


FORMATS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "mp3": (".mp3", ("-c:a", "libmp3lame", "-b:a", "64k"), "mp3"),
    "wav": (".wav", ("-c:a", "pcm_s16le"), "pcm_s16le"),
    "m4a": (".m4a", ("-c:a", "aac", "-b:a", "64k"), "aac"),
    "ogg-vorbis": (".ogg", ("-c:a", "libvorbis"), "vorbis"),
    "ogg-opus": (".ogg", ("-c:a", "libopus", "-b:a", "32k"), "opus"),
    "flac": (".flac", ("-c:a", "flac"), "flac"),
}


@pytest.mark.parametrize("name", FORMATS)
def test_formats_people_send_all_ingest(
    name: str, clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    suffix, codec, expected = FORMATS[name]
    source = af.convert(clips["speech"], tmp_path / f"clip{suffix}", *codec)
    result = ingest(source, settings, store)
    assert result.analysis["source_codec"] == expected
    assert result.analysis["loudness_after_lufs"] == pytest.approx(-16.0, abs=1.0)
    assert result.duration_ms == pytest.approx(5200, abs=400)


@pytest.mark.parametrize("suffix", [".amr", ".3gp"])
def test_phone_amr_recordings_ingest(
    suffix: str, clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    encoder = af.amr_encoder()
    if encoder is None:
        pytest.skip("no ffmpeg here can encode AMR-NB (neither the system's nor the wheel's)")
    amr = ("-ar", "8000", "-ac", "1", "-c:a", "libopencore_amrnb", "-b:a", "12.2k")
    source = af.convert(clips["speech"], tmp_path / f"phone{suffix}", *amr, binary=encoder)
    result = ingest(source, settings, store)
    assert result.analysis["source_codec"] == "amr_nb"
    assert result.analysis["source_sample_rate"] == 8000
    assert result.analysis["loudness_after_lufs"] == pytest.approx(-16.0, abs=1.0)


# --- what is refused ------------------------------------------------------------------------

Maker = Callable[[Path, dict[str, Path]], Path]
BAD: dict[str, tuple[Maker, type[AudioError], int, str]] = {
    "random bytes": (
        lambda d, c: af.random_bytes(d / "ghi-am.mp3"),
        UnsupportedFormat,
        415,
        "không phải âm thanh",
    ),
    "a PDF": (lambda d, c: af.pdf(d / "cong-van.pdf"), UnsupportedFormat, 415, "MP3, WAV"),
    "video, no sound": (
        lambda d, c: af.video_without_audio(d / "v.mp4"),
        UnsupportedFormat,
        415,
        "không có tiếng",
    ),
    "zero-length": (
        lambda d, c: af.truncated(c["tone"], d / "empty.wav", 0),
        Unplayable,
        422,
        "rỗng",
    ),
    "truncated mp3": (
        lambda d, c: af.truncated(af.tone(d / "w.mp3", 10, codec=("-b:a", "128k")), d / "c.mp3"),
        Unplayable,
        422,
        "cắt ngang",
    ),
    "two hours": (
        lambda d, c: af.long_mp3(d / "hop-dai.mp3", 7200),
        TooLong,
        413,
        "dài 2 giờ; chỉ nhận bản ghi đến 1 giờ 30 phút",
    ),
    "all silent": (lambda d, c: c["silent"], Silent, 422, "im lặng"),
    "a blip": (
        lambda d, c: af.silence_tone_silence(d / "blip.wav", 1, 0.1, 1),
        TooShort,
        422,
        "quá ngắn",
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_refused_with_the_right_error(
    case: str, clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    make, error, status, words = BAD[case]
    source = make(tmp_path, clips)
    with pytest.raises(error) as refused:
        ingest(source, settings, store)
    assert refused.value.status == status
    assert words in str(refused.value)  # said for the user, in Vietnamese
    assert not store.root.exists() or not any(store.root.rglob("*.mp3"))


def test_a_failure_half_way_leaves_no_temporary_files(
    clips: dict[str, Path],
    store: MediaStore,
    settings: Settings,
    temp_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken_encoder(samples: object, out: Path, *args: object) -> None:
        out.write_bytes(b"half an mp3")
        assert len(os.listdir(temp_dir)) == 1  # the work directory exists during the run
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "encode_mp3", broken_encoder)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(clips["tone"], settings, store)
    # the autouse fixture checks temp_dir is empty again


def test_ffmpeg_is_never_given_a_shell_string(
    clips: dict[str, Path], tmp_path: Path, store: MediaStore, settings: Settings
) -> None:
    odd = Path(shutil.copy(clips["tone"], tmp_path / "bản tin; rm -rf ~ $(id).wav"))
    assert ingest(odd, settings, store).analysis["source_codec"] == "pcm_s16le"
