"""Readings (``/doc-tat``): how the voice says abbreviations, as editors teach it."""

from __future__ import annotations

from flask import Blueprint

from web import panel

bp = Blueprint("readings", __name__, template_folder="templates")
panel.register_error_pages(bp)

from web.readings import views  # noqa: E402,F401
