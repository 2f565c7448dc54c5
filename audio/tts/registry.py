"""Which TTS engines exist, by name.

Engines are named by dotted path and imported only when asked for, so a station that never
uses an engine never imports its library, and adding an engine is one line here
(docs/architecture.md "Plugins = registry + base class + one error").
"""

from __future__ import annotations

import importlib
from typing import Any

from audio.tts.base import TtsEngine, TtsError
from config import Settings

ENGINES: dict[str, str] = {
    "gtts": "audio.tts.gtts_engine.GttsEngine",
    "espeak": "audio.tts.espeak_engine.EspeakEngine",
}


def get_engine(name: str, settings: Settings) -> TtsEngine:
    """Build the engine called ``name``; an unknown name is a :class:`TtsError` naming the known."""
    try:
        dotted = ENGINES[name]
    except KeyError:
        known = ", ".join(ENGINES)
        raise TtsError(f"Không có bộ đọc {name!r}. Các bộ đọc có: {known}.") from None
    module_name, _, class_name = dotted.rpartition(".")
    engine_class = getattr(importlib.import_module(module_name), class_name)
    engine: TtsEngine = engine_class(settings)
    return engine


def engines_info(settings: Settings) -> list[dict[str, Any]]:
    """Every engine with its voices, for ``GET /api/v1/tts/engines`` and the bulletin form."""
    info = []
    for name in ENGINES:
        engine = get_engine(name, settings)
        info.append(
            {
                "name": name,
                "available": engine.available(),
                "voices": [{"id": key, "label": label} for key, label in engine.voices.items()],
                "default_voice": engine.default_voice,
            }
        )
    return info
