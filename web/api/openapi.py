"""``GET /api/v1/openapi.json``: the contract of docs/api.md, machine-readable.

Request bodies come from the same pydantic models that validate them and answers from the
models in :mod:`web.api.schemas`, so the published schema cannot drift from what the server
accepts and says; ``tests/test_api_fuzz.py`` fuzzes the app against it. Every status an
operation can answer is declared: 401 without a token, 403 outside the caller's area or
role, 404 for an unknown id, 400 for a bad field, 413/415 for a body too large or of the
wrong type, 422 when the request is understood but refused.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel

from scheduler.alerts import AlertSpec
from scheduler.asrun import Heartbeat, PlayReport
from scheduler.broadcasts import BroadcastSpec
from scheduler.models import SegmentStatus
from scheduler.programs import ProgramSpec
from web.api import bp, schemas
from web.api.health import app_version
from web.api.segments import TtsSpec

REF = "#/components/schemas/{model}"
JSON = "application/json"
MP3 = "audio/mpeg"
AUTH = (401,)  # every operation but health and the spec itself
BODY = (400, 413, 415)  # an operation that reads a JSON body
NUL = (400,)  # a NUL character anywhere in the request is refused at the door (web.panel)
USER = "bearer"


def _ref(model: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=model)}


def _json(model: str, *, many: bool = False) -> dict[str, Any]:
    schema = {"type": "array", "items": _ref(model)} if many else _ref(model)
    return {"content": {JSON: {"schema": schema}}}


def _file(*types: str) -> dict[str, Any]:
    return {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in types}}


def _op(
    summary: str,
    answers: dict[int, dict[str, Any]],
    *,
    errors: tuple[int, ...] = (),
    body: dict[str, Any] | str | None = None,
    params: tuple[dict[str, Any], ...] = (),
    security: str | None = USER,
) -> dict[str, Any]:
    """One operation: its answers (status → content), and every error status it can give."""
    codes = sorted({*errors, *(AUTH if security else ()), *(BODY if body else ()), *NUL})
    responses = {
        str(code): {"description": _said(code), **content} for code, content in answers.items()
    }
    for code in codes:
        responses.setdefault(str(code), {"description": _said(code), **_json("Error")})
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    op["security"] = [{security: []}] if security else []
    if isinstance(body, str):
        op["requestBody"] = {"required": True, **_json(body)}
    elif body is not None:
        op["requestBody"] = body
    if params:
        op["parameters"] = list(params)
    return op


SAID = {
    200: "ok",
    201: "created",
    202: "accepted: being prepared",
    206: "part of the file",
    304: "not modified (If-None-Match)",
    400: "a field is wrong (field names it)",
    401: "no valid token",
    403: "outside the caller's area or role",
    404: "not found",
    409: "clashes with another broadcast",
    413: "too large",
    415: "wrong content type",
    416: "range not satisfiable",
    422: "understood but refused",
    503: "a service it needs is unavailable",
}


def _said(code: int) -> str:
    return SAID.get(code, "see the error")


def _path(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    param = {"name": name, "in": "query", "required": False, "schema": schema}
    if description:
        param["description"] = description
    return param


STRING = {"type": "string"}
DATE = {"type": "string", "format": "date"}
CODE = {**_path("code"), "example": "13285"}  # Phường Quang Trung, Phủ Lý (Hà Nam)
ID = _path("id", {"type": "integer", "minimum": 0})
DAYS = (
    _query("from", DATE, "first local day (default today)"),
    _query("to", DATE, "last local day, inclusive (default from)"),
)
REPORT = (
    _query("station", STRING, "the subtree's root (default the caller's station)"),
    _query("from", DATE, "first day (default this week's Monday)"),
    _query("to", DATE, "last day, inclusive (default today)"),
    _query("kind", {"type": "string", "enum": ["relay", "program"]}),
    _query("origin", STRING, "only broadcasts scheduled by this station"),
    _query("campaign", STRING, "a campaign's code"),
)
FORMAT = _path("fmt", {"type": "string", "enum": ["json", "csv", "xlsx"]})
SPREADSHEETS = {
    JSON: {"schema": {}},
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    },
}
ETAG = _query(
    "wait",
    {"type": "number", "minimum": 0, "maximum": 3600},
    "hold the request up to this many seconds while If-None-Match is current",
)
PAGE = (
    _query("limit", {"type": "integer", "minimum": 0, "maximum": 200}),
    _query("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000}),
)
SEGMENT_FILTERS = (
    _query("status", {"type": "string", "enum": [s.value for s in SegmentStatus]}),
    _query("owner", STRING),
    _query("campaign", STRING),
    _query("topic", STRING),
    _query(
        "alerts", {"type": "string", "enum": ["0", "1", "true", "false"]}, "include alert audio"
    ),
)
SPOKEN_BODY = "TextBody"
REQUESTS: tuple[type[BaseModel], ...] = (
    AlertSpec,
    BroadcastSpec,
    ProgramSpec,
    TtsSpec,
    PlayReport,
    Heartbeat,
    schemas.TextBody,
    schemas.RejectBody,
)
ALERT_BODY = {
    "required": True,
    "content": {
        JSON: {"schema": _ref("AlertSpec")},
        "application/cap+xml": {
            "schema": {
                "type": "string",
                "description": "a CAP 1.2 <alert>: see the README table 'CAP: from urgency "
                "and severity to the air' for what each message does",
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
PLAYS_BODY = {
    "required": True,
    "content": {JSON: {"schema": {"type": "array", "items": _ref("PlayReport"), "maxItems": 1000}}},
}
MANIFEST_ANSWERS = {200: _json("ManifestBody"), 304: {}}
AUDIO_ANSWERS = {200: _file(MP3), 206: _file(MP3), 304: {}}  # ranges, conditional requests


def _schemas() -> dict[str, Any]:
    """Every model's JSON schema: request models as a client may send them, answers as the
    server writes them (pydantic's serialization mode)."""
    found: dict[str, Any] = {}
    for model in (*REQUESTS, *schemas.ANSWERS):
        request = model in REQUESTS
        schema = model.model_json_schema(
            ref_template=REF, mode="validation" if request else "serialization"
        )
        found.update(schema.pop("$defs", {}))
        found[model.__name__] = schema
    return found


def _report(name: str, model: str, summary: str) -> dict[str, Any]:
    """A report's two addresses: JSON (or CSV by ``Accept``), and ``.json|.csv|.xlsx``."""
    answer = {"content": {**SPREADSHEETS, JSON: {"schema": _ref(model)}}}
    errors = (400, 403, 404)
    return {
        f"/api/v1/reports/{name}": {
            "get": _op(f"{summary} (Accept: text/csv)", {200: answer}, errors=errors, params=REPORT)
        },
        f"/api/v1/reports/{name}.{{fmt}}": {
            "parameters": [FORMAT],
            "get": _op(
                f"{summary}, as JSON, CSV or XLSX",
                {200: {"content": SPREADSHEETS}},
                errors=errors,
                params=REPORT,
            ),
        },
    }


def _paths() -> dict[str, Any]:
    alert = _json("Alert")
    return {
        "/api/v1/health": {
            "get": _op(
                "Liveness and database check",
                {200: _json("Health"), 503: _json("Health")},
                security=None,
            ),
        },
        "/api/v1/openapi.json": {
            "get": _op("This document", {200: {"content": {JSON: {"schema": {}}}}}, security=None),
        },
        "/api/v1/stations": {
            "get": _op("Stations in the caller's subtree", {200: _json("Station", many=True)}),
        },
        "/api/v1/stations/{code}": {
            "parameters": [CODE],
            "get": _op(
                "One station with its children and lineage",
                {200: _json("StationDetail")},
                errors=(403, 404),
            ),
        },
        "/api/v1/stations/{code}/timeline": {
            "parameters": [CODE],
            "get": _op(
                "Resolved timeline over whole local days",
                {200: _json("TimelineEntry", many=True)},
                errors=(400, 403, 404),
                params=DAYS,
            ),
        },
        "/api/v1/stations/{code}/plays": {
            "parameters": [CODE],
            "get": _op(
                "Play logs received from the station's agent",
                {200: _json("Play", many=True)},
                errors=(400, 403, 404),
                params=DAYS,
            ),
        },
        "/api/v1/broadcasts": {
            "post": _op(
                "Create a broadcast",
                {201: _json("Broadcast")},
                body="BroadcastSpec",
                errors=(403, 404, 409, 422),
            ),
        },
        "/api/v1/broadcasts/{id}": {
            "parameters": [ID],
            "get": _op("One broadcast", {200: _json("Broadcast")}, errors=(403, 404)),
            "patch": _op(
                "Change a broadcast (same fields)",
                {200: _json("Broadcast")},
                body="BroadcastSpec",
                errors=(403, 404, 409, 422),
            ),
            "delete": _op(
                "Cancel a broadcast (history kept)",
                {200: _json("Broadcast")},
                errors=(403, 404, 422),
            ),
        },
        "/api/v1/broadcasts/{id}/approve": {
            "parameters": [ID],
            "post": _op(
                "Approve a broadcast (approvers and admins)",
                {200: _json("Broadcast")},
                errors=(403, 404, 409, 422),
            ),
        },
        "/api/v1/alerts": {
            "get": _op(
                "The area's alerts, newest first",
                {200: _json("Alert", many=True)},
                errors=(400,),
                params=PAGE,
            ),
            "post": _op(
                "Issue an alert (approvers and admins): JSON, or a CAP 1.2 message",
                {200: _json("IssuedAlert"), 201: _json("IssuedAlert"), 202: _json("IssuedAlert")},
                body=ALERT_BODY,
                errors=(403, 404, 422, 503),
            ),
        },
        "/api/v1/alerts/{id}": {
            "parameters": [ID],
            "get": _op(
                "One alert with what each station reported",
                {200: _json("AlertWithStatus")},
                errors=(403, 404),
            ),
            "delete": _op(
                "Cancel an alert (approvers and admins; history kept)",
                {200: alert},
                errors=(403, 404, 422),
            ),
        },
        "/api/v1/alerts/{id}.cap": {
            "parameters": [ID],
            "get": _op(
                "The alert as a CAP 1.2 message",
                {200: {"content": {"application/cap+xml": {"schema": STRING}}}},
                errors=(403, 404),
            ),
        },
        "/api/v1/alerts/{id}/translation": {
            "parameters": [ID],
            "post": _op(
                "Air a CAP alert that came without Vietnamese words, with these",
                {201: alert, 202: alert},
                body=SPOKEN_BODY,
                errors=(403, 404, 422, 503),
            ),
        },
        "/api/v1/segments": {
            "get": _op(
                "Segments in the caller's area, newest first (at most 500)",
                {200: _json("Segment", many=True)},
                params=SEGMENT_FILTERS,
            ),
            "post": _op(
                "Upload a recording",
                {201: _json("Segment"), 202: _json("Segment")},
                body=UPLOAD,
                errors=(403, 404, 422, 503),
            ),
        },
        "/api/v1/segments/tts": {
            "post": _op(
                "Write a bulletin spoken by TTS",
                {201: _json("Segment"), 202: _json("Segment")},
                body="TtsSpec",
                errors=(403, 404, 422, 503),
            ),
        },
        "/api/v1/segments/{id}": {
            "parameters": [ID],
            "get": _op("One segment with its analysis", {200: _json("Segment")}, errors=(403, 404)),
        },
        "/api/v1/segments/{id}/audio": {
            "parameters": [ID],
            "get": _op(
                "The normalised audio (Range supported)", AUDIO_ANSWERS, errors=(403, 404, 416)
            ),
        },
        **{
            f"/api/v1/segments/{{id}}/{action}": {
                "parameters": [ID],
                "post": _op(summary, {200: _json("Segment")}, errors=(403, 404, 422)),
            }
            for action, summary in (
                ("approve", "Approve (approvers and admins)"),
                ("publish", "Put an approved bulletin on the public feed (approvers, admins)"),
                ("unpublish", "Take it off the public feed (approvers and admins)"),
            )
        },
        "/api/v1/segments/{id}/reject": {
            "parameters": [ID],
            "post": _op(
                "Reject with a reason",
                {200: _json("Segment")},
                body="RejectBody",
                errors=(403, 404, 422),
            ),
        },
        "/api/v1/tts/normalize": {
            "post": _op("What the voice will read", {200: _json("Text")}, body=SPOKEN_BODY),
        },
        "/api/v1/tts/engines": {
            "get": _op("TTS engines, availability and voices", {200: _json("Engine", many=True)}),
        },
        "/api/v1/programs": {
            "post": _op(
                "Build and render a programme",
                {201: _json("Program"), 202: _json("Program")},
                body="ProgramSpec",
                errors=(403, 404, 422),
            ),
        },
        "/api/v1/programs/{id}": {
            "parameters": [ID],
            "get": _op("One programme", {200: _json("Program")}, errors=(403, 404)),
        },
        "/api/v1/programs/{id}/audio": {
            "parameters": [ID],
            "get": _op(
                "The rendered audio (Range supported)", AUDIO_ANSWERS, errors=(403, 404, 416)
            ),
        },
        **_report("compliance", "Compliance", "Planned against aired, per station of a subtree"),
        **_report(
            "campaign", "Campaign", "One campaign's broadcasts, airings and minutes per topic"
        ),
        "/api/v1/reports/airings": {
            "get": _op(
                "One airing station's planned airings and what its agent reported",
                {200: _json("Airings")},
                errors=(400, 403, 404),
                params=REPORT,
            ),
        },
        "/api/v1/agent/manifest": {
            "get": _op(
                "The station's timeline for the next 48 h with media (ETag, 304)",
                MANIFEST_ANSWERS,
                errors=(400,),
                params=(ETAG,),
            ),
        },
        "/api/v1/media/{sha256}": {
            "parameters": [_path("sha256")],
            "get": _op(
                "A media file named by the manifest (Range, immutable)",
                AUDIO_ANSWERS,
                errors=(403, 404, 416),
            ),
        },
        "/api/v1/agent/plays": {
            "post": _op(
                "Upload play logs (idempotent by id)",
                {200: _json("PlaysAccepted")},
                body=PLAYS_BODY,
            ),
        },
        "/api/v1/agent/heartbeat": {
            "post": _op(
                "Agent status; answers the server time",
                {200: _json("HeartbeatAnswer")},
                body="Heartbeat",
            ),
        },
        "/stations/{code}/schedule.ics": {
            "parameters": [CODE],
            "get": _op(
                "iCalendar feed of the station's timeline (ETag, 304)",
                {200: {"content": {"text/calendar": {"schema": STRING}}}, 304: {}},
                errors=(403, 404),
                params=(
                    _query(
                        "token",
                        STRING,
                        "a personal API token, for calendar apps that cannot send a header",
                    ),
                ),
            ),
        },
    }


def spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loa Xã API", "version": app_version()},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": _paths(),
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(spec())
