"""Sentence-level cache of synthesised audio on disk.

Bulletins are edited and re-rendered many times, and most sentences survive each edit; a
cache keyed by (engine, voice, speed, sentence) means only changed sentences go back to
Google, which saves time, quota and the network of a commune office. Files are written to a
temporary name in the same directory and then renamed, so a crash or two workers writing
the same sentence never leave a half-written file under a real key.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import unicodedata
from pathlib import Path

from config import Settings


def normalize_sentence(text: str) -> str:
    """The form of a sentence that decides its key: NFC Unicode, single spaces, trimmed.

    Vietnamese text arrives both precomposed and with combining tone marks; both read the
    same, so both must hit the same cache entry.
    """
    return " ".join(unicodedata.normalize("NFC", text).split())


class TtsCache:
    """A directory of ``<key[:2]>/<key>.<ext>`` audio files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def from_settings(cls, settings: Settings) -> TtsCache:
        return cls(settings.resolved_tts_cache_dir)

    @staticmethod
    def key(engine: str, voice: str, speed: float, text: str) -> str:
        """sha256 of what decides the sound; speed is rounded so 1.0 and 1.00001 agree."""
        material = json.dumps(
            [engine, voice, round(speed, 2), normalize_sentence(text)], ensure_ascii=False
        )
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def get(self, key: str) -> Path | None:
        """The cached file for ``key``, or ``None``. Temporary files start with a dot, so
        the glob never returns one."""
        folder = self.directory / key[:2]
        for path in sorted(folder.glob(f"{key}.*")):
            if path.is_file() and path.stat().st_size > 0:
                return path
        return None

    def put(self, key: str, produced_path: Path) -> Path:
        """Copy ``produced_path`` into the cache under ``key`` (keeping its suffix), atomically."""
        folder = self.directory / key[:2]
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{key}{produced_path.suffix}"
        fd, temp_name = tempfile.mkstemp(dir=folder, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as dst, produced_path.open("rb") as src:
                shutil.copyfileobj(src, dst)
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        return target
