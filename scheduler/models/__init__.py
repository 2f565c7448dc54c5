"""SQLAlchemy models, one module per part of the domain."""

from __future__ import annotations

from scheduler.models.accounts import ApiToken, Role, StationToken, User
from scheduler.models.alerts import Alert, AlertReceipt, AlertState
from scheduler.models.audit import AuditEvent
from scheduler.models.broadcasts import (
    Broadcast,
    BroadcastException,
    BroadcastStatus,
    BroadcastTarget,
    ConflictPolicy,
    Kind,
    Priority,
)
from scheduler.models.campaigns import Campaign, Topic
from scheduler.models.media import (
    MediaFile,
    Program,
    ProgramItem,
    ProgramStatus,
    Segment,
    SegmentStatus,
)
from scheduler.models.plays import AiringOutcome, PlayLog, SettledDay, SourceSample
from scheduler.models.readings import Reading
from scheduler.models.stations import Station, StationSuccession
from scheduler.models.work import StoredManifest, WorkItem

__all__ = [
    "AiringOutcome",
    "Alert",
    "AlertReceipt",
    "AlertState",
    "ApiToken",
    "AuditEvent",
    "Broadcast",
    "BroadcastException",
    "BroadcastStatus",
    "BroadcastTarget",
    "Campaign",
    "ConflictPolicy",
    "Kind",
    "MediaFile",
    "PlayLog",
    "Priority",
    "Program",
    "ProgramItem",
    "ProgramStatus",
    "Reading",
    "Role",
    "Segment",
    "SegmentStatus",
    "SettledDay",
    "SourceSample",
    "Station",
    "StationSuccession",
    "StationToken",
    "StoredManifest",
    "Topic",
    "User",
    "WorkItem",
]
