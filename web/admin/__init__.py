"""User management for admins (``/users``): people in the admin's own subtree only."""

from __future__ import annotations

from flask import Blueprint

from web import panel

bp = Blueprint("admin", __name__, template_folder="templates")
panel.register_error_pages(bp)

from web.admin import views  # noqa: E402,F401
