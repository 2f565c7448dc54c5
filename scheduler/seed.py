"""Seed data: the campaigns every installation starts with, and the Hà Nam demo network.

Both are idempotent: running them again adds only what is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import Settings
from scheduler import accounts
from scheduler.broadcasts import BroadcastSpec, save_broadcast
from scheduler.models import Broadcast, Campaign, Station, Topic, User
from scheduler.stations import import_directory, stations_by_code


def _bundled(name: str) -> Any:
    return json.loads(resources.files("config").joinpath(name).read_text("utf-8"))


def seed_campaigns(session: Session) -> int:
    """Create the bundled campaigns and topics that do not exist yet; return how many."""
    existing = set(session.scalars(select(Campaign.code)))
    added = 0
    for item in _bundled("campaigns.json"):
        if item["code"] in existing:
            continue
        campaign = Campaign(
            code=item["code"],
            name=item["name"],
            description=item.get("description", ""),
            starts_on=date.fromisoformat(item["starts_on"]) if item.get("starts_on") else None,
            ends_on=date.fromisoformat(item["ends_on"]) if item.get("ends_on") else None,
            annual=item.get("annual"),
        )
        campaign.topics = [
            Topic(code=t["code"], name=t["name"], description=t.get("description", ""), position=i)
            for i, t in enumerate(item.get("topics", []))
        ]
        session.add(campaign)
        added += 1
    return added


@dataclass
class DemoReport:
    stations: int = 0
    users: list[tuple[str, str, str]] = field(default_factory=list)  # (username, role, station)
    password: str = ""
    broadcasts: int = 0


def load_demo(session: Session, settings: Settings, now: datetime) -> DemoReport:
    """The Hà Nam 2024 network, a demo account per role and a week-shaped schedule."""
    demo = _bundled("demo.json")
    report = DemoReport(password=demo["password"])
    report.stations = import_directory(
        session, demo["directory"], now, timezone=settings.timezone
    ).total
    for code, url in demo["stream_urls"].items():
        station = stations_by_code(session, [code], "station")[0]
        station.stream_url = station.stream_url or url
    for code, rules in demo["station_rules"].items():
        station = stations_by_code(session, [code], "station")[0]
        for key, value in rules.items():
            setattr(station, key, value)
    for item in demo["users"]:
        report.users.append((item["username"], item["role"], item["station"]))
        if session.scalar(select(User.id).where(User.username == item["username"])) is None:
            accounts.add_user(
                session,
                now,
                item["username"],
                demo["password"],
                item["role"],
                item["station"],
                full_name=item["full_name"],
                actor="demo",
            )
    session.flush()
    if session.scalar(select(func.count(Broadcast.id))):
        return report
    admin = session.scalar(select(User).where(User.username == demo["users"][0]["username"]))
    assert admin is not None
    today = now.astimezone(_zone(session, "35")).date()
    for item in demo["broadcasts"]:
        hour, minute = (int(x) for x in item.pop("start").split(":"))
        if item.get("stream_url") == "vov":
            item["stream_url"] = demo["vov_stream_url"]
        spec = BroadcastSpec(start=datetime.combine(today, time(hour, minute)), force=True, **item)
        save_broadcast(session, settings, admin, spec, now)
        report.broadcasts += 1
    return report


def _zone(session: Session, code: str) -> ZoneInfo:
    station = session.scalar(select(Station).where(Station.code == code))
    return ZoneInfo(station.timezone if station else "Asia/Ho_Chi_Minh")
