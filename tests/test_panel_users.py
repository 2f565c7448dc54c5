"""``/users``: only admins, only inside their subtree; every bad input re-displays in
Vietnamese with the values kept; every change audited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.models import ApiToken, AuditEvent, Role, User
from tests.conftest import FROZEN_NOW
from tests.network_codes import COMMUNE, DISTRICT, OTHER_COMMUNE, OTHER_DISTRICT
from tests.panel_support import PASSWORD, Panel, PanelClient, field_errors, input_value


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _new_user(**overrides: str) -> dict[str, str]:
    return {
        "username": "vanhanh.chaucau",
        "full_name": "Cán bộ Đài truyền thanh phường Châu Cầu",
        "role": "operator",
        "station": "13294",
        "password": "mat-khau-moi",
        "confirm": "mat-khau-moi",
        **overrides,
    }


def _selected(html: str, name: str) -> str | None:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select_html, name
    chosen = re.search(r'<option selected value="([^"]*)"', select_html.group(1))
    return chosen.group(1) if chosen else None


def _options(html: str, name: str) -> list[str]:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select_html, name
    return re.findall(r'value="([^"]*)"', select_html.group(1))


# --- Who may open what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "station"),
    [("editor", DISTRICT), ("approver", DISTRICT), ("operator", COMMUNE), ("editor", "35")],
)
def test_only_admins_manage_users(panel: Panel, role: str, station: str) -> None:
    target = panel.user("operator", COMMUNE)
    client = panel.client(role, station)
    for url in ("/users", "/users/new", f"/users/{target.id}"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "Tài khoản của bạn không được mở trang này." in response.get_data(as_text=True)
    for url, data in [
        ("/users/new", _new_user()),
        (f"/users/{target.id}", {"role": "admin", "station": "35", "full_name": "x"}),
        (f"/users/{target.id}/password", {"password": "x" * 9, "confirm": "x" * 9}),
        (f"/users/{target.id}/active", {"active": "0"}),
    ]:
        assert client.form_post(url, data, page="/").status_code == 403, url
    assert panel.reload(target.username).role == Role.operator
    assert panel.reload(target.username).active
    assert "/users" not in client.get("/").get_data(as_text=True)  # no menu entry either


def test_anonymous_visitors_are_sent_to_login(panel: Panel) -> None:
    target = panel.user("operator", COMMUNE)
    client = panel.anonymous()
    for url in ("/users", "/users/new", f"/users/{target.id}"):
        assert client.get(url).location.startswith("/login?next=")


def test_a_district_admin_sees_and_manages_only_their_district(panel: Panel) -> None:
    inside = panel.user("operator", COMMUNE)
    outside = panel.user("operator", OTHER_COMMUNE)
    above = panel.user("editor", "35")
    client = panel.client("admin", DISTRICT)
    listing = client.get("/users").get_data(as_text=True)
    assert inside.username in listing
    assert outside.username not in listing and above.username not in listing
    assert client.get(f"/users/{inside.id}").status_code == 200
    for target in (outside, above):
        assert client.get(f"/users/{target.id}").status_code == 403
        edit = {"role": "editor", "station": DISTRICT, "full_name": "x"}
        assert client.form_post(f"/users/{target.id}", edit, page="/users").status_code == 403
        reset = {"password": "x" * 9, "confirm": "x" * 9}
        response = client.form_post(f"/users/{target.id}/password", reset, page="/users")
        assert response.status_code == 403
        deactivate = {"active": "0"}
        response = client.form_post(f"/users/{target.id}/active", deactivate, page="/users")
        assert response.status_code == 403
    assert panel.reload(outside.username).active and panel.reload(above.username).active


def test_the_station_picker_offers_only_the_admins_subtree(panel: Panel) -> None:
    client = panel.client("admin", DISTRICT)
    codes = _options(client.get("/users/new").get_data(as_text=True), "station")
    assert codes[0] == DISTRICT and COMMUNE in codes
    assert len(codes) == 15  # Phủ Lý and its 14 communes
    assert "35" not in codes and OTHER_DISTRICT not in codes and OTHER_COMMUNE not in codes
    province = panel.client("admin", "35")
    assert len(_options(province.get("/users/new").get_data(as_text=True), "station")) == 105


def test_unknown_and_absurd_user_ids_are_404(panel: Panel) -> None:
    client = panel.client("admin", "35")
    for url in ("/users/999999", "/users/99999999999999999999999", "/users/0", "/users/abc"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Không tìm thấy" in response.get_data(as_text=True)
    response = client.form_post("/users/99999999999999999999/active", {"active": "0"}, page="/")
    assert response.status_code == 404


# --- Creating -------------------------------------------------------------------------------


def test_an_admin_creates_a_user_who_can_then_sign_in(panel: Panel) -> None:
    client = panel.client("admin", DISTRICT)
    response = client.form_post("/users/new", _new_user(username="  VanHanh.ChauCau "))
    assert response.status_code == 302
    assert response.location == "/users"
    listing = client.get("/users").get_data(as_text=True)
    assert "Đã tạo người dùng vanhanh.chaucau." in listing
    assert "vanhanh.chaucau" in listing
    created = panel.reload("vanhanh.chaucau")
    assert created.role == Role.operator and created.station.code == "13294"
    assert created.full_name == "Cán bộ Đài truyền thanh phường Châu Cầu"
    event = panel.db.scalars(
        select(AuditEvent).where(AuditEvent.object_id == str(created.id))
    ).one()
    assert event.action == "user.create" and event.actor.startswith("admin")
    panel.login("vanhanh.chaucau", "mat-khau-moi")


def test_the_form_starts_with_the_least_powerful_role(panel: Panel) -> None:
    client = panel.client("admin", "35")
    assert _selected(client.get("/users/new").get_data(as_text=True), "role") == "operator"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"username": ""}, "username", "Hãy nhập tên đăng nhập."),
        ({"username": "Nguyễn Văn A"}, "username", "Tên đăng nhập gồm 2–64 ký tự"),
        ({"username": "a"}, "username", "Tên đăng nhập gồm 2–64 ký tự"),
        ({"username": "x" * 65}, "username", "Tên đăng nhập gồm 2–64 ký tự"),
        ({"username": ".abc"}, "username", "Tên đăng nhập gồm 2–64 ký tự"),
        ({"full_name": "x" * 201}, "full_name", "Họ và tên dài tối đa 200 ký tự."),
        ({"role": "superuser"}, "role", "Hãy chọn một vai trò trong danh sách."),
        ({"role": ""}, "role", "Hãy chọn một vai trò trong danh sách."),
        ({"station": "35"}, "station", "Hãy chọn một đài trong phạm vi của bạn."),
        ({"station": OTHER_COMMUNE}, "station", "Hãy chọn một đài trong phạm vi của bạn."),
        ({"station": "khong-co"}, "station", "Hãy chọn một đài trong phạm vi của bạn."),
        ({"password": "", "confirm": ""}, "password", "Hãy nhập mật khẩu."),
        ({"password": "ngan", "confirm": "ngan"}, "password", "Mật khẩu cần từ 8 đến 1024 ký tự."),
        ({"password": "x" * 1025, "confirm": "x" * 1025}, "password", "Mật khẩu cần từ 8"),
        ({"confirm": "khac-hoan-toan"}, "confirm", "Hai mật khẩu không giống nhau."),
        ({"confirm": ""}, "confirm", "Hãy nhập lại mật khẩu."),
    ],
)
def test_bad_input_is_shown_next_to_its_field_with_the_values_kept(
    panel: Panel, overrides: dict[str, str], field: str, message: str
) -> None:
    client = panel.client("admin", DISTRICT)
    data = _new_user(**overrides)
    response = client.form_post("/users/new", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    errors = field_errors(page, field)
    assert errors and errors[0].startswith(message), (errors, page[-3000:])
    # What was typed stays (except passwords), so the admin fixes one field, not all.
    if field != "full_name":
        assert input_value(page, "full_name") == data["full_name"]
    if field != "username":
        assert input_value(page, "username") == data["username"]
    if field not in ("role",):
        assert _selected(page, "role") == data["role"]
    assert panel.db.scalar(select(User).where(User.username == "vanhanh.chaucau")) is None


def test_a_taken_username_is_refused_next_to_the_field(panel: Panel) -> None:
    panel.user("editor", DISTRICT, "vanhanh.chaucau")
    client = panel.client("admin", DISTRICT)
    response = client.form_post("/users/new", _new_user())
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_errors(page, "username") == ["Tên đăng nhập này đã có người dùng."]
    assert _selected(page, "station") == "13294"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": ["a", "b"], "station": ["13294", "35"]},
        {"username": "abc\x00def", "full_name": "\x00", "role": "\x00", "station": "\x00"},
        {"username": "ab", "role": "operator", "station": "1" * 5000, "password": "x" * 100000},
    ],
)
def test_garbage_never_causes_a_500(panel: Panel, data: dict[str, Any]) -> None:
    client = panel.client("admin", "35")
    response = client.form_post("/users/new", data)
    assert response.status_code == 400


# --- Changing -------------------------------------------------------------------------------


def test_an_admin_changes_role_station_and_name(panel: Panel) -> None:
    target = panel.user("operator", COMMUNE)
    client = panel.client("admin", DISTRICT)
    page = client.get(f"/users/{target.id}").get_data(as_text=True)
    assert _selected(page, "role") == "operator" and _selected(page, "station") == COMMUNE
    response = client.form_post(
        f"/users/{target.id}",
        {"role": "editor", "station": DISTRICT, "full_name": "Biên tập mới"},
    )
    assert response.status_code == 302
    assert "Đã lưu thay đổi" in client.get(response.location).get_data(as_text=True)
    changed = panel.reload(target.username)
    assert (changed.role, changed.station.code, changed.full_name) == (
        Role.editor,
        DISTRICT,
        "Biên tập mới",
    )
    event = panel.db.scalars(select(AuditEvent).where(AuditEvent.action == "user.update")).one()
    assert event.detail["changes"] == {
        "role": ["operator", "editor"],
        "station": [COMMUNE, DISTRICT],
        "full_name": ["", "Biên tập mới"],
    }


def test_a_user_cannot_be_moved_out_of_the_admins_subtree(panel: Panel) -> None:
    target = panel.user("operator", COMMUNE)
    client = panel.client("admin", DISTRICT)
    response = client.form_post(
        f"/users/{target.id}", {"role": "admin", "station": "35", "full_name": "Giữ lại"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_errors(page, "station") == ["Hãy chọn một đài trong phạm vi của bạn."]
    assert input_value(page, "full_name") == "Giữ lại"
    assert _selected(page, "role") == "admin"
    unchanged = panel.reload(target.username)
    assert (unchanged.role, unchanged.station.code) == (Role.operator, COMMUNE)


def test_an_admin_edits_their_own_name_but_not_their_role_or_station(panel: Panel) -> None:
    me = panel.user("admin", DISTRICT)
    client = panel.login(me.username)
    page = client.get(f"/users/{me.id}").get_data(as_text=True)
    assert 'name="role"' not in page and 'name="station"' not in page
    assert "Khóa tài khoản" not in page
    response = client.form_post(
        f"/users/{me.id}", {"role": "operator", "station": COMMUNE, "full_name": "Tên mới"}
    )
    assert response.status_code == 302
    after = panel.reload(me.username)
    assert (after.role, after.station.code, after.full_name) == (Role.admin, DISTRICT, "Tên mới")
    refused = client.form_post(f"/users/{me.id}/active", {"active": "0"}, page="/users")
    assert refused.status_code == 302
    assert "Bạn không thể khóa tài khoản của chính mình." in client.get(refused.location).get_data(
        as_text=True
    )
    assert panel.reload(me.username).active


def test_an_admin_resets_a_password(panel: Panel) -> None:
    target = panel.user("editor", DISTRICT)
    client = panel.client("admin", "35")
    response = client.form_post(
        f"/users/{target.id}/password",
        {"password": "mat-khau-moi", "confirm": "mat-khau-moi"},
        page=f"/users/{target.id}",
    )
    assert response.status_code == 302
    assert "Đã đặt mật khẩu mới" in client.get(response.location).get_data(as_text=True)
    old = panel.anonymous().form_post("/login", {"username": target.username, "password": PASSWORD})
    assert old.status_code == 400
    panel.login(target.username, "mat-khau-moi")
    actions = panel.db.scalars(select(AuditEvent.action)).all()
    assert "user.password_reset" in actions


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"password": "ngan", "confirm": "ngan"}, "password", "Mật khẩu cần từ 8 đến 1024"),
        ({"password": "mat-khau-moi", "confirm": "khac"}, "confirm", "Hai mật khẩu không"),
        ({}, "password", "Hãy nhập mật khẩu."),
    ],
)
def test_a_bad_new_password_is_shown_on_the_users_page(
    panel: Panel, data: dict[str, str], field: str, message: str
) -> None:
    target = panel.user("editor", DISTRICT)
    client = panel.client("admin", "35")
    response = client.form_post(f"/users/{target.id}/password", data, page=f"/users/{target.id}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_errors(page, field)[0].startswith(message)
    assert _selected(page, "role") == "editor"  # the rest of the page is still there
    panel.login(target.username)  # the old password still works


def test_deactivating_stops_sign_in_and_api_tokens(panel: Panel, make_caller: Any) -> None:
    caller = make_caller("editor", DISTRICT)
    target = panel.reload(caller.username)
    assert caller.get("/api/v1/stations").status_code == 200
    open_session = panel.login(caller.username)
    client = panel.client("admin", DISTRICT)
    response = client.form_post(f"/users/{target.id}/active", {"active": "0"}, page="/users")
    assert response.status_code == 302
    assert "Đã khóa tài khoản" in client.get(response.location).get_data(as_text=True)
    assert caller.get("/api/v1/stations").status_code == 401
    assert open_session.get("/").status_code == 302
    refused = panel.anonymous().form_post(
        "/login", {"username": caller.username, "password": "mat-khau-dai"}
    )
    assert refused.status_code == 400
    assert "Đã khóa" in client.get("/users").get_data(as_text=True)
    again = client.form_post(f"/users/{target.id}/active", {"active": "1"}, page="/users")
    assert again.status_code == 302
    assert caller.get("/api/v1/stations").status_code == 200
    actions = panel.db.scalars(select(AuditEvent.action)).all()
    assert "user.deactivate" in actions and "user.activate" in actions
    assert panel.db.scalar(select(ApiToken.revoked_at)) is None  # tokens paused, not revoked


@pytest.mark.parametrize("value", ["", "yes", "2", None])
def test_an_odd_active_value_is_a_400_page(panel: Panel, value: str | None) -> None:
    target = panel.user("editor", DISTRICT)
    client = panel.client("admin", "35")
    data = {} if value is None else {"active": value}
    response = client.form_post(f"/users/{target.id}/active", data, page="/users")
    assert response.status_code == 400
    assert panel.reload(target.username).active


def test_user_forms_need_their_csrf_token(panel: Panel) -> None:
    target = panel.user("editor", DISTRICT)
    client: PanelClient = panel.client("admin", "35")
    for url, data in [
        ("/users/new", _new_user()),
        (f"/users/{target.id}", {"role": "admin", "station": "35"}),
        (f"/users/{target.id}/password", {"password": "x" * 9, "confirm": "x" * 9}),
        (f"/users/{target.id}/active", {"active": "0"}),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 400, url
        assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)
    after = panel.reload(target.username)
    assert after.role == Role.editor and after.active
    assert panel.db.scalar(select(User).where(User.username == "vanhanh.chaucau")) is None


def test_dates_in_the_list_are_vietnamese(panel: Panel) -> None:
    client = panel.client("admin", "35")
    assert FROZEN_NOW.day == 20
    assert "20/4/2026" in client.get("/users").get_data(as_text=True)


def test_users_are_searched_and_filtered_by_role(panel: Panel) -> None:
    panel.user("operator", COMMUNE, username="vanhanh.quangtrung")
    panel.user("operator", OTHER_COMMUNE, username="vanhanh.khac")
    panel.user("editor", DISTRICT, username="bientap.phuly")
    client = panel.client("admin", "35")

    def listed(query: str) -> set[str]:
        html = client.get(f"/users?{query}").get_data(as_text=True)
        return set(re.findall(r'<a href="/users/\d+">([^<]+)</a>', html))

    assert listed("q=quang") == {"vanhanh.quangtrung"}  # by username
    assert listed("q=Quang+Trung") == {"vanhanh.quangtrung"}  # by station name
    assert listed("role=operator") == {"vanhanh.quangtrung", "vanhanh.khac"}
    assert listed("q=phuly&role=editor") == {"bientap.phuly"}
    assert listed("q=%25") == set()  # a wildcard is a character, not "everything"
    assert client.get("/users?role=king").status_code == 200  # an unknown role: no filter


def test_the_station_picker_groups_communes_under_their_district(panel: Panel) -> None:
    html = panel.client("admin", "35").get("/users/new").get_data(as_text=True)
    group = re.search(r'<optgroup label="Thành phố Phủ Lý">(.*?)</optgroup>', html, re.S)
    assert group, "no Phủ Lý group"
    assert f'value="{COMMUNE}"' in group.group(1) and 'value="347"' not in group.group(1)
    assert 'value="347"' in html  # the district itself stays choosable
