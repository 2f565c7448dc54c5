"""Users, passwords and tokens.

Passwords are hashed with argon2. Tokens are 256-bit random strings, so a single SHA-256 is
enough to store them safely and lets every request look one up by an indexed equality.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler import audit
from scheduler.errors import Clash, Invalid, NotFound
from scheduler.models import ApiToken, Role, Station, StationToken, User
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
