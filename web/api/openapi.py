"""``GET /api/v1/openapi.json``: the contract of docs/api.md, machine-readable.

Request bodies come from the same pydantic models that validate them, so the published
schema cannot drift from what the server accepts.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from scheduler.alerts import AlertSpec
from scheduler.broadcasts import BroadcastSpec
from scheduler.programs import ProgramSpec
from web.api import bp
from web.api.health import app_version

REF = "#/components/schemas/{model}"


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": REF.format(model=schema)}}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "error", **_json("Error")} for c in codes}


def _op(
    summary: str,
    ok: str = "200",
    body: str | None = None,
    errors: tuple[int, ...] = (401, 403, 404),
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {ok: {"description": "ok"}, **_errors(*errors)},
        "security": [{"bearer": []}],
    }
    if body:
        op["requestBody"] = {"required": True, **_json(body)}
    return op


CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
DAYS = [
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
]


ALERT_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"$ref": REF.format(model="AlertSpec")}},
        "application/cap+xml": {
            "schema": {
                "type": "string",
                "description": "a CAP 1.2 <alert>: info/headline → title, description and "
                "instruction → text, area/geocode valueName loaxa → targets, expires; "
                "msgType Cancel/Update with references cancels an earlier alert",
            }
        },
    },
}

UPLOAD = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file", "title"],
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "title": {"type": "string"},
                    "owner": {"type": "string"},
                    "campaign": {"type": "string"},
                    "topic": {"type": "string"},
                },
            }
        }
    },
}


def _schemas() -> dict[str, Any]:
    from web.api.segments import TtsSpec

    schemas: dict[str, Any] = {}
    for model in (AlertSpec, BroadcastSpec, ProgramSpec, TtsSpec):
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def spec() -> dict[str, Any]:
    health = _op("Liveness and database check", errors=(503,))
    health["security"] = []
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loa Xã API", "version": app_version()},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
                },
                **_schemas(),
            },
        },
        "paths": {
            "/api/v1/health": {"get": health},
            "/api/v1/stations": {"get": _op("Stations in the caller's subtree")},
            "/api/v1/stations/{code}": {
                "parameters": [CODE],
                "get": _op("One station with its children"),
            },
            "/api/v1/stations/{code}/timeline": {
                "parameters": [CODE, *DAYS],
                "get": _op("Resolved timeline over whole local days", errors=(400, 401, 403, 404)),
            },
            "/api/v1/stations/{code}/plays": {
                "parameters": [CODE, *DAYS],
                "get": _op("Play logs received from the station's agent"),
            },
            "/api/v1/broadcasts": {
                "post": _op(
                    "Create a broadcast", "201", "BroadcastSpec", (400, 401, 403, 409, 422)
                ),
            },
            "/api/v1/broadcasts/{id}": {
                "parameters": [ID],
                "get": _op("One broadcast"),
                "patch": _op(
                    "Change a broadcast (same fields)",
                    "200",
                    "BroadcastSpec",
                    (400, 401, 403, 404, 409, 422),
                ),
                "delete": _op("Cancel a broadcast (history kept)"),
            },
            "/api/v1/broadcasts/{id}/approve": {
                "parameters": [ID],
                "post": _op(
                    "Approve a broadcast (approvers and admins)", errors=(401, 403, 404, 422)
                ),
            },
            "/api/v1/alerts": {
                "post": {
                    **_op(
                        "Issue an emergency alert that airs now (approvers and admins)",
                        "201",
                        None,
                        (400, 401, 403, 404, 413, 415, 422, 503),
                    ),
                    "requestBody": ALERT_BODY,
                },
            },
            "/api/v1/alerts/{id}": {
                "parameters": [ID],
                "get": _op("One alert with every airing's start"),
                "delete": _op("Cancel an alert (approvers and admins; history kept)"),
            },
            "/api/v1/segments": {
                "get": _op(
                    "Segments in the caller's area (filters: status, owner, campaign, topic)"
                ),
                "post": {
                    **_op("Upload a recording", "201", None, (400, 401, 403, 413, 415, 422)),
                    "requestBody": UPLOAD,
                },
            },
            "/api/v1/segments/tts": {
                "post": _op(
                    "Write a bulletin spoken by TTS", "201", "TtsSpec", (400, 401, 403, 413, 503)
                ),
            },
            "/api/v1/segments/{id}": {
                "parameters": [ID],
                "get": _op("One segment with its analysis"),
            },
            "/api/v1/segments/{id}/audio": {
                "parameters": [ID],
                "get": _op("The normalised audio (Range supported)"),
            },
            "/api/v1/segments/{id}/approve": {
                "parameters": [ID],
                "post": _op("Approve (approvers and admins)", errors=(401, 403, 404, 422)),
            },
            "/api/v1/segments/{id}/reject": {
                "parameters": [ID],
                "post": _op("Reject with a reason", errors=(400, 401, 403, 404)),
            },
            "/api/v1/tts/normalize": {"post": _op("What the voice will read", errors=(400, 401))},
            "/api/v1/tts/engines": {
                "get": _op("TTS engines, availability and voices", errors=(401,))
            },
            "/api/v1/programs": {
                "post": _op(
                    "Build and render a programme", "201", "ProgramSpec", (400, 401, 403, 422)
                ),
            },
            "/api/v1/programs/{id}": {"parameters": [ID], "get": _op("One programme")},
            "/api/v1/programs/{id}/audio": {"parameters": [ID], "get": _op("The rendered audio")},
            "/api/v1/agent/manifest": {
                "get": _op(
                    "The station's timeline for the next 48 h with media (ETag, 304)", errors=(401,)
                ),
            },
            "/api/v1/media/{sha256}": {
                "parameters": [
                    {"name": "sha256", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "get": _op(
                    "A media file named by the manifest (Range, immutable)", errors=(401, 403, 404)
                ),
            },
            "/api/v1/agent/plays": {
                "post": _op("Upload play logs (idempotent by id)", errors=(400, 401))
            },
            "/api/v1/agent/heartbeat": {
                "post": _op("Agent status; answers the server time", errors=(400, 401))
            },
            "/stations/{code}/schedule.ics": {
                "parameters": [CODE],
                "get": _op("iCalendar feed of the station's timeline"),
            },
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(spec())
