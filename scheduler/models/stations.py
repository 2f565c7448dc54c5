"""Stations: the nodes of the broadcast tree (province → district → commune, or any depth)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime

# Prefixes of Vietnamese unit names, longest first, for the short name used in station titles.
UNIT_PREFIXES = (
    "Thành phố ",
    "Thị trấn ",
    "Thị xã ",
    "Đặc khu ",
    "Phường ",
    "Huyện ",
    "Quận ",
    "Tỉnh ",
    "Xã ",
)
STATION_TITLES = {
    "province": "Đài Phát thanh và Truyền hình {}",
    "district": "Trung tâm Văn hóa, Thông tin và Thể thao {}",
    "commune": "Đài truyền thanh {}",
}


class Station(Base):
    __tablename__ = "stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("stations.id"), index=True)
    # Materialised path of codes ("35/347/13285/"): a subtree is one indexed prefix query.
    path: Mapped[str] = mapped_column(String(400), index=True)
    depth: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Ho_Chi_Minh")
    stream_url: Mapped[str | None] = mapped_column(String(500))
    # Station rules (docs/architecture.md rule 5): allowed windows "05:00-07:00,16:30-19:00"
    # and caps.
    allowed_windows: Mapped[str | None] = mapped_column(String(200))
    max_sessions_per_day: Mapped[int | None] = mapped_column(Integer)
    max_minutes_per_session: Mapped[int | None] = mapped_column(Integer)
    # Bumped whenever anything that changes this station's timeline is saved (manifest ETag).
    schedule_revision: Mapped[int] = mapped_column(Integer, default=1)
    # Last heartbeat from the station's agent.
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agent_version: Mapped[str | None] = mapped_column(String(40))
    clock_offset_ms: Mapped[int | None] = mapped_column(Integer)
    disk_free_bytes: Mapped[int | None] = mapped_column(BigInteger)
    now_playing: Mapped[str | None] = mapped_column(Text)
    now_playing_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # the agent's plan
    # The administrative map it was imported from ("2024", "2025"; none: a hand-made tree).
    admin_map: Mapped[str | None] = mapped_column(String(8))
    # It airs from ``active_from`` (a unit created by a move between maps) until the day
    # before ``retired_on`` (a unit merged away: no new broadcast targets it; history stays).
    active_from: Mapped[date | None] = mapped_column(Date)
    retired_on: Mapped[date | None] = mapped_column(Date)

    parent: Mapped[Station | None] = relationship(remote_side="Station.id", lazy="joined")

    def __repr__(self) -> str:
        return f"<Station {self.code} {self.name}>"

    @property
    def short_name(self) -> str:
        for prefix in UNIT_PREFIXES:
            if self.name.startswith(prefix):
                return self.name[len(prefix) :]
        return self.name

    @property
    def station_name(self) -> str:
        """What people call the station: "Đài truyền thanh Xã Hợp Lý"."""
        title = STATION_TITLES.get(self.level)
        if self.level == "province":
            return title.format(self.short_name) if title else self.name
        return title.format(self.name) if title else self.name

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes from the root down to this station, inclusive."""
        return [code for code in self.path.split("/") if code]

    def airs_between(self, first: date, last: date) -> tuple[date, date] | None:
        """The part of the days ``first``–``last`` (inclusive) on which the station exists."""
        if self.active_from is not None:
            first = max(first, self.active_from)
        if self.retired_on is not None:
            last = min(last, self.retired_on - timedelta(days=1))
        return (first, last) if first <= last else None

    def contains(self, other: Station) -> bool:
        """True when ``other`` is this station or lies below it."""
        return other.path.startswith(self.path)


class StationSuccession(Base):
    """A 2024 unit living on in a 2025 one: merged (several predecessors, one successor),
    split (one predecessor, several successors, one the default), or the same row renamed
    (predecessor is successor) — with what the predecessor was called before."""

    __tablename__ = "station_successions"
    __table_args__ = (UniqueConstraint("predecessor_id", "successor_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    successor_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    effective: Mapped[date] = mapped_column(Date)
    is_default: Mapped[bool] = mapped_column(Boolean, default=True)
    former_code: Mapped[str] = mapped_column(String(32))
    former_name: Mapped[str] = mapped_column(String(200))
    former_level: Mapped[str] = mapped_column(String(20))
    former_parent: Mapped[str | None] = mapped_column(String(32))

    predecessor: Mapped[Station] = relationship(foreign_keys=[predecessor_id], lazy="joined")
    successor: Mapped[Station] = relationship(foreign_keys=[successor_id], lazy="joined")
