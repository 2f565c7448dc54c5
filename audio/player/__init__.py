"""The station player (issue #4): cues in, sound on the instant, one outcome per cue out.

- :class:`Cue`, :class:`CueResult`, :class:`Player` — the interface the agent uses.
- :class:`VlcPlayer` — libvlc: files and live relays, start latency compensated, an
  optional off-air capture WAV (:mod:`audio.player.capture`).
- :class:`NullPlayer` — keeps time only, for demos and fast tests.

``VlcPlayer`` is imported on first use, so a machine without libvlc can still use the rest.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from audio.player.base import Cue, CueResult, Player, utc_now
from audio.player.null import NullPlayer, media_duration

if TYPE_CHECKING:
    from audio.player.vlc_player import VlcPlayer

__all__ = ["Cue", "CueResult", "NullPlayer", "Player", "VlcPlayer", "media_duration", "utc_now"]


def __getattr__(name: str) -> Any:
    if name == "VlcPlayer":
        from audio.player.vlc_player import VlcPlayer

        return VlcPlayer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
