"""Finished audio, stored once, named by the sha256 of its bytes.

Layout ``root/ab/abcdef….mp3`` (the first two hex digits as a directory keep any one
directory small). Content addressing gives de-duplication for free: the same programme
rendered twice, or the same file uploaded by two communes, is one file on disk. Writes are
atomic (a temporary file in the target directory, then ``os.replace``), so a reader — the
web server streaming to a station — never sees half a file, even after a crash.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Stored:
    sha256: str
    path: Path
    bytes: int


def sha256_of(path: Path) -> str:
    """Hash a file in 1 MiB chunks (programmes can be hundreds of megabytes)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class MediaStore:
    """A directory of content-addressed files; safe for several processes at once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path_for(self, sha256: str, suffix: str = ".mp3") -> Path:
        """Where a file with this hash lives; refuses anything but 64 lowercase hex digits
        (the hash may come from a URL, and must never walk out of the store)."""
        if not _SHA256.fullmatch(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}{suffix}"

    def exists(self, sha256: str, suffix: str = ".mp3") -> bool:
        return self.path_for(sha256, suffix).is_file()

    def put(self, path: Path, suffix: str = ".mp3") -> Stored:
        """Copy ``path`` into the store (unless the same content is already there)."""
        sha256 = sha256_of(path)
        target = self.path_for(sha256, suffix)
        size = path.stat().st_size
        if target.is_file() and target.stat().st_size == size:
            return Stored(sha256, target, size)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out, path.open("rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return Stored(sha256, target, size)
