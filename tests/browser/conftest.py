"""Browser tests: the real app served on 127.0.0.1, driven by headless Chromium.

``live_server`` runs ``create_app()`` in a thread (werkzeug's ``make_server`` on a random
port) over a fresh SQLite database seeded like the ``network`` fixture — the Hà Nam 2024
tree and the campaigns — plus the demo accounts of ``config/demo.json`` (password
``loaxa-demo``). Time is not frozen here: a browser waits on real clocks.

``page`` is a new Playwright page in Debian's Chromium (``/usr/bin/chromium``, or
``LOAXA_CHROMIUM``), headless. Without Playwright or Chromium the tests are skipped with the
reason; with ``LOAXA_REQUIRE_BROWSER=1`` (``.ci/run`` sets it) they fail instead.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import pytest
from flask import Flask
from werkzeug.serving import make_server

from scheduler import accounts
from scheduler.seed import seed_campaigns
from scheduler.stations import import_directory
from web import create_app

CHROMIUM = os.environ.get("LOAXA_CHROMIUM", "/usr/bin/chromium")
REQUIRED = os.environ.get("LOAXA_REQUIRE_BROWSER") == "1"
TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> NoReturn:
    if REQUIRED:
        pytest.fail(f"browser tests cannot run: {reason} (LOAXA_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@dataclass
class LiveServer:
    app: Flask
    url: str
    demo: dict[str, Any]

    def user(self, username: str) -> dict[str, Any]:
        return next(u for u in self.demo["users"] if u["username"] == username)


def _demo() -> dict[str, Any]:
    return json.loads(resources.files("config").joinpath("demo.json").read_text("utf-8"))


@pytest.fixture
def live_server(sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    database = tmp_path / "loaxa.db"
    shutil.copy(sqlite_template, database)
    app = create_app(
        {
            "instance_path": tmp_path / "instance",
            "database_url": f"sqlite:///{database}",
            "secret_key": "browser-tests",
            "tts_engine": "espeak",
        }
    )
    demo = _demo()
    now = datetime.now(UTC)
    with app.extensions["loaxa"]["sessions"]() as db:
        import_directory(db, demo["directory"], now)
        seed_campaigns(db)
        for item in demo["users"]:
            accounts.add_user(
                db, now, item["username"], demo["password"], item["role"], item["station"],
                full_name=item["full_name"], actor="demo",
            )  # fmt: skip
        db.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}", demo)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        app.extensions["loaxa"]["jobs"].shutdown()
        app.extensions["loaxa"]["engine"].dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
    except Exception as exc:  # a missing library, a sandbox refusal…: say which
        playwright.stop()
        _unavailable(f"Chromium at {CHROMIUM} did not start: {exc}")
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def page(chromium: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh browser profile (no cookies) with ``base_url`` set to the live server."""
    context = chromium.new_context(base_url=live_server.url, locale="vi-VN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()
