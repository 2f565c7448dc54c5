"""Play logs (as-run): what a station's agent actually did — and, for relays, what their
source actually sent (the reference their fingerprints are checked against)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base, UTCDateTime


class PlayLog(Base):
    __tablename__ = "play_logs"

    # The agent's own UUID: re-sent logs hit the primary key and count once.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    item: Mapped[str] = mapped_column(String(100))
    broadcast_id: Mapped[int | None] = mapped_column(Integer, index=True)
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    # When the agent learned of the item (emergencies: they air "as soon as received").
    received_at_station: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Proof beyond the agent's word: the fingerprint of what aired, compared with the planned
    # file's — verified when they match (scheduler.verify), None while unchecked or uncheckable.
    fingerprint: Mapped[list[int] | None] = mapped_column(JSON)
    fingerprint_source: Mapped[str | None] = mapped_column(String(10))  # off_air, decoded
    verified: Mapped[bool | None] = mapped_column()
    similarity: Mapped[float | None] = mapped_column(Float)


class SourceSample(Base):
    """A relay source's stream, fingerprinted by the server over a relay's window
    (``scheduler.relay_proof``): what the stations relaying it should have aired."""

    __tablename__ = "source_samples"
    __table_args__ = (UniqueConstraint("stream_url", "starts_at", name="uq_source_samples_window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stream_url: Mapped[str] = mapped_column(String(500))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # the relay's window
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sampled_from: Mapped[datetime | None] = mapped_column(UTCDateTime())  # what was heard
    sampled_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fingerprint: Mapped[list[int] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)  # why there is no fingerprint


class AiringOutcome(Base):
    """What became of one planned airing at one station, written once its day is over
    (``scheduler.settle``) so a report over a month of the country is one SQL aggregate;
    rewritten when a late log or a verification changes it."""

    __tablename__ = "airing_outcomes"

    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    day: Mapped[date] = mapped_column(Date, index=True)  # the local day it was planned on
    kind: Mapped[str] = mapped_column(String(10))
    origin: Mapped[str] = mapped_column(String(20))  # the broadcast owner's station code
    program_id: Mapped[int | None] = mapped_column(Integer)
    planned_s: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    aired_s: Mapped[float] = mapped_column(Float)
    verified: Mapped[bool | None] = mapped_column()


class SettledDay(Base):
    """A local day whose airings are all in ``airing_outcomes``."""

    __tablename__ = "settled_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    settled_at: Mapped[datetime] = mapped_column(UTCDateTime())
