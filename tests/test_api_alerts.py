"""Emergency alerts (docs/api.md ``POST /api/v1/alerts``; docs/architecture.md rule 6).

An approver's alert airs at once at its targets, ahead of everything else; it may repeat by
count or until expiry; it comes as JSON or as a CAP 1.2 message; it can be cancelled (also by
CAP); only approvers and admins issue it, only inside their area; bad input is a 400 naming
the field. What the station's agent downloads (the manifest) is the proof it airs.

Time is frozen at Monday 2026-04-20 08:00 in Hà Nam (01:00 UTC).
"""

from __future__ import annotations

import json
import queue
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import accounts
from scheduler.models import AuditEvent, Broadcast
from scheduler.station_timelines import Airing, Rule, expand, repeat_starts
from scheduler.workqueue import Handler
from tests.alert_support import finish_jobs, issued
from tests.conftest import FROZEN_NOW
from tests.network_codes import HOP_LY, LE_HONG_PHONG, LY_NHAN, PHU_LY, PROVINCE, QUANG_TRUNG

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

NOW_LOCAL = "2026-04-20T08:00:00+07:00"
TEXT = "Nước sông Đáy đang lên nhanh. Bà con vùng bãi khẩn trương di dời người và tài sản."
CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"


def alert(**overrides: Any) -> dict[str, Any]:
    return {"title": "Cảnh báo lũ sông Đáy", "text": TEXT, "targets": [QUANG_TRUNG], **overrides}


def issue(caller: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Issue an alert and wait for its words to be spoken: the alert once on air."""
    return issued(caller.client.application, caller, body)


def station_token(db: Session, code: str) -> str:
    token = accounts.new_station_token(db, FROZEN_NOW, code)
    db.commit()
    return token


def manifest(app: Any, token: str) -> dict[str, Any]:
    response = app.test_client().get(
        "/api/v1/agent/manifest", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.json
    return response.json


def emergencies(app: Any, token: str) -> list[dict[str, Any]]:
    return [i for i in manifest(app, token)["items"] if i["priority"] == "emergency"]


def relay(**overrides: Any) -> dict[str, Any]:
    """The province's daily relay, 07:30–08:30: on air when the alert comes."""
    return {
        "title": "Tiếp âm VOV1",
        "owner": PROVINCE,
        "kind": "relay",
        "stream_url": "http://127.0.0.1:9/vov1.mp3",
        "start": "2026-04-20T07:30:00",
        "duration_s": 3600,
        "rrule": "FREQ=DAILY",
        **overrides,
    }


def cap_xml(
    identifier: str = "KTTV-2026-0420-01",
    msg_type: str = "Alert",
    references: str | None = None,
    status: str = "Actual",
    info: str | None = None,
) -> bytes:
    if info is None:
        info = f"""
  <info>
    <language>vi-VN</language>
    <category>Met</category>
    <event>Lũ</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <expires>2026-04-20T12:00:00+07:00</expires>
    <headline>Cảnh báo lũ khẩn cấp trên sông Đáy</headline>
    <description>Nước sông Đáy đang lên nhanh.</description>
    <instruction>Bà con vùng bãi khẩn trương di dời.</instruction>
    <area>
      <areaDesc>Phường Quang Trung, Phủ Lý</areaDesc>
      <geocode><valueName>loaxa</valueName><value>{QUANG_TRUNG}</value></geocode>
      <geocode><valueName>SAME</valueName><value>006113</value></geocode>
    </area>
  </info>"""
    refs = f"<references>{references}</references>" if references else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="{CAP_NS}">
  <identifier>{identifier}</identifier>
  <sender>kttv-ha-nam@example.vn</sender>
  <sent>2026-04-20T07:59:00+07:00</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}{info}
</alert>""".encode()


def post_cap(caller: Any, body: bytes, content_type: str = "application/cap+xml") -> Any:
    """POST a CAP message and wait for the words to be spoken; the answer as given."""
    response = caller.post("/api/v1/alerts", data=body, headers={"Content-Type": content_type})
    finish_jobs(caller.client.application)
    return response


def shown(caller: Any, answer: Any) -> dict[str, Any]:
    """The alert as it is now (after its audio was made)."""
    body = caller.get(f"/api/v1/alerts/{answer.json['id']}").json
    assert body is not None
    return dict(body)


def broadcast_count(db: Session) -> int:
    db.rollback()  # see what the app committed
    return db.scalar(select(func.count(Broadcast.id))) or 0


# --- airing at once -------------------------------------------------------------------------


def test_spoken_alert_airs_at_once_and_truncates_the_relay_on_air(app, make_caller, network):
    admin, approver = make_caller("admin", PROVINCE), make_caller("approver", PHU_LY)
    on_air = admin.post("/api/v1/broadcasts", json=relay()).json["id"]
    token = station_token(network, QUANG_TRUNG)
    before = app.test_client().get(
        "/api/v1/agent/manifest", headers={"Authorization": f"Bearer {token}"}
    )

    body = issue(approver, alert())
    assert body["status"] == "ready" and body["priority"] == "emergency"
    assert body["owner"] == PHU_LY and body["targets"] == [QUANG_TRUNG]
    assert body["airings"] == [NOW_LOCAL]
    assert body["duration_ms"] > 1000 and body["sha256"]
    assert approver.get(f"/api/v1/segments/{body['segment']}").json["approval"] == "approved"

    after = app.test_client().get(
        "/api/v1/agent/manifest",
        headers={"Authorization": f"Bearer {token}", "If-None-Match": before.headers["ETag"]},
    )
    assert after.status_code == 200  # a new revision, a new ETag
    items = after.json["items"]
    first, second = items[0], items[1]
    ends = datetime.fromisoformat(NOW_LOCAL) + timedelta(milliseconds=body["duration_ms"])
    assert first["broadcast"] == body["broadcast"] and first["priority"] == "emergency"
    assert first["start"] == NOW_LOCAL and first["end"] == ends.isoformat()
    assert first["outcome"] == "scheduled" and first["offset_ms"] == 0
    assert [m["sha256"] for m in first["media"]] == [body["sha256"]]
    # The relay goes on after the alert, from where it would have been.
    assert second["broadcast"] == on_air and second["outcome"] == "truncated"
    assert second["start"] == first["end"]
    assert second["offset_ms"] == 30 * 60_000 + body["duration_ms"]
    # The timeline says who cut the relay short.
    line = approver.get(f"/api/v1/stations/{QUANG_TRUNG}/timeline?from=2026-04-20&to=2026-04-20")
    cut = [e for e in line.json if e["broadcast"] == on_air and e["start"] > NOW_LOCAL]
    assert cut[0]["outcome"] == "truncated" and cut[0]["by"] == body["broadcast"]
    # Only the target hears it.
    assert emergencies(app, station_token(network, LE_HONG_PHONG)) == []


def test_an_alert_is_spoken_even_while_every_ordinary_job_is_busy(app, make_caller, network):
    """Two long renders hold the job pool: the alert's words do not queue behind them."""
    busy = threading.Event()
    pool = app.extensions["loaxa"]["jobs"]
    pool.runner.handlers["hold"] = Handler(lambda _args: busy.wait(60))  # a long render
    sessions = app.extensions["loaxa"]["sessions"]
    with sessions.begin() as db:
        held = [pool.submit(db, "hold") for _ in range(pool.runner.workers)]
    pool.committed(*held)
    try:
        answer = make_caller("approver", PHU_LY).post("/api/v1/alerts", json=alert())
        assert answer.status_code == 202, answer.json
        token = station_token(network, QUANG_TRUNG)
        deadline = time.monotonic() + 20  # the app's clock is frozen; this one is not
        while not emergencies(app, token) and time.monotonic() < deadline:
            busy.wait(0.05)
        assert [i["alert"] for i in emergencies(app, token)] == [answer.json["id"]]
    finally:
        busy.set()
        finish_jobs(app)


def test_an_admin_alerts_a_whole_district_with_an_approved_recording(app, make_caller, network):
    admin = make_caller("admin", PROVINCE)
    spoken = admin.post("/api/v1/segments/tts", json={"title": "Cảnh báo", "text": TEXT}).json
    admin.post(f"/api/v1/segments/{spoken['id']}/approve")
    body = issue(admin, {"title": "Cảnh báo bão số 3", "segment": spoken["id"],
                         "targets": [PHU_LY, QUANG_TRUNG]})  # fmt: skip
    assert body["segment"] == spoken["id"] and body["targets"] == [PHU_LY]
    for code in (QUANG_TRUNG, LE_HONG_PHONG):
        [item] = emergencies(app, station_token(network, code))
        assert item["broadcast"] == body["broadcast"] and item["start"] == NOW_LOCAL


def test_a_lower_programme_due_now_waits_until_the_alert_is_over(make_caller, make_program):
    approver = make_caller("approver", PHU_LY)
    program = make_program(PHU_LY, minutes=10)
    scheduled = approver.post("/api/v1/broadcasts", json={
        "title": "Bản tin sáng", "owner": PHU_LY, "kind": "program", "program": program,
        "start": "2026-04-20T08:00:00", "targets": [QUANG_TRUNG]}).json  # fmt: skip
    body = issue(approver, alert())
    # (make_program's programme has no audio, so only the timeline shows it, not a manifest.)
    line = approver.get(f"/api/v1/stations/{QUANG_TRUNG}/timeline?from=2026-04-20&to=2026-04-20")
    items = line.json
    assert [i["broadcast"] for i in items] == [body["broadcast"], scheduled["id"]]
    assert items[0]["start"] == NOW_LOCAL and items[0]["priority"] == "emergency"
    assert items[1]["outcome"] == "shifted" and items[1]["start"] == items[0]["end"]
    assert items[1]["by"] == body["broadcast"]


# --- repeats --------------------------------------------------------------------------------


def test_repeats_by_count_are_separate_manifest_items(app, make_caller, network):
    body = issue(make_caller("approver", PHU_LY), alert(repeat_every_s=600, repeat_count=3))
    assert body["airings"] == [
        "2026-04-20T08:00:00+07:00",
        "2026-04-20T08:10:00+07:00",
        "2026-04-20T08:20:00+07:00",
    ]
    assert body["repeat_every_s"] == 600 and body["repeat_count"] == 3
    items = emergencies(app, station_token(network, QUANG_TRUNG))
    assert [i["start"] for i in items] == body["airings"]
    assert len({i["id"] for i in items}) == 3


def test_repeats_stop_before_the_expiry(app, make_caller, network):
    approver = make_caller("approver", PHU_LY)
    body = issue(approver, alert(repeat_every_s=900, expires="2026-04-20T08:30:00+07:00"))
    # 08:30 is the expiry itself: nothing starts at or after it.
    assert body["airings"] == ["2026-04-20T08:00:00+07:00", "2026-04-20T08:15:00+07:00"]
    assert body["expires_at"] == "2026-04-20T08:30:00+07:00"
    items = emergencies(app, station_token(network, QUANG_TRUNG))
    assert [i["start"] for i in items] == body["airings"]
    # A naive expiry is local time; the count, when smaller, ends it first.
    other = issue(approver, alert(targets=[LE_HONG_PHONG], repeat_every_s=900, repeat_count=2,
                                  expires="2026-04-20T12:00:00"))  # fmt: skip
    assert other["airings"] == ["2026-04-20T08:00:00+07:00", "2026-04-20T08:15:00+07:00"]


def test_a_repeat_must_be_longer_than_the_alert_itself(make_caller, network):
    approver = make_caller("approver", PHU_LY)
    response = approver.post("/api/v1/alerts", json=alert(repeat_every_s=1, repeat_count=3))
    assert response.status_code == 400
    assert response.json["field"] == "repeat_every_s"
    assert "lasts" in response.json["error"]
    assert broadcast_count(network) == 0


# --- CAP 1.2 --------------------------------------------------------------------------------


def test_cap_alert_airs_and_cap_cancel_takes_it_off(app, make_caller, network):
    approver = make_caller("approver", PHU_LY)
    token = station_token(network, QUANG_TRUNG)
    response = post_cap(approver, cap_xml())
    assert response.status_code == 202, response.json
    assert response.json["status"] == "preparing"  # answered before the words are spoken
    body = shown(approver, response)
    assert body["status"] == "ready" and body["title"] == "Cảnh báo lũ khẩn cấp trên sông Đáy"
    assert body["targets"] == [QUANG_TRUNG] and body["airings"] == [NOW_LOCAL]
    assert body["expires_at"] == "2026-04-20T12:00:00+07:00"
    assert body["cap"]["identifier"] == "KTTV-2026-0420-01" and body["cap"]["scope"] == "Public"
    assert body["area"] == "Phường Quang Trung, Phủ Lý"
    spoken = approver.get(f"/api/v1/segments/{body['segment']}").json
    assert spoken["text"] == (
        "Nước sông Đáy đang lên nhanh.\nBà con vùng bãi khẩn trương di dời.\n"
        "Bản tin phát lúc 7 giờ 59 phút ngày 20/4/2026."
    )
    assert [i["broadcast"] for i in emergencies(app, token)] == [body["broadcast"]]

    again = post_cap(approver, cap_xml())  # the same message resent: no second alert
    assert again.status_code == 200 and again.json["duplicate"] is True
    assert again.json["id"] == body["id"] and broadcast_count(network) == 1

    cancel = cap_xml(
        "KTTV-2026-0420-02",
        "Cancel",
        references="kttv-ha-nam@example.vn,KTTV-2026-0420-01,2026-04-20T07:59:00+07:00",
        info="",
    )
    cancelled = post_cap(approver, cancel, "application/xml")
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["cancelled"] == [body["id"]]
    assert cancelled.json["aired"] is False and cancelled.json["cap"]["msgType"] == "Cancel"
    assert shown(approver, response)["status"] == "cancelled"
    assert emergencies(app, token) == []
    assert post_cap(approver, cancel).status_code == 200  # cancelling twice is harmless


def test_cap_update_replaces_the_alert_it_references(app, make_caller, network):
    approver = make_caller("approver", PHU_LY)
    first = post_cap(approver, cap_xml()).json
    update = cap_xml(
        "KTTV-2026-0420-03", "Update", references="kttv-ha-nam@example.vn,KTTV-2026-0420-01"
    )
    response = post_cap(approver, update)
    assert response.status_code == 202, response.json
    assert response.json["cancelled"] == [first["id"]]
    items = emergencies(app, station_token(network, QUANG_TRUNG))
    assert [i["broadcast"] for i in items] == [shown(approver, response)["broadcast"]]
    assert shown(approver, response)["cap"]["references"].startswith("kttv-ha-nam@example.vn,")


def test_cap_parameters_repeat_the_alert_until_it_expires(make_caller, network):
    parameters = (
        "<parameter><valueName>loaxa:repeat_every_s</valueName><value>1800</value></parameter>"
        "<area>"
    )
    body = cap_xml().replace(b"<area>", parameters.encode(), 1)
    approver = make_caller("approver", PHU_LY)
    response = post_cap(approver, body)
    assert response.status_code == 202, response.json
    airings = shown(approver, response)["airings"]  # 08:00, 08:30 … 11:30: none at the 12:00 expiry
    assert len(airings) == 8 and airings[-1] == "2026-04-20T11:30:00+07:00"
    bad = cap_xml("x2").replace(b"<area>", parameters.replace("1800", "soon").encode(), 1)
    refused = post_cap(make_caller("approver", PHU_LY), bad)
    assert refused.status_code == 400 and refused.json["field"] == "loaxa:repeat_every_s"


# --- cancelling -----------------------------------------------------------------------------


def test_delete_cancels_an_alert_by_either_address(app, make_caller, network):
    approver = make_caller("approver", PHU_LY)
    token = station_token(network, QUANG_TRUNG)
    one = issue(approver, alert(repeat_every_s=600, repeat_count=2))
    two = issue(approver, alert(title="Cảnh báo sạt lở"))
    assert len(emergencies(app, token)) == 3

    gone = approver.delete(f"/api/v1/alerts/{one['id']}")
    assert gone.status_code == 200 and gone.json["status"] == "cancelled"
    assert [i["broadcast"] for i in emergencies(app, token)] == [two["broadcast"]]
    assert approver.delete(f"/api/v1/broadcasts/{two['broadcast']}").status_code == 200
    assert emergencies(app, token) == []
    shown = approver.get(f"/api/v1/alerts/{two['id']}")
    assert shown.status_code == 200 and shown.json["status"] == "cancelled"


def test_only_alerts_are_alerts(make_caller, network):
    admin = make_caller("admin", PROVINCE)
    plain = admin.post("/api/v1/broadcasts", json=relay()).json["id"]
    assert admin.get(f"/api/v1/alerts/{plain}").status_code == 404
    assert admin.delete(f"/api/v1/alerts/{plain}").status_code == 404
    assert admin.get("/api/v1/alerts/99999999999").status_code == 404


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["editor", "operator"])
def test_editors_and_operators_cannot_issue_or_cancel_alerts(make_caller, network, role):
    station = PHU_LY if role == "editor" else QUANG_TRUNG
    caller = make_caller(role, station)
    response = caller.post("/api/v1/alerts", json=alert())
    assert response.status_code == 403 and "approvers" in response.json["error"]
    assert post_cap(caller, cap_xml()).status_code == 403
    issued = issue(make_caller("approver", PHU_LY), alert())
    assert caller.delete(f"/api/v1/alerts/{issued['id']}").status_code == 403


def test_targets_outside_the_callers_area_are_forbidden(make_caller, network):
    approver = make_caller("approver", PHU_LY)
    response = approver.post("/api/v1/alerts", json=alert(targets=[QUANG_TRUNG, HOP_LY]))
    assert response.status_code == 403 and response.json["field"] == "targets"
    assert HOP_LY in response.json["error"]
    assert broadcast_count(network) == 0
    # Nor may another district cancel this district's alert.
    issued = issue(approver, alert())
    other = make_caller("approver", LY_NHAN)
    assert other.delete(f"/api/v1/alerts/{issued['id']}").status_code == 403


def test_unknown_targets_name_the_field(make_caller, network):
    response = make_caller("approver", PHU_LY).post("/api/v1/alerts", json=alert(targets=["99999"]))
    assert response.status_code == 400 and response.json["field"] == "targets"


# --- bad input ------------------------------------------------------------------------------

BAD_JSON = {
    "missing-title": ({"text": TEXT, "targets": [QUANG_TRUNG]}, "title"),
    "blank-title": (alert(title="   "), "title"),
    "long-title": (alert(title="x" * 301), "title"),
    "neither": ({"title": "t", "targets": [QUANG_TRUNG]}, "text"),
    "both": (alert(segment=1), "text"),
    "punctuation": (alert(text="... !!!"), "text"),
    "long-text": (alert(text="lũ " * 1000), "text"),
    "no-targets": (alert(targets=[]), "targets"),
    "negative-repeat": (alert(repeat_every_s=-60, repeat_count=2), "repeat_every_s"),
    "zero-count": (alert(repeat_every_s=600, repeat_count=0), "repeat_count"),
    "count-over-100": (alert(repeat_every_s=600, repeat_count=101), "repeat_count"),
    "count-without-interval": (alert(repeat_count=3), "repeat_count"),
    "interval-without-end": (alert(repeat_every_s=600), "repeat_count"),
    "past-expiry": (alert(expires="2026-04-20T07:59:00+07:00"), "expires"),
    "far-expiry": (alert(expires="2026-04-28T08:00:00+07:00"), "expires"),
    "bad-expiry": (alert(expires="tomorrow"), "expires"),
    "too-many-airings": (
        alert(repeat_every_s=60, expires="2026-04-20T12:00:00+07:00"),
        "repeat_every_s",
    ),
    "longer-than-a-week": (alert(repeat_every_s=86_400, repeat_count=9), "repeat_count"),
    "unknown-field": (alert(priority="normal"), "priority"),
    "unknown-segment": ({"title": "t", "segment": 424242, "targets": [QUANG_TRUNG]}, "segment"),
}


@pytest.mark.parametrize(("body", "field"), BAD_JSON.values(), ids=BAD_JSON.keys())
def test_bad_json_is_a_400_naming_the_field(make_caller, network, body, field):
    response = make_caller("approver", PHU_LY).post("/api/v1/alerts", json=body)
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    assert response.json["error"].startswith(f"{field}: ")
    assert broadcast_count(network) == 0


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE alert [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE alert [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&secret;</identifier></alert>"""
NO_AREA = cap_xml(info="<info><headline>Lũ</headline><description>Lũ lên.</description></info>")
NO_WORDS = cap_xml(
    info="<info><headline>Lũ</headline><area><areaDesc>x</areaDesc><geocode>"
    f"<valueName>loaxa</valueName><value>{QUANG_TRUNG}</value></geocode></area></info>"
)
BAD_CAP = {
    "malformed": (b"<alert><identifier>x</alert>", "body"),
    "entity-bomb": (BOMB, "body"),
    "external-entity": (EXTERNAL, "body"),
    "not-cap": (b"<rss><channel/></rss>", "body"),
    "no-identifier": (
        cap_xml().replace(b"<identifier>KTTV-2026-0420-01</identifier>", b""),
        "identifier",
    ),
    "no-info": (cap_xml(info=""), "info"),
    "no-headline": (cap_xml(info="<info><description>Lũ lên.</description></info>"), "headline"),
    "no-area": (NO_AREA, "area"),
    "no-description": (NO_WORDS, "description"),
    "past-expiry": (cap_xml().replace(b"2026-04-20T12:00:00", b"2026-04-19T12:00:00"), "expires"),
    "cancel-without-references": (cap_xml("c1", "Cancel", info=""), "references"),
}


@pytest.mark.parametrize(("body", "field"), BAD_CAP.values(), ids=BAD_CAP.keys())
def test_bad_cap_is_a_400_naming_the_element(make_caller, network, body, field):
    response = post_cap(make_caller("approver", PHU_LY), body)
    assert response.status_code == 400, response.json
    assert response.json["field"] == field
    assert broadcast_count(network) == 0


@pytest.mark.parametrize(
    ("status", "scope", "why"),
    [("Test", "Public", "status"), ("Exercise", "Public", "status"),
     ("Draft", "Public", "status"), ("Actual", "Restricted", "scope")],
)  # fmt: skip
def test_cap_that_is_not_for_the_air_is_recorded_and_not_aired(
    app, make_caller, network, status, scope, why
):
    approver = make_caller("approver", PHU_LY)
    message = cap_xml(status=status).replace(b"<scope>Public", f"<scope>{scope}".encode())
    answer = post_cap(approver, message)
    assert answer.status_code == 200, answer.json
    assert answer.json["aired"] is False and answer.json["status"] == "recorded"
    assert answer.json["reason"].startswith(f"{why}: ") and "not aired" in answer.json["reason"]
    assert answer.json["cap"]["status"] == status and answer.json["cap"]["scope"] == scope
    assert emergencies(app, station_token(network, QUANG_TRUNG)) == []
    assert broadcast_count(network) == 0
    again = post_cap(approver, message)  # recorded once, recognised when resent
    assert again.json["duplicate"] is True and again.json["id"] == answer.json["id"]
    listed = approver.get("/api/v1/alerts").json
    assert [a["id"] for a in listed] == [answer.json["id"]]


def test_cap_acks_and_unknown_references_are_refused(make_caller, network):
    approver = make_caller("approver", PHU_LY)
    ack = post_cap(approver, cap_xml(msg_type="Ack"))
    assert ack.status_code == 422 and ack.json["field"] == "msgType"
    unknown = post_cap(approver, cap_xml("c2", "Cancel", references="someone,nothing,x", info=""))
    assert unknown.status_code == 404 and unknown.json["field"] == "references"
    assert broadcast_count(network) == 0


def test_other_content_types_are_415(make_caller, network):
    approver = make_caller("approver", PHU_LY)
    response = approver.post(
        "/api/v1/alerts", data=json.dumps(alert()), headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415 and "cap+xml" in response.json["error"]


def test_unapproved_segments_do_not_air(make_caller, network):
    editor, approver = make_caller("editor", PHU_LY), make_caller("approver", PHU_LY)
    spoken = editor.post("/api/v1/segments/tts", json={"title": "Cảnh báo", "text": TEXT}).json
    response = approver.post(
        "/api/v1/alerts", json={"title": "t", "segment": spoken["id"], "targets": [QUANG_TRUNG]}
    )
    assert response.status_code == 422 and response.json["field"] == "segment"


# --- audit and push -------------------------------------------------------------------------


def test_issuing_and_cancelling_are_audited(make_caller, network):
    approver = make_caller("approver", PHU_LY)
    body = issue(approver, alert(repeat_every_s=600, repeat_count=2))
    approver.delete(f"/api/v1/alerts/{body['id']}")
    network.rollback()
    events = network.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "alert", AuditEvent.object_id == str(body["id"]))
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == ["alert.create", "alert.air", "alert.cancel"]
    created, aired = events[0], events[1]
    assert created.actor == approver.username and created.detail["targets"] == [QUANG_TRUNG]
    assert created.detail["repeat_every_s"] == 600 and len(aired.detail["airings"]) == 2
    assert created.detail["source"] == "json" and events[2].detail["via"] == "api"
    cancelled = network.scalars(
        select(AuditEvent.action).where(
            AuditEvent.object_type == "broadcast", AuditEvent.object_id == str(body["broadcast"])
        )
    ).all()
    assert cancelled == ["broadcast.cancel"]


def test_openapi_publishes_the_alert_request(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    body = spec["paths"]["/api/v1/alerts"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/cap+xml"} <= body.keys()
    fields = spec["components"]["schemas"]["AlertSpec"]["properties"]
    assert {"title", "segment", "text", "targets", "repeat_every_s", "repeat_count",
            "expires"} <= fields.keys()  # fmt: skip
    assert {"get", "delete"} <= spec["paths"]["/api/v1/alerts/{id}"].keys()


@pytest.fixture
def listener(mqtt_listen: Any) -> Any:
    return mqtt_listen(QUANG_TRUNG)


def next_alert(received: queue.Queue[dict[str, Any]]) -> dict[str, Any]:
    """The next message carrying an alert (other test runs may share the broker)."""
    while True:
        message = received.get(timeout=3)
        if "alert" in message:
            return message


class TestPushWithBroker:
    @pytest.fixture
    def app_overrides(self, broker_url: str) -> dict[str, Any]:
        return {"tts_engine": "espeak", "mqtt_url": broker_url}

    def test_an_alert_is_pushed_to_its_targets_with_the_new_revision(self, make_caller, listener):
        approver = make_caller("approver", PHU_LY)
        body = issue(approver, alert())
        revision = approver.get(f"/api/v1/stations/{QUANG_TRUNG}").json["schedule_revision"]
        assert next_alert(listener) == {
            "revision": revision,
            "alert": {
                "id": body["id"],
                "broadcast": body["broadcast"],
                "title": "Cảnh báo lũ sông Đáy",
                "start": NOW_LOCAL,
                "priority": "emergency",
            },
        }
        approver.delete(f"/api/v1/alerts/{body['id']}")
        cancelled = next_alert(listener)
        assert cancelled["alert"]["id"] == body["id"] and cancelled["alert"]["cancelled"] is True
        assert cancelled["revision"] == revision + 1


# --- repeat expansion (scheduler.station_timelines) ------------------------------------------

T0 = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def rule(**repeat: Any) -> Rule:
    return Rule(
        airing=Airing(1, "Cảnh báo", "program", "emergency", PHU_LY, 1, None, None),
        owner_depth=1,
        start_local=datetime(2026, 4, 20, 8, 0),
        timezone="Asia/Ho_Chi_Minh",
        duration=MIN,
        rrule=None,
        until=None,
        exdates=frozenset(),
        conflict="shift",
        max_delay=timedelta(minutes=30),
        targets=frozenset({QUANG_TRUNG}),
        **repeat,
    )


DAY = (T0 - timedelta(hours=8), T0 + timedelta(hours=16))


def starts(r: Rule, window: tuple[datetime, datetime] = DAY) -> list[datetime]:
    return [o.start for o in expand(r, window)]


def test_no_repeat_is_a_single_airing():
    assert starts(rule()) == [T0]
    assert starts(rule(expires_at=T0 + MIN)) == [T0]
    assert starts(rule(repeat_count=1)) == [T0]


def test_repeats_count_every_airing_the_first_included():
    found = starts(rule(repeat_every=10 * MIN, repeat_count=4))
    assert found == [T0, T0 + 10 * MIN, T0 + 20 * MIN, T0 + 30 * MIN]
    assert all(o.end - o.start == MIN and o.rank == 2 for o in expand(rule(), DAY))


def test_repeats_end_before_the_expiry():
    every = rule(repeat_every=10 * MIN, expires_at=T0 + 30 * MIN)
    assert starts(every) == [T0, T0 + 10 * MIN, T0 + 20 * MIN]
    both = rule(repeat_every=10 * MIN, repeat_count=2, expires_at=T0 + 60 * MIN)
    assert starts(both) == [T0, T0 + 10 * MIN]
    assert starts(rule(expires_at=T0)) == []  # expired before it began


def test_repeats_are_clipped_to_the_window():
    r = rule(repeat_every=10 * MIN, repeat_count=10)
    # 08:20:30–08:45: the 08:20 airing is still on, 08:50 is after the end.
    window = (T0 + 20 * MIN + timedelta(seconds=30), T0 + 45 * MIN)
    assert starts(r, window) == [T0 + 20 * MIN, T0 + 30 * MIN, T0 + 40 * MIN]
    assert starts(r, (T0 + timedelta(days=1), T0 + timedelta(days=2))) == []
    assert starts(r, (T0 - timedelta(days=1), T0)) == []


def test_repeat_starts_skipping_ahead_matches_walking_from_the_first():
    every = timedelta(seconds=97)
    walked = repeat_starts(T0, every, 100, None)
    for offset in range(0, 9000, 250):
        window = (T0 + timedelta(seconds=offset), T0 + timedelta(seconds=offset + 600))
        expected = [s for s in walked if s + MIN > window[0] and s < window[1]]
        assert repeat_starts(T0, every, 100, None, window, MIN) == expected
