"""``/audit``: admins and approvers read who changed what, when, inside their area; filters
by user, action and date; pages of 50; details shown readably; bad filters explained."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from scheduler import audit
from tests import live_support as live
from tests.conftest import FROZEN_NOW
from tests.network_codes import COMMUNE, DISTRICT, OTHER_COMMUNE
from tests.panel_support import Panel, field_errors


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _event(
    panel: Panel,
    code: str,
    action: str,
    actor: str = "duyet.phuly",
    days_ago: int = 0,
    **detail: Any,
) -> None:
    station = live.station(panel.db, code)
    audit.record(
        panel.db,
        FROZEN_NOW - timedelta(days=days_ago),
        actor,
        action,
        station,
        station.id,
        **detail,
    )
    panel.db.commit()


@pytest.mark.parametrize(("role", "home"), [("editor", DISTRICT), ("operator", COMMUNE)])
def test_editors_and_operators_cannot_read_the_log(panel: Panel, role: str, home: str) -> None:
    client = panel.client(role, home)
    assert client.get("/audit").status_code == 403
    assert '<a href="/audit"' not in client.get("/").get_data(as_text=True)


def test_approvers_read_their_area_only(panel: Panel) -> None:
    _event(panel, COMMUNE, "broadcast.approve", title="Bản tin sáng")
    _event(panel, OTHER_COMMUNE, "broadcast.approve", actor="duyet.duytien")
    client = panel.client("approver", DISTRICT)
    page = client.get("/audit").get_data(as_text=True)
    assert "duyet.phuly" in page and "duyet.duytien" not in page
    assert "Phường Quang Trung" in page and "Bản tin sáng" in page
    assert "07:00 19/4/2026" not in page
    assert "08:00 20/4/2026" in page
    province = panel.client("admin", "35").get("/audit").get_data(as_text=True)
    assert (
        "duyet.duytien" in province and "<code>stations.import</code>" in province
    )  # no-station events too
    assert "<code>stations.import</code>" not in page


def test_filters_by_user_action_and_date(panel: Panel) -> None:
    _event(panel, COMMUNE, "broadcast.approve", actor="duyet.phuly")
    _event(panel, COMMUNE, "segment.reject", actor="duyet.phuly", days_ago=3, reason="Âm lượng nhỏ")
    _event(panel, "13291", "broadcast.create", actor="bientap.phuly", days_ago=1)
    client = panel.client("admin", DISTRICT)
    by_user = client.get("/audit?user=BienTap.PhuLy").get_data(as_text=True)
    assert (
        "<code>broadcast.create</code>" in by_user and "<code>segment.reject</code>" not in by_user
    )
    by_action = client.get("/audit?action=segment.reject").get_data(as_text=True)
    assert "Âm lượng nhỏ" in by_action and "bientap.phuly" not in by_action
    assert '<option selected value="segment.reject">' in by_action
    by_date = client.get("/audit?since=2026-04-19&until=2026-04-19").get_data(as_text=True)
    assert (
        "<code>broadcast.create</code>" in by_date
        and "<code>broadcast.approve</code>" not in by_date
    )
    assert "1 sự kiện" in by_date


def test_bad_filters_are_explained(panel: Panel) -> None:
    client = panel.client("admin", DISTRICT)
    response = client.get("/audit?since=21/4/2026&action=nope&until=0001-01-01")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert field_errors(page, "since") == ["Hãy nhập ngày như 2026-04-21."]
    assert field_errors(page, "until") == ["Ngày nằm ngoài khoảng cho phép."]
    assert field_errors(page, "action") == ["Hãy chọn một thao tác trong danh sách."]
    assert 'value="21/4/2026"' in page
    for url in ("/audit?page=abc", "/audit?page=-1", "/audit?page=999999999999"):
        assert client.get(url).status_code == 200, url


def test_pages_of_fifty_newest_first(panel: Panel) -> None:
    for i in range(60):
        station = live.station(panel.db, COMMUNE)
        audit.record(
            panel.db,
            FROZEN_NOW - timedelta(minutes=i),
            "duyet.phuly",
            "note",
            None,
            station.id,
            n=i,
        )
    panel.db.commit()
    client = panel.client("approver", DISTRICT)
    first = client.get("/audit?action=note").get_data(as_text=True)
    assert "60 sự kiện" in first and "trang 1/2" in first
    assert first.count('data-event="') == 50
    assert "/audit?page=2&amp;action=note" in first
    second = client.get("/audit?action=note&page=2").get_data(as_text=True)
    assert second.count('data-event="') == 10


def test_events_read_as_sentences_with_names_and_local_times(panel: Panel, app: Any) -> None:
    """What an approver reads: who did what to which named thing, stations by name, lengths
    and instants in local time — the codes only in the folded raw record."""
    bulletin = live.program_broadcast(app, panel.db, start="18:10")  # through the service
    _event(panel, COMMUNE, "alert.create", actor="admin", title="Cảnh báo lũ",
           targets=[COMMUNE, OTHER_COMMUNE], expires="2026-04-20T03:00:00+00:00",
           repeat_count=2)  # fmt: skip
    _event(panel, COMMUNE, "alert.air", actor="admin", duration_ms=47_400)
    page = panel.client("admin", "35").get("/audit").get_data(as_text=True)
    assert f"tạo buổi phát «{bulletin.title}»" in page
    assert "phát cảnh báo khẩn cấp «Phường Quang Trung»" in page  # the event's object
    assert "Phường Quang Trung, " in page and OTHER_COMMUNE not in page.split("Bản ghi gốc")[0]
    assert "10:00 20/4/2026" in page  # 03:00 UTC, in Hà Nam
    assert "0:47" in page and "duration_ms" not in page.split('<pre class="json">')[0]
    assert "<code>alert.create</code>" in page  # the raw record, folded
    assert '<option value="broadcast.create">Tạo buổi phát</option>' in page
