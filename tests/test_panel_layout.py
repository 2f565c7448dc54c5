"""The shared layout: a menu of pages that exist for my role, local CSS that works on a
phone and prints cleanly, and Vietnamese error pages that never leak a traceback."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Blueprint

from tests.network_codes import COMMUNE, DISTRICT
from tests.panel_support import Panel
from web import panel as panel_module


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _menu(html: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="menu"[^>]*>(.*?)</nav>', html, re.S)
    assert nav
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1))


EVERYONE = [
    ("/", "Tổng quan"),
    ("/relay", "Lịch tiếp âm"),
    ("/stations", "Đài"),
    ("/segments", "Bản tin"),
    ("/programs", "Chương trình"),
    ("/schedule", "Lịch phát"),
    ("/reports", "Báo cáo"),
]


def test_the_menu_shows_the_pages_my_role_may_open(panel: Panel) -> None:
    admin = _menu(panel.client("admin", "35").get("/").get_data(as_text=True))
    assert admin == [*EVERYONE, ("/alerts/new", "Phát khẩn cấp"), ("/audit", "Nhật ký"),
                     ("/users", "Người dùng")]  # fmt: skip
    approver = _menu(panel.client("approver", DISTRICT).get("/").get_data(as_text=True))
    assert approver == [*EVERYONE, ("/alerts/new", "Phát khẩn cấp"), ("/audit", "Nhật ký")]
    for role, station in (("editor", DISTRICT), ("operator", COMMUNE)):
        menu = _menu(panel.client(role, station).get("/").get_data(as_text=True))
        assert menu == EVERYONE, role  # no emergencies, audit or user management


def test_a_menu_entry_appears_only_once_its_page_exists(
    panel: Panel, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flask_babel import lazy_gettext as _l

    from scheduler.models import Role

    entries = [("stats.index", _l("Thống kê"), frozenset({Role.editor})),
               ("exports.index", _l("Xuất dữ liệu"), None)]  # fmt: skip
    monkeypatch.setattr(panel_module, "NAV", [*panel_module.NAV, *entries])
    stats = Blueprint("stats", __name__)  # exists; "exports" does not (yet)
    stats.add_url_rule("/stats", "index", lambda: "ok")
    panel.app.register_blueprint(stats)
    editor = _menu(panel.client("editor", DISTRICT).get("/").get_data(as_text=True))
    assert editor == [*EVERYONE, ("/stats", "Thống kê")]
    operator = _menu(panel.client("operator", COMMUNE).get("/").get_data(as_text=True))
    assert ("/stats", "Thống kê") not in operator  # not for this role


def test_the_current_page_is_marked_in_the_menu(panel: Panel) -> None:
    page = panel.client("admin", "35").get("/users/new").get_data(as_text=True)
    assert '<a href="/users" aria-current="page">' in page
    assert '<a href="/" aria-current' not in page


def test_signed_out_pages_have_no_menu(panel: Panel) -> None:
    page = panel.anonymous().get("/login").get_data(as_text=True)
    assert '<nav class="menu"' not in page and "Đăng xuất" not in page


def test_every_page_works_on_a_phone_and_offline(panel: Panel) -> None:
    client = panel.client("admin", "35")
    for url in ("/", "/users", "/users/new", "/account", "/account/tokens", "/logout"):
        page = client.get(url).get_data(as_text=True)
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
        assets = re.findall(r'<(?:link|script|img)[^>]*(?:href|src)="([^"]+)"', page)
        assert assets and all(a.startswith("/static/") for a in assets), (url, assets)
        assert '<link rel="stylesheet" href="/static/print.css" media="print">' in page


def test_the_stylesheets_are_served(panel: Panel) -> None:
    client = panel.anonymous()
    screen = client.get("/static/panel.css")
    assert screen.status_code == 200 and screen.mimetype == "text/css"
    css = screen.get_data(as_text=True)
    assert "@media (min-width" in css  # mobile first, more room on wider screens
    assert "http" not in css  # no fonts or images from elsewhere
    printed = client.get("/static/print.css").get_data(as_text=True)
    hidden_rule = re.search(r"([^{}]+)\{\s*display: none !important;", printed)
    assert hidden_rule
    hidden = hidden_rule.group(1)
    for selector in (".top", "form", "nav", "button"):
        assert selector in hidden  # navigation and forms do not print


# --- Error pages ----------------------------------------------------------------------------


def test_an_unknown_address_is_a_vietnamese_404_page(panel: Panel) -> None:
    client = panel.client("editor", DISTRICT)
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="vi">' in page and "Không tìm thấy" in page
    assert response.mimetype == "text/html"
    assert "Not found" in client.get("/khong-co?lang=en").get_data(as_text=True)


def test_a_wrong_method_is_a_vietnamese_405_page(panel: Panel) -> None:
    response = panel.client("editor", DISTRICT).post("/")
    assert response.status_code in (400, 405)  # CSRF refuses a POST before routing does
    response = panel.anonymous().put("/users")
    assert response.status_code == 405
    assert "Trang này không nhận cách gửi này." in response.get_data(as_text=True)


def test_the_api_keeps_its_json_errors(panel: Panel) -> None:
    client = panel.anonymous()
    missing = client.get("/api/v1/khong-co")
    assert missing.status_code == 404 and missing.is_json and "error" in missing.json
    wrong = client.put("/api/v1/health")
    assert wrong.status_code == 405 and wrong.is_json


def test_a_crash_in_a_panel_view_is_a_plain_500_page(panel: Panel) -> None:
    client = panel.client("editor", DISTRICT)

    def boom() -> str:
        raise RuntimeError("secret detail")

    panel.app.view_functions["home.index"] = boom
    response = client.get("/")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Lỗi hệ thống" in page
    assert "secret detail" not in page and "Traceback" not in page
