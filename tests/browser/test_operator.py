"""A commune operator on a phone: the relay schedule of their own station with a relay and
where it comes from, the calendar link that a phone subscribes to, and another commune's
schedule refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.broadcasts import BroadcastSpec, save_broadcast
from scheduler.models import Station, User
from tests.browser.browser_support import PASSWORD
from tests.browser.conftest import LiveServer

try:
    from playwright.sync_api import expect
except ImportError:  # the ``chromium`` fixture skips (or fails) with the reason
    expect = None  # type: ignore[assignment]

RELAY = "Tiếp âm Thời sự Đài PT-TH Hà Nam"


def _schedule_a_relay(live_server: LiveServer) -> None:
    """The province relays its news to Phủ Lý every evening at 17:30, from today on."""
    app = live_server.app
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    with app.extensions["loaxa"]["sessions"]() as db:
        province = db.scalar(select(Station).where(Station.code == "35"))
        admin = db.scalar(select(User).where(User.username == "admin"))
        assert province is not None and admin is not None
        province.stream_url = live_server.demo["stream_urls"]["35"]
        db.commit()
        spec = BroadcastSpec(
            title=RELAY, owner="35", kind="relay", source="35",
            start=datetime(today.year, today.month, today.day, 17, 30), duration_s=1800,
            rrule="FREQ=DAILY", targets=["347"],
        )  # fmt: skip
        save_broadcast(db, app.extensions["loaxa"]["settings"], admin, spec, now)
        db.commit()


def test_operator_reads_the_relay_schedule_on_a_phone(page: Any, live_server: LiveServer) -> None:
    _schedule_a_relay(live_server)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    page.get_by_label("Tên đăng nhập").fill("vanhanh.quangtrung")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()

    menu = page.get_by_role("navigation", name="Điều hướng chính")
    expect(menu).to_be_hidden()  # folded on a phone: the page starts near the top
    header = page.locator("header.top").bounding_box()
    assert header is not None and header["height"] < 80, header
    page.get_by_role("button", name="Trình đơn: Tổng quan").click()
    menu.get_by_role("link", name="Lịch tiếp âm").click()
    expect(page).to_have_url(live_server.url + "/stations/13285/relay")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Lịch tiếp âm — Đài truyền thanh Phường Quang Trung"
    )
    today = page.locator("#today")
    expect(today.get_by_text(RELAY)).to_be_visible()
    expect(today.get_by_text("Đài Phát thanh và Truyền hình Hà Nam")).to_be_visible()
    expect(today.get_by_text(re.compile(r"^17:30$"))).to_be_visible()
    expect(today.get_by_text("30 phút")).to_be_visible()
    # What the operator came for — has it aired? — is in view, not behind a sideways scroll.
    aired = today.locator("tr", has_text=RELAY).locator("td[data-label='Đã phát']")
    expect(aired).to_be_in_viewport()
    box = aired.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the relay schedule scrolls sideways on a phone by {overflow}px"

    ics = page.locator("a.ics")
    expect(ics).to_be_visible()
    page.get_by_role("button", name="Tạo địa chỉ đăng ký lịch").click()
    link = page.locator("#ics-link")
    expect(link).to_be_visible()
    url = link.input_value()
    assert re.fullmatch(
        re.escape(live_server.url) + r"/stations/13285/schedule\.ics\?token=lxu_\S+", url
    )
    feed = page.request.get(url)
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    body = feed.text()
    assert "BEGIN:VEVENT" in body and "Tiếp âm Thời sự" in body

    for url in ("/", "/stations", "/stations/13285"):  # the operator's other pages fit too
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} scrolls sideways on a phone by {overflow}px"

    response = page.goto("/stations/13291/relay")  # Lê Hồng Phong: another commune
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Không có quyền")
