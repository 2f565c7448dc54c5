"""Programmes (docs/api.md "Programs"): build from segments and silences; rendered to one file."""

from __future__ import annotations

from flask import Response, jsonify, send_file

from scheduler import permissions
from scheduler import programs as service
from scheduler.db import now_utc
from scheduler.errors import Forbidden, NotFound
from scheduler.models import ProgramStatus
from scheduler.segments import store_for
from web.api import bp, serialize
from web.api.auth import require_user
from web.api.bodies import json_object
from web.db import queue_job, session, sessions, settings

# Programmes whose segments add up to less than this are rendered inside the request.
SYNC_RENDER_MS = 5 * 60 * 1000


@bp.post("/programs")
def create_program() -> Response:
    user = require_user()
    spec = service.ProgramSpec.model_validate(json_object())
    db = session()
    program = service.create_program(db, user, spec, now_utc())
    total = sum(
        i.segment.media_file.duration_ms
        for i in program.items
        if i.segment is not None and i.segment.media_file is not None
    )
    if total <= SYNC_RENDER_MS:
        db.commit()
        service.render_job(sessions(), settings(), program.id)
        db.expire_all()
        program = service.get_program(db, program.id)
    else:
        queue_job(db, "render", program=program.id)
    body = serialize.program(program)
    if program.status == ProgramStatus.failed:  # nothing to air; say why, as for a bad upload
        body["error"] = program.error or "render failed"
    response = jsonify(body)
    response.status_code = {"ready": 201, "failed": 422}.get(program.status, 202)
    response.headers["Location"] = f"/api/v1/programs/{program.id}"
    return response


@bp.get("/programs/<int:program_id>")
def show_program(program_id: int) -> Response:
    user = require_user()
    program = service.get_program(session(), program_id)
    if not permissions.can_use(user, program.owner):
        raise Forbidden(f"programme {program.id} belongs to another area")
    return jsonify(serialize.program(program))


@bp.get("/programs/<int:program_id>/audio")
def program_audio(program_id: int) -> Response:
    user = require_user()
    program = service.get_program(session(), program_id)
    if not permissions.can_use(user, program.owner):
        raise Forbidden(f"programme {program.id} belongs to another area")
    if program.media_file is None:
        raise NotFound(f"programme {program.id} has no audio yet ({program.status})")
    path = store_for(settings()).path_for(program.media_file.sha256)
    return send_file(
        path, mimetype="audio/mpeg", conditional=True, download_name=f"program-{program.id}.mp3"
    )
