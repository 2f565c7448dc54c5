"""What the agents report: play logs (as-run) and heartbeats.

Play logs carry the agent's own UUID, so an upload retried after a lost answer inserts
nothing twice: the database's primary key decides, in one statement per batch.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from scheduler.db import MAX_ID
from scheduler.models import AlertReceipt, PlayLog, Station
from scheduler.settle import refresh

MAX_BATCH = 1000


class PlayReport(BaseModel):
    """One as-run record (docs/api.md ``POST /api/v1/agent/plays``)."""

    model_config = ConfigDict(extra="ignore")

    id: UUID
    item: str = Field(min_length=1, max_length=100)
    broadcast: int | None = Field(None, ge=1, le=MAX_ID)
    scheduled_start: AwareDatetime
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    status: Literal["played", "partial", "missed", "failed", "interrupted"]
    detail: str | None = Field(None, max_length=2000)
    # Emergencies air "as soon as received": when the agent learned of the item. Not
    # ``received_at``: the log as read back already says so for when the server got it.
    alert_received_at: AwareDatetime | None = None
    # Chromaprint's raw fingerprint of what the agent put on air (its off-air capture): the
    # server compares it with the planned file's and marks the airing verified or not.
    fingerprint: list[Annotated[int, Field(ge=-(2**31), le=2**32 - 1)]] | None = Field(
        None, max_length=120_000
    )
    # What was fingerprinted: the off-air capture (what listeners heard) or the file the
    # player decoded (which audio was played, not that it reached the air).
    fingerprint_source: Literal["off_air", "decoded"] | None = None


class Receipt(BaseModel):
    """An alert's airing as the agent holds it before its play log (heartbeat ``alerts``)."""

    model_config = ConfigDict(extra="ignore")

    item: str = Field(min_length=1, max_length=100)
    broadcast: int = Field(ge=1, le=MAX_ID)
    scheduled_start: AwareDatetime
    received_at: AwareDatetime
    started_at: AwareDatetime | None = None


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agent_version: str = Field("", max_length=40)
    now: AwareDatetime
    playing: str | None = Field(None, max_length=300)
    playing_until: AwareDatetime | None = None
    disk_free_bytes: int | None = Field(None, ge=0)
    cache_ok: bool | None = None
    disk_full: bool = False  # the agent's cache disk refused a write: it airs from memory
    alerts: list[Receipt] = Field(default_factory=list, max_length=200)


def record_plays(
    session: Session, station: Station, reports: list[PlayReport], now: datetime
) -> tuple[int, int]:
    """Store new reports; return (accepted, duplicates)."""
    if not reports:
        return 0, 0
    rows = [
        {
            "id": str(r.id),
            "station_id": station.id,
            "item": r.item,
            "broadcast_id": r.broadcast,
            "scheduled_start": r.scheduled_start,
            "started_at": r.started_at,
            "ended_at": r.ended_at,
            "status": r.status,
            "detail": r.detail,
            "received_at_station": r.alert_received_at,
            "fingerprint": r.fingerprint,
            "fingerprint_source": r.fingerprint_source if r.fingerprint else None,
            "received_at": now,
        }
        for r in {str(r.id): r for r in reports}.values()  # the same id twice in one batch
    ]
    ids = [row["id"] for row in rows]
    known = set(session.scalars(select(PlayLog.id).where(PlayLog.id.in_(ids))))
    fresh = [row for row in rows if row["id"] not in known]
    if fresh:
        postgres = session.get_bind().dialect.name == "postgresql"
        insert = pg_insert if postgres else sqlite_insert
        # Bind processing (aware → UTC) happens through the ORM table's column types.
        session.execute(insert(PlayLog).on_conflict_do_nothing(index_elements=["id"]), fresh)
        # A log for a day already written down (an agent back from a long outage) changes it.
        fresh_ids = {str(row["id"]) for row in fresh}
        refresh(
            session,
            [
                (station.id, r.broadcast, r.scheduled_start)
                for r in reports
                if str(r.id) in fresh_ids
            ],
        )
    return len(fresh), len(reports) - len(fresh)


def record_heartbeat(session: Session, station: Station, beat: Heartbeat, now: datetime) -> None:
    station.last_seen = now
    station.agent_version = beat.agent_version or None
    station.clock_offset_ms = int((beat.now - now).total_seconds() * 1000)
    # A disk that refuses writes is full whatever the free-space call says (a few blocks
    # left are not room for a play log): the panel shows 0 B free.
    station.disk_free_bytes = 0 if beat.disk_full else beat.disk_free_bytes
    station.now_playing = beat.playing
    station.now_playing_until = beat.playing_until if beat.playing else None
    record_receipts(session, station, beat.alerts)


def record_receipts(session: Session, station: Station, receipts: list[Receipt]) -> None:
    """Keep what the agent said of each alert airing it holds: received, then started."""
    if not receipts:
        return
    items = {r.item: r for r in receipts}
    known = {
        row.item: row
        for row in session.scalars(
            select(AlertReceipt).where(
                AlertReceipt.station_id == station.id, AlertReceipt.item.in_(list(items))
            )
        )
    }
    for item, receipt in items.items():
        row = known.get(item)
        if row is None:
            row = AlertReceipt(
                station_id=station.id,
                item=item,
                broadcast_id=receipt.broadcast,
                scheduled_start=receipt.scheduled_start,
            )
            session.add(row)
        row.received_at = row.received_at or receipt.received_at
        row.started_at = receipt.started_at or row.started_at
