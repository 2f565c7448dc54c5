"""An approver in the browser: a CAP warning came in English only, the alert list says it
waits for Vietnamese words, its page shows the original, and the words typed there put it on
the air (its state moves on and the form goes away)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from scheduler import accounts
from tests.browser.browser_support import sign_in
from tests.browser.conftest import LiveServer

try:
    from playwright.sync_api import expect
except ImportError:  # the ``chromium`` fixture skips (or fails) with the reason
    expect = None  # type: ignore[assignment]

SAMPLE = Path(__file__).parents[1] / "samples" / "cap" / "nws-severe-thunderstorm.xml"
APPROVER = "duyet.phuly"  # config/demo.json: approver of Thành phố Phủ Lý
WORDS = "Dông mạnh kèm mưa đá. Bà con vào trong nhà kiên cố, tránh xa cửa kính."


def _english_warning(live_server: LiveServer) -> int:
    """The NWS-shaped sample with today's dates, posted as the sender's system would."""
    now = datetime.now(UTC).replace(microsecond=0)
    body = SAMPLE.read_text(encoding="utf-8")
    body = body.replace("2026-04-19T20:55:00-04:00", now.isoformat())
    body = body.replace("2026-04-19T23:45:00-04:00", (now + timedelta(hours=3)).isoformat())
    with live_server.app.extensions["loaxa"]["sessions"]() as db:
        token = accounts.new_api_token(db, now, APPROVER)
        db.commit()
    answer = requests.post(
        f"{live_server.url}/api/v1/alerts",
        data=body.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/cap+xml"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "awaiting_translation"
    return int(answer.json()["id"])


def test_an_approver_translates_an_english_warning_and_it_goes_on_air(
    page: Any, live_server: LiveServer
) -> None:
    alert_id = _english_warning(live_server)
    sign_in(page, APPROVER)

    page.goto("/alerts")
    item = page.locator(f'[data-alert="{alert_id}"]')
    expect(item).to_contain_text("Chờ bản dịch tiếng Việt")
    item.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/alerts/{alert_id}$"))
    section = page.locator("#translation")
    expect(section).to_be_visible()
    expect(page.locator(".facts")).to_contain_text("a severe thunderstorm was located near")
    expect(page.locator("#alert-state")).to_contain_text("không có nội dung tiếng Việt")

    section.get_by_role("button", name="Phát với nội dung này").click()  # nothing typed
    expect(section.locator(".error")).to_have_text("Hãy nhập nội dung tiếng Việt cần đọc.")

    page.get_by_label("Nội dung tiếng Việt").fill(WORDS)
    page.get_by_role("button", name="Phát với nội dung này").click()
    expect(page.get_by_text("Đã nhận bản dịch")).to_be_visible()
    expect(page.locator("#translation")).to_have_count(0)
    expect(page.locator("#alert-state [data-state]")).not_to_have_attribute(
        "data-state", "awaiting_translation"
    )
    expect(page.locator(".facts")).to_contain_text(WORDS)  # the words that will be read
