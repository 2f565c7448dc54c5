"""The published contract, fuzzed: schemathesis (a maintained API fuzzer, not written here)
reads ``GET /api/v1/openapi.json`` and sends generated requests — valid and invalid bodies,
parameters and paths — to the real app on a real SQLite database holding the Hà Nam network.

Every answer must be something the spec promises: never a server error, only the statuses it
declares for that operation, the content type it names and a body that matches the response
schema. Each request is sent as a province admin and as a commune operator (the agent
protocol as a station agent), so both sides of every permission check answer.

Bounded and derandomized: the same examples on every run, so a failure reproduces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from scheduler import accounts
from scheduler.db import make_engine, upgrade
from scheduler.seed import seed_campaigns
from scheduler.stations import import_directory
from tests.alert_support import finish_jobs
from tests.network_codes import PROVINCE, QUANG_TRUNG
from web import create_app
from web.api.openapi import spec

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
AGENT_PATHS = ("/api/v1/agent/", "/api/v1/media/")
CAMPAIGN = "xhht-2023-2030"  # the seeded lifelong-learning campaign
EXAMPLES = 8  # per operation and kind (seeded, valid, invalid); sent once per caller


@dataclass(frozen=True)
class Seeded:
    """What the fuzzed app holds: the callers' tokens and the real objects made through the
    API (a spoken bulletin, its programme, a broadcast of it tomorrow at 07:00, an alert)."""

    tokens: dict[str, str]
    path_parameters: dict[str, Any]
    query: dict[str, str]


@pytest.fixture(scope="module")
def fuzzed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Seeded]]:
    root: Path = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{root / 'loaxa.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    app = create_app(
        {"instance_path": root / "instance", "database_url": url, "secret_key": "t",
         "tts_engine": "espeak"}
    )  # fmt: skip
    app.config["TESTING"] = True
    db = app.extensions["loaxa"]["sessions"]()
    import_directory(db, "ha-nam-2024", NOW)
    seed_campaigns(db)
    accounts.add_user(db, NOW, "admin.fuzz", "mat-khau-dai", "admin", PROVINCE)
    accounts.add_user(db, NOW, "operator.fuzz", "mat-khau-dai", "operator", QUANG_TRUNG)
    tokens = {
        "admin": accounts.new_api_token(db, NOW, "admin.fuzz"),
        "operator": accounts.new_api_token(db, NOW, "operator.fuzz"),
        "station": accounts.new_station_token(db, NOW, QUANG_TRUNG),
    }
    db.commit()
    db.close()
    query = {"station": QUANG_TRUNG, "campaign": CAMPAIGN}  # the reports' subject
    yield app, Seeded(tokens, seed_objects(app, tokens["admin"]), query)
    app.extensions["loaxa"]["jobs"].shutdown()
    app.extensions["loaxa"]["engine"].dispose()


def seed_objects(app: Flask, token: str) -> dict[str, Any]:
    """Real objects, made through the API as a user makes them; the path parameters that
    name them, so the fuzzer reaches them (and checks those answers against the schema)
    rather than only 404s."""
    client = app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    spoken = {"title": "Bản tin thử", "text": "Xin chào bà con.", "owner": QUANG_TRUNG}
    segment = client.post("/api/v1/segments/tts", json=spoken, headers=auth).json
    finish_jobs(app)
    approved = client.post(f"/api/v1/segments/{segment['id']}/approve", headers=auth)
    assert approved.status_code == 200, approved.json
    items = {"title": "Chương trình thử", "owner": QUANG_TRUNG,
             "items": [{"segment": segment["id"]}]}  # fmt: skip
    program = client.post("/api/v1/programs", json=items, headers=auth)
    assert program.status_code == 201, program.json
    tomorrow = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date() + timedelta(days=1)
    saved = client.post("/api/v1/broadcasts", headers=auth, json={
        "title": "Bản tin sáng", "owner": QUANG_TRUNG, "kind": "program",
        "program": program.json["id"], "start": f"{tomorrow.isoformat()}T07:00:00",
        "targets": [QUANG_TRUNG]})  # fmt: skip
    assert saved.status_code == 201, saved.json
    alert = {"title": "Cảnh báo thử", "text": "Nước sông lên.", "targets": [QUANG_TRUNG]}
    issued = client.post("/api/v1/alerts", json=alert, headers=auth)
    finish_jobs(app)
    assert issued.status_code in (201, 202), issued.json
    # Every {id} operation is tried on id 1: the first segment, programme, broadcast, alert.
    assert {segment["id"], program.json["id"], saved.json["id"], issued.json["id"]} == {1}
    return {"id": 1, "code": QUANG_TRUNG, "sha256": program.json["sha256"]}


@pytest.fixture(scope="module")
def api_schema(fuzzed_app: tuple[Flask, Seeded]) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app[0])


OPERATIONS = [
    (path, method)
    for path, item in spec()["paths"].items()
    for method in item
    if method in ("get", "post", "patch", "put", "delete")
]


@pytest.mark.parametrize(
    ("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS]
)
def test_every_answer_is_one_the_spec_promises(
    api_schema: Any, fuzzed_app: tuple[Flask, Seeded], path: str, method: str
) -> None:
    seeded = fuzzed_app[1]
    operation = api_schema[path][method]
    callers = ("station",) if path.startswith(AGENT_PATHS) else ("admin", "operator")
    known = {k: v for k, v in seeded.path_parameters.items() if f"{{{k}}}" in path}
    asked = {p.name for p in operation.query}
    query = {k: v for k, v in seeded.query.items() if k in asked}
    runs: list[tuple[GenerationMode, dict[str, Any]]] = [(GenerationMode.POSITIVE, {})]
    if operation.path_parameters or operation.query or operation.body:  # something to spoil
        runs.append((GenerationMode.NEGATIVE, {}))
    if known or query:  # the seeded objects, with the rest generated
        runs.insert(0, (GenerationMode.POSITIVE, {"path_parameters": known, "query": query}))
    for mode, fixed in runs:
        given_kw = {k: v for k, v in fixed.items() if v}

        @given(case=operation.as_strategy(mode, **given_kw))
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def each(case: Any) -> None:
            for caller in callers:
                token = seeded.tokens[caller]
                case.call_and_validate(headers={"Authorization": f"Bearer {token}"},
                                       checks=CHECKS)  # fmt: skip

        each()
