"""Feeds outside the JSON API: a station's schedule as iCalendar, for phone calendars.

Phones cannot send headers when subscribing, so besides ``Authorization: Bearer`` the feed
accepts ``?token=<personal API token>``.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response
from icalendar import Calendar, Event
from sqlalchemy import select

from scheduler import permissions
from scheduler.db import now_utc
from scheduler.errors import DomainError
from scheduler.models import Broadcast, Station
from scheduler.schedule import station_timeline
from scheduler.stations import get_station
from web.api.auth import require_user
from web.api.errors import error_response
from web.db import session, settings

bp = Blueprint("feeds", __name__)
FEED_DAYS = 14
KIND_LABEL = {"relay": "Tiếp âm", "program": "Chương trình"}
PRIORITY_LABEL = {"normal": "thường", "priority": "ưu tiên", "emergency": "khẩn cấp"}
OUTCOME_LABEL = {"shifted": "dời giờ", "truncated": "rút ngắn", "preempted": "bị thay thế"}


def _names(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session().execute(select(Station.code, Station.name).where(Station.code.in_(codes)))
    return {str(code): str(name) for code, name in rows}


def _titles(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session().execute(select(Broadcast.id, Broadcast.title).where(Broadcast.id.in_(ids)))
    return {int(i): str(t) for i, t in rows}


@bp.errorhandler(DomainError)
def _domain(exc: DomainError) -> Response:
    return error_response(exc.status, exc.message, exc.field)


@bp.get("/stations/<code>/schedule.ics")
def schedule_ics(code: str) -> Response:
    user = require_user(query_token=True)
    station = get_station(session(), code)
    permissions.require_view(user, station)
    zone = ZoneInfo(station.timezone)
    now = now_utc()
    today = now.astimezone(zone).date()
    entries = station_timeline(
        session(),
        station,
        today - timedelta(days=1),
        today + timedelta(days=FEED_DAYS),
        timedelta(seconds=settings().min_fragment_s),
    )
    calendar = Calendar()
    calendar.add("prodid", "-//Loa Xa//loaxa//VI")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Lịch phát thanh — {station.station_name}")
    calendar.add("x-wr-timezone", station.timezone)
    airings = [e.occurrence.payload for e in entries if e.airs]
    names = _names({a.origin for a in airings} | {a.source for a in airings if a.source})
    titles = _titles({e.by for e in entries if e.airs and e.by})
    for entry in entries:
        if not entry.airs:
            continue
        airing = entry.occurrence.payload
        event = Event()
        event.add("uid", f"{airing.broadcast}-{entry.start:%Y%m%dT%H%M%SZ}@loaxa")
        event.add("dtstamp", now)
        event.add("dtstart", entry.start.astimezone(zone))
        event.add("dtend", entry.end.astimezone(zone))
        label = KIND_LABEL.get(airing.kind, airing.kind)
        said = airing.title.lower().startswith(label.lower())
        event.add("summary", airing.title if said else f"{label}: {airing.title}")
        details = [
            f"Đơn vị phát: {names.get(airing.origin, airing.origin)}",
            f"Mức ưu tiên: {PRIORITY_LABEL[airing.priority]}",
        ]
        if airing.source:
            details.append(f"Nguồn tiếp âm: {names.get(airing.source, airing.source)}")
        if entry.outcome != "scheduled":
            why = OUTCOME_LABEL.get(entry.outcome, entry.outcome)
            by = titles.get(entry.by or 0, f"#{entry.by}")
            details.append(f"Điều chỉnh: {why}, nhường cho «{by}»")
        event.add("description", "\n".join(details))
        # Words a phone shows as the event's category, as the panel says them.
        event.add("categories", [label, PRIORITY_LABEL[airing.priority].capitalize()])
        calendar.add_component(event)
    calendar.add_missing_timezones()  # VTIMEZONE, so phone calendars place events right
    response = Response(calendar.to_ical(), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="lich-{station.code}.ics"'
    return response
