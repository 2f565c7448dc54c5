"""Helpers for the live panel pages' tests (dashboard, stations, relay, alerts): a province
relay and a district programme on the schedule, heartbeats and play logs as agents send them.

Time is frozen at Monday 20 April 2026, 08:00 in Hà Nam (01:00 UTC)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import accounts
from scheduler.asrun import Heartbeat, PlayReport, record_heartbeat, record_plays
from scheduler.broadcasts import BroadcastSpec, save_broadcast
from scheduler.dispatch import item_id
from scheduler.models import Broadcast, Program, Station, User
from tests.conftest import FROZEN_NOW

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
PROVINCE_STREAM = "http://127.0.0.1:8000/live/ha-nam.mp3"


def station(db: Session, code: str) -> Station:
    found = db.scalar(select(Station).where(Station.code == code))
    assert found is not None, code
    return found


def admin(db: Session, code: str = "35") -> User:
    name = f"live.admin.{code}"
    user = db.scalar(select(User).where(User.username == name))
    if user is None:
        user = accounts.add_user(db, FROZEN_NOW, name, "mat-khau-dai", "admin", code)
        db.commit()
    return user


def settings_of(app: Flask) -> Any:
    return app.extensions["loaxa"]["settings"]


def relay(
    app: Flask,
    db: Session,
    start: str = "17:30",
    minutes: int = 30,
    day: int = 20,
    **overrides: Any,
) -> Broadcast:
    """The province's daily relay of its own stream to ``targets`` (default: all of Phủ Lý)."""
    province = station(db, "35")
    province.stream_url = PROVINCE_STREAM
    db.commit()
    hour, minute = (int(x) for x in start.split(":"))
    body = {
        "title": "Tiếp âm Thời sự Đài PT-TH Hà Nam",
        "owner": "35",
        "kind": "relay",
        "source": "35",
        "start": datetime(2026, 4, day, hour, minute),
        "duration_s": minutes * 60,
        "rrule": "FREQ=DAILY",
        "targets": ["347"],
        **overrides,
    }
    result = save_broadcast(db, settings_of(app), admin(db), BroadcastSpec(**body), FROZEN_NOW)
    db.commit()
    return result.broadcast


def program_broadcast(app: Flask, db: Session, start: str = "18:00", **overrides: Any) -> Broadcast:
    """A district programme (15 minutes, rendered) every day for Phủ Lý's communes."""
    owner = station(db, "347")
    program = Program(
        title="Bản tin học tập suốt đời", owner=owner, status="ready", duration_ms=15 * 60_000,
        created_at=FROZEN_NOW,
    )  # fmt: skip
    db.add(program)
    db.commit()
    hour, minute = (int(x) for x in start.split(":"))
    body = {
        "title": "Bản tin học tập suốt đời",
        "owner": "347",
        "kind": "program",
        "program": program.id,
        "start": datetime(2026, 4, 20, hour, minute),
        "rrule": "FREQ=DAILY",
        "targets": ["347"],
        **overrides,
    }
    result = save_broadcast(db, settings_of(app), admin(db), BroadcastSpec(**body), FROZEN_NOW)
    db.commit()
    return result.broadcast


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in April 2026, Hà Nam time."""
    return datetime(2026, 4, day, hour, minute, tzinfo=ZONE)


def play(
    db: Session,
    code: str,
    broadcast: Broadcast,
    start: datetime,
    status: str = "played",
    minutes: int = 30,
    late_s: int = 0,
) -> str:
    """What the agent posts after an airing starting at ``start``; returns the item id."""
    item = item_id(broadcast.id, start)
    report = PlayReport(
        id=uuid4(),
        item=item,
        broadcast=broadcast.id,
        scheduled_start=start,
        started_at=start + timedelta(seconds=late_s) if status != "missed" else None,
        ended_at=start + timedelta(minutes=minutes) if status != "missed" else None,
        status=status,
        detail=None if status == "played" else "the stream broke",
    )
    record_plays(db, station(db, code), [report], FROZEN_NOW)
    db.commit()
    return item


def heartbeat(
    db: Session,
    code: str,
    playing: str | None = None,
    ago_s: int = 10,
    offset_ms: int = 120,
    disk: int | None = 12 * 1024**3,
    version: str = "0.1.0",
    until: datetime | None = None,
) -> None:
    """A heartbeat received ``ago_s`` seconds before the frozen now (``until``: when what
    it plays is due to end)."""
    received = FROZEN_NOW - timedelta(seconds=ago_s)
    beat = Heartbeat(
        agent_version=version,
        now=received + timedelta(milliseconds=offset_ms),
        playing=playing,
        playing_until=until,
        disk_free_bytes=disk,
    )
    record_heartbeat(db, station(db, code), beat, received)
    db.commit()
