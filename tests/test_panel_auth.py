"""Signing in and out: sessions, next=, CSRF, the login limiter, and the API left alone."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from scheduler import accounts
from tests.conftest import FROZEN_NOW
from tests.network_codes import COMMUNE, DISTRICT
from tests.panel_support import PASSWORD, ROLES, Panel, csrf_token, field_errors, input_value


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def test_anonymous_visitors_are_sent_to_the_login_page(panel: Panel) -> None:
    response = panel.anonymous().get("/")
    assert response.status_code == 302
    assert response.location == "/login?next=%2F"
    page = panel.anonymous().get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Tên đăng nhập" in page and "Mật khẩu" in page


@pytest.mark.parametrize("role", ROLES)
def test_each_role_signs_in_and_sees_its_dashboard(panel: Panel, role: str) -> None:
    station = COMMUNE if role == "operator" else DISTRICT
    user = panel.user(role, station)
    client = panel.anonymous()
    response = client.form_post("/login", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == "/"
    page = client.get("/").get_data(as_text=True)
    label = {"admin": "Quản trị", "editor": "Biên tập", "approver": "Người duyệt"}
    assert label.get(role, "Vận hành đài") in page
    assert f"({station})" in page
    if role != "operator":
        assert "cùng 14 đài trực thuộc" in page  # Phủ Lý's communes
    assert "20/4/2026" in page and "08:00" in page  # the frozen clock, in Hà Nam's zone


def test_username_is_case_insensitive_and_trimmed(panel: Panel) -> None:
    panel.user("editor", DISTRICT, "bientap.test")
    response = panel.anonymous().form_post(
        "/login", {"username": "  BienTap.Test ", "password": PASSWORD}
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("username", "password"),
    [("bientap.test", "sai-mat-khau"), ("khong.co.ai", PASSWORD), ("bientap.test", PASSWORD[:-1])],
)
def test_wrong_credentials_keep_the_username_and_say_so_in_vietnamese(
    panel: Panel, username: str, password: str
) -> None:
    panel.user("editor", DISTRICT, "bientap.test")
    client = panel.anonymous()
    response = client.form_post("/login", {"username": username, "password": password})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in page
    assert input_value(page, "username") == username
    assert input_value(page, "password") in (None, "")  # a password is never sent back
    assert client.get("/").status_code == 302


def test_empty_login_fields_get_a_message_each(panel: Panel) -> None:
    response = panel.anonymous().form_post("/login", {"username": " ", "password": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_errors(page, "username") == ["Hãy nhập tên đăng nhập."]
    assert field_errors(page, "password") == ["Hãy nhập mật khẩu."]


@pytest.mark.parametrize(
    "data",
    [
        {"username": "a" * 5000, "password": "x"},
        {"username": "admin\x00", "password": "x\x00"},
        {"username": ["a", "b"], "password": PASSWORD},
        {"password": PASSWORD},
        {},
    ],
)
def test_odd_login_input_is_refused_without_a_500(panel: Panel, data: dict[str, Any]) -> None:
    response = panel.anonymous().form_post("/login", data)
    assert response.status_code == 400


def test_a_deactivated_user_cannot_sign_in(panel: Panel) -> None:
    user = panel.user("editor", DISTRICT)
    user.active = False
    panel.db.commit()
    response = panel.anonymous().form_post(
        "/login", {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 400


def test_next_leads_back_to_the_page_asked_for(panel: Panel) -> None:
    user = panel.user("admin", "35")
    client = panel.anonymous()
    asked = client.get("/users?x=1")
    assert asked.location == "/login?next=%2Fusers%3Fx%3D1"
    page = client.get(asked.location).get_data(as_text=True)
    assert input_value(page, "next") == "/users?x=1"
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page),
            "username": user.username,
            "password": PASSWORD,
            "next": "/users?x=1",
        },
    )
    assert response.location == "/users?x=1"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        " //evil.example",
        "http:/evil.example",
        "",
    ],
)
def test_next_never_leads_off_the_site(panel: Panel, target: str) -> None:
    user = panel.user("editor", DISTRICT)
    client = panel.anonymous()
    page = client.get("/login?next=" + quote(target)).get_data(as_text=True)
    assert input_value(page, "next") == ""
    response = client.post(
        "/login",
        data={
            "csrf_token": csrf_token(page),
            "username": user.username,
            "password": PASSWORD,
            "next": target,
        },
    )
    assert response.status_code == 302
    assert response.location == "/"
    # Already signed in: /login?next= redirects at once, and just as safely.
    again = client.get("/login?next=" + quote(target))
    assert again.location == "/"


def test_login_without_a_csrf_token_is_refused(panel: Panel) -> None:
    user = panel.user("editor", DISTRICT)
    client = panel.anonymous()
    client.get("/login")
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    forged = client.post(
        "/login",
        data={"csrf_token": "forged", "username": user.username, "password": PASSWORD},
    )
    assert forged.status_code == 400
    assert client.get("/").status_code == 302


def test_logout_needs_a_post_with_its_csrf_token(panel: Panel) -> None:
    client = panel.client("editor", DISTRICT)
    confirm = client.get("/logout")
    assert confirm.status_code == 200
    assert "Bạn muốn đăng xuất khỏi Loa Xã?" in confirm.get_data(as_text=True)
    assert client.post("/logout").status_code == 400  # no token: still signed in
    assert client.get("/").status_code == 200
    response = client.form_post("/logout", page="/")
    assert response.status_code == 302
    assert response.location == "/login"
    assert "Bạn đã đăng xuất." in client.get("/login").get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert panel.anonymous().get("/logout").location == "/login"


def _limited(panel: Panel) -> Any:
    """The app's login limiter on a clock the test moves."""
    limiter = panel.app.extensions["loaxa"]["login_limiter"]
    clock = {"now": 1000.0}
    limiter.clock = lambda: clock["now"]
    return clock


def test_five_wrong_passwords_pause_that_username_for_five_minutes(panel: Panel) -> None:
    user = panel.user("editor", DISTRICT)
    other = panel.user("editor", DISTRICT)
    clock = _limited(panel)
    client = panel.anonymous()
    for _ in range(5):
        wrong = client.form_post("/login", {"username": user.username, "password": "sai-sai-sai"})
        assert wrong.status_code == 400
    # Even the right password waits now: that is what stops guessing.
    blocked = client.form_post("/login", {"username": user.username, "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == "301"
    page = blocked.get_data(as_text=True)
    assert "Bạn đã nhập sai quá nhiều lần. Hãy thử lại sau 5 phút." in page
    assert input_value(page, "username") == user.username
    # Another account from the same address is not locked out by someone else's typos.
    assert (
        client.form_post("/login", {"username": other.username, "password": PASSWORD}).status_code
        == 302
    )
    clock["now"] += 301
    fresh = panel.anonymous()
    assert (
        fresh.form_post("/login", {"username": user.username, "password": PASSWORD}).status_code
        == 302
    )


def test_a_successful_login_clears_the_failures(panel: Panel) -> None:
    user = panel.user("editor", DISTRICT)
    _limited(panel)
    client = panel.anonymous()
    for _ in range(4):
        client.form_post("/login", {"username": user.username, "password": "sai-sai-sai"})
    client.form_post("/login", {"username": user.username, "password": PASSWORD})
    client = panel.anonymous()
    for _ in range(4):
        response = client.form_post(
            "/login", {"username": user.username, "password": "sai-sai-sai"}
        )
        assert response.status_code == 400


def test_one_address_trying_many_usernames_is_paused(panel: Panel) -> None:
    user = panel.user("editor", DISTRICT)
    _limited(panel)
    client = panel.anonymous()
    for i in range(30):
        response = client.form_post("/login", {"username": f"doan{i}", "password": "x" * 8})
        assert response.status_code == 400
    blocked = client.form_post("/login", {"username": user.username, "password": PASSWORD})
    assert blocked.status_code == 429


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(panel: Panel) -> None:
    user = panel.user("editor", DISTRICT)
    client = panel.login(user.username)
    admin = panel.user("admin", "35")
    accounts.reset_password(panel.db, FROZEN_NOW, admin, user, "mat-khau-moi")
    panel.db.commit()
    assert client.get("/").status_code == 302


def test_a_deactivated_users_open_session_ends(panel: Panel) -> None:
    user = panel.user("editor", DISTRICT)
    client = panel.login(user.username)
    user.active = False
    panel.db.commit()
    assert client.get("/").status_code == 302


def test_a_stolen_cookie_from_another_browser_is_not_accepted(panel: Panel) -> None:
    """Session protection: the same cookie with another user agent is a new, empty session."""
    client = panel.client("editor", DISTRICT)
    assert client.get("/", headers={"User-Agent": "another-browser"}).status_code == 302


def test_the_session_cookie_is_http_only_and_same_site(panel: Panel) -> None:
    user = panel.user("editor", DISTRICT)
    client = panel.anonymous()
    response = client.form_post("/login", {"username": user.username, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_api_still_takes_bearer_tokens_without_csrf(panel: Panel, make_caller: Any) -> None:
    caller = make_caller("admin", "35")
    response = caller.post(
        "/api/v1/broadcasts",
        json={
            "title": "Tiếp âm",
            "owner": "35",
            "kind": "relay",
            "stream_url": "http://127.0.0.1:8000/live/ha-nam.mp3",
            "start": "2026-04-21T06:00:00",
            "duration_s": 1800,
        },
    )
    assert response.status_code == 201, response.json
    assert caller.get("/api/v1/health").json["status"] == "ok"
    missing = caller.get("/api/v1/no-such-thing")
    assert missing.status_code == 404 and "error" in missing.json
    assert caller.get(f"/stations/{COMMUNE}/schedule.ics").status_code == 200


def test_a_panel_session_gives_no_access_to_the_api(panel: Panel) -> None:
    client = panel.client("admin", "35")
    assert client.get("/api/v1/stations").status_code == 401
    assert client.get(f"/stations/{COMMUNE}/schedule.ics").status_code == 401
