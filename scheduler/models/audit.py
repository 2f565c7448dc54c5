"""Audit events: who changed what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base, UTCDateTime


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(100))  # username, "cli", "agent:13285"
    action: Mapped[str] = mapped_column(String(60))  # "broadcast.create", "token.rotate", ...
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
