"""One database session per request, closed (and rolled back if uncommitted) at teardown."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from scheduler.jobs import Jobs
from scheduler.models import Broadcast, Station


def settings() -> Settings:
    return current_app.extensions["loaxa"]["settings"]


def sessions() -> sessionmaker[Session]:
    return current_app.extensions["loaxa"]["sessions"]


def jobs() -> Jobs:
    return current_app.extensions["loaxa"]["jobs"]


def notify_stations(codes: Iterable[str], extra: dict[str, Any] | None = None) -> None:
    """After a commit: tell the agents of these subtrees to sync now (when MQTT is set up);
    ``extra`` rides along with each ``{"revision"}`` (an alert's summary, say)."""
    publisher = current_app.extensions["loaxa"].get("push")
    wanted = sorted(set(codes))
    if publisher is None or not wanted:
        return
    rows = session().execute(
        select(Station.code, Station.schedule_revision).where(Station.code.in_(wanted))
    )
    publisher.sync_now([(code, revision) for code, revision in rows], extra)


def announce_alert(broadcast: Broadcast, starts: list[datetime], cancelled: bool = False) -> None:
    """After the commit: publish ``{"revision", "alert": {...}}`` on the targets' topics, so
    their agents sync at once (the API and the panel send the same message)."""
    zone = ZoneInfo(broadcast.timezone)
    alert: dict[str, Any] = {
        "id": broadcast.id,
        "title": broadcast.title,
        "start": starts[0].astimezone(zone).isoformat() if starts else None,
        "priority": "emergency",
    }
    if cancelled:
        alert["cancelled"] = True
    notify_stations(broadcast.target_codes, {"alert": alert})


def session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["loaxa"]["sessions"]()
    return g.db_session


def _close(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.rollback()
        db_session.close()


def init_app(app: Flask) -> None:
    app.teardown_appcontext(_close)
