"""Push over the real Mosquitto broker (``LOAXA_TEST_MQTT_URL``): a saved broadcast makes
its targets' topic carry the new revision at once; a dead broker never breaks a save."""

from __future__ import annotations

from typing import Any

import pytest


def relay(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Tiếp âm Phủ Lý",
        "owner": "347",
        "kind": "relay",
        "stream_url": "http://127.0.0.1:9/phu-ly.mp3",
        "start": "2026-04-21T17:00:00",
        "duration_s": 900,
        **overrides,
    }


@pytest.fixture
def listener(mqtt_listen: Any) -> Any:
    return mqtt_listen("347")


class TestWithBroker:
    @pytest.fixture
    def app_overrides(self, broker_url: str) -> dict[str, Any]:
        return {"tts_engine": "espeak", "mqtt_url": broker_url}

    def test_saving_a_broadcast_tells_its_targets_to_sync_now(self, make_caller, listener):
        approver = make_caller("approver", "347")
        saved = approver.post("/api/v1/broadcasts", json=relay())
        assert saved.status_code == 201
        message = listener.get(timeout=2)
        revision = approver.get("/api/v1/stations/347").json["schedule_revision"]
        assert message == {"revision": revision}


class TestDeadBroker:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"tts_engine": "espeak", "mqtt_url": "mqtt://127.0.0.1:1"}

    def test_a_dead_broker_never_breaks_a_save(self, make_caller):
        response = make_caller("approver", "347").post("/api/v1/broadcasts", json=relay())
        assert response.status_code == 201
