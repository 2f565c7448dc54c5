"""Push over the real Mosquitto broker (``LOAXA_TEST_MQTT_URL``): a saved broadcast makes
its targets' topic carry the new revision at once; a dead broker never breaks a save."""

from __future__ import annotations

import json
import os
import queue
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest

from scheduler.push import topic_for

MQTT_ENV = "LOAXA_TEST_MQTT_URL"


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
def broker_url() -> str:
    url = os.environ.get(MQTT_ENV)
    if not url:
        pytest.skip(f"MQTT tests skipped: {MQTT_ENV} is not set (.ci/run sets it)")
    return url


@pytest.fixture
def listener(broker_url: str) -> Any:
    """A real subscriber on district 347's topic; yields a queue of received payloads."""
    received: queue.Queue[dict[str, Any]] = queue.Queue()
    parsed = urlparse(broker_url)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    subscribed = queue.Queue[bool]()
    client.on_message = lambda _c, _u, msg: received.put(json.loads(msg.payload))
    client.on_subscribe = lambda *_args: subscribed.put(True)
    client.connect(parsed.hostname or "127.0.0.1", parsed.port or 1883)
    client.loop_start()
    client.subscribe(topic_for("347"), qos=1)
    subscribed.get(timeout=5)
    yield received
    client.loop_stop()
    client.disconnect()


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
