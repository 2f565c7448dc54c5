"""The station player: real libvlc, real files, a real live stream; NullPlayer's timekeeping.

The VlcPlayer tests listen through the capture WAV, the off-air log, whose sample ``n`` is
the sound of ``recording_started_at + n / rate``. Every item is a sine of its own frequency,
so demodulating the capture at that frequency tells, to a millisecond or two, when the item
was on air. Cues are one to three seconds long and ``play()`` comes ``LEAD`` seconds before
the start (the agent's three seconds would only make the suite slower).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from audio.player import Cue, CueResult, NullPlayer, utc_now
from tests import audio_fixtures as af
from tests.air_support import Air, LiveSource, bridged, read_wav
from tests.audio_fixtures import RATE

try:
    import vlc

    LIBVLC = vlc.Instance(["--quiet"]) is not None
    WHY_NOT = "libvlc.Instance() returned None"
except (ImportError, OSError, NotImplementedError) as exc:  # no libvlc on this machine
    LIBVLC, WHY_NOT = False, f"libvlc cannot load: {exc}"

needs_vlc = pytest.mark.skipif(not LIBVLC, reason=WHY_NOT)
pytestmark = [pytest.mark.usefixtures("temp_dir"), pytest.mark.realtime]

LEAD = 0.8  # play() this long before the start: room for the dry run
RELAY_LEAD = 1.5  # a stream on localhost takes ~0.7 s from connecting to its first sample
EDGE = 0.05  # an item's start and length in the capture, ±
EXACT = 0.005  # a gate (end, cut, relay start/end) is sample-exact; allow rounding
SOURCE_HZ, FILLER_HZ = 1000, 300


# -- material -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("player-media")
    mp3 = ("-c:a", "libmp3lame", "-b:a", "128k")
    step = "if(lt(t,1),0.1*sin(2*PI*440*t),0.1*sin(2*PI*660*t))"  # 440 Hz, then 660 Hz
    af.ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{step}':s={RATE}:d=2", *mp3, str(d / "step.mp3"))
    af.ffmpeg("-f", "lavfi", "-i", f"aevalsrc='{step}':s={RATE}:d=2", str(d / "step.wav"))
    source = ("-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0", "-id3v2_version", "0")
    return {
        "a440.mp3": af.tone(d / "a440.mp3", 1.0, freq=440, codec=mp3),
        "b880.wav": af.tone(d / "b880.wav", 1.0, freq=880),
        "long440.wav": af.tone(d / "long440.wav", 3.0, freq=440),
        "long550.mp3": af.tone(d / "long550.mp3", 3.0, freq=550, codec=mp3),
        "step.mp3": d / "step.mp3",
        "step.wav": d / "step.wav",
        "source.mp3": af.tone(d / "source.mp3", 30.0, freq=SOURCE_HZ, codec=source),
        "filler.mp3": af.tone(d / "filler.mp3", 0.4, freq=FILLER_HZ, codec=mp3),
        "text.mp3": af.pdf(d / "text.mp3"),
    }


# -- listening to the capture --------------------------------------------------------------


class Station:
    """A VlcPlayer airing into a capture WAV, and what it reported."""

    def __init__(self, tmp: Path, lead: float = LEAD, **options: Any) -> None:
        from audio.player import VlcPlayer

        self.path = tmp / "air.wav"
        self.outcomes: dict[str, CueResult] = {}
        self._cond = threading.Condition()
        self.player = VlcPlayer(self._on_done, capture=self.path, **options)
        self.t0 = utc_now() + timedelta(seconds=lead)

    def _on_done(self, outcome: CueResult) -> None:
        with self._cond:
            assert outcome.item_id not in self.outcomes, "on_done called twice"
            self.outcomes[outcome.item_id] = outcome
            self._cond.notify_all()

    def at(self, seconds: float) -> datetime:
        return self.t0 + timedelta(seconds=seconds)

    def cue(self, item_id: str, start: float, end: float, **kw: Any) -> Cue:
        return Cue(item_id, item_id.upper(), self.at(start), self.at(end), **kw)

    def wait(self, *item_ids: str, timeout: float = 15) -> dict[str, CueResult]:
        with self._cond:
            assert self._cond.wait_for(lambda: all(i in self.outcomes for i in item_ids), timeout)
            return {i: self.outcomes[i] for i in item_ids}

    def sleep_until(self, seconds: float) -> None:
        time.sleep(max((self.at(seconds) - utc_now()).total_seconds(), 0))

    def listen(self) -> Air:
        """Close the player (the capture is finalised) and read what aired."""
        self.player.close()
        x, rate, _ = read_wav(self.path)
        assert self.player.recording_started_at is not None
        return Air(x, rate, self.player.recording_started_at)


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Callable[..., Station]]:
    made: list[Station] = []

    def make(**options: Any) -> Station:
        made.append(Station(tmp_path, **options))
        return made[-1]

    yield make
    for s in made:
        s.player.close()


def one(spans: list[tuple[float, float]]) -> tuple[float, float]:
    assert len(spans) == 1, (
        f"expected one span, heard {[(round(a, 3), round(b, 3)) for a, b in spans]}"
    )
    return spans[0]


def near(value: float, expected: float, tolerance: float) -> bool:
    return abs(value - expected) <= tolerance


# -- a live source ----------------------------------------------------------------------------


@pytest.fixture
def live(media: dict[str, Path]) -> Iterator[Callable[[str], LiveSource]]:
    made: list[LiveSource] = []

    def make(kind: str) -> LiveSource:
        mp3 = kind == "mp3"
        made.append(LiveSource.mp3(media["source.mp3"]) if mp3 else LiveSource.pcm(SOURCE_HZ))
        return made[-1]

    yield make
    for source in made:
        source.close()


def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/live"  # nothing listens there any more


# -- VlcPlayer: files ---------------------------------------------------------------------------


@needs_vlc
def test_two_files_back_to_back_land_on_their_instants(
    station: Callable[..., Station], media: dict[str, Path]
) -> None:
    s = station()
    s.player.play(s.cue("a", 0.0, 3.0, media=media["a440.mp3"]))
    s.player.play(s.cue("b", 1.0, 3.0, media=media["b880.wav"]))
    done = s.wait("a", "b")
    air = s.listen()

    assert done["a"].status == done["b"].status == "played"
    a0, a1 = one(air.spans(440))
    b0, b1 = one(air.spans(880))
    assert near(a0, air.t(s.at(0.0)), EDGE) and near(a1 - a0, 1.0, EDGE)  # MP3
    assert near(b0, air.t(s.at(1.0)), EDGE) and near(b1 - b0, 1.0, EDGE)  # WAV
    assert air.silent(0, a0 - 0.01) and air.silent(b1 + 0.01, len(air.x) / air.rate)
    # The outcome's instants are the capture's: sample-exact, one clock. (libvlc sometimes
    # plays an MP3's 25 ms encoder delay before the tone, sometimes trims it: hence 0.03.)
    assert done["a"].started_at is not None and done["b"].started_at is not None
    assert near(air.t(done["a"].started_at), a0, 0.03)
    assert near(air.t(done["b"].started_at), b0, 0.01)
    assert near(air.t(done["b"].ended_at), b1, 0.01)


@needs_vlc
def test_a_late_start_joins_in_progress(
    station: Callable[..., Station], media: dict[str, Path]
) -> None:
    """The step files are 1 s at 440 Hz then 1 s at 660 Hz. Joining 1.2 s in airs only the
    660 Hz part; a cue handed over late seeks further by its lateness, so it still ends when
    the plan said."""
    s = station()
    s.player.play(s.cue("mp3", 0.0, 2.0, media=media["step.mp3"], offset_s=1.2))
    s.sleep_until(1.5)
    began = utc_now() - timedelta(seconds=0.3)  # handed over 0.3 s after its start
    late = Cue("wav", "WAV", began, s.at(4.0), media=media["step.wav"], offset_s=1.2)
    s.player.play(late)
    done = s.wait("mp3", "wav")
    air = s.listen()

    assert done["mp3"].status == done["wav"].status == "played"
    assert sum(b - a for a, b in air.spans(440)) < 0.06  # the first part did not air
    [(m0, m1), (w0, w1)] = air.spans(660)
    assert near(m0, air.t(s.at(0.0)), EDGE) and near(m1 - m0, 0.8, 0.06)  # MP3 seeks by frame
    assert near(w1, air.t(late.start) + 0.8, EDGE)  # 0.3 s late: 0.5 s of the 0.8 airs
    assert near(w1 - w0, 0.5, EDGE)


@needs_vlc
def test_the_end_instant_and_a_cut_stop_a_long_file_to_the_sample(
    station: Callable[..., Station], media: dict[str, Path]
) -> None:
    s = station()
    s.player.play(s.cue("a", 0.0, 1.0, media=media["long440.wav"]))  # 3 s of media
    s.player.play(s.cue("b", 1.3, 3.3, media=media["long550.mp3"]))
    s.player.cut("b", s.at(2.0))
    done = s.wait("a", "b")
    air = s.listen()

    assert done["a"].status == "partial" and done["a"].detail == "cut at its end after 00:01.0"
    assert done["b"].status == "partial" and "cut" in (done["b"].detail or "")
    _, a1 = one(air.spans(440))
    b0, b1 = one(air.spans(550))
    assert near(a1, air.t(s.at(1.0)), EXACT) and near(b1, air.t(s.at(2.0)), EXACT)
    assert near(b0, air.t(s.at(1.3)), EDGE)
    assert near(air.t(done["a"].ended_at), a1, EXACT)


@needs_vlc
def test_a_new_start_pre_empts_and_stop_interrupts(
    station: Callable[..., Station], media: dict[str, Path]
) -> None:
    s = station()
    s.player.play(s.cue("a", 0.0, 3.0, media=media["long440.wav"]))
    s.player.play(s.cue("b", 0.8, 3.0, media=media["long550.mp3"]))
    s.sleep_until(0.4)
    assert s.player.playing() == "a"
    s.sleep_until(1.2)
    assert s.player.playing() == "b"
    s.player.stop("the operator pressed stop")
    done = s.wait("a", "b")
    stopped = utc_now()
    air = s.listen()

    assert done["a"].status == "interrupted" and done["a"].detail == "pre-empted by b"
    assert done["b"].status == "interrupted" and done["b"].detail == "the operator pressed stop"
    assert s.player.playing() is None
    _, a1 = one(bridged(air.spans(440), 0.05))
    b0, _ = one(bridged(air.spans(550), 0.05))
    assert near(a1, air.t(s.at(0.8)), EDGE) and near(b0, air.t(s.at(0.8)), EDGE)
    assert b0 >= a1 - 0.005  # one on air at a time
    _, off = one(bridged(air.spans(), 0.05))
    # Silence came with the stop, not before it: the capture's clock is placed to within a
    # few ms (6 ms off once on a loaded machine), so the bounds carry the start's margin.
    assert air.t(s.at(1.2)) - EDGE < off <= air.t(stopped) + EDGE


@needs_vlc
def test_a_missing_or_undecodable_file_fails_with_the_reason(
    station: Callable[..., Station], media: dict[str, Path], tmp_path: Path
) -> None:
    s = station()
    s.player.play(s.cue("gone", 0.5, 1.5, media=tmp_path / "nowhere.mp3"))
    s.player.play(s.cue("text", 0.5, 1.5, media=media["text.mp3"]))
    s.player.play(Cue("over", "O", s.at(-3), s.at(-2), media=media["a440.mp3"]))
    done = s.wait("gone", "text", "over")

    assert all(o.status == "failed" and o.started_at is None for o in done.values())
    assert done["gone"].detail == f"media missing: {tmp_path / 'nowhere.mp3'}"
    assert (done["text"].detail or "").startswith("undecodable")
    assert done["over"].detail == "its window was over before it could start"


# -- VlcPlayer: relays ---------------------------------------------------------------------------


@needs_vlc
def test_a_relay_airs_exactly_its_window(
    station: Callable[..., Station], live: Callable[[str], LiveSource]
) -> None:
    s = station(lead=RELAY_LEAD, relay_caching_ms=300, relay_preroll_s=RELAY_LEAD)
    s.player.play(s.cue("relay", 0.0, 1.5, stream_url=live("mp3").url))
    done = s.wait("relay")["relay"]
    air = s.listen()

    assert done.status == "played"
    assert (done.detail or "").startswith("source on ")
    r0, r1 = one(air.spans())  # opened early, yet nothing before the start
    assert near(r0, air.t(s.at(0.0)), EXACT) and near(r1, air.t(s.at(1.5)), EXACT)
    t0, t1 = one(air.spans(SOURCE_HZ))
    assert near(t1 - t0, 1.5, 0.02)


@needs_vlc
def test_a_dropping_relay_is_retried_and_the_filler_fills_the_gaps(
    station: Callable[..., Station], live: Callable[[str], LiveSource], media: dict[str, Path]
) -> None:
    """Every connection drops after 0.8 s; the source comes back on the next try."""
    source = live("pcm")
    source.drop_after = 0.8
    s = station(
        lead=RELAY_LEAD,
        relay_caching_ms=300,
        relay_preroll_s=RELAY_LEAD,
        relay_retry_s=0.5,
        filler=media["filler.mp3"],
    )
    s.player.play(s.cue("relay", 0.0, 2.5, stream_url=source.url))
    done = s.wait("relay")["relay"]
    air = s.listen()

    assert done.status == "partial"
    assert "the source ended the stream" in (done.detail or "")
    assert "filler 00:0" in (done.detail or "")
    on, off = one(air.spans())  # the filler closes every gap
    assert near(on, air.t(s.at(0.0)), EXACT) and near(off, air.t(s.at(2.5)), EXACT)
    heard, filler = air.spans(SOURCE_HZ), air.spans(FILLER_HZ)
    assert len(heard) >= 2 and filler  # back after a drop, filler in between
    assert heard[0][0] < filler[0][0] < heard[1][0]
    filled = sum(b - a for a, b in filler)
    assert filled > 0.4  # longer than one pass of the 0.4 s filler: it loops


@needs_vlc
def test_a_dead_relay_fails_without_filler_and_is_filled_with_one(
    station: Callable[..., Station], media: dict[str, Path]
) -> None:
    s = station(relay_caching_ms=300, relay_preroll_s=LEAD, relay_retry_s=0.4)
    s.player.play(s.cue("dead", 0.0, 1.0, stream_url=dead_url()))
    plain = s.wait("dead")["dead"]
    air = s.listen()
    assert plain.status == "failed" and plain.started_at is None
    assert "could not reach the source" in (plain.detail or "")
    assert "the source never aired" in (plain.detail or "")
    assert air.spans() == []

    f = station(
        relay_caching_ms=300, relay_preroll_s=LEAD, relay_retry_s=0.4, filler=media["filler.mp3"]
    )
    f.player.play(f.cue("dead", 0.0, 1.0, stream_url=dead_url()))
    filled = f.wait("dead")["dead"]
    air = f.listen()
    assert filled.status == "partial" and "filler 00:01.0" in (filled.detail or "")
    a, b = one(air.spans())  # looped seamlessly, from the start to the end
    assert near(a, air.t(f.at(0.0)), EXACT) and near(b, air.t(f.at(1.0)), EXACT)
    assert sum(b - a for a, b in air.spans(FILLER_HZ)) > 0.95


# -- VlcPlayer: the capture file and the sound card --------------------------------------------


@needs_vlc
def test_the_capture_is_a_valid_wav_while_recording_and_after(
    station: Callable[..., Station], media: dict[str, Path]
) -> None:
    s = station(channels=1, sample_rate=22050)
    s.player.play(s.cue("a", 0.0, 1.0, media=media["b880.wav"]))
    s.wait("a")
    header = s.path.read_bytes()[:44]
    size = s.path.stat().st_size
    riff, data = struct.unpack("<I", header[4:8])[0], struct.unpack("<I", header[40:44])[0]
    assert riff == size - 8 and data == size - 44  # valid at every flush
    opened = s.player.recording_started_at
    s.player.close()
    closed = utc_now()
    x, rate, channels = read_wav(s.path)
    assert (rate, channels) == (22050, 1)
    assert opened is not None
    assert near(len(x) / rate, (closed - opened).total_seconds(), 0.1)  # silence up to close


@needs_vlc
def test_without_capture_it_plays_to_the_audio_output(media: dict[str, Path]) -> None:
    """libvlc's dummy output stands in for the sound card; times are then estimates."""
    from audio.player import VlcPlayer

    outcomes: list[CueResult] = []
    player = VlcPlayer(outcomes.append, audio_output="adummy")
    start = utc_now() + timedelta(seconds=LEAD)
    player.play(Cue("a", "A", start, start + timedelta(seconds=3), media=media["b880.wav"]))
    deadline = time.monotonic() + 10
    while not outcomes and time.monotonic() < deadline:
        time.sleep(0.05)
    player.close()
    [done] = outcomes
    assert done.status == "played" and done.started_at is not None
    assert near((done.started_at - start).total_seconds(), 0, EDGE)
    assert near((done.ended_at - done.started_at).total_seconds(), 1.0, 0.1)


# -- NullPlayer ------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.outcomes: dict[str, CueResult] = {}
        self.cond = threading.Condition()

    def __call__(self, outcome: CueResult) -> None:
        with self.cond:
            self.outcomes[outcome.item_id] = outcome
            self.cond.notify_all()

    def wait(self, *ids: str, timeout: float = 5) -> dict[str, CueResult]:
        with self.cond:
            assert self.cond.wait_for(lambda: all(i in self.outcomes for i in ids), timeout)
            return {i: self.outcomes[i] for i in ids}


def test_null_player_keeps_time_for_files_and_relays(media: dict[str, Path]) -> None:
    done = Recorder()
    player = NullPlayer(done, duration_s=lambda path: 0.3)
    t0 = utc_now() + timedelta(seconds=0.1)
    later = timedelta(seconds=0.5)
    player.play(Cue("a", "A", t0, t0 + timedelta(seconds=2), media=media["a440.mp3"]))
    player.play(Cue("r", "R", t0 + later, t0 + later * 2, stream_url="http://example.invalid/"))
    time.sleep(0.2)
    assert player.playing() == "a"
    got = done.wait("a", "r")
    player.close()
    assert got["a"].status == got["r"].status == "played"
    assert got["a"].started_at == t0 and got["a"].ended_at == t0 + timedelta(seconds=0.3)
    assert got["r"].started_at == t0 + later and got["r"].ended_at == t0 + later * 2
    assert player.playing() is None


def test_null_player_reads_a_wav_duration_and_fails_missing_media(
    media: dict[str, Path], tmp_path: Path
) -> None:
    done = Recorder()
    player = NullPlayer(done)
    t0 = utc_now()
    later = t0 + timedelta(seconds=5)
    player.play(Cue("wav", "W", t0, later, media=media["b880.wav"], offset_s=0.8))
    player.play(Cue("gone", "G", t0, later, media=tmp_path / "no.mp3"))
    got = done.wait("wav", "gone")
    player.close()
    assert got["wav"].status == "played"
    assert near((got["wav"].ended_at - t0).total_seconds(), 0.2, 0.001)
    assert got["gone"].status == "failed"
    assert got["gone"].detail == f"media missing: {tmp_path / 'no.mp3'}"


def test_null_player_pre_empts_cuts_and_stops() -> None:
    done = Recorder()
    player = NullPlayer(done, duration_s=lambda path: None)
    t0 = utc_now() + timedelta(seconds=0.05)
    s = timedelta(seconds=0.3)
    relay = "http://example.invalid/"
    player.play(Cue("a", "A", t0, t0 + 4 * s, stream_url=relay))
    player.play(Cue("b", "B", t0 + s, t0 + 4 * s, stream_url=relay))
    player.play(Cue("c", "C", t0 + 3 * s, t0 + 5 * s, stream_url=relay))
    player.cut("b", t0 + 2 * s)
    got = done.wait("a", "b")
    assert got["a"].status == "interrupted" and got["a"].detail == "pre-empted by b"
    assert got["a"].ended_at <= t0 + s + timedelta(seconds=0.06)
    assert got["b"].status == "partial" and got["b"].ended_at == t0 + 2 * s
    time.sleep(max((t0 + 3.3 * s - utc_now()).total_seconds(), 0))
    assert player.playing() == "c"
    player.stop("stopped for a test")
    got = done.wait("c")
    player.close()
    assert got["c"].status == "interrupted" and got["c"].detail == "stopped for a test"


def test_null_player_follows_a_moved_clock() -> None:
    """With an injected clock, time passes when the test says so, not before."""
    now = [datetime(2026, 4, 20, 1, 0, tzinfo=UTC)]
    done = Recorder()
    player = NullPlayer(done, clock=lambda: now[0], duration_s=lambda path: None, tick_s=0.01)
    cue = Cue(
        "r", "R", now[0] + timedelta(minutes=5), now[0] + timedelta(minutes=35), stream_url="x"
    )
    player.play(cue)
    time.sleep(0.1)
    assert not done.outcomes and player.playing() == "r"
    now[0] += timedelta(minutes=10)
    time.sleep(0.1)
    assert not done.outcomes
    now[0] += timedelta(minutes=30)
    got = done.wait("r")["r"]
    player.close()
    assert got.status == "played" and got.started_at == cue.start and got.ended_at == cue.end
    assert player.playing() is None


def test_closing_a_player_reports_what_was_still_to_air() -> None:
    done = Recorder()
    player = NullPlayer(done)
    start = utc_now() + timedelta(minutes=1)
    player.play(Cue("later", "L", start, start + timedelta(minutes=5), stream_url="x"))
    time.sleep(0.05)
    player.close()
    got = done.wait("later")["later"]
    assert got.status == "interrupted" and got.detail == "the player was closed"
    assert got.started_at is None
    with pytest.raises(RuntimeError):
        player.play(Cue("after", "A", start, start + timedelta(minutes=5), stream_url="x"))
