"""Who is calling: a personal API token (``Authorization: Bearer``) acting as its user."""

from __future__ import annotations

from flask import g, request

from scheduler.accounts import user_for_api_token
from scheduler.db import now_utc
from scheduler.errors import Unauthorized
from scheduler.models import User
from web.db import session


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def current_user(query_token: bool = False) -> User | None:
    """The caller; ``query_token`` also accepts ``?token=`` (calendar feeds only: tokens in
    URLs end up in logs, so nothing else takes them)."""
    if "api_user" not in g:
        token = bearer_token() or (request.args.get("token") if query_token else None)
        g.api_user = user_for_api_token(session(), token, now_utc()) if token else None
        if g.api_user is not None:
            session().commit()  # remember last use
    return g.api_user


def require_user(query_token: bool = False) -> User:
    user = current_user(query_token)
    if user is None:
        raise Unauthorized("sign in, or send Authorization: Bearer <personal API token>")
    return user
