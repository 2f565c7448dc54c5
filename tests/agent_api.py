"""Speaking the agent protocol in a test, as a station's agent does: requests with its token,
and a province relay for the manifest to carry."""

from __future__ import annotations

from typing import Any

from flask import Flask


def agent_get(app: Flask, token: str, url: str, **headers: str) -> Any:
    return app.test_client().get(url, headers={"Authorization": f"Bearer {token}", **headers})


def agent_post(app: Flask, token: str, url: str, body: Any) -> Any:
    return app.test_client().post(url, json=body, headers={"Authorization": f"Bearer {token}"})


def relay(**overrides: Any) -> dict[str, Any]:
    """A broadcast body: the province relays VOV1 daily, 18:00–18:30 from 20 April 2026."""
    return {
        "title": "Tiếp âm VOV1",
        "owner": "35",
        "kind": "relay",
        "stream_url": "http://127.0.0.1:9/vov1.mp3",
        "start": "2026-04-20T18:00:00",
        "duration_s": 1800,
        "rrule": "FREQ=DAILY",
        **overrides,
    }
