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

from audio.errors import AudioError
from audio.tts.base import TtsError
from config import Settings
from scheduler import accounts, programs, segments
from scheduler.broadcasts import BroadcastSpec, save_broadcast
from scheduler.models import Broadcast, Campaign, Station, Topic, User
from scheduler.programs import ProgramSpec
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
    bulletins: int = 0
    skipped: str = ""  # why the spoken bulletins were left out, if they were


DEMOS = {"2024": "demo.json", "2025": "demo-2025.json"}


def load_demo(
    session: Session, settings: Settings, now: datetime, admin_map: str = "2024"
) -> DemoReport:
    """A demo network, an account per role and a week-shaped schedule: Hà Nam on the 2024
    map (the plan's own), or the new Ninh Bình on the 2025 two-level map (province-wide
    relays, a commune's own bulletins, no district level)."""
    demo = _bundled(DEMOS[admin_map])
    report = DemoReport(password=demo["password"])
    report.stations = import_directory(
        session,
        demo["directory"],
        now,
        timezone=settings.timezone,
        province=demo.get("province"),
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
    today = now.astimezone(_zone(session, demo["users"][0]["station"])).date()
    for item in demo["broadcasts"]:
        hour, minute = (int(x) for x in item.pop("start").split(":"))
        if item.get("stream_url") == "vov":
            item["stream_url"] = demo["vov_stream_url"]
        spec = BroadcastSpec(start=datetime.combine(today, time(hour, minute)), force=True, **item)
        save_broadcast(session, settings, admin, spec, now)
        report.broadcasts += 1
    _demo_bulletins(session, settings, admin, demo, today, now, report)
    return report


def _demo_bulletins(
    session: Session,
    settings: Settings,
    admin: User,
    demo: dict[str, Any],
    today: date,
    now: datetime,
    report: DemoReport,
) -> None:
    """Sample lifelong-learning bulletins spoken by the offline voice, approved, gathered in a
    programme that Phủ Lý's communes air three mornings a week."""
    offline = settings.model_copy(update={"tts_engine": "espeak"})
    plan = demo["program"]
    items: list[dict[str, Any]] = []
    try:
        for bulletin in demo["bulletins"]:
            meta = segments.prepare(
                session,
                admin,
                bulletin["title"],
                plan["owner"],
                "xhht-2023-2030",
                bulletin["topic"],
            )
            done, engine, voice, spoken = segments.spoken_segment(
                offline, bulletin["text"], "espeak", "north", 1.0
            )
            segment = segments.new_segment(
                session,
                admin,
                meta,
                now,
                source="tts",
                text=bulletin["text"],
                engine=engine,
                voice=voice,
                spoken_text=spoken,
                speed=1.0,
            )
            segments.finish(session, segment, done, now)
            segments.approve(session, admin, segment, now)
            items += [{"segment": segment.id}, {"silence_ms": 1500}]
            report.bulletins += 1
    except (AudioError, TtsError) as exc:
        report.skipped = str(exc)
        return
    spec = ProgramSpec(title=plan["title"], owner=plan["owner"], items=items[:-1])
    program = programs.create_program(session, admin, spec, now)
    session.flush()
    programs.render_now(session, settings, program)
    hour, minute = (int(x) for x in plan["start"].split(":"))
    save_broadcast(
        session,
        settings,
        admin,
        BroadcastSpec(
            title=plan["title"],
            owner=plan["owner"],
            kind="program",
            program=program.id,
            start=datetime.combine(today, time(hour, minute)),
            rrule=plan["rrule"],
            targets=plan["targets"],
            force=True,
        ),
        now,
    )
    report.broadcasts += 1


def _zone(session: Session, code: str) -> ZoneInfo:
    station = session.scalar(select(Station).where(Station.code == code))
    return ZoneInfo(station.timezone if station else "Asia/Ho_Chi_Minh")
