"""A live Loa Xã server on 127.0.0.1 for agent tests, and helpers to schedule on it.

Agent tests run in real time (APScheduler and libvlc keep real clocks), so unlike the rest of
the suite the server here is not frozen: everything is scheduled a few seconds from now.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from audio.player import CueResult, NullPlayer, Player
from scheduler import accounts
from scheduler.agent.cache import AgentCache
from scheduler.agent.client import ServerClient
from scheduler.agent.runner import Agent
from scheduler.seed import seed_campaigns
from scheduler.stations import import_directory
from tests.network_codes import QUANG_TRUNG
from tests.waiting import until
from web import create_app

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
STATION = QUANG_TRUNG  # the agents' commune, a ward of Phủ Lý


def tone(path: Path, frequency: int, seconds: float) -> Path:
    """A steady tone: each test item gets its own pitch, so the off-air WAV tells them apart."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"sine=frequency={frequency}:duration={seconds}:sample_rate=44100",
         "-af", "volume=-6dB", "-ac", "1", str(path)],
        check=True,
    )  # fmt: skip
    return path


@dataclass
class LiveServer:
    app: Flask
    work: Path
    port: int = 0
    token: str = ""  # the station's agent token
    admin_token: str = ""
    _server: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None
    agents: list[Agent] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the API, as an admin of the province ----------------------------------------
    def call(self, method: str, url: str, **kw: Any) -> Any:
        client = self.app.test_client()
        headers = {"Authorization": f"Bearer {self.admin_token}", **kw.pop("headers", {})}
        return client.open(url, method=method, headers=headers, **kw)

    def program(self, *tones: tuple[int, float], title: str = "Bản tin thử") -> dict[str, Any]:
        """Upload one tone per segment, approve them, and build a rendered programme."""
        paths = [tone(self.work / f"tone-{frequency}-{n}.wav", frequency, seconds)
                 for n, (frequency, seconds) in enumerate(tones)]  # fmt: skip
        return self.program_of(*paths, title=title)

    def program_of(self, *paths: Path, title: str = "Bản tin thử") -> dict[str, Any]:
        """Upload one file per segment, approve them, and build a rendered programme."""
        ids = []
        for n, path in enumerate(paths):
            form = {"title": f"Đoạn {n + 1}", "file": (io.BytesIO(path.read_bytes()), path.name)}
            upload = self.call(
                "POST", "/api/v1/segments", content_type="multipart/form-data", data=form
            )
            assert upload.status_code == 201, upload.json
            segment = upload.json
            if segment.get("approval") != "approved":
                approved = self.call("POST", f"/api/v1/segments/{segment['id']}/approve")
                assert approved.status_code == 200, approved.json
            ids.append(segment["id"])
        made = self.call("POST", "/api/v1/programs",
                         json={"title": title, "items": [{"segment": i} for i in ids]})  # fmt: skip
        assert made.status_code == 201, made.json
        return dict(made.json)

    def schedule(self, start: datetime, *, targets: list[str] | None = None, **body: Any) -> Any:
        """Save an approved broadcast starting at ``start`` (an aware instant)."""
        local = start.astimezone(ZONE).replace(tzinfo=None)
        spec = {"title": "Phát thử", "owner": "35", "start": local.isoformat(timespec="seconds"),
                "targets": targets or [STATION], "force": True, **body}  # fmt: skip
        saved = self.call("POST", "/api/v1/broadcasts", json=spec)
        assert saved.status_code == 201, saved.json
        return saved.json

    def plays(self) -> list[dict[str, Any]]:
        today = datetime.now(ZONE).date()
        answer = self.call(
            "GET", f"/api/v1/stations/{STATION}/plays?from={today}&to={today + timedelta(days=1)}"
        )
        assert answer.status_code == 200, answer.json
        return list(answer.json)

    # -- agents ------------------------------------------------------------------------
    def agent(
        self,
        cache: Path,
        make_player: Callable[[Callable[[CueResult], None]], Player] | None = None,
        **options: Any,
    ) -> Agent:
        options.setdefault("poll_s", 60.0)
        options.setdefault("lead_s", 1.0)
        built = Agent(
            ServerClient(self.url, self.token, timeout=2.0),
            AgentCache(cache),
            make_player or (lambda on_done: NullPlayer(on_done)),
            **options,
        )
        self.agents.append(built)
        return built


def live_server(work: Path, database_url: str, overrides: dict[str, Any]) -> LiveServer:
    app = create_app({"instance_path": work / "instance", "database_url": database_url,
                      "secret_key": "t", "tts_engine": "espeak", **overrides})  # fmt: skip
    now = datetime.now(UTC)
    with app.extensions["loaxa"]["sessions"]() as db:
        import_directory(db, "ha-nam-2024", now)
        seed_campaigns(db)
        accounts.add_user(db, now, "admin.test", "mat-khau-dai", "admin", "35")
        admin_token = accounts.new_api_token(db, now, "admin.test")
        token = accounts.new_station_token(db, now, STATION)
        db.commit()
    live = LiveServer(app, work, token=token, admin_token=admin_token)
    live.start()
    return live


def close(live: LiveServer) -> None:
    for agent in live.agents:
        if not agent._stopping.is_set():
            agent.stop()
    live.stop()
    app = live.app
    app.extensions["loaxa"]["jobs"].shutdown()
    if app.extensions["loaxa"]["push"] is not None:
        app.extensions["loaxa"]["push"].close()
    app.extensions["loaxa"]["engine"].dispose()


def copy_template(template: Path, work: Path) -> str:
    path = work / "loaxa.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


def soon(seconds: float) -> datetime:
    """A whole second a little from now (broadcast starts are stored to the second)."""
    return (datetime.now(UTC) + timedelta(seconds=seconds + 1)).replace(microsecond=0)


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """:func:`tests.waiting.until`, asking every 50 ms: each look at the play logs is a request
    to the live server, which must not crowd out the agent being timed."""
    return until(check, timeout, what, every=0.05)
