"""Who may do what: a role, scoped to the user's station and everything below it."""

from __future__ import annotations

from collections.abc import Iterable

from scheduler.errors import Forbidden
from scheduler.models import Role, Station, User

SCHEDULERS = {Role.admin, Role.editor, Role.approver}
APPROVERS = {Role.admin, Role.approver}


def in_scope(user: User, station: Station) -> bool:
    return station.path.startswith(user.station.path)


def can_view(user: User, station: Station) -> bool:
    """A station's records, timeline and plays: the user's own subtree only (docs/api.md)."""
    return in_scope(user, station)


def can_use(user: User, owner: Station) -> bool:
    """Content (segments, programmes, broadcasts) owned inside the user's subtree, or by a
    station above them — what reaches a commune from its district and province."""
    return in_scope(user, owner) or user.station.path.startswith(owner.path)


def can_see(user: User, owner: Station, targets: Iterable[Station]) -> bool:
    """A broadcast or an alert, from its owner and targets: owned in the user's area, or
    aimed at a station in it or above it — what a district sends reaches its communes."""
    return in_scope(user, owner) or any(can_use(user, target) for target in targets)


def require_view(user: User, station: Station) -> None:
    if not can_view(user, station):
        raise Forbidden(f"station {station.code} is outside your area")


def require_schedule(user: User, owner: Station, targets: Iterable[Station]) -> None:
    """Editors, approvers and admins schedule inside their subtree; an operator schedules
    local bulletins for their own station only."""
    if user.role == Role.operator:
        if owner.id != user.station_id:
            raise Forbidden("owner: an operator schedules only for their own station", "owner")
        for target in targets:
            if target.id != owner.id:
                raise Forbidden(
                    f"targets: an operator cannot schedule for station {target.code}", "targets"
                )
        return
    if user.role not in SCHEDULERS:
        raise Forbidden("your role cannot schedule broadcasts")
    if not in_scope(user, owner):
        raise Forbidden(f"owner: station {owner.code} is outside your area", "owner")


def can_approve(user: User, owner: Station) -> bool:
    return user.role in APPROVERS and in_scope(user, owner)


def require_approve(user: User, owner: Station) -> None:
    if user.role not in APPROVERS:
        raise Forbidden("only approvers and admins approve")
    if not in_scope(user, owner):
        raise Forbidden(f"station {owner.code} is outside your area")


def require_author(user: User, owner: Station) -> None:
    """Who may add audio for a station: schedulers in their area, an operator for their own."""
    if user.role == Role.operator:
        if owner.id != user.station_id:
            raise Forbidden("owner: an operator adds audio only for their own station", "owner")
        return
    if user.role not in SCHEDULERS:
        raise Forbidden("your role cannot add audio")
    if not in_scope(user, owner):
        raise Forbidden(f"owner: station {owner.code} is outside your area", "owner")
