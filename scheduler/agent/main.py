"""The station agent's command (``loaxa-agent``, also ``loaxa agent``): build an agent from
settings and command-line choices and run it.

A commune's machine runs only this. Its console script comes straight here, so it never
imports the server (Flask, SQLAlchemy, the audio pipeline): that keeps the agent small
(``benchmarks/agent_footprint.py``). ``loaxa agent`` reaches the same command through the
server's CLI, and loads the server's modules with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import click

from audio.player import CueResult, NullPlayer, Player, VlcPlayer
from config import ConfigError, Settings, load_settings
from scheduler.agent.cache import AgentCache
from scheduler.agent.client import ServerClient
from scheduler.agent.runner import Agent


def player_factory(
    settings: Settings, kind: str, audio_file: Path | None
) -> Callable[[Callable[[CueResult], None]], Player]:
    """``vlc`` plays through libvlc (to the sound card, or into ``audio_file``); ``null``
    only keeps time, for demos and machines without sound."""

    def make(on_done: Callable[[CueResult], None]) -> Player:
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


@click.command(help="Run a station agent: fetch its schedule, play on time, report what aired.")
@click.option("--server", required=True, help="The Loa Xã server, e.g. http://10.0.0.5:8080")
@click.option(
    "--token",
    required=True,
    envvar="LOAXA_AGENT_TOKEN",
    help="The station token from `loaxa token new CODE` (or LOAXA_AGENT_TOKEN).",
)
@click.option(
    "--cache",
    "cache_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the schedule, media and unsent logs are kept (default: instance/agent).",
)
@click.option("--player", type=click.Choice(["vlc", "null"]), default="vlc", show_default=True)
@click.option(
    "--audio-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record everything aired into this WAV file instead of the sound card.",
)
@click.option("--poll", type=click.FloatRange(1, 3600), help="Seconds between manifest checks.")
@click.option("-v", "--verbose", is_flag=True)
def agent(
    server: str,
    token: str,
    cache_dir: Path | None,
    player: str,
    audio_file: Path | None,
    poll: float | None,
    verbose: bool,
) -> None:
    configure_logging(verbose)
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    built = build_agent(
        settings,
        server,
        token,
        cache_dir=cache_dir,
        player=player,
        audio_file=audio_file,
        poll_s=poll,
    )
    built.run()
