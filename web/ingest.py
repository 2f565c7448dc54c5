"""Segments from the panel and the API alike: an uploaded file handed to the domain's
:func:`~scheduler.segments.store_upload`, and the commit that wakes this process's runner
for the job a long recording or bulletin was left to."""

from __future__ import annotations

from pathlib import Path
from tempfile import TemporaryDirectory

from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from scheduler import segments as service
from scheduler.db import now_utc
from scheduler.models import Segment, User
from scheduler.segments import SegmentMeta, Stored
from web.db import jobs, session, settings


def store_file(actor: User, meta: SegmentMeta, upload: FileStorage) -> Segment:
    with TemporaryDirectory(prefix="loaxa-upload-") as tmp:
        # The client's file name is kept as given for the record, but never trusted as a path.
        path = Path(tmp) / (secure_filename(upload.filename or "") or "upload.bin")
        upload.save(path)
        stored = service.store_upload(
            session(), settings(), actor, meta, path, upload.filename, now_utc(), jobs=jobs()
        )
    return commit(stored)


def commit(stored: Stored) -> Segment:
    """Commit the segment with its job, if any, then wake this process's runner for it
    (another process would only find the job by polling)."""
    session().commit()
    if stored.job is not None:
        jobs().committed(stored.job)
    return stored.segment
