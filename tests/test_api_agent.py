"""The agent protocol: manifest with ETag/304, media by hash, play logs, heartbeat."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from scheduler import accounts
from tests.agent_api import agent_get, agent_post, relay
from tests.alert_support import issued
from tests.audio_fixtures import make_recording
from tests.conftest import FROZEN_NOW
from tests.upload_support import upload

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it


@pytest.fixture
def station_token(network) -> str:
    token = accounts.new_station_token(network, FROZEN_NOW, "13285")
    network.commit()
    return token


def test_manifest_lists_the_next_48_hours_and_answers_304_until_the_schedule_changes(
    app, make_caller, station_token
):
    admin = make_caller("admin", "35")
    assert admin.post("/api/v1/broadcasts", json=relay()).status_code == 201
    first = agent_get(app, station_token, "/api/v1/agent/manifest")
    assert first.status_code == 200
    body = first.json
    assert body["station"] == "13285"
    assert body["from"] == "2026-04-20T08:00:00+07:00"
    assert body["to"] == "2026-04-22T08:00:00+07:00"
    assert [i["start"] for i in body["items"]] == [
        "2026-04-20T18:00:00+07:00",
        "2026-04-21T18:00:00+07:00",
    ]
    item = body["items"][0]
    assert item["stream_url"] == "http://127.0.0.1:9/vov1.mp3" and item["media"] == []
    assert item["offset_ms"] == 0

    etag = first.headers["ETag"]
    again = agent_get(app, station_token, "/api/v1/agent/manifest", **{"If-None-Match": etag})
    assert again.status_code == 304

    admin.post("/api/v1/broadcasts", json=relay(title="Thời sự trưa", start="2026-04-20T12:00:00"))
    changed = agent_get(app, station_token, "/api/v1/agent/manifest", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(changed.json["items"]) == 4


def test_programme_items_carry_their_media_which_the_agent_may_fetch(
    app, make_caller, station_token, tmp_path
):
    editor, approver = make_caller("editor", "347"), make_caller("approver", "347")
    segment = upload(editor, make_recording(tmp_path / "a.m4a", seconds=2)).json
    approver.post(f"/api/v1/segments/{segment['id']}/approve")
    program = editor.post(
        "/api/v1/programs", json={"title": "Bản tin", "items": [{"segment": segment["id"]}]}
    ).json
    saved = approver.post("/api/v1/broadcasts", json={
        "title": "Bản tin trưa", "owner": "347", "kind": "program", "program": program["id"],
        "start": "2026-04-20T11:00:00", "targets": ["13285"]})  # fmt: skip
    assert saved.status_code == 201, saved.json

    items = agent_get(app, station_token, "/api/v1/agent/manifest").json["items"]
    [media] = items[0]["media"]
    assert media["sha256"] == program["sha256"]
    assert media["url"].endswith(f"/api/v1/media/{program['sha256']}")
    assert media["duration_ms"] == program["duration_ms"]

    whole = agent_get(app, station_token, f"/api/v1/media/{media['sha256']}")
    assert whole.status_code == 200 and len(whole.data) == media["bytes"]
    assert "immutable" in whole.headers["Cache-Control"]
    part = agent_get(app, station_token, f"/api/v1/media/{media['sha256']}", Range="bytes=0-9")
    assert part.status_code == 206 and len(part.data) == 10
    # The segment's own file is not in the manifest: not for this agent.
    other = agent_get(app, station_token, f"/api/v1/media/{segment['sha256']}")
    assert other.status_code == 403


def test_station_and_personal_tokens_open_only_their_own_doors(app, make_caller, station_token):
    operator = make_caller("operator", "13285")
    assert agent_get(app, operator.token, "/api/v1/agent/manifest").status_code == 401
    assert agent_get(app, station_token, "/api/v1/stations/13285").status_code == 401
    assert agent_get(app, "lxs_not-a-token", "/api/v1/agent/manifest").status_code == 401


def test_a_revoked_token_gets_401_even_with_the_current_etag(app, network, station_token):
    etag = agent_get(app, station_token, "/api/v1/agent/manifest").headers["ETag"]
    cheap = agent_get(app, station_token, "/api/v1/agent/manifest", **{"If-None-Match": etag})
    assert cheap.status_code == 304 and cheap.headers["ETag"] == etag
    assert cheap.headers["Cache-Control"] == "no-cache"

    fresh = accounts.new_station_token(network, FROZEN_NOW, "13285")  # revokes the first
    network.commit()
    revoked = agent_get(app, station_token, "/api/v1/agent/manifest", **{"If-None-Match": etag})
    assert revoked.status_code == 401
    again = agent_get(app, fresh, "/api/v1/agent/manifest", **{"If-None-Match": f"W/{etag}"})
    assert again.status_code == 304


def play(**overrides: Any) -> dict[str, Any]:
    scheduled = FROZEN_NOW - timedelta(hours=2)
    return {
        "id": str(uuid.uuid4()),
        "item": "1-20260419T230000Z",
        "broadcast": 1,
        "scheduled_start": scheduled.isoformat(),
        "started_at": (scheduled + timedelta(milliseconds=8)).isoformat(),
        "ended_at": (scheduled + timedelta(minutes=30)).isoformat(),
        "status": "played",
        "detail": None,
        **overrides,
    }


def test_play_logs_count_once_however_often_they_are_sent(app, make_caller, station_token):
    logs = [play(), play(status="partial", detail="nguồn tiếp âm mất 40 giây")]
    first = agent_post(app, station_token, "/api/v1/agent/plays", logs)
    assert first.json == {"accepted": 2, "duplicates": 0}
    again = agent_post(app, station_token, "/api/v1/agent/plays", [*logs, logs[0]])
    assert again.json == {"accepted": 0, "duplicates": 3}

    operator = make_caller("operator", "13285")
    received = operator.get("/api/v1/stations/13285/plays?from=2026-04-20").json
    assert sorted(p["status"] for p in received) == ["partial", "played"]
    assert received[0]["received_at"].endswith("+07:00")


@pytest.mark.parametrize(
    "body",
    [
        {"not": "a list"},
        [play(status="aired")],
        [play(scheduled_start="2026-04-20T06:00:00")],
        [play(id="not-a-uuid")],
    ],
    ids=["object", "unknown-status", "naive-time", "bad-uuid"],
)
def test_bad_play_logs_are_refused_whole(app, station_token, network, body):
    response = agent_post(app, station_token, "/api/v1/agent/plays", body)
    assert response.status_code == 400 and response.json["error"]


def test_heartbeat_marks_the_station_online_with_its_clock_offset(app, make_caller, station_token):
    beat = {
        "agent_version": "0.1.0",
        "now": (FROZEN_NOW + timedelta(seconds=2)).isoformat(),
        "playing": None,
        "disk_free_bytes": 5_000_000_000,
        "cache_ok": True,
    }
    answer = agent_post(app, station_token, "/api/v1/agent/heartbeat", beat)
    assert answer.status_code == 200 and answer.json["clock_offset_ms"] == 2000
    shown = make_caller("operator", "13285").get("/api/v1/stations/13285").json
    assert shown["online"] is True and shown["last_seen"] is not None


def test_a_heartbeat_saying_the_disk_is_full_shows_no_free_space(app, network, station_token):
    from scheduler.models import Station

    beat = {"now": FROZEN_NOW.isoformat(), "disk_free_bytes": 40_960, "disk_full": True}
    assert agent_post(app, station_token, "/api/v1/agent/heartbeat", beat).status_code == 200
    station = network.query(Station).filter_by(code="13285").one()
    network.refresh(station)
    assert station.disk_free_bytes == 0  # a few blocks left are not room for a play log
    beat["disk_full"] = False
    agent_post(app, station_token, "/api/v1/agent/heartbeat", beat)
    network.refresh(station)
    assert station.disk_free_bytes == 40_960


def test_one_miss_builds_the_whole_province_and_cached_answers_keep_a_fresh_clock(
    app, network, make_caller, station_token, frozen
):
    from scheduler.dispatch import build_manifest
    from scheduler.models import Station, StoredManifest

    make_caller("admin", "35").post("/api/v1/broadcasts", json=relay())
    first = agent_get(app, station_token, "/api/v1/agent/manifest").json
    assert network.query(StoredManifest).count() == 105  # every station of Hà Nam, one build

    frozen.shift(timedelta(minutes=20))  # same hour: same ETag, a cached body
    neighbour = accounts.new_station_token(network, FROZEN_NOW, "13291")
    network.commit()
    later = agent_get(app, neighbour, "/api/v1/agent/manifest")
    assert later.json["server_time"] == "2026-04-20T08:20:00+07:00"
    station = network.query(Station).filter_by(code="13291").one()
    with app.test_request_context():
        direct = build_manifest(
            network, app.extensions["loaxa"]["settings"], station, FROZEN_NOW,
            "http://localhost/api/v1/media/{sha256}",
        )  # fmt: skip
    assert {**later.json, "server_time": None} == {**direct.body, "server_time": None}
    assert first["items"] == later.json["items"]


def test_an_alert_airs_its_spoken_segments_own_file_without_a_second_render(
    app, network, make_caller, station_token, monkeypatch
):
    from scheduler import programs
    from scheduler.models import Broadcast

    def no_render(*_: Any) -> None:
        raise AssertionError("a one-segment alert needs no render")

    monkeypatch.setattr(programs, "render_now", no_render)
    spec = {"title": "Cảnh báo lũ", "text": "Nước sông Đáy lên nhanh.", "targets": ["13285"]}
    alert = issued(app, make_caller("approver", "347"), spec)
    network.expire_all()
    program = network.get(Broadcast, alert["broadcast"]).program
    segment = program.items[0].segment
    assert program.media_file_id == segment.media_file_id is not None
    assert (program.status, program.error) == ("ready", None)
    assert program.duration_ms == segment.media_file.duration_ms == alert["duration_ms"]
    [item] = agent_get(app, station_token, "/api/v1/agent/manifest").json["items"][:1]
    assert [m["sha256"] for m in item["media"]] == [segment.media_file.sha256]
    fetched = agent_get(app, station_token, f"/api/v1/media/{segment.media_file.sha256}")
    assert fetched.status_code == 200
