"""Manifests: what a station's agent must play from now on, with the media it needs.

A manifest is the station's resolved timeline for the next ``manifest_hours`` (what airs, not
what was displaced), each item with its media or stream and ``offset_ms`` (where in the media
a truncated programme part starts). Its ETag depends only on the station's schedule revision
and the hour the window starts in, so the cheap answer — ``304 Not Modified`` — needs one
indexed lookup and no resolving at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from scheduler.manifest_body import ManifestBody, ManifestItem, ManifestMedia
from scheduler.models import (
    Alert,
    Broadcast,
    BroadcastStatus,
    BroadcastTarget,
    MediaFile,
    Program,
    ProgramStatus,
    Station,
)
from scheduler.push import TOPIC
from scheduler.recurrence import local_day_window, localize
from scheduler.station_timelines import (
    airing_deadlines,
    repeat_starts,
    station_timeline,
    tree_timelines,
    with_ancestors,
)
from scheduler.timeline import Entry


@dataclass(frozen=True)
class OpenAlert:
    """An alert that may still air somewhere: its airings air "as soon as received" until
    their deadline (:func:`scheduler.station_timelines.airing_deadline`), even when they reach a
    station after their scheduled end — so they stay in manifests until then."""

    alert: int
    broadcast: int
    title: str
    origin: str
    program: int | None
    every: timedelta | None
    expires_at: datetime | None
    duration: timedelta
    starts: tuple[datetime, ...]
    targets: frozenset[str]
    priority: str = "emergency"  # a CAP Moderate/Minor alert airs as a priority bulletin

    def deadline(self, start: datetime) -> datetime | None:
        deadlines = dict(
            zip(self.starts, airing_deadlines(self.starts, self.expires_at), strict=True)
        )
        return deadlines.get(start, self.expires_at)


def open_alerts(session: Session, since: datetime) -> dict[int, OpenAlert]:
    """Alerts on air that had not expired at ``since`` (the manifest window's start), by
    broadcast id (two small queries). One that expired since is still marked as an alert in
    the window, with its past ``expires``: the agent then logs it missed for that reason."""
    rows = session.execute(
        select(Alert.id, Broadcast, Station.code, Program.duration_ms)
        .join(Broadcast, Alert.broadcast_id == Broadcast.id)
        .join(Station, Broadcast.owner_id == Station.id)
        .join(Program, Broadcast.program_id == Program.id)
        .where(Broadcast.status == BroadcastStatus.approved, Broadcast.expires_at > since)
    ).all()
    if not rows:
        return {}
    targets: dict[int, set[str]] = {}
    for broadcast_id, code in session.execute(
        select(BroadcastTarget.broadcast_id, Station.code)
        .join(Station, BroadcastTarget.station_id == Station.id)
        .where(BroadcastTarget.broadcast_id.in_([b.id for _a, b, _c, _d in rows]))
    ):
        targets.setdefault(broadcast_id, set()).add(code)
    found = {}
    for alert_id, broadcast, origin, duration_ms in rows:
        every = timedelta(seconds=broadcast.repeat_every_s) if broadcast.repeat_every_s else None
        first = localize(broadcast.start_local, ZoneInfo(broadcast.timezone))
        starts = repeat_starts(first, every, broadcast.repeat_count, broadcast.expires_at)
        found[broadcast.id] = OpenAlert(
            alert_id,
            broadcast.id,
            broadcast.title,
            origin,
            broadcast.program_id,
            every,
            broadcast.expires_at,
            timedelta(milliseconds=duration_ms or 0),
            tuple(starts),
            frozenset(targets.get(broadcast.id, ())),
            broadcast.priority.value,
        )
    return found


@dataclass(frozen=True)
class Manifest:
    etag: str
    body: dict[str, Any]
    media: frozenset[str]  # sha256 of every file the items name


def window_start(now: datetime) -> datetime:
    """Windows start on the hour: within an hour an unchanged schedule keeps its ETag."""
    return now.replace(minute=0, second=0, microsecond=0)


def etag_of(code: str, revision: int, now: datetime) -> str:
    """The manifest's entity tag (unquoted): same revision, same hour, same manifest. Takes
    plain values so the 304 answer can be decided from two columns, without ORM objects."""
    return f"{code}-r{revision}-{window_start(now):%Y%m%d%H}"


def etag_for(station: Station, now: datetime) -> str:
    return etag_of(station.code, station.schedule_revision, now)


def item_id(broadcast: int, start: datetime) -> str:
    """Stable across revisions while the airing keeps its start: the agent's job id."""
    return f"{broadcast}-{start.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}"


def build_manifest(
    session: Session, settings: Settings, station: Station, now: datetime, media_url: str
) -> Manifest:
    """The manifest for ``station`` from the current hour on; ``media_url`` is a format
    string with ``{sha256}`` for the download address."""
    start, end = _window(settings, now)
    first_day, last_day = _local_days(station, start, end)
    entries = station_timeline(
        session, station, first_day, last_day, timedelta(seconds=settings.min_fragment_s)
    )
    airing = _airing(entries, start, end)
    alerts = open_alerts(session, start)
    wanted = {e.occurrence.payload.program for e in airing} | {a.program for a in alerts.values()}
    programs = _program_media(session, wanted)
    return _manifest(station, airing, programs, now, start, end, media_url, alerts)


def build_manifests(
    session: Session,
    settings: Settings,
    stations: Sequence[Station],
    now: datetime,
    media_url: str,
) -> dict[str, Manifest]:
    """Manifests of many stations (a province's subtree, when an alert makes them all sync at
    once), by code: the same bodies as :func:`build_manifest`, from one tree resolve.

    1. The window covers every station's local days (as :func:`station_timeline` does).
    2. :func:`tree_timelines` loads, expands and resolves the broadcasts once for the tree
       (ancestors are added to it; their manifests are not returned unless asked for).
    3. One query finds the media of every programme that airs; then each body is built.
    """
    if not stations:
        return {}
    start, end = _window(settings, now)
    days = [local_day_window(*_local_days(s, start, end), s.timezone) for s in stations]
    window = (min(d[0] for d in days), max(d[1] for d in days))
    tree = with_ancestors(session, stations)
    timelines = tree_timelines(session, tree, window, timedelta(seconds=settings.min_fragment_s))
    airing = {s.code: _airing(timelines.get(s.code, []), start, end) for s in stations}
    alerts = open_alerts(session, start)
    wanted = {e.occurrence.payload.program for entries in airing.values() for e in entries}
    programs = _program_media(session, wanted | {a.program for a in alerts.values()})
    return {
        s.code: _manifest(s, airing[s.code], programs, now, start, end, media_url, alerts)
        for s in stations
    }


def _window(settings: Settings, now: datetime) -> tuple[datetime, datetime]:
    start = window_start(now)
    return start, start + timedelta(hours=settings.manifest_hours)


def _local_days(station: Station, start: datetime, end: datetime) -> tuple[date, date]:
    zone = ZoneInfo(station.timezone)
    return start.astimezone(zone).date(), end.astimezone(zone).date()


def _airing(entries: Sequence[Entry], start: datetime, end: datetime) -> list[Entry]:
    return [e for e in entries if e.airs and e.end > start and e.start < end]


def _manifest(
    station: Station,
    airing: Sequence[Entry],
    programs: Mapping[int, MediaFile],
    now: datetime,
    start: datetime,
    end: datetime,
    media_url: str,
    alerts: Mapping[int, OpenAlert],
) -> Manifest:
    """The body of one station's manifest from its airing entries (shared by both builders).

    Alert airings say ``"on_receipt": true`` and their ``expires`` (the latest they may
    start): the agent airs them as soon as it has them, from the top, until then. An alert
    airing already over on the server's timeline is listed too while it may still start, so
    an agent back from an outage still airs it."""
    zone = ZoneInfo(station.timezone)
    items: list[ManifestItem] = []
    names = set()
    for entry in airing:
        info = entry.occurrence.payload
        media = programs.get(info.program) if info.kind == "program" else None
        if info.kind == "program" and media is None:
            continue  # not rendered: nothing to play (the save refused this; be safe)
        if media is not None:
            names.add(media.sha256)
        item = ManifestItem(
            id=item_id(info.broadcast, entry.start),
            broadcast=info.broadcast,
            title=info.title,
            kind=info.kind,
            priority=info.priority,
            origin=info.origin,
            start=entry.start.astimezone(zone),
            end=entry.end.astimezone(zone),
            scheduled_start=entry.occurrence.start.astimezone(zone),
            outcome=entry.outcome,
            offset_ms=int(entry.offset.total_seconds() * 1000),
            media=[_media(media, media_url)] if media is not None else [],
            stream_url=info.stream_url if info.kind == "relay" else None,
        )
        open_alert = alerts.get(info.broadcast)
        if open_alert is not None:
            item = _mark_alert(item, open_alert, entry.occurrence.start, zone)
        items.append(item)
    path = station.path.strip("/").split("/")
    listed = {item.id for item in items}
    for open_alert in alerts.values():
        if open_alert.targets.isdisjoint(path):
            continue
        media = programs.get(open_alert.program) if open_alert.program else None
        for late in open_alert.starts:
            deadline = open_alert.deadline(late)
            if late + open_alert.duration > start or deadline is None or deadline <= now:
                continue  # in the window already, or no longer to be aired
            if media is None or item_id(open_alert.broadcast, late) in listed:
                continue
            names.add(media.sha256)
            items.append(_late_alert_item(open_alert, late, zone, _media(media, media_url)))
    items.sort(key=lambda i: i.start)
    body = ManifestBody(
        station=station.code,
        revision=station.schedule_revision,
        server_time=now.astimezone(zone),
        from_=start.astimezone(zone),
        to=end.astimezone(zone),
        timezone=station.timezone,
        # Pushes for a district or the province reach this station too: listen to all of them.
        mqtt_topics=[TOPIC.format(code=code) for code in path],
        items=items,
    )
    return Manifest(
        etag=etag_for(station, now),
        body=body.model_dump(mode="json", by_alias=True),
        media=frozenset(names),
    )


def _mark_alert(
    item: ManifestItem, alert: OpenAlert, start: datetime, zone: ZoneInfo
) -> ManifestItem:
    deadline = alert.deadline(start)
    expires = deadline.astimezone(zone) if deadline is not None else None
    return item.model_copy(update={"alert": alert.alert, "on_receipt": True, "expires": expires})


def _late_alert_item(
    alert: OpenAlert, start: datetime, zone: ZoneInfo, media: ManifestMedia
) -> ManifestItem:
    item = ManifestItem(
        id=item_id(alert.broadcast, start),
        broadcast=alert.broadcast,
        title=alert.title,
        kind="program",
        priority=alert.priority,
        origin=alert.origin,
        start=start.astimezone(zone),
        end=(start + alert.duration).astimezone(zone),
        scheduled_start=start.astimezone(zone),
        outcome="scheduled",
        offset_ms=0,
        media=[media],
        stream_url=None,
    )
    return _mark_alert(item, alert, start, zone)


def _program_media(session: Session, ids: set[int | None]) -> dict[int, MediaFile]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.execute(
        select(Program.id, MediaFile)
        .join(MediaFile, Program.media_file_id == MediaFile.id)
        .where(Program.id.in_(wanted), Program.status == ProgramStatus.ready)
    )
    return {program_id: media for program_id, media in rows}


def _media(media: MediaFile, media_url: str) -> ManifestMedia:
    return ManifestMedia(
        sha256=media.sha256,
        url=media_url.format(sha256=media.sha256),
        duration_ms=media.duration_ms,
        bytes=media.bytes,
    )
