"""Archiving bulletins and programmes no longer used: they leave the lists and the pickers
(the builder's candidates, the schedule form's programmes) and nothing can newly use them,
while everything that happened with them — programmes built from them, broadcasts and their
play logs, reports — stays as it was. Restoring brings them back.

What is still in use is not archived: a bulletin in a programme that is not archived, a
programme that a broadcast still airs (one with an airing to come).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import audit, permissions
from scheduler.errors import Unprocessable
from scheduler.models import Broadcast, BroadcastStatus, Program, ProgramItem, Segment, User
from scheduler.station_timelines import next_airing, rule_of

Archivable = Segment | Program


def archive(session: Session, actor: User, thing: Archivable, now: datetime) -> None:
    permissions.require_author(actor, thing.owner)
    if thing.archived_at is not None:
        return
    users = _still_used_by(session, thing, now)
    if users:
        what = "programme(s)" if isinstance(thing, Segment) else "broadcast(s)"
        raise Unprocessable(f"still used by {what}: " + ", ".join(f"«{t}»" for t in users))
    thing.archived_at = now
    audit.record(
        session, now, actor, f"{_kind(thing)}.archive", thing, thing.owner_id, title=thing.title
    )


def restore(session: Session, actor: User, thing: Archivable, now: datetime) -> None:
    permissions.require_author(actor, thing.owner)
    if thing.archived_at is None:
        return
    thing.archived_at = None
    audit.record(
        session, now, actor, f"{_kind(thing)}.restore", thing, thing.owner_id, title=thing.title
    )


def _kind(thing: Archivable) -> str:
    return "segment" if isinstance(thing, Segment) else "program"


def _still_used_by(session: Session, thing: Archivable, now: datetime) -> list[str]:
    """Titles of what still needs it (none: it can go)."""
    if isinstance(thing, Segment):
        found = session.scalars(
            select(Program.title)
            .join(ProgramItem, ProgramItem.program_id == Program.id)
            .where(ProgramItem.segment_id == thing.id, Program.archived_at.is_(None))
            .distinct()
        )
        return sorted(found)
    live = session.scalars(
        select(Broadcast).where(
            Broadcast.program_id == thing.id,
            Broadcast.status.in_((BroadcastStatus.pending, BroadcastStatus.approved)),
        )
    )
    return sorted({b.title for b in live if next_airing(rule_of(b), now) is not None})
