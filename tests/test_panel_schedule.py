"""``/schedule``: the week calendar (blocks in the right columns, with why they moved), the
broadcast form (recurrence builder, preview without saving, 409 and force, field messages),
the approval queue, and who may do what inside and outside their area."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import broadcasts
from scheduler.broadcasts import BroadcastSpec
from scheduler.models import Broadcast, BroadcastStatus, Program, Station
from tests.conftest import FROZEN_NOW
from tests.network_codes import COMMUNE, DISTRICT, OTHER_COMMUNE, OTHER_DISTRICT
from tests.network_codes import LE_HONG_PHONG as SECOND_COMMUNE
from tests.panel_support import Panel, field_errors
from web.schedule.recurrence import Recurrence, build, describe, read


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _schedule(db: Session, app: Any, actor: Any, **fields: Any) -> Broadcast:
    """A broadcast saved through the service, as the API would."""
    spec = BroadcastSpec.model_validate(fields)
    result = broadcasts.save_broadcast(
        db, app.extensions["loaxa"]["settings"], actor, spec, FROZEN_NOW
    )
    db.commit()
    return result.broadcast


def _form(program_id: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Bản tin học tập suốt đời",
        "owner": DISTRICT,
        "kind": "program",
        "program": str(program_id),
        "recurrence": "once",
        "start_date": "2026-04-21",
        "start_time": "17:30",
        "targets": [COMMUNE],
        "priority": "normal",
        "conflict": "",
        "max_delay_min": "30",
        "action": "save",
    }
    data.update(overrides)
    return data


def _count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count(Broadcast.id))) or 0


def _day(html: str, day: str) -> str:
    match = re.search(
        rf'<section class="day[^"]*"[^>]*data-day="{day}">(.*?)</section>', html, re.S
    )
    assert match, day
    return match.group(1)


# --- The recurrence builder -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "rrule", "start", "until"),
    [
        (Recurrence("once", date(2026, 4, 21)), None, date(2026, 4, 21), None),
        (
            Recurrence("daily", date(2026, 4, 21), date(2026, 5, 31)),
            "FREQ=DAILY",
            date(2026, 4, 21),
            date(2026, 5, 31),
        ),
        (
            Recurrence("weekdays", date(2026, 4, 21)),
            "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            date(2026, 4, 21),
            None,
        ),
        (
            Recurrence("days", date(2026, 4, 21), days=["FR", "MO", "WE"]),
            "FREQ=WEEKLY;BYDAY=MO,WE,FR",
            date(2026, 4, 21),
            None,
        ),
        (
            Recurrence(
                "dates",
                date(2000, 1, 1),
                dates=[date(2026, 4, 23), date(2026, 4, 21), date(2026, 5, 1)],
            ),
            "FREQ=YEARLY;BYYEARDAY=111,113,121",
            date(2026, 4, 21),
            date(2026, 5, 1),
        ),
        (
            Recurrence("dates", date(2000, 1, 1), dates=[date(2026, 4, 30)]),
            None,
            date(2026, 4, 30),
            None,
        ),
        (
            Recurrence("custom", date(2026, 4, 21), rule="FREQ=WEEKLY;INTERVAL=2;BYDAY=SA"),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA",
            date(2026, 4, 21),
            None,
        ),
    ],
)
def test_each_recurrence_mode_builds_its_rrule_and_reads_back(
    choice: Recurrence, rrule: str | None, start: date, until: date | None
) -> None:
    built = build(choice)
    assert (built.rrule, built.start, built.until) == (rrule, start, until)
    again = read(built.start, built.rrule, built.until)
    expected_mode = "once" if rrule is None else choice.mode
    assert again.mode == expected_mode
    if choice.mode == "dates" and rrule:
        assert again.dates == sorted(choice.dates)
    if choice.mode == "days":
        assert again.days == ["MO", "WE", "FR"]


def test_specific_dates_air_exactly_on_those_days() -> None:
    from scheduler.recurrence import parse_rule

    built = build(
        Recurrence("dates", date(2000, 1, 1), dates=[date(2026, 12, 30), date(2027, 1, 2)])
    )
    assert built.rrule is not None
    rule = parse_rule(built.rrule, datetime.combine(built.start, datetime.min.time()), built.until)
    assert [d.date() for d in rule] == [date(2026, 12, 30), date(2027, 1, 2)]


def test_the_rule_in_words(app: Any) -> None:
    with app.test_request_context():
        start = datetime(2026, 4, 20, 17, 30)
        assert describe(start, "FREQ=WEEKLY;BYDAY=MO,WE", date(2026, 6, 30)) == (
            "Thứ Hai, thứ Tư lúc 17:30, từ 20/4/2026 đến 30/6/2026"
        )
        assert describe(start, None, None) == "Một lần, lúc 17:30 ngày 20/4/2026"
        assert describe(start, "FREQ=DAILY", None, [date(2026, 4, 30)]).endswith("(trừ 30/4/2026)")


# --- The week calendar ----------------------------------------------------------------------


def test_calendar_puts_blocks_in_their_day_with_outcomes_and_reasons(
    panel: Panel, app: Any, make_program: Any
) -> None:
    db = panel.db
    approver = panel.user("approver", DISTRICT)
    province = panel.user("admin", "35")
    bulletin = make_program(DISTRICT, 15, "Bản tin Phủ Lý")
    _schedule(
        db,
        app,
        approver,
        title="Bản tin Phủ Lý",
        owner=DISTRICT,
        kind="program",
        program=bulletin,
        start="2026-04-21T17:30:00",
        targets=[COMMUNE],
    )
    _schedule(
        db,
        app,
        approver,
        title="Bản tin bị bỏ",
        owner=DISTRICT,
        kind="program",
        program=make_program(DISTRICT, 10),
        start="2026-04-23T17:40:00",
        targets=[COMMUNE],
        conflict="skip",
    )
    _schedule(
        db,
        app,
        province,
        title="Tiếp âm Thời sự tỉnh",
        owner="35",
        kind="relay",
        stream_url="http://127.0.0.1:8000/live/ha-nam.mp3",
        start="2026-04-21T17:30:00",
        duration_s=1800,
        rrule="FREQ=DAILY",
        until="2026-04-23",
        priority="priority",
        targets=["35"],
    )

    client = panel.client("editor", DISTRICT)
    html = client.get(f"/schedule?station={COMMUNE}&week=2026-W17").get_data(as_text=True)
    tuesday, thursday, friday = (
        _day(html, "2026-04-21"),
        _day(html, "2026-04-23"),
        _day(html, "2026-04-24"),
    )
    assert "Thứ Ba" in tuesday and "21/4/2026" in tuesday
    assert 'data-outcome="shifted"' in tuesday and "Bản tin Phủ Lý" in tuesday
    assert "Dời từ 17:30 sang 18:00 vì trùng giờ với «Tiếp âm Thời sự tỉnh»." in tuesday
    assert "k-relay" in tuesday and "Tiếp âm" in tuesday and "p-priority" in tuesday
    assert 'data-outcome="preempted"' in thursday
    assert "Không phát: nhường giờ cho «Tiếp âm Thời sự tỉnh»." in thursday
    assert "Tiếp âm Thời sự tỉnh" not in friday  # until 23/4
    assert "từ Hà Nam" in tuesday  # the province's broadcast reaches the commune
    # the print table lists the same airings with the same reasons
    table = html.split('class="list week-print"', 1)[1]
    assert "Dời từ 17:30 sang 18:00" in table
    # another week: nothing
    later = client.get(f"/schedule?station={COMMUNE}&week=2026-W30").get_data(as_text=True)
    assert "Tuần này chưa có buổi phát nào cho đài này." in later


def test_calendar_defaults_to_my_station_this_week_and_pages_weeks(panel: Panel) -> None:
    client = panel.client("operator", COMMUNE)
    html = client.get("/schedule").get_data(as_text=True)
    assert "Tuần từ 20/4/2026 đến 26/4/2026 (giờ Việt Nam)" in html
    assert "Asia/Ho_Chi_Minh" not in html
    assert "week=2026-W16" in html and "week=2026-W18" in html
    assert 'class="day today"' in html and 'data-day="2026-04-20"' in html
    assert "Thêm buổi phát" not in html  # operators do not schedule


def test_pending_broadcasts_show_for_editors_not_operators(
    panel: Panel, app: Any, make_program: Any
) -> None:
    editor = panel.user("editor", DISTRICT)
    _schedule(
        panel.db,
        app,
        editor,
        title="Chờ duyệt thử",
        owner=DISTRICT,
        kind="program",
        program=make_program(DISTRICT),
        start="2026-04-22T06:00:00",
        targets=[COMMUNE],
    )
    html = panel.login(editor.username).get(f"/schedule?station={COMMUNE}").get_data(as_text=True)
    wednesday = _day(html, "2026-04-22")
    assert (
        'data-outcome="pending"' in wednesday and "Chờ duyệt: chưa có trong lịch phát." in wednesday
    )
    operator = panel.client("operator", COMMUNE).get("/schedule").get_data(as_text=True)
    assert "Chờ duyệt thử" not in operator


def test_day_and_month_views_show_the_same_airings_and_page_by_their_unit(
    panel: Panel, app: Any, make_program: Any
) -> None:
    approver = panel.user("approver", DISTRICT)
    province = panel.user("admin", "35")
    _schedule(
        panel.db,
        app,
        approver,
        title="Bản tin Phủ Lý",
        owner=DISTRICT,
        kind="program",
        program=make_program(DISTRICT, 15, "Bản tin Phủ Lý"),
        start="2026-04-21T17:30:00",
        targets=[COMMUNE],
    )
    _schedule(
        panel.db,
        app,
        province,
        title="Tiếp âm Thời sự tỉnh",
        owner="35",
        kind="relay",
        stream_url="http://127.0.0.1:8000/live/ha-nam.mp3",
        start="2026-04-21T17:30:00",
        duration_s=1800,
        rrule="FREQ=DAILY",
        priority="priority",
        targets=["35"],
    )
    client = panel.client("editor", DISTRICT)

    day = client.get(f"/schedule?station={COMMUNE}&view=day&day=2026-04-21")
    html = day.get_data(as_text=True)
    assert day.status_code == 200
    assert "Thứ Ba 21/4/2026 (giờ Việt Nam)" in html
    assert html.count('<section class="day') == 1  # one column, that day's
    tuesday = _day(html, "2026-04-21")
    assert "Dời từ 17:30 sang 18:00 vì trùng giờ với «Tiếp âm Thời sự tỉnh»." in tuesday
    assert "day=2026-04-20" in html and "day=2026-04-22" in html  # previous and next day
    assert "view=week&amp;week=2026-W17" in html and "view=month&amp;month=2026-04" in html

    month = client.get(f"/schedule?station={COMMUNE}&view=month&month=2026-04")
    html = month.get_data(as_text=True)
    assert month.status_code == 200
    assert "Tháng 4/2026 (giờ Việt Nam)" in html
    cells = dict(
        re.findall(
            r'<section role="cell" class="mday[^"]*" data-day="([\d-]+)">(.*?)</section>',
            html,
            re.S,
        )
    )
    # the grid runs Monday 30/3 to Sunday 3/5; the daily relay from 21/4 on, the bulletin moved
    assert min(cells) == "2026-03-30" and max(cells) == "2026-05-03" and len(cells) == 35
    assert "Tiếp âm Thời sự tỉnh" not in cells["2026-04-20"]
    assert "Tiếp âm Thời sự tỉnh" in cells["2026-04-30"]
    tuesday = cells["2026-04-21"]
    assert '<span class="when">17:30</span> Tiếp âm Thời sự tỉnh' in tuesday
    assert '<span class="when">18:00</span> Bản tin Phủ Lý' in tuesday
    assert "Dời từ 17:30 sang 18:00" in tuesday  # the reason as the item's title
    assert "view=day&amp;day=2026-04-21" in tuesday  # a day opens its day view
    assert "month=2026-03" in html and "month=2026-05" in html
    # the printed list keeps to April
    table = html.split('class="list week-print"', 1)[1]
    assert "30/4/2026" in table and "1/5/2026" not in table and "30/3/2026" not in table

    empty = client.get(f"/schedule?station={COMMUNE}&view=month&month=2026-02")
    assert "Tháng này chưa có buổi phát nào cho đài này." in empty.get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "view=year",
        "view=day&day=2026-13-01",
        "view=day&day=hom-nay",
        "view=month&month=2026-13",
        "view=month&month=1999-12",
        "view=month&month=2026",
        "view=day&day=9999-01-01",
    ],
)
def test_a_bad_day_month_or_view_is_a_400(panel: Panel, query: str) -> None:
    assert panel.client("editor", DISTRICT).get(f"/schedule?{query}").status_code == 400


@pytest.mark.parametrize(
    "week", ["2026-W60", "tuan-17", "2026W17", "9999-W01", "2026-W1" + "7" * 30]
)
def test_a_bad_week_is_a_400_not_a_500(panel: Panel, week: str) -> None:
    response = panel.client("editor", DISTRICT).get(f"/schedule?week={week}")
    assert response.status_code == 400


# --- Who may open what ----------------------------------------------------------------------


def test_calendar_scope_per_role(panel: Panel) -> None:
    operator = panel.client("operator", COMMUNE)
    assert operator.get(f"/schedule?station={COMMUNE}").status_code == 200
    for code in (SECOND_COMMUNE, DISTRICT, OTHER_COMMUNE):
        assert operator.get(f"/schedule?station={code}").status_code == 403
    editor = panel.client("editor", DISTRICT)
    for code in (DISTRICT, COMMUNE, SECOND_COMMUNE):
        assert editor.get(f"/schedule?station={code}").status_code == 200
    for code in ("35", OTHER_DISTRICT, OTHER_COMMUNE):
        response = editor.get(f"/schedule?station={code}")
        assert response.status_code == 403
        assert "Tài khoản của bạn không được mở trang này." in response.get_data(as_text=True)
    assert editor.get("/schedule?station=nope").status_code == 404
    assert editor.get("/schedule?station=../../etc").status_code == 404
    province = panel.client("admin", "35")
    assert province.get(f"/schedule?station={OTHER_COMMUNE}").status_code == 200
    picker = province.get("/schedule").get_data(as_text=True)
    assert picker.count("<option value=") == 105


def test_operators_cannot_schedule_or_approve(panel: Panel, app: Any, make_program: Any) -> None:
    editor = panel.user("editor", DISTRICT)
    pending = _schedule(
        panel.db,
        app,
        editor,
        title="Chờ",
        owner=DISTRICT,
        kind="program",
        program=make_program(DISTRICT),
        start="2026-04-22T06:00:00",
        targets=[COMMUNE],
    )
    client = panel.client("operator", COMMUNE)
    for url in ("/schedule/new", "/schedule/approvals", f"/schedule/{pending.id}/edit"):
        assert client.get(url).status_code == 403, url
    for url in (
        f"/schedule/{pending.id}/approve",
        f"/schedule/{pending.id}/reject",
        f"/schedule/{pending.id}/cancel",
        "/schedule/new",
    ):
        assert client.form_post(url, {"reason": "x"}, page="/schedule").status_code == 403, url
    assert client.get(f"/schedule/{pending.id}").status_code == 200  # it reaches their station
    panel.db.expire_all()
    assert panel.db.get(Broadcast, pending.id).status == BroadcastStatus.pending  # type: ignore[union-attr]


def test_out_of_scope_broadcasts_are_403_and_unknown_ids_404(
    panel: Panel, app: Any, make_program: Any
) -> None:
    other = panel.user("approver", OTHER_DISTRICT)
    theirs = _schedule(
        panel.db,
        app,
        other,
        title="Duy Tiên",
        owner=OTHER_DISTRICT,
        kind="program",
        program=make_program(OTHER_DISTRICT),
        start="2026-04-22T06:00:00",
        targets=[OTHER_COMMUNE],
    )
    client = panel.client("approver", DISTRICT)
    for url in (f"/schedule/{theirs.id}", f"/schedule/{theirs.id}/edit"):
        assert client.get(url).status_code == 403, url
    for url in (
        f"/schedule/{theirs.id}/approve",
        f"/schedule/{theirs.id}/reject",
        f"/schedule/{theirs.id}/cancel",
        f"/schedule/{theirs.id}/edit",
    ):
        assert client.form_post(url, {"reason": "x"}, page="/schedule").status_code == 403, url
    for url in ("/schedule/999999", "/schedule/99999999999999/edit", "/schedule/0"):
        assert client.get(url).status_code == 404, url


# --- The form -------------------------------------------------------------------------------


def test_the_form_offers_my_subtree_as_a_tree_and_ready_programmes(
    panel: Panel, make_program: Any
) -> None:
    mine = make_program(DISTRICT, 12, "Chương trình Phủ Lý")
    theirs = make_program(OTHER_DISTRICT, 12, "Chương trình Duy Tiên")
    html = (
        panel.client("editor", DISTRICT)
        .get(f"/schedule/new?station={COMMUNE}")
        .get_data(as_text=True)
    )
    targets = re.findall(r'name="targets" value="([^"]+)"', html)
    assert targets[0] == DISTRICT and COMMUNE in targets and len(targets) == 15
    assert OTHER_COMMUNE not in targets and "35" not in targets
    assert re.search(rf'name="targets" value="{COMMUNE}" checked', html)
    assert "<details open>" in html  # the district's communes are shown, foldable
    assert f'value="{mine}"' in html and f'value="{theirs}"' not in html
    for label in ("T2", "T6", "CN", "Xem trước", "Dời giờ", "Cắt bớt", "Bỏ qua"):
        assert label in html


def test_preview_shows_a_clash_and_a_window_warning_without_saving(
    panel: Panel, app: Any, make_program: Any
) -> None:
    db = panel.db
    station = db.scalar(select(Station).where(Station.code == COMMUNE))
    assert station is not None
    station.allowed_windows = "05:00-07:30,16:30-19:00"
    db.commit()
    approver = panel.user("approver", DISTRICT)
    program = make_program(DISTRICT, 15)
    _schedule(
        db,
        app,
        approver,
        title="Bản tin tối có sẵn",
        owner=DISTRICT,
        kind="program",
        program=program,
        start="2026-04-21T20:00:00",
        targets=[COMMUNE],
    )
    before = _count(db)
    client = panel.login(approver.username)
    data = _form(program, start_time="20:05", action="preview")
    response = client.form_post("/schedule/new", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Trùng giờ với buổi phát cùng cấp" in html and "Bản tin tối có sẵn" in html
    assert "Ngoài khung giờ được phát (05:00-07:30,16:30-19:00)." in html
    assert "Chưa có gì được lưu." in html
    assert "Một lần, lúc 20:05 ngày 21/4/2026" in html
    assert _count(db) == before
    assert 'name="force"' in html  # the consent box appears with the clash


def test_save_refuses_a_clash_without_force_and_keeps_it_with_force(
    panel: Panel, app: Any, make_program: Any
) -> None:
    db = panel.db
    approver = panel.user("approver", DISTRICT)
    program = make_program(DISTRICT, 15)
    _schedule(
        db,
        app,
        approver,
        title="Có sẵn",
        owner=DISTRICT,
        kind="program",
        program=program,
        start="2026-04-21T17:30:00",
        targets=[COMMUNE],
    )
    before = _count(db)
    client = panel.login(approver.username)
    refused = client.form_post("/schedule/new", _form(program, start_time="17:35"))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 409
    assert "Vẫn lưu dù trùng giờ" in html and "Có sẵn" in html
    assert 'value="Bản tin học tập suốt đời"' in html  # values kept
    assert _count(db) == before
    saved = client.form_post("/schedule/new", _form(program, start_time="17:35", force="y"))
    assert saved.status_code == 302
    assert saved.location.startswith(f"/schedule?station={COMMUNE}&week=2026-W17")
    assert _count(db) == before + 1
    newest = db.scalar(select(Broadcast).order_by(Broadcast.id.desc()))
    assert newest is not None and newest.forced and newest.status == BroadcastStatus.approved


def test_editor_saves_pending_it_shows_in_the_queue_and_the_approver_approves(
    panel: Panel, make_program: Any
) -> None:
    program = make_program(DISTRICT, 15, "Học tập suốt đời số 1")
    editor = panel.client("editor", DISTRICT)
    data = _form(
        program,
        recurrence="days",
        days=["MO", "WE", "FR"],
        start_date="2026-04-20",
        until="2026-05-31",
        targets=[COMMUNE, SECOND_COMMUNE],
        exdates="1/5/2026",
    )
    response = editor.form_post("/schedule/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db = panel.db
    db.expire_all()
    saved = db.scalar(select(Broadcast).order_by(Broadcast.id.desc()))
    assert saved is not None
    assert saved.status == BroadcastStatus.pending
    assert saved.rrule == "FREQ=WEEKLY;BYDAY=MO,WE,FR" and saved.until == date(2026, 5, 31)
    assert saved.target_codes == [COMMUNE, SECOND_COMMUNE] and saved.exdates == [date(2026, 5, 1)]
    flashed = editor.get(response.location).get_data(as_text=True)
    assert "đang chờ duyệt" in flashed

    own = editor.get("/schedule/approvals").get_data(as_text=True)
    assert "Học tập suốt đời" in own and "Thứ Hai, thứ Tư, thứ Sáu lúc 17:30" in own
    assert "/approve" not in own  # read-only for the editor

    approver = panel.client("approver", DISTRICT)
    queue = approver.get("/schedule/approvals").get_data(as_text=True)
    assert "Bản tin học tập suốt đời" in queue and "(trừ 1/5/2026)" in queue
    assert f"/schedule/{saved.id}/approve" in queue
    other = (
        panel.client("approver", OTHER_DISTRICT).get("/schedule/approvals").get_data(as_text=True)
    )
    assert "Bản tin học tập suốt đời" not in other
    assert (
        editor.form_post(f"/schedule/{saved.id}/approve", {}, page="/schedule").status_code == 403
    )
    done = approver.form_post(f"/schedule/{saved.id}/approve", {}, page="/schedule/approvals")
    assert done.status_code == 302
    db.expire_all()
    assert db.get(Broadcast, saved.id).status == BroadcastStatus.approved  # type: ignore[union-attr]
    week = approver.get(f"/schedule?station={SECOND_COMMUNE}&week=2026-W17").get_data(as_text=True)
    assert 'data-outcome="scheduled"' in _day(week, "2026-04-22")
    assert "Bản tin học tập suốt đời" in _day(week, "2026-04-24")
    assert "Bản tin học tập suốt đời" not in _day(week, "2026-04-21")


def test_reject_needs_a_reason_and_keeps_history(panel: Panel, app: Any, make_program: Any) -> None:
    editor = panel.user("editor", DISTRICT)
    pending = _schedule(
        panel.db,
        app,
        editor,
        title="Cần sửa",
        owner=DISTRICT,
        kind="program",
        program=make_program(DISTRICT),
        start="2026-04-22T06:00:00",
        targets=[COMMUNE],
    )
    approver = panel.client("approver", DISTRICT)
    empty = approver.form_post(
        f"/schedule/{pending.id}/reject", {"reason": " "}, page="/schedule/approvals"
    )
    assert empty.status_code == 400
    assert "Hãy ghi lý do từ chối" in empty.get_data(as_text=True)
    done = approver.form_post(
        f"/schedule/{pending.id}/reject", {"reason": "Sai giờ phát"}, page="/schedule/approvals"
    )
    assert done.status_code == 302
    page = panel.login(editor.username).get(f"/schedule/{pending.id}").get_data(as_text=True)
    assert "Đã hủy" in page and "Bị từ chối" in page and "Sai giờ phát" in page


def test_cancel_keeps_the_record(panel: Panel, app: Any, make_program: Any) -> None:
    approver = panel.user("approver", DISTRICT)
    b = _schedule(
        panel.db,
        app,
        approver,
        title="Sẽ hủy",
        owner=DISTRICT,
        kind="program",
        program=make_program(DISTRICT),
        start="2026-04-22T06:00:00",
        targets=[COMMUNE],
    )
    client = panel.login(approver.username)
    response = client.form_post(
        f"/schedule/{b.id}/cancel", {"reason": "Trùng lịch họp"}, page=f"/schedule/{b.id}"
    )
    assert response.status_code == 302
    panel.db.expire_all()
    assert panel.db.get(Broadcast, b.id).status == BroadcastStatus.cancelled  # type: ignore[union-attr]
    html = client.get(f"/schedule/{b.id}").get_data(as_text=True)
    assert "Trùng lịch họp" in html and "/edit" not in html
    assert client.get(f"/schedule/{b.id}/edit").status_code == 302
    week = client.get(f"/schedule?station={COMMUNE}").get_data(as_text=True)
    assert "Sẽ hủy" not in week


def test_edit_shows_the_builder_state_and_saves_changes(
    panel: Panel, app: Any, make_program: Any
) -> None:
    approver = panel.user("approver", DISTRICT)
    program = make_program(DISTRICT, 10)
    b = _schedule(
        panel.db,
        app,
        approver,
        title="Sửa thử",
        owner=DISTRICT,
        kind="program",
        program=program,
        start="2026-04-20T06:00:00",
        rrule="FREQ=WEEKLY;BYDAY=TU,TH",
        until="2026-06-30",
        targets=[COMMUNE],
    )
    client = panel.login(approver.username)
    html = client.get(f"/schedule/{b.id}/edit").get_data(as_text=True)
    assert re.search(r'value="days"[^>]*checked|checked[^>]*value="days"', html)
    assert re.search(r'checked[^>]*value="TU"|value="TU"[^>]*checked', html)
    assert 'value="2026-06-30"' in html
    data = _form(
        program,
        title="Sửa thử",
        recurrence="weekdays",
        start_date="2026-04-20",
        start_time="06:00",
        until="2026-06-30",
    )
    assert client.form_post(f"/schedule/{b.id}/edit", data).status_code == 302
    panel.db.expire_all()
    assert panel.db.get(Broadcast, b.id).rrule == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"  # type: ignore[union-attr]


# --- Bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"recurrence": "daily", "until": "2026-04-01"},
            "until",
            "Ngày kết thúc phải sau ngày bắt đầu.",
        ),
        ({"targets": []}, "targets", "Hãy chọn ít nhất một đài sẽ phát."),
        ({"recurrence": "days", "days": []}, "days", "Hãy chọn ít nhất một thứ trong tuần."),
        ({"recurrence": "days", "days": ["XX"]}, "days", "Hãy chọn thứ trong tuần từ T2 đến CN."),
        ({"program": "987654"}, "program", "Hãy chọn một chương trình trong danh sách."),
        ({"program": "abc"}, "program", "Hãy chọn một chương trình trong danh sách."),
        ({"max_delay_min": "ba mươi"}, "max_delay_min", "Hãy nhập một số nguyên từ 0 đến 1440."),
        (
            {"kind": "relay", "source": "35", "duration_min": "nửa giờ"},
            "duration_min",
            "Hãy nhập một số nguyên từ 1 đến 1440.",
        ),
        (
            {"kind": "relay", "source": "", "stream_url": ""},
            "source",
            "Hãy chọn đài nguồn hoặc nhập địa chỉ luồng phát.",
        ),
        (
            {"kind": "relay", "stream_url": "ftp://x", "duration_min": "30"},
            "stream_url",
            "Địa chỉ luồng phải bắt đầu bằng",
        ),
        (
            {"kind": "relay", "stream_url": "http://x", "duration_min": "30", "conflict": "shift"},
            "conflict",
            "không dời giờ được",
        ),
        ({"start_date": "31/2/2026"}, "start_date", "Ngày không hợp lệ; hãy nhập như 21/4/2026."),
        ({"start_date": "1/1/1900"}, "start_date", "Ngày phải nằm trong khoảng năm 2000–2099."),
        ({"start_time": "25:00"}, "start_time", "Giờ không hợp lệ; hãy nhập như 17:30."),
        ({"start_time": ""}, "start_time", "Hãy nhập giờ phát, như 17:30."),
        ({"recurrence": "dates", "dates": "21/4/2026, mai"}, "dates", "Không đọc được ngày: mai."),
        ({"recurrence": "dates", "dates": "1/1/2026, 1/6/2027"}, "dates", "trong vòng một năm"),
        (
            {"recurrence": "custom", "rrule": "FREQ=SECONDLY"},
            "rrule",
            "Quy tắc lặp lại không dùng được",
        ),
        (
            {"recurrence": "custom", "rrule": "FREQ=HOURLY;BYMINUTE=0,5"},
            "rrule",
            "Các lần phát chồng lên nhau",
        ),
        ({"recurrence": "sometimes"}, "recurrence", "Hãy chọn một kiểu lặp lại."),
        ({"targets": [OTHER_COMMUNE]}, "targets", "Hãy chọn các đài trong phạm vi của bạn."),
        ({"owner": "35"}, "owner", "Hãy chọn một đài trong phạm vi của bạn."),
        ({"priority": "top"}, "priority", "Hãy chọn mức ưu tiên."),
        ({"exdates": "30/4"}, "exdates", "Không đọc được ngày: 30/4."),
        ({"title": ""}, "title", "Hãy nhập tên buổi phát."),
    ],
)
def test_bad_input_is_explained_next_to_its_field(
    panel: Panel, make_program: Any, overrides: dict[str, Any], field: str, message: str
) -> None:
    program = make_program(DISTRICT, 15)
    before = _count(panel.db)
    client = panel.client("editor", DISTRICT)
    for action in ("save", "preview"):
        response = client.form_post("/schedule/new", _form(program, action=action, **overrides))
        html = response.get_data(as_text=True)
        assert response.status_code == 400, (action, html[-3000:])
        errors = field_errors(html, field)
        assert any(message in e for e in errors), (
            action,
            errors,
            re.findall(r'class="error"[^>]*>([^<]*)', html),
        )
    assert _count(panel.db) == before


def test_a_programme_that_cannot_air_is_refused_by_the_domain(
    panel: Panel, make_program: Any
) -> None:
    program = make_program(DISTRICT, 15)
    db = panel.db
    from scheduler.models import Program

    row = db.get(Program, program)
    assert row is not None
    row.status = "rendering"
    db.commit()
    client = panel.client("editor", DISTRICT)
    # not offered any more, so the form refuses it as not in the list
    response = client.form_post("/schedule/new", _form(program))
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "program")


def test_values_are_kept_when_the_form_comes_back(panel: Panel, make_program: Any) -> None:
    program = make_program(DISTRICT, 15)
    client = panel.client("editor", DISTRICT)
    data = _form(
        program,
        recurrence="days",
        days=["TU", "SA"],
        targets=[COMMUNE, SECOND_COMMUNE],
        until="2026-04-01",
        exdates="30/4/2026",
    )
    html = client.form_post("/schedule/new", data).get_data(as_text=True)
    assert 'value="Bản tin học tập suốt đời"' in html
    assert re.search(rf'name="targets" value="{SECOND_COMMUNE}" checked', html)
    assert re.search(r'checked[^>]*value="SA"|value="SA"[^>]*checked', html)
    assert "30/4/2026" in html and 'value="17:30"' in html


def test_a_programme_reads_the_same_length_on_every_page(
    panel: Panel, app: Any, make_program: Any
) -> None:
    """46.6 s is 0:47 everywhere (it read 0:46 on the broadcast page, 0:47 elsewhere)."""
    program_id = make_program(DISTRICT, 1, "Thông báo ngắn")
    program = panel.db.get(Program, program_id)
    assert program is not None
    program.duration_ms = 46_600
    panel.db.commit()
    broadcast = _schedule(
        panel.db, app, panel.user("approver", DISTRICT), title="Thông báo ngắn", owner=DISTRICT,
        kind="program", program=program_id, start="2026-04-22T11:00:00", targets=[COMMUNE],
    )  # fmt: skip
    client = panel.client("editor", DISTRICT)
    pages = {
        "broadcast": client.get(f"/schedule/{broadcast.id}").get_data(as_text=True),
        "programme": client.get(f"/programs/{program_id}").get_data(as_text=True),
        "programmes": client.get("/programs").get_data(as_text=True),
    }
    for name, html in pages.items():
        assert "0:47" in html and "0:46" not in html, name
