"""Proof of broadcast, at the station: a fingerprint of what went on air, sent with its log.

With an off-air capture (``--audio-file``) the agent fingerprints the capture over the
airing's span — what listeners heard, whatever file or stream it came from. Without one, it
fingerprints the file it handed the player, over the part that aired (``decoded``): that
proves which audio the station played, not that it reached the air, and the log says which
of the two it is. The server compares either with the planned audio (``scheduler.verify``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audio.errors import AudioError
from audio.fingerprint import available, fingerprint, fingerprint_pcm
from audio.player import Cue, Player

log = logging.getLogger(__name__)

OFF_AIR, DECODED = "off_air", "decoded"
MIN_SECONDS = 5.0  # fpcalc gives too few words for shorter audio to prove anything


@dataclass(frozen=True)
class Proof:
    fingerprint: list[int]
    source: str  # OFF_AIR or DECODED

    def fields(self) -> dict[str, Any]:
        """What it adds to a play log (``POST /api/v1/agent/plays``)."""
        return {"fingerprint": self.fingerprint, "fingerprint_source": self.source}


def prove(
    player: Player, cue: Cue | None, started_at: datetime, ended_at: datetime
) -> Proof | None:
    """The fingerprint of what aired from ``started_at`` to ``ended_at``, or None when there
    is nothing to fingerprint (a relay without a capture, too short, no fpcalc)."""
    seconds = (ended_at - started_at).total_seconds()
    if seconds < MIN_SECONDS or not available():
        return None
    try:
        recording = player.recording(started_at, ended_at)
        if recording is not None:
            words = fingerprint_pcm(
                recording.chunks, recording.rate, recording.channels, recording.seconds
            )
            return Proof(words, OFF_AIR)
        if cue is not None and cue.media is not None:
            aired_to = math.ceil(cue.offset_s + seconds)  # from the top: it slides on the server
            return Proof(fingerprint(cue.media, max_seconds=aired_to), DECODED)
    except (AudioError, OSError) as exc:
        log.warning("no fingerprint for %s: %s", cue.item_id if cue else "?", exc)
    return None
