"""The panel in a real browser: signing in, switching language, signing out, and what a
commune operator may not open."""

from __future__ import annotations

import re
from typing import Any

from tests.browser.browser_support import sign_in
from tests.browser.conftest import LiveServer

try:
    from playwright.sync_api import expect
except ImportError:  # the ``chromium`` fixture skips (or fails) with the reason
    expect = None  # type: ignore[assignment]


def test_admin_signs_in_in_vietnamese_switches_to_english_and_signs_out(
    page: Any, live_server: LiveServer
) -> None:
    admin = live_server.user("admin")
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    sign_in(page, "admin")

    expect(page).to_have_url(live_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Xin chào, {admin['full_name']}")
    expect(page.locator("dd.role")).to_have_text("Quản trị")
    expect(page.locator("dd.scope")).to_contain_text("Đài Phát thanh và Truyền hình Hà Nam (35)")
    menu = page.get_by_role("navigation", name="Điều hướng chính")
    expect(menu.get_by_role("link", name="Người dùng")).to_be_visible()

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Hello, {admin['full_name']}")
    expect(page.locator("dd.role")).to_have_text("Administrator")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Users").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Users")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # remembered

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(live_server.url + "/login")
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))


def test_an_operator_cannot_open_the_users_page(page: Any, live_server: LiveServer) -> None:
    sign_in(page, "vanhanh.quangtrung")
    expect(page.locator("dd.role")).to_have_text("Vận hành đài")
    menu = page.get_by_role("navigation", name="Điều hướng chính")
    expect(menu.get_by_role("link", name="Tổng quan")).to_be_visible()
    expect(menu.get_by_role("link", name="Người dùng")).to_have_count(0)

    response = page.goto("/users")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Không có quyền")
    expect(page.get_by_text("Tài khoản của bạn không được mở trang này.")).to_be_visible()


def test_the_layout_fits_a_phone_and_prints_without_the_menu(
    page: Any, live_server: LiveServer
) -> None:
    page.set_viewport_size({"width": 360, "height": 740})
    sign_in(page, "admin")
    for url in ("/", "/users", "/users/new", "/account/tokens"):
        page.goto(url)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{url} scrolls sideways on a phone by {overflow}px"
    page.goto("/users")
    page.emulate_media(media="print")
    expect(page.locator("header.top")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("table.list")).to_be_visible()
