"""gTTS: Google Translate's voice, the natural-sounding online engine.

Three things the gTTS library does not do for us, and why this module does them:

1. **Timeout.** gTTS waits forever by default; a hung connection would block a bulletin
   (and a render worker) indefinitely. gTTS ≥ 2.5 takes ``timeout=`` in its constructor and
   passes it to every request, so we always set it from ``settings.tts_timeout_s``.
2. **Retries.** Commune connections drop for seconds at a time; network errors and 5xx/429
   answers are retried ``settings.tts_retries`` times with exponential backoff (0.5 s, 1 s,
   2 s, …). Other answers (403: Google changed its API) will not get better by waiting.
3. **Speed.** Google offers only "normal" and "slow" (an undocumented rate), so we always
   fetch normal speech and apply the speed with ffmpeg's ``atempo`` filter, which changes
   pace without changing pitch and gives the same speed scale as espeak-ng.

gTTS splits text longer than 100 characters into several requests itself and concatenates
the MP3 parts; ffmpeg reads such a file fine.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import requests

from audio.tts.base import TtsEngine, TtsError, find_ffmpeg
from config import Settings

LANG = "vi"
TLD = "com"  # translate.google.com: gTTS's default host, the one its own tests exercise
BACKOFF_BASE_S = 0.5


class GttsEngine(TtsEngine):
    """Google's Vietnamese voice through gTTS; writes MP3 (or WAV when the speed is changed).

    Google has one Vietnamese voice whatever the host, so only ``north`` is offered: a
    "southern" label on the same voice would mislead editors.
    """

    name = "gtts"
    voices: ClassVar[dict[str, str]] = {"north": "Giọng miền Bắc (Google, cần mạng)"}
    default_voice = "north"

    def __init__(self, settings: Settings, sleep: Callable[[float], None] | None = None) -> None:
        """``sleep`` is injectable so tests can check the backoff without waiting."""
        super().__init__(settings)
        self.sleep = sleep or time.sleep

    def available(self) -> bool:
        """Installed is enough: whether Google answers is only known by asking (at synthesis)."""
        try:
            import gtts  # noqa: F401
        except ImportError:
            return False
        return True

    def _render(self, text: str, voice: str, speed: float, out: Path) -> Path:
        mp3 = out.with_suffix(".mp3")
        self._fetch_with_retries(text, mp3)
        if speed == 1.0:
            return mp3
        wav = out.with_suffix(".wav")
        self._change_tempo(mp3, speed, wav)
        mp3.unlink(missing_ok=True)
        return wav

    def _fetch_with_retries(self, text: str, mp3: Path) -> None:
        attempts = self.settings.tts_retries + 1
        for attempt in range(attempts):
            try:
                self._fetch(text, mp3)
                return
            except TtsError as error:
                if not error.retryable or attempt == attempts - 1:
                    raise
                self.sleep(BACKOFF_BASE_S * 2**attempt)

    def _fetch(self, text: str, mp3: Path) -> None:
        """One try: all of gTTS's requests for ``text``, written atomically to ``mp3``."""
        from gtts import gTTS, gTTSError

        partial = mp3.with_name(mp3.name + ".part")
        try:
            tts = gTTS(text, lang=LANG, tld=TLD, timeout=self.settings.tts_timeout_s)
            with partial.open("wb") as fh:
                tts.write_to_fp(fh)
            if partial.stat().st_size == 0:
                raise TtsError("Google không trả về âm thanh nào.", engine=self.name)
            os.replace(partial, mp3)
        except gTTSError as exc:
            raise self._explain(exc) from exc
        except requests.RequestException as exc:  # raised while reading a response
            raise self._offline(exc) from exc
        except AssertionError as exc:  # gTTS asserts when nothing speakable is left
            raise TtsError("Văn bản chỉ có dấu câu, không có gì để đọc.", engine=self.name) from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()

    def _explain(self, exc: Exception) -> TtsError:
        """Turn a gTTSError into a message an editor understands, marking what may pass."""
        response = getattr(exc, "rsp", None)
        if response is None:  # no answer at all: the request itself failed
            return self._offline(exc.__context__)
        status = response.status_code
        if status >= 500 or status == 429:
            return TtsError(
                f"Dịch vụ đọc văn bản của Google đang quá tải hoặc gặp sự cố (mã {status}); "
                "hãy thử lại sau ít phút.",
                engine=self.name,
                retryable=True,
            )
        if status == 200:
            return TtsError(
                "Google trả lời nhưng không kèm âm thanh (dịch vụ có thể đã thay đổi).",
                engine=self.name,
            )
        return TtsError(
            f"Dịch vụ đọc văn bản của Google từ chối yêu cầu (mã {status}); "
            "có thể Google đã thay đổi dịch vụ, hãy báo quản trị viên.",
            engine=self.name,
        )

    def _offline(self, cause: BaseException | None) -> TtsError:
        if isinstance(cause, requests.Timeout):
            message = (
                "Dịch vụ đọc văn bản của Google không trả lời sau "
                f"{self.settings.tts_timeout_s:g} giây (mạng chậm hoặc mất mạng?)."
            )
        else:
            message = "Không kết nối được dịch vụ đọc văn bản của Google (mất mạng?)."
        return TtsError(message, engine=self.name, retryable=True)

    def _change_tempo(self, source: Path, speed: float, out: Path) -> None:
        command = [
            find_ffmpeg(self.settings),
            *("-nostdin", "-hide_banner", "-loglevel", "error", "-y"),
            *("-i", str(source), "-filter:a", f"atempo={speed:g}", "-ac", "1", str(out)),
        ]
        try:
            subprocess.run(command, capture_output=True, check=True, timeout=60)
        except (subprocess.SubprocessError, OSError) as exc:
            raise TtsError(
                "Không đổi được tốc độ đọc của giọng Google (lỗi xử lý âm thanh).",
                engine=self.name,
            ) from exc
