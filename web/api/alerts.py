"""Alerts (docs/api.md ``POST /api/v1/alerts``, "Alerts"): emergencies from JSON or CAP 1.2.

An alert whose words must be spoken (or whose audio must be rendered: a tone, the issue
time) answers ``202`` with ``"status": "preparing"`` and its id at once; the audio is made
in a job, and then each target's MQTT topic carries the new revision and the alert's
summary (held manifest requests are answered by the revision change alone). An approved
recording with nothing to add airs in the request (``201``, ``"ready"``). A CAP message
that is not for the air (Test, Exercise, Restricted…) is recorded and answered ``200`` with
``"aired": false`` and the reason.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, jsonify, request

from scheduler import alerts as service
from scheduler import permissions
from scheduler.alert_status import AlertStatus, alert_status
from scheduler.alerts import AlertSpec
from scheduler.cap import MAX_BYTES, parse_cap
from scheduler.cap_alerts import Received, receive_cap, translate
from scheduler.cap_export import CONTENT_TYPE as CAP_CONTENT_TYPE
from scheduler.cap_export import to_cap
from scheduler.db import now_utc
from scheduler.errors import Forbidden, Invalid, TooLarge, UnsupportedMedia
from scheduler.models import Alert, User
from web.api import bp
from web.api.auth import require_user
from web.api.bodies import json_object
from web.api.schemas import TextBody
from web.db import air_alert, alert_announcer, session, settings

CAP_TYPES = {"application/cap+xml", "application/xml", "text/xml"}
MAX_LISTED = 200


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment is not None else None


def alert_json(alert: Alert) -> dict[str, Any]:
    """The alert as recorded, with its audio and every airing's start once it is on air."""
    zone = ZoneInfo(alert.owner.timezone)
    broadcast = alert.broadcast
    program = broadcast.program if broadcast is not None else None
    media = program.media_file if program is not None else None
    return {
        "id": alert.id,
        "status": alert.state.value,
        "aired": alert.aired,
        "reason": alert.error,
        "title": alert.title,
        "text": alert.text,
        "targets": alert.codes,
        "area": alert.area,
        "owner": alert.owner.code,
        "priority": alert.priority.value,
        "outcome": alert.outcome,
        "starts_at": _iso(alert.starts_at, zone),
        "note": alert.note,
        "resource": _resource_json(alert),
        "created_by": alert.created_by.username if alert.created_by else None,
        "created_at": _iso(alert.created_at, zone),
        "ready_at": _iso(alert.ready_at, zone),
        "cancelled_at": _iso(alert.cancelled_at, zone),
        "expires_at": _iso(alert.expires_at, zone),
        "repeat_every_s": alert.repeat_every_s,
        "repeat_count": alert.repeat_count,
        "broadcast": alert.broadcast_id,
        "segment": alert.segment_id,
        "duration_ms": program.duration_ms if program is not None else None,
        "sha256": media.sha256 if media is not None else None,
        "airings": [_iso(s, zone) for s in service.alert_starts(alert)],
        "cap": {
            "identifier": alert.identifier,
            "sender": alert.sender,
            "sent": _iso(alert.sent, zone),
            "references": alert.references,
            "status": alert.status,
            "msgType": alert.msg_type,
            "scope": alert.scope,
            "language": alert.language,
            "urgency": alert.urgency,
            "severity": alert.severity,
            "certainty": alert.certainty,
        },
        "source": alert.source,
    }


def _resource_json(alert: Alert) -> dict[str, Any] | None:
    """The sender's audio: its address (``null`` when it came embedded in the message)."""
    uri = alert.resource_uri
    if uri is None:
        return None
    embedded = uri.startswith("data:")
    return {
        "uri": None if embedded else uri,
        "embedded": embedded,
        "mime": alert.resource_mime,
        "digest": alert.resource_digest,
    }


def status_json(status: AlertStatus) -> dict[str, Any]:
    zone = ZoneInfo(status.alert.owner.timezone)

    def airing(a: Any) -> dict[str, Any]:
        return {
            "start": _iso(a.start, zone),
            "expires": _iso(a.deadline, zone),
            "status": a.state,
            "received_at": _iso(a.received_at, zone),
            "started_at": _iso(a.started_at, zone),
            "ended_at": _iso(a.ended_at, zone),
            "reason": a.reason,
        }

    rows = []
    for row in status.rows:
        current = row.current
        rows.append(
            {
                "station": row.station.code,
                "name": row.station.name,
                "online": row.online,
                "status": row.state,
                "reason": current.reason if current is not None else None,
                "aired": row.aired,
                "airings": [airing(a) for a in row.airings],
            }
        )
    return {
        "progress": status.state,
        "total": status.total,
        "counts": status.counts,
        "stations": rows,
        "listed": len(rows),
    }


def visible(user: User, alert: Alert) -> None:
    # Until its audio is ready an alert has no broadcast: only its owner's area sees it.
    broadcast = alert.broadcast
    targets = (t.station for t in broadcast.targets) if broadcast is not None else ()
    if not permissions.can_see(user, alert.owner, targets):
        raise Forbidden(f"alert {alert.id} is outside your area")


def _answer(alert: Alert, code: int, **extra: Any) -> Response:
    body = {**alert_json(alert), **extra}
    response = jsonify(body)
    response.status_code = code
    response.headers["Location"] = f"/api/v1/alerts/{alert.id}"
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
        received = receive_cap(db, settings(), user, parse_cap(_cap_body()), now_utc())
    elif request.is_json:
        spec = AlertSpec.model_validate(json_object())
        received = Received(service.accept_alert(db, settings(), user, spec, now_utc()))
    else:
        raise UnsupportedMedia(
            "send a JSON object (Content-Type: application/json) or a CAP 1.2 message "
            "(Content-Type: application/cap+xml)"
        )
    db.commit()
    announce = alert_announcer()
    for gone in received.cancelled:
        announce(gone, True)
    cancelled = [a.id for a in received.cancelled]
    if received.duplicate:
        return _answer(received.alert, 200, duplicate=True, cancelled=cancelled)
    code = air_alert(received.alert)
    return _answer(received.alert, code, duplicate=False, cancelled=cancelled)


@bp.get("/alerts")
def list_alerts() -> Response:
    """Past and active alerts issued in the caller's area, newest first."""
    user = require_user()
    limit, offset = _page("limit", 50, MAX_LISTED), _page("offset", 0, 10**6)
    found = service.alerts_in(session(), user.station, limit, offset)
    return jsonify([alert_json(a) for a in found])


def _page(name: str, default: int, most: int) -> int:
    text = request.args.get(name)
    if text is None:
        return default
    if not text.isdigit() or int(text) > most:
        raise Invalid(f"{name}: give a whole number from 0 to {most}", name)
    return int(text)


def _visible_alert(alert_id: int) -> tuple[User, Alert]:
    """The caller and the alert they named, if it is in their area (401/403/404 otherwise)."""
    user = require_user()
    alert = service.get_alert(session(), alert_id)
    visible(user, alert)
    return user, alert


@bp.get("/alerts/<int:alert_id>")
def show_alert(alert_id: int) -> Response:
    _, alert = _visible_alert(alert_id)
    db = session()
    offline_after = timedelta(seconds=settings().offline_after_s)
    status = alert_status(db, alert, now_utc(), offline_after)
    return jsonify({**alert_json(alert), **status_json(status)})


@bp.get("/alerts/<int:alert_id>.cap")
def export_alert(alert_id: int) -> Response:
    """The alert as a CAP 1.2 message, for upstream systems (same visibility as JSON)."""
    _, alert = _visible_alert(alert_id)
    response = Response(to_cap(alert), mimetype=CAP_CONTENT_TYPE)
    response.headers["Content-Disposition"] = f'inline; filename="alert-{alert.id}.cap"'
    return response


@bp.post("/alerts/<int:alert_id>/translation")
def translate_alert(alert_id: int) -> Response:
    """Air a CAP alert that came without Vietnamese words with the words entered here."""
    user, alert = _visible_alert(alert_id)
    words = TextBody.model_validate(json_object()).text
    db = session()
    translate(db, settings(), user, alert, words, now_utc())
    db.commit()
    return _answer(alert, air_alert(alert))


@bp.delete("/alerts/<int:alert_id>")
def cancel_alert(alert_id: int) -> Response:
    user, alert = _visible_alert(alert_id)
    db = session()
    was_live = service.cancel_alert(db, user, alert, now_utc(), via="api")
    db.commit()
    if was_live:
        alert_announcer()(alert, True)
    return jsonify(alert_json(alert))
