"""Manifests built once into a store every web process reads: the database (SQLite,
PostgreSQL) or Redis. A second server process answers 200 and 304 without resolving."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from scheduler import accounts, manifest_store
from scheduler.manifest_store import DatabaseStore, RedisStore, StoredBody
from tests.agent_api import agent_get, relay
from tests.conftest import FROZEN_NOW
from web import create_app

SHA = "ab" * 32


def body(etag: str, media: str = SHA) -> StoredBody:
    item = {"media": [{"sha256": media, "url": f"loaxa-media:{media}", "bytes": 10}]}
    text = json.dumps({"station": "13285", "items": [item]}, separators=(",", ":"))
    return StoredBody(etag, text)


@pytest.fixture(params=["database", "redis"])
def app_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Every test here runs with the database store (SQLite, PostgreSQL) and with Redis."""
    overrides: dict[str, Any] = {"tts_engine": "espeak"}
    if request.param == "redis":
        overrides["redis_url"] = request.getfixturevalue("redis_url")
    return overrides


@pytest.fixture
def store(app: Flask) -> DatabaseStore | RedisStore:
    store: DatabaseStore | RedisStore = app.extensions["loaxa"]["manifest_store"]
    return store


def test_the_store_keeps_the_first_body_per_etag_and_forgets_old_hours(store) -> None:
    assert store.get("13285-r1-2026042001") is None
    store.put_all([body("13285-r1-2026042001")], FROZEN_NOW)
    store.put_all([body("13285-r1-2026042001", "cd" * 32)], FROZEN_NOW)  # a racing twin
    found = store.get("13285-r1-2026042001")
    assert found is not None and found.media == {SHA}
    store.put_all([body("13291-r1-2026042003")], FROZEN_NOW + timedelta(hours=2))
    if isinstance(store, DatabaseStore):  # Redis expires keys by itself (EX)
        assert store.prune(FROZEN_NOW + timedelta(hours=2, minutes=1)) == 1
        assert store.get("13285-r1-2026042001") is None
    else:
        assert 0 < store.client.ttl(RedisStore.PREFIX + "13285-r1-2026042001") <= 7200
    assert store.get("13291-r1-2026042003") is not None
    store.clear()
    assert store.get("13291-r1-2026042003") is None


def test_a_body_is_served_with_the_askers_host_and_a_fresh_clock(store) -> None:
    host = "https://radio.hanam.gov.vn/api/v1/media/"
    parsed = json.loads(body("e").render(host, "2026-04-20T08:20:00+07:00"))
    assert parsed["items"][0]["media"][0]["url"] == f"{host}{SHA}"
    assert parsed["server_time"] == "2026-04-20T08:20:00+07:00"


def test_one_province_is_built_once_however_many_processes_ask_at_once(store) -> None:
    inside, most = [0], [0]
    guard = threading.Lock()

    def build() -> None:
        with store.building("35"):
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with guard:
                inside[0] -= 1

    threads = [threading.Thread(target=build) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert most[0] == 1


@pytest.fixture
def second_app(app: Flask, tmp_path: Path, app_overrides: dict[str, Any]) -> Iterator[Flask]:
    """Another server process on the same database and media (and Redis, when set)."""
    settings = app.extensions["loaxa"]["settings"]
    other = create_app({"instance_path": tmp_path / "other", "database_url": settings.database_url,
                        "media_dir": settings.resolved_media_dir, "secret_key": "t",
                        **app_overrides})  # fmt: skip
    other.config["TESTING"] = True
    yield other
    other.extensions["loaxa"]["engine"].dispose()


def no_build(*_: Any, **__: Any) -> Any:
    raise AssertionError("this process should have read the stored manifest, not resolved it")


def test_a_second_process_answers_from_the_store_without_resolving(
    app, second_app, network, make_caller, monkeypatch
):
    token = accounts.new_station_token(network, FROZEN_NOW, "13285")
    neighbour = accounts.new_station_token(network, FROZEN_NOW, "13291")
    network.commit()
    assert make_caller("admin", "35").post("/api/v1/broadcasts", json=relay()).status_code == 201
    first = agent_get(app, token, "/api/v1/agent/manifest")
    assert first.status_code == 200

    monkeypatch.setattr(manifest_store, "build_manifests", no_build)
    again = agent_get(second_app, token, "/api/v1/agent/manifest")
    assert again.status_code == 200 and again.headers["ETag"] == first.headers["ETag"]
    assert again.json == first.json
    assert agent_get(second_app, token, "/api/v1/agent/manifest",
                     **{"If-None-Match": first.headers["ETag"]}).status_code == 304  # fmt: skip
    # The whole province was built with the first: the neighbour's first ask is a read too.
    other = agent_get(second_app, neighbour, "/api/v1/agent/manifest")
    assert other.status_code == 200 and other.json["station"] == "13291"
    assert [i["start"] for i in other.json["items"]] == [i["start"] for i in first.json["items"]]


def test_stored_manifests_carry_the_askers_host_and_allow_its_media(
    app, second_app, network, make_caller, monkeypatch, tmp_path
):
    from tests.audio_fixtures import make_recording
    from tests.upload_support import upload

    token = accounts.new_station_token(network, FROZEN_NOW, "13285")
    network.commit()
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
    headers = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/agent/manifest", headers=headers).status_code == 200

    monkeypatch.setattr(manifest_store, "build_manifests", no_build)
    lan = second_app.test_client().get("/api/v1/agent/manifest", headers=headers,
                                       base_url="http://10.0.0.5:8080")  # fmt: skip
    [media] = lan.json["items"][0]["media"]
    assert media["url"] == f"http://10.0.0.5:8080/api/v1/media/{program['sha256']}"
    got = second_app.test_client().get(f"/api/v1/media/{media['sha256']}", headers=headers)
    assert got.status_code == 200 and len(got.data) == media["bytes"]
    refused = second_app.test_client().get(f"/api/v1/media/{segment['sha256']}", headers=headers)
    assert refused.status_code == 403  # not in this station's manifest


def test_saving_a_schedule_builds_its_provinces_manifests_before_any_agent_asks(
    app, network, make_caller, database_url, monkeypatch
):
    from scheduler.models import StoredManifest
    from tests.waiting import until

    if database_url.startswith("sqlite") and not app.extensions["loaxa"]["settings"].redis_url:
        pytest.skip("one process serves the embedded default: its first agent builds")
    assert make_caller("admin", "35").post("/api/v1/broadcasts", json=relay()).status_code == 201
    store = app.extensions["loaxa"]["manifest_store"]
    with app.app_context():
        from scheduler.dispatch import etag_for
        from scheduler.models import Station

        station = network.query(Station).filter_by(code="13285").one()
        network.refresh(station)
        until(lambda: store.get(etag_for(station, FROZEN_NOW)), 30, "the pre-built manifest")
    if isinstance(store, DatabaseStore):
        assert network.query(StoredManifest).count() == 105
    token = accounts.new_station_token(network, FROZEN_NOW, "13285")
    network.commit()
    monkeypatch.setattr(manifest_store, "build_manifests", no_build)
    assert agent_get(app, token, "/api/v1/agent/manifest").json["items"]


def test_a_changed_schedule_is_served_at_once_not_the_stored_manifest_before_it(
    app, network, make_caller
):
    token = accounts.new_station_token(network, FROZEN_NOW, "13285")
    network.commit()
    admin = make_caller("admin", "35")
    assert admin.post("/api/v1/broadcasts", json=relay()).status_code == 201
    first = agent_get(app, token, "/api/v1/agent/manifest")
    later = relay(title="Tiếp âm VOV2", start="2026-04-20T19:00:00", rrule=None)
    assert admin.post("/api/v1/broadcasts", json=later).status_code == 201
    again = agent_get(app, token, "/api/v1/agent/manifest",
                      **{"If-None-Match": first.headers["ETag"]})  # fmt: skip
    assert again.status_code == 200
    assert "Tiếp âm VOV2" in {item["title"] for item in again.json["items"]}
