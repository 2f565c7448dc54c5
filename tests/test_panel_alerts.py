"""Emergency alerts from the panel: only approvers and admins, inside their area, confirmed
twice; bad input explained next to its field with the values kept; the status page lists the
stations and who has started playing (refreshed from a panel endpoint); cancelling."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.models import AuditEvent, Broadcast, BroadcastStatus
from tests import live_support as live
from tests.panel_support import (
    COMMUNE,
    DISTRICT,
    OTHER_COMMUNE,
    OTHER_DISTRICT,
    Panel,
    field_errors,
    input_value,
)

TITLE = "Cảnh báo lũ sông Đáy"
TEXT = "Nước sông Đáy đang lên nhanh. Bà con vùng bãi khẩn trương di dời người và tài sản."


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _form(**overrides: Any) -> dict[str, Any]:
    return {
        "title": TITLE,
        "targets": [COMMUNE],
        "source": "text",
        "text": TEXT,
        "segment": "",
        "repeat_every_s": "",
        "repeat_count": "",
        "expires": "",
        "confirm": "y",
        "confirm_title": TITLE,
        **overrides,
    }


def _issue(client: Any, **overrides: Any) -> int:
    response = client.form_post("/alerts/new", _form(**overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.fullmatch(r"/alerts/(\d+)", response.location)
    assert found, response.location
    return int(found.group(1))


@pytest.mark.parametrize(("role", "home"), [("editor", DISTRICT), ("operator", COMMUNE)])
def test_editors_and_operators_cannot_issue_alerts(panel: Panel, role: str, home: str) -> None:
    client = panel.client(role, home)
    assert client.get("/alerts/new").status_code == 403
    assert client.form_post("/alerts/new", _form(), page="/").status_code == 403
    assert "/alerts/new" not in client.get("/").get_data(as_text=True)  # not in the menu
    assert panel.db.scalar(select(Broadcast)) is None


@pytest.mark.parametrize(("role", "home"), [("approver", DISTRICT), ("admin", "35")])
def test_approvers_and_admins_see_the_guarded_form(panel: Panel, role: str, home: str) -> None:
    client = panel.client(role, home)
    assert '<a href="/alerts/new"' in client.get("/").get_data(as_text=True)
    page = client.get("/alerts/new").get_data(as_text=True)
    assert "Tôi xác nhận phát khẩn cấp" in page and "Gõ lại tiêu đề để xác nhận" in page
    assert f'value="{COMMUNE}"' in page
    if role == "approver":
        assert f'value="{OTHER_COMMUNE}"' not in page  # only their area is offered


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"confirm": ""}, "confirm", "Hãy đánh dấu xác nhận"),
        ({"confirm_title": "Cảnh báo lũ"}, "confirm_title", "gõ lại đúng tiêu đề"),
        ({"title": "", "confirm_title": ""}, "title", "Hãy nhập tiêu đề"),
        ({"targets": []}, "targets", "ít nhất một đài"),
        ({"targets": [OTHER_COMMUNE]}, "targets", "trong phạm vi của bạn"),
        ({"text": "  ...  "}, "text", "văn bản cần đọc"),
        ({"text": ""}, "text", "văn bản cần đọc"),
        ({"source": "segment"}, "segment", "không phát được"),
        ({"source": "segment", "segment": "999"}, "segment", "trong danh sách"),
        ({"source": "radio"}, "source", "trong danh sách"),
        ({"repeat_count": "3"}, "repeat_count", "khoảng cách giữa các lần phát"),
        ({"repeat_every_s": "600"}, "repeat_count", "khoảng cách giữa các lần phát"),
        ({"repeat_every_s": "mười"}, "repeat_every_s", "số nguyên"),
        ({"repeat_count": "1000", "repeat_every_s": "600"}, "repeat_count", "từ 1 đến 100"),
        ({"expires": "hôm qua"}, "expires", "20/4/2026 09:30"),
        ({"expires": "2026-04-19T08:00"}, "expires", "ở tương lai"),
        ({"expires": "2026-05-19T08:00"}, "expires", "trong vòng 7 ngày"),
    ],
)
def test_bad_alert_input_is_explained_and_kept(
    panel: Panel, overrides: dict[str, Any], field: str, message: str
) -> None:
    client = panel.client("approver", DISTRICT)
    response = client.form_post("/alerts/new", _form(**overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    shown = field_errors(page, field)
    assert any(message in m for m in shown), (field, shown)
    if field != "title":
        assert input_value(page, "title") == TITLE
    assert panel.db.scalar(select(Broadcast)) is None


def test_an_alert_airs_and_the_page_shows_who_started_playing(panel: Panel) -> None:
    client = panel.client("approver", DISTRICT)
    alert_id = _issue(client, targets=[COMMUNE, "13291"], repeat_every_s="600", repeat_count="3")
    page = client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Đã phát cảnh báo khẩn cấp tới 2 đài." in html
    assert TITLE in html and "Đang phát khẩn cấp" in html
    assert "08:00, 08:10, 08:20" in html  # the three airings, Hà Nam time
    assert f'data-code="{COMMUNE}"' in html and 'data-code="13291"' in html
    assert "0</strong> / 2 đài đã bắt đầu phát" in html
    assert "refresh.js" in html and f'data-refresh="/alerts/{alert_id}/stations"' in html
    # The agent at Quang Trung starts it and says so.
    broadcast = panel.db.get(Broadcast, alert_id)
    assert broadcast is not None and broadcast.priority.value == "emergency"
    live.heartbeat(panel.db, COMMUNE, playing=TITLE)
    live.play(panel.db, COMMUNE, broadcast, live.local(20, 8, 0), status="played", minutes=1)
    fragment = client.get(f"/alerts/{alert_id}/stations").get_data(as_text=True)
    assert "<html" not in fragment
    assert "1</strong> / 2 đài đã bắt đầu phát" in fragment
    row = re.search(rf'<tr data-code="{COMMUNE}">(.*?)</tr>', fragment, re.S)
    assert row and "Trực tuyến" in row.group(1) and "Đã phát" in row.group(1)
    assert "08:00" in row.group(1)
    other = re.search(r'<tr data-code="13291">(.*?)</tr>', fragment, re.S)
    assert other and "chưa có báo cáo" in other.group(1) and "Chưa kết nối" in other.group(1)
    event = panel.db.scalar(select(AuditEvent).where(AuditEvent.action == "alert.create"))
    assert event is not None and event.detail["targets"] == [COMMUNE, "13291"]


def test_cancelling_an_alert(panel: Panel) -> None:
    client = panel.client("approver", DISTRICT)
    alert_id = _issue(client)
    response = client.form_post(f"/alerts/{alert_id}/cancel", page=f"/alerts/{alert_id}")
    assert response.status_code == 302
    html = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert "Đã hủy cảnh báo" in html and "Hủy cảnh báo</button>" not in html
    panel.db.expire_all()
    broadcast = panel.db.get(Broadcast, alert_id)
    assert broadcast is not None and broadcast.status == BroadcastStatus.cancelled
    assert panel.db.scalar(select(AuditEvent).where(AuditEvent.action == "alert.cancel"))
    assert "Cảnh báo gần đây" in client.get("/alerts/new").get_data(as_text=True)


def test_alert_pages_outside_my_area_and_bad_ids(panel: Panel, app: Any) -> None:
    alert_id = _issue(panel.client("approver", DISTRICT))
    stranger = panel.client("approver", OTHER_DISTRICT)
    assert stranger.get(f"/alerts/{alert_id}").status_code == 403
    assert stranger.get(f"/alerts/{alert_id}/stations").status_code == 403
    assert stranger.form_post(f"/alerts/{alert_id}/cancel", page="/alerts/new").status_code == 403
    assert panel.client("editor", DISTRICT).get(f"/alerts/{alert_id}").status_code == 403
    admin = panel.client("admin", "35")
    assert admin.get(f"/alerts/{alert_id}").status_code == 200
    relay = live.relay(app, panel.db)
    for url in (f"/alerts/{relay.id}", "/alerts/999999", f"/alerts/{2**40}", "/alerts/abc"):
        response = admin.get(url)
        assert response.status_code == 404, url
        assert "Không tìm thấy" in response.get_data(as_text=True)
