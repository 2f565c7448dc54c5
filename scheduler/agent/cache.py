"""The agent's local state: the last manifest, the play-log queue and the media files.

One SQLite file (stdlib ``sqlite3``: the agent needs no ORM and no server models) beside a
``media/`` folder of files named by their sha256. Everything survives a reboot, so a station
that lost the server keeps airing from here, and no play log is lost before it is uploaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    etag TEXT NOT NULL,
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS plays (
    id TEXT PRIMARY KEY,           -- the client-made UUID the server de-duplicates on
    item TEXT NOT NULL,
    body TEXT NOT NULL,            -- the JSON record as uploaded
    created_at TEXT NOT NULL,
    sent_at TEXT,
    held INTEGER NOT NULL DEFAULT 0 -- kept back until its proof (fingerprint) is attached
);
CREATE INDEX IF NOT EXISTS plays_unsent ON plays (sent_at, created_at);
CREATE INDEX IF NOT EXISTS plays_item ON plays (item);
CREATE TABLE IF NOT EXISTS airing (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    item TEXT NOT NULL,            -- on air when the agent last ran: a crash leaves it here
    started_at TEXT NOT NULL,
    progress_at TEXT               -- last written while it was on air: how far it got
);
"""
CHUNK = 1 << 20


class MediaCorrupt(ValueError):
    """A downloaded or cached file does not match its sha256."""


class AgentCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.media_dir = directory / "media"
        self.media_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(directory / "agent.db", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(plays)")}
        if "held" not in columns:  # a cache written by an agent before proofs
            self._db.execute("ALTER TABLE plays ADD COLUMN held INTEGER NOT NULL DEFAULT 0")
        if "progress_at" not in {row[1] for row in self._db.execute("PRAGMA table_info(airing)")}:
            self._db.execute("ALTER TABLE airing ADD COLUMN progress_at TEXT")
        # sha256 → (size, mtime_ns) when last hashed: re-hash only what changed on disk.
        self._verified: dict[str, tuple[int, int]] = {}

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._db:
            yield self._db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- manifest ---------------------------------------------------------------------
    def save_manifest(self, etag: str, body: dict[str, Any], fetched_at: datetime) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO manifest (id, etag, body, fetched_at) VALUES (1, ?, ?, ?)",
                (etag, json.dumps(body, ensure_ascii=False), fetched_at.isoformat()),
            )

    def load_manifest(self) -> tuple[str, dict[str, Any]] | None:
        with self._tx() as db:
            row = db.execute("SELECT etag, body FROM manifest WHERE id = 1").fetchone()
        if row is None:
            return None
        return row[0], json.loads(row[1])

    # -- play logs --------------------------------------------------------------------
    def queue_play(self, record: dict[str, Any], now: datetime, *, held: bool = False) -> None:
        """Keep a log for upload; a ``held`` one waits for :meth:`complete` (its proof)."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO plays (id, item, body, created_at, held)"
                " VALUES (?, ?, ?, ?, ?)",
                (record["id"], record["item"], json.dumps(record), now.isoformat(), int(held)),
            )

    def complete(self, record_id: str, extra: dict[str, Any]) -> None:
        """Add ``extra`` to a held log and let it go."""
        with self._tx() as db:
            row = db.execute("SELECT body FROM plays WHERE id = ?", (record_id,)).fetchone()
            if row is None:
                return
            body = {**json.loads(row[0]), **extra}
            db.execute(
                "UPDATE plays SET body = ?, held = 0 WHERE id = ?", (json.dumps(body), record_id)
            )

    def held_play(self, record_id: str) -> dict[str, Any] | None:
        """A log still waiting for its proof (read only: works on a full disk)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT body FROM plays WHERE id = ? AND held = 1", (record_id,)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def release_held(self) -> int:
        """Let go every held log (at start-up: the run that held them is over)."""
        with self._tx() as db:
            return db.execute("UPDATE plays SET held = 0 WHERE held = 1").rowcount

    def unsent_plays(self, limit: int) -> list[dict[str, Any]]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT body FROM plays WHERE sent_at IS NULL AND held = 0"
                " ORDER BY created_at LIMIT ?",
                (limit,),
            ).fetchall()
        return [json.loads(body) for (body,) in rows]

    def mark_sent(self, ids: list[str], now: datetime) -> None:
        with self._tx() as db:
            db.executemany(
                "UPDATE plays SET sent_at = ? WHERE id = ?", [(now.isoformat(), i) for i in ids]
            )

    def logged_items(self, *, settled: bool = False) -> set[str]:
        """Items with a play log; ``settled``: one that ends the item's story here (an item
        only interrupted — the agent stopped — may be rejoined while its window lasts)."""
        where = " WHERE json_extract(body, '$.status') != 'interrupted'" if settled else ""
        with self._tx() as db:
            return {item for (item,) in db.execute(f"SELECT DISTINCT item FROM plays{where}")}

    def count_unsent(self) -> int:
        with self._tx() as db:
            return int(db.execute("SELECT count(*) FROM plays WHERE sent_at IS NULL").fetchone()[0])

    def forget_sent(self, before: datetime) -> None:
        """Uploaded logs older than the manifest window are only history: drop them."""
        with self._tx() as db:
            db.execute(
                "DELETE FROM plays WHERE sent_at IS NOT NULL AND created_at < ?",
                (before.isoformat(),),
            )

    # -- what is on air ---------------------------------------------------------------
    def set_airing(self, item: str | None, started_at: datetime | None = None) -> None:
        with self._tx() as db:
            if item is None:
                db.execute("DELETE FROM airing")
            else:
                assert started_at is not None
                db.execute(
                    "INSERT OR REPLACE INTO airing (id, item, started_at, progress_at)"
                    " VALUES (1, ?, ?, ?)",
                    (item, started_at.isoformat(), started_at.isoformat()),
                )

    def mark_progress(self, now: datetime) -> None:
        """What is on air is still on air at ``now`` (after a crash, it aired until about
        here, not until the agent came back)."""
        with self._tx() as db:
            db.execute("UPDATE airing SET progress_at = ? WHERE id = 1", (now.isoformat(),))

    def airing(self) -> tuple[str, datetime, datetime] | None:
        """The item marked on air, when it started and when it was last known on air."""
        with self._tx() as db:
            row = db.execute(
                "SELECT item, started_at, progress_at FROM airing WHERE id = 1"
            ).fetchone()
        if row is None:
            return None
        started = datetime.fromisoformat(row[1])
        return row[0], started, datetime.fromisoformat(row[2]) if row[2] else started

    # -- media ------------------------------------------------------------------------
    def media_path(self, sha256: str) -> Path:
        return self.media_dir / sha256

    def has_media(self, sha256: str) -> bool:
        """True when the file is there and matches its hash (re-hashed if it changed)."""
        path = self.media_path(sha256)
        try:
            stat = path.stat()
        except FileNotFoundError:
            self._verified.pop(sha256, None)
            return False
        mark = (stat.st_size, stat.st_mtime_ns)
        if self._verified.get(sha256) == mark:
            return True
        if _sha256_of(path) != sha256:
            path.unlink(missing_ok=True)  # corrupt: fetch it again
            self._verified.pop(sha256, None)
            return False
        self._verified[sha256] = mark
        return True

    def media_ok(self) -> bool:
        """Every cached file re-hashed (the heartbeat's ``cache_ok``)."""
        self._verified.clear()
        return all(
            self.has_media(p.name)
            for p in list(self.media_dir.iterdir())
            if not p.name.endswith(".part")
        )

    def store_media(self, sha256: str, chunks: Iterator[bytes]) -> Path:
        """Write a download beside its final name, check the hash, then rename: a file under
        its sha256 name is always whole and right."""
        final = self.media_path(sha256)
        part = final.with_name(f"{sha256}.{os.getpid()}.{threading.get_ident()}.part")
        digest = hashlib.sha256()
        try:
            with part.open("wb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            if digest.hexdigest() != sha256:
                raise MediaCorrupt(f"download of {sha256[:12]}… does not match its sha256")
            os.replace(part, final)
        finally:
            part.unlink(missing_ok=True)
        stat = final.stat()
        self._verified[sha256] = (stat.st_size, stat.st_mtime_ns)
        return final

    def prune(self, keep: set[str], *, partials: bool = False) -> list[str]:
        """Delete files no item needs any more; ``partials`` also clears interrupted
        downloads (only at start-up: while running, another thread may be writing one)."""
        removed = []
        for path in self.media_dir.iterdir():
            name = path.name
            partial = name.endswith(".part")
            if (partial and partials) or (not partial and name not in keep):
                path.unlink(missing_ok=True)
                self._verified.pop(name, None)
                removed.append(name)
        return removed

    def disk_free(self) -> int:
        return shutil.disk_usage(self.directory).free


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
