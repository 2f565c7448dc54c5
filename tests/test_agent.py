"""The station agent against a live server on 127.0.0.1, in real time.

These use the NullPlayer (it keeps time but makes no sound): what is checked here is the
agent — sync, cache, jobs, proof of play, offline behaviour, MQTT. What the station actually
airs, through real VLC into a WAV file, is checked in test_agent_onair.py.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.agent_fixtures import (
    STATION,
    LiveServer,
    close,
    copy_template,
    live_server,
    soon,
    wait_for,
)

pytestmark = pytest.mark.realtime  # make test-fast skips these; make test runs them


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveServer]:
    server = live_server(tmp_path, copy_template(sqlite_template, tmp_path), {})
    yield server
    close(server)


def statuses(live: LiveServer) -> list[tuple[str, str]]:
    return sorted((p["item"], p["status"]) for p in live.plays())


def test_the_agent_airs_a_programme_on_time_and_the_server_learns_it(live, tmp_path):
    program = live.program((440, 5.5))
    start = soon(2)
    saved = live.schedule(start, kind="program", program=program["id"])
    agent = live.agent(tmp_path / "agent")
    agent.start()

    played = wait_for(lambda: [p for p in live.plays() if p["status"] == "played"], 20,
                      "the play log")  # fmt: skip
    [log] = played
    # Without an off-air capture the proof is the file the player was given, and says so.
    assert log["fingerprint_source"] == "decoded"
    wait_for(lambda: live.plays()[0]["verified"], 10, "the airing checked")
    assert log["broadcast"] == saved["id"]
    assert log["scheduled_start"] == start.astimezone(log_zone(log)).isoformat()
    started = datetime.fromisoformat(log["started_at"])
    assert abs((started - start).total_seconds()) < 0.1
    assert datetime.fromisoformat(log["ended_at"]) - started == pytest.approx(
        timedelta(milliseconds=program["duration_ms"]), abs=timedelta(milliseconds=200)
    )
    # The media came down once and is kept for the next airing within the window.
    assert (tmp_path / "agent" / "media" / program["sha256"]).exists()


def test_with_the_server_gone_the_schedule_still_airs_and_logs_upload_later(live, tmp_path):
    program = live.program((523, 1.0))
    first, second = soon(2), soon(5)
    live.schedule(first, kind="program", program=program["id"])
    live.schedule(second, kind="program", program=program["id"], title="Phát lần hai")
    agent = live.agent(tmp_path / "agent")
    agent.start()
    wait_for(lambda: agent.cache.has_media(program["sha256"]), 10, "the media in the cache")

    live.stop()  # the line to the province is down from here on
    wait_for(lambda: len(agent.cache.logged_items()) == 2, 15, "both airings logged locally")
    assert agent.cache.count_unsent() == 2 and not agent.online

    live.start()  # the line comes back on the same address: its first answer ends the back-off
    wait_for(lambda: len(live.plays()) == 2, 15, "the queued logs to arrive")
    assert {p["status"] for p in live.plays()} == {"played"}
    # The agent clears its queue when the server's answer reaches it, just after the server
    # has stored the batch: a loaded machine can show the two in between.
    wait_for(lambda: agent.cache.count_unsent() == 0, 10, "the agent's queue to be cleared")


def test_back_from_an_outage_the_agent_hears_of_an_alert_within_seconds(tmp_path, sqlite_template):
    """A two-minute poll, no broker: while the line is down the agent tries every few
    seconds, so an alert sent during the outage reaches it soon after the line is back."""
    live = live_server(tmp_path, copy_template(sqlite_template, tmp_path),
                       {"manifest_wait_max_s": 1})  # fmt: skip
    try:
        siren = live.program((880, 1.0), title="Còi báo động")
        [segment] = [i["segment"] for i in siren["items"]]
        agent = live.agent(tmp_path / "agent", poll_s=120.0)
        agent.start()
        wait_for(lambda: agent.revision is not None, 10, "the first manifest")
        live.stop()
        wait_for(lambda: not agent.online, 10, "the agent to notice the outage")
        sent = live.call("POST", "/api/v1/alerts", json={
            "title": "Cảnh báo cháy", "segment": segment, "targets": [STATION]})  # fmt: skip
        assert sent.status_code == 201, sent.json
        time.sleep(2.0)
        live.start()
        back = time.monotonic()
        wait_for(lambda: any(i.alert == sent.json["id"] for i in agent._items.values()), 10,
                 "the alert in the agent's manifest")  # fmt: skip
        assert time.monotonic() - back < 7.0  # not the 120 s poll
    finally:
        close(live)


def test_after_a_restart_without_the_server_the_agent_airs_from_its_cache(live, tmp_path):
    program = live.program((587, 1.0))
    # Far enough ahead that the first agent, on a loaded machine, has only fetched the media
    # when it stops (CI once saw it air the item and send the log before the reboot).
    start = soon(12)
    live.schedule(start, kind="program", program=program["id"])
    first = live.agent(tmp_path / "agent")
    first.start()
    wait_for(lambda: first.cache.has_media(program["sha256"]), 10, "the media in the cache")
    assert datetime.now(start.tzinfo) < start, "the first agent fetched it after its start"
    first.stop()

    live.stop()
    again = live.agent(tmp_path / "agent")  # a reboot during a network outage
    again.start()
    wait_for(lambda: again.cache.logged_items(), 20, "the airing, from the cache alone")
    [record] = again.cache.unsent_plays(10)
    assert record["status"] == "played"


def test_a_log_sent_twice_counts_once(live, tmp_path):
    program = live.program((659, 1.0))
    live.schedule(soon(2), kind="program", program=program["id"])
    agent = live.agent(tmp_path / "agent")
    agent.start()
    wait_for(lambda: len(live.plays()) == 1, 15, "the play log")
    # The server stored the batch but its answer was lost: the agent sends it again.
    with sqlite3.connect(tmp_path / "agent" / "agent.db") as db:
        db.execute("UPDATE plays SET sent_at = NULL")
    agent._upload(force=True)
    assert agent.cache.count_unsent() == 0
    assert len(live.plays()) == 1


def test_a_corrupted_cached_file_is_noticed_and_fetched_again(live, tmp_path):
    program = live.program((698, 1.0))
    live.schedule(soon(4), kind="program", program=program["id"])
    agent = live.agent(tmp_path / "agent")
    agent.start()
    path = tmp_path / "agent" / "media" / program["sha256"]
    wait_for(path.exists, 10, "the download")
    good = path.read_bytes()
    path.write_bytes(good[:1000] + bytes(len(good) - 1000))  # a damaged sector

    assert agent.sync() is False  # nothing new on the server, but the file is checked
    wait_for(lambda: bytes_of(path) == good, 10, "the file fetched again")
    wait_for(lambda: statuses(live), 15, "the airing")
    assert [s for _, s in statuses(live)] == ["played"]


def bytes_of(path: Path) -> bytes | None:
    """The file's bytes, or None while it is not there (the agent deletes a damaged file
    before it fetches it again: a moment without it is expected)."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def test_an_item_that_disappears_is_unscheduled_and_one_that_ended_unaired_is_missed(
    live, tmp_path
):
    program = live.program((784, 1.0))
    gone = live.schedule(soon(8), kind="program", program=program["id"])
    agent = live.agent(tmp_path / "agent")
    agent.start()
    wait_for(lambda: [j for j in agent.scheduler.get_jobs() if "-" in j.id], 5, "the item's job")

    assert live.call("DELETE", f"/api/v1/broadcasts/{gone['id']}").status_code == 200
    agent.sync()
    assert [j.id for j in agent.scheduler.get_jobs() if "-" in j.id] == []
    time.sleep(0.5)
    assert live.plays() == []


def test_an_item_whose_job_fires_as_it_is_withdrawn_does_not_stall_the_manifest(
    live, tmp_path, caplog
):
    # The agent lists its jobs, then removes those whose item is gone. If the scheduler runs
    # and drops one of them in between (it fell due that instant), the change still applies.
    program = live.program((659, 1.0))
    gone = live.schedule(soon(8), kind="program", program=program["id"])
    agent = live.agent(tmp_path / "agent")
    agent.start()
    wait_for(lambda: [j for j in agent.scheduler.get_jobs() if "-" in j.id], 5, "the item's job")
    listing = agent.scheduler.get_jobs
    fired: list[str] = []

    def listed_then_fired() -> list[Any]:
        jobs = listing()
        for job in jobs:
            if "-" in job.id and not fired:
                fired.append(job.id)
                agent.scheduler.remove_job(job.id)  # what the scheduler does when a job fires
        return jobs

    agent.scheduler.get_jobs = listed_then_fired  # type: ignore[method-assign]
    assert live.call("DELETE", f"/api/v1/broadcasts/{gone['id']}").status_code == 200
    later = live.schedule(soon(60), kind="program", program=program["id"], title="Phát sau")
    agent.sync()  # the held request in the background may take it first: either way
    assert fired
    armed = [i.broadcast for i in agent._items.values()
             if agent.scheduler.get_job(i.id) is not None]  # fmt: skip
    assert armed == [later["id"]]
    assert agent.sync() is False  # the manifest was taken whole: nothing new the second time
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


def test_an_mqtt_sync_now_brings_a_new_item_within_a_second(tmp_path, sqlite_template, broker_url):
    url = broker_url
    live = live_server(tmp_path, copy_template(sqlite_template, tmp_path), {"mqtt_url": url})
    try:
        agent = live.agent(tmp_path / "agent", poll_s=300.0, mqtt_url=url)
        agent.start()
        wait_for(lambda: agent._mqtt is not None and agent._mqtt.is_connected() and agent._topics,
                 10, "the MQTT subscription")  # fmt: skip
        time.sleep(0.3)  # let the SUBACK land
        saved_at = time.monotonic()
        saved = live.schedule(soon(600), kind="relay", duration_s=60,
                              stream_url="http://127.0.0.1:9/vov1.mp3")  # fmt: skip
        wait_for(lambda: any(i.broadcast == saved["id"] for i in agent._items.values()), 1.0,
                 "the new item, pushed")  # fmt: skip
        assert time.monotonic() - saved_at < 1.0
    finally:
        close(live)


def log_zone(log: dict[str, Any]) -> Any:
    return datetime.fromisoformat(log["scheduled_start"]).tzinfo


def test_demo_agents_bring_the_first_run_alive(live, tmp_path):
    from scheduler.db import now_utc
    from scheduler.models import Station
    from web.demo_agents import schedule_warm_up, start_demo_agents

    loaxa = live.app.extensions["loaxa"]
    agents = start_demo_agents(loaxa["sessions"], loaxa["settings"], live.url, 2)
    live.agents.extend(agents)
    assert [a.name for a in agents] == ["13285", "13291"]  # Phủ Lý's communes first

    def online() -> bool:
        with loaxa["sessions"]() as db:
            seen = [db.query(Station).filter_by(code=a.name).one().last_seen for a in agents]
        return all(seen)

    wait_for(online, 10, "both demo stations heard from")

    # Without a programme there is nothing to air yet; with one, a test broadcast comes soon.
    codes = [a.name for a in agents]
    assert schedule_warm_up(loaxa["sessions"], loaxa["settings"], codes, now_utc()) is None
    live.program((440, 1.0))
    at = schedule_warm_up(loaxa["sessions"], loaxa["settings"], codes, now_utc(),
                          timedelta(seconds=2))  # fmt: skip
    assert at is not None
    for agent in agents:
        agent.sync_soon()

    def on_air() -> bool:
        with loaxa["sessions"]() as db:
            station = db.query(Station).filter_by(code="13285").one()
            ends = station.now_playing_until
            return station.now_playing == "Phát thử khi khởi động (demo)" and ends is not None

    wait_for(on_air, 10, "the panel's 'now playing' for Quang Trung, with when it ends")
    with loaxa["sessions"]() as db:  # the agent's plan: a one-second test tone, ending soon
        ends = db.query(Station).filter_by(code="13285").one().now_playing_until
        assert ends is not None and now_utc() - timedelta(seconds=5) < ends < now_utc() + timedelta(
            seconds=30
        )
    wait_for(lambda: [p for p in live.plays() if p["status"] == "played"], 15,
             "the warm-up broadcast aired at Quang Trung")  # fmt: skip
