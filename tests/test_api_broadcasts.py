"""Broadcasts through the API (docs/api.md "Broadcasts"; docs/architecture.md rules 1–5).

Creating, approving, changing and cancelling broadcasts, who may do which, what reaches the
timelines, what saving reports (clashes, conflicts, station-rule warnings), and the side
effects every change must have: schedule revisions and the audit trail.

Time is frozen at Monday 2026-04-20 08:00 in Hà Nam; most airings are on Tuesday the 21st.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.models import AuditEvent, Broadcast, Station
from tests.network_codes import HOP_LY, LE_HONG_PHONG, LY_NHAN, PHU_LY, PROVINCE, QUANG_TRUNG

pytestmark = pytest.mark.usefixtures("fast_passwords")

TUESDAY = "2026-04-21"


def relay(**overrides: Any) -> dict[str, Any]:
    """A Phủ Lý district relay, Tuesday 17:00–17:30, for the whole district."""
    return {
        "title": "Chương trình phát thanh Phủ Lý",
        "owner": PHU_LY,
        "kind": "relay",
        "stream_url": "http://127.0.0.1:9/phu-ly.mp3",
        "start": f"{TUESDAY}T17:00:00",
        "duration_s": 1800,
        **overrides,
    }


def province_emergency(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Cảnh báo lũ sông Đáy",
        "owner": PROVINCE,
        "kind": "relay",
        "stream_url": "http://127.0.0.1:9/ha-nam.mp3",
        "start": f"{TUESDAY}T17:10:00",
        "duration_s": 600,
        "priority": "emergency",
        **overrides,
    }


def create(caller: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = caller.post("/api/v1/broadcasts", json=body)
    assert response.status_code == 201, response.json
    return response.json


def timeline(caller: Any, code: str, day: str = TUESDAY) -> list[dict[str, Any]]:
    response = caller.get(f"/api/v1/stations/{code}/timeline?from={day}&to={day}")
    assert response.status_code == 200, response.json
    return response.json


def airings(caller: Any, code: str, day: str = TUESDAY) -> list[tuple[str, str, int]]:
    """(local start HH:MM, outcome, broadcast) of each entry of the day's timeline."""
    return [(e["start"][11:16], e["outcome"], e["broadcast"]) for e in timeline(caller, code, day)]


def revision(caller: Any, code: str) -> int:
    response = caller.get(f"/api/v1/stations/{code}")
    assert response.status_code == 200, response.json
    return response.json["schedule_revision"]


def broadcast_count(db: Session) -> int:
    db.rollback()  # see what the app committed
    return db.scalar(select(func.count(Broadcast.id))) or 0


def set_rules(db: Session, code: str, **rules: Any) -> None:
    station = db.scalar(select(Station).where(Station.code == code))
    assert station is not None
    for key, value in rules.items():
        setattr(station, key, value)
    db.commit()


# --- approval -------------------------------------------------------------------------------


def test_editor_broadcast_is_pending_until_a_district_approver_approves_it(make_caller):
    editor = make_caller("editor", PHU_LY)
    approver = make_caller("approver", PHU_LY)
    other_approver = make_caller("approver", LY_NHAN)

    created = create(editor, relay())
    assert created["status"] == "pending"
    assert created["approved_at"] is None
    assert timeline(editor, QUANG_TRUNG) == []

    assert editor.post(f"/api/v1/broadcasts/{created['id']}/approve").status_code == 403
    assert other_approver.post(f"/api/v1/broadcasts/{created['id']}/approve").status_code == 403
    assert timeline(editor, QUANG_TRUNG) == []

    approved = approver.post(f"/api/v1/broadcasts/{created['id']}/approve")
    assert approved.status_code == 200, approved.json
    assert approved.json["status"] == "approved"
    assert approved.json["approved_at"] is not None
    assert editor.get(f"/api/v1/broadcasts/{created['id']}").json["status"] == "approved"
    assert airings(editor, QUANG_TRUNG) == [("17:00", "scheduled", created["id"])]


@pytest.mark.parametrize(("role", "station"), [("approver", PHU_LY), ("admin", PROVINCE)])
def test_approvers_and_admins_own_broadcasts_are_approved_at_once(make_caller, role, station):
    caller = make_caller(role, station)
    created = create(caller, relay())
    assert created["status"] == "approved"
    assert airings(caller, QUANG_TRUNG) == [("17:00", "scheduled", created["id"])]


def test_approving_twice_is_harmless(make_caller):
    editor = make_caller("editor", PHU_LY)
    approver = make_caller("approver", PHU_LY)
    created = create(editor, relay())
    for _ in range(2):
        response = approver.post(f"/api/v1/broadcasts/{created['id']}/approve")
        assert response.status_code == 200, response.json
        assert response.json["status"] == "approved"
    assert len(timeline(editor, QUANG_TRUNG)) == 1


# --- when ----------------------------------------------------------------------------------


def test_recurrence_until_and_exdates_shape_the_timeline(make_caller):
    approver = make_caller("approver", PHU_LY)
    created = create(
        approver,
        relay(
            start="2026-04-20T17:00:00",
            rrule="FREQ=DAILY",
            until="2026-04-23",
            exdates=[TUESDAY, "2026-04-22T17:00:00"],
        ),
    )
    assert created["until"] == "2026-04-23"
    assert created["exdates"] == ["2026-04-21", "2026-04-22T17:00:00"]
    counts = {d: len(timeline(approver, QUANG_TRUNG, f"2026-04-{d}")) for d in range(20, 25)}
    assert counts == {20: 1, 21: 0, 22: 0, 23: 1, 24: 0}


def test_start_with_an_offset_is_read_as_the_owners_local_time(make_caller):
    approver = make_caller("approver", PHU_LY)
    created = create(approver, relay(start=f"{TUESDAY}T10:00:00Z"))
    assert created["start"] == f"{TUESDAY}T17:00:00"
    assert timeline(approver, QUANG_TRUNG)[0]["start"] == f"{TUESDAY}T17:00:00+07:00"


def test_exdate_at_midnight_skips_only_that_airing(make_caller):
    """An exception with a time (even 00:00) is one airing, not the whole day."""
    approver = make_caller("approver", PHU_LY)
    twice_a_day = relay(start="2026-04-21T00:00:00", duration_s=600, rrule="FREQ=DAILY;BYHOUR=0,12")
    created = create(approver, {**twice_a_day, "exdates": ["2026-04-22T00:00:00"]})
    assert created["exdates"] == ["2026-04-22T00:00:00"]
    assert airings(approver, QUANG_TRUNG, "2026-04-22") == [("12:00", "scheduled", created["id"])]


# --- targets and scope ----------------------------------------------------------------------


def test_default_targets_are_the_owners_whole_subtree(make_caller):
    approver = make_caller("approver", PHU_LY)
    admin = make_caller("admin", PROVINCE)
    created = create(approver, relay())
    assert created["targets"] == [PHU_LY]
    for code in (PHU_LY, QUANG_TRUNG, LE_HONG_PHONG):
        assert airings(admin, code) == [("17:00", "scheduled", created["id"])], code
    for code in (PROVINCE, LY_NHAN, HOP_LY):
        assert timeline(admin, code) == [], code


def test_explicit_targets_reach_only_those_subtrees(make_caller):
    approver = make_caller("approver", PHU_LY)
    created = create(approver, relay(targets=[QUANG_TRUNG]))
    assert created["targets"] == [QUANG_TRUNG]
    assert len(timeline(approver, QUANG_TRUNG)) == 1
    assert timeline(approver, LE_HONG_PHONG) == []
    assert timeline(approver, PHU_LY) == []


def test_nested_targets_air_once(make_caller):
    admin = make_caller("admin", PROVINCE)
    created = create(admin, relay(owner=PROVINCE, targets=[QUANG_TRUNG, PHU_LY]))
    assert created["targets"] == [PHU_LY]
    assert airings(admin, QUANG_TRUNG) == [("17:00", "scheduled", created["id"])]


@pytest.mark.parametrize(
    ("role", "station", "body"),
    [
        ("admin", PROVINCE, relay(targets=[HOP_LY])),
        ("admin", PROVINCE, relay(targets=[QUANG_TRUNG, LY_NHAN])),
        ("editor", PHU_LY, relay(targets=[PROVINCE])),
        ("approver", PHU_LY, relay(targets=[LY_NHAN])),
    ],
    ids=["commune-of-other-district", "one-of-two-outside", "ancestor", "sibling-district"],
)
def test_target_outside_the_owners_subtree_is_forbidden(make_caller, db, role, station, body):
    caller = make_caller(role, station)
    response = caller.post("/api/v1/broadcasts", json=body)
    assert response.status_code == 403, response.json
    assert response.json["field"] == "targets"
    assert response.json["error"]
    assert broadcast_count(db) == 0


def test_editor_cannot_schedule_for_another_district(make_caller, db):
    editor = make_caller("editor", PHU_LY)
    response = editor.post("/api/v1/broadcasts", json=relay(owner=LY_NHAN))
    assert response.status_code == 403, response.json
    assert response.json["field"] == "owner"
    response = editor.post("/api/v1/broadcasts", json=relay(owner=PROVINCE, targets=[PHU_LY]))
    assert response.status_code == 403, response.json
    assert broadcast_count(db) == 0


def test_operator_schedules_only_for_their_own_commune(make_caller, db):
    operator = make_caller("operator", QUANG_TRUNG)
    own = create(operator, relay(owner=QUANG_TRUNG, title="Bản tin phường Quang Trung"))
    assert own["targets"] == [QUANG_TRUNG]
    assert own["status"] == "pending"  # operators do not approve

    refused = [
        relay(owner=LE_HONG_PHONG),
        relay(owner=PHU_LY),
        relay(owner=PHU_LY, targets=[QUANG_TRUNG]),
        relay(owner=QUANG_TRUNG, targets=[LE_HONG_PHONG]),
    ]
    for body in refused:
        response = operator.post("/api/v1/broadcasts", json=body)
        assert response.status_code == 403, (body, response.json)
        assert response.json["error"]
    assert broadcast_count(db) == 1


def test_operator_cannot_approve_their_own_bulletin(make_caller):
    operator = make_caller("operator", QUANG_TRUNG)
    own = create(operator, relay(owner=QUANG_TRUNG))
    assert operator.post(f"/api/v1/broadcasts/{own['id']}/approve").status_code == 403
    assert timeline(operator, QUANG_TRUNG) == []


def test_broadcast_of_another_district_is_not_visible(make_caller):
    approver = make_caller("approver", PHU_LY)
    stranger = make_caller("editor", LY_NHAN)
    operator = make_caller("operator", QUANG_TRUNG)
    created = create(approver, relay())
    url = f"/api/v1/broadcasts/{created['id']}"
    assert stranger.get(url).status_code == 403
    assert stranger.patch(url, json={"title": "Đổi tên"}).status_code == 403
    assert stranger.delete(url).status_code == 403
    assert operator.get(url).status_code == 200  # it reaches the operator's commune
    assert approver.get(url).json["status"] == "approved"


# --- clashes and conflicts ------------------------------------------------------------------


def test_same_level_clash_is_refused_with_the_clashes_until_forced(make_caller, db):
    approver = make_caller("approver", PHU_LY)
    first = create(approver, relay())
    before = airings(approver, LE_HONG_PHONG)
    overlapping = relay(title="Bản tin chiều", start=f"{TUESDAY}T17:15:00", targets=[LE_HONG_PHONG])

    refused = approver.post("/api/v1/broadcasts", json=overlapping)
    assert refused.status_code == 409, refused.json
    assert refused.json["error"]
    clashes = refused.json["clashes"]
    assert clashes, refused.json
    assert {c["with"] for c in clashes} == {first["id"]}
    assert {c["station"] for c in clashes} == {LE_HONG_PHONG}
    assert broadcast_count(db) == 1
    assert airings(approver, LE_HONG_PHONG) == before

    forced = create(approver, {**overlapping, "force": True})
    assert forced["status"] == "approved"
    assert broadcast_count(db) == 2
    # Equal class and level: the earlier-created one wins; the forced one keeps what is left.
    assert airings(approver, LE_HONG_PHONG) == [
        ("17:00", "scheduled", first["id"]),
        ("17:30", "truncated", forced["id"]),
    ]


def test_clash_with_a_pending_broadcast_is_refused_too(make_caller):
    editor = make_caller("editor", PHU_LY)
    create(editor, relay())
    response = editor.post("/api/v1/broadcasts", json=relay(start=f"{TUESDAY}T17:20:00"))
    assert response.status_code == 409, response.json


def test_different_levels_or_classes_do_not_clash(make_caller):
    admin = make_caller("admin", PROVINCE)
    approver = make_caller("approver", PHU_LY)
    create(approver, relay())
    create(
        approver, relay(title="Thông báo khẩn", start=f"{TUESDAY}T17:05:00", priority="priority")
    )
    create(admin, province_emergency())
    create(admin, relay(owner=PROVINCE, title="Tiếp âm tỉnh", start=f"{TUESDAY}T17:20:00"))


def test_saving_a_higher_broadcast_reports_what_it_displaces_per_station_and_date(make_caller):
    admin = make_caller("admin", PROVINCE)
    approver = make_caller("approver", PHU_LY)
    district = create(approver, relay(rrule="FREQ=DAILY"))
    assert district["conflicts"] == []

    emergency = create(admin, province_emergency())
    conflicts = emergency["conflicts"]
    assert conflicts, emergency
    assert emergency["conflicts_total"] == len(conflicts)
    stations = {c["station"] for c in conflicts}
    assert {PHU_LY, QUANG_TRUNG, LE_HONG_PHONG} <= stations
    assert not stations & {PROVINCE, LY_NHAN, HOP_LY}
    for conflict in conflicts:
        assert conflict["date"] == TUESDAY
        assert conflict["with"] == district["id"]
        assert conflict["outcome"] == "truncated"
        assert conflict["start"].startswith(TUESDAY)
    # The district relay airs around the emergency at every commune of Phủ Lý.
    assert airings(admin, QUANG_TRUNG) == [
        ("17:00", "truncated", district["id"]),
        ("17:10", "scheduled", emergency["id"]),
        ("17:20", "truncated", district["id"]),
    ]


def test_saving_a_lower_broadcast_reports_what_beats_it(make_caller):
    admin = make_caller("admin", PROVINCE)
    approver = make_caller("approver", PHU_LY)
    province = create(
        admin, relay(owner=PROVINCE, title="Thời sự tỉnh", priority="priority", targets=[PHU_LY])
    )
    district = create(approver, relay(start=f"{TUESDAY}T17:15:00", conflict="skip"))
    conflicts = district["conflicts"]
    assert conflicts
    assert {(c["station"], c["date"], c["with"], c["outcome"]) for c in conflicts} >= {
        (QUANG_TRUNG, TUESDAY, province["id"], "preempted"),
        (PHU_LY, TUESDAY, province["id"], "preempted"),
    }


def test_programme_is_shifted_past_a_province_relay(make_caller, make_program):
    admin = make_caller("admin", PROVINCE)
    approver = make_caller("approver", PHU_LY)
    province = create(admin, relay(owner=PROVINCE, title="Thời sự tỉnh", targets=[PROVINCE]))
    program = make_program(PHU_LY, minutes=15)
    body = {
        "title": "Học tập suốt đời",
        "owner": PHU_LY,
        "kind": "program",
        "program": program,
        "start": f"{TUESDAY}T17:10:00",
    }
    created = create(approver, body)
    assert created["conflict"] == "shift"
    outcomes = {(c["station"], c["outcome"], c["with"]) for c in created["conflicts"]}
    assert (QUANG_TRUNG, "shifted", province["id"]) in outcomes
    assert airings(approver, QUANG_TRUNG) == [
        ("17:00", "scheduled", province["id"]),
        ("17:30", "shifted", created["id"]),
    ]


# --- station rules --------------------------------------------------------------------------


def test_quiet_hours_and_session_length_warn_but_save(make_caller, db):
    set_rules(
        db, QUANG_TRUNG, allowed_windows="05:00-07:30,16:30-19:00", max_minutes_per_session=20
    )
    approver = make_caller("approver", PHU_LY)
    noon = create(approver, relay(title="Trưa", start=f"{TUESDAY}T12:00:00"))
    rules = {(w["station"], w["date"], w["rule"]) for w in noon["warnings"]}
    assert rules == {
        (QUANG_TRUNG, TUESDAY, "allowed_windows"),
        (QUANG_TRUNG, TUESDAY, "max_minutes_per_session"),
    }
    assert all(w["detail"] for w in noon["warnings"])
    assert noon["status"] == "approved"
    assert len(timeline(approver, QUANG_TRUNG)) == 1


def test_sessions_per_day_cap_warns(make_caller, db):
    set_rules(db, QUANG_TRUNG, max_sessions_per_day=1)
    approver = make_caller("approver", PHU_LY)
    morning = create(approver, relay(title="Sáng", start=f"{TUESDAY}T05:00:00"))
    assert morning["warnings"] == []
    evening = create(approver, relay(title="Chiều"))
    assert [(w["station"], w["date"], w["rule"]) for w in evening["warnings"]] == [
        (QUANG_TRUNG, TUESDAY, "max_sessions_per_day")
    ]


def test_rules_inside_the_allowed_window_give_no_warning(make_caller, db):
    set_rules(db, QUANG_TRUNG, allowed_windows="05:00-07:30,16:30-19:00", max_sessions_per_day=2)
    approver = make_caller("approver", PHU_LY)
    assert create(approver, relay())["warnings"] == []


def test_emergencies_are_exempt_from_station_rules(make_caller, db):
    set_rules(
        db,
        QUANG_TRUNG,
        allowed_windows="05:00-07:30,16:30-19:00",
        max_sessions_per_day=1,
        max_minutes_per_session=5,
    )
    admin = make_caller("admin", PROVINCE)
    create(admin, relay(owner=PROVINCE, title="Sáng", start=f"{TUESDAY}T05:00:00"))
    emergency = create(admin, province_emergency(start=f"{TUESDAY}T12:00:00", duration_s=1800))
    assert emergency["warnings"] == []


# --- changing and cancelling ----------------------------------------------------------------


def test_patch_moves_the_broadcast_and_the_timeline_follows(make_caller):
    approver = make_caller("approver", PHU_LY)
    created = create(approver, relay())
    url = f"/api/v1/broadcasts/{created['id']}"

    response = approver.patch(url, json={"start": f"{TUESDAY}T18:15:00", "duration_s": 900})
    assert response.status_code == 200, response.json
    assert response.json["start"] == f"{TUESDAY}T18:15:00"
    assert response.json["duration_s"] == 900
    assert response.json["title"] == created["title"]  # untouched fields are kept
    assert response.json["status"] == "approved"
    entries = timeline(approver, QUANG_TRUNG)
    assert [(e["start"], e["end"]) for e in entries] == [
        ("2026-04-21T18:15:00+07:00", "2026-04-21T18:30:00+07:00")
    ]
    assert approver.get(url).json["start"] == f"{TUESDAY}T18:15:00"


def test_patch_by_an_editor_waits_beside_the_approved_broadcast_which_stays_on_air(make_caller):
    approver = make_caller("approver", PHU_LY)
    editor = make_caller("editor", PHU_LY)
    created = create(approver, relay())
    url = f"/api/v1/broadcasts/{created['id']}"

    changed = editor.patch(url, json={"title": "Đổi tên", "start": f"{TUESDAY}T16:45:00"})
    assert changed.status_code == 200, changed.json
    assert changed.json["status"] == "approved"  # still on air as approved…
    assert changed.json["title"] == created["title"]
    assert changed.json["revision"]["title"] == "Đổi tên"  # …the change waits beside it
    assert airings(editor, QUANG_TRUNG) == [("17:00", "scheduled", created["id"])]
    # A second change builds on the first.
    again = editor.patch(url, json={"duration_s": 900})
    assert again.json["revision"]["title"] == "Đổi tên"
    assert again.json["revision"]["duration_s"] == 900

    approved = approver.post(f"{url}/approve")
    assert approved.status_code == 200, approved.json
    assert approved.json["revision"] is None
    entries = timeline(editor, QUANG_TRUNG)
    assert [(e["title"], e["start"][11:16], e["end"][11:16]) for e in entries] == [
        ("Đổi tên", "16:45", "17:00")
    ]


def test_patch_into_a_clash_is_refused_and_changes_nothing(make_caller):
    approver = make_caller("approver", PHU_LY)
    first = create(approver, relay())
    second = create(approver, relay(title="Tối", start=f"{TUESDAY}T19:00:00"))
    url = f"/api/v1/broadcasts/{second['id']}"

    response = approver.patch(url, json={"start": f"{TUESDAY}T17:10:00"})
    assert response.status_code == 409, response.json
    assert [c["with"] for c in response.json["clashes"]] == [first["id"]]
    assert approver.get(url).json["start"] == f"{TUESDAY}T19:00:00"
    assert airings(approver, QUANG_TRUNG) == [
        ("17:00", "scheduled", first["id"]),
        ("19:00", "scheduled", second["id"]),
    ]


def test_patch_with_bad_input_changes_nothing(make_caller):
    approver = make_caller("approver", PHU_LY)
    created = create(approver, relay())
    url = f"/api/v1/broadcasts/{created['id']}"
    for body, field in [
        ({"rrule": "FREQ=NEVER"}, "rrule"),
        ({"targets": [HOP_LY]}, "targets"),
        ({"colour": "red"}, "colour"),
    ]:
        response = approver.patch(url, json=body)
        assert 400 <= response.status_code < 500, response.json
        assert response.json["field"] == field
    after = approver.get(url).json
    assert (after["rrule"], after["targets"]) == (None, [PHU_LY])
    assert len(timeline(approver, QUANG_TRUNG)) == 1


def test_delete_cancels_but_keeps_the_record(make_caller, db):
    approver = make_caller("approver", PHU_LY)
    created = create(approver, relay(rrule="FREQ=DAILY"))
    url = f"/api/v1/broadcasts/{created['id']}"

    cancelled = approver.delete(url)
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["status"] == "cancelled"
    shown = approver.get(url)
    assert shown.status_code == 200
    assert shown.json["status"] == "cancelled"
    assert shown.json["cancelled_at"] is not None
    assert shown.json["title"] == created["title"]
    assert timeline(approver, QUANG_TRUNG) == []
    assert broadcast_count(db) == 1

    assert approver.delete(url).status_code == 200  # cancelling again is harmless
    assert approver.patch(url, json={"title": "Sống lại"}).status_code == 422
    assert approver.post(f"{url}/approve").status_code == 422
    assert timeline(approver, QUANG_TRUNG) == []


def test_cancelled_broadcast_no_longer_clashes(make_caller):
    approver = make_caller("approver", PHU_LY)
    first = create(approver, relay())
    approver.delete(f"/api/v1/broadcasts/{first['id']}")
    create(approver, relay(title="Thay thế"))


def test_editor_cannot_cancel_another_districts_broadcast_but_admin_can(make_caller):
    approver = make_caller("approver", PHU_LY)
    stranger = make_caller("approver", LY_NHAN)
    admin = make_caller("admin", PROVINCE)
    created = create(approver, relay())
    url = f"/api/v1/broadcasts/{created['id']}"
    assert stranger.delete(url).status_code == 403
    assert approver.get(url).json["status"] == "approved"
    assert admin.delete(url).json["status"] == "cancelled"


# --- side effects: revisions and audit ------------------------------------------------------


def test_schedule_revision_goes_up_in_the_affected_subtree_only(make_caller):
    editor = make_caller("editor", PHU_LY)
    approver = make_caller("approver", PHU_LY)
    admin = make_caller("admin", PROVINCE)
    affected = (PHU_LY, QUANG_TRUNG, LE_HONG_PHONG)
    unrelated = (LY_NHAN, HOP_LY)

    def revisions() -> dict[str, int]:
        return {code: revision(admin, code) for code in affected + unrelated}

    start = revisions()
    created = create(editor, relay())
    saved = revisions()
    approver.post(f"/api/v1/broadcasts/{created['id']}/approve")
    approved = revisions()
    approver.patch(f"/api/v1/broadcasts/{created['id']}", json={"start": f"{TUESDAY}T18:00:00"})
    patched = revisions()
    approver.delete(f"/api/v1/broadcasts/{created['id']}")
    cancelled = revisions()

    for before, after in [(start, saved), (saved, approved), (approved, patched)]:
        for code in affected:
            assert after[code] > before[code], code
        for code in unrelated:
            assert after[code] == before[code], code
    for code in affected:
        assert cancelled[code] > patched[code], code
    for code in unrelated:
        assert cancelled[code] == start[code], code


def test_narrowing_targets_bumps_the_stations_left_out(make_caller):
    approver = make_caller("approver", PHU_LY)
    created = create(approver, relay())
    before = revision(approver, LE_HONG_PHONG)
    approver.patch(f"/api/v1/broadcasts/{created['id']}", json={"targets": [QUANG_TRUNG]})
    assert revision(approver, LE_HONG_PHONG) > before  # it must drop the airing
    assert timeline(approver, LE_HONG_PHONG) == []


def test_refused_save_changes_no_revision(make_caller):
    approver = make_caller("approver", PHU_LY)
    create(approver, relay())
    before = revision(approver, QUANG_TRUNG)
    assert approver.post("/api/v1/broadcasts", json=relay(title="Trùng")).status_code == 409
    assert approver.post("/api/v1/broadcasts", json=relay(rrule="FREQ=X")).status_code == 400
    assert revision(approver, QUANG_TRUNG) == before


def test_every_change_writes_an_audit_event(make_caller, db):
    editor = make_caller("editor", PHU_LY)
    approver = make_caller("approver", PHU_LY)
    created = create(editor, relay())
    url = f"/api/v1/broadcasts/{created['id']}"
    approver.post(f"{url}/approve")
    approver.patch(url, json={"title": "Đổi tên"})
    approver.delete(url)

    db.rollback()
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "broadcast", AuditEvent.object_id == str(created["id"]))
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor) for e in events] == [
        ("broadcast.create", editor.username),
        ("broadcast.approve", approver.username),
        ("broadcast.update", approver.username),
        ("broadcast.cancel", approver.username),
    ]
    owner = db.scalar(select(Station.id).where(Station.code == PHU_LY))
    assert {e.station_id for e in events} == {owner}
    assert events[0].detail["status"] == "pending"
    assert events[0].detail["title"] == created["title"]


def test_forced_save_is_audited_as_forced(make_caller, db):
    approver = make_caller("approver", PHU_LY)
    create(approver, relay())
    forced = create(approver, relay(title="Ép lịch", force=True))
    db.rollback()
    event = db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "broadcast.create", AuditEvent.object_id == str(forced["id"])
        )
    )
    assert event is not None
    assert event.detail["forced"] is True


def test_refused_save_writes_no_audit_event(make_caller, db):
    approver = make_caller("approver", PHU_LY)
    create(approver, relay())
    approver.post("/api/v1/broadcasts", json=relay(title="Trùng"))
    approver.post("/api/v1/broadcasts", json=relay(targets=[HOP_LY]))
    db.rollback()
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.action.startswith("broadcast."))
    ).all()
    assert actions == ["broadcast.create"]
