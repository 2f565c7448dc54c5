"""Audio: stored media files, segments (uploads and TTS bulletins) and programs."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, enum_type
from scheduler.models.campaigns import Campaign, Topic
from scheduler.models.stations import Station


class MediaFile(Base):
    """A broadcast-ready file in the media store, addressed by its SHA-256."""

    __tablename__ = "media_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    bytes: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(Integer)
    mime_type: Mapped[str] = mapped_column(String(60), default="audio/mpeg")
    # The pipeline's measurements: loudness before/after, true peak, source format…
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SegmentStatus(enum.StrEnum):
    """Where a segment's audio is: being made (an upload decoded and levelled, a bulletin
    spoken), ready to use, or failed with its ``error``. Approval is apart from this."""

    processing = "processing"
    ready = "ready"
    failed = "failed"


class ProgramStatus(enum.StrEnum):
    """A programme's rendering: its items joined into one file, or why not."""

    draft = "draft"
    rendering = "rendering"
    ready = "ready"
    failed = "failed"


class Segment(Base):
    """One piece of audio — an upload or a TTS bulletin — analysed and normalised."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    source: Mapped[str] = mapped_column(String(20), default="upload")  # upload | tts
    original_name: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str | None] = mapped_column(Text)
    # TTS bulletins: what the voice read, and which engine actually spoke (after fallback).
    spoken_text: Mapped[str | None] = mapped_column(Text)
    engine: Mapped[str | None] = mapped_column(String(20))
    voice: Mapped[str | None] = mapped_column(String(20))
    speed: Mapped[float | None] = mapped_column()
    # processing → ready | failed. Approval is separate: approved_at / rejected_at.
    status: Mapped[SegmentStatus] = mapped_column(
        enum_type(SegmentStatus), default=SegmentStatus.processing
    )
    error: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent, for the panel
    media_file_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"))
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejected_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Made for an emergency alert (its words, tone, issue time): kept out of the bulletin list.
    for_alert: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Published by an approver to the e-portal feed (/feeds/bulletins.rss, /ban-tin).
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Put away when no longer used: out of the lists and pickers, its history kept.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    owner: Mapped[Station] = relationship(lazy="joined")
    media_file: Mapped[MediaFile | None] = relationship(lazy="joined")
    campaign: Mapped[Campaign | None] = relationship(lazy="joined")
    topic: Mapped[Topic | None] = relationship(lazy="joined")

    @property
    def approval(self) -> str:
        if self.approved_at is not None:
            return "approved"
        return "rejected" if self.rejected_at is not None else "pending"


class Program(Base):
    """An ordered list of segments and silences, rendered to one media file."""

    __tablename__ = "programs"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ProgramStatus] = mapped_column(
        enum_type(ProgramStatus), default=ProgramStatus.draft
    )
    error: Mapped[str | None] = mapped_column(Text)
    crossfade_ms: Mapped[int] = mapped_column(Integer, default=0)
    media_file_id: Mapped[int | None] = mapped_column(ForeignKey("media_files.id"))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    for_alert: Mapped[bool] = mapped_column(default=False, server_default=false())
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # put away, kept

    owner: Mapped[Station] = relationship(lazy="joined")
    media_file: Mapped[MediaFile | None] = relationship(lazy="joined")
    items: Mapped[list[ProgramItem]] = relationship(
        back_populates="program", order_by="ProgramItem.position", cascade="all, delete-orphan"
    )


class ProgramItem(Base):
    __tablename__ = "program_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"), index=True)
    silence_ms: Mapped[int | None] = mapped_column(Integer)

    program: Mapped[Program] = relationship(back_populates="items")
    segment: Mapped[Segment | None] = relationship(lazy="joined")
