"""Issuing an alert in a test: the POST answers at once (202 while its words are spoken in a
job, 201 when a recording airs as it is); these wait for the job and give the alert as
``GET /api/v1/alerts/{id}`` shows it then."""

from __future__ import annotations

from typing import Any

from flask import Flask


def finish_jobs(app: Flask) -> None:
    """Wait for the server's background jobs (the pool starts again on the next one)."""
    app.extensions["loaxa"]["jobs"].shutdown(wait=True)


def post_alert(app: Flask, caller: Any, body: Any, **kw: Any) -> Any:
    """POST the alert (JSON, or CAP with ``data=``/``content_type=``) and wait for its audio;
    the response as answered."""
    if "data" in kw:
        response = caller.post("/api/v1/alerts", data=kw.pop("data"), **kw)
    else:
        response = caller.post("/api/v1/alerts", json=body, **kw)
    finish_jobs(app)
    return response


def issued(app: Flask, caller: Any, body: Any, **kw: Any) -> dict[str, Any]:
    """Issue an alert that must air; its record once ready (with per-station status)."""
    response = post_alert(app, caller, body, **kw)
    assert response.status_code in (201, 202), response.json
    shown = caller.get(f"/api/v1/alerts/{response.json['id']}")
    assert shown.status_code == 200, shown.json
    assert shown.json["status"] == "ready", shown.json
    return dict(shown.json)
