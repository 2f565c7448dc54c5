"""Audit trail: one call records who changed what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from scheduler.models import AuditEvent, User


def record(
    session: Session,
    now: datetime,
    actor: User | str,
    action: str,
    obj: Any = None,
    station_id: int | None = None,
    **detail: Any,
) -> AuditEvent:
    """Add an audit event to the session (it commits with the change it describes)."""
    event = AuditEvent(
        at=now,
        user_id=actor.id if isinstance(actor, User) else None,
        actor=actor.username if isinstance(actor, User) else actor,
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else "",
        object_id=str(obj.id) if obj is not None and getattr(obj, "id", None) else None,
        station_id=station_id,
        detail=detail,
    )
    session.add(event)
    return event
