"""Request bodies for every API module: a JSON object, or the one 400/415 saying why not."""

from __future__ import annotations

from typing import Any

from flask import request

from scheduler.errors import Invalid, UnsupportedMedia


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400 that says what is wrong with it."""
    if not request.is_json:
        raise UnsupportedMedia("send a JSON object with Content-Type: application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("the body is not a JSON object (malformed JSON?)")
    for key, value in body.items():
        if _has_nul(value):
            raise Invalid(f"{key}: text must not contain NUL characters", str(key))
    return body


def _has_nul(value: Any) -> bool:
    """NUL bytes are refused at the door: PostgreSQL cannot store them in text."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False
