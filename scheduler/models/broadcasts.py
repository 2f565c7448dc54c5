"""Broadcasts: scheduling rules (what, who, when, how important) and their exceptions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, enum_type
from scheduler.models.media import Program
from scheduler.models.stations import Station


class Kind(enum.StrEnum):
    program = "program"
    relay = "relay"


class Priority(enum.StrEnum):
    """Circular 39/2020/TT-BTTTT bulletin classes, lowest first."""

    normal = "normal"
    priority = "priority"
    emergency = "emergency"


class ConflictPolicy(enum.StrEnum):
    shift = "shift"
    truncate = "truncate"
    skip = "skip"


class BroadcastStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    cancelled = "cancelled"


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    kind: Mapped[Kind] = mapped_column(enum_type(Kind))
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"))
    source_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"))
    stream_url: Mapped[str | None] = mapped_column(String(500))
    # Wall-clock start in ``timezone`` (naive on purpose: it is a local time, not an instant).
    start_local: Mapped[datetime] = mapped_column()
    timezone: Mapped[str] = mapped_column(String(64))
    duration_s: Mapped[int | None] = mapped_column(Integer)
    rrule: Mapped[str | None] = mapped_column(String(500))
    until: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[Priority] = mapped_column(enum_type(Priority))
    conflict: Mapped[ConflictPolicy] = mapped_column(enum_type(ConflictPolicy))
    max_delay_s: Mapped[int] = mapped_column(Integer)
    status: Mapped[BroadcastStatus] = mapped_column(enum_type(BroadcastStatus), index=True)
    forced: Mapped[bool] = mapped_column(default=False)
    # Alerts (emergencies issued "now"): repeat interval and count, expiry.
    repeat_every_s: Mapped[int | None] = mapped_column(Integer)
    repeat_count: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An editor's change to an approved broadcast, waiting for approval (the spec it would
    # save): the approved version stays on air until an approver accepts or rejects it.
    revision: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    revision_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revision_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[Station] = relationship(foreign_keys=[owner_id], lazy="joined")
    source: Mapped[Station | None] = relationship(foreign_keys=[source_id])
    program: Mapped[Program | None] = relationship()
    targets: Mapped[list[BroadcastTarget]] = relationship(
        back_populates="broadcast", cascade="all, delete-orphan", lazy="selectin"
    )
    exceptions: Mapped[list[BroadcastException]] = relationship(
        back_populates="broadcast", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def target_codes(self) -> list[str]:
        return sorted(t.station.code for t in self.targets)

    @property
    def exdates(self) -> list[datetime | date]:
        return [e.value for e in self.exceptions]


class BroadcastTarget(Base):
    """A target station: the broadcast applies to it and everything below it."""

    __tablename__ = "broadcast_targets"

    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True, index=True)

    broadcast: Mapped[Broadcast] = relationship(back_populates="targets")
    station: Mapped[Station] = relationship(lazy="joined")


class BroadcastException(Base):
    """A skipped airing: a whole local day, or one exact local start time."""

    __tablename__ = "broadcast_exceptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    on_date: Mapped[date | None] = mapped_column(Date)
    at_local: Mapped[datetime | None] = mapped_column()

    broadcast: Mapped[Broadcast] = relationship(back_populates="exceptions")

    @property
    def value(self) -> datetime | date:
        if self.at_local is not None:
            return self.at_local
        assert self.on_date is not None
        return self.on_date
