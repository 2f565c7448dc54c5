"""The job queue shared by the server's processes: each job runs once however many
processes poll it, a dead process's job is taken up by another once its lease runs out, a
job that kills its process every time is given up with the reason, and an alert's job is
not kept waiting behind long renders. On SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.models import WorkItem
from scheduler.workqueue import Handler, WorkRunner, claim, enqueue
from tests.conftest import FROZEN_NOW
from tests.waiting import until


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _queue(sessions: sessionmaker[Session], kind: str, n: int, urgent: bool = False) -> list[int]:
    with sessions.begin() as session:
        return [enqueue(session, kind, {"n": i}, FROZEN_NOW, urgent=urgent).id for i in range(n)]


def _states(sessions: sessionmaker[Session]) -> dict[int, tuple[str, int]]:
    with sessions() as session:
        rows = session.execute(select(WorkItem.id, WorkItem.state, WorkItem.attempts))
        return {job_id: (state, attempts) for job_id, state, attempts in rows}


def test_every_job_runs_once_however_many_processes_poll(app: Any) -> None:
    sessions = app.extensions["loaxa"]["sessions"]
    ran: Counter[int] = Counter()
    lock = threading.Lock()

    def work(args: dict[str, Any]) -> None:
        with lock:
            ran[args["n"]] += 1
        time.sleep(0.01)

    ids = _queue(sessions, "work", 60)
    runners = [WorkRunner(sessions, {"work": Handler(work)}, workers=3, poll_s=0.05).start()
               for _ in range(3)]  # three web workers, nine threads claiming at once  # fmt: skip
    try:
        until(lambda: all(s == "done" for s, _a in _states(sessions).values()), 60, "60 jobs")
    finally:
        for runner in runners:
            runner.stop(wait=False)
    assert ran == Counter(range(60))  # each once, none twice, none left
    assert {a for _s, a in _states(sessions).values()} == {1}
    assert len(ids) == 60


def test_a_dead_process_job_is_taken_up_once_its_lease_runs_out(app: Any) -> None:
    sessions = app.extensions["loaxa"]["sessions"]
    clock = Clock(FROZEN_NOW)
    (job,) = _queue(sessions, "render", 1)
    with sessions.begin() as session:  # a worker claims it, then is killed (never renews)
        claimed = claim(session, "host:4242:dead", clock(), timedelta(seconds=30))
    assert claimed is not None and claimed.id == job
    done = threading.Event()
    runner = WorkRunner(sessions, {"render": Handler(lambda _args: done.set())}, poll_s=0.05,
                        lease_s=30, clock=clock).start()  # fmt: skip
    try:
        time.sleep(0.5)
        assert not done.is_set()  # the lease still runs: the other process may be alive
        clock.now = FROZEN_NOW + timedelta(seconds=31)
        assert done.wait(10), "the job was not taken up after its lease ran out"
        until(lambda: _states(sessions)[job] == ("done", 2), 10, "the job recorded done")
    finally:
        runner.stop(wait=False)


def test_a_job_that_kills_its_process_every_time_is_given_up_with_the_reason(app: Any) -> None:
    sessions = app.extensions["loaxa"]["sessions"]
    clock = Clock(FROZEN_NOW)
    (job,) = _queue(sessions, "render", 1)
    for death in range(3):  # three processes each die in the middle of it
        with sessions.begin() as session:
            assert claim(session, f"host:{death}:dead", clock(), timedelta(seconds=30))
        clock.now += timedelta(seconds=31)
    reasons: list[str] = []
    handler = Handler(lambda _args: reasons.append("ran"), lambda _a, why: reasons.append(why))
    runner = WorkRunner(sessions, {"render": handler}, poll_s=0.05, clock=clock).start()
    try:
        until(lambda: _states(sessions)[job][0] == "failed", 10, "the job given up")
    finally:
        runner.stop(wait=False)
    assert reasons == ["gave up after 3 attempts (the process died each time)"]
    with sessions() as session:
        row = session.get(WorkItem, job)
        assert row is not None and row.error == reasons[0]


def test_an_urgent_job_does_not_wait_behind_long_renders(app: Any) -> None:
    sessions = app.extensions["loaxa"]["sessions"]
    release = threading.Event()
    started: list[str] = []

    def render(_args: dict[str, Any]) -> None:
        started.append("render")
        release.wait(20)

    def alert(_args: dict[str, Any]) -> None:
        started.append("alert")

    _queue(sessions, "render", 4)
    runner = WorkRunner(sessions, {"render": Handler(render), "alert": Handler(alert)},
                        workers=2, urgent_workers=1, poll_s=0.05).start()  # fmt: skip
    try:
        until(lambda: started.count("render") == 2, 10, "both workers busy rendering")
        _queue(sessions, "alert", 1, urgent=True)
        until(lambda: "alert" in started, 10, "the alert's job")
        assert started.count("render") == 2  # the renders still hold the ordinary workers
    finally:
        release.set()
        runner.stop(wait=False)
