"""``/account``: language setting, own password, personal API tokens shown once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.models import ApiToken, AuditEvent
from tests.network_codes import COMMUNE, DISTRICT
from tests.panel_support import PASSWORD, ROLES, Panel, field_errors

TOKEN = re.compile(r'value="(lxu_[A-Za-z0-9_-]+)"')


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _station(role: str) -> str:
    return COMMUNE if role == "operator" else DISTRICT


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_an_account_page_and_a_token_page(panel: Panel, role: str) -> None:
    client = panel.client(role, _station(role))
    account = client.get("/account")
    assert account.status_code == 200
    assert f"({_station(role)})" in account.get_data(as_text=True)
    tokens = client.get("/account/tokens")
    assert tokens.status_code == 200
    assert tokens.headers["Cache-Control"] == "no-store"
    page = tokens.get_data(as_text=True)
    assert "Bạn chưa có mã nào." in page
    assert "/api/v1/openapi.json" in page  # how to use the token


def test_account_pages_need_a_login(panel: Panel) -> None:
    client = panel.anonymous()
    for url in ("/account", "/account/tokens"):
        assert client.get(url).location.startswith("/login?next=")
    for url in ("/account/language", "/account/password", "/account/tokens"):
        assert client.form_post(url, {}, page="/login").location.startswith("/login?next=")


# --- Language -------------------------------------------------------------------------------


def test_the_language_setting_is_saved_and_used_at_the_next_login(panel: Panel) -> None:
    user = panel.user("editor", DISTRICT)
    client = panel.login(user.username)
    response = client.form_post("/account/language", {"locale": "en"}, page="/account")
    assert response.status_code == 302
    page = client.get("/account").get_data(as_text=True)
    assert '<html lang="en">' in page and "Language saved." in page
    assert panel.reload(user.username).locale == "en"
    later = panel.login(user.username)
    assert '<html lang="en">' in later.get("/").get_data(as_text=True)
    # ?lang= in a session still wins over the setting, for that session.
    assert '<html lang="vi">' in later.get("/?lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in later.get("/").get_data(as_text=True)


@pytest.mark.parametrize("value", ["fr", "", "x" * 1000])
def test_an_unknown_language_is_refused_next_to_the_field(panel: Panel, value: str) -> None:
    user = panel.user("editor", DISTRICT)
    client = panel.login(user.username)
    response = client.form_post("/account/language", {"locale": value}, page="/account")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_errors(page, "locale") == ["Hãy chọn một ngôn ngữ trong danh sách."]
    assert panel.reload(user.username).locale == "vi"


def test_a_nul_character_anywhere_is_refused_at_the_door(panel: Panel) -> None:
    """PostgreSQL cannot store or compare NUL: refused before any view or query runs."""
    user = panel.user("editor", DISTRICT)
    client = panel.login(user.username)
    response = client.form_post("/account/language", {"locale": "en\x00"}, page="/account")
    assert response.status_code == 400
    assert "Yêu cầu không hợp lệ" in response.get_data(as_text=True)  # the 400 page
    assert panel.reload(user.username).locale == "vi"
    assert client.get("/stations/13285%00").status_code == 400
    api = client.get("/api/v1/stations/13285%00")
    assert api.status_code == 400 and "NUL" in api.json["error"]


# --- Own password ---------------------------------------------------------------------------


def test_a_user_changes_their_own_password_and_stays_signed_in(panel: Panel) -> None:
    user = panel.user("operator", COMMUNE)
    client = panel.login(user.username)
    response = client.form_post(
        "/account/password",
        {"current_password": PASSWORD, "password": "mat-khau-moi", "confirm": "mat-khau-moi"},
        page="/account",
    )
    assert response.status_code == 302
    assert "Đã đổi mật khẩu." in client.get("/account").get_data(as_text=True)
    assert client.get("/").status_code == 200
    panel.login(user.username, "mat-khau-moi")
    event = panel.db.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.password_change")
    ).one()
    assert event.actor == user.username


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {
                "current_password": "sai-roi-nhe",
                "password": "mat-khau-moi",
                "confirm": "mat-khau-moi",
            },
            "current_password",
            "Mật khẩu hiện tại không đúng.",
        ),
        (
            {"current_password": PASSWORD, "password": "ngan", "confirm": "ngan"},
            "password",
            "Mật khẩu cần từ 8 đến 1024 ký tự.",
        ),
        (
            {"current_password": PASSWORD, "password": "mat-khau-moi", "confirm": "khac-nhau"},
            "confirm",
            "Hai mật khẩu không giống nhau.",
        ),
        ({}, "current_password", "Hãy nhập mật khẩu hiện tại."),
    ],
)
def test_a_bad_password_change_says_why_next_to_the_field(
    panel: Panel, data: dict[str, str], field: str, message: str
) -> None:
    user = panel.user("operator", COMMUNE)
    client = panel.login(user.username)
    response = client.form_post("/account/password", data, page="/account")
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), field) == [message]
    panel.login(user.username)  # unchanged


# --- Personal API tokens --------------------------------------------------------------------


def test_a_token_is_shown_once_and_works_against_the_api(panel: Panel) -> None:
    client = panel.client("editor", DISTRICT)
    response = client.form_post("/account/tokens", page="/account/tokens")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    found = TOKEN.search(page)
    assert found
    token = found.group(1)
    assert "nó chỉ hiện một lần" in page
    assert f"/stations/{DISTRICT}/schedule.ics?token={token}" in page
    api = panel.anonymous()
    stations = api.get("/api/v1/stations", headers={"Authorization": f"Bearer {token}"})
    assert stations.status_code == 200
    again = client.get("/account/tokens").get_data(as_text=True)
    assert token not in again and token[:10] in again  # only the prefix, from now on
    assert "session" not in token and token not in str(client.get_cookie("session"))


def test_rotating_revokes_every_old_token(panel: Panel) -> None:
    client = panel.client("editor", DISTRICT)
    first = TOKEN.search(
        client.form_post("/account/tokens", page="/account/tokens").get_data(as_text=True)
    )
    second = TOKEN.search(
        client.form_post("/account/tokens", page="/account/tokens").get_data(as_text=True)
    )
    assert first and second
    rotated = client.form_post("/account/tokens/rotate", page="/account/tokens")
    new = TOKEN.search(rotated.get_data(as_text=True))
    assert new
    api = panel.anonymous()

    def status(token: str) -> int:
        return api.get("/api/v1/stations", headers={"Authorization": f"Bearer {token}"}).status_code

    assert (status(first.group(1)), status(second.group(1)), status(new.group(1))) == (
        401,
        401,
        200,
    )
    actions = panel.db.scalars(select(AuditEvent.action)).all()
    assert actions.count("api_token.create") == 3 and "api_token.rotate" in actions


def test_revoking_one_token_leaves_the_others(panel: Panel) -> None:
    client = panel.client("editor", DISTRICT)
    kept = TOKEN.search(
        client.form_post("/account/tokens", page="/account/tokens").get_data(as_text=True)
    )
    client.form_post("/account/tokens", page="/account/tokens")
    assert kept
    rows = panel.db.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    response = client.form_post(f"/account/tokens/{rows[1].id}/revoke", page="/account/tokens")
    assert response.status_code == 302
    assert "Đã thu hồi mã." in client.get("/account/tokens").get_data(as_text=True)
    panel.db.expire_all()
    assert [
        r.revoked_at is None for r in panel.db.scalars(select(ApiToken).order_by(ApiToken.id))
    ] == [
        True,
        False,
    ]


@pytest.mark.parametrize("token_id", ["999", "99999999999999999999", "0"])
def test_someone_elses_or_an_unknown_token_cannot_be_revoked(
    panel: Panel, make_caller: Any, token_id: str
) -> None:
    other = make_caller("editor", DISTRICT)
    theirs = panel.db.scalar(select(ApiToken.id))
    client = panel.client("admin", "35")
    for target in (str(theirs), token_id):
        response = client.form_post(f"/account/tokens/{target}/revoke", page="/account/tokens")
        assert response.status_code == 302
        page = client.get("/account/tokens").get_data(as_text=True)
        assert "Không tìm thấy mã này trong các mã đang dùng của bạn." in page
    assert other.get("/api/v1/stations").status_code == 200


def test_token_and_account_forms_need_their_csrf_token(panel: Panel) -> None:
    user = panel.user("editor", DISTRICT)
    client = panel.login(user.username)
    for url, data in [
        ("/account/tokens", {}),
        ("/account/tokens/rotate", {}),
        ("/account/language", {"locale": "en"}),
        (
            "/account/password",
            {"current_password": PASSWORD, "password": "x" * 9, "confirm": "x" * 9},
        ),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    assert panel.db.scalar(select(ApiToken.id)) is None
    assert panel.reload(user.username).locale == "vi"
