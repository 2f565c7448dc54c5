"""Users, passwords and tokens.

Passwords are hashed with argon2. Tokens are 256-bit random strings, so a single SHA-256 is
enough to store them safely and lets every request look one up by an indexed equality.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.db import MAX_ID
from scheduler.errors import Clash, Forbidden, Invalid, NotFound
from scheduler.models import ApiToken, Role, Station, StationToken, User
from scheduler.permissions import in_scope
from scheduler.stations import stations_by_code

_hasher = PasswordHasher()
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8
LAST_USED_RESOLUTION = timedelta(minutes=5)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    session: Session,
    now: datetime,
    username: str,
    password: str,
    role: str,
    station_code: str,
    full_name: str = "",
    actor: User | str = "cli",
) -> User:
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise Invalid(
            "username: use 2–64 lowercase letters, digits, '.', '_' or '-'", field="username"
        )
    if role not in Role.__members__:
        raise Invalid(f"role: must be one of {', '.join(Role.__members__)}", field="role")
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters", field="password")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Clash(f"username: {username!r} is taken", field="username")
    station = stations_by_code(session, [station_code], "station")[0]
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        role=Role(role),
        station=station,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(session, now, actor, "user.create", user, station.id, role=role)
    return user


def new_api_token(session: Session, now: datetime, username: str, actor: User | str = "cli") -> str:
    """Issue a personal API token for ``username``; return the secret (shown once)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"username: no user {username!r}", field="username")
    token = "lxu_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(user=user, token_hash=token_hash(token), prefix=token[:10], created_at=now)
    )
    audit.record(session, now, actor, "api_token.create", user, user.station_id)
    return token


def new_station_token(session: Session, now: datetime, code: str, actor: User | str = "cli") -> str:
    """Issue the station's agent token, revoking any earlier one; return it (shown once)."""
    station = stations_by_code(session, [code], "station_code")[0]
    session.execute(
        update(StationToken)
        .where(StationToken.station_id == station.id, StationToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    token = "lxs_" + secrets.token_urlsafe(32)
    session.add(
        StationToken(
            station=station, token_hash=token_hash(token), prefix=token[:10], created_at=now
        )
    )
    audit.record(session, now, actor, "station_token.rotate", station, station.id)
    return token


def user_for_api_token(session: Session, token: str, now: datetime) -> User | None:
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        row.last_used_at = now  # written rarely: a write per request would serialise readers
    return row.user


def station_for_token(session: Session, token: str) -> Station | None:
    row = session.scalar(
        select(StationToken).where(
            StationToken.token_hash == token_hash(token), StationToken.revoked_at.is_(None)
        )
    )
    return row.station if row is not None else None


# --- The panel: signing in, managing users inside a subtree, personal tokens ---------------

LOCALES = ("vi", "en")
MAX_PASSWORD = 1024  # argon2 takes any length; this only bounds the work one request costs


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a miss costs as much as a wrong
    password and the answer time does not tell which usernames exist."""
    return _hasher.hash("loaxa: no such user")


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None (whichever part is wrong)."""
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_dummy_hash(), password)
        return None
    if not verify_password(user, password) or not user.active:
        return None
    return user


def require_user_admin(actor: User, station: Station) -> None:
    """Only admins manage users, and only at stations inside their own subtree."""
    if actor.role != Role.admin:
        raise Forbidden("only admins manage users")
    if not in_scope(actor, station):
        raise Forbidden(f"station: {station.code} is outside your area", "station")


def users_in_scope(session: Session, actor: User) -> list[User]:
    """Every user whose station lies in ``actor``'s subtree, by station then username."""
    return list(
        session.scalars(
            select(User)
            .join(User.station)
            .where(Station.path.startswith(actor.station.path, autoescape=True))
            .order_by(Station.path, User.username)
        )
    )


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        raise NotFound(f"there is no user {user_id}")
    return user


def create_user(
    session: Session,
    now: datetime,
    actor: User,
    username: str,
    password: str,
    role: str,
    station_code: str,
    full_name: str = "",
) -> User:
    """An admin creates a user at a station inside their subtree."""
    station = stations_by_code(session, [station_code], "station")[0]
    require_user_admin(actor, station)
    return add_user(session, now, username, password, role, station_code, full_name, actor)


def update_user(
    session: Session,
    now: datetime,
    actor: User,
    user: User,
    *,
    role: str | None = None,
    station_code: str | None = None,
    full_name: str | None = None,
) -> dict[str, list[str]]:
    """Change a user's role, station or name; return (and audit) what changed.

    An admin cannot change their own role or station: that is how the last admin of an area
    would lock everyone out."""
    require_user_admin(actor, user.station)
    changes: dict[str, list[str]] = {}
    if role is not None and role != user.role.value:
        if role not in Role.__members__:
            raise Invalid(f"role: must be one of {', '.join(Role.__members__)}", field="role")
        if user.id == actor.id:
            raise Forbidden("role: you cannot change your own role", "role")
        changes["role"] = [user.role.value, role]
        user.role = Role(role)
    if station_code is not None and station_code != user.station.code:
        station = stations_by_code(session, [station_code], "station")[0]
        require_user_admin(actor, station)
        if user.id == actor.id:
            raise Forbidden("station: you cannot move yourself", "station")
        changes["station"] = [user.station.code, station.code]
        user.station = station
    if full_name is not None and full_name.strip() != user.full_name:
        changes["full_name"] = [user.full_name, full_name.strip()]
        user.full_name = full_name.strip()
    if changes:
        audit.record(session, now, actor, "user.update", user, user.station_id, changes=changes)
    return changes


def set_active(session: Session, now: datetime, actor: User, user: User, active: bool) -> None:
    """Deactivate (or reactivate) a user; a deactivated user can neither sign in nor use
    their API tokens. Nobody deactivates themselves."""
    require_user_admin(actor, user.station)
    if user.id == actor.id and not active:
        raise Forbidden("you cannot deactivate yourself")
    if user.active == active:
        return
    user.active = active
    action = "user.activate" if active else "user.deactivate"
    audit.record(session, now, actor, action, user, user.station_id)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"password: at least {MIN_PASSWORD} characters", field="password")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"password: at most {MAX_PASSWORD} characters", field="password")


def reset_password(session: Session, now: datetime, actor: User, user: User, password: str) -> None:
    """An admin sets a new password for a user in their subtree."""
    require_user_admin(actor, user.station)
    _check_password(password)
    user.password_hash = hash_password(password)
    audit.record(session, now, actor, "user.password_reset", user, user.station_id)


def change_own_password(
    session: Session, now: datetime, user: User, current: str, new: str
) -> None:
    """A user changes their own password, proving they know the current one."""
    if not verify_password(user, current):
        raise Invalid("current_password: this is not your current password", "current_password")
    _check_password(new)
    user.password_hash = hash_password(new)
    audit.record(session, now, user, "user.password_change", user, user.station_id)


def set_locale(session: Session, user: User, locale: str) -> None:
    """The user's preferred panel language."""
    if locale not in LOCALES:
        raise Invalid(f"locale: must be one of {', '.join(LOCALES)}", field="locale")
    user.locale = locale


def active_api_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at, ApiToken.id)
        )
    )


def revoke_api_token(session: Session, now: datetime, user: User, token_id: int) -> None:
    """Revoke one of ``user``'s own tokens (someone else's id is simply not found)."""
    if not 0 < token_id <= MAX_ID:
        raise NotFound(f"token: you have no active token {token_id}", "token")
    row = session.scalar(
        select(ApiToken).where(
            ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        raise NotFound(f"token: you have no active token {token_id}", "token")
    row.revoked_at = now
    audit.record(session, now, user, "api_token.revoke", user, user.station_id, prefix=row.prefix)


def rotate_api_token(session: Session, now: datetime, user: User) -> str:
    """Revoke every active token of ``user`` and issue a new one; return it (shown once)."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    audit.record(session, now, user, "api_token.rotate", user, user.station_id)
    return new_api_token(session, now, user.username, actor=user)
