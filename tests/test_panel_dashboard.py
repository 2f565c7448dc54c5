"""The dashboard at ``/``: for my subtree — what airs next, what stations are playing,
stations offline or drifting, what waits for approval, displaced airings, failed renders."""

from __future__ import annotations

import re
from typing import Any

import pytest

from scheduler.models import Program, Segment
from tests import live_support as live
from tests.conftest import FROZEN_NOW
from tests.network_codes import COMMUNE, DISTRICT, OTHER_COMMUNE, OTHER_DISTRICT
from tests.panel_support import ROLES, Panel, visible_text


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _section(html: str, name: str) -> str:
    found = re.search(rf'<section class="card" id="{name}">(.*?)</section>', html, re.S)
    assert found, name
    return " ".join(visible_text(found.group(1)))


def test_anonymous_visitors_are_sent_to_login(panel: Panel) -> None:
    response = panel.anonymous().get("/")
    assert response.status_code == 302 and response.location == "/login?next=%2F"


@pytest.mark.parametrize("role", ROLES)
def test_every_role_gets_a_dashboard(panel: Panel, role: str) -> None:
    home = COMMUNE if role == "operator" else DISTRICT
    page = panel.client(role, home).get("/").get_data(as_text=True)
    for section in ("next", "playing", "health", "conflicts"):
        assert f'id="{section}"' in page, section
    assert ('id="approvals"' in page) == (role != "operator")
    assert "20/4/2026" in page and "08:00" in page


def test_what_airs_next_and_what_was_displaced(panel: Panel, app: Any) -> None:
    db = panel.db
    live.relay(app, db, start="17:30")
    bulletin = live.program_broadcast(app, db, start="17:30")  # loses to the province's relay
    page = panel.client("editor", DISTRICT).get("/").get_data(as_text=True)
    upcoming = _section(page, "next")
    assert "17:30 Tiếp âm Thời sự Đài PT-TH Hà Nam" in upcoming
    assert "30 phút · từ Đài Phát thanh và Truyền hình Hà Nam · 15 đài" in upcoming
    assert "Bản tin học tập suốt đời" in upcoming and "18:00" in upcoming  # shifted after it
    conflicts = _section(page, "conflicts")
    assert "Bản tin học tập suốt đời Dời giờ" in conflicts
    assert "phát 18:00–18:15" in conflicts and "15 đài" in conflicts
    assert f"do lịch #{bulletin.id - 1}" in conflicts
    operator = panel.client("operator", OTHER_COMMUNE).get("/").get_data(as_text=True)
    assert "Thời sự" not in _section(operator, "next")  # not for Duy Tiên
    assert "Không có gì trong 3 ngày tới." in _section(operator, "next")


def test_playing_offline_and_drifting_stations(panel: Panel) -> None:
    db = panel.db
    live.heartbeat(db, COMMUNE, playing="Tiếp âm VOV1")
    live.heartbeat(db, "13291", ago_s=7200)
    live.heartbeat(db, "13294", offset_ms=3500)
    live.heartbeat(db, OTHER_COMMUNE, ago_s=7200)  # Duy Tiên: not mine
    page = panel.client("approver", DISTRICT).get("/").get_data(as_text=True)
    playing = _section(page, "playing")
    assert (
        "Phường Quang Trung : Tiếp âm VOV1" in playing
        or "Phường Quang Trung: Tiếp âm VOV1" in playing.replace(" :", ":")
    )
    assert "2 / 15 đài trực tuyến" in playing
    health = _section(page, "health")
    assert "1 mất kết nối" in health and "1 lệch giờ" in health and "12 chưa kết nối" in health
    assert "Phường Lê Hồng Phong Mất kết nối liên lạc lần cuối 06:00 20/4/2026" in health
    assert "Phường Châu Cầu Lệch giờ +3,5 s" in health
    assert "Phường Đồng Văn" not in health


def test_waiting_for_approval_and_failed_renders(panel: Panel, app: Any) -> None:
    db = panel.db
    owner = live.station(db, COMMUNE)
    db.add(Segment(title="Bản tin chờ duyệt", owner=owner, status="ready", created_at=FROZEN_NOW))
    db.add(Segment(title="Ghi âm hỏng", owner=owner, status="failed", error="unplayable: not audio",
                   created_at=FROZEN_NOW))  # fmt: skip
    db.add(Program(title="Chương trình lỗi", owner=owner, status="failed", error="render failed",
                   created_at=FROZEN_NOW))  # fmt: skip
    other = live.station(db, OTHER_COMMUNE)
    db.add(Segment(title="Của Duy Tiên", owner=other, status="failed", created_at=FROZEN_NOW))
    db.commit()
    live.program_broadcast(app, db, start="19:00")  # an admin's: approved at once
    page = panel.client("approver", DISTRICT).get("/").get_data(as_text=True)
    approvals = _section(page, "approvals")
    assert "Chờ tôi duyệt" in approvals
    assert "0 lịch phát" in approvals and "1 bản tin" in approvals
    assert 'href="/segments?state=pending"' in page and 'href="/schedule/approvals"' in page
    failures = _section(page, "failures")
    assert "Ghi âm hỏng" in failures and "unplayable: not audio" in failures
    assert "Chương trình lỗi" in failures and "Của Duy Tiên" not in failures
    editor = panel.client("editor", OTHER_DISTRICT).get("/").get_data(as_text=True)
    assert "Đang chờ duyệt" in editor and "Của Duy Tiên" in _section(editor, "failures")


def test_the_waiting_bulletins_link_lists_only_what_waits(panel: Panel) -> None:
    """Regression: the link said ``?status=pending`` while the list filters on ``state``, so
    it opened every bulletin, approved ones included."""
    db = panel.db
    owner = live.station(db, DISTRICT)
    db.add(Segment(title="Tin chờ duyệt", owner=owner, status="ready", created_at=FROZEN_NOW))
    db.add(Segment(title="Tin đã duyệt", owner=owner, status="ready", created_at=FROZEN_NOW,
                   approved_at=FROZEN_NOW))  # fmt: skip
    db.commit()
    client = panel.client("approver", DISTRICT)
    page = client.get("/").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)"><strong class="num">1</strong> bản tin</a>', page)
    assert link, _section(page, "approvals")
    listed = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    titles = set(re.findall(r'<a href="/segments/\d+">([^<]+)</a>', listed))
    assert titles == {"Tin chờ duyệt"}
    assert '<option value="pending" selected>' in listed  # the filter shows it
