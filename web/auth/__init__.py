"""Signing in and out, CSRF, and the access helpers every panel view uses."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

from web import panel
from web.auth.access import (
    Account,
    login_manager,
    login_required,
    panel_user,
    require_station,
    role_required,
)
from web.auth.limiter import LoginLimiter

__all__ = [
    "Account",
    "bp",
    "csrf",
    "init_app",
    "login_required",
    "panel_user",
    "require_station",
    "role_required",
]

bp = Blueprint("auth", __name__, template_folder="templates")
panel.register_error_pages(bp)
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """Sessions, CSRF on every form, and the login limiter. The JSON API and the feeds
    authenticate with bearer tokens, not cookies, so ``create_app`` exempts them."""
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")
    # A form may stay open for a working day (an operator's phone in a pocket).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 12 * 3600)
    login_manager.init_app(app)
    csrf.init_app(app)
    app.extensions["loaxa"]["login_limiter"] = LoginLimiter()


from web.auth import views  # noqa: E402,F401
