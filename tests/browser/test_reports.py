"""The district approver reads last week's relay report in Chromium and prints it: the
page is in Vietnamese, the commune that never reported comes first, and on paper only the
report is left (no menu, no filter form), the table whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.asrun import PlayReport, record_plays
from scheduler.broadcasts import BroadcastSpec, save_broadcast
from scheduler.dispatch import item_id
from scheduler.models import Station, User
from tests.browser.conftest import LiveServer
from tests.network_codes import QUANG_TRUNG

try:
    from playwright.sync_api import expect
except ImportError:  # the ``chromium`` fixture skips (or fails) with the reason
    expect = None  # type: ignore[assignment]

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def _a_week_of_relays(live_server: LiveServer) -> tuple[str, str]:
    """The province's 05:30 news relayed to Phủ Lý for the last seven days; only Quang Trung's
    agent reported (in full). Returns the period's first and last day (ISO)."""
    app = live_server.app
    now = datetime.now(UTC)
    today = now.astimezone(ZONE).date()
    first = today - timedelta(days=7)
    with app.extensions["loaxa"]["sessions"]() as db:
        admin = db.scalar(select(User).where(User.username == "admin"))
        ward = db.scalar(select(Station).where(Station.code == QUANG_TRUNG))
        assert admin is not None and ward is not None
        spec = BroadcastSpec(
            title="Tiếp âm Thời sự tỉnh", owner="35", kind="relay",
            stream_url="http://127.0.0.1:9/ha-nam.mp3",
            start=datetime(first.year, first.month, first.day, 5, 30), duration_s=1800,
            rrule="FREQ=DAILY", targets=["347"], force=True,
        )  # fmt: skip
        broadcast = save_broadcast(db, app.extensions["loaxa"]["settings"], admin, spec, now)
        db.commit()
        reports = []
        for n in range(7):
            day = first + timedelta(days=n)
            start = datetime(day.year, day.month, day.day, 5, 30, tzinfo=ZONE)
            reports.append(PlayReport.model_validate({
                "id": f"00000000-0000-4000-8000-{n:012d}", "status": "played",
                "item": item_id(broadcast.broadcast.id, start), "scheduled_start": start,
                "broadcast": broadcast.broadcast.id, "started_at": start,
                "ended_at": start + timedelta(minutes=30)}))  # fmt: skip
        record_plays(db, ward, reports, now)
        db.commit()
    return first.isoformat(), (today - timedelta(days=1)).isoformat()


def test_the_approver_reads_and_prints_the_relay_report(
    page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    first, last = _a_week_of_relays(live_server)
    page.goto("/")
    page.get_by_label("Tên đăng nhập").fill("duyet.phuly")
    page.get_by_label("Mật khẩu").fill("loaxa-demo")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("navigation", name="Điều hướng chính").get_by_role(
        "link", name="Báo cáo"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Báo cáo tiếp âm")

    page.goto(f"/reports?station=347&period=custom&from={first}&to={last}")
    table = page.locator("table.report")
    rows = table.locator("tbody tr")
    expect(rows.first).not_to_have_attribute("data-station", QUANG_TRUNG)  # silent ones first
    expect(rows.last).to_have_attribute("data-station", QUANG_TRUNG)
    expect(rows.last.locator("td").last).to_have_text("100.0%")
    expect(table.locator("tfoot th").first).to_have_text("Tổng cộng")
    assert page.locator("svg.chart").count() == 2

    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Điều hướng chính")).to_be_hidden()
    expect(page.locator("form.report-filters")).to_be_hidden()
    expect(table).to_be_visible()
    shot = tmp_path / "bao-cao-tiep-am.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    pdf = tmp_path / "bao-cao-tiep-am.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes().startswith(b"%PDF")
