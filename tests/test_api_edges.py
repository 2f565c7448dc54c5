"""Edges found in review: rules that never air, consent to a clash, NULs, huge ids, tokens
in URLs, changing a broadcast's kind, re-importing a moved station."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.models import Station
from scheduler.stations import import_directory
from tests.conftest import FROZEN_NOW


def relay(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Tiếp âm Phủ Lý",
        "owner": "347",
        "kind": "relay",
        "stream_url": "http://127.0.0.1:9/phu-ly.mp3",
        "start": "2026-04-21T17:00:00",
        "duration_s": 1800,
        "rrule": "FREQ=DAILY",
        **overrides,
    }


@pytest.mark.parametrize(
    ("rule", "duration_s"),
    [
        ("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", 1800),
        ("FREQ=DAILY;BYMONTH=13", 1800),
        ("FREQ=MONTHLY;BYDAY=+9MO", 1800),
        ("FREQ=HOURLY", 7200),
    ],
    ids=["february-30", "month-13", "ninth-monday", "overlapping-hourly"],
)
def test_rules_that_cannot_air_are_refused_at_once(make_caller, rule, duration_s):
    admin = make_caller("admin", "35")
    started = time.monotonic()
    response = admin.post("/api/v1/broadcasts", json=relay(rrule=rule, duration_s=duration_s))
    assert response.status_code == 400 and response.json["field"] == "rrule"
    assert time.monotonic() - started < 2  # never a walk to the year 9999


def test_consent_to_a_clash_survives_a_title_fix_but_not_a_move(make_caller):
    approver = make_caller("approver", "347")
    first = approver.post("/api/v1/broadcasts", json=relay()).json
    clash = approver.post("/api/v1/broadcasts", json=relay(title="Trùng giờ"))
    assert clash.status_code == 409
    forced = approver.post("/api/v1/broadcasts", json=relay(title="Trùng giờ", force=True))
    assert forced.status_code == 201
    retitled = approver.patch(f"/api/v1/broadcasts/{forced.json['id']}", json={"title": "Sửa tên"})
    assert retitled.status_code == 200
    other = approver.post(
        "/api/v1/broadcasts", json=relay(title="Sáng", start="2026-04-21T05:00:00")
    )
    assert other.status_code == 201
    moved = approver.patch(
        f"/api/v1/broadcasts/{forced.json['id']}", json={"start": "2026-04-21T05:10:00"}
    )
    assert moved.status_code == 409
    assert {c["with"] for c in moved.json["clashes"]} == {other.json["id"]}
    assert first["id"] != forced.json["id"]


def test_nul_characters_are_refused_not_stored(make_caller):
    admin = make_caller("admin", "35")
    response = admin.post("/api/v1/broadcasts", json=relay(title="Tin\x00tức"))
    assert response.status_code == 400 and response.json["field"] == "title"
    assert admin.get("/api/v1/stations/35\x00").status_code == 400  # refused at the door


def test_huge_ids_are_not_found_not_a_crash(make_caller):
    admin = make_caller("admin", "35")
    assert admin.get(f"/api/v1/broadcasts/{2**63}").status_code == 404
    assert admin.get(f"/api/v1/segments/{2**40}").status_code == 404
    program = admin.post(
        "/api/v1/broadcasts",
        json={**relay(kind="program", program=2**40), "duration_s": None, "stream_url": None},
    )
    assert program.status_code == 400 and program.json["field"] == "program"


def test_tokens_in_urls_only_open_the_calendar_feed(make_caller):
    operator = make_caller("operator", "13285")
    plain = operator.client
    assert plain.get(f"/api/v1/stations/13285?token={operator.token}").status_code == 401
    assert plain.get(f"/stations/13285/schedule.ics?token={operator.token}").status_code == 200


def test_a_relay_can_become_a_programme_and_back(make_caller, make_program):
    admin = make_caller("admin", "35")
    created = admin.post("/api/v1/broadcasts", json=relay()).json
    program = make_program("347", minutes=10)
    as_program = admin.patch(
        f"/api/v1/broadcasts/{created['id']}", json={"kind": "program", "program": program}
    )
    assert as_program.status_code == 200, as_program.json
    assert as_program.json["conflict"] == "shift" and as_program.json["duration_s"] is None
    back = admin.patch(
        f"/api/v1/broadcasts/{created['id']}",
        json={"kind": "relay", "stream_url": "http://127.0.0.1:9/b.mp3", "duration_s": 900},
    )
    assert back.status_code == 200, back.json
    assert back.json["conflict"] == "truncate" and back.json["program"] is None


def test_reimporting_a_moved_district_moves_its_communes(network, tmp_path):
    # Phủ Lý listed under another province (as when provinces merge); its communes are not
    # in the file, yet they must follow it.
    tree = [
        {"name": "Tỉnh Hà Nam", "code": 35, "districts": []},
        {"name": "Tỉnh Ninh Bình", "code": 37, "districts": [
            {"name": "Thành phố Phủ Lý", "code": 347, "wards": []}]},
    ]  # fmt: skip
    path = tmp_path / "moved.json"
    path.write_text(json.dumps(tree, ensure_ascii=False), "utf-8")
    import_directory(network, path, FROZEN_NOW)
    network.commit()
    commune = network.scalar(select(Station).where(Station.code == "13285"))
    assert commune is not None
    assert commune.path == "37/347/13285/"
    assert commune.depth == 2
