"""The report pages (:mod:`scheduler.compliance` underneath, as the JSON API uses it).

The query is checked at the boundary: a bad period or a station outside my area shows the
form again with the sentence that says why (400/403/404), never a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from scheduler import compliance, permissions
from scheduler.db import now_utc
from scheduler.errors import DomainError, Forbidden, Invalid, NotFound
from scheduler.models import Station, User
from scheduler.stations import get_station, subtree
from web.auth import login_required, panel_user
from web.db import session, settings
from web.reports import bp, charts
from web.reports.files import download

PERIODS = {
    "week": _l("Tuần này"),
    "month": _l("Tháng này"),
    "last-month": _l("Tháng trước"),
    "custom": _l("Khoảng ngày khác"),
}
KINDS = {"": _l("Tất cả"), "relay": _l("Tiếp âm"), "program": _l("Chương trình")}
STATUS = {
    "played": _l("Phát đủ"),
    "partial": _l("Phát một phần"),
    "missed": _l("Bỏ lỡ"),
    "interrupted": _l("Bị ngắt"),
    "failed": _l("Lỗi"),
    "upcoming": _l("Chưa tới giờ"),
}
REASONS = {compliance.NO_REPORT: _l("Đài không gửi báo cáo (máy trạm không chạy hoặc mất kết nối)")}
PICKER_LEVELS = 1


@dataclass
class Query:
    station: str
    period: str
    first: date
    last: date
    kind: str


def _today(root: Station) -> date:
    return now_utc().astimezone(ZoneInfo(root.timezone)).date()


def _query(me: User) -> Query:
    code = request.args.get("station") or me.station.code
    period = request.args.get("period") or "week"
    if period not in PERIODS:
        raise Invalid(_("Khoảng thời gian không hợp lệ."), "period")
    today = _today(me.station)
    if period == "week":
        first, last = today - timedelta(days=today.weekday()), today
    elif period == "month":
        first, last = today.replace(day=1), today
    elif period == "last-month":
        last = today.replace(day=1) - timedelta(days=1)
        first = last.replace(day=1)
    else:
        first, last = _day("from", today), _day("to", today)
    kind = request.args.get("kind") or ""
    if kind not in KINDS:
        raise Invalid(_("Loại chương trình không hợp lệ."), "kind")
    return Query(code, period, first, last, kind)


def _day(name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(_("Ngày %(value)s không hợp lệ.", value=raw), name) from None


def _root(me: User, code: str) -> Station:
    try:
        root = get_station(session(), code)
    except NotFound:
        raise NotFound(_("Không có đài mã %(code)s.", code=code), "station") from None
    if not permissions.in_scope(me, root):
        raise Forbidden(_("Đài %(code)s không thuộc địa bàn của bạn.", code=code), "station")
    return root


def _report(me: User, q: Query, *, settled: bool = True) -> compliance.Report:
    root = _root(me, q.station)
    try:
        period = compliance.Period.checked(q.first, q.last)
    except Invalid as exc:
        raise Invalid(
            _("Khoảng ngày không hợp lệ (tối đa 366 ngày, ngày đầu trước ngày cuối)."), exc.field
        ) from None
    cfg = settings()
    return compliance.compliance(
        session(),
        root,
        period,
        compliance.Filters(kind=q.kind or None),
        now_utc(),
        timedelta(seconds=cfg.min_fragment_s),
        timedelta(seconds=cfg.report_grace_s),
        settled=settled,
    )


def _worst_first(rows: list[compliance.Row]) -> list[compliance.Row]:
    """Airing stations with something planned, the lowest rate of minutes first."""
    planned = [r for r in rows if r.airs and r.tally.planned]
    return sorted(
        planned,
        key=lambda r: (r.tally.rate_minutes or 0.0, r.tally.rate_count or 0.0, r.station.code),
    )


def _by_day(report: compliance.Report) -> list[tuple[str, float | None]]:
    days = []
    day = report.period.first
    while day <= report.period.last:
        tally = report.days.get(day)
        days.append((f"{day.day}/{day.month}", tally.rate_minutes if tally else None))
        day += timedelta(days=1)
    return days


def _pickable(me: User) -> list[Station]:
    return [
        s for s in subtree(session(), me.station) if s.depth <= me.station.depth + PICKER_LEVELS
    ]


@bp.get("/reports")
@login_required
def index() -> ResponseReturnValue:
    me = panel_user()
    context: dict[str, Any] = {"periods": PERIODS, "kinds": KINDS, "stations": _pickable(me)}
    try:
        q = _query(me)
        report = _report(me, q)
    except DomainError as exc:
        status = exc.status if exc.status in (400, 403, 404) else 400
        fallback = Query(me.station.code, "week", _today(me.station), _today(me.station), "")
        return render_template(
            "reports/index.html", q=fallback, report=None, error=exc.message, **context
        ), status
    children = [r for r in report.rows if r.station.parent_id == report.root.id]
    return render_template(
        "reports/index.html",
        q=q,
        report=report,
        error=None,
        rows=_worst_first(report.rows),
        by_child=charts.bars(
            [(r.station.name, r.tally.rate_minutes) for r in children],
            _("Tỷ lệ phút đã phát theo đơn vị"),
        ),
        by_day=charts.columns(_by_day(report), _("Tỷ lệ phút đã phát theo ngày")),
        **context,
    )


@bp.get("/reports/export.<fmt>")
@login_required
def export(fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        raise NotFound(_("Không có định dạng %(fmt)s.", fmt=fmt))
    me = panel_user()
    return download(_report(me, _query(me)), fmt)


@bp.get("/reports/stations/<code>")
@login_required
def station(code: str) -> ResponseReturnValue:
    """One station's planned airings, each next to what aired and why one was missed."""
    me = panel_user()
    q = _query(me)
    q.station = code
    report = _report(me, q, settled=False)
    found = report.outcomes.get(report.root.code)
    if found is None:
        raise Invalid(_("Đài %(code)s không tự phát; hãy chọn một đài xã.", code=code), "station")
    return render_template(
        "reports/station.html",
        q=q,
        report=report,
        outcomes=found,
        status=STATUS,
        reasons=REASONS,
        row=report.rows[0],
    )


@bp.get("/reports/monthly")
@login_required
def monthly() -> ResponseReturnValue:
    """The month's report as the department files it: A4, printable, worst communes first."""
    me = panel_user()
    today = _today(me.station)
    raw = request.args.get("month") or (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    try:
        year, month = (int(part) for part in raw.split("-"))
        first = date(year, month, 1)
    except ValueError:
        raise Invalid(
            _("Tháng %(value)s không hợp lệ (dạng 2026-11).", value=raw), "month"
        ) from None
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    q = Query(request.args.get("station") or me.station.code, "custom", first, last, "")
    report = _report(me, q)
    children = [r for r in report.rows if r.station.parent_id == report.root.id]
    return render_template(
        "reports/monthly.html",
        q=q,
        report=report,
        month=first,
        children=children,
        rows=_worst_first(report.rows),
        made=now_utc(),
        by_child=charts.bars(
            [(r.station.name, r.tally.rate_minutes) for r in children],
            _("Tỷ lệ phút đã phát theo đơn vị"),
        ),
    )
