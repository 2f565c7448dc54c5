"""``/reports`` in the panel: the week of tests/report_week.py (the one tests/test_api_reports.py
reads over the API), read by a district approver — worst communes first, charts, the
drill-down, the printable month, bad queries."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.network_codes import CHAU_CAU, LE_HONG_PHONG, PHU_LY, QUANG_TRUNG
from tests.panel_support import Panel, visible_text
from tests.report_week import week as week  # the fixture, used by name

WEEK_QUERY = f"station={PHU_LY}&period=custom&from=2026-04-13&to=2026-04-19"


def reader(panel: Panel) -> Any:
    """The district's approver in the panel (one account, signed in again on each call)."""
    if not hasattr(panel, "_reader"):
        panel._reader = panel.client("approver", PHU_LY, "bao.cao.phuly")  # type: ignore[attr-defined]
    return panel._reader  # type: ignore[attr-defined]


@pytest.fixture
def panel(app: Any, network: Any, week: Any) -> Panel:
    return Panel(app, network)


def test_the_report_lists_the_worst_communes_first_with_charts(panel: Panel) -> None:
    page = reader(panel).get(f"/reports?{WEEK_QUERY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    order = [html.index(f'data-station="{code}"') for code in (CHAU_CAU, LE_HONG_PHONG,
                                                                QUANG_TRUNG)]  # fmt: skip
    assert order == sorted(order), "Châu Cầu (42.9 %) before Lê Hồng Phong before Quang Trung"
    assert html.count("<svg") == 2
    text = " ".join(visible_text(html))
    assert "Báo cáo tiếp âm" in text and "13/4/2026 – 19/4/2026" in text
    assert "42,9%" in text or "42.9%" in text
    assert "Tổng cộng" in text


def test_the_drill_down_says_why_an_airing_was_missed(panel: Panel) -> None:
    page = reader(panel).get(
        f"/reports/stations/{CHAU_CAU}?period=custom&from=2026-04-16&to=2026-04-16"
    )
    assert page.status_code == 200
    text = " ".join(visible_text(page.get_data(as_text=True)))
    assert text.count("Bỏ lỡ") >= 2
    assert "Đài không gửi báo cáo" in text and "no report" not in text


def test_the_month_prints_as_the_department_files_it(panel: Panel) -> None:
    page = reader(panel).get(f"/reports/monthly?month=2026-04&station={PHU_LY}")
    assert page.status_code == 200
    text = " ".join(visible_text(page.get_data(as_text=True)))
    assert "Báo cáo kết quả tiếp âm tháng 4/2026" in text
    assert "Từ ngày 1/4/2026 đến ngày 30/4/2026" in text
    assert reader(panel).get("/reports/monthly?month=4-2026x").status_code == 400


def test_the_export_gives_the_spreadsheet_of_the_page(panel: Panel) -> None:
    answer = reader(panel).get(f"/reports/export.csv?{WEEK_QUERY}")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = {r[0]: r for r in csv.reader(io.StringIO(answer.data.decode("utf-8-sig")))}
    assert rows[CHAU_CAU][3:7] == ["14", "6", "0", "8"]


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("period=custom&from=2026-04-19&to=2026-04-13", 400, "Khoảng ngày không hợp lệ"),
        ("period=custom&from=hôm-qua", 400, "không hợp lệ"),
        ("station=353", 403, "không thuộc địa bàn"),
        ("station=99999", 404, "Không có đài"),
        ("period=decade", 400, "Khoảng thời gian không hợp lệ"),
    ],
)  # fmt: skip
def test_a_bad_query_shows_the_form_with_why(
    panel: Panel, query: str, status: int, says: str
) -> None:
    page = reader(panel).get(f"/reports?{query}")
    assert page.status_code == status
    assert says in page.get_data(as_text=True)


def test_the_drill_down_shows_which_airings_were_proved_and_how(panel: Panel, network: Any) -> None:
    from sqlalchemy import update

    from scheduler.models import PlayLog, Station

    station_id = network.query(Station.id).filter(Station.code == LE_HONG_PHONG).scalar()
    network.execute(update(PlayLog).where(PlayLog.station_id == station_id,
                                          PlayLog.status == "played")
                    .values(verified=False, fingerprint_source="off_air"))  # fmt: skip
    network.commit()
    page = reader(panel).get(f"/reports/stations/{LE_HONG_PHONG}?{WEEK_QUERY.split('&', 1)[1]}")
    text = " ".join(visible_text(page.get_data(as_text=True)))
    assert "Sai nội dung (thu phát sóng)" in text and "Đúng nội dung" not in text
    assert "Phút đã xác minh" in reader(panel).get(f"/reports?{WEEK_QUERY}").get_data(as_text=True)
