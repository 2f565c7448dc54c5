"""The shared layout: a menu of pages that exist for my role, local CSS that works on a
phone and prints cleanly, and Vietnamese error pages that never leak a traceback."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Blueprint

from tests.panel_support import COMMUNE, DISTRICT, Panel
from web import panel as panel_module


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _menu(html: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav class="menu"[^>]*>(.*?)</nav>', html, re.S)
    assert nav
    return re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1))


def test_the_menu_shows_pages_that_exist_for_my_role(panel: Panel) -> None:
    admin = _menu(panel.client("admin", "35").get("/").get_data(as_text=True))
    assert admin == [("/", "Tổng quan"), ("/users", "Người dùng")]
    for role, station in (("editor", DISTRICT), ("approver", DISTRICT), ("operator", COMMUNE)):
        menu = _menu(panel.client(role, station).get("/").get_data(as_text=True))
        assert menu == [("/", "Tổng quan")], role


def test_a_new_page_appears_in_the_menu_once_its_endpoint_exists(panel: Panel) -> None:
    stations = Blueprint("stations", __name__)
    stations.add_url_rule("/stations", "index", lambda: "ok")
    alerts = Blueprint("alerts", __name__)
    alerts.add_url_rule("/alerts/new", "new", lambda: "ok")
    panel.app.register_blueprint(stations)
    panel.app.register_blueprint(alerts)
    editor = _menu(panel.client("editor", DISTRICT).get("/").get_data(as_text=True))
    assert editor == [
        ("/", "Tổng quan"),
        ("/stations", "Đài"),
        ("/alerts/new", "Phát khẩn cấp"),
    ]
    operator = _menu(panel.client("operator", COMMUNE).get("/").get_data(as_text=True))
    assert ("/alerts/new", "Phát khẩn cấp") not in operator  # not for this role
    assert [e for e, _, _ in panel_module.NAV][:1] == ["home.index"]


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
