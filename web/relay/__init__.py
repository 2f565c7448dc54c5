"""The relay schedule ("Lịch tiếp âm"): what a station relays and plays this week, from whom
and when, next to what its agent reported; a print view and the phone-calendar link."""

from __future__ import annotations

from flask import Blueprint

from web import panel
from web.stations import labels

bp = Blueprint("relay", __name__, template_folder="templates")
panel.register_error_pages(bp)
bp.context_processor(labels.helpers)

from web.relay import views  # noqa: E402,F401
