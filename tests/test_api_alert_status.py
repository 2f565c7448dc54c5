"""What the server says of an alert (issue #9): manifests that let it air as soon as received,
held manifest requests that answer the moment it is issued, and a per-station status that
agrees with what the agents reported — or did not.

Time is frozen at Monday 2026-04-20 08:00 in Hà Nam (01:00 UTC) unless a test moves it.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from scheduler import accounts
from tests.alert_support import issued
from tests.conftest import FROZEN_NOW
from tests.network_codes import LE_HONG_PHONG, PHU_LY, QUANG_TRUNG

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

TEXT = "Nước sông Đáy đang lên nhanh. Bà con vùng bãi khẩn trương di dời."


def alert(**overrides: Any) -> dict[str, Any]:
    return {"title": "Cảnh báo lũ sông Đáy", "text": TEXT, "targets": [QUANG_TRUNG], **overrides}


def token_for(network: Any, code: str) -> str:
    token = accounts.new_station_token(network, FROZEN_NOW, code)
    network.commit()
    return token


def as_agent(app: Any, token: str, method: str, url: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
    return app.test_client().open(url, method=method, headers=headers, **kw)


def alert_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in body["items"] if i.get("on_receipt")]


def play(item: dict[str, Any], status: str, **fields: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "item": item["id"], "broadcast": item["broadcast"],
            "scheduled_start": item["scheduled_start"], "status": status, **fields}  # fmt: skip


def test_alert_items_air_on_receipt_until_their_deadline(app, make_caller, network):
    token = token_for(network, QUANG_TRUNG)
    body = issued(app, make_caller("approver", PHU_LY),
                  alert(repeat_every_s=600, repeat_count=2))  # fmt: skip
    items = alert_items(as_agent(app, token, "GET", "/api/v1/agent/manifest").json)
    assert [i["start"] for i in items] == body["airings"]
    first, second = items
    assert first["alert"] == body["id"] and first["broadcast"] == body["broadcast"]
    # Each airing may still start until the next one is due; the last one until the alert
    # expires (an hour after its start when the sender gave no expiry).
    assert first["expires"] == second["start"] == "2026-04-20T08:10:00+07:00"
    assert second["expires"] == body["expires_at"] == "2026-04-20T09:10:00+07:00"


def test_an_airing_over_on_the_server_stays_in_the_manifest_until_it_expires(
    app, make_caller, network, frozen
):
    token = token_for(network, QUANG_TRUNG)
    body = issued(app, make_caller("approver", PHU_LY), alert(expires="2026-04-20T10:00:00"))
    frozen.move_to(FROZEN_NOW + timedelta(hours=1, minutes=10))  # 09:10: the window is 09–
    [late] = alert_items(as_agent(app, token, "GET", "/api/v1/agent/manifest").json)
    assert late["start"] == "2026-04-20T08:00:00+07:00"
    assert late["expires"] == "2026-04-20T10:00:00+07:00"
    assert [m["sha256"] for m in late["media"]] == [body["sha256"]]
    fetched = as_agent(app, token, "GET", f"/api/v1/media/{body['sha256']}")
    assert fetched.status_code == 200  # the station may fetch what it is still to air
    frozen.move_to(FROZEN_NOW + timedelta(hours=2, minutes=5))  # 10:05: expired
    assert alert_items(as_agent(app, token, "GET", "/api/v1/agent/manifest").json) == []


def test_a_held_manifest_request_is_answered_when_an_alert_is_issued(app, make_caller, network):
    token = token_for(network, QUANG_TRUNG)
    first = as_agent(app, token, "GET", "/api/v1/agent/manifest")
    etag = first.headers["ETag"]
    quiet = time.monotonic()
    unchanged = as_agent(app, token, "GET", "/api/v1/agent/manifest?wait=0.6",
                         headers={"If-None-Match": etag})  # fmt: skip
    assert unchanged.status_code == 304 and time.monotonic() - quiet >= 0.5  # it was held

    answers: list[Any] = []
    held = threading.Thread(
        target=lambda: answers.append(
            as_agent(
                app, token, "GET", "/api/v1/agent/manifest?wait=20", headers={"If-None-Match": etag}
            )
        )
    )
    held.start()
    time.sleep(0.5)  # the request is waiting now
    body = issued(app, make_caller("approver", PHU_LY), alert())
    ready = time.monotonic()
    held.join(10)
    assert not held.is_alive(), "the held request was not answered"
    assert time.monotonic() - ready < 5  # well before the 20 s it could wait
    [answer] = answers
    assert answer.status_code == 200 and answer.headers["ETag"] != etag
    assert [i["alert"] for i in alert_items(answer.json)] == [body["id"]]


def test_a_bad_wait_is_a_400(app, network):
    token = token_for(network, QUANG_TRUNG)
    for wait in ("soon", "-1", "nan"):
        answer = as_agent(app, token, "GET", f"/api/v1/agent/manifest?wait={wait}")
        assert answer.status_code == 400 and answer.json["field"] == "wait", wait


def test_the_status_tells_each_stations_truth(app, make_caller, network, frozen):
    """Quang Trung plays it in full; Lê Hồng Phong receives it, starts it, then says it was
    interrupted; Phủ Lý's own station and its 12 other communes never say a thing."""
    approver = make_caller("approver", PHU_LY)
    tokens = {code: token_for(network, code) for code in (QUANG_TRUNG, LE_HONG_PHONG)}
    body = issued(app, approver, alert(targets=[PHU_LY]))
    url = f"/api/v1/alerts/{body['id']}"

    def station(code: str) -> dict[str, Any]:
        shown = approver.get(url).json
        return next(s for s in shown["stations"] if s["station"] == code)

    item = alert_items(as_agent(app, tokens[QUANG_TRUNG], "GET", "/api/v1/agent/manifest").json)[0]
    assert station(QUANG_TRUNG)["status"] == "offline"  # never heard from
    received = (FROZEN_NOW + timedelta(seconds=1)).isoformat()
    beat = {"now": received, "alerts": [{"item": item["id"], "broadcast": item["broadcast"],
            "scheduled_start": item["scheduled_start"], "received_at": received}]}  # fmt: skip
    for code in tokens:
        assert as_agent(app, tokens[code], "POST", "/api/v1/agent/heartbeat",
                        json=beat).status_code == 200  # fmt: skip
    assert station(QUANG_TRUNG)["status"] == "received"
    beat["alerts"][0]["started_at"] = (FROZEN_NOW + timedelta(seconds=2)).isoformat()
    as_agent(app, tokens[LE_HONG_PHONG], "POST", "/api/v1/agent/heartbeat", json=beat)
    assert station(LE_HONG_PHONG)["status"] == "started"

    ended = FROZEN_NOW + timedelta(milliseconds=body["duration_ms"] + 2000)
    logs = {
        QUANG_TRUNG: play(item, "played", started_at=beat["alerts"][0]["started_at"],
                          ended_at=ended.isoformat(), alert_received_at=received),
        LE_HONG_PHONG: play(item, "interrupted", started_at=beat["alerts"][0]["started_at"],
                            ended_at=ended.isoformat(), detail="the agent was stopped"),
    }  # fmt: skip
    for code, log in logs.items():
        sent = as_agent(app, tokens[code], "POST", "/api/v1/agent/plays", json=[log])
        assert sent.json == {"accepted": 1, "duplicates": 0}
    shown = approver.get(url).json
    assert station(QUANG_TRUNG)["airings"][0]["received_at"] == "2026-04-20T08:00:01+07:00"
    assert station(LE_HONG_PHONG)["reason"] == "the agent was stopped"
    district = station(PHU_LY)
    assert district["status"] == "offline"
    # Counts agree with the rows; the alert is not done while a station may still air it.
    assert shown["counts"] == {"played": 1, "interrupted": 1, "offline": 13}
    assert sum(shown["counts"].values()) == shown["total"] == len(shown["stations"]) == 15
    assert shown["progress"] == "live"

    frozen.move_to(FROZEN_NOW + timedelta(hours=1, seconds=1))  # past the airing's deadline
    shown = approver.get(url).json
    assert station(PHU_LY)["status"] == "missed" and station(PHU_LY)["reason"] == "no report"
    assert shown["counts"] == {"played": 1, "interrupted": 1, "missed": 13}
    assert shown["progress"] == "done"


def test_alert_history_lists_the_areas_alerts_newest_first(app, make_caller, network):
    approver = make_caller("approver", PHU_LY)
    older = issued(app, approver, alert(title="Cảnh báo sạt lở"))
    newer = issued(app, approver, alert())
    listed = approver.get("/api/v1/alerts").json
    assert [a["id"] for a in listed][:2] == [newer["id"], older["id"]]
    assert listed[0]["created_by"] == approver.username and listed[0]["cap"]["sender"]
    elsewhere = make_caller("approver", "353").get("/api/v1/alerts").json  # Lý Nhân
    assert elsewhere == []
    assert approver.get("/api/v1/alerts?limit=many").status_code == 400


def test_alert_audio_stays_out_of_the_bulletin_list(app, make_caller, network):
    approver = make_caller("approver", PHU_LY)
    body = issued(app, approver, alert())
    ids = [s["id"] for s in approver.get("/api/v1/segments").json]
    assert body["segment"] not in ids
    everything = [s["id"] for s in approver.get("/api/v1/segments?alerts=1").json]
    assert body["segment"] in everything


def test_a_cancelled_alert_leaves_the_manifests_at_once(app, make_caller, network):
    approver = make_caller("approver", PHU_LY)
    token = token_for(network, QUANG_TRUNG)
    body = issued(app, approver, alert(repeat_every_s=600, repeat_count=3))
    assert len(alert_items(as_agent(app, token, "GET", "/api/v1/agent/manifest").json)) == 3
    assert approver.delete(f"/api/v1/alerts/{body['id']}").json["status"] == "cancelled"
    assert alert_items(as_agent(app, token, "GET", "/api/v1/agent/manifest").json) == []
    shown = approver.get(f"/api/v1/alerts/{body['id']}").json
    assert shown["progress"] == "cancelled" and shown["cancelled_at"]


def test_an_alert_that_expires_before_it_is_ready_fails_with_a_reason(
    app, make_caller, network, monkeypatch
):
    from scheduler import alerts

    real = alerts.prepare_alert

    def late(session: Any, settings: Any, alert: Any, now: datetime) -> None:
        real(session, settings, alert, now + timedelta(minutes=10))  # speaking took 10 min

    monkeypatch.setattr(alerts, "prepare_alert", late)
    approver = make_caller("approver", PHU_LY)
    answer = approver.post("/api/v1/alerts", json=alert(expires="2026-04-20T08:05:00"))
    assert answer.status_code == 202
    app.extensions["loaxa"]["jobs"].shutdown(wait=True)
    shown = approver.get(f"/api/v1/alerts/{answer.json['id']}").json
    assert shown["status"] == "failed" and "expired" in shown["reason"]
    assert shown["aired"] is False
