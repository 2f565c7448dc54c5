"""Feeds outside the JSON API: a station's schedule as iCalendar, for phone calendars.

Phones cannot send headers when subscribing, so besides ``Authorization: Bearer`` the feed
accepts ``?token=<personal API token>``.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response
from icalendar import Calendar, Event

from scheduler import permissions
from scheduler.db import now_utc
from scheduler.errors import DomainError
from scheduler.schedule import station_timeline
from scheduler.stations import get_station
from web.api.auth import require_user
from web.api.errors import error_response
from web.db import session, settings

bp = Blueprint("feeds", __name__)
FEED_DAYS = 14
KIND_LABEL = {"relay": "Tiếp âm", "program": "Chương trình"}
PRIORITY_LABEL = {"normal": "thường", "priority": "ưu tiên", "emergency": "khẩn cấp"}


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
            f"Đơn vị phát: {airing.origin}",
            f"Mức ưu tiên: {PRIORITY_LABEL[airing.priority]}",
        ]
        if airing.source:
            details.append(f"Nguồn tiếp âm: {airing.source}")
        if entry.outcome != "scheduled":
            details.append(f"Điều chỉnh: {entry.outcome} (do chương trình #{entry.by})")
        event.add("description", "\n".join(details))
        event.add("categories", [airing.kind, airing.priority])
        calendar.add_component(event)
    calendar.add_missing_timezones()  # VTIMEZONE, so phone calendars place events right
    response = Response(calendar.to_ical(), mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="lich-{station.code}.ics"'
    return response
