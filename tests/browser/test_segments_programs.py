"""A district editor in a real browser: uploads a recording watching the progress bar reach
100 %, writes a TTS bulletin after reading its normalised text, builds a programme from both
with a silence, reorders it on the page, saves, and hears the render load in ``<audio>``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.audio_fixtures import make_recording
from tests.browser.browser_support import sign_in
from tests.browser.conftest import LiveServer

try:
    from playwright.sync_api import expect
except ImportError:  # the ``chromium`` fixture skips (or fails) with the reason
    expect = None  # type: ignore[assignment]

# Every change of the progress text, reported to Python (survives the page changing).
WATCH_PROGRESS = """
document.addEventListener("DOMContentLoaded", () => {
  const text = document.getElementById("upload-progress-text");
  if (!text) return;
  new MutationObserver(() => window.recordProgress(text.textContent))
    .observe(text, {childList: true, characterData: true, subtree: true});
});
"""


def test_an_editor_uploads_writes_builds_and_listens(
    page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    seen: list[str] = []

    def record(text: str) -> None:
        seen.append(text)

    page.expose_function("recordProgress", record)
    page.add_init_script(WATCH_PROGRESS)
    sign_in(page, "bientap.phuly")

    # 1. Upload a phone recording; the bar fills and the segment is ready.
    page.goto("/segments")
    page.get_by_role("link", name="Tải lên bản ghi").click()
    page.get_by_label("Tiêu đề").fill("Phỏng vấn mô hình học tập")
    page.get_by_label("Tệp âm thanh").set_input_files(
        str(make_recording(tmp_path / "phong-van.m4a", seconds=3))
    )
    page.get_by_role("button", name="Tải lên").click()
    expect(page).to_have_url(re.compile(r"/segments/\d+$"))
    expect(page.get_by_text("Đã tải lên và xử lý xong")).to_be_visible()
    assert any(text.startswith("100 %") for text in seen), seen
    expect(page.locator("#segment-state")).to_have_text("Chờ duyệt")

    # 2. A TTS bulletin: the normalised text first, then the voice.
    page.goto("/segments/tts")
    page.get_by_label("Tiêu đề").fill("Ngày Sách 21/4")
    page.get_by_label("Văn bản bản tin").fill("UBND phường tổ chức Ngày Sách 21/4 lúc 17h30.")
    expect(page.get_by_role("button", name="Đọc thành bản tin")).to_have_count(0)
    page.get_by_role("button", name="Xem văn bản chuẩn hoá").click()
    normalized = page.locator("#normalized-text")
    expect(normalized).to_contain_text("Ủy ban nhân dân")
    expect(normalized).to_contain_text("mười bảy giờ ba mươi")
    page.get_by_role("button", name="Đọc thành bản tin").click()
    expect(page).to_have_url(re.compile(r"/segments/\d+$"))
    expect(page.get_by_text("Đã đọc xong bản tin")).to_be_visible()

    # 3. A programme of both and a silence; moved on the page, the total stays summed.
    page.goto("/programs/new")
    page.get_by_label("Tên chương trình").fill("Chương trình sáng thứ Hai")
    page.get_by_role("button", name="Thêm “Ngày Sách 21/4”").click()
    page.get_by_role("button", name="Thêm “Phỏng vấn mô hình học tập”").click()
    page.get_by_label("Khoảng lặng (giây)").fill("1")
    page.get_by_role("button", name="Thêm khoảng lặng").click()
    items = page.locator("#items > li .label")
    expect(items).to_have_text(["Ngày Sách 21/4", "Phỏng vấn mô hình học tập", "Khoảng lặng"])
    expect(page.get_by_label("Tên chương trình")).to_have_value("Chương trình sáng thứ Hai")
    total = page.locator("#total").inner_text()
    assert re.fullmatch(r"0:\d\d", total), total
    page.locator("#items > li").nth(1).get_by_role("button", name="Đưa lên").click()
    expect(items).to_have_text(["Phỏng vấn mô hình học tập", "Ngày Sách 21/4", "Khoảng lặng"])
    expect(page.locator("#total")).to_have_text(total)
    page.get_by_role("button", name="Lưu và dựng").click()

    # 4. The render plays; its bulletins still await approval, and the page says so.
    expect(page).to_have_url(re.compile(r"/programs/\d+$"))
    expect(page.locator("#program-state")).to_have_text("Chờ duyệt bản tin")
    expect(page.locator("#not-ready")).to_contain_text("Ngày Sách 21/4")
    expect(page.locator("table.items tbody tr td:nth-child(2)")).to_have_text(
        ["Phỏng vấn mô hình học tập", "Ngày Sách 21/4", "Khoảng lặng"]
    )
    page.wait_for_function(
        "() => { const a = document.getElementById('program-audio');"
        " return a && a.readyState >= 1 && a.duration > 0; }"
    )
    duration = page.evaluate("document.getElementById('program-audio').duration")
    assert duration > 3, duration
