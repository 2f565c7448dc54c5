"""Build an agent from settings and command-line choices (``loaxa agent``)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from audio.player import NullPlayer, Outcome, Player, VlcPlayer
from config import Settings
from scheduler.agent.cache import AgentCache
from scheduler.agent.client import ServerClient
from scheduler.agent.runner import Agent


def player_factory(
    settings: Settings, kind: str, audio_file: Path | None
) -> Callable[[Callable[[Outcome], None]], Player]:
    """``vlc`` plays through libvlc (to the sound card, or into ``audio_file``); ``null``
    only keeps time, for demos and machines without sound."""

    def make(on_done: Callable[[Outcome], None]) -> Player:
        if kind == "null":
            return NullPlayer(on_done)
        return VlcPlayer(
            on_done,
            audio_output=settings.player_audio_output,
            audio_device=settings.player_audio_device,
            capture=audio_file,
            sample_rate=settings.sample_rate,
            relay_preroll_s=settings.relay_preroll_s,
            relay_retry_s=settings.relay_retry_s,
            filler=settings.filler_path,
        )

    return make


def build_agent(
    settings: Settings,
    server: str,
    token: str,
    *,
    cache_dir: Path | None = None,
    player: str = "vlc",
    audio_file: Path | None = None,
    poll_s: float | None = None,
) -> Agent:
    cache = AgentCache(cache_dir or settings.instance_path / "agent")
    return Agent(
        ServerClient(server, token),
        cache,
        player_factory(settings, player, audio_file),
        poll_s=poll_s or settings.agent_poll_s,
        heartbeat_s=settings.agent_heartbeat_s,
        lead_s=settings.agent_lead_s,
        relay_lead_s=settings.relay_preroll_s,
        mqtt_url=settings.mqtt_url,
    )


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
