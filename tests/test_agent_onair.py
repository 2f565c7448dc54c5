"""What a commune actually airs: the agent with real VLC, recorded into the off-air WAV.

A live server on 127.0.0.1 holds the schedule; the agent syncs it, fetches the media and
plays through libvlc into ``--audio-file``. Each item is a distinct tone, so listening to the
WAV (``Air.spans``) says what aired when, to a few milliseconds.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.agent_fixtures import (
    STATION,
    ZONE,
    LiveServer,
    close,
    copy_template,
    live_server,
    soon,
    wait_for,
)
from tests.air_support import Air, LiveSource, bridged, read_wav

vlc = pytest.importorskip("vlc", reason="python-vlc is not installed")
if vlc.dll is None:  # pragma: no cover - depends on the machine
    pytest.skip("libvlc is not installed (apt-get install libvlc5 vlc-plugin-base)",
                allow_module_level=True)  # fmt: skip

from audio.player import VlcPlayer  # noqa: E402
from scheduler.agent.plan import EXPIRED  # noqa: E402

pytestmark = pytest.mark.realtime  # make test-fast skips these; make test runs them

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


def on_air(
    live: LiveServer, cache: Path, wav: Path, **options: Any
) -> tuple[Any, Callable[[], VlcPlayer]]:
    """An agent playing through VLC into ``wav``; returns it and a getter for its player."""
    made: list[VlcPlayer] = []

    def player(on_done: Any) -> VlcPlayer:
        made.append(VlcPlayer(on_done, capture=wav, relay_preroll_s=1.5, relay_retry_s=0.5))
        return made[-1]

    agent = live.agent(cache, player, relay_lead_s=1.5, **options)
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


def test_what_aired_is_fingerprinted_off_air_and_another_file_is_not_verified(live, tmp_path):
    """Proof beyond the agent's word: the agent fingerprints its off-air capture over each
    airing and the server compares it with the planned file. The second airing puts other
    audio on air (a fault between the agent and the air): the agent can only tell that it
    ended early ("partial"); the report says it was not what was planned."""
    from audio.fingerprint import available
    from tests.audio_fixtures import speech

    if not available():
        pytest.skip("fpcalc is not installed (apt-get install libchromaprint-tools)")
    planned = speech(tmp_path / "ban-tin.wav", "Xin chào bà con, đây là bản tin học tập "
                     "suốt đời của xã, phát lúc chín giờ sáng. Mời bà con cùng lắng nghe và "
                     "tham gia xây dựng xã hội học tập.")  # fmt: skip
    # Shorter than the planned file: it ends before the window does (the agent says so).
    other = speech(
        tmp_path / "khac.wav",
        "Thông báo lịch tiêm chủng cho trẻ em dưới năm tuổi "
        "tại trạm y tế xã vào sáng thứ bảy tuần này, mong các gia đình lưu ý.",
    )
    program = live.program_of(planned, title="Bản tin học tập")
    first, second = soon(4), soon(4 + program["duration_ms"] / 1000 + 4)
    live.schedule(first, kind="program", program=program["id"], title="Phát đúng")
    live.schedule(second, kind="program", program=program["id"], title="Phát nhầm")
    made: list[VlcPlayer] = []

    def player(on_done: Any) -> VlcPlayer:
        made.append(VlcPlayer(on_done, capture=tmp_path / "air.wav"))
        real = made[-1].play
        made[-1].play = lambda cue: real(  # type: ignore[method-assign]
            dataclasses.replace(cue, media=other) if cue.title == "Phát nhầm" else cue
        )
        return made[-1]

    agent = live.agent(tmp_path / "agent", player)
    agent.start()
    checked = wait_for(
        lambda: len(done := [p for p in live.plays() if p["verified"] is not None]) == 2 and done,
        40, "both airings checked against the planned file",
    )  # fmt: skip
    agent.stop()
    by_title = {p["scheduled_start"]: p for p in checked}
    right = by_title[first.astimezone(ZONE).isoformat()]
    wrong = by_title[second.astimezone(ZONE).isoformat()]
    assert (right["status"], right["fingerprint_source"], right["verified"]) == (
        "played", "off_air", True)  # fmt: skip
    assert (wrong["status"], wrong["fingerprint_source"], wrong["verified"]) == (
        "partial", "off_air", False)  # fmt: skip
    assert "the media ended early" in wrong["detail"]
    assert right["similarity"] > 0.9


def test_a_relay_is_checked_against_its_source_as_the_server_heard_it(live, tmp_path):
    """The server samples a relay's source stream during the window; each commune's off-air
    fingerprint is compared with it. The second relay airs another stream (the station's
    receiver tuned wrong): it is logged "played" by the agent, and not verified."""
    from audio.fingerprint import available
    from scheduler.relay_proof import RelaySampler
    from tests.audio_fixtures import convert, speech

    if not available():
        pytest.skip("fpcalc is not installed (apt-get install libchromaprint-tools)")

    def stream(name: str, words: str) -> LiveSource:
        wav = speech(tmp_path / f"{name}.wav", words)
        return LiveSource.mp3(convert(wav, tmp_path / f"{name}.mp3", "-ar", "44100", "-b:a", "64k"))

    province = stream(
        "tinh",
        "Đây là Đài Phát thanh và Truyền hình tỉnh Hà Nam. Chương trình thời "
        "sự buổi sáng hôm nay có các nội dung chính sau đây, mời quý vị theo dõi.",
    )
    other = stream(
        "khac",
        "Bà con chú ý, lịch tiêm chủng cho trẻ em dưới năm tuổi sẽ diễn ra "
        "tại trạm y tế vào sáng thứ bảy tuần này, mong các gia đình lưu ý.",
    )
    extensions = live.app.extensions["loaxa"]
    sampler = RelaySampler(extensions["sessions"], extensions["settings"], tick_s=0.5).start()
    try:
        first, second = soon(8), soon(20)
        live.schedule(first, kind="relay", stream_url=province.url, duration_s=8,
                      title="Tiếp âm Đài tỉnh")  # fmt: skip
        live.schedule(second, kind="relay", stream_url=province.url, duration_s=8,
                      title="Tiếp âm nhầm")  # fmt: skip

        def player(on_done: Any) -> VlcPlayer:
            made = VlcPlayer(on_done, capture=tmp_path / "air.wav", relay_preroll_s=1.5)
            real = made.play
            made.play = lambda cue: real(  # type: ignore[method-assign]
                dataclasses.replace(cue, stream_url=other.url)
                if cue.title == "Tiếp âm nhầm"
                else cue
            )
            return made

        agent = live.agent(tmp_path / "agent", player, relay_lead_s=1.5)
        agent.start()
        checked = wait_for(
            lambda: len(done := [p for p in live.plays() if p["verified"] is not None]) == 2
            and done, 60, "both relays checked against the source",
        )  # fmt: skip
        agent.stop()
    finally:
        sampler.stop()
        province.close()
        other.close()
    by_start = {p["scheduled_start"]: p for p in checked}
    right = by_start[first.astimezone(ZONE).isoformat()]
    wrong = by_start[second.astimezone(ZONE).isoformat()]
    assert (right["status"], right["fingerprint_source"], right["verified"]) == (
        "played", "off_air", True)  # fmt: skip
    assert (wrong["status"], wrong["fingerprint_source"], wrong["verified"]) == (
        "played", "off_air", False)  # fmt: skip


def recording(live: LiveServer, frequency: int, seconds: float, title: str) -> int:
    """An approved recorded message (a tone) an alert can name as its ``segment``."""
    program = live.program((frequency, seconds), title=title)
    [segment_id] = [i["segment"] for i in program["items"]]
    return int(segment_id)


def plays_of(live: LiveServer, broadcast: int) -> list[dict[str, Any]]:
    return [r for r in live.plays() if r["broadcast"] == broadcast]


def test_an_emergency_cuts_through_a_relay(live, tmp_path, source):
    segment_id = recording(live, 880, 1.5, "Còi báo động")  # the alert's recorded message
    start = soon(2)
    # Long enough that the relay is still due when the alert's log has been uploaded (every
    # 5 s) on a busy machine; the agent is stopped a second after the relay is back.
    live.schedule(start, kind="relay", stream_url=source.url, duration_s=30,
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
    alert = issued.json["broadcast"]  # play logs name the broadcast the alert airs as
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
    # The 440 Hz part lasts 6 s and the agent is stopped 1.5 s into it: a restart that takes
    # a few seconds on a busy machine still lands inside it (CI once rejoined past a 3 s part).
    program = live.program((440, 6.0), (660, 3.0), title="Chuyên đề học tập")
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
    heard = air.spans(440, min_s=0.2)
    assert heard, f"rejoined {joined - t0:.2f} s into the programme, after its 6 s first part"
    [(a, b)] = heard
    [(_, d)] = air.spans(660, min_s=0.3)
    assert abs(a - joined) < EDGE and abs(b - (t0 + 6.0)) < EDGE
    assert abs(d - (t0 + 9.0)) < EDGE, "and still ends on time, not late into the next slot"
    logs = logs_of(live)
    assert [r["detail"] for r in logs["interrupted"]] == ["the agent was stopped"]
    [partial] = logs["partial"]
    assert "joined" in (partial["detail"] or "")
    assert timedelta(0) < datetime.fromisoformat(partial["started_at"]) - start


def test_without_a_broker_a_spoken_alert_airs_in_full_within_seconds_and_repeats(live, tmp_path):
    """Issue #9: no MQTT, and a poll interval (60 s) far longer than the alert: the agent's
    held manifest request brings the alert at once, it airs from its first word, in full,
    and each repeat airs the same way."""
    agent, player = on_air(live, tmp_path / "agent", tmp_path / "air.wav")
    agent.start()
    wait_for(lambda: agent.revision is not None, 15, "the first manifest")
    time.sleep(1.0)  # the agent's request is now held by the server
    posted = datetime.now().astimezone()
    answer = live.call("POST", "/api/v1/alerts", json={
        "title": "Cảnh báo lũ", "text": "Nước sông Đáy lên nhanh.", "targets": ["13285"],
        # Repeats restate the issue time, which reads longer late in the day ("hai mươi ba
        # giờ…": 7.8 s in all): 12 s apart leaves a gap between airings at any hour.
        "repeat_every_s": 12, "repeat_count": 3})  # fmt: skip
    assert answer.status_code == 202, answer.json
    alert_id = answer.json["id"]
    wait_for(lambda: live.call("GET", f"/api/v1/alerts/{alert_id}").json["status"] == "ready",
             20, "the alert's words spoken")  # fmt: skip
    alert = live.call("GET", f"/api/v1/alerts/{alert_id}").json
    lasts = alert["duration_ms"] / 1000

    def played() -> list[dict[str, Any]]:
        return [r for r in live.plays()
                if r["broadcast"] == alert["broadcast"] and r["status"] == "played"]  # fmt: skip

    wait_for(lambda: len(played()) == 3, 50, "all three airings played")
    agent.stop()

    air = listen(tmp_path / "air.wav", player())
    bursts = [(a, b) for a, b in bridged(air.spans(None), 1.0) if b - a > 0.3]
    assert len(bursts) == 3, bursts  # the alert and its two repeats
    a1 = bursts[0][0]
    assert a1 - air.t(posted) < 4.5, f"first word {a1 - air.t(posted):.1f} s after the POST"
    for a, b in bursts:  # each airing whole: about the alert's length (speech has pauses)
        assert abs((b - a) - lasts) < 0.6, (b - a, lasts)
    # The first airing goes on as soon as the agent has it; the repeat keeps its instant.
    for (a, _), at in zip(bursts[1:], alert["airings"][1:], strict=True):
        repeat = air.t(datetime.fromisoformat(at))
        assert abs(a - repeat) < 0.5, f"a repeat {a - repeat:+.2f} s off its time"
    for log in played():
        assert log["alert_received_at"] is not None
    shown = live.call("GET", f"/api/v1/alerts/{alert_id}").json
    [station] = [s for s in shown["stations"] if s["station"] == "13285"]
    assert [a["status"] for a in station["airings"]] == ["played"] * 3


def test_with_mqtt_a_recorded_alert_airs_in_full_within_seconds(
    tmp_path, sqlite_template, broker_url
):
    live = live_server(tmp_path, copy_template(sqlite_template, tmp_path),
                       {"mqtt_url": broker_url, "min_fragment_s": 1})  # fmt: skip
    try:
        siren = recording(live, 880, 3.0, "Còi báo cháy")
        agent, player = on_air(live, tmp_path / "agent", tmp_path / "air.wav", poll_s=300.0,
                               mqtt_url=broker_url)  # fmt: skip
        agent.start()
        wait_for(lambda: agent._mqtt is not None and agent._mqtt.is_connected() and agent._topics,
                 10, "the MQTT subscription")  # fmt: skip
        time.sleep(0.5)  # let the SUBACK land
        posted = datetime.now().astimezone()
        answer = live.call("POST", "/api/v1/alerts", json={
            "title": "Cháy chợ Phủ Lý", "segment": siren, "targets": [STATION]})  # fmt: skip
        assert answer.status_code == 201, answer.json
        wait_for(lambda: plays_of(live, answer.json["broadcast"]), 20, "the alert's play log")
        agent.stop()
    finally:
        close(live)

    air = listen(tmp_path / "air.wav", player())
    [(a, b)] = air.spans(880, min_s=0.3)
    assert a - air.t(posted) < 3.0, f"on air {a - air.t(posted):.1f} s after the POST"
    assert abs((b - a) - 3.0) < 0.1, f"aired {b - a:.2f} s of 3 s"
    [log] = plays_of(live, answer.json["broadcast"])
    assert log["status"] == "played"
    fields = ("alert_received_at", "started_at", "ended_at")
    received, started, ended = (datetime.fromisoformat(log[k]) for k in fields)
    assert received <= started < ended


def test_an_alert_sent_while_a_station_is_offline_airs_when_it_is_back_never_after_expiry(
    live, tmp_path
):
    lasting = recording(live, 880, 1.5, "Cảnh báo lũ")
    brief = recording(live, 660, 1.5, "Cảnh báo dông")
    agent, player = on_air(live, tmp_path / "agent", tmp_path / "air.wav", poll_s=2.0)
    agent.start()
    wait_for(lambda: agent.revision is not None, 15, "the first manifest")

    live.stop()  # the commune's line is down
    wait_for(lambda: not agent.online, 10, "the agent to notice")
    now = datetime.now(ZONE)

    def alert(segment: int, expires_in_s: int) -> dict[str, Any]:
        expires = (now + timedelta(seconds=expires_in_s)).replace(tzinfo=None)
        answer = live.call("POST", "/api/v1/alerts", json={
            "title": "Cảnh báo", "segment": segment, "targets": [STATION],
            "expires": expires.isoformat(timespec="seconds")})  # fmt: skip
        assert answer.status_code == 201, answer.json
        return dict(answer.json)

    expired, current = alert(brief, 4), alert(lasting, 600)
    time.sleep(5.0)  # the brief one expires while the station is away
    back = datetime.now().astimezone()
    live.start()
    wait_for(lambda: plays_of(live, current["broadcast"]), 20, "the current alert's play log")
    time.sleep(1.0)
    agent.stop()

    air = listen(tmp_path / "air.wav", player())
    [(a, b)] = air.spans(880, min_s=0.3)
    assert a - air.t(back) < 5.0, f"on air {a - air.t(back):.1f} s after the line came back"
    assert abs((b - a) - 1.5) < 0.1, "from the beginning, in full"
    assert air.spans(660, min_s=0.3) == [], "the expired alert aired"
    [log] = plays_of(live, expired["broadcast"])
    assert (log["status"], log["detail"]) == ("missed", EXPIRED)
    status = live.call("GET", f"/api/v1/alerts/{expired['id']}").json
    [station] = [s for s in status["stations"] if s["station"] == STATION]
    assert (station["status"], station["reason"]) == ("missed", EXPIRED)
    [log] = plays_of(live, current["broadcast"])
    assert log["status"] == "played"
    assert datetime.fromisoformat(log["alert_received_at"]) >= back - timedelta(seconds=0.5)


def cap(identifier: str, sent: datetime, status: str = "Actual", msg_type: str = "Alert",
        references: str = "", words: str = "") -> bytes:  # fmt: skip
    """A CAP 1.2 message from the hydro-meteorological service for this station."""
    info = f"""<info><language>vi-VN</language><category>Met</category><event>Lũ</event>
    <urgency>Immediate</urgency><severity>Severe</severity><certainty>Observed</certainty>
    <expires>{(sent + timedelta(minutes=10)).isoformat(timespec="seconds")}</expires>
    <headline>Cảnh báo lũ trên sông Đáy</headline><description>{words}</description>
    <area><areaDesc>Phủ Lý</areaDesc>
    <geocode><valueName>loaxa</valueName><value>{STATION}</value></geocode></area></info>"""
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>{identifier}</identifier>
<sender>kttv@example.vn</sender><sent>{sent.isoformat(timespec="seconds")}</sent>
<status>{status}</status><msgType>{msg_type}</msgType><scope>Public</scope>{refs}
{info if words else ""}</alert>""".encode()


def test_cap_test_messages_do_not_air_and_a_cap_cancel_takes_an_alert_off_the_air(live, tmp_path):
    agent, player = on_air(live, tmp_path / "agent", tmp_path / "air.wav")
    agent.start()
    wait_for(lambda: agent.revision is not None, 15, "the first manifest")
    sent = datetime.now(ZONE).replace(microsecond=0)

    def post(body: bytes) -> Any:
        answer = live.call("POST", "/api/v1/alerts", data=body,
                           headers={"Content-Type": "application/cap+xml"})  # fmt: skip
        assert answer.status_code in (200, 202), answer.json
        return answer.json

    drill = post(cap("KTTV-TEST-1", sent, status="Test", words="Đây là bản tin thử."))
    assert drill["status"] == "recorded" and drill["aired"] is False
    words = ("Nước sông Đáy đang lên rất nhanh. Bà con vùng bãi sông khẩn trương di dời "
             "người và tài sản lên nơi cao, tuyệt đối không đi qua ngầm tràn.")  # fmt: skip
    real = post(cap("KTTV-1", sent, words=words))
    wait_for(lambda: (agent.playing() or None) and agent.playing().alert == real["id"], 30,
             "the alert on air")  # fmt: skip
    time.sleep(2.0)
    cancelled_at = datetime.now().astimezone()
    cancel = post(
        cap(
            "KTTV-2",
            sent,
            msg_type="Cancel",
            references=f"kttv@example.vn,KTTV-1,{sent.isoformat(timespec='seconds')}",
        )
    )
    assert cancel["cancelled"] == [real["id"]]
    shown = live.call("GET", f"/api/v1/alerts/{real['id']}").json
    wait_for(lambda: plays_of(live, shown["broadcast"]), 20, "the alert's play log")
    time.sleep(1.0)
    agent.stop()

    air = listen(tmp_path / "air.wav", player())
    bursts = [(a, b) for a, b in bridged(air.spans(None), 1.0) if b - a > 0.3]
    [(a, b)] = bursts  # only the real alert aired, and only once
    assert b - air.t(cancelled_at) < 2.0, f"still on air {b - air.t(cancelled_at):.1f} s on"
    assert b - a < shown["duration_ms"] / 1000 - 1.0, "cut short, not aired to its end"
    [log] = plays_of(live, shown["broadcast"])
    assert log["status"] in ("partial", "interrupted"), log
    status = live.call("GET", f"/api/v1/alerts/{real['id']}").json
    assert status["status"] == "cancelled"
    [station] = [s for s in status["stations"] if s["station"] == STATION]
    assert station["status"] == log["status"]


def test_a_cached_file_cut_short_after_its_cue_is_logged_as_what_was_heard(live, tmp_path):
    """The soak's finding: a file truncated on disk after the agent checked it aired a third
    and was logged "played". Now the log says partial, and how much was heard."""
    program = live.program((622, 6.0), title="Bản tin bị cắt")
    start = soon(4)
    live.schedule(start, kind="program", program=program["id"])
    agent, player = on_air(live, tmp_path / "agent", tmp_path / "air.wav")
    agent.start()
    wait_for(lambda: agent._handed, 15, "the item cued")
    path = agent.cache.media_path(program["sha256"])
    with path.open("r+b") as media:  # the disk loses two thirds of it
        media.truncate(path.stat().st_size // 3)
    [log] = wait_for(lambda: logs_of(live).get("partial"), 20, "the play log")
    agent.stop()
    assert "the media ended early" in log["detail"]
    heard = datetime.fromisoformat(log["ended_at"]) - datetime.fromisoformat(log["started_at"])
    air = listen(tmp_path / "air.wav", player())
    spans = air.spans(622, min_s=0.3)
    aired = sum(b - a for a, b in spans)
    assert aired < 4.0  # a listener heard about a third, not six seconds
    assert abs(heard.total_seconds() - aired) < 1.5  # and the log says about as much


def test_an_item_moved_by_an_emergency_starts_when_it_ends_from_its_beginning(live, tmp_path):
    """The soak's finding: the item after an alert was held until the alert's start + length
    + 2.5 s, then joined 3.7 s in. It was moved, not late: it starts as the alert's last word
    ends, and is heard from its first."""
    siren = recording(live, 880, 3.0, "Còi báo động")
    program = live.program((660, 4.0), title="Bản tin sau cảnh báo")
    start = soon(6)
    live.schedule(start, kind="program", program=program["id"], title="Bản tin sau cảnh báo")
    agent, player = on_air(live, tmp_path / "agent", tmp_path / "air.wav")
    agent.start()
    wait_for(lambda: agent.cache.has_media(program["sha256"]), 15, "the programme cached")
    # The alert goes out 1.5 s before the programme is due: the programme falls inside it.
    time.sleep(max(0.0, (start - datetime.now(start.tzinfo)).total_seconds() - 1.5))
    issued = live.call("POST", "/api/v1/alerts", json={
        "title": "Cảnh báo lũ", "segment": siren, "targets": [STATION]})  # fmt: skip
    assert issued.status_code == 201, issued.json
    agent.sync_soon()
    wait_for(lambda: len(live.plays()) >= 2, 30, "both logs")
    agent.stop()

    air = listen(tmp_path / "air.wav", player())
    [(a, b)] = air.spans(880, min_s=0.3)
    spans = air.spans(660, min_s=0.3)
    assert spans, "the programme aired"
    c, d = spans[0][0], spans[-1][1]
    assert abs((b - a) - 3.0) < 0.15, f"the alert aired {b - a:.2f} s of 3 s"
    assert c >= b - 0.05, "the programme waits for the alert's last word"
    assert c - b < 0.8, f"{c - b:.2f} s of dead air after the alert"
    assert abs((d - c) - 4.0) < 0.2, f"the programme aired {d - c:.2f} s of 4 s: from its top"
