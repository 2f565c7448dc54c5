"""What the agent does when things fail (issue #13's soak findings), against a live server in
real time with the NullPlayer: a full cache disk, a crash while on air, a long outage.

The full disk is the one outside edge faked: the cache's writes raise the error SQLite gives
when the disk is full (``database or disk is full``); everything else is real."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.agent import runner
from scheduler.agent.cache import AgentCache
from scheduler.models import Station
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

WRITES = ("set_airing", "queue_play", "save_manifest", "mark_sent", "complete", "mark_progress")


@pytest.fixture
def live(tmp_path: Path, sqlite_template: Path) -> Iterator[LiveServer]:
    server = live_server(tmp_path, copy_template(sqlite_template, tmp_path), {})
    yield server
    close(server)


def _fill_the_disk(cache: AgentCache, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args: Any, **_kw: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    for name in WRITES:
        monkeypatch.setattr(cache, name, full)


def _disk_free_on_the_server(live: LiveServer) -> int | None:
    with live.app.extensions["loaxa"]["sessions"]() as db:
        return db.scalar(select(Station.disk_free_bytes).where(Station.code == STATION))


def test_with_the_cache_disk_full_the_item_still_airs_and_its_log_reaches_the_server(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = live.program((440, 1.0))
    start = soon(5)
    live.schedule(start, kind="program", program=program["id"])
    agent = live.agent(tmp_path / "agent")
    agent.start()
    wait_for(lambda: agent.cache.has_media(program["sha256"]), 10, "the media in the cache")
    _fill_the_disk(agent.cache, monkeypatch)  # from here no write reaches the disk

    [log] = wait_for(lambda: [p for p in live.plays() if p["status"] == "played"], 20,
                     "the play log, uploaded from memory")  # fmt: skip
    aired = datetime.fromisoformat(log["started_at"])
    assert abs((aired - start).total_seconds()) < 0.5  # aired on time
    assert agent.disk_full
    agent._heartbeat()
    assert _disk_free_on_the_server(live) == 0  # the panel shows the disk full
    assert agent._etag is not None  # the manifest fetched before the disk filled was saved


def test_a_log_queued_just_before_the_disk_fills_still_reaches_the_server(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by the fault soak: the log was written (held for its proof) and the disk filled
    before the proof could let it go — the airing was never reported."""
    program = live.program((494, 5.5))  # long enough to fingerprint
    live.schedule(soon(4), kind="program", program=program["id"])
    agent = live.agent(tmp_path / "agent")
    queue_play = agent.cache.queue_play

    def then_the_disk_fills(*args: Any, **kw: Any) -> None:
        queue_play(*args, **kw)
        _fill_the_disk(agent.cache, monkeypatch)

    monkeypatch.setattr(agent.cache, "queue_play", then_the_disk_fills)
    agent.start()
    [log] = wait_for(lambda: [p for p in live.plays() if p["status"] == "played"], 20,
                     "the play log, sent from memory")  # fmt: skip
    assert log["fingerprint_source"] == "decoded"  # with its proof
    assert agent.disk_full


def test_a_manifest_the_disk_refused_keeps_no_etag_so_it_is_fetched_whole_again(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = live.agent(tmp_path / "agent")
    _fill_the_disk(agent.cache, monkeypatch)
    assert agent.sync() is True  # applied in memory
    assert agent._etag is None and agent.disk_full
    monkeypatch.undo()  # space freed
    assert agent.sync() is True  # fetched whole again, now saved with its ETag
    assert agent._etag is not None and not agent.disk_full
    assert agent.cache.load_manifest() is not None
    live.agents.remove(agent)  # never started: nothing to stop but its files
    agent.client.close()
    agent.cache.close()


def test_after_a_crash_on_air_the_log_ends_when_it_was_last_seen_on_air(
    live: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While an item airs, the agent marks its progress.
    monkeypatch.setattr(runner, "PROGRESS_S", 0.5)
    program = live.program((494, 4.0))
    start = soon(3)
    live.schedule(start, kind="program", program=program["id"])
    agent = live.agent(tmp_path / "agent")
    agent.start()
    moved = wait_for(
        lambda: (a := agent.cache.airing()) and a[2] - a[1] >= timedelta(seconds=1) and a,
        15, "the on-air mark moving on while the item airs",
    )  # fmt: skip
    assert moved[2] <= datetime.now(UTC)
    wait_for(lambda: live.plays(), 15, "the airing logged")
    agent.stop()

    # A machine killed (kill -9, power cut) 7 s into an item, restarted a minute later.
    crashed = tmp_path / "crashed"
    cache = AgentCache(crashed)
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=60)
    cache.set_airing("tin-sang", began)
    cache.mark_progress(began + timedelta(seconds=7))
    cache.close()
    again = live.agent(crashed)
    again.start()
    [log] = wait_for(lambda: [p for p in live.plays() if p["item"] == "tin-sang"], 15,
                     "the interrupted airing's log")  # fmt: skip
    assert log["status"] == "interrupted"
    assert datetime.fromisoformat(log["started_at"]) == began
    ended = datetime.fromisoformat(log["ended_at"])
    assert ended == began + timedelta(seconds=7)  # not the restart time


def test_logs_go_up_as_soon_as_the_server_is_back_not_after_the_back_off(
    live: LiveServer, tmp_path: Path
) -> None:
    program = live.program((523, 1.0))
    live.schedule(soon(3), kind="program", program=program["id"])
    agent = live.agent(tmp_path / "agent", poll_s=2.0)
    agent.start()
    wait_for(lambda: agent.cache.has_media(program["sha256"]), 10, "the media in the cache")
    live.stop()
    wait_for(lambda: agent.cache.logged_items(), 15, "the airing logged locally")
    # A long outage has taken the upload back-off to its cap.
    agent._backoff_s = runner.MAX_BACKOFF_S
    agent._next_upload = agent.clock() + timedelta(seconds=runner.MAX_BACKOFF_S)
    live.start()
    back = time.monotonic()
    wait_for(lambda: live.plays(), 20, "the queued log to arrive")
    assert time.monotonic() - back < 15  # minutes early: the first answer reset the back-off
