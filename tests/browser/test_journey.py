"""Issue #5's story in one go, in Vietnamese, each person in their own browser session.

The Phủ Lý district editor uploads a phone recording (the progress bar reaches 100 %), writes
a bulletin for the offline voice after reading its normalised text, and builds a programme of
both with a silence. A programme can only be scheduled once its bulletins are approved (the
schedule form refuses it otherwise), so the district's approver approves the two bulletins,
found from the dashboard. The editor then schedules the programme for two communes, Quang
Trung (13285) and Lê Hồng Phong (13291), on chosen weekdays that include today (in
Asia/Ho_Chi_Minh) at a time later today — tomorrow when today is nearly over — previews it and
saves it for approval; the approver approves it in the queue. Quang Trung's operator, on a
phone, finds it in the relay schedule at its time, makes the calendar link and finds the
event in the ``.ics``, and is refused Lê Hồng Phong's pages with the Vietnamese 403 page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.audio_fixtures import make_recording
from tests.browser.browser_support import PASSWORD
from tests.browser.conftest import TIMEOUT_MS, LiveServer

try:
    from playwright.sync_api import expect
except ImportError:  # the ``chromium`` fixture skips (or fails) with the reason
    expect = None  # type: ignore[assignment]

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the stations' zone
DAY_LABELS = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")  # the form's weekday boxes
WEEKDAY_NAMES = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
RECORDING = "Phỏng vấn: mô hình gia đình học tập"
BULLETIN = "Ngày Sách và Văn hóa đọc 21/4"
TITLE = "Học tập suốt đời tại Phủ Lý"  # the programme's and the broadcast's
# What a user sees on every page after an action (the flash messages).
SEGMENT_APPROVED = "Đã duyệt bản tin “{}”."

# Every change of the upload's progress text, reported to Python (survives the page changing).
WATCH_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  const text = document.getElementById("upload-progress-text");
  if (!text) return;
  new MutationObserver(() => window.recordProgress(text.textContent))
    .observe(text, {childList: true, characterData: true, subtree: true});
});
"""


@pytest.fixture
def people(chromium: Any, live_server: LiveServer, page: Any) -> Iterator[dict[str, Any]]:
    """One browser session per person: the editor in ``page``, the approver at a desk, the
    commune operator on a phone."""
    approver = chromium.new_context(base_url=live_server.url, locale="vi-VN")
    phone = chromium.new_context(
        base_url=live_server.url, locale="vi-VN", viewport={"width": 375, "height": 740},
        device_scale_factor=2, is_mobile=True, has_touch=True,
    )  # fmt: skip
    for context in (approver, phone):
        context.set_default_timeout(TIMEOUT_MS)
    try:
        yield {"editor": page, "approver": approver.new_page(), "operator": phone.new_page()}
    finally:
        approver.close()
        phone.close()


def sign_in(page: Any, username: str, full_name: str) -> None:
    page.goto("/")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Xin chào, {full_name}")


def airing_time() -> datetime:
    """A quarter of an hour or more from now, on a five-minute mark, in the stations' zone:
    later today, or tomorrow when today is nearly over."""
    soon = datetime.now(ZONE).replace(second=0, microsecond=0) + timedelta(minutes=20)
    return soon + timedelta(minutes=-soon.minute % 5)


def nav(page: Any) -> Any:
    return page.get_by_role("navigation", name="Điều hướng chính")


def test_a_bulletin_from_upload_to_a_communes_phone_calendar(
    people: dict[str, Any], live_server: LiveServer, tmp_path: Path
) -> None:
    editor, approver, operator = people["editor"], people["approver"], people["operator"]
    at = airing_time()
    air_day = at.date()  # today, or tomorrow late at night
    clock = f"{at:%H:%M}"
    also = (air_day.weekday() + 2) % 7  # a second chosen day

    # --- 1. The district editor records, writes and builds ------------------------------------
    progress: list[str] = []
    editor.expose_function("recordProgress", lambda text: progress.append(text))
    editor.add_init_script(WATCH_PROGRESS)
    sign_in(editor, "bientap.phuly", live_server.user("bientap.phuly")["full_name"])

    nav(editor).get_by_role("link", name="Bản tin").click()
    editor.get_by_role("link", name="Tải lên bản ghi").click()
    editor.get_by_label("Tiêu đề").fill(RECORDING)
    editor.get_by_label("Tệp âm thanh").set_input_files(
        str(make_recording(tmp_path / "phong-van.m4a", seconds=3))
    )
    editor.get_by_role("button", name="Tải lên").click()
    expect(editor.get_by_text(f"Đã tải lên và xử lý xong “{RECORDING}”.")).to_be_visible()
    assert any(text.startswith("100 %") for text in progress), progress
    expect(editor.locator("#segment-state")).to_have_text("Chờ duyệt")

    nav(editor).get_by_role("link", name="Bản tin").click()
    editor.get_by_role("link", name="Soạn bản tin đọc máy").click()
    editor.get_by_label("Tiêu đề").fill(BULLETIN)
    editor.get_by_label("Văn bản bản tin").fill(
        "UBND phường tổ chức Ngày Sách và Văn hóa đọc 21/4 lúc 17h30 tại nhà văn hóa."
    )
    expect(editor.get_by_label("Bộ đọc")).to_have_value("espeak")  # the offline voice
    expect(editor.get_by_role("button", name="Đọc thành bản tin")).to_have_count(0)
    editor.get_by_role("button", name="Xem văn bản chuẩn hoá").click()
    normalized = editor.locator("#normalized-text")
    expect(normalized).to_contain_text("Ủy ban nhân dân phường")
    expect(normalized).to_contain_text("mười bảy giờ ba mươi")
    editor.get_by_role("button", name="Đọc thành bản tin").click()
    expect(editor.get_by_text(f"Đã đọc xong bản tin “{BULLETIN}”.")).to_be_visible()
    expect(editor.locator("#segment-state")).to_have_text("Chờ duyệt")
    expect(editor.locator("dt:text-is('Bộ đọc') + dd")).to_have_text(
        "espeak-ng (máy đọc, không cần mạng)"
    )

    nav(editor).get_by_role("link", name="Chương trình").click()
    editor.get_by_role("link", name="Dựng chương trình").click()
    editor.get_by_label("Tên chương trình").fill(TITLE)
    editor.get_by_role("button", name=f"Thêm “{BULLETIN}”").click()
    editor.get_by_role("button", name=f"Thêm “{RECORDING}”").click()
    editor.get_by_label("Khoảng lặng (giây)").fill("1")
    editor.get_by_role("button", name="Thêm khoảng lặng").click()
    expect(editor.locator("#items > li .label")).to_have_text([BULLETIN, RECORDING, "Khoảng lặng"])
    editor.get_by_role("button", name="Lưu và dựng").click()
    expect(editor.get_by_text(f"Đã lưu chương trình “{TITLE}”.")).to_be_visible()
    # Rendered, but not ready to air: it says so, and why.
    expect(editor.locator("#program-state")).to_have_text("Chờ duyệt bản tin")
    expect(editor.get_by_text("Có 2 bản tin chưa được duyệt")).to_be_visible()
    length = editor.locator("dt:text-is('Thời lượng') + dd").inner_text()  # like 0:12
    assert re.fullmatch(r"0:\d\d", length), length
    programme = editor.url.rsplit("/", 1)[1]

    # --- 2. The approver approves the two bulletins ----------------------------------------
    # A programme can be scheduled before its bulletins are approved (the broadcast waits);
    # here the approver approves them first, from the dashboard.
    sign_in(approver, "duyet.phuly", live_server.user("duyet.phuly")["full_name"])
    waiting = approver.locator("#approvals")
    expect(waiting).to_contain_text("Chờ tôi duyệt")
    for left, title in ((2, RECORDING), (1, BULLETIN)):  # from the dashboard, one by one
        waiting.get_by_role("link", name=f"{left} bản tin").click()
        expect(approver.get_by_label("Trạng thái")).to_have_value("pending")  # only those
        expect(approver.locator("table.segments tbody tr")).to_have_count(left)
        approver.get_by_role("link", name=title, exact=True).click()
        expect(approver.locator("#segment-state")).to_have_text("Chờ duyệt")
        approver.get_by_role("button", name="Duyệt", exact=True).click()
        expect(approver.get_by_text(SEGMENT_APPROVED.format(title))).to_be_visible()
        expect(approver.locator("#segment-state")).to_have_text("Đã duyệt")
        nav(approver).get_by_role("link", name="Tổng quan").click()
    expect(waiting).to_contain_text("0 bản tin")

    # --- 3. The editor schedules it for two communes on chosen days -------------------------
    editor.reload()
    expect(editor.get_by_text("bản tin chưa được duyệt")).to_have_count(0)
    expect(editor.locator("#program-state")).to_have_text("Sẵn sàng")
    nav(editor).get_by_role("link", name="Lịch phát").click()
    editor.get_by_role("link", name="Thêm buổi phát").click()
    editor.get_by_label("Tên buổi phát").fill(TITLE)
    chosen = editor.get_by_role("combobox", name="Chương trình")
    chosen.select_option(programme)
    expect(chosen.locator("option:checked")).to_contain_text(f"{TITLE} — {length}")
    tree = editor.locator("#targets")
    # Nothing is ticked to begin with (ticking the district would lock its communes).
    expect(tree.get_by_role("checkbox", name="(347)")).not_to_be_checked()
    tree.get_by_role("checkbox", name="(13285)").check()
    tree.get_by_role("checkbox", name="(13291)").check()
    editor.get_by_label("Các thứ trong tuần").check()
    editor.get_by_label(DAY_LABELS[air_day.weekday()], exact=True).check()
    editor.get_by_label(DAY_LABELS[also], exact=True).check()
    editor.get_by_label("Ngày bắt đầu").fill(air_day.isoformat())
    editor.get_by_label("Giờ phát").fill(clock)
    editor.get_by_label("Phát đến hết ngày").fill((air_day + timedelta(days=60)).isoformat())

    editor.get_by_role("button", name="Xem trước").click()
    preview = editor.locator("#preview")
    expect(preview).to_contain_text(f"lúc {clock}")
    expect(preview).to_contain_text("Khi lưu, buổi phát sẽ chờ lãnh đạo duyệt.")
    expect(preview).to_contain_text("Chưa có gì được lưu.")
    # Nothing else airs in this fresh network, so nothing blocks saving.
    expect(preview.get_by_text("Trùng giờ với buổi phát cùng cấp")).to_have_count(0)
    expect(tree.get_by_role("checkbox", name="(13291)")).to_be_checked()  # values kept
    editor.get_by_role("button", name="Lưu", exact=True).click()
    expect(editor.get_by_text(f"Đã lưu «{TITLE}»; buổi phát đang chờ duyệt.")).to_be_visible()

    # --- 4. The approver approves the broadcast ---------------------------------------------
    approver.reload()  # the dashboard, left open
    expect(approver.locator("#approvals")).to_contain_text("1 lịch phát")
    approver.locator("#approvals").get_by_role("link", name="1 lịch phát").click()
    item = approver.locator("article.queue-item", has_text=TITLE)
    expect(item).to_contain_text("13285")
    expect(item).to_contain_text("13291")
    item.get_by_role("button", name="Duyệt").click()
    expect(approver.get_by_text(f"Đã duyệt «{TITLE}».")).to_be_visible()
    expect(approver.get_by_text("Không có buổi phát nào đang chờ duyệt.")).to_be_visible()

    # --- 5. Quang Trung's operator, on a phone ------------------------------------------------
    sign_in(operator, "vanhanh.quangtrung", live_server.user("vanhanh.quangtrung")["full_name"])
    expect(nav(operator)).to_be_hidden()  # folded away on a phone, behind one button
    operator.get_by_role("button", name="Trình đơn: Tổng quan").click()
    nav(operator).get_by_role("link", name="Lịch tiếp âm").click()
    expect(operator.get_by_role("heading", level=1)).to_have_text(
        "Lịch tiếp âm — Đài truyền thanh Phường Quang Trung"
    )
    today = datetime.now(ZONE).date()  # the page's "today"
    row = _airing_row(operator, today, air_day).filter(has_text=TITLE)
    expect(row).to_have_count(1)
    expect(row.locator("td").first).to_contain_text(clock)
    expect(row).to_contain_text("Sắp phát")
    seconds = int(length.split(":")[1])
    expect(row.locator("td").nth(1)).to_have_text(f"{seconds} giây")
    overflow = operator.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the relay schedule scrolls sideways on a phone by {overflow}px"

    operator.get_by_role("button", name="Tạo địa chỉ đăng ký lịch").click()
    link = operator.locator("#ics-link")
    expect(link).to_be_visible()
    feed = operator.request.get(link.input_value())
    assert feed.status == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = _events(feed.text())
    ours = [e for e in events if TITLE in e["SUMMARY"]]
    assert ours, events
    assert any(e["DTSTART"].endswith(f"{air_day:%Y%m%d}T{at:%H%M}00") for e in ours), ours

    for url in ("/stations/13291/relay", "/stations/13291"):  # Lê Hồng Phong: not theirs
        response = operator.goto(url)
        assert response is not None and response.status == 403, url
        expect(operator.get_by_role("heading", level=1)).to_have_text("Không có quyền")
        expect(operator.get_by_text("Tài khoản của bạn không được mở trang này.")).to_be_visible()


def _airing_row(page: Any, today: date, air_day: date) -> Any:
    """The relay schedule's rows for the airing's day: "today", or that day of the week shown
    (the next week's, when tomorrow is a Monday)."""
    if air_day == today:
        return page.locator("#today tbody tr")
    if air_day.weekday() == 0:
        page.get_by_role("link", name="Tuần sau").click()
    heading = f"{WEEKDAY_NAMES[air_day.weekday()]}, {air_day.day}/{air_day.month}/{air_day.year}"
    return page.locator("#week section.day", has_text=heading).locator("tbody tr")


def _events(ics: str) -> list[dict[str, str]]:
    """The VEVENTs of a calendar as {property: value}, lines unfolded (RFC 5545 §3.1)."""
    lines = ics.replace("\r\n ", "").replace("\r\n\t", "").splitlines()
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT" and current is not None:
            events.append(current)
            current = None
        elif current is not None and ":" in line:
            name, value = line.split(":", 1)
            current[name.split(";", 1)[0]] = value
    return events
