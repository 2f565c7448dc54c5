"""Built manifests shared by every web process: Redis when configured, the database otherwise.

A manifest's ETag names its station, revision and hour, so a stored manifest never goes
stale — a changed schedule or a new hour asks for another key — and any process that finds
the key answers the agent without resolving a timeline. Bodies are kept as JSON text with
two things left out, because they belong to the request rather than to the schedule:

- the media URLs, stored as ``loaxa-media:<sha256>`` and given the host the agent asked
  through (a station behind NAT and one on the LAN reach the same server by different names);
- ``server_time``, the clock the agent checks its own against, which must be now's.

Building is serialised per province across processes (:meth:`ManifestStore.building`): when
an alert makes a thousand agents ask at once, one process resolves the tree and the others
wait and read its result.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol, cast
from zlib import crc32

from sqlalchemy import Engine, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config import Settings
from scheduler.dispatch import Manifest, build_manifests, etag_for
from scheduler.models import Station, StoredManifest

if TYPE_CHECKING:
    from redis import Redis

# What build_manifests is given as its media URL format, and what serving replaces.
MEDIA_PLACEHOLDER = "loaxa-media:{sha256}"
_MEDIA_MARK = '"url":"loaxa-media:'
_MEDIA_HASH = re.compile(r'"url":"loaxa-media:([0-9a-f]{64})"')
# An ETag's hour is the current one, so two hours keeps the one being served and the last.
KEEP = timedelta(hours=2)
BUILD_TIMEOUT_S = 120  # a build that takes longer than this has died: others may take over
_BUILD_LOCK_KEY = 0x6C6F6178  # "loax": high half of PostgreSQL's two-key advisory lock


@dataclass(frozen=True)
class StoredBody:
    """A manifest as stored: JSON text without ``server_time``, media as placeholders."""

    etag: str
    text: str

    @classmethod
    def of(cls, manifest: Manifest) -> StoredBody:
        body = {key: value for key, value in manifest.body.items() if key != "server_time"}
        return cls(manifest.etag, json.dumps(body, ensure_ascii=False, separators=(",", ":")))

    @property
    def media(self) -> frozenset[str]:
        """The files this manifest lets its station fetch."""
        return frozenset(_MEDIA_HASH.findall(self.text))

    def render(self, media_prefix: str, server_time: str) -> str:
        """The body an agent receives: media at ``media_prefix + sha256``, the clock now's."""
        filled = self.text.replace(_MEDIA_MARK, '"url":"' + _escape(media_prefix))
        return filled[:-1] + ',"server_time":' + json.dumps(server_time) + "}"


def _escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


class ManifestStore(Protocol):
    def get(self, etag: str) -> StoredBody | None: ...

    def put_all(self, bodies: Iterable[StoredBody], now: datetime) -> None: ...

    def prune(self, now: datetime) -> int: ...

    def clear(self) -> None: ...

    def building(self, province: str) -> AbstractContextManager[None]: ...


class DatabaseStore:
    """The ``stored_manifests`` table: one row per ETag, pruned after :data:`KEEP`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._local = threading.Lock()  # SQLite: one process serves, so one lock is enough

    def get(self, etag: str) -> StoredBody | None:
        with self.engine.connect() as connection:
            found = connection.execute(
                select(StoredManifest.body).where(StoredManifest.etag == etag)
            ).scalar()
        return None if found is None else StoredBody(etag, found)

    def put_all(self, bodies: Iterable[StoredBody], now: datetime) -> None:
        rows = [{"etag": b.etag, "body": b.text, "built_at": now} for b in bodies]
        if not rows:
            return
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(StoredManifest).on_conflict_do_nothing(index_elements=["etag"])
        with self.engine.begin() as connection:
            for start in range(0, len(rows), 500):
                connection.execute(statement, rows[start : start + 500])

    def prune(self, now: datetime) -> int:
        with self.engine.begin() as connection:
            gone = connection.execute(
                delete(StoredManifest).where(StoredManifest.built_at < now - KEEP)
            )
        return gone.rowcount or 0

    def clear(self) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(StoredManifest))

    @contextmanager
    def building(self, province: str) -> Iterator[None]:
        if self.engine.dialect.name != "postgresql":
            with self._local:
                yield
            return
        # A session advisory lock on a connection of its own: released when it closes, also
        # when the process dies mid-build.
        key = crc32(province.encode()) & 0x7FFFFFFF
        with self.engine.connect() as connection:
            connection.execute(
                text("SELECT pg_advisory_lock(:a, :b)"), {"a": _BUILD_LOCK_KEY, "b": key}
            )
            try:
                yield
            finally:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:a, :b)"), {"a": _BUILD_LOCK_KEY, "b": key}
                )


class RedisStore:
    """Keys ``loaxa:manifest:<etag>`` expiring after :data:`KEEP`; a Redis lock per province."""

    PREFIX = "loaxa:manifest:"

    def __init__(self, client: Redis) -> None:
        self.client = client

    def get(self, etag: str) -> StoredBody | None:
        found = self.client.get(self.PREFIX + etag)
        return None if found is None else StoredBody(etag, cast(bytes, found).decode())

    def put_all(self, bodies: Iterable[StoredBody], now: datetime) -> None:
        pipe = self.client.pipeline(transaction=False)
        for body in bodies:
            pipe.set(self.PREFIX + body.etag, body.text.encode(), ex=KEEP, nx=True)
        pipe.execute()

    def prune(self, now: datetime) -> int:
        return 0  # Redis expires the keys itself

    def clear(self) -> None:
        for key in self.client.scan_iter(match=self.PREFIX + "*", count=1000):
            self.client.delete(key)

    @contextmanager
    def building(self, province: str) -> Iterator[None]:
        lock = self.client.lock(
            f"loaxa:build:{province}", timeout=BUILD_TIMEOUT_S, blocking_timeout=BUILD_TIMEOUT_S
        )
        got = lock.acquire()
        try:
            yield  # even without the lock (its holder died): building twice is only slower
        finally:
            if got:
                lock.release()


def open_store(engine: Engine, redis_url: str | None) -> DatabaseStore | RedisStore:
    """Redis at ``redis_url`` when set, else the database behind ``engine``."""
    if not redis_url:
        return DatabaseStore(engine)
    from redis import Redis

    return RedisStore(Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5))


def build_province(
    session: Session,
    settings: Settings,
    store: ManifestStore,
    province: str,
    now: datetime,
    also: Station | None = None,
) -> dict[str, StoredBody]:
    """Resolve every station of ``province`` (a code) and store their manifests: when one
    station's schedule changes, usually its province's do too — an alert makes them all sync
    at once, and one tree resolve costs about as much as a dozen single ones."""
    stations = list(
        session.scalars(
            select(Station)
            .where(Station.path.startswith(province + "/", autoescape=True))
            .order_by(Station.depth, Station.code)
        )
    )
    if also is not None and also not in stations:
        stations.append(also)
    built = build_manifests(session, settings, stations, now, MEDIA_PLACEHOLDER)
    bodies = {code: StoredBody.of(manifest) for code, manifest in built.items()}
    store.put_all(bodies.values(), now)
    return bodies


def manifest_for(
    session: Session, settings: Settings, store: ManifestStore, station: Station, now: datetime
) -> StoredBody:
    """The station's current manifest: from the store, or built with its whole province's
    (once across processes: the others wait for the build and read its result)."""
    etag = etag_for(station, now)
    found = store.get(etag)
    if found is not None:
        return found
    province = station.ancestor_codes[0]
    with store.building(province):
        found = store.get(etag)  # built by another process meanwhile
        if found is not None:
            return found
        bodies = build_province(session, settings, store, province, now, also=station)
    return bodies[station.code]
