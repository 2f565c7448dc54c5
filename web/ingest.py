"""One uploaded file becomes a segment, for the panel and the API alike: checked (refused
with AudioError, nothing stored), then ingested now when short or in the background when
long (the file kept under the segment's id so a restart can pick it up again)."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from audio.pipeline import ingest
from scheduler import segments as service
from scheduler.db import now_utc
from scheduler.models import Segment, User
from scheduler.segments import SegmentMeta
from web.db import queue_job, session, settings


def store_upload(actor: User, meta: SegmentMeta, upload: FileStorage) -> Segment:
    db, cfg = session(), settings()
    with TemporaryDirectory(prefix="loaxa-upload-") as tmp:
        path = Path(tmp) / (secure_filename(upload.filename or "") or "upload.bin")
        upload.save(path)
        seconds = service.check_upload(path, cfg, upload.filename)
        now = now_utc()
        if seconds <= cfg.sync_audio_max_s:
            done = ingest(path, cfg, service.store_for(cfg), original_name=upload.filename)
            segment = service.new_segment(db, actor, meta, now, original_name=upload.filename)
            service.finish(db, segment, done, now)
            db.commit()
            return segment
        segment = service.new_segment(db, actor, meta, now, original_name=upload.filename)
        service.keep_upload(path, cfg, segment.id)
    queue_job(db, "ingest", segment=segment.id)
    return segment
