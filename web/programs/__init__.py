"""Programmes (``/programs``): build from segments, silences and jingles, reorder, render,
listen."""

from __future__ import annotations

from flask import Blueprint

from web import panel

bp = Blueprint("programs", __name__, template_folder="templates")
panel.register_error_pages(bp)

from web.programs import views  # noqa: E402,F401
