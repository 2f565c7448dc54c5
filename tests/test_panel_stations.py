"""``/stations`` and ``/stations/<code>``: the subtree with live status from heartbeats, one
station's details, rules edited by admins (checked, kept on error), the agent token shown
once (and the old one refused), install steps; scope per role."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from scheduler import accounts
from scheduler.models import AuditEvent
from tests import live_support as live
from tests.conftest import FROZEN_NOW
from tests.network_codes import COMMUNE, DISTRICT, OTHER_COMMUNE, OTHER_DISTRICT
from tests.network_codes import LE_HONG_PHONG as SIBLING
from tests.panel_support import Panel, field_errors, input_value


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _row(html: str, code: str) -> str:
    found = re.search(rf'<tr data-code="{code}">(.*?)</tr>', html, re.S)
    assert found, code
    return found.group(1)


# --- Who may open what ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "home", "inside", "outside"),
    [
        ("admin", "35", OTHER_COMMUNE, None),
        ("editor", DISTRICT, COMMUNE, OTHER_COMMUNE),
        ("approver", DISTRICT, SIBLING, OTHER_DISTRICT),
        ("operator", COMMUNE, COMMUNE, SIBLING),
    ],
)
def test_each_role_sees_stations_of_its_subtree_only(
    panel: Panel, role: str, home: str, inside: str, outside: str | None
) -> None:
    client = panel.client(role, home)
    assert client.get("/stations").status_code == 200
    assert client.get(f"/stations/{inside}").status_code == 200
    if outside:
        page = client.get(f"/stations/{outside}")
        assert page.status_code == 403
        assert "Tài khoản của bạn không được mở trang này." in page.get_data(as_text=True)
        assert client.get(f"/stations?root={outside}").status_code == 403


def test_unknown_or_malformed_station_codes_are_404_pages(panel: Panel) -> None:
    client = panel.client("admin", "35")
    for url in (
        "/stations/99999",
        "/stations/%3Cscript%3E",
        "/stations?root=nope",
        "/stations/" + "9" * 40,
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Không tìm thấy" in response.get_data(as_text=True)
    assert panel.anonymous().get("/stations").status_code == 302


def test_the_tree_shows_live_status_from_heartbeats(panel: Panel) -> None:
    db = panel.db
    live.heartbeat(db, COMMUNE, playing="Tiếp âm Thời sự Đài PT-TH Hà Nam", offset_ms=350)
    live.heartbeat(db, SIBLING, ago_s=3600)  # silent for an hour
    live.heartbeat(db, "13294", offset_ms=-4200)  # online, clock 4.2 s behind
    page = panel.client("editor", DISTRICT).get("/stations").get_data(as_text=True)
    assert "Phủ Lý" in page
    online = _row(page, COMMUNE)
    assert "Trực tuyến" in online and "Tiếp âm Thời sự Đài PT-TH Hà Nam" in online
    assert "+0,3 s" in online and "12,0 GB" in online and "0.1.0" in online
    assert "07:59 20/4/2026" in online  # last seen, Hà Nam time
    lost = _row(page, SIBLING)
    assert "Mất kết nối" in lost and "07:00 20/4/2026" in lost
    assert "Lệch giờ" in _row(page, "13294") and "−4,2 s" in _row(page, "13294")
    assert "Chưa kết nối" in _row(page, "13303")
    assert re.search(r"<strong class=\"num\">15</strong> đài", page)  # Phủ Lý + 14 communes
    assert re.search(r"<strong class=\"num\">2</strong> trực tuyến", page)
    assert re.search(r"<strong class=\"num\">1</strong> mất kết nối", page)
    assert re.search(r"<strong class=\"num\">1</strong> lệch giờ", page)


def test_status_filters_list_only_matching_stations(panel: Panel) -> None:
    live.heartbeat(panel.db, SIBLING, ago_s=3600)
    client = panel.client("admin", "35")
    page = client.get("/stations?status=offline").get_data(as_text=True)
    assert f'data-code="{SIBLING}"' in page and f'data-code="{COMMUNE}"' not in page
    assert client.get("/stations?status=bogus").status_code == 200  # ignored, not an error


def test_a_province_admin_sees_two_levels_and_drills_down(panel: Panel) -> None:
    client = panel.client("admin", "35")
    page = client.get("/stations").get_data(as_text=True)
    assert 'data-code="347"' in page and f'data-code="{COMMUNE}"' in page  # 105 < the limit
    page = client.get("/stations?root=347").get_data(as_text=True)
    assert f'data-code="{COMMUNE}"' in page and f'data-code="{OTHER_COMMUNE}"' not in page


# --- One station --------------------------------------------------------------------------


def test_station_page_shows_status_streams_rules_install_and_plays(panel: Panel, app: Any) -> None:
    db = panel.db
    relay = live.relay(app, db, start="05:30")
    live.play(db, COMMUNE, relay, live.local(20, 5, 30), status="partial", late_s=40)
    live.heartbeat(db, COMMUNE, playing="Bản tin sáng", until=FROZEN_NOW + timedelta(minutes=12))
    page = panel.client("operator", COMMUNE).get(f"/stations/{COMMUNE}").get_data(as_text=True)
    assert "Bản tin sáng" in page and "(còn 12 phút)" in page  # what is on air, how long left
    assert "Đài truyền thanh Phường Quang Trung" in page
    assert "Trực tuyến" in page and "Bản tin sáng" in page
    assert live.PROVINCE_STREAM in page  # the province's stream, relayed from above
    # The install guide is for whoever installs agents (admins), not for the operator…
    assert "apt-get install" not in page and "systemd" not in page
    assert "Việc cài đặt do quản trị viên" in page
    assert "Tiếp âm Thời sự Đài PT-TH Hà Nam" in page and "Phát một phần" in page
    assert "Luồng phát bị đứt" in page and "the stream broke" not in page  # in Vietnamese
    assert "05:30 20/4/2026" in page and "05:30–06:00" in page
    assert "Cấp mã máy trạm mới" not in page  # operators do not rotate tokens
    assert 'name="allowed_windows"' not in page  # nor edit rules
    assert "không giới hạn" in page
    admin = panel.client("admin", "35").get(f"/stations/{COMMUNE}").get_data(as_text=True)
    assert "apt-get install -y libvlc5 vlc-plugin-base" in admin
    assert "pip install loaxa" in admin
    assert "loaxa-agent --server http://localhost --token MA_MAY_TRAM" in admin
    assert "Restart=always" in admin and "LOAXA_MQTT_URL=" in admin


def test_admin_edits_windows_and_caps(panel: Panel) -> None:
    client = panel.client("admin", "35")
    url = f"/stations/{COMMUNE}/rules"
    response = client.form_post(
        url,
        {"allowed_windows": " 05:00-07:30 ,16:30-19:00", "max_sessions_per_day": "2",
         "max_minutes_per_session": "45"},
        page=f"/stations/{COMMUNE}",
    )  # fmt: skip
    assert response.status_code == 302
    saved = live.station(panel.db, COMMUNE)
    panel.db.refresh(saved)
    assert saved.allowed_windows == "05:00-07:30,16:30-19:00"
    assert (saved.max_sessions_per_day, saved.max_minutes_per_session) == (2, 45)
    event = panel.db.scalar(select(AuditEvent).where(AuditEvent.action == "station.rules"))
    assert event is not None and event.detail["allowed_windows"] == "05:00-07:30,16:30-19:00"
    page = client.get(f"/stations/{COMMUNE}").get_data(as_text=True)
    assert "Đã lưu quy định phát" in page
    assert input_value(page, "allowed_windows") == "05:00-07:30,16:30-19:00"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"allowed_windows": "5h-7h"}, "allowed_windows", "Hãy viết các khung giờ như"),
        ({"allowed_windows": "19:00-16:30"}, "allowed_windows", "Hãy viết các khung giờ như"),
        ({"allowed_windows": "25:00-26:00"}, "allowed_windows", "Hãy viết các khung giờ như"),
        ({"max_sessions_per_day": "hai"}, "max_sessions_per_day", "số nguyên từ 1 đến 48"),
        ({"max_sessions_per_day": "0"}, "max_sessions_per_day", "số nguyên từ 1 đến 48"),
        ({"max_minutes_per_session": "-5"}, "max_minutes_per_session", "từ 1 đến 1440"),
    ],
)
def test_bad_rules_are_explained_and_kept(
    panel: Panel, data: dict[str, str], field: str, message: str
) -> None:
    client = panel.client("admin", DISTRICT)
    form = {
        "allowed_windows": "",
        "max_sessions_per_day": "",
        "max_minutes_per_session": "",
        **data,
    }
    response = client.form_post(f"/stations/{COMMUNE}/rules", form, page=f"/stations/{COMMUNE}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert any(message in m for m in field_errors(page, field)), field_errors(page, field)
    assert input_value(page, field) == data[field]
    assert live.station(panel.db, COMMUNE).allowed_windows is None


@pytest.mark.parametrize(
    ("role", "home"), [("editor", DISTRICT), ("approver", DISTRICT), ("operator", COMMUNE)]
)
def test_only_admins_change_rules_or_tokens(panel: Panel, role: str, home: str) -> None:
    client = panel.client(role, home)
    page = f"/stations/{COMMUNE}"
    assert (
        client.form_post(f"{page}/rules", {"allowed_windows": "05:00-06:00"}, page=page).status_code
        == 403
    )
    assert client.form_post(f"{page}/token", page=page).status_code == 403
    admin = panel.client("admin", DISTRICT)
    other = f"/stations/{OTHER_COMMUNE}"
    assert admin.form_post(f"{other}/token", page="/stations").status_code == 403
    assert (
        admin.form_post(f"{other}/rules", {"allowed_windows": ""}, page="/stations").status_code
        == 403
    )


def test_token_rotation_shows_the_token_once_and_the_old_one_stops(panel: Panel) -> None:
    old = accounts.new_station_token(panel.db, FROZEN_NOW, COMMUNE)
    panel.db.commit()
    client = panel.client("admin", DISTRICT)
    headers = {"Authorization": f"Bearer {old}"}
    assert client.get("/api/v1/agent/manifest", headers=headers).status_code == 200
    response = client.form_post(f"/stations/{COMMUNE}/token", page=f"/stations/{COMMUNE}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    found = re.search(r'id="new-token"[^>]*value="(lxs_[^"]+)"', page)
    assert found
    token = found.group(1)
    assert token.startswith("lxs_") and f"--token {token}" in page
    assert "chỉ hiện một lần" in page
    assert client.get("/api/v1/agent/manifest", headers=headers).status_code == 401
    fresh = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/agent/manifest", headers=fresh).status_code == 200
    assert token not in client.get(f"/stations/{COMMUNE}").get_data(as_text=True)  # once
    event = panel.db.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "station_token.rotate")
        .order_by(AuditEvent.id.desc())
    )
    assert event is not None and event.actor.startswith("admin")
    assert client.get(f"/stations/{COMMUNE}/token").status_code == 405


def test_rotation_without_csrf_is_refused(panel: Panel) -> None:
    client = panel.client("admin", DISTRICT)
    response = client.post(f"/stations/{COMMUNE}/token")
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def test_stations_are_found_by_name_or_code_anywhere_below(panel: Panel) -> None:
    client = panel.client("admin", "35")

    def found(query: str) -> list[str]:
        html = client.get(f"/stations?{query}").get_data(as_text=True)
        return re.findall(r'<tr data-code="([^"]+)"', html)

    assert found("q=Quang+Trung") == [COMMUNE]  # a commune, two levels below the province
    assert found(f"q={COMMUNE}") == [COMMUNE]
    assert found("q=%25") == []  # "%" is looked for as a character
    assert "1 đài khớp «Quang Trung»" in client.get("/stations?q=Quang+Trung").get_data(
        as_text=True
    )
    # Only inside my area: a district admin does not find another district's communes.
    district = panel.client("admin", DISTRICT)
    other = district.get(f"/stations?q={OTHER_COMMUNE}").get_data(as_text=True)
    assert 'data-code="' not in other
