"""Segments (``/segments``): the list, uploads with a progress bar, the TTS composer, and
approval with a reason."""

from __future__ import annotations

from flask import Blueprint

from web import panel

bp = Blueprint("segments", __name__, template_folder="templates")
panel.register_error_pages(bp)

from web.segments import uploads, views  # noqa: E402,F401
