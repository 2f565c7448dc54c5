"""Push: tell agents to sync now, over MQTT (docs/architecture.md "Pull first, push to hurry").

Polling alone is always enough; a message only makes agents poll at once. The server publishes
``{"revision": n}`` on ``loaxa/v1/stations/{code}`` for each *target* of a changed broadcast
(a subtree root), not for every station below it: an agent listens on its own topic and on its
ancestors', so one message reaches a whole province. Publishing never blocks or fails a save —
a broker that is down costs only the hurry.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)
TOPIC = "loaxa/v1/stations/{code}"


def topic_for(code: str) -> str:
    return TOPIC.format(code=code)


class Publisher:
    """A lazily connected MQTT client; ``url`` like ``mqtt://host:1883`` or ``mqtts://…``."""

    def __init__(self, url: str, client_id: str = "") -> None:
        self.url = urlparse(url)
        self.client_id = client_id
        self._client: mqtt.Client | None = None
        self._lock = threading.Lock()

    def _connected(self) -> mqtt.Client:
        with self._lock:
            if self._client is None:
                client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id)
                if self.url.username:
                    client.username_pw_set(self.url.username, self.url.password)
                if self.url.scheme == "mqtts":
                    client.tls_set()
                default_port = 8883 if self.url.scheme == "mqtts" else 1883
                client.connect_async(
                    self.url.hostname or "localhost", self.url.port or default_port
                )
                client.loop_start()  # reconnects by itself; messages queue meanwhile
                self._client = client
            return self._client

    def publish(self, code: str, payload: dict[str, Any], qos: int = 1) -> None:
        try:
            self._connected().publish(topic_for(code), json.dumps(payload), qos=qos)
        except (OSError, ValueError) as exc:  # never let the hurry break the save
            log.warning("MQTT publish to %s failed: %s", code, exc)

    def sync_now(
        self, revisions: Iterable[tuple[str, int]], extra: dict[str, Any] | None = None
    ) -> None:
        """``{"revision": n}`` on each station's topic, plus ``extra`` (an emergency's
        ``{"alert": {...}}``, say) — agents treat any message as "sync now"."""
        for code, revision in revisions:
            self.publish(code, {"revision": revision, **(extra or {})})

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.loop_stop()
                self._client.disconnect()
                self._client = None


def acl(stations: Iterable[Any], server_user: str = "loaxa-server") -> str:
    """A Mosquitto ACL file: the server may publish to every station's topic; each station's
    agent (MQTT user = its station code) may only read its own topic and its ancestors' —
    the ones its manifest names — so no commune can listen in on another's. Regenerate it
    when stations change (``loaxa mqtt-acl``)."""
    lines = [
        "# Written by `loaxa mqtt-acl`: regenerate when stations are added or moved.",
        f"user {server_user}",
        f"topic write {TOPIC.format(code='#')}",
        "",
    ]
    for station in stations:
        if getattr(station, "retired_on", None) is not None:
            continue  # a retired station's agent has nothing left to hear
        lines.append(f"user {station.code}")
        lines += [f"topic read {topic_for(code)}" for code in station.ancestor_codes]
        lines.append("")
    return "\n".join(lines)
