"""The server as deployed: ``gunicorn web.wsgi:app`` with two workers on PostgreSQL.

Background work queued through one worker is done exactly once by the pair, and a render
whose worker is killed half-way (``kill -9``) is finished by another worker once its claim's
lease runs out — the programme ends ready, not stuck "rendering" or failed.
Needs PostgreSQL (several processes share the database): ``.ci/run`` sets
``LOAXA_TEST_DATABASE_URL``; without it these tests skip and say so.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from audio.pipeline import ingest
from scheduler import accounts, segments
from scheduler.db import Base
from scheduler.models import Program, Segment, WorkItem
from tests.audio_fixtures import make_recording
from tests.conftest import FROZEN_NOW, PG_ENV
from tests.waiting import until

pytestmark = pytest.mark.realtime  # make test-fast skips these; make test runs them

GUNICORN = Path(sys.executable).parent / "gunicorn"
LEASE_S = 3
LONG_TEXT = "Thông báo của Ủy ban nhân dân xã về lịch tiêm chủng cho trẻ em trong tháng. " * 25


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """PostgreSQL only, emptied as for every test (the conftest fixture's branch)."""
    if not os.environ.get(PG_ENV):
        pytest.skip(
            f"gunicorn workers on PostgreSQL skipped: {PG_ENV} is not set (.ci/run sets it)"
        )
    engine = request.getfixturevalue("postgres_engine")
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return str(engine.url.render_as_string(hide_password=False))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(app: Flask, network: Session, tmp_path: Path) -> Iterator[str]:
    """gunicorn with 2 workers on the test's database and media store; its base URL."""
    cfg = app.extensions["loaxa"]["settings"]
    port = _free_port()
    env = {
        **os.environ,
        "LOAXA_INSTANCE": str(cfg.instance_path),
        "LOAXA_DATABASE_URL": cfg.database_url,
        "LOAXA_MEDIA_DIR": str(cfg.resolved_media_dir),
        "LOAXA_SECRET_KEY": "t",
        "LOAXA_TTS_ENGINE": "espeak",
        "LOAXA_JOB_LEASE_S": str(LEASE_S),
    }
    env.pop("LOAXA_MQTT_URL", None)
    log = (tmp_path / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(GUNICORN), "-w", "2", "-k", "gthread", "--threads", "4", "--graceful-timeout", "5",
         "-b", f"127.0.0.1:{port}", "web.wsgi:app"],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        until(lambda: _answers(base), 60, "gunicorn to answer")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _answers(base: str) -> bool:
    try:
        return requests.get(f"{base}/api/v1/stations", timeout=5).status_code == 401
    except requests.RequestException:  # not listening yet, or the workers still booting
        return False


def _editor(network: Session) -> tuple[Any, str]:
    user = accounts.add_user(network, FROZEN_NOW, "bientap.347", "mat-khau-dai-1", "admin", "347")
    token = accounts.new_api_token(network, FROZEN_NOW, "bientap.347")
    network.commit()
    return user, token


def _jobs(app: Flask) -> list[WorkItem]:
    with app.extensions["loaxa"]["sessions"]() as db:
        return list(db.scalars(select(WorkItem).order_by(WorkItem.id)))


def test_jobs_queued_through_the_workers_run_once(
    app: Flask, network: Session, server: str, tmp_path: Path
) -> None:
    _user, token = _editor(network)
    auth = {"Authorization": f"Bearer {token}"}
    spoken = []
    for n in range(4):  # long bulletins: spoken in the background, not in the request
        answer = requests.post(f"{server}/api/v1/segments/tts", headers=auth, timeout=30,
                               json={"title": f"Thông báo {n}", "text": LONG_TEXT})  # fmt: skip
        assert answer.status_code == 202, answer.text
        spoken.append(answer.json()["id"])
    recording = make_recording(tmp_path / "dai.m4a", seconds=130)  # over the 120 s kept inline
    with recording.open("rb") as fh:
        answer = requests.post(f"{server}/api/v1/segments", headers=auth, timeout=60,
                               data={"title": "Ghi âm dài"}, files={"file": fh})  # fmt: skip
    assert answer.status_code == 202, answer.text
    uploaded = answer.json()["id"]

    def all_done() -> bool:
        return all(j.state == "done" for j in _jobs(app)) and len(_jobs(app)) == 5

    until(all_done, 180, "the five jobs")
    assert [(j.kind, j.attempts) for j in _jobs(app)] == [("speak", 1)] * 4 + [("ingest", 1)]
    with app.extensions["loaxa"]["sessions"]() as db:
        for segment_id in [*spoken, uploaded]:
            segment = db.get(Segment, segment_id)
            assert segment is not None and segment.status == "ready", segment_id
            assert segment.media_file is not None and segment.media_file.duration_ms > 60_000


def test_a_render_survives_its_worker_being_killed(
    app: Flask, network: Session, server: str, tmp_path: Path
) -> None:
    user, token = _editor(network)
    cfg = app.extensions["loaxa"]["settings"]
    done = ingest(make_recording(tmp_path / "mot-phut.m4a", seconds=75), cfg,
                  segments.store_for(cfg))  # fmt: skip
    meta = segments.prepare(network, user, "Bản tin dài", "347", None, None)
    segment = segments.new_segment(network, user, meta, FROZEN_NOW, source="upload")
    segments.finish(network, segment, done, FROZEN_NOW)
    network.commit()
    items = [{"segment": segment.id}, {"silence_ms": 2000}] * 5  # over 6 minutes of speech
    body = {"title": "Chương trình tối", "owner": "347", "items": items}
    answer = requests.post(f"{server}/api/v1/programs", timeout=30, json=body,
                           headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert answer.status_code == 202, answer.text
    program_id = answer.json()["id"]

    def rendering() -> WorkItem | None:
        jobs = [j for j in _jobs(app) if j.kind == "render" and j.state == "running"]
        return jobs[0] if jobs and jobs[0].worker else None

    job = until(rendering, 30, "a worker to start rendering")
    worker_pid = int(job.worker.split(":")[1])
    os.kill(worker_pid, signal.SIGKILL)  # the worker dies mid-render; gunicorn starts another

    def ready() -> Program | None:
        with app.extensions["loaxa"]["sessions"]() as db:
            program = db.get(Program, program_id)
            return program if program is not None and program.status != "rendering" else None

    program = until(ready, 120, "the render to be finished by another worker")
    assert (program.status, program.error) == ("ready", None)
    assert program.duration_ms is not None and program.duration_ms > 6 * 60_000

    # The job's row is closed just after the programme's own commit: wait for that too.
    def closed() -> WorkItem | None:
        [job] = [j for j in _jobs(app) if j.kind == "render"]
        return job if job.state != "running" else None

    again = until(closed, 10, "the render job to be closed")
    assert (again.state, again.attempts) == ("done", 2)
    assert int(again.worker.split(":")[1]) != worker_pid  # another process finished it
