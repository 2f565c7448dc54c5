"""Reports (docs/api.md "Reports"): planned against aired, for a station's subtree and a period.

``GET /api/v1/reports/compliance`` answers JSON; ``…/compliance.csv`` and ``…/compliance.xlsx``
(or ``Accept: text/csv``) the same rows as a spreadsheet. ``GET /api/v1/reports/airings``
lists one airing station's planned airings next to what its agent reported — the drill-down.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, jsonify, request
from sqlalchemy import select

from scheduler import compliance, permissions
from scheduler.campaign_report import CampaignReport, TopicTally, campaign_report, minutes
from scheduler.db import now_utc
from scheduler.errors import Forbidden, Invalid, NotFound
from scheduler.models import Campaign, Station, User
from scheduler.stations import get_station
from web.api import bp
from web.api.auth import require_user
from web.api.stations import date_arg
from web.db import session, settings
from web.reports.files import LEVELS, download, row_json, spreadsheet, tally_json

CSV = "text/csv"


@bp.get("/reports/compliance")
@bp.get("/reports/compliance.<fmt>")
def compliance_report(fmt: str | None = None) -> Response:
    if fmt not in (None, "csv", "xlsx", "json"):
        raise NotFound(f"there is no report format {fmt!r}: json, csv or xlsx")
    if fmt is None and request.accept_mimetypes.best_match(["application/json", CSV]) == CSV:
        fmt = "csv"
    report = build(require_user())
    if fmt in ("csv", "xlsx"):
        return download(report, fmt)
    return jsonify(report_json(report))


@bp.get("/reports/campaign")
@bp.get("/reports/campaign.<fmt>")
def campaign(fmt: str | None = None) -> Response:
    """Broadcasts, airings and minutes per topic of one campaign, per district and commune,
    with the observances of the period marked."""
    if fmt not in (None, "csv", "xlsx", "json"):
        raise NotFound(f"there is no report format {fmt!r}: json, csv or xlsx")
    user = require_user()
    code = request.args.get("campaign")
    if not code:
        raise Invalid("campaign: name the campaign (its code)", "campaign")
    found = session().scalar(select(Campaign).where(Campaign.code == code))
    if found is None:
        raise NotFound(f"campaign: there is no campaign {code!r}", "campaign")
    made = campaign_report(session(), found, build(user, settled=False))
    if fmt is None and request.accept_mimetypes.best_match(["application/json", CSV]) == CSV:
        fmt = "csv"
    if fmt in ("csv", "xlsx"):
        headers, rows = campaign_table(made)
        p = made.period
        title = (
            f"Báo cáo chiến dịch {found.name} — {made.rows[0].station.name} — "
            f"{p.first.day}/{p.first.month}/{p.first.year}–"
            f"{p.last.day}/{p.last.month}/{p.last.year}"
        )
        name = f"chien-dich-{found.code}-{p.first.isoformat()}-{p.last.isoformat()}"
        return spreadsheet(fmt, name, "Chiến dịch", title, headers, rows)
    return jsonify(campaign_json(made))


def campaign_json(made: CampaignReport) -> dict[str, Any]:
    def tally(t: TopicTally) -> dict[str, Any]:
        return {
            "broadcasts": len(t.broadcasts),
            "airings": t.airings,
            "planned_minutes": minutes(t.planned_s),
            "aired_minutes": minutes(t.aired_s),
        }

    campaign = made.campaign
    return {
        "campaign": {
            "code": campaign.code,
            "name": campaign.name,
            "starts_on": campaign.starts_on.isoformat() if campaign.starts_on else None,
            "ends_on": campaign.ends_on.isoformat() if campaign.ends_on else None,
        },
        "from": made.period.first.isoformat(),
        "to": made.period.last.isoformat(),
        "key_dates": [
            {"from": k.first.isoformat(), "to": k.last.isoformat(), "name": k.name}
            for k in made.key_dates
        ],
        "topics": [
            {"topic": t.code, "name": t.name, **tally(made.by_topic.get(t.code, TopicTally()))}
            for t in made.topics
        ],
        "rows": [
            {
                "station": r.station.code,
                "name": r.station.name,
                "level": r.station.level,
                **tally(r.total),
                "topics": {code: tally(t) for code, t in sorted(r.topics.items())},
            }
            for r in made.rows
        ],
        "totals": tally(made.rows[0].total if made.rows else TopicTally()),
    }


def campaign_table(made: CampaignReport) -> tuple[list[str], list[list[Any]]]:
    headers = ["Mã đài", "Tên đơn vị", "Cấp", "Số lượt phát", "Phút đã phát"]
    for topic in made.topics:
        headers += [f"Lượt — {topic.name}", f"Phút — {topic.name}"]
    rows = []
    for r in made.rows:
        cells: list[Any] = [
            r.station.code,
            r.station.name,
            LEVELS.get(r.station.level),
            r.total.airings,
            minutes(r.total.aired_s),
        ]
        for topic in made.topics:
            t = r.topics.get(topic.code, TopicTally())
            cells += [t.airings, minutes(t.aired_s)]
        rows.append(cells)
    return headers, rows


@bp.get("/reports/airings")
def airings_report() -> Response:
    """Each planned airing of one airing station, with its outcome and the agent's words."""
    user = require_user()
    if not request.args.get("station"):
        raise Invalid("station: name the station whose airings to list", "station")
    report = build(user, settled=False)
    station = report.root
    zone = ZoneInfo(station.timezone)
    found = report.outcomes.get(station.code)
    if found is None:
        raise Invalid(
            f"station: {station.code} does not air itself; ask for one of its communes", "station"
        )
    return jsonify(
        {
            "station": station.code,
            "name": station.name,
            "from": report.period.first.isoformat(),
            "to": report.period.last.isoformat(),
            "airings": [outcome_json(o, zone) for o in found],
        }
    )


def build(user: User, *, settled: bool = True) -> compliance.Report:
    """The report the query asks for, every parameter checked at the boundary; ``settled``
    False when each airing is wanted (drill-downs), not only the sums."""
    db = session()
    code = request.args.get("station")
    root = _station(code, "station") if code else user.station
    if not permissions.in_scope(user, root):
        raise Forbidden(f"station: {root.code} is outside your area", "station")
    today = now_utc().astimezone(ZoneInfo(root.timezone)).date()
    first = date_arg("from", today - timedelta(days=today.weekday()))
    period = compliance.Period.checked(first, date_arg("to", today))
    kind = request.args.get("kind") or None
    if kind is not None and kind not in compliance.KINDS:
        raise Invalid(f"kind: {kind!r} is not one of relay, program", "kind")
    origin = request.args.get("origin") or None
    if origin is not None:
        _station(origin, "origin")
    filters = compliance.Filters(kind, origin, request.args.get("campaign") or None)
    cfg = settings()
    return compliance.compliance(
        db,
        root,
        period,
        filters,
        now_utc(),
        timedelta(seconds=cfg.min_fragment_s),
        timedelta(seconds=cfg.report_grace_s),
        settled=settled,
    )


def report_json(report: compliance.Report) -> dict[str, Any]:
    f = report.filters
    return {
        "from": report.period.first.isoformat(),
        "to": report.period.last.isoformat(),
        "station": report.root.code,
        "kind": f.kind,
        "origin": f.origin,
        "campaign": f.campaign,
        "rows": [row_json(r) for r in report.rows],
        "totals": tally_json(report.totals),
    }


def outcome_json(outcome: compliance.AiringResult, zone: ZoneInfo) -> dict[str, Any]:
    p = outcome.planned
    return {
        "broadcast": p.airing.broadcast,
        "title": p.airing.title,
        "kind": p.airing.kind,
        "origin": p.airing.origin,
        "scheduled_start": _iso(p.scheduled_start, zone),
        "start": _iso(p.start, zone),
        "end": _iso(p.end, zone),
        "planned_minutes": round(p.seconds / 60, 1),
        "status": outcome.status,
        "aired_minutes": round(outcome.aired_s / 60, 1),
        "reason": outcome.reason,
        "verified": outcome.verified,
        "logs": [
            {
                "status": log.status,
                "started_at": _iso(log.started_at, zone),
                "ended_at": _iso(log.ended_at, zone),
                "detail": log.detail,
                "verified": log.verified,
                "fingerprint_source": log.proof,
            }
            for log in outcome.logs
        ],
    }


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment is not None else None


def _station(code: str, name: str) -> Station:
    try:
        return get_station(session(), code)
    except NotFound:
        raise NotFound(f"{name}: there is no station with code {code!r}", name) from None
