"""Alerts (API.md ``POST /api/v1/alerts``): emergencies that air now, from JSON or CAP 1.2.

After the commit, each target's MQTT topic carries the new revision and the alert's summary,
so agents sync at once instead of at their next poll; a cancel is pushed the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, jsonify, request

from scheduler import alerts as service
from scheduler import permissions
from scheduler.alerts import AlertSpec, Issued
from scheduler.cap import MAX_BYTES, parse_cap
from scheduler.db import now_utc
from scheduler.errors import Forbidden, TooLarge, UnsupportedMedia
from scheduler.models import Broadcast, User
from web.api import bp, serialize
from web.api.auth import require_user
from web.api.broadcasts import json_object
from web.db import announce_alert, session, settings

CAP_TYPES = {"application/cap+xml", "application/xml", "text/xml"}


def alert_json(broadcast: Broadcast, starts: list[datetime]) -> dict[str, Any]:
    """The broadcast as ``/broadcasts`` shows it, plus the audio and every airing's start."""
    zone = ZoneInfo(broadcast.timezone)
    body = serialize.broadcast(broadcast)
    program = broadcast.program
    items = program.items if program is not None else []
    body["segment"] = next((i.segment_id for i in items if i.segment_id is not None), None)
    body["duration_ms"] = program.duration_ms if program is not None else None
    media = program.media_file if program is not None else None
    body["sha256"] = media.sha256 if media is not None else None
    body["airings"] = [s.astimezone(zone).isoformat() for s in starts]
    return body


def _visible(user: User, broadcast: Broadcast) -> None:
    if permissions.in_scope(user, broadcast.owner) or any(
        permissions.can_use(user, t.station) or permissions.in_scope(user, t.station)
        for t in broadcast.targets
    ):
        return
    raise Forbidden(f"alert {broadcast.id} is outside your area")


def _answer(issued: Issued) -> Response:
    body = alert_json(issued.broadcast, issued.starts)
    body["duplicate"] = issued.duplicate
    body["cancelled"] = [b.id for b in issued.cancelled]
    response = jsonify(body)
    response.status_code = 200 if issued.duplicate else 201
    response.headers["Location"] = f"/api/v1/alerts/{issued.broadcast.id}"
    return response


def _cap_body() -> bytes:
    if (request.content_length or 0) > MAX_BYTES:
        raise TooLarge(f"body: a CAP message is at most {MAX_BYTES // 1024} KB", "body")
    data = request.stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise TooLarge(f"body: a CAP message is at most {MAX_BYTES // 1024} KB", "body")
    return data


@bp.post("/alerts")
def create_alert() -> Response:
    user = require_user()
    service.require_issuer(user)
    db = session()
    if request.mimetype in CAP_TYPES:
        outcome = service.receive_cap(db, settings(), user, parse_cap(_cap_body()), now_utc())
    elif request.is_json:
        spec = AlertSpec.model_validate(json_object())
        outcome = service.issue_alert(db, settings(), user, spec, now_utc())
    else:
        raise UnsupportedMedia(
            "send a JSON object (Content-Type: application/json) or a CAP 1.2 message "
            "(Content-Type: application/cap+xml)"
        )
    db.commit()
    cancelled = outcome if isinstance(outcome, list) else outcome.cancelled
    for broadcast in cancelled:
        announce_alert(broadcast, service.alert_starts(broadcast), cancelled=True)
    if isinstance(outcome, list):  # a CAP Cancel
        return jsonify({"cancelled": [alert_json(b, service.alert_starts(b)) for b in outcome]})
    if not outcome.duplicate:
        announce_alert(outcome.broadcast, outcome.starts)
    return _answer(outcome)


@bp.get("/alerts/<int:alert_id>")
def show_alert(alert_id: int) -> Response:
    user = require_user()
    broadcast = service.get_alert(session(), alert_id)
    _visible(user, broadcast)
    return jsonify(alert_json(broadcast, service.alert_starts(broadcast)))


@bp.delete("/alerts/<int:alert_id>")
def cancel_alert(alert_id: int) -> Response:
    user = require_user()
    db = session()
    broadcast = service.get_alert(db, alert_id)
    _visible(user, broadcast)
    service.cancel_alert(db, user, broadcast, now_utc(), via="api")
    db.commit()
    starts = service.alert_starts(broadcast)
    announce_alert(broadcast, starts, cancelled=True)
    return jsonify(alert_json(broadcast, starts))
