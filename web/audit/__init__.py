"""The audit log (``/audit``): who changed what, when — inside the reader's area."""

from __future__ import annotations

from flask import Blueprint

from web import panel

bp = Blueprint("audit", __name__, template_folder="templates")
panel.register_error_pages(bp)

from web.audit import views  # noqa: E402,F401
