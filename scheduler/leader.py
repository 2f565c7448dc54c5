"""One leader for the server's periodic jobs, however many processes and machines run them.

On PostgreSQL the leader holds a session advisory lock on a connection it keeps open: if
its process dies the connection closes and the lock is free, so a standby takes over within
one retry. On SQLite (one machine) an exclusive ``flock`` on a file beside the database does
the same. Anything that runs the jobs — ``loaxa server-jobs``, ``loaxa serve``, a web worker
— may try: exactly one of them runs them at a time.
"""

from __future__ import annotations

import fcntl
import logging
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)
# pg_try_advisory_lock key: "loaxa" as ASCII, one 64-bit number all Loa Xã servers agree on.
ADVISORY_KEY = 0x6C6F617861


class Leadership:
    def __init__(self, engine: Engine, lock_file: Path) -> None:
        self.engine = engine
        self.lock_file = lock_file
        self._held: Any = None  # the PostgreSQL connection, or the open lock file

    @property
    def leading(self) -> bool:
        return self._held is not None

    def try_lead(self) -> bool:
        """Become the leader if nobody is; True while this process is it."""
        if self._held is not None:
            return True
        if self.engine.dialect.name == "postgresql":
            connection = self.engine.connect()
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
            ).scalar()
            connection.commit()
            if taken:
                self._held = connection
            else:
                connection.close()
        else:
            self.lock_file.parent.mkdir(parents=True, exist_ok=True)
            handle: IO[str] = self.lock_file.open("a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
            else:
                self._held = handle
        if self._held is not None:
            log.info("leading the server jobs")
        return self._held is not None

    def release(self) -> None:
        held, self._held = self._held, None
        if held is None:
            return
        if self.engine.dialect.name == "postgresql":
            held.close()  # the session ends, and its advisory lock with it
        else:
            fcntl.flock(held, fcntl.LOCK_UN)
            held.close()
