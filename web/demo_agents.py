"""Demo station agents inside `loaxa serve --demo-agents N`: the first run comes alive.

A fresh `make run` has a schedule but no station machines, so "now playing", "online" and
"what aired" would stay empty. These agents are real ``scheduler.agent`` agents — sync over
HTTP, cache, timed jobs, play logs — with the NullPlayer (it keeps time, makes no sound),
talking to this same server. Their tokens are issued (rotated) at each start: use it only
for demo stations.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audio.player import NullPlayer
from config import Settings
from scheduler import accounts
from scheduler.agent.cache import AgentCache
from scheduler.agent.client import ServerClient
from scheduler.agent.runner import Agent
from scheduler.broadcasts import BroadcastSpec, save_broadcast
from scheduler.db import now_utc
from scheduler.errors import DomainError
from scheduler.models import Program, ProgramStatus, Role, Station, User

log = logging.getLogger(__name__)
# Phủ Lý's communes first: the demo's bulletins and relays are scheduled there.
DEMO_DISTRICT = "347"


def demo_stations(session: Session, count: int) -> list[Station]:
    """``count`` commune stations of the demo district (then of the rest of the tree)."""
    communes = select(Station).where(Station.level == "commune").order_by(Station.code)
    district = session.scalars(communes.where(Station.path.like(f"%/{DEMO_DISTRICT}/%")))
    chosen = list(district)[:count]
    if len(chosen) < count:
        seen = {s.code for s in chosen}
        rest = [s for s in session.scalars(communes) if s.code not in seen]
        chosen += rest[: count - len(chosen)]
    return chosen


def schedule_warm_up(
    sessions: sessionmaker[Session],
    settings: Settings,
    stations: list[str],
    now: datetime,
    delay: timedelta = timedelta(seconds=45),
) -> str | None:
    """A one-off "test broadcast at start-up" of the demo bulletins, 45 s from now, at the
    demo stations: "now playing" and "what aired" fill within a minute of ``make run``
    instead of at 05:00 tomorrow. Returns its local start time, or None without a
    ready programme (the bulletins need espeak-ng) or the demo admin."""
    with sessions() as session:
        program = session.scalar(
            select(Program).where(Program.status == ProgramStatus.ready).order_by(Program.id)
        )
        admin = session.scalar(
            select(User).where(User.role == Role.admin, User.active).order_by(User.id)
        )
        if program is None or admin is None or admin.station is None:
            return None
        zone = ZoneInfo(admin.station.timezone)
        start = (now + delay).astimezone(zone).replace(microsecond=0, tzinfo=None)
        spec = BroadcastSpec(
            title="Phát thử khi khởi động (demo)",
            owner=admin.station.code,
            kind="program",
            program=program.id,
            start=start,
            targets=stations,
            force=True,
        )
        try:
            save_broadcast(session, settings, admin, spec, now)
        except DomainError as exc:
            log.warning("no warm-up broadcast: %s", exc)
            return None
        session.commit()
        return start.strftime("%H:%M:%S")


def start_demo_agents(
    sessions: sessionmaker[Session], settings: Settings, server: str, count: int
) -> list[Agent]:
    """Issue tokens and start ``count`` agents in this process (daemon threads)."""
    with sessions() as session:
        stations = demo_stations(session, count)
        tokens = [
            (s.code, accounts.new_station_token(session, now_utc(), s.code)) for s in stations
        ]
        session.commit()
    logging.getLogger("loaxa.agent").setLevel(logging.WARNING)
    agents = []
    for code, token in tokens:
        agent = Agent(
            ServerClient(server, token),
            AgentCache(Path(settings.instance_path) / "demo-agents" / code),
            lambda on_done: NullPlayer(on_done),
            poll_s=settings.agent_poll_s,
            heartbeat_s=min(settings.agent_heartbeat_s, 30.0),
            lead_s=settings.agent_lead_s,
            mqtt_url=settings.mqtt_url,
            name=code,
        )
        # The first sync fails until the server listens; the agent retries on its own.
        threading.Timer(1.0, agent.start).start()
        agents.append(agent)
    return agents
