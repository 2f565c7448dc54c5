"""Reports in the panel: ``/reports`` (compliance of my area over a period, worst first, with
charts), ``/reports/stations/<code>`` (each planned airing next to what aired), and
``/reports/monthly`` (the printable A4 month for the department)."""

from __future__ import annotations

from flask import Blueprint

from web import panel

bp = Blueprint("reports", __name__, template_folder="templates")
panel.register_error_pages(bp)

from web.reports import views  # noqa: E402,F401
