"""Waiting in tests for something another thread or process does (the wall clock, not the
frozen one the app sees)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(check: Callable[[], Any], timeout: float, what: str, every: float = 0.02) -> Any:
    """``check()``'s first truthy answer within ``timeout`` seconds, asked ``every`` so many
    seconds, or fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
