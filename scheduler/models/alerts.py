"""Alerts: emergencies as they were received (JSON or CAP 1.2), and what each station said.

An :class:`Alert` is the record of the message itself — who sent it, when, its CAP identity
(identifier, sender, sent, references, status, msgType, scope), its text and area — kept
whether or not it aired (a CAP ``Test`` is recorded, never aired). When it airs, its
:attr:`Alert.broadcast` is the approved ``emergency`` broadcast the resolver places first.
Speaking the text happens after the request has been answered, so an alert is first
``preparing``, then ``ready`` (on air), or ``failed`` with the reason.

:class:`AlertReceipt` is what a station's agent reported before its play log: when it
received an airing and when it put it on air (heartbeats carry both).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, enum_type
from scheduler.models.accounts import User
from scheduler.models.broadcasts import Broadcast, Priority
from scheduler.models.stations import Station


class AlertState(enum.StrEnum):
    preparing = "preparing"  # accepted; its audio is being made
    ready = "ready"  # its broadcast is on the targets' timelines
    failed = "failed"  # its audio could not be made (see ``error``)
    recorded = "recorded"  # kept, not aired: a CAP Test/Exercise/Draft/System, or not Public
    cancelled = "cancelled"  # cancelled, or expired by a CAP Update/Cancel


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("sender", "identifier", name="uq_alerts_sender_identifier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # CAP identity (JSON alerts get a made-up identifier and the issuer as sender).
    identifier: Mapped[str] = mapped_column(String(200))
    sender: Mapped[str] = mapped_column(String(200))
    sent: Mapped[datetime] = mapped_column(UTCDateTime())
    references: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # Actual | Exercise | System | Test | Draft
    msg_type: Mapped[str] = mapped_column(String(20))  # Alert | Update | Cancel | Ack | Error
    scope: Mapped[str] = mapped_column(String(20))  # Public | Restricted | Private
    source: Mapped[str] = mapped_column(String(10))  # json | cap | panel
    language: Mapped[str | None] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str | None] = mapped_column(Text)
    area: Mapped[str | None] = mapped_column(Text)  # CAP areaDesc, or the targets' names
    target_codes: Mapped[str] = mapped_column(Text, default="")  # "347 13285"
    repeat_every_s: Mapped[int | None] = mapped_column(Integer)
    repeat_count: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[AlertState] = mapped_column(enum_type(AlertState), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    # What CAP's urgency/severity/certainty/times decided (scheduler.cap_policy): emergency,
    # scheduled, priority or recorded; awaiting_translation while no Vietnamese words exist.
    outcome: Mapped[str] = mapped_column(
        String(30), default="emergency", server_default="emergency"
    )
    priority: Mapped[Priority] = mapped_column(
        enum_type(Priority), default=Priority.emergency, server_default="emergency"
    )
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: at once
    urgency: Mapped[str | None] = mapped_column(String(20))
    severity: Mapped[str | None] = mapped_column(String(20))
    certainty: Mapped[str | None] = mapped_column(String(20))
    # The sender's audio (a CAP resource): its uri (a data: URI until embedded audio is
    # decoded), mimeType and SHA-1 digest; ``note`` says what was done instead, and why.
    resource_uri: Mapped[str | None] = mapped_column(Text)
    resource_mime: Mapped[str | None] = mapped_column(String(100))
    resource_digest: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    # Audio: an approved segment named by the issuer, or the one spoken for this alert.
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segments.id"))
    spoken: Mapped[bool] = mapped_column(Boolean, default=False)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"), index=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(200))  # "panel", "api", "cap:ID"

    owner: Mapped[Station] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(lazy="joined")
    broadcast: Mapped[Broadcast | None] = relationship(lazy="joined")

    @property
    def codes(self) -> list[str]:
        return self.target_codes.split()

    @property
    def repeats(self) -> bool:
        """Aired more than once (a count above one, or every so often until it expires)."""
        return (self.repeat_count or 1) > 1 or (
            self.repeat_every_s is not None and self.repeat_count is None
        )

    @property
    def aired(self) -> bool:
        """It reached (or reaches) the stations' timelines."""
        return self.broadcast_id is not None


class AlertReceipt(Base):
    """One airing of an alert at one station, as its agent reported it before the play log."""

    __tablename__ = "alert_receipts"
    __table_args__ = (UniqueConstraint("station_id", "item", name="uq_alert_receipts_item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(Integer, index=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"), index=True)
    item: Mapped[str] = mapped_column(String(100))
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
