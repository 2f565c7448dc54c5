"""espeak-ng: the offline engine.

Robotic, but it runs on any station machine with no network, which is why it is the
fallback when Google cannot be reached. The text goes in on stdin (never through a
shell), so nothing in a bulletin can be read as a command-line option or shell syntax.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import ClassVar

from audio.tts.base import VOICE_LABELS, TtsEngine, TtsError

BINARY = "espeak-ng"
BASE_WPM = 160  # espeak-ng's own default (175) sounds hurried for Vietnamese on a loudspeaker

# Our voice ids → espeak-ng voice names (``espeak-ng --voices=vi``).
ESPEAK_VOICES = {
    "north": "vi",
    "central": "vi-vn-x-central",
    "south": "vi-vn-x-south",
}


class EspeakEngine(TtsEngine):
    """Speak through the ``espeak-ng`` program; writes 22.05 kHz mono WAV."""

    name = "espeak"
    voices: ClassVar[dict[str, str]] = {
        key: f"{VOICE_LABELS[key]} (espeak-ng, máy đọc)" for key in ESPEAK_VOICES
    }
    default_voice = "north"

    def available(self) -> bool:
        return shutil.which(BINARY) is not None

    def _render(self, text: str, voice: str, speed: float, out: Path) -> Path:
        binary = shutil.which(BINARY)
        if binary is None:
            raise TtsError(
                "Máy chưa cài bộ đọc espeak-ng; hãy báo quản trị viên cài gói espeak-ng.",
                engine=self.name,
            )
        out = out.with_suffix(".wav")
        command = [
            binary,
            "-b",
            "1",  # input is UTF-8
            "-v",
            ESPEAK_VOICES[voice],
            "-s",
            str(round(BASE_WPM * speed)),
            "-w",
            str(out),
            "--stdin",
        ]
        try:
            result = subprocess.run(
                command,
                input=text.encode("utf-8"),
                capture_output=True,
                timeout=self.settings.tts_timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise TtsError(
                "Bộ đọc espeak-ng chạy quá lâu và đã bị dừng; hãy thử lại với đoạn văn ngắn hơn.",
                engine=self.name,
                retryable=True,
            ) from exc
        except OSError as exc:
            raise TtsError(
                f"Không chạy được bộ đọc espeak-ng ({exc.strerror}).", engine=self.name
            ) from exc
        if result.returncode != 0 or not out.exists() or out.stat().st_size <= 44:
            detail = result.stderr.decode("utf-8", "replace").strip()[-200:]
            raise TtsError(
                f"Bộ đọc espeak-ng bị lỗi khi đọc văn bản: {detail or 'không rõ lý do'}.",
                engine=self.name,
            )
        return out
