"""Where an alert aired, station by station, as the stations reported it (docs/api.md "Alerts").

Every station that hears the alert (its targets' subtrees) has one line per airing, decided
from what its agent said — the play log once the airing is over, before that the receipt its
heartbeat carried — and, where it said nothing, from the clock and the station's liveness:

========== ==========================================================================
state      meaning
========== ==========================================================================
scheduled  a repeat not due yet
waiting    due, the station is online, it has not said it received it (yet)
offline    due, nothing received, the station's agent is silent
received   the agent has it and is about to air it
started    on air (no play log yet)
played     aired in full
partial    aired in part (cut, or the stream/media gave out)
interrupted stopped by something higher, or the agent stopped
failed     the agent could not air it (its reason)
missed     not aired: the agent said so, or it never reported and the airing's deadline
           passed ("no report") — a dead station is counted, not only one that says so
========== ==========================================================================

A station's state is its latest due airing's (the first one while none is due). The alert is
``done`` once every station has a final state for every airing, or the last airing's
deadline has passed; counts are taken over the same station states the rows show.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from scheduler.alerts import alert_starts
from scheduler.models import Alert, AlertReceipt, AlertState, PlayLog, Station
from scheduler.station_timelines import airing_deadlines

FINAL = {"played", "partial", "interrupted", "failed", "missed"}
STATES = ("scheduled", "waiting", "offline", "received", "started", *sorted(FINAL))
NO_REPORT = "no report"  # the server's own reason for a missed airing
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class AiringState:
    start: datetime
    deadline: datetime | None
    state: str
    received_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    reason: str | None = None  # the agent's detail, or NO_REPORT


@dataclass
class StationState:
    station: Station
    online: bool
    airings: list[AiringState]
    now: datetime

    @property
    def current(self) -> AiringState | None:
        due = [a for a in self.airings if a.start <= self.now]
        return due[-1] if due else (self.airings[0] if self.airings else None)

    @property
    def state(self) -> str:
        current = self.current
        return current.state if current is not None else "scheduled"

    @property
    def aired(self) -> int:
        return sum(1 for a in self.airings if a.state in ("played", "partial"))

    @property
    def final(self) -> bool:
        return all(a.state in FINAL for a in self.airings)


@dataclass
class AlertStatus:
    alert: Alert
    state: str  # preparing | failed | recorded | cancelled | live | done
    starts: list[datetime]
    rows: list[StationState]  # at most ``limit`` of them
    total: int  # stations that hear it
    counts: dict[str, int] = field(default_factory=dict)  # station state → stations (all)

    @property
    def started(self) -> int:
        """Stations that put it on air at least once."""
        return sum(self.counts.get(s, 0) for s in ("started", "played", "partial", "interrupted"))


def _key(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)


def alert_status(
    session: Session, alert: Alert, now: datetime, offline_after: timedelta, limit: int = 500
) -> AlertStatus:
    """The alert's status now (see the module docstring)."""
    starts = alert_starts(alert)
    broadcast = alert.broadcast
    if broadcast is None or not starts:
        return AlertStatus(alert, alert.state.value, [], [], 0, {})
    deadlines = airing_deadlines(starts, broadcast.expires_at)
    paths = [t.station.path for t in broadcast.targets]
    hears = or_(*[Station.path.startswith(p, autoescape=True) for p in paths])
    stations = list(session.scalars(select(Station).where(hears).order_by(Station.path)))
    logs: dict[tuple[int, datetime], PlayLog] = {}
    for log in session.scalars(
        select(PlayLog)
        .where(PlayLog.broadcast_id == broadcast.id)
        .order_by(PlayLog.received_at, PlayLog.id)
    ):
        logs[(log.station_id, _key(log.scheduled_start))] = log  # the last word counts
    receipts = {
        (r.station_id, _key(r.scheduled_start)): r
        for r in session.scalars(
            select(AlertReceipt).where(AlertReceipt.broadcast_id == broadcast.id)
        )
    }
    cancelled_at = alert.cancelled_at if alert.state == AlertState.cancelled else None
    rows = []
    for station in stations:
        online = station.last_seen is not None and now - station.last_seen <= offline_after
        airings = []
        for start, deadline in zip(starts, deadlines, strict=True):
            if cancelled_at is not None and start > cancelled_at:
                continue  # never due: cancelled before it
            key = (station.id, _key(start))
            airings.append(_airing(start, deadline, logs.get(key), receipts.get(key), online, now))
        rows.append(StationState(station, online, airings, now))
    counts = Counter(r.state for r in rows)
    over = all(r.final for r in rows) or (deadlines[-1] is not None and now >= deadlines[-1])
    state = "done" if over else "live"
    if alert.state == AlertState.cancelled:
        state = "cancelled"
    return AlertStatus(alert, state, starts, rows[:limit], len(rows), dict(counts))


def _airing(
    start: datetime,
    deadline: datetime | None,
    log: PlayLog | None,
    receipt: AlertReceipt | None,
    online: bool,
    now: datetime,
) -> AiringState:
    received = log.received_at_station if log is not None else None
    if receipt is not None:
        received = received or receipt.received_at
    if log is not None:
        return AiringState(
            start, deadline, log.status, received, log.started_at, log.ended_at, log.detail
        )
    started = receipt.started_at if receipt is not None else None
    if started is not None:
        return AiringState(start, deadline, "started", received, started)
    if deadline is not None and now >= deadline:
        return AiringState(start, deadline, "missed", received, reason=NO_REPORT)
    if received is not None:
        return AiringState(start, deadline, "received", received)
    if start > now:
        return AiringState(start, deadline, "scheduled")
    return AiringState(start, deadline, "waiting" if online else "offline")


def status_counts(session: Session, alerts: list[Alert]) -> dict[int, dict[str, int]]:
    """For a list of alerts: play-log statuses per alert (the history page's quick counts)."""
    ids = {a.broadcast_id: a.id for a in alerts if a.broadcast_id is not None}
    found: dict[int, dict[str, int]] = defaultdict(dict)
    if not ids:
        return found
    rows = session.execute(
        select(PlayLog.broadcast_id, PlayLog.status, func.count(func.distinct(PlayLog.station_id)))
        .where(PlayLog.broadcast_id.in_(list(ids)))
        .group_by(PlayLog.broadcast_id, PlayLog.status)
    )
    for broadcast_id, status, count in rows:
        if broadcast_id is not None:
            found[ids[broadcast_id]][status] = int(count)
    return found
