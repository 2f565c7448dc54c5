"""The server's periodic jobs run in exactly one process, whatever runs them: a leader by
PostgreSQL advisory lock (or a file lock on the embedded SQLite), standbys taking over."""

from __future__ import annotations

import time
from typing import Any

import pytest

from scheduler import server_jobs
from scheduler.server_jobs import ServerJobs
from tests.waiting import until


def test_one_of_several_runners_leads_and_a_standby_takes_over(
    app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server_jobs, "STANDBY_RETRY_S", 0.2)
    extensions = app.extensions["loaxa"]
    runners = [ServerJobs(extensions["sessions"], extensions["settings"]).start()
               for _ in range(3)]  # three web workers, or three machines  # fmt: skip
    try:
        until(lambda: any(r.leading for r in runners), 5, "a leader")
        time.sleep(0.6)  # the standbys have tried several times meanwhile
        assert sum(r.leading for r in runners) == 1
        leader = next(r for r in runners if r.leading)
        leader.stop()  # its process goes away
        rest = [r for r in runners if r is not leader]
        until(lambda: any(r.leading for r in rest), 5, "a standby taking over")
        time.sleep(0.6)
        assert sum(r.leading for r in rest) == 1
    finally:
        for runner in runners:
            runner.stop()
