"""Model → JSON. Instants are written in the relevant station's zone, with the offset."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.models import Broadcast, Program, Segment, Station
from scheduler.timeline import Entry


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def station(s: Station, now: datetime, offline_after: timedelta) -> dict[str, Any]:
    online = s.last_seen is not None and now - s.last_seen <= offline_after
    return {
        "code": s.code,
        "name": s.name,
        "station_name": s.station_name,
        "level": s.level,
        "parent": s.ancestor_codes[-2] if s.depth > 0 else None,
        "stream_url": s.stream_url,
        "timezone": s.timezone,
        "online": online,
        "last_seen": s.last_seen.isoformat() if s.last_seen else None,
        "schedule_revision": s.schedule_revision,
        "allowed_windows": s.allowed_windows,
        "max_sessions_per_day": s.max_sessions_per_day,
        "max_minutes_per_session": s.max_minutes_per_session,
        "map": s.admin_map,
        "active_from": s.active_from.isoformat() if s.active_from else None,
        "retired_on": s.retired_on.isoformat() if s.retired_on else None,
    }


def broadcast(b: Broadcast) -> dict[str, Any]:
    return {
        "id": b.id,
        "title": b.title,
        "owner": b.owner.code,
        "kind": b.kind.value,
        "program": b.program_id,
        "source": b.source.code if b.source else None,
        "stream_url": b.stream_url,
        "start": b.start_local.isoformat(),
        "timezone": b.timezone,
        "duration_s": b.duration_s,
        "rrule": b.rrule,
        "until": b.until.isoformat() if b.until else None,
        "exdates": sorted(x.isoformat() for x in b.exdates),
        "targets": b.target_codes,
        "priority": b.priority.value,
        "conflict": b.conflict.value,
        "max_delay_s": b.max_delay_s,
        "repeat_every_s": b.repeat_every_s,
        "repeat_count": b.repeat_count,
        "expires_at": b.expires_at.isoformat() if b.expires_at else None,
        "status": b.status.value,
        "created_at": b.created_at.isoformat(),
        "updated_at": b.updated_at.isoformat(),
        "approved_at": b.approved_at.isoformat() if b.approved_at else None,
        "cancelled_at": b.cancelled_at.isoformat() if b.cancelled_at else None,
        # A change waiting for approval; what is above stays on air until it is approved.
        "revision": b.revision,
        "revision_at": b.revision_at.isoformat() if b.revision_at else None,
    }


def entry(e: Entry, zone: ZoneInfo) -> dict[str, Any]:
    airing = e.occurrence.payload
    return {
        "start": e.start.astimezone(zone).isoformat(),
        "end": e.end.astimezone(zone).isoformat(),
        "title": airing.title,
        "kind": airing.kind,
        "priority": airing.priority,
        "origin": airing.origin,
        "broadcast": airing.broadcast,
        "outcome": e.outcome,
        "by": e.by,
        "scheduled_start": e.occurrence.start.astimezone(zone).isoformat(),
        "offset_ms": int(e.offset.total_seconds() * 1000),
        "source": airing.source,
        "stream_url": airing.stream_url,
        "program": airing.program,
    }


def segment(s: Segment) -> dict[str, Any]:
    media = s.media_file
    analysis = s.analysis or {}
    return {
        "id": s.id,
        "title": s.title,
        "owner": s.owner.code,
        "source": s.source,
        "status": s.status,
        "progress": s.progress,
        "error": s.error,
        "approval": s.approval,
        "rejected_reason": s.rejected_reason,
        "duration_ms": media.duration_ms if media else None,
        "loudness_lufs": analysis.get("loudness_after_lufs"),
        "sha256": media.sha256 if media else None,
        "audio_url": f"/api/v1/segments/{s.id}/audio" if media else None,
        "campaign": s.campaign.code if s.campaign else None,
        "topic": s.topic.code if s.topic else None,
        "original_name": s.original_name,
        "text": s.text,
        "spoken_text": s.spoken_text,
        "engine": s.engine,
        "voice": s.voice,
        "speed": s.speed,
        "analysis": analysis,
        "created_at": s.created_at.isoformat(),
        "approved_at": s.approved_at.isoformat() if s.approved_at else None,
        "published_at": s.published_at.isoformat() if s.published_at else None,
    }


def program(p: Program) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "owner": p.owner.code,
        "status": p.status,
        "error": p.error,
        "duration_ms": p.duration_ms,
        "sha256": p.media_file.sha256 if p.media_file else None,
        "audio_url": f"/api/v1/programs/{p.id}/audio" if p.media_file else None,
        "crossfade_ms": p.crossfade_ms,
        "items": [
            {"segment": i.segment_id} if i.segment_id is not None else {"silence_ms": i.silence_ms}
            for i in p.items
        ],
        "approved": all(i.segment.approved_at for i in p.items if i.segment is not None),
        "created_at": p.created_at.isoformat(),
    }
