"""Segments (docs/api.md "Segments"): uploads, TTS bulletins, their audio, approval."""

from __future__ import annotations

import re

from flask import Response, jsonify, request, send_file
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from scheduler import permissions
from scheduler import segments as service
from scheduler.db import now_utc
from scheduler.errors import Forbidden, Invalid, NotFound, TooLarge
from scheduler.models import Campaign, Segment, SegmentStatus, Station, Topic
from web.api import bp, serialize
from web.api.auth import require_user
from web.api.bodies import json_object
from web.db import jobs, session, settings
from web.ingest import commit, store_file


class TtsSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=300)
    text: str
    engine: str | None = Field(None, pattern=r"^(gtts|espeak)$")
    voice: str | None = Field(None, pattern=r"^(north|central|south)$")
    speed: float = Field(1.0, ge=0.5, le=2.0)
    campaign: str | None = Field(None, max_length=64)
    topic: str | None = Field(None, max_length=64)
    owner: str | None = Field(None, max_length=32)


def check_text(text: str) -> str:
    """Empty or punctuation-only text → 400; longer than allowed → 413."""
    text = text.strip()
    if not re.search(r"\w", text):
        raise Invalid("text: Văn bản trống hoặc chỉ có dấu câu, không có gì để đọc.", "text")
    limit = settings().tts_max_chars
    if len(text) > limit:
        raise TooLarge(f"text: Văn bản quá dài ({len(text)} ký tự, tối đa {limit}).", "text")
    return text


def _answer(segment: Segment) -> Response:
    response = jsonify(serialize.segment(segment))
    response.status_code = 201 if segment.status == SegmentStatus.ready else 202
    response.headers["Location"] = f"/api/v1/segments/{segment.id}"
    return response


@bp.post("/segments")
def upload_segment() -> Response:
    user = require_user()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid("file: Chưa chọn tệp âm thanh để tải lên.", "file")
    db = session()
    form = request.form
    meta = service.prepare(
        db, user, form.get("title", ""), form.get("owner"), form.get("campaign"), form.get("topic")
    )
    return _answer(store_file(user, meta, upload))


@bp.post("/segments/tts")
def tts_segment() -> Response:
    user = require_user()
    spec = TtsSpec.model_validate(json_object())
    text = check_text(spec.text)
    db = session()
    meta = service.prepare(db, user, spec.title, spec.owner, spec.campaign, spec.topic)
    stored = service.speak_bulletin(
        db,
        settings(),
        user,
        meta,
        text,
        now_utc(),
        jobs=jobs(),
        engine=spec.engine,
        voice=spec.voice,
        speed=spec.speed,
    )
    return _answer(commit(stored))


def _visible_segment(segment_id: int) -> Segment:
    user = require_user()
    segment = service.get_segment(session(), segment_id)
    if not permissions.can_use(user, segment.owner):
        raise Forbidden(f"segment {segment.id} belongs to another area")
    return segment


@bp.get("/segments")
def list_segments() -> Response:
    user = require_user()
    query = (
        select(Segment)
        .join(Station, Segment.owner_id == Station.id)
        .where(Station.path.startswith(user.station.path, autoescape=True))
        .order_by(Segment.created_at.desc(), Segment.id.desc())
        .limit(500)
    )
    args = request.args
    if args.get("alerts") not in ("1", "true"):  # alert audio only when asked for
        query = query.where(~Segment.for_alert)
    if args.get("status"):
        if args["status"] not in SegmentStatus.__members__:
            known = ", ".join(SegmentStatus)
            raise Invalid(f"status: one of {known}", "status")
        query = query.where(Segment.status == SegmentStatus(args["status"]))
    if args.get("owner"):
        query = query.where(Station.code == args["owner"])
    if args.get("campaign"):
        query = query.join(Campaign, Segment.campaign_id == Campaign.id).where(
            Campaign.code == args["campaign"]
        )
    if args.get("topic"):
        query = query.join(Topic, Segment.topic_id == Topic.id).where(Topic.code == args["topic"])
    return jsonify([serialize.segment(s) for s in session().scalars(query)])


@bp.get("/segments/<int:segment_id>")
def show_segment(segment_id: int) -> Response:
    return jsonify(serialize.segment(_visible_segment(segment_id)))


@bp.get("/segments/<int:segment_id>/audio")
def segment_audio(segment_id: int) -> Response:
    segment = _visible_segment(segment_id)
    if segment.media_file is None:
        raise NotFound(f"segment {segment.id} has no audio yet ({segment.status})")
    path = service.store_for(settings()).path_for(segment.media_file.sha256)
    return send_file(
        path, mimetype="audio/mpeg", conditional=True, download_name=f"segment-{segment.id}.mp3"
    )


@bp.post("/segments/<int:segment_id>/approve")
def approve_segment(segment_id: int) -> Response:
    user = require_user()
    db = session()
    segment = service.get_segment(db, segment_id)
    service.approve(db, user, segment, now_utc())
    db.commit()
    return jsonify(serialize.segment(segment))


@bp.post("/segments/<int:segment_id>/publish")
def publish_segment(segment_id: int) -> Response:
    """Approvers put an approved bulletin on the public feed (``/feeds/bulletins.rss``)."""
    user = require_user()
    db = session()
    segment = service.get_segment(db, segment_id)
    service.publish(db, user, segment, now_utc())
    db.commit()
    return jsonify(serialize.segment(segment))


@bp.post("/segments/<int:segment_id>/unpublish")
def unpublish_segment(segment_id: int) -> Response:
    user = require_user()
    db = session()
    segment = service.get_segment(db, segment_id)
    service.unpublish(db, user, segment, now_utc())
    db.commit()
    return jsonify(serialize.segment(segment))


@bp.post("/segments/<int:segment_id>/reject")
def reject_segment(segment_id: int) -> Response:
    user = require_user()
    db = session()
    segment = service.get_segment(db, segment_id)
    reason = json_object().get("reason")
    service.reject(db, user, segment, reason if isinstance(reason, str) else "", now_utc())
    db.commit()
    return jsonify(serialize.segment(segment))
