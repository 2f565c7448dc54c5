"""Loa Xã configuration: settings (defaults → instance file → ``LOAXA_*`` environment)
and the bundled data (station directories, demo content).

Nothing here imports the other packages: ``config`` is the bottom of the import graph.
"""

from __future__ import annotations

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
