"""The relay schedule ("Lịch tiếp âm"): today and the week of a station — what to relay,
from whom, when, how long, programmes too — next to what the agent reported; the print view;
the calendar link with a personal token; operators see their own station only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from icalendar import Calendar

from tests import live_support as live
from tests.network_codes import COMMUNE, DISTRICT, OTHER_COMMUNE
from tests.network_codes import LE_HONG_PHONG as SIBLING
from tests.panel_support import Panel, visible_text


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _today(html: str) -> str:
    found = re.search(r'<section class="card" id="today">(.*?)</section>', html, re.S)
    assert found
    return found.group(1)


def _line(html: str, item: str) -> str:
    found = re.search(rf'<tr class="[^"]*" data-item="{re.escape(item)}">(.*?)</tr>', html, re.S)
    assert found, item
    return " ".join(visible_text(found.group(1)))


def test_relay_index_goes_to_my_station(panel: Panel) -> None:
    client = panel.client("operator", COMMUNE)
    response = client.get("/relay")
    assert response.status_code == 302 and response.location == f"/stations/{COMMUNE}/relay"
    assert panel.client("editor", DISTRICT).get("/relay").location == f"/stations/{DISTRICT}/relay"
    assert panel.anonymous().get("/relay").status_code == 302  # to the login page


@pytest.mark.parametrize(
    ("role", "home", "inside", "outside"),
    [
        ("operator", COMMUNE, COMMUNE, SIBLING),
        ("editor", DISTRICT, SIBLING, OTHER_COMMUNE),
        ("approver", DISTRICT, COMMUNE, OTHER_COMMUNE),
        ("admin", "35", OTHER_COMMUNE, None),
    ],
)
def test_who_may_open_which_relay_schedule(
    panel: Panel, role: str, home: str, inside: str, outside: str | None
) -> None:
    client = panel.client(role, home)
    assert client.get(f"/stations/{inside}/relay").status_code == 200
    assert client.get(f"/stations/{inside}/relay?print=1").status_code == 200
    if outside:
        for url in (f"/stations/{outside}/relay", f"/stations/{outside}/relay?print=1"):
            response = client.get(url)
            assert response.status_code == 403, url
            assert "Không có quyền" in response.get_data(as_text=True)
        assert client.form_post(f"/stations/{outside}/relay/token", page="/").status_code == 403


def test_unknown_station_and_bad_week_are_error_pages(panel: Panel) -> None:
    client = panel.client("admin", "35")
    assert client.get("/stations/00000/relay").status_code == 404
    assert client.get("/stations/bad%20code/relay").status_code == 404
    for day in ("2026-13-01", "hôm-nay", "0001-01-01", "9999-12-31"):
        response = client.get(f"/stations/{COMMUNE}/relay?day={day}")
        assert response.status_code == 400, day
        assert "Yêu cầu không hợp lệ" in response.get_data(as_text=True)


def test_relay_shows_what_when_from_whom_and_what_aired(panel: Panel, app: Any) -> None:
    db = panel.db
    morning = live.relay(app, db, start="05:30", day=13)  # daily since last Monday
    evening = live.relay(app, db, start="17:30", title="Tiếp âm Thời sự chiều")
    bulletin = live.program_broadcast(app, db, start="18:10")
    aired = live.play(db, COMMUNE, morning, live.local(20, 5, 30), status="played", late_s=2)
    yesterday = live.play(db, COMMUNE, morning, live.local(19, 5, 30), status="missed")
    page = (
        panel.client("operator", COMMUNE).get(f"/stations/{COMMUNE}/relay").get_data(as_text=True)
    )
    assert "Lịch tiếp âm — Đài truyền thanh Phường Quang Trung" in page
    today = _today(page)
    assert "Hôm nay, 20/4/2026" in today
    line = _line(today, aired)
    assert "05:30 –06:00" in line or "05:30–06:00" in line.replace(" ", "")
    assert "30 phút" in line and "Tiếp âm" in line
    assert "Đài Phát thanh và Truyền hình Hà Nam" in line  # from whom
    assert "Đã phát" in line and "thực tế 05:30" in line
    assert 'class="tone ok">Đã phát' in today
    evening_item = f"{evening.id}-20260420T103000Z"
    assert "Sắp phát" in _line(today, evening_item) and "17:30" in _line(today, evening_item)
    programme = _line(today, f"{bulletin.id}-20260420T111000Z")
    assert "Chương trình" in programme and "15 phút" in programme
    assert "Trung tâm Văn hóa, Thông tin và Thể thao Thành phố Phủ Lý" in programme
    # The week: Monday 20 to Sunday 26 April; Sunday's last relay is there.
    assert "Tuần 20/4/2026 – 26/4/2026" in page
    assert "Chủ nhật, 26/4/2026" in page and f"{evening.id}-20260426T103000Z" in page
    # Last week, with yesterday's missed relay in red.
    last_week = (
        panel.client("operator", COMMUNE)
        .get(f"/stations/{COMMUNE}/relay?day=2026-04-19")
        .get_data(as_text=True)
    )
    assert "Tuần 13/4/2026 – 19/4/2026" in last_week
    assert "Bỏ lỡ" in _line(last_week, yesterday)
    assert 'class="tone bad">Bỏ lỡ' in last_week


def test_a_past_airing_nobody_reported_reads_as_the_reports_judge_it(
    panel: Panel, app: Any
) -> None:
    """08:00 now. The 06:30 relay ended an hour ago with no log: missed, as the reports say
    (not "no report yet"); the 07:45 one ended five minutes ago: still inside the grace."""
    db = panel.db
    early = live.relay(app, db, start="06:30", day=13)
    recent = live.relay(app, db, start="07:45", minutes=10, day=13, title="Tin vắn")
    today = _today(
        panel.client("operator", COMMUNE).get(f"/stations/{COMMUNE}/relay").get_data(as_text=True)
    )
    missed = _line(today, f"{early.id}-20260419T233000Z")
    assert "Bỏ lỡ — không có báo cáo" in missed
    assert "Chờ máy trạm báo về" in _line(today, f"{recent.id}-20260420T004500Z")
    assert "Chưa có báo cáo" not in today


def test_a_displaced_airing_says_why(panel: Panel, app: Any) -> None:
    db = panel.db
    relay = live.relay(app, db, start="18:00")
    bulletin = live.program_broadcast(app, db, start="18:00")  # district, lower than province
    page = (
        panel.client("operator", COMMUNE).get(f"/stations/{COMMUNE}/relay").get_data(as_text=True)
    )
    moved = _line(_today(page), f"{bulletin.id}-20260420T113000Z")
    assert "Dời giờ" in moved and "nhường cho: Tiếp âm Thời sự Đài PT-TH Hà Nam" in moved
    assert "giờ gốc 18:00" in moved
    assert relay.id


def test_print_view_is_an_a4_table_with_station_and_dates(panel: Panel, app: Any) -> None:
    live.relay(app, panel.db, start="17:30")
    client = panel.client("operator", COMMUNE)
    page = client.get(f"/stations/{COMMUNE}/relay?print=1").get_data(as_text=True)
    assert '<body class="print-sheet">' in page and "print-a4.css" in page
    assert "Lịch tiếp âm — Đài truyền thanh Phường Quang Trung" in page
    assert "Tuần 20/4/2026 – 26/4/2026" in page and "Thứ Hai, 20/4/2026" in page
    assert '<nav class="menu"' not in page and "csrf_token" not in page
    assert page.count("<table") == 7
    css = client.get("/static/live/print-a4.css").get_data(as_text=True)
    assert "size: A4" in css
    assert 'href="/stations/13285/relay?day=2026-04-20&amp;print=1"' in client.get(
        f"/stations/{COMMUNE}/relay"
    ).get_data(as_text=True)


def test_calendar_link_with_a_token_made_for_me(panel: Panel, app: Any) -> None:
    live.relay(app, panel.db, start="17:30")
    client = panel.client("operator", COMMUNE)
    page = client.get(f"/stations/{COMMUNE}/relay").get_data(as_text=True)
    assert f'href="http://localhost/stations/{COMMUNE}/schedule.ics"' in page
    response = client.form_post(f"/stations/{COMMUNE}/relay/token")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    found = re.search(
        r'id="ics-link" type="text" readonly value="([^"]+)"', response.get_data(as_text=True)
    )
    assert found
    url = found.group(1).replace("&amp;", "&")
    assert url.startswith(f"http://localhost/stations/{COMMUNE}/schedule.ics?token=lxu_")
    # A webcal:// link a phone subscribes to (not a one-off download), and a copy button.
    token = url.split("token=", 1)[1]
    shown = response.get_data(as_text=True)
    assert f'href="webcal://localhost/stations/{COMMUNE}/schedule.ics?token={token}"' in shown
    assert 'data-copy="#ics-link"' in shown
    feed = panel.anonymous().get(url.removeprefix("http://localhost"))
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = [c for c in Calendar.from_ical(feed.data).walk("VEVENT")]
    assert any("Tiếp âm Thời sự" in str(e["summary"]) for e in events)
    again = client.get(f"/stations/{COMMUNE}/relay").get_data(as_text=True)
    assert "token=lxu_" not in again  # shown once


def test_the_relay_page_fits_a_phone_and_links_from_the_menu(panel: Panel) -> None:
    page = (
        panel.client("operator", COMMUNE).get(f"/stations/{COMMUNE}/relay").get_data(as_text=True)
    )
    assert '<a href="/relay" aria-current="page">Lịch tiếp âm</a>' in page
    assert page.count('<div class="table-wrap">') >= 8  # tables scroll sideways on a phone
