"""``loaxa backup`` / ``loaxa restore``: the database and the media in one archive.

The archive is a ``.tar.gz`` holding ``loaxa-backup.json`` (what it is: schema revision,
when, row counts), ``database.jsonl`` (every row of every table, one JSON object per line,
read in one transaction so the rows agree with each other) and ``media/`` (the files those
rows name). Media files are named by their sha256 and never change once written, and a row
names a file only after the file is stored, so copying the files the snapshot names, after
the snapshot, gives a consistent pair without stopping the server.

Rows are written as JSON rather than as a SQL dump so an archive made on SQLite restores on
PostgreSQL and back (a department moving off the embedded default takes its history along).
Restoring goes into an empty database of the same schema revision, in one transaction.
"""

from __future__ import annotations

import base64
import enum
import io
import json
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import Connection, Engine, Integer, Table, func, insert, select, text

from scheduler.db import Base, upgrade
from scheduler.errors import Invalid

FORMAT = "loaxa-backup/1"
CHUNK = 500


@dataclass(frozen=True)
class Summary:
    tables: dict[str, int]
    media: int
    revision: str
    seconds: float


def _revision(connection: Connection) -> str:
    return str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar())


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, enum.Enum):
        return {"$e": value.name}
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$dt":
            return datetime.fromisoformat(inner)
        if key == "$d":
            return date.fromisoformat(inner)
        if key == "$e":
            return inner
        if key == "$b":
            return base64.b64decode(inner)
    return value


# Built manifests are a cache rebuilt on demand (and keyed by revisions a restore resets).
NOT_KEPT = frozenset({"stored_manifests"})


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_KEPT]


def _rows(connection: Connection, table: Table) -> Iterator[dict[str, Any]]:
    order = list(table.primary_key.columns) or list(table.columns)
    if table.name == "stations":  # parents before children, whatever their ids
        order = [table.c.depth, table.c.id]
    for row in connection.execute(select(table).order_by(*order)).mappings():
        yield {key: _encode(value) for key, value in row.items()}


def dump(engine: Engine, media_dir: Path, archive: Path) -> Summary:
    """Write the archive (a consistent snapshot: one read transaction, then its files)."""
    began = time.monotonic()
    archive.parent.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    hashes: set[str] = set()
    lines = io.BytesIO()
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            revision = _revision(connection)
            for table in _tables():
                counts[table.name] = 0
                for row in _rows(connection, table):
                    lines.write(
                        json.dumps({"t": table.name, "r": row}, ensure_ascii=False).encode() + b"\n"
                    )
                    counts[table.name] += 1
                    if table.name == "media_files":
                        hashes.add(str(row["sha256"]))
    files = sorted(p for p in media_dir.rglob("*") if p.is_file() and p.stem in hashes)
    manifest = {
        "format": FORMAT,
        "revision": revision,
        "tables": counts,
        "media": len(files),
        "created_at": datetime.now().astimezone().isoformat(),
    }
    partial = archive.with_name(archive.name + ".partial")
    with tarfile.open(partial, "w:gz") as tar:
        _add_bytes(tar, "loaxa-backup.json", json.dumps(manifest, indent=2).encode())
        _add_bytes(tar, "database.jsonl", lines.getvalue())
        for path in files:
            tar.add(path, arcname=str(PurePosixPath("media", *path.relative_to(media_dir).parts)))
    partial.replace(archive)  # a half-written archive never takes the real name
    return Summary(counts, len(files), revision, time.monotonic() - began)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def restore(engine: Engine, media_dir: Path, archive: Path) -> Summary:
    """Load the archive into an empty database (created or upgraded to this version's schema
    first) and put its media files in place; one transaction: all or nothing."""
    began = time.monotonic()
    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError) as exc:
        raise Invalid(f"file: {archive} is not a Loa Xã backup ({exc})", "file") from exc
    with tar:
        manifest = _manifest(tar, archive)
        upgrade(engine)
        by_name = {t.name: t for t in _tables()}
        with engine.begin() as connection:
            revision = _revision(connection)
            if revision != manifest["revision"]:
                raise Invalid(
                    f"file: the backup has schema {manifest['revision']}, this version "
                    f"{revision}; restore with the version that made it, then upgrade",
                    "file",
                )
            filled = [
                name
                for name, table in by_name.items()
                if connection.execute(select(func.count()).select_from(table)).scalar()
            ]
            if filled:
                raise Invalid(
                    f"database: not empty ({', '.join(sorted(filled)[:5])}…); restore into a "
                    "new database",
                    "database",
                )
            counts = _load_rows(connection, tar, by_name)
            if engine.dialect.name == "postgresql":
                _reset_sequences(connection, by_name.values())
        media = 0
        for member in tar.getmembers():
            if member.isfile() and member.name.startswith("media/"):
                target = media_dir.joinpath(*PurePosixPath(member.name).parts[1:])
                if ".." in PurePosixPath(member.name).parts:
                    raise Invalid(f"file: {member.name} points outside the media folder", "file")
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                if source is not None:
                    target.write_bytes(source.read())
                media += 1
    return Summary(counts, media, revision, time.monotonic() - began)


def _manifest(tar: tarfile.TarFile, archive: Path) -> dict[str, Any]:
    try:
        member = tar.extractfile("loaxa-backup.json")
        manifest = json.loads(member.read()) if member is not None else None
    except (KeyError, json.JSONDecodeError) as exc:
        raise Invalid(f"file: {archive} is not a Loa Xã backup (no manifest)", "file") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise Invalid(f"file: {archive} is not a Loa Xã backup ({FORMAT})", "file")
    return manifest


def _load_rows(
    connection: Connection, tar: tarfile.TarFile, tables: dict[str, Table]
) -> dict[str, int]:
    member = tar.extractfile("database.jsonl")
    if member is None:
        raise Invalid("file: the backup has no database.jsonl", "file")
    counts: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    current: Table | None = None
    for line in member:
        record = json.loads(line)
        table = tables.get(record["t"])
        if table is None:
            raise Invalid(f"file: the backup has a table this version lacks: {record['t']}", "file")
        if table is not current and batch and current is not None:
            connection.execute(insert(current), batch)
            batch = []
        current = table
        batch.append({key: _decode(value) for key, value in record["r"].items()})
        counts[table.name] = counts.get(table.name, 0) + 1
        if len(batch) >= CHUNK:
            connection.execute(insert(table), batch)
            batch = []
    if batch and current is not None:
        connection.execute(insert(current), batch)
    return counts


def _reset_sequences(connection: Connection, tables: Any) -> None:
    """Rows came with their ids: the next id PostgreSQL hands out follows them."""
    for table in tables:
        column = table.c.get("id")
        if column is None or not column.primary_key or not isinstance(column.type, Integer):
            continue
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
            )
        )
