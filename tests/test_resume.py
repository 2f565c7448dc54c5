"""A server stopped in the middle of background work picks it up again when it starts:
renders, long TTS bulletins and long uploads finish instead of being marked failed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from scheduler import accounts, segments
from scheduler.jobs import INTERRUPTED
from scheduler.models import Program, ProgramItem, Segment
from scheduler.resume import resume_interrupted
from tests.audio_fixtures import make_recording
from tests.conftest import FROZEN_NOW

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it


def test_half_done_work_is_picked_up_again_at_start_up(
    app: Any, network: Session, tmp_path: Path
) -> None:
    settings = app.extensions["loaxa"]["settings"]
    sessions = app.extensions["loaxa"]["sessions"]
    editor = accounts.add_user(network, FROZEN_NOW, "bientap", "mat-khau-dai-1", "editor", "347")
    meta = segments.prepare(network, editor, "Bản tin sáng", "347", None, None)
    done, engine, voice, _read = segments.spoken_segment(
        settings, "Xin chào bà con.", "espeak", "north", 1.0
    )
    ready = segments.new_segment(network, editor, meta, FROZEN_NOW, source="tts",
                                 text="Xin chào bà con.", engine=engine, voice=voice)  # fmt: skip
    segments.finish(network, ready, done, FROZEN_NOW)
    # What the last run left: a render, a bulletin to speak, two uploads (one file kept).
    program = Program(title="Chương trình sáng", owner=ready.owner, status="rendering",
                      created_at=FROZEN_NOW)  # fmt: skip
    program.items = [ProgramItem(position=0, segment=ready)]
    network.add(program)
    speech = segments.new_segment(network, editor, meta, FROZEN_NOW, source="tts",
                                  text="Họp tổ dân phố lúc 19 giờ.", engine="espeak",
                                  voice="south", speed=1.1)  # fmt: skip
    upload = segments.new_segment(network, editor, meta, FROZEN_NOW, source="upload")
    lost = segments.new_segment(network, editor, meta, FROZEN_NOW, source="upload")
    network.commit()
    recording = make_recording(tmp_path / "ghi-am.m4a", seconds=2)
    incoming = settings.resolved_media_dir / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    shutil.copy(recording, incoming / f"segment-{upload.id}-ghi-am.m4a")

    jobs = app.extensions["loaxa"]["jobs"]
    resumed = resume_interrupted(sessions, settings, jobs)
    jobs.shutdown(wait=True)
    assert (resumed.renders, resumed.speeches, resumed.ingests, resumed.failed) == (1, 1, 1, 1)

    network.expire_all()
    assert network.get(Program, program.id).status == "ready"  # type: ignore[union-attr]
    assert network.get(Program, program.id).duration_ms  # type: ignore[union-attr]
    spoken_row = network.get(Segment, speech.id)
    assert spoken_row is not None and spoken_row.status == "ready"
    assert (spoken_row.engine, spoken_row.voice) == ("espeak", "south")
    assert network.get(Segment, upload.id).status == "ready"  # type: ignore[union-attr]
    gone = network.get(Segment, lost.id)
    assert gone is not None and (gone.status, gone.error) == ("failed", INTERRUPTED)
    assert not list(incoming.glob(f"segment-{upload.id}-*"))  # the kept file is cleaned up
