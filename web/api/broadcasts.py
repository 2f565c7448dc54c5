"""Broadcasts (docs/api.md "Broadcasts"): create, read, patch, cancel, approve."""

from __future__ import annotations

from flask import Response, jsonify

from scheduler import broadcasts as service
from scheduler import permissions
from scheduler.broadcasts import BroadcastSpec, SaveResult
from scheduler.db import now_utc
from scheduler.errors import Forbidden
from scheduler.models import Broadcast, User
from web.api import bp, serialize
from web.api.auth import require_user
from web.api.bodies import json_object
from web.db import notify_stations, session, settings


def _saved(result: SaveResult, status: int) -> Response:
    body = serialize.broadcast(result.broadcast)
    body["conflicts"] = serialize.jsonable(result.conflicts)
    body["conflicts_total"] = result.conflicts_total
    body["warnings"] = serialize.jsonable([w.as_dict() for w in result.warnings])
    response = jsonify(body)
    response.status_code = status
    response.headers["Location"] = f"/api/v1/broadcasts/{result.broadcast.id}"
    return response


def _visible(user: User, broadcast: Broadcast) -> None:
    targets = (t.station for t in broadcast.targets)
    if not permissions.can_see(user, broadcast.owner, targets):
        raise Forbidden(f"broadcast {broadcast.id} is outside your area")


@bp.post("/broadcasts")
def create_broadcast() -> Response:
    user = require_user()
    spec = BroadcastSpec.model_validate(json_object())
    db = session()
    result = service.save_broadcast(db, settings(), user, spec, now_utc())
    db.commit()
    notify_stations(result.broadcast.target_codes)
    return _saved(result, 201)


@bp.get("/broadcasts/<int:broadcast_id>")
def show_broadcast(broadcast_id: int) -> Response:
    user = require_user()
    broadcast = service.get_broadcast(session(), broadcast_id)
    _visible(user, broadcast)
    return jsonify(serialize.broadcast(broadcast))


@bp.patch("/broadcasts/<int:broadcast_id>")
def patch_broadcast(broadcast_id: int) -> Response:
    user = require_user()
    db = session()
    broadcast = service.get_broadcast(db, broadcast_id)
    _visible(user, broadcast)
    changes = json_object()
    # An editor's second change to an approved broadcast builds on the first, still waiting.
    waiting = service.revision_of(broadcast) if service.needs_revision(user, broadcast) else None
    merged = (waiting or service.spec_of(broadcast)).model_dump(exclude_unset=False)
    if changes.get("kind", merged["kind"]) != merged["kind"]:
        # Switching between relay and programme: the other kind's fields and defaults go.
        for key in ("program", "source", "stream_url", "duration_s", "conflict"):
            merged.pop(key, None)
    merged.update(changes)
    spec = BroadcastSpec.model_validate(merged)
    before = broadcast.target_codes
    result = service.save_broadcast(db, settings(), user, spec, now_utc(), existing=broadcast)
    db.commit()
    notify_stations([*before, *result.broadcast.target_codes])
    return _saved(result, 200)


@bp.delete("/broadcasts/<int:broadcast_id>")
def cancel_broadcast(broadcast_id: int) -> Response:
    user = require_user()
    db = session()
    broadcast = service.get_broadcast(db, broadcast_id)
    _visible(user, broadcast)
    service.cancel(db, user, broadcast, now_utc())
    db.commit()
    notify_stations(broadcast.target_codes)
    return jsonify(serialize.broadcast(broadcast))


@bp.post("/broadcasts/<int:broadcast_id>/approve")
def approve_broadcast(broadcast_id: int) -> Response:
    user = require_user()
    db = session()
    broadcast = service.get_broadcast(db, broadcast_id)
    _visible(user, broadcast)
    service.approve(db, settings(), user, broadcast, now_utc())
    db.commit()
    notify_stations(broadcast.target_codes)
    return jsonify(serialize.broadcast(broadcast))
