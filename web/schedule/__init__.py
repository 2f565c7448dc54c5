"""``/schedule``: the week calendar, the broadcast form (with its preview) and the approval
queue. The rules live in ``scheduler.broadcasts`` and ``scheduler.station_timelines``; this package
turns forms into calls and results into pages."""

from __future__ import annotations

from flask import Blueprint

from web import panel

bp = Blueprint(
    "schedule",
    __name__,
    template_folder="templates",
)
panel.register_error_pages(bp)

from web.schedule import approvals, views  # noqa: E402,F401
