"""The week the compliance-report tests read (tests/test_api_reports.py through the API,
tests/test_panel_reports.py in the panel): Mon 13/4 – Sun 19/4/2026 at three wards of Phủ Lý,
each with a daily province relay 05:30–06:00 and a district programme 17:00–17:15 (14 airings,
315 minutes):

- Quang Trung airs everything in full;
- Lê Hồng Phong airs the programmes but only 20 of each relay's 30 minutes (partial);
- Châu Cầu's agent dies on Thursday morning: Mon–Wed played, then nothing is ever reported.

A test module uses the ``week`` fixture by importing it.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduler import accounts
from scheduler.dispatch import item_id
from tests.conftest import FROZEN_NOW
from tests.network_codes import CHAU_CAU, LE_HONG_PHONG, PHU_LY, PROVINCE, QUANG_TRUNG

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WARDS = [QUANG_TRUNG, LE_HONG_PHONG, CHAU_CAU]
WEEK = [date(2026, 4, 13) + timedelta(days=n) for n in range(7)]
DIED = date(2026, 4, 16)  # Thursday: Châu Cầu's agent is silent from here on


@pytest.fixture
def week(app: Any, make_caller: Any, make_program: Any, network: Any) -> dict[str, Any]:
    """Schedule the week and send what each ward's agent would have reported."""
    province = make_caller("admin", PROVINCE)
    district = make_caller("approver", PHU_LY)
    relay = province.post("/api/v1/broadcasts", json={
        "title": "Tiếp âm thời sự tỉnh", "owner": PROVINCE, "kind": "relay",
        "stream_url": "http://127.0.0.1:9/ha-nam.mp3", "start": "2026-04-13T05:30:00",
        "duration_s": 1800, "rrule": "FREQ=DAILY", "targets": WARDS})  # fmt: skip
    assert relay.status_code == 201, relay.json
    program = district.post("/api/v1/broadcasts", json={
        "title": "Bản tin học tập suốt đời", "owner": PHU_LY, "kind": "program",
        "program": make_program(PHU_LY, 15), "start": "2026-04-13T17:00:00",
        "rrule": "FREQ=DAILY", "targets": WARDS})  # fmt: skip
    assert program.status_code == 201, program.json
    ids = {"relay": relay.json["id"], "program": program.json["id"]}
    for ward in WARDS:
        token = accounts.new_station_token(network, FROZEN_NOW, ward)
        network.commit()
        logs = []
        for day in WEEK:
            if ward == CHAU_CAU and day >= DIED:
                continue
            relay_start = datetime(day.year, day.month, day.day, 5, 30, tzinfo=ZONE)
            aired = 20 if ward == LE_HONG_PHONG else 30
            logs.append(log(ids["relay"], relay_start, aired, "partial" if aired < 30 else
                            "played"))  # fmt: skip
            logs.append(log(ids["program"], relay_start.replace(hour=17, minute=0), 15, "played"))
        sent = app.test_client().post("/api/v1/agent/plays", json=logs,
                                      headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert sent.status_code == 200 and sent.json["accepted"] == len(logs), sent.json
    return {"district": district, "province": province, **ids}


def log(broadcast: int, start: datetime, minutes: int, status: str) -> dict[str, Any]:
    """A play log as an agent sends it: aired from ``start`` for ``minutes``."""
    return {"id": str(uuid.uuid4()), "item": item_id(broadcast, start), "broadcast": broadcast,
            "scheduled_start": start.isoformat(), "started_at": start.isoformat(),
            "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
            "status": status,
            "detail": None if status == "played" else "cut after 20:00.0"}  # fmt: skip
