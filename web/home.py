"""The dashboard at ``/``: for now who you are and which stations you work with; the live
parts (what airs next, stations offline, items waiting for approval) come with issue #5 part 3.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from scheduler.db import now_utc
from scheduler.models import Station
from web import panel
from web.auth import login_required, panel_user
from web.db import session

bp = Blueprint("home", __name__)
panel.register_error_pages(bp)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    me = panel_user()
    below = session().scalar(
        select(func.count(Station.id)).where(
            Station.path.startswith(me.station.path, autoescape=True), Station.id != me.station_id
        )
    )
    return render_template("home/index.html", me=me, below=below or 0, now=now_utc())
