"""One database session per request, closed (and rolled back if uncommitted) at teardown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config import Settings
from scheduler.db import now_utc
from scheduler.jobs import Announce, Jobs
from scheduler.models import Alert, AlertState, Station
from scheduler.push import Publisher


def settings() -> Settings:
    return current_app.extensions["loaxa"]["settings"]


def sessions() -> sessionmaker[Session]:
    return current_app.extensions["loaxa"]["sessions"]


def jobs() -> Jobs:
    return current_app.extensions["loaxa"]["jobs"]


def queue_job(db: Session, kind: str, *, urgent: bool = False, **args: Any) -> None:
    """Queue a background job with the request's changes, commit both, and wake this
    process's runner (another process would find it by polling): the row waiting for the
    job and the job exist together or not at all."""
    job = jobs().submit(db, kind, urgent=urgent, **args)
    db.commit()
    jobs().committed(job)


def notify_stations(codes: Iterable[str], extra: dict[str, Any] | None = None) -> None:
    """After a commit: tell the agents of these subtrees to sync now (when MQTT is set up);
    ``extra`` rides along with each ``{"revision"}`` (an alert's summary, say).

    Where several processes serve (PostgreSQL or Redis), their provinces' manifests are
    also queued to be built into the shared store, so polling agents find them ready."""
    publisher = current_app.extensions["loaxa"].get("push")
    wanted = sorted(set(codes))
    if wanted and _shared_deployment():
        _prebuild(wanted)
    if publisher is None or not wanted:
        return
    rows = session().execute(
        select(Station.code, Station.schedule_revision).where(Station.code.in_(wanted))
    )
    publisher.sync_now([(code, revision) for code, revision in rows], extra)


def _shared_deployment() -> bool:
    loaxa = current_app.extensions["loaxa"]
    return bool(loaxa["settings"].redis_url) or loaxa["engine"].dialect.name == "postgresql"


def _prebuild(codes: list[str]) -> None:
    db = session()
    paths = db.scalars(select(Station.path).where(Station.code.in_(codes)))
    provinces = sorted({path.split("/", 1)[0] for path in paths})
    if provinces:
        queue_job(db, "manifests", provinces=provinces)


def alert_announcer() -> Announce:
    """This app's :func:`make_announcer`."""
    loaxa = current_app.extensions["loaxa"]
    return make_announcer(loaxa.get("push"), loaxa["sessions"])


def _first_start(alert: Alert, zone: ZoneInfo) -> str | None:
    """When it first airs: at once (``ready_at``), or later for a CAP alert with an onset."""
    if alert.ready_at is None:
        return None
    first = max(alert.ready_at, alert.starts_at or alert.ready_at).replace(microsecond=0)
    return first.astimezone(zone).isoformat()


def make_announcer(publisher: Publisher | None, maker: sessionmaker[Session]) -> Announce:
    """A function that publishes an alert on its targets' MQTT topics — ``{"revision",
    "alert": {...}}`` — so their agents sync at once. It holds what it needs, so a job may
    call it after the request is over (the alert is announced once its audio is ready)."""

    def announce(alert: Alert, cancelled: bool = False) -> None:
        if publisher is None or not alert.codes:
            return
        zone = ZoneInfo(alert.owner.timezone)
        summary: dict[str, Any] = {
            "id": alert.id,
            "broadcast": alert.broadcast_id,
            "title": alert.title,
            "start": _first_start(alert, zone),
            "priority": alert.priority.value,
        }
        if cancelled:
            summary["cancelled"] = True
        with maker() as db:
            rows = db.execute(
                select(Station.code, Station.schedule_revision).where(Station.code.in_(alert.codes))
            ).all()
        publisher.sync_now([(code, revision) for code, revision in rows], {"alert": summary})

    return announce


def air_alert(alert: Alert) -> int:
    """After the alert is committed: air it now (201) or have a job make its audio first
    (202); 200 for one recorded only (not for the air)."""
    from scheduler import alerts

    if alert.state != AlertState.preparing:
        return 200
    db = session()
    if alerts.needs_making(alert, settings()):
        queue_job(db, "alert", urgent=True, alert=alert.id)
        return 202
    announce = alert_announcer()
    alerts.prepare_alert(db, settings(), alert, now_utc())
    db.commit()
    if alert.state == AlertState.ready:
        announce(alert, False)
    return 201


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
