"""What a user may see of segments and programmes, filtered and a page at a time.

Visibility follows :func:`scheduler.permissions.can_use`: content owned inside the user's
subtree, or by a station above them (what reaches a commune from its district and province).
The panel's lists read through here so the rule lives in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from scheduler.models import Campaign, Program, Segment, SegmentStatus, Station, Topic, User

# A segment's state as the lists filter it: processing/failed, or ready and its approval.
SEGMENT_STATES = ("processing", "failed", "pending", "approved", "rejected")


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class SegmentFilter:
    campaign: str | None = None
    topic: str | None = None
    state: str | None = None
    owner: str | None = None
    text: str | None = None
    alerts: bool = False  # also the audio made for emergency alerts (hidden by default)
    archived: bool = False  # the archived ones instead of the ones in use


def ancestor_paths(station: Station) -> list[str]:
    """``35/347/13285/`` → ``["35/", "35/347/", "35/347/13285/"]``."""
    parts = station.ancestor_codes
    return ["".join(f"{c}/" for c in parts[: i + 1]) for i in range(len(parts))]


def usable_by(user: User) -> ColumnElement[bool]:
    """The owner condition (on ``Station``) matching :func:`permissions.can_use`."""
    return or_(
        Station.path.startswith(user.station.path, autoescape=True),
        Station.path.in_(ancestor_paths(user.station)),
    )


def _state(query: Select[Any], state: str | None) -> Select[Any]:
    if state in ("processing", "failed"):
        return query.where(Segment.status == SegmentStatus(state))
    if state == "approved":
        return query.where(Segment.status == SegmentStatus.ready, Segment.approved_at.is_not(None))
    if state == "rejected":
        return query.where(Segment.status == SegmentStatus.ready, Segment.rejected_at.is_not(None))
    if state == "pending":
        return query.where(
            Segment.status == SegmentStatus.ready,
            Segment.approved_at.is_(None),
            Segment.rejected_at.is_(None),
        )
    return query


def _segments(user: User, wanted: SegmentFilter) -> Select[Any]:
    query = select(Segment).join(Station, Segment.owner_id == Station.id).where(usable_by(user))
    if not wanted.alerts:
        query = query.where(~Segment.for_alert)
    archived = Segment.archived_at.is_not(None)
    query = query.where(archived if wanted.archived else ~archived)
    if wanted.owner:
        query = query.where(Station.code == wanted.owner)
    if wanted.campaign:
        query = query.where(
            Segment.campaign_id.in_(select(Campaign.id).where(Campaign.code == wanted.campaign))
        )
    if wanted.topic:
        query = query.where(
            Segment.topic_id.in_(select(Topic.id).where(Topic.code == wanted.topic))
        )
    if wanted.text:
        query = query.where(Segment.title.ilike(f"%{_escape(wanted.text)}%", escape="\\"))
    return _state(query, wanted.state)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _page(session: Session, query: Select[Any], page: int, per_page: int) -> Page:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = max(1, page)
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return Page(list(rows), total or 0, page, per_page)


def segment_page(
    session: Session, user: User, wanted: SegmentFilter, page: int = 1, per_page: int = 25
) -> Page:
    """Newest first."""
    query = _segments(user, wanted).order_by(Segment.created_at.desc(), Segment.id.desc())
    return _page(session, query, page, per_page)


def program_candidates(
    session: Session,
    user: User,
    text: str | None,
    campaign: str | None,
    approved_only: bool,
    limit: int = 50,
) -> list[Segment]:
    """Ready audio a programme may use: approved (and, unless ``approved_only``, awaiting
    approval — a programme can be built before its segments are approved, though it airs
    only after); rejected segments never."""
    wanted = SegmentFilter(campaign=campaign or None, text=text or None)
    query = _segments(user, wanted).where(
        Segment.status == SegmentStatus.ready,
        Segment.media_file_id.is_not(None),
        Segment.rejected_at.is_(None),
    )
    if approved_only:
        query = query.where(Segment.approved_at.is_not(None))
    query = query.order_by(Segment.created_at.desc(), Segment.id.desc()).limit(limit)
    return list(session.scalars(query).unique())


def program_page(
    session: Session,
    user: User,
    page: int = 1,
    per_page: int = 25,
    alerts: bool = False,
    archived: bool = False,
) -> Page:
    """Newest first; the one-off programmes of emergency alerts only with ``alerts``; the
    archived ones (only) with ``archived``."""
    query = (
        select(Program)
        .join(Station, Program.owner_id == Station.id)
        .where(usable_by(user))
        .order_by(Program.created_at.desc(), Program.id.desc())
    )
    if not alerts:
        query = query.where(~Program.for_alert)
    put_away = Program.archived_at.is_not(None)
    query = query.where(put_away if archived else ~put_away)
    return _page(session, query, page, per_page)


def people(session: Session, ids: Iterable[int | None]) -> dict[int, User]:
    """Users by id (authors and approvers shown next to content)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}


def owners(session: Session, user: User) -> list[Station]:
    """Stations whose content the user may see, for the owner filter: ancestors, then the
    subtree in tree order."""
    query = select(Station).where(usable_by(user)).order_by(Station.path)
    return list(session.scalars(query))
