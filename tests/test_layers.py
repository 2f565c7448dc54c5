"""What a module pulls in when imported, checked in a fresh interpreter: a commune's small
machine runs only the agent, so its command must not load the server (Flask, SQLAlchemy,
scipy for the audio pipeline), and the player's items must not import the player itself."""

from __future__ import annotations

import subprocess
import sys

import pytest


def loaded_after(module: str, candidates: tuple[str, ...]) -> list[str]:
    probe = f"import sys, {module}\nprint(' '.join(m for m in {candidates!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, timeout=60)  # fmt: skip
    return done.stdout.split()


def test_the_station_agents_command_does_not_load_the_server():
    assert loaded_after("scheduler.agent.main", ("flask", "sqlalchemy", "scipy", "web")) == []


@pytest.mark.parametrize("module", ["audio.player.items", "audio.player.relay"])
def test_player_items_do_not_import_the_vlc_player(module):
    """Items and relays drive libvlc through the small protocol in ``base.py``, not through
    the player that owns them: no import circle."""
    assert loaded_after(module, ("audio.player.vlc_player",)) == []
