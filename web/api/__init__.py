"""``/api/v1``: the JSON contract of docs/api.md."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from web.api import (  # noqa: E402,F401
    agent,
    alerts,
    broadcasts,
    errors,
    health,
    programs,
    reports,
    segments,
    stations,
    tts,
)
from web.api import openapi as _openapi  # noqa: E402,F401
