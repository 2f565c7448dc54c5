"""Finished days written down, so a report over a month of the country is one aggregate.

Resolving every commune's timeline for a month and matching a million play logs takes tens
of seconds; once a local day is over (and its grace has passed) its answer no longer
changes except when a late log or a verification arrives. :func:`settle_day` writes each
planned airing's outcome into ``airing_outcomes`` and marks the day settled;
``scheduler.compliance`` then sums settled days in SQL and resolves only the rest.
:func:`refresh` rewrites the outcomes a late log or a verification touches, so what the
report says stays what the logs say.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from scheduler.compliance import (
    Filters,
    Log,
    airing_stations,
    judged,
    live_outcomes,
    verified_of,
    wanted_for,
)
from scheduler.models import AiringOutcome, Broadcast, PlayLog, SettledDay, Station
from scheduler.recurrence import local_day_window
from scheduler.stations import subtree

log = logging.getLogger(__name__)

SETTLE_AFTER = timedelta(hours=1)  # after a day's local midnight (a day with an airing not
# over by then, a long night relay, waits: settle_day refuses it)


def days_to_settle(session: Session, zone: str, now: datetime, limit: int = 7) -> list[date]:
    """The oldest days, at most ``limit``, that are over and not yet written down (from the
    first broadcast's day on)."""
    first = session.scalar(select(func.min(Broadcast.start_local)))
    if first is None:
        return []
    last = (now - SETTLE_AFTER).astimezone(ZoneInfo(zone)).date() - timedelta(days=1)
    done = set(session.scalars(select(SettledDay.day).where(SettledDay.day >= first.date())))
    found: list[date] = []
    day = first.date()
    while day <= last and len(found) < limit:
        if day not in done:
            found.append(day)
        day += timedelta(days=1)
    return found


def settle_day(
    session: Session, day: date, now: datetime, min_fragment: timedelta, grace: timedelta
) -> int:
    """Write down the outcome of every airing planned on local ``day`` across the whole
    network; return how many. A day with an airing not over yet is left for later (-1)."""
    rows: list[dict[str, object]] = []
    for root in session.scalars(select(Station).where(Station.parent_id.is_(None))):
        stations = list(subtree(session, root))
        airs = airing_stations(session, stations)
        window = local_day_window(day, day, root.timezone)
        outcomes = live_outcomes(
            session,
            stations,
            airs,
            window,
            wanted_for(session, Filters()),
            now,
            min_fragment,
            grace,
        )
        id_of = {s.code: s.id for s in stations}
        for code, found in outcomes.items():
            for o in found:
                if o.status == "upcoming":
                    return -1
                p = o.planned
                rows.append(
                    {
                        "station_id": id_of[code],
                        "broadcast_id": p.airing.broadcast,
                        "scheduled_start": p.scheduled_start,
                        "ends_at": p.end,
                        "day": day,
                        "kind": p.airing.kind,
                        "origin": p.airing.origin,
                        "program_id": p.airing.program,
                        "planned_s": p.seconds,
                        "status": o.status,
                        "aired_s": o.aired_s,
                        "verified": o.verified,
                    }
                )
    session.execute(delete(AiringOutcome).where(AiringOutcome.day == day))
    for chunk in range(0, len(rows), 5000):
        session.execute(insert(AiringOutcome), rows[chunk : chunk + 5000])
    session.merge(SettledDay(day=day, settled_at=now))
    return len(rows)


def settle_due(
    session: Session, zone: str, now: datetime, min_fragment: timedelta, grace: timedelta
) -> list[date]:
    """Settle the days that are due (a few per call: a long history is caught up over
    several ticks); return those written down."""
    done = []
    for day in days_to_settle(session, zone, now):
        if settle_day(session, day, now, min_fragment, grace) < 0:
            break
        done.append(day)
    return done


def refresh(session: Session, keys: Iterable[tuple[int, int | None, datetime]]) -> int:
    """Rewrite the settled outcomes of these (station id, broadcast, scheduled start) airings
    from their logs as they now are; return how many changed. Called on every log upload:
    one query when (as nearly always) none of them is on a day already written down."""
    wanted = {(s, b, t) for s, b, t in keys if b is not None}
    if not wanted:
        return 0
    settled = [
        row
        for row in session.scalars(
            select(AiringOutcome).where(
                AiringOutcome.station_id.in_({s for s, _, _ in wanted}),
                AiringOutcome.scheduled_start.in_({t for _, _, t in wanted}),
            )
        )
        if (row.station_id, row.broadcast_id, row.scheduled_start) in wanted
    ]
    for row in settled:
        logs = [
            Log(p.status, p.started_at, p.ended_at, p.detail, p.verified, p.fingerprint_source)
            for p in session.scalars(
                select(PlayLog)
                .where(
                    PlayLog.station_id == row.station_id,
                    PlayLog.broadcast_id == row.broadcast_id,
                    PlayLog.scheduled_start == row.scheduled_start,
                )
                .order_by(PlayLog.started_at)
            )
        ]
        if logs:
            row.status, row.aired_s, _ = judged(row.planned_s, logs)
            row.verified = verified_of(logs)
    return len(settled)
