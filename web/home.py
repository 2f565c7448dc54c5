"""The dashboard at ``/``: for the signed-in user's subtree — what airs next, what each
station is playing, stations offline or with a drifting clock, what waits for approval,
airings displaced by others in the coming days, failed renders.

Bounded for a national admin: timelines are resolved for at most :data:`TIMELINE_STATIONS`
stations (the top of the subtree: parents before children), lists are cut at :data:`LIMIT`
and come with their full counts.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, render_template, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select

from scheduler import overview
from scheduler.db import now_utc
from scheduler.models import Role, Station
from scheduler.permissions import APPROVERS
from scheduler.station_timelines import tree_timelines, with_ancestors
from scheduler.stations import subtree
from web import panel
from web.auth import login_required, panel_user
from web.db import session, settings
from web.stations import labels

bp = Blueprint("home", __name__)
panel.register_error_pages(bp)
bp.context_processor(labels.helpers)


def maybe_url(endpoint: str, **values: Any) -> str | None:
    """A link to another feature's page, or None while that page does not exist."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **values)


LIMIT = 8
TIMELINE_STATIONS = 300
DAYS_AHEAD = 3


def _schedule(me: Any, now: Any) -> dict[str, Any]:
    """What airs next and what was displaced, from the resolved timelines of the subtree."""
    db = session()
    stations = list(subtree(db, me.station)[:TIMELINE_STATIONS])
    codes = {s.code for s in stations}
    window = (now, now + timedelta(days=DAYS_AHEAD))
    timelines = tree_timelines(
        db, with_ancestors(db, stations), window, timedelta(seconds=settings().min_fragment_s)
    )
    upcoming = overview.upcoming(timelines, codes, now)
    displaced = overview.displaced(timelines, codes, now)
    origins = {g.airing.origin for g in [*upcoming[:LIMIT], *displaced[:LIMIT]]}
    origins |= {g.airing.source for g in upcoming[:LIMIT] if g.airing.source}
    return {
        "upcoming": upcoming[:LIMIT],
        "displaced": displaced[:LIMIT],
        "displaced_total": len(displaced),
        "names": overview.stations_named(db, origins),
        "partial_tree": len(stations) == TIMELINE_STATIONS,
        "days_ahead": DAYS_AHEAD,
    }


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    me = panel_user()
    db = session()
    now = now_utc()
    after = timedelta(seconds=settings().offline_after_s)
    below = db.scalar(
        select(func.count(Station.id)).where(
            overview.in_subtree(me.station), Station.id != me.station_id
        )
    )
    failures, failures_total = overview.failed_renders(db, me.station, LIMIT)
    pending_broadcasts, pending_segments = overview.pending_counts(db, me.station)
    try:
        schedule = _schedule(me, now)
    except Exception:  # a damaged rule must not take the whole dashboard down
        current_app.logger.exception("dashboard: resolving the timelines failed")
        db.rollback()
        schedule = {
            "upcoming": [],
            "displaced": [],
            "displaced_total": 0,
            "names": {},
            "partial_tree": False,
            "days_ahead": DAYS_AHEAD,
            "failed": True,
        }
    return render_template(
        "home/index.html",
        me=me,
        below=below or 0,
        now=now,
        counts=overview.station_counts(db, me.station, now, after),
        playing=overview.playing_now(db, me.station, now, after, LIMIT),
        lost=overview.lost_stations(db, me.station, now, after, LIMIT),
        drifting=overview.drifting_stations(db, me.station, now, after, LIMIT),
        pending_broadcasts=pending_broadcasts,
        pending_segments=pending_segments,
        approves=me.role in APPROVERS,
        is_operator=me.role == Role.operator,
        failures=failures,
        failures_total=failures_total,
        limit=LIMIT,
        maybe_url=maybe_url,
        **schedule,
    )
