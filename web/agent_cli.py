"""``loaxa agent``: the station agent's command, kept apart from the server's CLI.

A commune's machine runs only this; ``web.entry`` routes ``loaxa agent …`` here without
importing the server (Flask, SQLAlchemy, the audio pipeline), which keeps the agent small.
"""

from __future__ import annotations

from pathlib import Path

import click

from config import ConfigError, load_settings


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
    server: str, token: str, cache_dir: Path | None, player: str, audio_file: Path | None,
    poll: float | None, verbose: bool,
) -> None:  # fmt: skip
    from scheduler.agent.main import build_agent, configure_logging

    configure_logging(verbose)
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc
    built = build_agent(settings, server, token, cache_dir=cache_dir, player=player,
                        audio_file=audio_file, poll_s=poll)  # fmt: skip
    built.run()
