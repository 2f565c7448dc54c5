"""What every TTS engine is: one base class, one error, and the checks they all share.

Engines are plugins (docs/architecture.md "Plugins = registry + base class + one error"): each
one turns a short piece of text into an audio file and reports any failure as a
:class:`TtsError` whose message a commune editor can read, so the web layer can show it
as-is and ``speak`` can decide whether another engine should take over.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from audio.tools import ffmpeg_path
from config import Settings

MIN_SPEED = 0.5
MAX_SPEED = 2.0

# The regional voices Loa Xã knows about; an engine offers some or all of them.
VOICE_LABELS: dict[str, str] = {
    "north": "Giọng miền Bắc",
    "central": "Giọng miền Trung",
    "south": "Giọng miền Nam",
}


class TtsError(RuntimeError):
    """Text could not be turned into speech.

    ``str(error)`` is a Vietnamese sentence for the editor. ``engine`` names the engine
    that failed (``None`` for problems with the request itself, e.g. empty text), and
    ``retryable`` is true when the same request may work later (network down, service
    overloaded), which is what the retry and fallback logic look at.
    """

    def __init__(self, message: str, *, engine: str | None = None, retryable: bool = False):
        super().__init__(message)
        self.engine = engine
        self.retryable = retryable


class TtsEngine(ABC):
    """One way of speaking Vietnamese text.

    Subclasses set ``name``, ``voices`` and ``default_voice`` and implement
    :meth:`available` and :meth:`_render`; :meth:`synthesize` checks the arguments once
    here so that every engine rejects a bad voice or speed the same way.
    """

    name: ClassVar[str]
    voices: ClassVar[dict[str, str]]
    default_voice: ClassVar[str] = "north"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @abstractmethod
    def available(self) -> bool:
        """Whether this engine can run here at all (cheap: no network, no synthesis)."""

    def synthesize(self, text: str, voice: str, speed: float, out: Path) -> Path:
        """Speak ``text`` into an audio file at (or next to) ``out`` and return its path.

        The file may be WAV or MP3 — anything ffmpeg reads; the suffix of the returned
        path tells which. ``speed`` 1.0 is the engine's natural pace.
        """
        self.check_voice(voice)
        check_speed(speed, engine=self.name)
        if not text.strip():
            raise TtsError("Văn bản trống, không có gì để đọc.", engine=self.name)
        return self._render(text, voice, speed, out)

    @abstractmethod
    def _render(self, text: str, voice: str, speed: float, out: Path) -> Path:
        """Do the engine-specific work; arguments are already checked."""

    def check_voice(self, voice: str) -> None:
        """Raise a readable :class:`TtsError` when this engine has no such voice."""
        if voice not in self.voices:
            known = ", ".join(f"{key} ({label})" for key, label in self.voices.items())
            raise TtsError(
                f"Bộ đọc {self.name} không có giọng {voice!r}. Các giọng có: {known}.",
                engine=self.name,
            )


def check_speed(speed: float, *, engine: str | None = None) -> None:
    """Reject speeds outside 0.5–2.0: beyond that speech is unintelligible on a loudspeaker."""
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise TtsError(
            f"Tốc độ đọc {speed:g} không hợp lệ: chọn từ {MIN_SPEED:g} đến {MAX_SPEED:g} "
            "(1 là bình thường).",
            engine=engine,
        )


def find_ffmpeg(settings: Settings) -> str:
    """The ffmpeg the audio pipeline uses too (:func:`audio.tools.ffmpeg_path`), or a
    readable :class:`TtsError` when there is none at all."""
    try:
        return ffmpeg_path(settings)
    except (ImportError, RuntimeError) as exc:
        raise TtsError(
            "Máy chủ chưa có chương trình xử lý âm thanh ffmpeg; hãy báo quản trị viên cài đặt.",
        ) from exc
