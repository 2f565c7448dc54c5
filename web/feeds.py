"""Feeds outside the JSON API: a station's schedule as iCalendar, for phone calendars.

Phones cannot send headers when subscribing, so besides ``Authorization: Bearer`` the feed
accepts ``?token=<personal API token>``.

A phone keeps an event by its UID, so the UID is the broadcast and the *planned* start of the
occurrence: when a higher broadcast shifts the airing the event moves (DTSTART is the actual
time) instead of being deleted and added again, with the reminder its owner set on it.
SEQUENCE is the station's schedule revision, which grows with every change that can reach
its timeline, so a moved airing always comes with a higher number. The body depends on the
schedule only (DTSTAMP is the event's last change, not the request's time), so its hash is a
strong ETag and an unchanged feed is a ``304``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, request
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import select

from scheduler import overview, permissions
from scheduler.db import now_utc
from scheduler.errors import DomainError
from scheduler.models import Broadcast, Station
from scheduler.station_timelines import Airing
from scheduler.stations import get_station
from web.api.auth import require_user
from web.api.errors import error_response
from web.db import session, settings
from web.i18n import format_time
from web.schedule.calendar import reason
from web.stations.labels import KINDS, PLAY_STATUS, PRIORITIES, reason_text

bp = Blueprint("feeds", __name__)
FEED_DAYS = 14


def _names(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session().execute(select(Station.code, Station.name).where(Station.code.in_(codes)))
    return {str(code): str(name) for code, name in rows}


def _broadcasts(ids: set[int]) -> dict[int, tuple[str, datetime]]:
    """Each broadcast's title and last change (saved, or approved since)."""
    if not ids:
        return {}
    rows = session().execute(
        select(Broadcast.id, Broadcast.title, Broadcast.updated_at, Broadcast.approved_at).where(
            Broadcast.id.in_(ids)
        )
    )
    return {int(i): (str(t), max(u, a or u)) for i, t, u, a in rows}


def uid(broadcast: int, planned: datetime, part: int = 1) -> str:
    """The event's identity: the broadcast and the occurrence's planned start (a truncated
    airing's later parts are numbered), whatever time it finally airs at."""
    suffix = f"-{part}" if part > 1 else ""
    return f"{broadcast}-{planned.astimezone(UTC):%Y%m%dT%H%M%SZ}{suffix}@loaxa"


def _aired(line: overview.Line, zone: ZoneInfo) -> str:
    """What the station reported, in the relay page's words: ``Đã phát — thực tế 17:00–17:30``."""
    play = line.play
    if play is None:
        return ""
    said = [str(PLAY_STATUS.get(play.status, play.status))]
    if play.started_at is not None:
        end = f"–{format_time(play.ended_at, zone)}" if play.ended_at else ""
        said.append(_("thực tế %(start)s", start=format_time(play.started_at, zone)) + end)
    if play.detail:
        said.append(reason_text(play.detail))
    return " — ".join(said)


def _event(
    line: overview.Line,
    part: int,
    zone: ZoneInfo,
    names: Mapping[str, str],
    facts: Mapping[int, tuple[str, datetime]],
    sequence: int,
) -> Event:
    entry, airing = line.entry, line.airing
    changed = [facts[airing.broadcast][1]]
    if entry.by is not None and entry.by in facts:
        changed.append(facts[entry.by][1])  # it moved when the one that beat it was saved
    if line.play is not None:
        changed.append(line.play.received_at)
    event = Event()
    event.add("uid", uid(airing.broadcast, entry.occurrence.start, part))
    event.add("sequence", sequence)
    # Without METHOD, DTSTAMP is when the event last changed (RFC 5545 3.8.7.2).
    event.add("dtstamp", max(changed))
    event.add("last-modified", max(changed))
    event.add("dtstart", entry.start.astimezone(zone))
    event.add("dtend", entry.end.astimezone(zone))
    event.add("summary", f"{_summary(airing)} (#{airing.broadcast})")
    titles = {i: title for i, (title, _at) in facts.items()}
    details = [reason(entry, zone, titles), _aired(line, zone)]
    details += [
        f"Đơn vị phát: {names.get(airing.origin, airing.origin)}",
        f"Mức ưu tiên: {str(PRIORITIES[airing.priority]).lower()}",
    ]
    if airing.source:
        details.append(f"Nguồn tiếp âm: {names.get(airing.source, airing.source)}")
    event.add("description", "\n".join(d for d in details if d))
    # Words a phone shows as the event's category, as the panel says them.
    event.add("categories", [_kind(airing), str(PRIORITIES[airing.priority])])
    return event


def _kind(airing: Airing) -> str:
    return str(KINDS.get(airing.kind, airing.kind))


def _summary(airing: Airing) -> str:
    label = _kind(airing)
    said = airing.title.lower().startswith(label.lower())
    return airing.title if said else f"{label}: {airing.title}"


def build_calendar(station: Station, now: datetime) -> Calendar:
    """The station's airings from yesterday to ``FEED_DAYS`` ahead, with what it reported."""
    zone = ZoneInfo(station.timezone)
    today = now.astimezone(zone).date()
    lines = overview.schedule_with_plays(
        session(),
        station,
        today - timedelta(days=1),
        today + timedelta(days=FEED_DAYS),
        timedelta(seconds=settings().min_fragment_s),
    )
    lines = [line for line in lines if line.entry.airs]
    calendar = Calendar()
    calendar.add("prodid", "-//Loa Xa//loaxa//VI")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"Lịch phát thanh — {station.station_name}")
    calendar.add("x-wr-timezone", station.timezone)
    names = _names({c for line in lines for c in (line.airing.origin, line.airing.source) if c})
    facts = _broadcasts({i for line in lines for i in (line.airing.broadcast, line.entry.by) if i})
    parts: Counter[tuple[int, datetime]] = Counter()
    with force_locale("vi"):  # a phone sends no language; the feed speaks the panel's own
        for line in lines:  # in time order, so a truncated airing's parts count up
            parts[line.entry.occurrence.broadcast, line.entry.occurrence.start] += 1
            part = parts[line.entry.occurrence.broadcast, line.entry.occurrence.start]
            event = _event(line, part, zone, names, facts, station.schedule_revision)
            calendar.add_component(event)
    calendar.add_missing_timezones()  # VTIMEZONE, so phone calendars place events right
    return calendar


@bp.errorhandler(DomainError)
def _domain(exc: DomainError) -> Response:
    return error_response(exc.status, exc.message, exc.field)


@bp.get("/stations/<code>/schedule.ics")
def schedule_ics(code: str) -> Response:
    user = require_user(query_token=True)
    station = get_station(session(), code)
    permissions.require_view(user, station)
    body = build_calendar(station, now_utc()).to_ical()
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Disposition"] = f'inline; filename="lich-{station.code}.ics"'
    # Personal (the token is the user's): browsers may keep it, shared caches not.
    response.headers["Cache-Control"] = "private, no-cache"
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.make_conditional(request)  # 304, without the body, for a matching If-None-Match
    return response
