"""Stations (``/stations``): the tree with each agent's live status, one station's details,
rules, agent token and install steps."""

from __future__ import annotations

from flask import Blueprint

from web import panel
from web.stations import labels

bp = Blueprint("stations", __name__, template_folder="templates")
panel.register_error_pages(bp)
bp.context_processor(labels.helpers)

from web.stations import views  # noqa: E402,F401
