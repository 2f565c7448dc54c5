"""The station's ``.ics`` feed as a phone calendar lives with it (issue #16 item 6): an airing
keeps its UID when a higher broadcast shifts it, so the phone moves the event instead of
deleting and re-adding it (and losing the reminder set on it); SEQUENCE grows and
DESCRIPTION says why it moved; the feed answers ``304`` to an unchanged ``If-None-Match``.

Time is frozen at Monday 2026-04-20 08:00 in Hà Nam (01:00 UTC); parsed with icalendar, as
a calendar client would.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from scheduler import accounts
from tests.conftest import FROZEN_NOW
from tests.network_codes import PHU_LY, PROVINCE, QUANG_TRUNG

pytestmark = pytest.mark.usefixtures("fast_passwords")

FEED = f"/stations/{QUANG_TRUNG}/schedule.ics"
TUESDAY = "2026-04-21"
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def create(caller: Any, body: dict[str, Any]) -> dict[str, Any]:
    response = caller.post("/api/v1/broadcasts", json=body)
    assert response.status_code == 201, response.json
    return dict(response.json)


def relay(**overrides: Any) -> dict[str, Any]:
    """The province's news, Tuesday 17:00–17:30, for the whole province."""
    return {
        "title": "Thời sự tỉnh",
        "owner": PROVINCE,
        "kind": "relay",
        "stream_url": "http://127.0.0.1:9/tinh.mp3",
        "start": f"{TUESDAY}T17:00:00",
        "duration_s": 1800,
        "targets": [PROVINCE],
        **overrides,
    }


def events(caller: Any, title: str) -> list[Any]:
    """The feed's events of the broadcast so titled, in time order."""
    response = caller.get(FEED)
    assert response.status_code == 200, response.get_data(True)
    found = Calendar.from_ical(response.data).walk("VEVENT")
    return sorted((e for e in found if title in str(e["SUMMARY"])), key=lambda e: e["DTSTART"].dt)


@pytest.fixture
def lesson(make_caller: Any, make_program: Any) -> dict[str, Any]:
    """Phủ Lý's 15-minute programme on Tuesday at 17:10 (it shifts when it collides)."""
    body = {
        "title": "Học tập suốt đời",
        "owner": PHU_LY,
        "kind": "program",
        "program": make_program(PHU_LY, minutes=15),
        "start": f"{TUESDAY}T17:10:00",
    }
    return create(make_caller("approver", PHU_LY), body)


def test_a_shifted_airing_keeps_its_uid(make_caller, lesson, frozen):
    operator = make_caller("operator", QUANG_TRUNG)
    [before] = events(operator, "Học tập suốt đời")
    assert before.decoded("DTSTART") == datetime(2026, 4, 21, 17, 10, tzinfo=HCM)
    assert str(before["SUMMARY"]) == f"Chương trình: Học tập suốt đời (#{lesson['id']})"

    frozen.shift(timedelta(hours=2))  # the province adds its news later that morning
    news = create(make_caller("admin", PROVINCE), relay())
    [after] = events(operator, "Học tập suốt đời")

    assert str(after["UID"]) == str(before["UID"]), "the phone would delete and re-add it"
    assert after.decoded("DTSTART") == datetime(2026, 4, 21, 17, 30, tzinfo=HCM)
    assert after.decoded("DTEND") == datetime(2026, 4, 21, 17, 45, tzinfo=HCM)
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("LAST-MODIFIED") == FROZEN_NOW + timedelta(hours=2)
    assert before.decoded("LAST-MODIFIED") == FROZEN_NOW
    description = str(after["DESCRIPTION"])
    assert "Dời từ 17:10 sang 17:30 vì trùng giờ với «Thời sự tỉnh»." in description
    assert "Dời" not in str(before["DESCRIPTION"])
    [shown] = events(operator, "Thời sự tỉnh")
    assert str(shown["SUMMARY"]) == f"Tiếp âm: Thời sự tỉnh (#{news['id']})"


def test_a_truncated_relay_is_one_event_per_part_with_its_own_uid(make_caller):
    admin = make_caller("admin", PROVINCE)
    news = create(admin, relay(conflict="truncate"))
    create(admin, relay(title="Thông báo khẩn", priority="priority",
                        start=f"{TUESDAY}T17:10:00", duration_s=300))  # fmt: skip
    parts = events(make_caller("operator", QUANG_TRUNG), "Thời sự tỉnh")

    assert [p.decoded("DTSTART").astimezone(HCM).strftime("%H:%M") for p in parts] == [
        "17:00",
        "17:15",
    ]
    assert [str(p["UID"]) for p in parts] == [
        f"{news['id']}-20260421T100000Z@loaxa",
        f"{news['id']}-20260421T100000Z-2@loaxa",
    ]
    assert "Cắt bớt: chỉ phát 17:15–17:30 vì trùng giờ với «Thông báo khẩn»." in str(
        parts[1]["DESCRIPTION"]
    )


def test_the_feed_answers_304_until_the_schedule_changes(make_caller, lesson):
    operator = make_caller("operator", QUANG_TRUNG)
    first = operator.get(FEED)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/"), "a strong validator"
    assert operator.get(FEED).headers["ETag"] == etag, "the same schedule, the same bytes"

    unchanged = operator.get(FEED, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["ETag"] == etag

    create(make_caller("admin", PROVINCE), relay())
    changed = operator.get(FEED, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.mimetype == "text/calendar"
    assert changed.headers["ETag"] != etag
    assert changed.data != first.data

    # A token in the query (a phone's subscription) gets the same answers; none, no feed.
    phone = operator.client.get(f"{FEED}?token={operator.token}",
                                headers={"If-None-Match": changed.headers["ETag"]})  # fmt: skip
    assert phone.status_code == 304
    assert operator.client.get(FEED, headers={"If-None-Match": etag}).status_code == 401


def test_what_the_station_reported_is_in_the_description(app, make_caller, network):
    vov = create(make_caller("admin", PROVINCE), relay(
        title="Tiếp âm Thời sự VOV1", start="2026-04-19T06:00:00", rrule="FREQ=DAILY",
        duration_s=1800))  # fmt: skip
    token = accounts.new_station_token(network, FROZEN_NOW, QUANG_TRUNG)
    network.commit()
    yesterday, today = (datetime(2026, 4, d, 6, 0, tzinfo=HCM).astimezone(UTC) for d in (19, 20))
    logs = [
        {"id": str(uuid.uuid4()), "item": f"{vov['id']}-{yesterday:%Y%m%dT%H%M%SZ}",
         "broadcast": vov["id"], "scheduled_start": yesterday.isoformat(), "started_at": None,
         "ended_at": None, "status": "missed",
         "detail": "the media is not in the cache and could not be fetched"},
        {"id": str(uuid.uuid4()), "item": f"{vov['id']}-{today:%Y%m%dT%H%M%SZ}",
         "broadcast": vov["id"], "scheduled_start": today.isoformat(),
         "started_at": (today + timedelta(seconds=2)).isoformat(),
         "ended_at": (today + timedelta(minutes=30)).isoformat(), "status": "played",
         "detail": None},
    ]  # fmt: skip
    sent = app.test_client().post(
        "/api/v1/agent/plays", json=logs, headers={"Authorization": f"Bearer {token}"}
    )
    assert sent.status_code == 200, sent.json

    feed = Calendar.from_ical(make_caller("operator", QUANG_TRUNG).get(FEED).data)
    said = {
        e.decoded("DTSTART").astimezone(HCM).date().day: str(e["DESCRIPTION"])
        for e in feed.walk("VEVENT")
    }
    assert "Bỏ lỡ — Máy trạm chưa có tệp âm thanh và không tải về được" in said[19]
    assert "Đã phát — thực tế 06:00–06:30" in said[20]
    assert "Đã phát" not in said[21] and "Bỏ lỡ" not in said[21]  # not aired yet
