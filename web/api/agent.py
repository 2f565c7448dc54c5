"""The agent protocol (docs/api.md "Agent protocol"): manifest, media, play logs, heartbeat.

Agents authenticate with their station token and reach nothing else; each sees only its own
station's manifest and the media that manifest names.
"""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response, current_app, g, jsonify, request, send_file, url_for
from pydantic import TypeAdapter
from sqlalchemy import Engine, Row, bindparam, select

from scheduler.accounts import station_for_token, token_hash
from scheduler.asrun import MAX_BATCH, Heartbeat, PlayReport, record_heartbeat, record_plays
from scheduler.db import now_utc
from scheduler.dispatch import etag_of
from scheduler.errors import Forbidden, Invalid, NotFound, Unauthorized
from scheduler.manifest_store import ManifestStore, StoredBody, manifest_for
from scheduler.models import Station, StationToken
from scheduler.segments import store_for
from web.api import bp
from web.api.auth import bearer_token
from web.api.held import RevisionWatch, until_next_hour
from web.db import queue_job, session, settings

REPORTS = TypeAdapter(list[PlayReport])
_WATCH_LOCK = threading.Lock()
# The 304 answer — what a national server mostly serves — needs only the station's code and
# revision: two columns by the token's hash, no ORM objects, no Session.
CURRENT_REVISION = (
    select(Station.code, Station.schedule_revision, Station.timezone)
    .join(StationToken, StationToken.station_id == Station.id)
    .where(StationToken.token_hash == bindparam("token_hash"), StationToken.revoked_at.is_(None))
)


def require_station() -> Station:
    if "agent_station" not in g:
        token = bearer_token()
        g.agent_station = station_for_token(session(), token) if token else None
    if g.agent_station is None:
        raise Unauthorized("send Authorization: Bearer <station token> (loaxa token new CODE)")
    return g.agent_station


def manifest_store() -> ManifestStore:
    """Where this deployment's web processes share built manifests."""
    store: ManifestStore = current_app.extensions["loaxa"]["manifest_store"]
    return store


def _manifest_for(station: Station, now: datetime) -> StoredBody:
    return manifest_for(session(), settings(), manifest_store(), station, now)


def _autocommit_engine() -> Engine:
    """The app's engine (same pool) reading without BEGIN/ROLLBACK round trips."""
    loaxa = current_app.extensions["loaxa"]
    if "autocommit_engine" not in loaxa:
        loaxa["autocommit_engine"] = loaxa["engine"].execution_options(isolation_level="AUTOCOMMIT")
    engine: Engine = loaxa["autocommit_engine"]
    return engine


def _from_cache() -> Response | None:
    """The cheap answers, from two columns read by the token's hash (no ORM, no Session):
    ``304`` when the agent's ``If-None-Match`` names its current manifest (held first for up
    to ``?wait=`` seconds, see :mod:`web.api.held`), or the manifest itself when any server
    process has built it (an alert makes a whole province ask at once). None — take the
    full path — for anything else: no token, an unknown or revoked one (which the full path
    answers 401), or a manifest not built yet."""
    token = bearer_token()
    if not token:
        return None
    wait = _wait_s()
    row = _current(token)
    if row is None:
        return None
    now = now_utc()
    etag = etag_of(row.code, row.schedule_revision, now)
    if request.if_none_match.contains_weak(etag) and wait > 0:
        held_watch().wait(row.code, row.schedule_revision, min(wait, until_next_hour(now)))
        row = _current(token)
        if row is None:
            return None
        now = now_utc()
        etag = etag_of(row.code, row.schedule_revision, now)
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        found = manifest_store().get(etag)
        if found is None:
            return None
        response = _manifest_response(found, now, row.timezone)
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _current(token: str) -> Row[str, int, str] | None:
    with _autocommit_engine().connect() as connection:
        return connection.execute(CURRENT_REVISION, {"token_hash": token_hash(token)}).first()


def _wait_s() -> float:
    """``?wait=`` seconds (0 when absent), at most ``manifest_wait_max_s``."""
    text = request.args.get("wait")
    if text is None:
        return 0.0
    limit = settings().manifest_wait_max_s
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600 or value != value:
        raise Invalid(f"wait: give the seconds to hold the request, 0 to {limit:g}", "wait")
    return min(value, limit)


def held_watch() -> RevisionWatch:
    loaxa = current_app.extensions["loaxa"]
    with _WATCH_LOCK:
        if "held_watch" not in loaxa:
            loaxa["held_watch"] = RevisionWatch(_autocommit_engine())
    watch: RevisionWatch = loaxa["held_watch"]
    return watch


def _media_prefix() -> str:
    """Media URLs through the host the agent asked by (``…/api/v1/media/``)."""
    return url_for("api.media", sha256="SHA", _external=True).removesuffix("SHA")


def _manifest_response(built: StoredBody, now: datetime, timezone: str) -> Response:
    # Stored bodies are older than this request: the clock the agent checks is now's.
    server_time = now.astimezone(ZoneInfo(timezone)).isoformat()
    return Response(built.render(_media_prefix(), server_time), mimetype="application/json")


@bp.get("/agent/manifest")
def agent_manifest() -> Response:
    cheap = _from_cache()
    if cheap is not None:
        return cheap
    # Here the lean lookup found no token (→ 401) or a manifest not yet built: build it.
    station = require_station()
    now = now_utc()
    built = _manifest_for(station, now)
    response = _manifest_response(built, now, station.timezone)
    response.set_etag(built.etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/media/<sha256>")
def media(sha256: str) -> Response:
    station = require_station()
    if sha256 not in _manifest_for(station, now_utc()).media:
        raise Forbidden("this file is not in your station's manifest")
    store = store_for(settings())
    path = store.path_for(sha256)
    if not path.exists():
        raise NotFound("the file is missing from the media store")
    accel = settings().media_accel_prefix
    if accel:  # nginx sends the file (ranges and all) from its internal location
        response = Response(mimetype="audio/mpeg")
        response.headers["X-Accel-Redirect"] = accel + path.relative_to(store.root).as_posix()
        response.set_etag(sha256)
    else:
        response = send_file(
            path, mimetype="audio/mpeg", conditional=True, etag=sha256, max_age=365 * 24 * 3600
        )
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.post("/agent/plays")
def agent_plays() -> Response:
    station = require_station()
    body = request.get_json(silent=True)
    if not isinstance(body, list):
        raise Invalid("send a JSON list of play logs")
    if len(body) > MAX_BATCH:
        raise Invalid(f"send at most {MAX_BATCH} play logs at a time")
    reports = REPORTS.validate_python(body)
    db = session()
    accepted, duplicates = record_plays(db, station, reports, now_utc())
    fingerprinted = [str(r.id) for r in reports if r.fingerprint]
    if fingerprinted:  # checked after the answer: the agent is not kept waiting for fpcalc
        queue_job(db, "verify", plays=fingerprinted)
    else:
        db.commit()
    return jsonify({"accepted": accepted, "duplicates": duplicates})


@bp.post("/agent/heartbeat")
def agent_heartbeat() -> Response:
    station = require_station()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("send a JSON object")
    beat = Heartbeat.model_validate(body)
    db = session()
    now = now_utc()
    record_heartbeat(db, station, beat, now)
    db.commit()
    return jsonify({"server_time": now.isoformat(), "clock_offset_ms": station.clock_offset_ms})
