"""The shipped nginx recipe (deploy/nginx-loaxa.conf) in front of the real app: an agent's
media request is checked by the app and the file sent by nginx (X-Accel-Redirect), ranges
included; a file outside the station's manifest is still refused. Runs a real nginx on a
free port (needs the ``nginx`` binary, which .ci/run installs)."""

from __future__ import annotations

import getpass
import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from werkzeug.serving import make_server

from scheduler import accounts
from tests.audio_fixtures import make_recording
from tests.conftest import FROZEN_NOW
from tests.upload_support import upload

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RECIPE = Path(__file__).parent.parent / "deploy" / "nginx-loaxa.conf"
REQUIRED = bool(os.environ.get("LOAXA_TEST_MQTT_URL"))  # .ci/run: the recipe's parts installed


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    return {"tts_engine": "espeak", "media_accel_prefix": "/_media/", "trusted_proxies": 1}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def recipe_locations(app_port: int, media_dir: Path) -> str:
    """The recipe's ``location`` blocks, pointed at this test's app and media folder."""
    text = RECIPE.read_text("utf-8")
    blocks = re.findall(r"^    location [^{]+\{.*?^    \}", text, flags=re.M | re.S)
    assert len(blocks) >= 2, "the recipe lost its app or media location"
    joined = "\n".join(blocks)
    return joined.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{app_port}").replace(
        "/var/lib/loaxa/media/", f"{media_dir}/"
    )


@pytest.fixture
def nginx(app: Flask, tmp_path: Path) -> Iterator[int]:
    if not Path(NGINX).is_file():
        if REQUIRED:
            pytest.fail("nginx is needed for the deploy recipe test (apt-get install nginx-light)")
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    media_dir = app.extensions["loaxa"]["settings"].resolved_media_dir
    media_dir.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    work = tmp_path / "nginx"
    work.mkdir()
    temp = " ".join(f"{kind}_temp_path {work}/{kind};" for kind in ("client_body", "proxy",
                    "fastcgi", "uwsgi", "scgi"))  # fmt: skip
    user = "user root;" if getpass.getuser() == "root" else ""  # its workers read tmp_path
    (work / "nginx.conf").write_text(
        f"{user}\ndaemon off;\npid {work}/nginx.pid;\nerror_log {work}/error.log;\n"
        f"events {{}}\nhttp {{\naccess_log off;\n{temp}\n"
        f"server {{\nlisten 127.0.0.1:{port};\n"
        f"{recipe_locations(server.server_port, media_dir)}\n}}\n}}\n",
        "utf-8",
    )
    process = subprocess.Popen([NGINX, "-c", str(work / "nginx.conf"), "-p", str(work)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        _wait_for(port)
        yield port
    finally:
        process.terminate()
        process.wait(10)
        server.shutdown()


def test_nginx_sends_the_media_the_app_allows_and_nothing_else(
    app, nginx, network, make_caller, tmp_path
):
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
    base, auth = f"http://127.0.0.1:{nginx}", {"Authorization": f"Bearer {token}"}

    manifest = requests.get(f"{base}/api/v1/agent/manifest", headers=auth, timeout=30)
    assert manifest.status_code == 200
    [media] = manifest.json()["items"][0]["media"]
    url = f"{base}/api/v1/media/{media['sha256']}"
    whole = requests.get(url, headers=auth, timeout=30)
    assert whole.status_code == 200 and len(whole.content) == media["bytes"]
    assert hashlib.sha256(whole.content).hexdigest() == media["sha256"]
    assert whole.headers["Content-Type"] == "audio/mpeg"
    assert "X-Accel-Redirect" not in whole.headers  # nginx consumed it and sent the file
    part = requests.get(url, headers={**auth, "Range": "bytes=10-19"}, timeout=30)
    assert part.status_code == 206 and part.content == whole.content[10:20]

    refused = requests.get(f"{base}/api/v1/media/{segment['sha256']}", headers=auth, timeout=30)
    assert refused.status_code == 403  # the segment's own file is not in the manifest
    assert requests.get(url, timeout=30).status_code == 401
    # The internal location cannot be reached from outside, even knowing the path.
    direct = f"{base}/_media/{media['sha256'][:2]}/{media['sha256']}.mp3"
    assert requests.get(direct, timeout=30).status_code == 404
