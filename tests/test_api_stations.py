"""Stations, timelines, the iCalendar feed, the OpenAPI document and the health check
(docs/api.md "Stations", "Timelines and schedules")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from config.directory import read_directory
from scheduler.models import Station

pytestmark = pytest.mark.usefixtures("fast_passwords")

HA_NAM = read_directory("ha-nam-2024")
PARENT = {n.code: n.parent for n in HA_NAM}
TUESDAY = "2026-04-21"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
STATION_FIELDS = {"code", "name", "level", "parent", "stream_url", "online", "last_seen"}


def subtree_codes(root: str) -> set[str]:
    def under(code: str | None) -> bool:
        while code is not None:
            if code == root:
                return True
            code = PARENT[code]
        return False

    return {n.code for n in HA_NAM if under(n.code)}


def relay(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Chương trình phát thanh Phủ Lý",
        "owner": "347",
        "kind": "relay",
        "stream_url": "http://127.0.0.1:9/phu-ly.mp3",
        "start": f"{TUESDAY}T17:00:00",
        "duration_s": 1800,
        **overrides,
    }


def create(caller: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = caller.post("/api/v1/broadcasts", json=body)
    assert response.status_code == 201, response.json
    return response.json


# --- GET /api/v1/stations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "station", "count"),
    [
        ("admin", "35", 105),
        ("editor", "347", 15),
        ("approver", "353", len(subtree_codes("353"))),
        ("operator", "13285", 1),
    ],
)
def test_station_list_is_exactly_the_callers_subtree(make_caller, role, station, count):
    caller = make_caller(role, station)
    response = caller.get("/api/v1/stations")
    assert response.status_code == 200, response.json
    codes = [s["code"] for s in response.json]
    assert len(codes) == count
    assert set(codes) == subtree_codes(station)
    assert codes[0] == station  # parents first


def test_station_list_has_the_fields_of_the_contract(make_caller):
    response = make_caller("editor", "347").get("/api/v1/stations")
    by_code = {s["code"]: s for s in response.json}
    for station in response.json:
        assert station.keys() >= STATION_FIELDS, station
    assert by_code["347"]["name"] == "Thành phố Phủ Lý"
    assert by_code["347"]["level"] == "district"
    assert by_code["347"]["parent"] == "35"
    assert by_code["13285"]["name"] == "Phường Quang Trung"
    assert by_code["13285"]["level"] == "commune"
    assert by_code["13285"]["parent"] == "347"
    assert by_code["13285"]["online"] is False
    assert by_code["13285"]["last_seen"] is None
    assert by_code["13285"]["stream_url"] is None


def test_online_follows_the_last_heartbeat(make_caller, db):
    for code, ago in (("13285", timedelta(seconds=30)), ("13291", timedelta(hours=2))):
        db.scalar(select(Station).where(Station.code == code)).last_seen = NOW - ago
    db.commit()
    stations = {s["code"]: s for s in make_caller("editor", "347").get("/api/v1/stations").json}
    assert stations["13285"]["online"] is True
    assert stations["13291"]["online"] is False
    seen = datetime.fromisoformat(stations["13285"]["last_seen"])
    assert seen == NOW - timedelta(seconds=30)


# --- GET /api/v1/stations/{code} ------------------------------------------------------------


@pytest.mark.parametrize("code", ["35", "347", "353", "13285"])
def test_one_station_lists_its_children(make_caller, code):
    response = make_caller("admin", "35").get(f"/api/v1/stations/{code}")
    assert response.status_code == 200, response.json
    body = response.json
    assert body.keys() >= STATION_FIELDS
    assert body["code"] == code
    assert body["parent"] == PARENT[code]
    assert body["children"] == sorted(n.code for n in HA_NAM if n.parent == code)


def test_province_has_six_districts_and_phu_ly_fourteen_communes(make_caller):
    admin = make_caller("admin", "35")
    assert len(admin.get("/api/v1/stations/35").json["children"]) == 6
    assert len(admin.get("/api/v1/stations/347").json["children"]) == 14
    assert admin.get("/api/v1/stations/13285").json["children"] == []


def test_operator_reads_own_station_only_but_hears_what_comes_from_above(make_caller):
    admin = make_caller("admin", "35")
    created = create(admin, relay())
    operator = make_caller("operator", "13285")

    response = operator.get("/api/v1/stations/13285")
    assert response.status_code == 200 and response.json["code"] == "13285"
    own = operator.get(f"/api/v1/stations/13285/timeline?from={TUESDAY}&to={TUESDAY}")
    assert own.status_code == 200
    assert [e["title"] for e in own.json] == ["Chương trình phát thanh Phủ Lý"]
    # The district's broadcast that reaches the commune can be read; the district cannot.
    assert operator.get(f"/api/v1/broadcasts/{created['id']}").status_code == 200

    for code in ("13291", "353", "13567", "347", "35"):
        for url in (
            f"/api/v1/stations/{code}",
            f"/api/v1/stations/{code}/timeline?from={TUESDAY}",
            f"/api/v1/stations/{code}/plays",
            f"/stations/{code}/schedule.ics",
        ):
            response = operator.get(url)
            assert response.status_code == 403, (url, response.get_data(True))
            assert response.json["error"]


def test_district_editor_cannot_read_another_district(make_caller):
    editor = make_caller("editor", "347")
    assert editor.get("/api/v1/stations/353").status_code == 403
    assert editor.get("/api/v1/stations/13567/timeline").status_code == 403
    assert editor.get("/api/v1/stations/35").status_code == 403  # above it: not its area


# --- timelines ------------------------------------------------------------------------------


def test_timeline_lists_preempted_entries_with_who_beat_them(make_caller):
    admin = make_caller("admin", "35")
    approver = make_caller("approver", "347")
    province = create(
        admin, relay(owner="35", title="Thời sự tỉnh", priority="priority", targets=["35"])
    )
    skipped = create(
        approver, relay(title="Bản tin bị hoãn", start=f"{TUESDAY}T17:10:00", conflict="skip")
    )
    covered = create(
        approver,
        relay(title="Tiếp âm bị che", start=f"{TUESDAY}T17:05:00", duration_s=600, force=True),
    )

    entries = admin.get(f"/api/v1/stations/13285/timeline?from={TUESDAY}&to={TUESDAY}").json
    by_broadcast = {e["broadcast"]: e for e in entries}
    assert len(entries) == 3
    assert by_broadcast[province["id"]]["outcome"] == "scheduled"
    assert by_broadcast[province["id"]]["by"] is None
    for loser in (skipped, covered):
        entry = by_broadcast[loser["id"]]
        assert entry["outcome"] == "preempted"
        assert entry["by"] == province["id"]
        assert entry["origin"] == "347"
        assert entry["title"] == loser["title"]
    first = by_broadcast[province["id"]]
    assert first["start"] == f"{TUESDAY}T17:00:00+07:00"
    assert first["end"] == f"{TUESDAY}T17:30:00+07:00"
    assert (first["kind"], first["priority"], first["origin"]) == ("relay", "priority", "35")


def test_timeline_defaults_to_today_and_covers_whole_days(make_caller):
    admin = make_caller("admin", "35")
    create(admin, relay(owner="35", start="2026-04-20T23:30:00", duration_s=3600, rrule=None))
    today = admin.get("/api/v1/stations/13285/timeline").json
    assert [e["start"] for e in today] == ["2026-04-20T23:30:00+07:00"]
    two_days = admin.get("/api/v1/stations/13285/timeline?from=2026-04-20&to=2026-04-21").json
    assert len(two_days) == 1
    tomorrow = admin.get(f"/api/v1/stations/13285/timeline?from={TUESDAY}").json
    assert [e["end"] for e in tomorrow] == [f"{TUESDAY}T00:30:00+07:00"]  # runs past midnight


# --- GET /stations/{code}/schedule.ics ------------------------------------------------------


def ics_events(body: bytes) -> list[Any]:
    calendar = Calendar.from_ical(body)
    return [c for c in calendar.walk("VEVENT")]


def test_ics_feed_is_a_calendar_of_the_stations_airings(make_caller):
    admin = make_caller("admin", "35")
    approver = make_caller("approver", "347")
    vov = relay(owner="35", title="Tiếp âm Thời sự VOV1", start="2026-04-20T06:00:00")
    daily = create(admin, {**vov, "rrule": "FREQ=DAILY"})
    once = create(approver, relay())
    preempted = create(approver, relay(title="Bị che", start="2026-04-22T06:05:00", duration_s=60))
    create(make_caller("approver", "353"), relay(owner="353", title="Lý Nhân"))  # elsewhere

    response = admin.get("/stations/13285/schedule.ics")
    assert response.status_code == 200, response.get_data(True)
    assert response.mimetype == "text/calendar"
    calendar = Calendar.from_ical(response.data)
    assert calendar["VERSION"] == "2.0"
    assert calendar.walk("VTIMEZONE"), "phone calendars need the zone"
    events = ics_events(response.data)
    summaries = [str(e["SUMMARY"]) for e in events]
    assert not any("Lý Nhân" in s or "Bị che" in s for s in summaries), summaries
    assert preempted["id"] not in {int(str(e["UID"]).split("-")[0]) for e in events}
    vov = [e for e in events if "VOV1" in str(e["SUMMARY"])]
    assert len(vov) == 15  # today and the next 14 days
    assert vov[0].decoded("DTSTART") == datetime(2026, 4, 20, 6, 0, tzinfo=HCM)
    phu_ly = [e for e in events if "Phủ Lý" in str(e["SUMMARY"])]
    assert len(phu_ly) == 1
    assert phu_ly[0].decoded("DTSTART") == datetime(2026, 4, 21, 17, 0, tzinfo=HCM)
    assert phu_ly[0].decoded("DTEND") == datetime(2026, 4, 21, 17, 30, tzinfo=HCM)
    assert len({str(e["UID"]) for e in events}) == len(events)
    assert daily["id"] != once["id"]
    # In words a phone shows: names, not codes; the panel's labels, not enum values.
    # The kind said once (not "Tiếp âm: Tiếp âm …"), then the reference the panel writes.
    assert str(vov[0]["SUMMARY"]) == f"Tiếp âm Thời sự VOV1 (#{daily['id']})"
    description = str(phu_ly[0]["DESCRIPTION"])
    assert "Đơn vị phát: Thành phố Phủ Lý" in description and "347" not in description
    assert phu_ly[0]["CATEGORIES"].to_ical().decode() == "Tiếp âm,Thường"


def test_ics_feed_accepts_the_token_in_the_query_for_phones(make_caller):
    operator = make_caller("operator", "13285")
    create(make_caller("admin", "35"), relay(owner="35"))
    client = operator.client

    by_query = client.get(f"/stations/13285/schedule.ics?token={operator.token}")
    assert by_query.status_code == 200, by_query.get_data(True)
    assert len(ics_events(by_query.data)) == 1

    anonymous = client.get("/stations/13285/schedule.ics")
    assert anonymous.status_code == 401
    assert anonymous.json["error"]
    sibling = client.get(f"/stations/13291/schedule.ics?token={operator.token}")
    assert sibling.status_code == 403


def test_ics_feed_of_an_empty_station_is_still_a_calendar(make_caller):
    response = make_caller("admin", "35").get("/stations/13567/schedule.ics")
    assert response.status_code == 200
    assert ics_events(response.data) == []
    assert Calendar.from_ical(response.data)["PRODID"]


# --- GET /api/v1/openapi.json and /api/v1/health --------------------------------------------

CONTRACT_PATHS = {
    "/api/v1/stations": {"get"},
    "/api/v1/stations/{code}": {"get"},
    "/api/v1/broadcasts": {"post"},
    "/api/v1/broadcasts/{id}": {"get", "patch", "delete"},
    "/api/v1/broadcasts/{id}/approve": {"post"},
    "/api/v1/stations/{code}/timeline": {"get"},
    "/api/v1/stations/{code}/plays": {"get"},
    "/stations/{code}/schedule.ics": {"get"},
}
BROADCAST_FIELDS = {
    "title", "owner", "kind", "program", "source", "stream_url", "start", "duration_s", "rrule",
    "until", "exdates", "targets", "priority", "conflict", "max_delay_s", "force",
}  # fmt: skip


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_openapi_document_lists_the_contract(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"]
    assert spec["info"]["version"]
    for path, methods in CONTRACT_PATHS.items():
        assert path in spec["paths"], path
        assert methods <= spec["paths"][path].keys(), path
        for method in methods:
            assert spec["paths"][path][method]["responses"], (path, method)
    schemas = spec["components"]["schemas"]
    for ref in refs(spec):
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[-1] in schemas, ref
    post = spec["paths"]["/api/v1/broadcasts"]["post"]
    body_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    broadcast = schemas[body_ref.rsplit("/", 1)[-1]]
    assert broadcast["properties"].keys() >= BROADCAST_FIELDS
    assert {"title", "owner", "kind", "start"} <= set(broadcast["required"])
    assert "bearer" in spec["components"]["securitySchemes"]


def test_path_templates_in_openapi_declare_their_parameters(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    for path, item in spec["paths"].items():
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        for method in item.keys() - {"parameters"}:
            declared |= {p["name"] for p in item[method].get("parameters", []) if p["in"] == "path"}
        wanted = set(re.findall(r"\{(\w+)\}", path))  # also /alerts/{id}.cap
        assert wanted == declared, path


def test_health_needs_no_credentials(app):
    response = app.test_client().get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok"
    assert response.json["database"] == "ok"
    assert isinstance(response.json["version"], str) and response.json["version"]
