"""Stations and their timelines (docs/api.md "Stations", "Timelines and schedules")."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Response, jsonify, request
from sqlalchemy import select

from scheduler import permissions, remap
from scheduler.db import now_utc
from scheduler.errors import Invalid
from scheduler.models import PlayLog, Station
from scheduler.recurrence import EARLIEST, LATEST, local_day_window
from scheduler.station_timelines import station_timeline
from scheduler.stations import get_station, subtree
from web.api import bp, serialize
from web.api.auth import require_user
from web.db import session, settings

MAX_DAYS = 62


def _offline_after() -> timedelta:
    return timedelta(seconds=settings().offline_after_s)


@bp.get("/stations")
def list_stations() -> Response:
    user = require_user()
    now = now_utc()
    rows = subtree(session(), user.station)
    return jsonify([serialize.station(s, now, _offline_after()) for s in rows])


@bp.get("/stations/<code>")
def show_station(code: str) -> Response:
    user = require_user()
    station = get_station(session(), code)
    permissions.require_view(user, station)
    body = serialize.station(station, now_utc(), _offline_after())
    body["children"] = list(
        session().scalars(
            select(Station.code).where(Station.parent_id == station.id).order_by(Station.code)
        )
    )
    # A move between maps: what the station was formed from, and what it became.
    lineage = remap.successions(session(), station)
    body["predecessors"] = [
        {
            "code": link.predecessor.code,
            "former_code": link.former_code,
            "former_name": link.former_name,
            "effective": link.effective.isoformat(),
        }
        for link in lineage["before"]
    ]
    body["successors"] = [
        {
            "code": link.successor.code,
            "name": link.successor.name,
            "default": link.is_default,
            "effective": link.effective.isoformat(),
        }
        for link in lineage["after"]
    ]
    return jsonify(body)


def day_range(station: Station) -> tuple[date, date]:
    """``from``/``to`` query parameters (whole local days, ``to`` inclusive; default today)."""
    today = now_utc().astimezone(ZoneInfo(station.timezone)).date()
    first = date_arg("from", today)
    last = date_arg("to", first)
    if last < first:
        raise Invalid("to: the last day is before the first", "to")
    for name, day in (("from", first), ("to", last)):
        if not EARLIEST <= day <= LATEST:
            raise Invalid(f"{name}: must be between {EARLIEST.year} and {LATEST.year}", name)
    if (last - first).days >= MAX_DAYS:
        raise Invalid(f"to: ask for at most {MAX_DAYS} days at a time", "to")
    return first, last


def date_arg(name: str, default: date) -> date:
    """The ``name`` query parameter as a date (``default`` when absent); 400 naming it."""
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{name}: {raw!r} is not a date like 2026-04-21", name) from None


@bp.get("/stations/<code>/timeline")
def timeline(code: str) -> Response:
    user = require_user()
    station = get_station(session(), code)
    permissions.require_view(user, station)
    first, last = day_range(station)
    entries = station_timeline(
        session(), station, first, last, timedelta(seconds=settings().min_fragment_s)
    )
    zone = ZoneInfo(station.timezone)
    return jsonify([serialize.entry(e, zone) for e in entries])


@bp.get("/stations/<code>/plays")
def plays(code: str) -> Response:
    user = require_user()
    station = get_station(session(), code)
    permissions.require_view(user, station)
    first, last = day_range(station)
    start, end = local_day_window(first, last, station.timezone)
    rows = session().scalars(
        select(PlayLog)
        .where(PlayLog.station_id == station.id)
        .where(PlayLog.scheduled_start >= start, PlayLog.scheduled_start < end)
        .order_by(PlayLog.scheduled_start)
    )
    zone = ZoneInfo(station.timezone)
    return jsonify(
        [
            {
                "id": p.id,
                "item": p.item,
                "broadcast": p.broadcast_id,
                "scheduled_start": p.scheduled_start.astimezone(zone).isoformat(),
                "started_at": p.started_at.astimezone(zone).isoformat() if p.started_at else None,
                "ended_at": p.ended_at.astimezone(zone).isoformat() if p.ended_at else None,
                "status": p.status,
                "detail": p.detail,
                "received_at": p.received_at.astimezone(zone).isoformat(),
                "alert_received_at": (
                    p.received_at_station.astimezone(zone).isoformat()
                    if p.received_at_station
                    else None
                ),
                # Proof of broadcast: what was fingerprinted, and whether it matched.
                "fingerprint_source": p.fingerprint_source,
                "verified": p.verified,
                "similarity": p.similarity,
            }
            for p in rows
        ]
    )
