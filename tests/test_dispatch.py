"""Manifests built a province at a time equal those built one station at a time.

Time is frozen at Monday 2026-04-20 08:00 in Hà Nam (01:00 UTC).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from scheduler.dispatch import build_manifest, build_manifests
from scheduler.models import MediaFile, Program, Station
from scheduler.station_timelines import station_timeline
from tests.alert_support import finish_jobs
from tests.conftest import FROZEN_NOW

MEDIA_URL = "http://loaxa.test/api/v1/media/{sha256}"


def rendered(db: Any, make_program: Any, owner: str, minutes: int) -> int:
    """A ready programme with a media file row (its file is never fetched here)."""
    program = db.get(Program, make_program(owner, minutes))
    program.media_file = MediaFile(
        sha256=f"{owner:0>8}{minutes:0>56}", bytes=minutes * 960_000,
        duration_ms=minutes * 60_000, created_at=FROZEN_NOW,
    )  # fmt: skip
    db.commit()
    return program.id


def broadcast(**fields: Any) -> dict[str, Any]:
    return {"kind": "program", "rrule": "FREQ=DAILY", **fields}


def test_a_province_built_at_once_gives_each_station_the_same_manifest_bytes(
    app, network, make_caller, make_program
):
    """A relay cut by an alert, programmes at province, district and commune level (one
    pushed later, one pre-empted for good) and the alert itself."""
    province, district = make_caller("admin", "35"), make_caller("admin", "347")
    posted = [
        province.post("/api/v1/broadcasts", json=broadcast(
            title="Tiếp âm VOV1", owner="35", kind="relay", rrule="FREQ=DAILY",
            stream_url="http://127.0.0.1:9/vov1.mp3", start="2026-04-20T07:30:00",
            duration_s=3600)),
        province.post("/api/v1/broadcasts", json=broadcast(
            title="Bản tin tỉnh", owner="35", program=rendered(network, make_program, "35", 20),
            start="2026-04-20T11:00:00")),
        district.post("/api/v1/broadcasts", json=broadcast(
            title="Bản tin Phủ Lý", owner="347", program=rendered(network, make_program, "347", 15),
            start="2026-04-20T11:10:00", conflict="shift", max_delay_s=1800)),
        district.post("/api/v1/broadcasts", json=broadcast(
            title="Nhắc lịch", owner="347", program=rendered(network, make_program, "347", 5),
            start="2026-04-20T11:05:00", conflict="skip", targets=["13285"])),
        province.post("/api/v1/alerts", json={
            "title": "Cảnh báo lũ sông Đáy", "targets": ["347"],
            "text": "Nước sông Đáy đang lên nhanh, bà con khẩn trương di dời."}),
    ]  # fmt: skip
    assert all(r.status_code in (201, 202) for r in posted), [r.json for r in posted]
    finish_jobs(app)  # the alert's words are spoken after its answer

    settings = app.extensions["loaxa"]["settings"]
    network.expire_all()
    stations = list(network.scalars(select(Station).order_by(Station.depth, Station.code)))
    at_once = build_manifests(network, settings, stations, FROZEN_NOW, MEDIA_URL)

    assert sorted(at_once) == sorted(s.code for s in stations)
    for station in stations:
        alone = build_manifest(network, settings, station, FROZEN_NOW, MEDIA_URL)
        together = at_once[station.code]
        assert json.dumps(together.body, sort_keys=True) == json.dumps(alone.body, sort_keys=True)
        assert (together.etag, together.media) == (alone.etag, alone.media)

    # The schedule exercised what it was meant to: a cut relay, a shift, a pre-emption.
    quang_trung = at_once["13285"].body["items"]
    outcomes = {(i["title"], i["outcome"]) for i in quang_trung}
    assert ("Cảnh báo lũ sông Đáy", "scheduled") in outcomes
    assert ("Tiếp âm VOV1", "truncated") in outcomes
    assert ("Bản tin Phủ Lý", "shifted") in outcomes
    assert at_once["13285"].media and at_once["35"].body["items"]  # programmes with media
    timeline = station_timeline(
        network,
        next(s for s in stations if s.code == "13285"),
        FROZEN_NOW.date(),
        (FROZEN_NOW + timedelta(days=1)).date(),
        timedelta(seconds=settings.min_fragment_s),
    )
    assert any(e.outcome == "preempted" for e in timeline)
