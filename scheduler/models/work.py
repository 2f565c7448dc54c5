"""The server's shared state between processes: queued work and built manifests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base, UTCDateTime


class WorkItem(Base):
    """One job for whichever server process claims it first (:mod:`scheduler.workqueue`).

    A running item holds a lease its process renews while it works; when the process dies
    the lease runs out and another process claims the item again.
    """

    __tablename__ = "work_items"
    __table_args__ = (Index("ix_work_items_claimable", "state", "urgent", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(12), default="queued")  # queued running done failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


class StoredManifest(Base):
    """A built manifest, shared by every web process when no Redis is configured
    (:mod:`scheduler.manifest_store`); its key is the manifest's ETag."""

    __tablename__ = "stored_manifests"

    etag: Mapped[str] = mapped_column(String(120), primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
