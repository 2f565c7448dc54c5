"""TTS engines, cache and ``speak``: espeak-ng for real, Google faked at the HTTP edge.

gTTS is exercised through its real code with ``responses`` answering its POSTs to Google's
``batchexecute`` endpoint with a body shaped like Google's (a base64 MP3 made by ffmpeg),
so nothing here needs the network and a Google outage is simulated, not waited for.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
import responses

from audio.tts import espeak_engine
from audio.tts.base import TtsError, find_ffmpeg
from audio.tts.cache import TtsCache
from audio.tts.espeak_engine import EspeakEngine
from audio.tts.gtts_engine import GttsEngine
from audio.tts.registry import ENGINES, engines_info, get_engine
from audio.tts.speak import PAUSE_S, speak, split_sentences
from config import Settings, load_settings

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

GOOGLE = "https://translate.google.com/_/TranslateWebserverUi/data/batchexecute"
SENTENCE = "Xin chào bà con, đây là bản tin của đài truyền thanh xã."
BULLETIN = (
    "Ủy ban xã thông báo lịch tiêm phòng. Thời gian từ bảy giờ sáng!\nĐề nghị bà con đến đúng giờ."
)
TONE_SECONDS = 0.5


def identity(text: str) -> str:
    return text


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    return load_settings(instance_path=tmp_path, environ={}, **overrides)


def decode(path: Path, rate: int = 16000) -> np.ndarray:
    """Samples in [-1, 1] of any file ffmpeg reads, mono at ``rate``."""
    ffmpeg = find_ffmpeg(make_settings(path.parent))
    raw = subprocess.run(
        [ffmpeg, "-v", "error", "-i", str(path), "-f", "s16le", "-ac", "1", "-ar", str(rate), "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768


def seconds(path: Path) -> float:
    return len(decode(path)) / 16000


def rms(path: Path) -> float:
    return float(np.sqrt(np.mean(decode(path) ** 2)))


@pytest.fixture(scope="session")
def tone_mp3(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Half a second of MP3 as Google sends it: 24 kHz mono, 32 kbit/s."""
    path = tmp_path_factory.mktemp("mp3") / "tone.mp3"
    ffmpeg = find_ffmpeg(make_settings(path.parent))
    tone = f"sine=frequency=440:duration={TONE_SECONDS}"
    encode = ["-ar", "24000", "-ac", "1", "-c:a", "libmp3lame", "-b:a", "32k", str(path)]
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", tone, *encode], check=True)
    return path.read_bytes()


def batchexecute_body(mp3: bytes) -> str:
    """Google's answer: an anti-XSSI prefix, then length-prefixed JSON lines."""
    audio = json.dumps([base64.b64encode(mp3).decode("ascii")])
    first = json.dumps(
        [
            ["wrb.fr", "jQ1olc", audio, None, None, None, "generic"],
            ["di", 57],
            ["af.httprm", 56, "-2650093467582946497", 3],
        ],
        separators=(",", ":"),
    )
    last = f'[["e",4,null,null,{len(first) + 60}]]'
    return f")]}}'\n\n{len(first)}\n{first}\n{len(last)}\n{last}\n"


@pytest.fixture
def google() -> Iterator[responses.RequestsMock]:
    """Every HTTP request goes here; anything not registered fails like a dead network."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def google_answers(mock: responses.RequestsMock, mp3: bytes) -> None:
    mock.add(responses.POST, GOOGLE, body=batchexecute_body(mp3), status=200)


def google_offline(mock: responses.RequestsMock) -> None:
    mock.add(responses.POST, GOOGLE, body=requests.ConnectionError("Network is unreachable"))


# --- espeak-ng, for real -------------------------------------------------------------


@pytest.mark.parametrize("voice", ["north", "central", "south"])
def test_espeak_voices_speak_audibly(tmp_path: Path, voice: str) -> None:
    engine = EspeakEngine(make_settings(tmp_path))
    path = engine.synthesize(SENTENCE, voice, 1.0, tmp_path / "out")
    assert path.suffix == ".wav"
    assert 2.0 < seconds(path) < 8.0
    assert rms(path) > 0.02


def test_espeak_speed_changes_duration(tmp_path: Path) -> None:
    engine = EspeakEngine(make_settings(tmp_path))
    normal = seconds(engine.synthesize(SENTENCE, "north", 1.0, tmp_path / "normal"))
    fast = seconds(engine.synthesize(SENTENCE, "north", 2.0, tmp_path / "fast"))
    slow = seconds(engine.synthesize(SENTENCE, "north", 0.5, tmp_path / "slow"))
    assert fast < 0.75 * normal
    assert slow > 1.4 * normal


@pytest.mark.parametrize(("voice", "speed"), [("west", 1.0), ("north", 2.5), ("north", 0.4)])
def test_bad_voice_or_speed_is_refused(tmp_path: Path, voice: str, speed: float) -> None:
    with pytest.raises(TtsError) as error:
        EspeakEngine(make_settings(tmp_path)).synthesize(SENTENCE, voice, speed, tmp_path / "x")
    assert not error.value.retryable
    assert not list(tmp_path.glob("x*"))


def test_text_that_looks_like_an_option_is_read_not_obeyed(tmp_path: Path) -> None:
    path = EspeakEngine(make_settings(tmp_path)).synthesize(
        "--help; rm -rf / $(reboot)", "north", 1.0, tmp_path / "out"
    )
    assert rms(path) > 0.02


def test_missing_espeak_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(espeak_engine.shutil, "which", lambda name: None)
    engine = EspeakEngine(make_settings(tmp_path))
    assert not engine.available()
    with pytest.raises(TtsError, match="espeak-ng") as error:
        engine.synthesize(SENTENCE, "north", 1.0, tmp_path / "out")
    assert error.value.engine == "espeak"


# --- gTTS, with Google faked -----------------------------------------------------------


def test_gtts_writes_google_audio(
    tmp_path: Path, google: responses.RequestsMock, tone_mp3: bytes
) -> None:
    google_answers(google, tone_mp3)
    settings = make_settings(tmp_path, tts_timeout_s=7)
    path = GttsEngine(settings).synthesize(SENTENCE, "north", 1.0, tmp_path / "out")
    assert path.read_bytes() == tone_mp3
    assert seconds(path) == pytest.approx(TONE_SECONDS, abs=0.1)
    [call] = google.calls
    assert call.request.req_kwargs["timeout"] == 7  # gTTS waits forever unless told
    rpc = json.loads(requests.utils.unquote(call.request.body).removeprefix("f.req=")[:-1])
    assert json.loads(rpc[0][0][1])[:2] == [SENTENCE, "vi"]


def test_gtts_reads_text_longer_than_one_request(
    tmp_path: Path, google: responses.RequestsMock, tone_mp3: bytes
) -> None:
    google_answers(google, tone_mp3)
    text = f"{SENTENCE} {SENTENCE} {SENTENCE}"
    assert len(text) > 150
    path = GttsEngine(make_settings(tmp_path)).synthesize(text, "north", 1.0, tmp_path / "out")
    assert len(google.calls) >= 2  # gTTS cuts at 100 characters
    # every part is in the file (each MP3 part adds a little encoder padding)
    assert seconds(path) == pytest.approx(len(google.calls) * TONE_SECONDS, rel=0.15)


def test_gtts_speed_is_applied_with_atempo(
    tmp_path: Path, google: responses.RequestsMock, tone_mp3: bytes
) -> None:
    google_answers(google, tone_mp3)
    path = GttsEngine(make_settings(tmp_path)).synthesize(SENTENCE, "north", 2.0, tmp_path / "o")
    assert path.suffix == ".wav"
    assert seconds(path) == pytest.approx(TONE_SECONDS / 2, abs=0.08)


def test_gtts_offline_retries_with_growing_delays(
    tmp_path: Path, google: responses.RequestsMock
) -> None:
    google_offline(google)
    delays: list[float] = []
    engine = GttsEngine(make_settings(tmp_path, tts_retries=3), sleep=delays.append)
    with pytest.raises(TtsError, match="mất mạng") as error:
        engine.synthesize(SENTENCE, "north", 1.0, tmp_path / "out")
    assert error.value.retryable and error.value.engine == "gtts"
    assert len(google.calls) == 4
    assert delays == [0.5, 1.0, 2.0]
    assert not list(tmp_path.glob("out*"))


def test_gtts_timeout_is_retryable(tmp_path: Path, google: responses.RequestsMock) -> None:
    google.add(responses.POST, GOOGLE, body=requests.ReadTimeout("read timed out"))
    engine = GttsEngine(make_settings(tmp_path, tts_retries=1), sleep=lambda s: None)
    with pytest.raises(TtsError, match="giây") as error:
        engine.synthesize(SENTENCE, "north", 1.0, tmp_path / "out")
    assert error.value.retryable
    assert len(google.calls) == 2


def test_gtts_server_error_is_retried_then_reported(
    tmp_path: Path, google: responses.RequestsMock
) -> None:
    google.add(responses.POST, GOOGLE, body="oops", status=500)
    delays: list[float] = []
    engine = GttsEngine(make_settings(tmp_path, tts_retries=2), sleep=delays.append)
    with pytest.raises(TtsError, match="500") as error:
        engine.synthesize(SENTENCE, "north", 1.0, tmp_path / "out")
    assert error.value.retryable
    assert len(google.calls) == 3
    assert delays == [0.5, 1.0]


def test_gtts_recovers_when_the_network_comes_back(
    tmp_path: Path, google: responses.RequestsMock, tone_mp3: bytes
) -> None:
    google_offline(google)
    google_answers(google, tone_mp3)
    engine = GttsEngine(make_settings(tmp_path, tts_retries=2), sleep=lambda s: None)
    path = engine.synthesize(SENTENCE, "north", 1.0, tmp_path / "out")
    assert path.read_bytes() == tone_mp3
    assert len(google.calls) == 2


def test_gtts_refusal_is_not_retried(tmp_path: Path, google: responses.RequestsMock) -> None:
    google.add(responses.POST, GOOGLE, body="forbidden", status=403)
    engine = GttsEngine(make_settings(tmp_path, tts_retries=2), sleep=lambda s: None)
    with pytest.raises(TtsError, match="403") as error:
        engine.synthesize(SENTENCE, "north", 1.0, tmp_path / "out")
    assert not error.value.retryable
    assert len(google.calls) == 1


def test_gtts_answer_without_audio_is_reported(
    tmp_path: Path, google: responses.RequestsMock
) -> None:
    google.add(responses.POST, GOOGLE, body=")]}'\n\n<html>captcha</html>", status=200)
    engine = GttsEngine(make_settings(tmp_path, tts_retries=2), sleep=lambda s: None)
    with pytest.raises(TtsError, match="không trả về âm thanh") as error:
        engine.synthesize(SENTENCE, "north", 1.0, tmp_path / "out")
    assert not error.value.retryable
    assert not list(tmp_path.glob("out*"))


def test_gtts_offers_only_the_voice_google_has(tmp_path: Path) -> None:
    engine = GttsEngine(make_settings(tmp_path))
    assert engine.available()
    with pytest.raises(TtsError, match="south"):
        engine.synthesize(SENTENCE, "south", 1.0, tmp_path / "out")


# --- speak: the whole bulletin ----------------------------------------------------------


def test_speak_joins_sentences_into_one_wav(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tts_engine="espeak", sample_rate=48000)
    spoken = speak(BULLETIN, settings, tmp_path / "out", normalize=identity)
    assert (spoken.engine, spoken.voice, spoken.sentences, spoken.cached) == (
        "espeak",
        "north",
        3,
        0,
    )
    probe = subprocess.run(
        [find_ffmpeg(settings), "-i", str(spoken.path)], capture_output=True, text=True
    ).stderr
    assert "48000 Hz, mono" in probe and "pcm_s16le" in probe
    parts = [
        seconds(EspeakEngine(settings).synthesize(s, "north", 1.0, tmp_path / f"p{i}"))
        for i, s in enumerate(split_sentences(BULLETIN))
    ]
    assert seconds(spoken.path) == pytest.approx(sum(parts) + 2 * PAUSE_S, abs=0.1)


def test_speak_uses_the_normaliser_output(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tts_engine="espeak")
    spoken = speak(
        "UBND xã thông báo.", settings, tmp_path, normalize=lambda t: t.replace("UBND", "Ủy ban")
    )
    assert spoken.normalized_text == "Ủy ban xã thông báo."


def test_second_identical_bulletin_comes_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path, tts_engine="espeak")
    first = speak(BULLETIN, settings, tmp_path / "a", voice="south", normalize=identity)

    def no_synthesis(*args: object) -> Path:
        raise AssertionError("the engine must not be called on a cache hit")

    monkeypatch.setattr(EspeakEngine, "_render", no_synthesis)
    second = speak(BULLETIN, settings, tmp_path / "b", voice="south", normalize=identity)
    assert (first.cached, second.cached, second.sentences) == (0, 3, 3)
    assert second.path.read_bytes() == first.path.read_bytes()
    with pytest.raises(AssertionError):  # another voice is another cache entry
        speak(BULLETIN, settings, tmp_path / "c", voice="central", normalize=identity)


def test_cached_google_sentences_need_no_network(
    tmp_path: Path, google: responses.RequestsMock, tone_mp3: bytes
) -> None:
    google_answers(google, tone_mp3)
    settings = make_settings(tmp_path, tts_engine="gtts")
    first = speak(BULLETIN, settings, tmp_path / "a", normalize=identity)
    calls = len(google.calls)
    second = speak(BULLETIN, settings, tmp_path / "b", normalize=identity)
    assert (first.engine, first.cached, second.cached) == ("gtts", 0, 3)
    assert len(google.calls) == calls == 3


def test_google_offline_falls_back_to_espeak(
    tmp_path: Path, google: responses.RequestsMock
) -> None:
    google_offline(google)
    settings = make_settings(tmp_path, tts_retries=0)  # auto: gtts, then espeak
    spoken = speak(BULLETIN, settings, tmp_path / "out", normalize=identity)
    assert spoken.engine == "espeak"
    assert rms(spoken.path) > 0.02
    assert spoken.warnings and "mất mạng" in spoken.warnings[0]


def test_a_bulletin_never_mixes_two_voices(
    tmp_path: Path, google: responses.RequestsMock, tone_mp3: bytes
) -> None:
    google_answers(google, tone_mp3)  # the first sentence gets through…
    google_offline(google)  # …then the network drops
    settings = make_settings(tmp_path, tts_retries=0)
    spoken = speak(BULLETIN, settings, tmp_path / "out", normalize=identity)
    assert spoken.engine == "espeak"
    assert spoken.cached == 0  # all three sentences spoken again by espeak
    assert len(google.calls) == 2


def test_explicit_engine_does_not_fall_back(tmp_path: Path, google: responses.RequestsMock) -> None:
    google_offline(google)
    settings = make_settings(tmp_path, tts_retries=0)
    with pytest.raises(TtsError, match="Google") as error:
        speak(BULLETIN, settings, tmp_path / "out", engine="gtts", normalize=identity)
    assert error.value.retryable


def test_a_voice_only_espeak_has_goes_to_espeak(
    tmp_path: Path, google: responses.RequestsMock
) -> None:
    spoken = speak(SENTENCE, make_settings(tmp_path), tmp_path, voice="south", normalize=identity)
    assert (spoken.engine, spoken.voice) == ("espeak", "south")
    assert not google.calls


@pytest.mark.parametrize("text", ["", "   \n ", "... !!! ?", "—;–"])
def test_empty_text_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(TtsError, match="Văn bản trống"):
        speak(text, make_settings(tmp_path, tts_engine="espeak"), tmp_path, normalize=identity)


def test_overlong_text_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, tts_engine="espeak", tts_max_chars=100)
    with pytest.raises(TtsError, match="vượt giới hạn 100"):
        speak("a" * 101, settings, tmp_path, normalize=identity)


def test_unknown_engine_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(TtsError, match="gtts, espeak"):
        get_engine("azure", make_settings(tmp_path))


def test_speed_out_of_range_is_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(TtsError, match="Tốc độ"):
        speak(SENTENCE, make_settings(tmp_path), tmp_path, speed=3.0, normalize=identity)


def test_long_sentences_are_cut_at_commas() -> None:
    long = ", ".join(["bà con chú ý lịch cắt điện khu vực thôn Đông"] * 10) + "."
    chunks = split_sentences(f"Thông báo! {long}\n\n- - -\nHết.")
    assert chunks[0] == "Thông báo!" and chunks[-1] == "Hết."
    assert all(len(c) <= 200 for c in chunks)
    assert all(c.endswith((",", ".")) for c in chunks[1:-1])
    assert " ".join(chunks[1:-1]) == long


def test_cache_writes_atomically_and_keys_on_what_is_heard(tmp_path: Path) -> None:
    cache = TtsCache(tmp_path / "cache")
    nfd = "Hà Nội".replace("à", "a\u0300")
    key = TtsCache.key("espeak", "north", 1.0, "Hà  Nội ")
    assert key == TtsCache.key("espeak", "north", 1.0, nfd)
    assert key != TtsCache.key("espeak", "south", 1.0, "Hà Nội")
    assert key != TtsCache.key("espeak", "north", 1.1, "Hà Nội")
    assert cache.get(key) is None
    produced = tmp_path / "x.mp3"
    produced.write_bytes(b"ID3 fake")
    stored = cache.put(key, produced)
    assert cache.get(key) == stored and stored.suffix == ".mp3"
    assert [p.name for p in stored.parent.iterdir()] == [stored.name]  # no temp file left


def test_engines_info_lists_both_engines_with_voices(tmp_path: Path) -> None:
    info = {e["name"]: e for e in engines_info(make_settings(tmp_path))}
    assert list(info) == list(ENGINES) == ["gtts", "espeak"]
    assert info["espeak"]["available"] is True
    assert [v["id"] for v in info["espeak"]["voices"]] == ["north", "central", "south"]
    assert info["espeak"]["voices"][2]["label"].startswith("Giọng miền Nam")
    assert info["gtts"]["voices"] == [{"id": "north", "label": GttsEngine.voices["north"]}]
    assert all(e["default_voice"] == "north" for e in info.values())
