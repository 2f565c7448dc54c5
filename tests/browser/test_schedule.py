"""Scheduling in a real browser: a district editor schedules a programme for two communes on
chosen weekdays through the target tree, previews, saves; the district's approver approves
it in the queue; the commune's week calendar shows it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.models import Program, Station
from tests.browser.browser_support import sign_in
from tests.browser.conftest import LiveServer

try:
    from playwright.sync_api import expect
except ImportError:  # the ``chromium`` fixture skips (or fails) with the reason
    expect = None  # type: ignore[assignment]


def _ready_programme(live_server: LiveServer, title: str) -> int:
    with live_server.app.extensions["loaxa"]["sessions"]() as db:
        owner = db.scalar(select(Station).where(Station.code == "347"))
        program = Program(
            title=title, owner=owner, status="ready", duration_ms=10 * 60_000,
            created_at=datetime.now(UTC),
        )  # fmt: skip
        db.add(program)
        db.commit()
        return program.id


def test_editor_schedules_for_two_communes_and_the_approver_approves(
    page: Any, live_server: LiveServer
) -> None:
    title = "Học tập suốt đời: đọc sách cùng con"
    program = _ready_programme(live_server, title)
    today = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()  # the stations' zone
    next_monday = today + timedelta(days=7 - today.weekday())
    year, week, _ = next_monday.isocalendar()
    week_code = f"{year}-W{week:02d}"

    sign_in(page, "bientap.phuly")
    page.goto("/schedule/new")
    page.get_by_label("Tên buổi phát").fill("Bản tin học tập suốt đời")
    page.locator("select[name=program]").select_option(str(program))
    tree = page.locator("#targets")
    tree.locator("input[name=targets][value='13285']").check()
    tree.locator("input[name=targets][value='13291']").check()
    page.get_by_label("Các thứ trong tuần").check()
    expect(page.get_by_label("T2", exact=True)).to_be_visible()  # shown for "chosen days"
    page.get_by_label("T2", exact=True).check()
    page.get_by_label("T4", exact=True).check()
    page.get_by_label("Ngày bắt đầu").fill(today.isoformat())
    page.get_by_label("Giờ phát").fill("17:30")
    page.get_by_label("Phát đến hết ngày").fill((today + timedelta(days=60)).isoformat())

    page.get_by_role("button", name="Xem trước").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Thứ Hai, thứ Tư lúc 17:30")
    expect(preview).to_contain_text("Khi lưu, buổi phát sẽ chờ lãnh đạo duyệt.")
    expect(preview).to_contain_text("Chưa có gì được lưu.")
    # the values survive the preview
    expect(tree.locator("input[name=targets][value='13291']")).to_be_checked()
    expect(page.get_by_label("T4", exact=True)).to_be_checked()

    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.get_by_text("buổi phát đang chờ duyệt")).to_be_visible()
    page.get_by_role("button", name="Đăng xuất").click()

    sign_in(page, "duyet.phuly")
    page.goto("/schedule/approvals")
    item = page.locator("article.queue-item", has_text="Bản tin học tập suốt đời")
    expect(item.locator(".targets")).to_contain_text("13285")
    expect(item.locator(".targets")).to_contain_text("13291")
    item.get_by_role("button", name="Duyệt").click()
    expect(page.get_by_text("Đã duyệt «Bản tin học tập suốt đời».")).to_be_visible()
    expect(page.locator("article.queue-item", has_text="Bản tin học tập suốt đời")).to_have_count(0)

    page.goto(f"/schedule?station=13285&week={week_code}")
    monday = page.locator(f"section.day[data-day='{next_monday.isoformat()}']")
    wednesday = page.locator(
        f"section.day[data-day='{(next_monday + timedelta(days=2)).isoformat()}']"
    )
    tuesday = page.locator(
        f"section.day[data-day='{(next_monday + timedelta(days=1)).isoformat()}']"
    )
    expect(monday.locator(".block", has_text="Bản tin học tập suốt đời")).to_have_count(1)
    expect(wednesday.locator(".block", has_text="Bản tin học tập suốt đời")).to_have_count(1)
    expect(tuesday.locator(".block", has_text="Bản tin học tập suốt đời")).to_have_count(0)
    expect(monday.locator(".block", has_text="Bản tin học tập suốt đời")).to_contain_text(
        re.compile(r"17:30")
    )


def test_schedule_pages_fit_a_phone_and_print_as_a_table(
    page: Any, live_server: LiveServer
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, "admin")
    for url in ("/schedule", "/schedule?station=13285", "/schedule/new", "/schedule/approvals"):
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} scrolls sideways on a phone by {overflow}px"
    page.goto("/schedule/new")
    # ticking a district covers its communes: they are ticked and locked
    district = page.locator("input[name=targets][value='347']")
    district.check()
    expect(page.locator("input[name=targets][value='13285']")).to_be_disabled()
    district.uncheck()
    expect(page.locator("input[name=targets][value='13285']")).to_be_enabled()
    page.goto("/schedule?station=13285")
    page.emulate_media(media="print")
    expect(page.locator("table.week-print")).to_be_visible()
    expect(page.locator(".calendar")).to_be_hidden()
