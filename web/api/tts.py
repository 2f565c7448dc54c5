"""TTS helpers for editors (docs/api.md "Segments"): what the voice will read, the engines."""

from __future__ import annotations

from flask import Response, jsonify

from audio.tts.normalize_vi import normalize
from audio.tts.registry import engines_info
from scheduler.errors import Invalid
from scheduler.readings import reading_table
from web.api import bp
from web.api.auth import require_user
from web.api.bodies import json_object
from web.db import session, settings


@bp.post("/tts/normalize")
def tts_normalize() -> Response:
    require_user()
    text = json_object().get("text")
    if not isinstance(text, str):
        raise Invalid("text: send the bulletin text as a string", "text")
    if len(text) > settings().tts_max_chars:
        raise Invalid(f"text: at most {settings().tts_max_chars} characters", "text")
    return jsonify({"text": normalize(text, reading_table(session()))})


@bp.get("/tts/engines")
def tts_engines() -> Response:
    require_user()
    return jsonify(engines_info(settings()))
