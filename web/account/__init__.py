"""The signed-in user's own page: language, password, personal API tokens."""

from __future__ import annotations

from flask import Blueprint

from web import panel

bp = Blueprint("account", __name__, template_folder="templates")
panel.register_error_pages(bp)

from web.account import views  # noqa: E402,F401
