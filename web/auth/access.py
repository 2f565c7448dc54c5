"""Who is signed in, and what a panel view lets them do.

Views use these, never Flask-Login directly::

    @bp.get("/stations/<code>")
    @login_required                      # any signed-in user
    def station(code): station = require_station(code) ...   # 404 unknown, 403 outside scope

    @bp.get("/users")
    @role_required(Role.admin)           # signed in *and* one of these roles, else 403
    def users(): me = panel_user() ...   # the scheduler.models.User row
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import abort
from flask_babel import lazy_gettext
from flask_login import LoginManager, UserMixin, current_user
from flask_login import login_required as _login_required

from scheduler import permissions
from scheduler.errors import NotFound
from scheduler.models import Role, Station, User
from scheduler.stations import get_station
from web.db import session

F = TypeVar("F", bound=Callable[..., Any])

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = cast(str, lazy_gettext("Hãy đăng nhập để mở trang này."))
login_manager.login_message_category = "info"
# The session dies when the browser's address or user agent changes under it.
login_manager.session_protection = "strong"


def _fingerprint(user: User) -> str:
    """Part of the session's user id: a new password ends every session signed in with the
    old one."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


class Account(UserMixin):
    """The signed-in user as Flask-Login sees it; attributes read through to the row, so
    templates can say ``current_user.username``."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        return f"{self.user.id}.{_fingerprint(self.user)}"

    @property
    def is_active(self) -> bool:
        return self.user.active

    def __getattr__(self, name: str) -> Any:
        return getattr(self.user, name)


@login_manager.user_loader
def _load(session_id: str) -> Account | None:
    user_id, _, fingerprint = session_id.partition(".")
    if not user_id.isdigit() or len(user_id) > 12:
        return None
    user = session().get(User, int(user_id))
    if user is None or not user.active or fingerprint != _fingerprint(user):
        return None
    return Account(user)


def panel_user() -> User:
    """The signed-in user's row (only inside a view guarded by ``login_required``)."""
    account = cast(Account, current_user._get_current_object())
    return account.user


def login_required(view: F) -> F:
    """Signed in, any role; anonymous visitors go to ``/login?next=…``."""
    return cast(F, _login_required(view))


def role_required(*roles: Role) -> Callable[[F], F]:
    """Signed in with one of ``roles``; anyone else signed in gets 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if panel_user().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return login_required(cast(F, wrapped))

    return decorate


def require_station(code: str) -> Station:
    """The station with this code, if the signed-in user may see it: 404 when there is no
    such station, 403 when it lies outside their subtree."""
    try:
        station = get_station(session(), code)
    except NotFound:
        abort(404)
    if not permissions.can_view(panel_user(), station):
        abort(403)
    return station
