"""What a commune actually airs: the agent with real VLC, recorded into the off-air WAV.

A live server on 127.0.0.1 holds the schedule; the agent syncs it, fetches the media and
plays through libvlc into ``--audio-file``. Each item is a distinct tone, so listening to the
WAV (``Air.spans``) says what aired when, to a few milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.agent_fixtures import LiveServer, close, copy_template, live_server, soon
from tests.test_agent import wait_for
from tests.test_player import Air, LiveSource, read_wav

vlc = pytest.importorskip("vlc", reason="python-vlc is not installed")
if vlc.dll is None:  # pragma: no cover - depends on the machine
    pytest.skip("libvlc is not installed (apt-get install libvlc5 vlc-plugin-base)",
                allow_module_level=True)  # fmt: skip

from audio.player import VlcPlayer  # noqa: E402

EDGE = 0.08  # seconds: an item's start or end in the WAV vs its scheduled instant
SOURCE_HZ = 1000


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveServer]:
    # Seconds-long test items: keep the few-second remainders of a pre-empted relay.
    overrides = {"min_fragment_s": 1}
    server = live_server(tmp_path, copy_template(sqlite_template, tmp_path), overrides)
    yield server
    close(server)


@pytest.fixture
def source() -> Iterator[LiveSource]:
    """A provincial station's live stream on 127.0.0.1: an endless 1 kHz tone."""
    stream = LiveSource.pcm(SOURCE_HZ)
    yield stream
    stream.close()


def on_air(live: LiveServer, cache: Path, wav: Path) -> tuple[Any, Callable[[], VlcPlayer]]:
    """An agent playing through VLC into ``wav``; returns it and a getter for its player."""
    made: list[VlcPlayer] = []

    def player(on_done: Any) -> VlcPlayer:
        made.append(VlcPlayer(on_done, capture=wav, relay_preroll_s=1.5, relay_retry_s=0.5))
        return made[-1]

    agent = live.agent(cache, player, relay_lead_s=1.5)
    return agent, lambda: made[0]


def listen(wav: Path, player: VlcPlayer) -> Air:
    assert player.recording_started_at is not None
    x, rate, _ = read_wav(wav)
    return Air(x, rate, player.recording_started_at)


def logs_of(live: LiveServer) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for record in live.plays():
        found.setdefault(record["status"], []).append(record)
    return found


def test_a_two_segment_programme_airs_at_its_instant_with_the_right_audio(live, tmp_path):
    program = live.program((440, 1.5), (880, 1.0), title="Bản tin học tập suốt đời")
    start = soon(3)
    live.schedule(start, kind="program", program=program["id"])
    agent, player = on_air(live, tmp_path / "agent", tmp_path / "air.wav")
    agent.start()
    wait_for(lambda: logs_of(live).get("played"), 20, "the programme's play log")
    agent.stop()  # the WAV is finalised

    air = listen(tmp_path / "air.wav", player())
    [(a, b)] = air.spans(440, min_s=0.3)
    [(c, d)] = air.spans(880, min_s=0.3)
    t0 = air.t(start)
    assert abs(a - t0) < EDGE, f"first sample {a - t0:+.3f} s from the scheduled instant"
    assert abs((b - a) - 1.5) < EDGE and abs(c - b) < EDGE and abs((d - c) - 1.0) < EDGE
    assert air.silent(0, a - 0.05) and air.silent(d + 0.05, len(air.x) / air.rate)
    [log] = logs_of(live)["played"]
    started = datetime.fromisoformat(log["started_at"])
    assert abs((started - start).total_seconds()) < EDGE


def test_a_relay_of_a_live_stream_airs_exactly_its_window(live, tmp_path, source):
    start = soon(3)
    live.schedule(start, kind="relay", stream_url=source.url, duration_s=3,
                  title="Tiếp âm Đài tỉnh")  # fmt: skip
    agent, player = on_air(live, tmp_path / "agent", tmp_path / "air.wav")
    agent.start()
    wait_for(lambda: logs_of(live).get("played"), 20, "the relay's play log")
    agent.stop()

    air = listen(tmp_path / "air.wav", player())
    [(a, b)] = air.spans(SOURCE_HZ, min_s=0.3)
    t0 = air.t(start)
    assert abs(a - t0) < EDGE and abs(b - (t0 + 3)) < EDGE
    # Opened early to be on time, but not heard before its window nor after it.
    assert air.silent(0, t0 - 0.02) and air.silent(t0 + 3.02, len(air.x) / air.rate)


def test_an_emergency_cuts_through_a_relay(live, tmp_path, source):
    siren = live.program((880, 1.5), title="Còi báo động")  # the alert's recorded message
    [segment_id] = [i["segment"] for i in siren["items"]]
    start = soon(2)
    live.schedule(start, kind="relay", stream_url=source.url, duration_s=12,
                  title="Tiếp âm VOV1")  # fmt: skip
    agent, player = on_air(live, tmp_path / "agent", tmp_path / "air.wav")
    agent.start()
    wait_for(lambda: agent.playing() is not None, 15, "the relay on air")
    time.sleep(2.0)

    issued = live.call("POST", "/api/v1/alerts", json={
        "title": "Cảnh báo lũ sông Đáy", "segment": segment_id, "targets": ["347"]})  # fmt: skip
    assert issued.status_code == 201, issued.json
    heard_at = datetime.now(start.tzinfo)
    agent.sync_soon()  # what the MQTT push does (tested in test_agent.py)
    alert = issued.json["id"]
    wait_for(lambda: [r for r in live.plays() if r["broadcast"] == alert], 20, "the alert's log")
    wait_for(lambda: (agent.playing() or None) and agent.playing().broadcast != alert, 10,
             "the relay back on air")  # fmt: skip
    time.sleep(1.0)
    agent.stop()

    air = listen(tmp_path / "air.wav", player())
    relay = air.spans(SOURCE_HZ, min_s=0.3)
    [(a, b)] = air.spans(880, min_s=0.3)
    assert len(relay) == 2, relay
    (r1, r2), (r3, _) = relay
    assert abs(r1 - air.t(start)) < EDGE
    assert a - air.t(heard_at) < 1.0, "the alert started within a second of being issued"
    assert r2 <= a + 0.02, "the relay stops as the alert starts"
    assert abs((b - a) - 1.5) < EDGE, f"the alert aired {b - a:.3f} s of its 1.5 s"
    assert r3 >= b - 0.02, "the relay comes back after the alert's last word"
    logs = {(r["broadcast"], r["status"]) for r in live.plays()}
    relay = next(b for b, _ in logs if b != alert)
    assert (alert, "played") in logs  # in full
    assert (relay, "interrupted") in logs  # cut by the alert, and said so


def test_a_restart_in_the_middle_of_an_item_joins_it_in_progress(live, tmp_path):
    program = live.program((440, 3.0), (660, 4.0), title="Chuyên đề học tập")
    start = soon(2)
    live.schedule(start, kind="program", program=program["id"])
    first, _ = on_air(live, tmp_path / "agent", tmp_path / "before.wav")
    first.start()
    wait_for(lambda: first.playing() is not None, 15, "the programme on air")
    time.sleep(max(0.0, (start - datetime.now(start.tzinfo)).total_seconds()) + 1.5)
    first.stop()  # SIGTERM halfway through the 440 Hz part

    again, player2 = on_air(live, tmp_path / "agent", tmp_path / "after.wav")
    restarted = datetime.now(start.tzinfo)
    again.start()
    wait_for(lambda: [r for r in live.plays() if r["status"] == "partial"], 20, "the rejoin")
    again.stop()

    air = listen(tmp_path / "after.wav", player2())
    t0 = air.t(start)
    joined = air.spans(None)[0][0]
    # Joined by seeking: what airs after the restart is what the schedule has at that time.
    assert joined - air.t(restarted) < 1.5
    [(a, b)] = air.spans(440, min_s=0.2)
    [(_, d)] = air.spans(660, min_s=0.3)
    assert abs(a - joined) < EDGE and abs(b - (t0 + 3.0)) < EDGE
    assert abs(d - (t0 + 7.0)) < EDGE, "and still ends on time, not late into the next slot"
    logs = logs_of(live)
    assert [r["detail"] for r in logs["interrupted"]] == ["the agent was stopped"]
    [partial] = logs["partial"]
    assert "joined" in (partial["detail"] or "")
    assert timedelta(0) < datetime.fromisoformat(partial["started_at"]) - start
