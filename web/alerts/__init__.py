"""Emergency alerts from the panel: ``/alerts/new``, a guarded form for approvers and admins;
``/alerts/<id>``, where it aired station by station; ``/alerts``, the history."""

from __future__ import annotations

from flask import Blueprint

from web import panel
from web.alerts import labels

bp = Blueprint("alerts", __name__, template_folder="templates")
panel.register_error_pages(bp)
bp.context_processor(labels.helpers)

from web.alerts import views  # noqa: E402,F401
