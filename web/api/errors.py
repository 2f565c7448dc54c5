"""One error shape for the API: ``{"error": "<sentence>", "field": "<name>"?}``.

Domain errors carry their status; validation errors name the first bad field; anything
unexpected is logged and answered with a plain 500 that leaks nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from audio.errors import AudioError
from audio.tts.base import TtsError
from scheduler.errors import DomainError
from web.api import bp
from web.api.serialize import jsonable


def error_response(status: int, message: str, field: str | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {"error": message}
    if field:
        body["field"] = field
    body.update(jsonable(extra))
    response = jsonify(body)
    response.status_code = status
    return response


@bp.errorhandler(DomainError)
def _domain(exc: DomainError) -> Response:
    return error_response(exc.status, exc.message, exc.field, **exc.details)


@bp.errorhandler(AudioError)
def _audio(exc: AudioError) -> Response:
    return error_response(exc.status, str(exc))


@bp.errorhandler(TtsError)
def _tts(exc: TtsError) -> Response:
    return error_response(503, str(exc))


@bp.app_errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Response | HTTPException:
    if not request.path.startswith("/api/"):
        return exc
    limit = current_app.extensions["loaxa"]["settings"].max_upload_mb
    return error_response(413, f"Tệp quá lớn: tối đa {limit} MB.", "file")


@bp.errorhandler(ValidationError)
def _validation(exc: ValidationError) -> Response:
    return validation_response(exc)


def _field_path(loc: tuple[int | str, ...]) -> str | None:
    """``("exdates", 0, "date")`` → ``"exdates.0"``: the request's own field, without the
    names of the union branches pydantic tried."""
    if not loc:
        return None
    parts = [str(loc[0])]
    parts.extend(str(p) for p in loc[1:] if isinstance(p, int))
    return ".".join(parts)


def validation_response(exc: ValidationError) -> Response:
    error = exc.errors(include_url=False)[0]
    field = _field_path(error["loc"])
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "is not a known field"
    elif error["type"] == "missing":
        message = "is required"
    return error_response(400, f"{field}: {message}" if field else message, field)


@bp.app_errorhandler(HTTPException)
def _http(exc: HTTPException) -> Response | HTTPException:
    if not request.path.startswith("/api/"):
        return exc
    return error_response(exc.code or 500, exc.description or exc.name)


@bp.app_errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(500, "internal error; the administrator can find it in the server log")
