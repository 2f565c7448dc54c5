"""Compliance reports (docs/api.md "Reports", issue #10): planned against aired, by the rows.

A week (Mon 13/4 – Sun 19/4/2026, the ``week`` fixture of tests/report_week.py) at three wards
of Phủ Lý, each with a daily province relay 05:30–06:00 and a district programme 17:00–17:15
(14 airings, 315 minutes):

- Quang Trung airs everything in full;
- Lê Hồng Phong airs the programmes but only 20 of each relay's 30 minutes (partial);
- Châu Cầu's agent dies on Thursday morning: Mon–Wed played, then nothing is ever reported.

Time is frozen at Monday 20/4/2026 08:00 in Hà Nam.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from scheduler import accounts
from tests.conftest import FROZEN_NOW
from tests.network_codes import CHAU_CAU, LE_HONG_PHONG, LY_NHAN, PHU_LY, QUANG_TRUNG
from tests.report_week import WARDS, WEEK, ZONE, log
from tests.report_week import week as week  # the fixture, used by name

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

SCHEDULED_AT = datetime(2026, 4, 10, 1, 0, tzinfo=ZONE)  # the Friday before the week


def report(caller: Any, **query: str) -> Any:
    params = "&".join(f"{k}={v}" for k, v in {"from": "2026-04-13", "to": "2026-04-19",
                                              **query}.items())  # fmt: skip
    return caller.get(f"/api/v1/reports/compliance?{params}")


def rows_by_code(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["station"]: r for r in body["rows"]}


def test_the_week_gives_exactly_the_counts_minutes_and_rates_that_happened(week):
    answer = report(week["district"], station=PHU_LY)
    assert answer.status_code == 200, answer.json
    rows = rows_by_code(answer.json)
    fields = ("planned", "played", "partial", "missed", "interrupted", "failed",
              "planned_minutes", "aired_minutes", "rate_count", "rate_minutes")  # fmt: skip

    def figures(code: str) -> tuple[Any, ...]:
        return tuple(rows[code][f] for f in fields)

    assert figures(QUANG_TRUNG) == (14, 14, 0, 0, 0, 0, 315.0, 315.0, 1.0, 1.0)
    assert figures(LE_HONG_PHONG) == (14, 7, 7, 0, 0, 0, 315.0, 245.0, 0.5, 0.7778)
    # The dead agent said nothing: its eight airings are missed all the same.
    assert figures(CHAU_CAU) == (14, 6, 0, 8, 0, 0, 315.0, 135.0, 0.4286, 0.4286)
    # The district's row sums its wards, and is the report's totals.
    assert figures(PHU_LY) == (42, 27, 7, 8, 0, 0, 945.0, 695.0, 0.6429, 0.7354)
    assert answer.json["totals"] == {k: v for k, v in rows[PHU_LY].items()
                                     if k not in ("station", "name", "level", "airs")}  # fmt: skip
    assert rows[PHU_LY]["level"] == "district" and rows[PHU_LY]["airs"] is False
    assert rows[QUANG_TRUNG]["name"] == "Phường Quang Trung"
    untouched = [r for c, r in rows.items() if c not in (*WARDS, PHU_LY)]
    assert untouched and all(r["planned"] == 0 and r["rate_count"] is None for r in untouched)


def test_filters_by_kind_and_by_whose_broadcasts(week):
    relays = rows_by_code(report(week["district"], station=PHU_LY, kind="relay").json)
    assert relays[LE_HONG_PHONG]["planned"] == 7 and relays[LE_HONG_PHONG]["partial"] == 7
    assert relays[LE_HONG_PHONG]["aired_minutes"] == 140.0
    own = rows_by_code(report(week["district"], station=PHU_LY, origin=PHU_LY).json)
    assert own[PHU_LY]["planned"] == 21 and own[PHU_LY]["played"] == 7 + 7 + 3


def test_a_day_in_progress_counts_only_what_is_over(week):
    """Monday 20/4 08:00: the 05:30 relay is over and nobody reported it; the 17:00
    programme is still to come and stays out of the rates."""
    today = {"from": "2026-04-20", "to": "2026-04-20"}
    rows = rows_by_code(report(week["district"], station=PHU_LY, **today).json)
    assert (rows[QUANG_TRUNG]["planned"], rows[QUANG_TRUNG]["missed"]) == (1, 1)
    assert rows[QUANG_TRUNG]["upcoming"] == 1 and rows[QUANG_TRUNG]["rate_count"] == 0.0


def test_the_drill_down_lists_each_planned_airing_with_why(week):
    answer = week["district"].get(
        f"/api/v1/reports/airings?station={CHAU_CAU}&from=2026-04-16&to=2026-04-16"
    )
    assert answer.status_code == 200, answer.json
    airings = answer.json["airings"]
    assert [(a["title"], a["start"], a["status"], a["reason"]) for a in airings] == [
        ("Tiếp âm thời sự tỉnh", "2026-04-16T05:30:00+07:00", "missed", "no report"),
        ("Bản tin học tập suốt đời", "2026-04-16T17:00:00+07:00", "missed", "no report"),
    ]
    district = week["district"].get(f"/api/v1/reports/airings?station={PHU_LY}")
    assert district.status_code == 400 and district.json["field"] == "station"


def test_csv_and_xlsx_carry_the_same_rows_with_vietnamese_headers(week):
    as_csv = week["district"].get(
        "/api/v1/reports/compliance.csv?from=2026-04-13&to=2026-04-19&station=347"
    )
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    assert "attachment" in as_csv.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert table[0][:4] == ["Mã đài", "Tên đơn vị", "Cấp", "Số lượt theo kế hoạch"]
    by_code = {r[0]: r for r in table[1:]}
    assert by_code[LE_HONG_PHONG][1:5] == ["Phường Lê Hồng Phong", "Xã", "14", "7"]
    assert by_code[LE_HONG_PHONG][-2:] == ["50.0", "77.8"]
    assert table[-1][1] == "Tổng cộng" and table[-1][3] == "42"
    negotiated = week["district"].get("/api/v1/reports/compliance?station=347",
                                      headers={"Accept": "text/csv"})  # fmt: skip
    assert negotiated.mimetype == "text/csv"

    xlsx = week["district"].get(
        "/api/v1/reports/compliance.xlsx?from=2026-04-13&to=2026-04-19&station=347"
    )
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0].startswith("Báo cáo kết quả tiếp âm — Thành phố Phủ Lý — 13/4/2026")
    assert values[1][0] == "Mã đài"
    [chau_cau] = [r for r in values[2:] if r[0] == CHAU_CAU]
    assert chau_cau[3:7] == [14, 6, 0, 8] and chau_cau[-1] == 42.9


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"from": "2026-04-19", "to": "2026-04-13"}, 400, "to"),
        ({"from": "2025-01-01", "to": "2026-04-19"}, 400, "to"),
        ({"from": "13/4/2026"}, 400, "from"),
        ({"station": "99999"}, 404, "station"),
        ({"station": LY_NHAN}, 403, "station"),
        ({"origin": "99999"}, 404, "origin"),
        ({"campaign": "khong-co"}, 404, "campaign"),
        ({"kind": "news"}, 400, "kind"),
    ],
)  # fmt: skip
def test_bad_queries_are_refused_naming_the_field(make_caller, query, status, field):
    answer = report(make_caller("approver", PHU_LY), **query)
    assert answer.status_code == status, answer.json
    assert answer.json["field"] == field, answer.json


# --- the campaign report -----------------------------------------------------------------


def test_the_campaign_report_attributes_minutes_to_topics_and_marks_key_dates(
    week, app, network, tmp_path, frozen
):
    """A 90-second programme of the learning-society campaign — 60 s on lifelong learning,
    30 s on people learning by themselves — airs at Quang Trung Mon–Wed at 18:00; the agent
    reports Monday and Tuesday in full and nothing for Wednesday."""
    from tests.audio_fixtures import tone

    district = week["district"]
    ids = []
    for n, (seconds, topic) in enumerate(((60, "hoc-tap-suot-doi"), (30, "nguoi-dan-tu-hoc"))):
        path = tone(tmp_path / f"phan-{n}.wav", seconds, 440 + 110 * n)
        made = district.post("/api/v1/segments", content_type="multipart/form-data", data={
            "title": f"Phần {n + 1}", "file": (io.BytesIO(path.read_bytes()), path.name),
            "campaign": "xhht-2023-2030", "topic": topic})  # fmt: skip
        assert made.status_code == 201, made.json
        assert district.post(f"/api/v1/segments/{made.json['id']}/approve").status_code == 200
        ids.append(made.json["id"])
    program = district.post("/api/v1/programs", json={
        "title": "Chuyên đề xã hội học tập", "items": [{"segment": i} for i in ids]})  # fmt: skip
    assert program.status_code == 201 and program.json["duration_ms"] == 90_000, program.json
    frozen.move_to(SCHEDULED_AT)  # scheduled the week before (the past is refused)
    saved = district.post("/api/v1/broadcasts", json={
        "title": "Chuyên đề xã hội học tập", "owner": PHU_LY, "kind": "program",
        "program": program.json["id"], "start": "2026-04-13T18:00:00",
        "rrule": "FREQ=DAILY;COUNT=3", "targets": [QUANG_TRUNG]})  # fmt: skip
    frozen.move_to(FROZEN_NOW)
    assert saved.status_code == 201, saved.json
    token = accounts.new_station_token(network, FROZEN_NOW, QUANG_TRUNG)
    network.commit()
    logs = [log(saved.json["id"], datetime(2026, 4, d, 18, 0, tzinfo=ZONE), 0, "played")
            for d in (13, 14)]  # fmt: skip
    for record in logs:  # 90 s each
        start = datetime.fromisoformat(record["started_at"])
        record["ended_at"] = (start + timedelta(seconds=90)).isoformat()
    sent = app.test_client().post("/api/v1/agent/plays", json=logs,
                                  headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert sent.json["accepted"] == 2

    answer = district.get("/api/v1/reports/campaign?campaign=xhht-2023-2030&station=347"
                          "&from=2026-04-13&to=2026-04-21")  # fmt: skip
    assert answer.status_code == 200, answer.json
    body = answer.json
    topics = {t["topic"]: t for t in body["topics"]}
    assert topics["hoc-tap-suot-doi"] == {"topic": "hoc-tap-suot-doi", "name": topics[
        "hoc-tap-suot-doi"]["name"], "broadcasts": 1, "airings": 3, "planned_minutes": 3.0,
        "aired_minutes": 2.0}  # fmt: skip
    assert (topics["nguoi-dan-tu-hoc"]["airings"], topics["nguoi-dan-tu-hoc"]["aired_minutes"]) \
        == (3, 1.0)  # fmt: skip
    assert topics["ton-vinh-dien-hinh"]["airings"] == 0
    rows = {r["station"]: r for r in body["rows"]}
    assert (rows[QUANG_TRUNG]["airings"], rows[QUANG_TRUNG]["aired_minutes"]) == (3, 3.0)
    assert rows[PHU_LY]["planned_minutes"] == 4.5 == body["totals"]["planned_minutes"]
    assert rows[LE_HONG_PHONG]["airings"] == 0  # the week's other programmes are no campaign's
    assert body["key_dates"] == [{"from": "2026-04-21", "to": "2026-04-21",
                                  "name": "Ngày Sách và Văn hóa đọc Việt Nam (21/4)"}]  # fmt: skip

    sheet = district.get("/api/v1/reports/campaign.csv?campaign=xhht-2023-2030&station=347"
                         "&from=2026-04-13&to=2026-04-21")  # fmt: skip
    table = list(csv.reader(io.StringIO(sheet.data.decode("utf-8-sig"))))
    assert table[0][:5] == ["Mã đài", "Tên đơn vị", "Cấp", "Số lượt phát", "Phút đã phát"]
    assert table[0][5].startswith("Lượt — ")
    assert district.get("/api/v1/reports/campaign?station=347").json["field"] == "campaign"
    assert district.get("/api/v1/reports/campaign?campaign=khong-co").status_code == 404


# --- proof beyond the agent's word ------------------------------------------------------------


def test_fingerprints_of_what_aired_verify_the_airing_or_not(week, app, network, tmp_path, frozen):
    """Two wards air a spoken bulletin. Quang Trung's off-air capture (the file, re-encoded
    at 64 kbit/s as a capture would be) matches the planned audio; Lê Hồng Phong's is of
    another bulletin (a wrong file aired): its airing is played but not verified."""
    from audio.fingerprint import available, fingerprint
    from tests.alert_support import finish_jobs
    from tests.audio_fixtures import convert, speech

    if not available():
        pytest.skip("fpcalc is not installed (apt-get install libchromaprint-tools)")
    district = week["district"]
    words = (
        "Xin chào bà con, đây là bản tin học tập suốt đời của thành phố Phủ Lý, phát "
        "lúc chín giờ sáng. Bà con chú ý lắng nghe để cùng xây dựng xã hội học tập."
    )
    path = speech(tmp_path / "ban-tin.wav", words)
    made = district.post("/api/v1/segments", content_type="multipart/form-data", data={
        "title": "Bản tin 9 giờ", "file": (io.BytesIO(path.read_bytes()), path.name)})  # fmt: skip
    assert made.status_code == 201, made.json
    assert district.post(f"/api/v1/segments/{made.json['id']}/approve").status_code == 200
    program = district.post("/api/v1/programs", json={
        "title": "Bản tin 9 giờ", "items": [{"segment": made.json["id"]}]}).json  # fmt: skip
    frozen.move_to(SCHEDULED_AT)  # scheduled the week before (the past is refused)
    saved = district.post("/api/v1/broadcasts", json={
        "title": "Bản tin 9 giờ", "owner": PHU_LY, "kind": "program", "program": program["id"],
        "start": "2026-04-14T09:00:00", "targets": [QUANG_TRUNG, LE_HONG_PHONG]}).json  # fmt: skip
    frozen.move_to(FROZEN_NOW)
    stored = tmp_path / "aired.mp3"
    stored.write_bytes(district.get(f"/api/v1/segments/{made.json['id']}/audio").data)
    off_air = convert(stored, tmp_path / "off-air.mp3", "-b:a", "64k")
    other = speech(
        tmp_path / "khac.wav",
        "Thông báo lịch tiêm chủng cho trẻ em dưới năm tuổi "
        "tại trạm y tế phường vào sáng thứ bảy tuần này, mong các gia đình lưu ý.",
    )
    start = datetime(2026, 4, 14, 9, 0, tzinfo=ZONE)
    seconds = program["duration_ms"] / 1000
    for ward, heard in ((QUANG_TRUNG, off_air), (LE_HONG_PHONG, other)):
        token = accounts.new_station_token(network, FROZEN_NOW, ward)
        network.commit()
        record = log(saved["id"], start, 0, "played")
        record["ended_at"] = (start + timedelta(seconds=seconds)).isoformat()
        record["fingerprint"] = fingerprint(heard)
        sent = app.test_client().post("/api/v1/agent/plays", json=[record],
                                      headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert sent.json["accepted"] == 1, sent.json
    finish_jobs(app)

    rows = rows_by_code(report(district, station=PHU_LY, **{"from": "2026-04-14",
                                                             "to": "2026-04-14"}).json)  # fmt: skip
    minutes = round(seconds / 60, 1)
    assert (rows[QUANG_TRUNG]["verified"], rows[QUANG_TRUNG]["verified_minutes"]) == (1, minutes)
    assert (rows[LE_HONG_PHONG]["played"], rows[LE_HONG_PHONG]["verified"]) == (2, 0)
    airings = district.get(f"/api/v1/reports/airings?station={LE_HONG_PHONG}"
                           "&from=2026-04-14&to=2026-04-14").json["airings"]  # fmt: skip
    [bulletin] = [a for a in airings if a["title"] == "Bản tin 9 giờ"]
    assert (bulletin["status"], bulletin["verified"]) == ("played", False)
    [relay] = [a for a in airings if a["kind"] == "relay"]
    assert relay["verified"] is None  # no fingerprint sent: not checked, not counted


# --- days written down (scheduler.settle) ----------------------------------------------------


def settle_week(app: Any) -> list[date]:
    from scheduler.server_jobs import ServerJobs

    extensions = app.extensions["loaxa"]
    jobs = ServerJobs(extensions["sessions"], extensions["settings"], clock=lambda: FROZEN_NOW)
    settled: list[date] = []
    while done := jobs.settle():  # a few days per call, oldest first
        settled += done
    return settled


def test_written_down_days_give_the_same_report_and_late_logs_still_count(week, app, network):
    """Once the week is written down the report is summed from the table — and must say
    exactly what the live report said; a log that arrives later still changes it."""
    from scheduler.models import AiringOutcome

    live = report(week["district"], station=PHU_LY).json
    live_relays = report(week["district"], station=PHU_LY, kind="relay").json
    assert set(WEEK) <= set(settle_week(app))  # 20/4, today, is not over: not written down
    assert network.query(AiringOutcome).count() == 42
    assert report(week["district"], station=PHU_LY).json == live
    assert report(week["district"], station=PHU_LY, kind="relay").json == live_relays

    # Châu Cầu's agent comes back and uploads Thursday's programme after all.
    token = accounts.new_station_token(network, FROZEN_NOW, CHAU_CAU)
    network.commit()
    thursday = datetime(2026, 4, 16, 17, 0, tzinfo=ZONE)
    sent = app.test_client().post("/api/v1/agent/plays",
                                  json=[log(week["program"], thursday, 15, "played")],
                                  headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert sent.json["accepted"] == 1
    after = rows_by_code(report(week["district"], station=PHU_LY).json)
    assert (after[CHAU_CAU]["played"], after[CHAU_CAU]["missed"]) == (7, 7)
    assert after[CHAU_CAU]["aired_minutes"] == 150.0 and after[PHU_LY]["played"] == 28
