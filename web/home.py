"""The front page until the control panel arrives: what this server is and where its API is."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.api.health import app_version

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> str:
    return render_template("home/index.html", version=app_version())
