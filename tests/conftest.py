"""Shared fixtures: the app on a real database (SQLite always, PostgreSQL when
``LOAXA_TEST_DATABASE_URL`` is set), the Hà Nam network, users with API tokens, frozen time.

Every test that touches the database runs once per backend. Each backend's schema is built
once per run with the real Alembic migrations; each test then starts from that empty schema
(a copied SQLite file, or truncated PostgreSQL tables).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import paho.mqtt.client as mqtt
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from werkzeug.routing import Rule

from audio.store import MediaStore
from config import Settings
from scheduler import accounts
from scheduler.db import Base, make_engine, upgrade
from scheduler.models import Station
from scheduler.push import topic_for
from scheduler.seed import seed_campaigns
from scheduler.stations import import_directory
from web import create_app

# make test-fast: a quarter of hypothesis's default examples, for the edit loop.
hypothesis_settings.register_profile("fast", max_examples=25)

PG_ENV = "LOAXA_TEST_DATABASE_URL"
# Monday 20 April 2026, 08:00 in Hà Nam: the day before Book and Reading Culture Day.
FROZEN_NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "loaxa.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"PostgreSQL run skipped: {PG_ENV} is not set (.ci/run sets it)")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_network_template(sqlite_template: Path) -> Path:
    """The empty schema with the Hà Nam network and the campaigns already in it: a test that
    asks for ``network`` starts from a copy instead of importing 105 stations again."""
    path = sqlite_template.with_name("network.db")
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as db:
        _import_network(db)
    engine.dispose()
    return path


def _import_network(db: Session) -> None:
    import_directory(db, "ha-nam-2024", FROZEN_NOW)
    seed_campaigns(db)
    db.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "loaxa.db"
        wants_network = "network" in request.fixturenames
        template = "sqlite_network_template" if wants_network else "sqlite_template"
        shutil.copy(request.getfixturevalue(template), path)
        return f"sqlite:///{path}"
    engine: Engine = request.getfixturevalue("postgres_engine")
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def frozen() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(FROZEN_NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def app_overrides() -> dict[str, Any]:
    """Settings for the ``app`` fixture; a test module redefines this fixture to change them.
    The offline voice by default: these machines cannot reach Google's TTS."""
    return {"tts_engine": "espeak"}


def _remember_url_builders() -> None:
    """Every test builds a new app, and Werkzeug compiles two URL-building functions for each
    of the app's ~110 routes with ``ast`` and ``compile``: almost all of the 35 ms an app
    takes to make. The function depends only on the rule's parsed parts and defaults (it
    reaches converters through the rule it is bound to), so one compiled per rule serves
    every app of the run. Rules with a default for a variable part are compiled as usual."""
    compile_builder = Rule._compile_builder
    compiled: dict[Any, Any] = {}

    def remembered(self: Rule, append_unknown: bool = True) -> Any:
        defaults = self.defaults or {}
        if any(is_dynamic and data in defaults for is_dynamic, data in self._trace):
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), tuple(sorted(map(repr, defaults.items()))),
               append_unknown)  # fmt: skip
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    Rule._compile_builder = remembered  # type: ignore[method-assign]


_remember_url_builders()


class _CompiledTemplates(BytecodeCache):
    """The panel's templates compiled once per test process, not once per test app: every
    test builds a new app, and compiling its pages was a fifth of a panel test's time.
    Jinja checks each entry against the template's source, so an edited template compiles
    again; what a page renders is unchanged."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_compiled_templates = _CompiledTemplates()


@pytest.fixture
def app(
    database_url: str, tmp_path: Path, frozen: Any, app_overrides: dict[str, Any]
) -> Iterator[Flask]:
    app = create_app(
        {
            "instance_path": tmp_path / "instance",
            "database_url": database_url,
            "secret_key": "t",
            **app_overrides,
        }
    )
    app.config["TESTING"] = True
    app.jinja_env.bytecode_cache = _compiled_templates
    yield app
    app.extensions["loaxa"]["jobs"].shutdown()
    if app.extensions["loaxa"]["push"] is not None:
        app.extensions["loaxa"]["push"].close()
    app.extensions["loaxa"]["engine"].dispose()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    session = app.extensions["loaxa"]["sessions"]()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def network(db: Session) -> Session:
    """The bundled Hà Nam 2024 tree (105 stations) and the seeded campaigns: on SQLite the
    database was copied with them in it (``sqlite_network_template``); PostgreSQL's
    truncated tables get them imported."""
    if db.scalar(select(func.count(Station.id))) == 0:
        _import_network(db)
    return db


@dataclass
class Caller:
    """A user and a test client that sends their personal API token."""

    username: str
    token: str
    client: FlaskClient

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.client.patch(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def make_caller(app: Flask, network: Session) -> Any:
    """``make_caller(role, station_code)`` → a :class:`Caller` acting as a new user."""
    counter = iter(range(1, 10_000))

    def make(role: str, station: str, username: str | None = None) -> Caller:
        name = username or f"{role}{next(counter)}.{station}"
        accounts.add_user(network, FROZEN_NOW, name, "mat-khau-dai", role, station)
        token = accounts.new_api_token(network, FROZEN_NOW, name)
        network.commit()
        return Caller(name, token, app.test_client())

    return make


@pytest.fixture
def make_program(network: Session) -> Any:
    """``make_program(owner_code, minutes)`` → the id of a rendered programme with no
    segments to approve (the audio pipeline is not needed to schedule it)."""
    from scheduler.models import Program

    def make(owner: str, minutes: int = 15, title: str = "Chương trình thử") -> int:
        station = network.scalar(select(Station).where(Station.code == owner))
        assert station is not None, owner
        program = Program(
            title=title,
            owner=station,
            status="ready",
            duration_ms=minutes * 60_000,
            created_at=FROZEN_NOW,
        )
        network.add(program)
        network.commit()
        return program.id

    return make


_sha = count(1)  # a new file for every segment make_segment makes, across the run


@pytest.fixture
def make_segment(app: Flask, network: Session) -> Any:
    """``make_segment(owner_code, **fields)`` → a ready segment with a small stored file
    (no pipeline: for the tests that are about who sees what)."""
    from scheduler.models import MediaFile, Segment

    store = app.extensions["loaxa"]["settings"].resolved_media_dir

    def make(owner: str, title: str = "Bản tin thử", **fields: Any) -> Segment:
        station = network.scalar(select(Station).where(Station.code == owner))
        sha = hashlib.sha256(str(next(_sha)).encode()).hexdigest()
        path = store / sha[:2] / f"{sha}.mp3"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xfb" + bytes(998))
        media = MediaFile(sha256=sha, bytes=1000, duration_ms=83_500, created_at=FROZEN_NOW)
        values: dict[str, Any] = {"status": "ready", "progress": 100, "source": "upload",
                                  "media_file": media}  # fmt: skip
        values.update(fields)
        segment = Segment(title=title, owner=station, created_at=FROZEN_NOW, **values)
        network.add(segment)
        network.commit()
        return segment

    return make


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters (the defaults take ~0.2 s per hash, once per test user).
    Hashing and verifying are still the real argon2 code."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


# --- Audio: settings, a media store, and a system temp directory that must stay empty ----


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private system temp directory, which must be empty at the end: the audio code
    leaves no temporary file behind, whether it succeeds or refuses."""
    scratch = tmp_path / "system-tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield scratch
    assert list(scratch.iterdir()) == []


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    from tests.audio_fixtures import make_settings

    return make_settings(tmp_path)


@pytest.fixture
def store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


# --- MQTT: the real Mosquitto when LOAXA_TEST_MQTT_URL is set -----------------------------

MQTT_ENV = "LOAXA_TEST_MQTT_URL"


@pytest.fixture
def broker_url() -> str:
    url = os.environ.get(MQTT_ENV)
    if not url:
        pytest.skip(f"MQTT tests skipped: {MQTT_ENV} is not set (.ci/run sets it)")
    return url


@pytest.fixture
def mqtt_listen(broker_url: str) -> Iterator[Any]:
    """``mqtt_listen(code)`` → a queue of the JSON payloads a real subscriber receives on
    that station's topic (subscribed before it returns)."""
    clients: list[mqtt.Client] = []

    def listen(code: str) -> queue.Queue[dict[str, Any]]:
        received: queue.Queue[dict[str, Any]] = queue.Queue()
        subscribed: queue.Queue[bool] = queue.Queue()
        parsed = urlparse(broker_url)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.on_message = lambda _c, _u, msg: received.put(json.loads(msg.payload))
        client.on_subscribe = lambda *_args: subscribed.put(True)
        client.connect(parsed.hostname or "127.0.0.1", parsed.port or 1883)
        client.loop_start()
        clients.append(client)
        client.subscribe(topic_for(code), qos=1)
        subscribed.get(timeout=5)
        return received

    yield listen
    for client in clients:
        client.loop_stop()
        client.disconnect()


# --- Redis: the real server when LOAXA_TEST_REDIS_URL is set ------------------------------

REDIS_ENV = "LOAXA_TEST_REDIS_URL"


@pytest.fixture
def redis_url() -> str:
    """A Redis database emptied for this test (use a spare one: ``redis://…/15``)."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis tests skipped: {REDIS_ENV} is not set (.ci/run sets it)")
    from redis import Redis

    client = Redis.from_url(url)
    client.flushdb()
    client.close()
    return url
