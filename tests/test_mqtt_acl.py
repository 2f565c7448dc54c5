"""Mosquitto with per-station credentials and the ACL ``loaxa mqtt-acl`` writes: a commune's
agent hears its own topic and its district's and province's, never a neighbour's, and cannot
publish. Runs a real broker on a free port (needs the ``mosquitto`` binary, as .ci/run has)."""

from __future__ import annotations

import getpass
import json
import os
import queue
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Station
from scheduler.push import acl, topic_for

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
PASSWD = shutil.which("mosquitto_passwd")
REQUIRED = bool(os.environ.get("LOAXA_TEST_MQTT_URL"))  # .ci/run: the broker is installed
USERS = {"loaxa-server": "may-chu-bi-mat", "13285": "quang-trung-bi-mat", "13291": "le-hong-phong"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def broker(network: Session, tmp_path: Path) -> Iterator[int]:
    if not (Path(MOSQUITTO).is_file() and PASSWD):
        if REQUIRED:
            pytest.fail("mosquitto and mosquitto_passwd are needed (apt-get install mosquitto)")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto mosquitto-clients)")
    stations = network.scalars(select(Station).order_by(Station.depth, Station.code)).all()
    (tmp_path / "acl").write_text(acl(stations), "utf-8")
    passwords = tmp_path / "passwords"
    passwords.touch()
    for user, password in USERS.items():
        subprocess.run([PASSWD, "-b", str(passwords), user, password], check=True)
    port = _free_port()
    (tmp_path / "mosquitto.conf").write_text(
        # Started as root, Mosquitto would drop to its own user, who cannot read tmp_path.
        f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous false\n"
        f"password_file {passwords}\nacl_file {tmp_path / 'acl'}\npersistence false\n",
        "utf-8",
    )
    process = subprocess.Popen([MOSQUITTO, "-c", str(tmp_path / "mosquitto.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield port
    finally:
        process.terminate()
        process.wait(10)


def _client(port: int, user: str, password: str) -> tuple[mqtt.Client, queue.Queue[Any]]:
    got: queue.Queue[Any] = queue.Queue()
    connected: queue.Queue[int] = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.username_pw_set(user, password)
    client.on_message = lambda _c, _u, msg: got.put((msg.topic, json.loads(msg.payload)))
    client.on_connect = lambda _c, _u, _f, code, _p: connected.put(int(code.value))
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert connected.get(timeout=5) == 0, "the broker refused the credentials"
    return client, got


def test_a_station_hears_its_own_and_its_ancestors_topics_and_not_a_neighbours(broker):
    commune, heard = _client(broker, "13285", USERS["13285"])
    server, _ = _client(broker, "loaxa-server", USERS["loaxa-server"])
    neighbour_listener, neighbour_heard = _client(broker, "13291", USERS["13291"])
    try:
        for code in ("13285", "347", "35", "13291"):  # it tries to listen to all four
            commune.subscribe(topic_for(code), qos=1)
        neighbour_listener.subscribe(topic_for("13291"), qos=1)
        time.sleep(0.5)
        for code in ("13285", "347", "35", "13291"):
            server.publish(topic_for(code), json.dumps({"revision": 1}), qos=1)
        commune.publish(topic_for("13291"), json.dumps({"revision": 99}), qos=1)  # forged
        time.sleep(1.0)
        topics = set()
        while not heard.empty():
            topics.add(heard.get()[0])
        assert topics == {topic_for("13285"), topic_for("347"), topic_for("35")}
        revisions = []
        while not neighbour_heard.empty():
            revisions.append(neighbour_heard.get()[1]["revision"])
        assert revisions == [1]  # the server's message, not the commune's forgery
    finally:
        for client in (commune, server, neighbour_listener):
            client.loop_stop()
            client.disconnect()


def test_wrong_credentials_are_refused(broker):
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.username_pw_set("13285", "doan-mo")
    answers: queue.Queue[int] = queue.Queue()
    client.on_connect = lambda _c, _u, _f, code, _p: answers.put(int(code.value))
    client.connect("127.0.0.1", broker)
    client.loop_start()
    try:
        assert answers.get(timeout=5) != 0
    finally:
        client.loop_stop()
