"""Programmes: an ordered list of segments and silences, rendered to one media file."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.orm import Session, sessionmaker

from audio.errors import AudioError
from audio.pipeline import Ingested
from audio.render import RenderItem, render_program
from audio.store import MediaStore
from config import Settings
from scheduler import audit, permissions
from scheduler.db import MAX_ID, now_utc
from scheduler.errors import Invalid, NotFound, Unprocessable
from scheduler.models import Program, ProgramItem, ProgramStatus, Segment, SegmentStatus, User
from scheduler.segments import media_for, store_for
from scheduler.stations import stations_by_code

MAX_SILENCE_MS = 10 * 60 * 1000


def unapproved_segments(program: Program) -> list[int]:
    """Ids of the programme's bulletins not yet approved (it cannot air while any is)."""
    return sorted({i.segment.id for i in program.items if i.segment and not i.segment.approved_at})


class ItemSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment: int | None = Field(None, ge=1, le=MAX_ID)
    silence_ms: int | None = Field(None, ge=1, le=MAX_SILENCE_MS)

    @model_validator(mode="after")
    def _one_of(self) -> ItemSpec:
        if (self.segment is None) == (self.silence_ms is None):
            raise ValueError('each item is either {"segment": id} or {"silence_ms": n}')
        return self


class ProgramSpec(BaseModel):
    """A programme as an editor writes it (docs/api.md ``POST /api/v1/programs``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=300)
    owner: str | None = Field(None, max_length=32)
    items: list[ItemSpec] = Field(min_length=1, max_length=200)
    crossfade_ms: int = Field(0, ge=0, le=5000)


def create_program(session: Session, actor: User, spec: ProgramSpec, now: datetime) -> Program:
    """Validate and save; the caller submits :func:`render_job` to make the audio."""
    owner = stations_by_code(session, [spec.owner], "owner")[0] if spec.owner else actor.station
    permissions.require_author(actor, owner)
    items = []
    for position, item in enumerate(spec.items):
        if item.segment is None:
            items.append(ProgramItem(position=position, silence_ms=item.silence_ms))
            continue
        segment = session.get(Segment, item.segment)  # bounded by ItemSpec
        if segment is None:
            raise Invalid(
                f"items.{position}: there is no segment {item.segment}", f"items.{position}"
            )
        if not permissions.can_use(actor, segment.owner):
            raise Invalid(
                f"items.{position}: segment {segment.id} belongs to another area",
                f"items.{position}",
            )
        if segment.status != SegmentStatus.ready or segment.media_file is None:
            raise Unprocessable(
                f"items.{position}: segment {segment.id} is {segment.status}, not ready audio",
                f"items.{position}",
            )
        if segment.archived_at is not None:
            raise Unprocessable(
                f"items.{position}: segment {segment.id} is archived; restore it to use it",
                f"items.{position}",
            )
        items.append(ProgramItem(position=position, segment=segment))
    if not any(i.segment is not None for i in items):
        raise Invalid("items: a programme needs at least one segment", "items")
    program = Program(
        title=spec.title,
        owner=owner,
        created_by_id=actor.id,
        status=ProgramStatus.rendering,
        crossfade_ms=spec.crossfade_ms,
        created_at=now,
        items=items,
    )
    session.add(program)
    session.flush()
    audit.record(session, now, actor, "program.create", program, owner.id, title=spec.title)
    return program


def _plan(program: Program, store: MediaStore) -> list[RenderItem]:
    return [
        RenderItem(store.path_for(i.segment.media_file.sha256), 0)
        if i.segment is not None and i.segment.media_file is not None
        else RenderItem(None, i.silence_ms or 0)
        for i in program.items
    ]


def _render(plan: list[RenderItem], settings: Settings, crossfade_ms: int) -> Ingested | str:
    """The rendered audio, or the reason it could not be made."""
    try:
        return render_program(plan, settings, store_for(settings), crossfade_ms=crossfade_ms)
    except AudioError as exc:
        return exc.message


def _apply(session: Session, program: Program, done: Ingested | str) -> None:
    if isinstance(done, str):
        program.status, program.error = ProgramStatus.failed, done
        return
    program.media_file = media_for(session, done, now_utc())
    program.duration_ms = done.duration_ms
    program.status, program.error = ProgramStatus.ready, None


def render_now(session: Session, settings: Settings, program: Program) -> None:
    """Render inside the caller's transaction (demo data, scripts)."""
    _apply(
        session,
        program,
        _render(_plan(program, store_for(settings)), settings, program.crossfade_ms),
    )


def use_segment_audio(session: Session, settings: Settings, program: Program) -> bool:
    """Give a programme of exactly one segment (no silence, no crossfade) that segment's own
    file instead of rendering it; True when it did. The segment already went through the
    same normalisation, limiting and encoding a render applies, so rendering it again (0.7 s
    for an alert, inside the request) would only re-encode what is there. The programme ends
    as a render leaves it: ready, no error, the file's duration and media row."""
    items = program.items
    if len(items) != 1 or program.crossfade_ms or items[0].silence_ms:
        return False
    media = items[0].segment.media_file if items[0].segment is not None else None
    if media is None:
        return False
    path = store_for(settings).path_for(media.sha256)
    _apply(
        session,
        program,
        Ingested(media.sha256, path, media.bytes, media.duration_ms, dict(media.analysis or {})),
    )
    return True


def render_job(sessions: sessionmaker[Session], settings: Settings, program_id: int) -> None:
    """Render the programme's audio outside any transaction; record the result after."""
    with sessions() as session:
        program = session.get(Program, program_id)
        if program is None:
            return
        plan, crossfade = _plan(program, store_for(settings)), program.crossfade_ms
    done = _render(plan, settings, crossfade)
    with sessions.begin() as session:
        program = session.get(Program, program_id)
        if program is not None:
            _apply(session, program, done)


def get_program(session: Session, program_id: int) -> Program:
    program = session.get(Program, program_id) if program_id <= MAX_ID else None
    if program is None:
        raise NotFound(f"there is no programme {program_id}")
    return program
