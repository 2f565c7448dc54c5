"""Segments, TTS bulletins and programmes over the API, with real ffmpeg and espeak-ng."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.models import MediaFile, Segment
from tests.audio_fixtures import make_recording
from tests.upload_support import stored_files, upload

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it


def test_phone_recording_becomes_a_normalised_segment(app, make_caller, tmp_path):
    editor = make_caller("editor", "347")
    response = upload(editor, make_recording(tmp_path / "ghi-am.m4a"), campaign="xhht-2023-2030",
                      topic="nguoi-dan-tu-hoc")  # fmt: skip
    assert response.status_code == 201, response.json
    body = response.json
    assert body["status"] == "ready" and body["approval"] == "pending"
    assert body["loudness_lufs"] == pytest.approx(-16.0, abs=1.0)
    assert body["analysis"]["loudness_before_lufs"] < -25
    assert body["analysis"]["true_peak_after_dbtp"] <= -0.5
    # One second of leading and 1.5 s of trailing silence are trimmed, the tone is kept.
    assert 3500 <= body["duration_ms"] <= 4800
    assert body["campaign"] == "xhht-2023-2030" and body["topic"] == "nguoi-dan-tu-hoc"

    shown = editor.get(f"/api/v1/segments/{body['id']}")
    assert shown.json["sha256"] == body["sha256"]
    audio = editor.get(body["audio_url"], headers={"Range": "bytes=0-99"})
    assert audio.status_code == 206 and audio.mimetype == "audio/mpeg"
    assert len(audio.data) == 100


def test_the_list_filters_by_status_and_refuses_an_unknown_one(make_caller, tmp_path):
    editor = make_caller("editor", "347")
    ready = upload(editor, make_recording(tmp_path / "ghi-am.m4a")).json["id"]
    assert [s["id"] for s in editor.get("/api/v1/segments?status=ready").json] == [ready]
    assert editor.get("/api/v1/segments?status=failed").json == []
    wrong = editor.get("/api/v1/segments?status=san-sang")
    assert wrong.status_code == 400 and wrong.json["field"] == "status"
    assert "processing, ready, failed" in wrong.json["error"]


def test_the_same_recording_twice_is_stored_once(app, make_caller, tmp_path):
    editor = make_caller("editor", "347")
    path = make_recording(tmp_path / "a.m4a")
    first, second = upload(editor, path), upload(editor, path)
    assert first.json["sha256"] == second.json["sha256"]
    assert first.json["id"] != second.json["id"]
    assert len([p for p in stored_files(app) if p.suffix == ".mp3"]) == 1


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [
        ("random.mp3", os.urandom(20_000), 415),
        ("empty.wav", b"", 422),
        ("notes.txt", "Bản tin chưa ghi âm".encode(), 415),
    ],
    ids=["random-bytes", "zero-length", "text-file"],
)
def test_unplayable_uploads_are_refused_and_nothing_is_stored(
    app, make_caller, network, name, content, status
):
    editor = make_caller("editor", "347")
    response = editor.post(
        "/api/v1/segments",
        data={"title": "Hỏng", "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == status, response.json
    assert response.json["error"]
    assert network.scalar(select(func.count(Segment.id))) == 0
    assert [p for p in stored_files(app) if p.suffix == ".mp3"] == []


def test_missing_file_or_title_names_the_field(make_caller, tmp_path):
    editor = make_caller("editor", "347")
    no_file = editor.post(
        "/api/v1/segments", data={"title": "x"}, content_type="multipart/form-data"
    )
    assert no_file.status_code == 400 and no_file.json["field"] == "file"
    no_title = upload(editor, make_recording(tmp_path / "a.m4a"), title="")
    assert no_title.status_code == 400 and no_title.json["field"] == "title"


def test_operator_uploads_only_for_their_own_commune(make_caller, tmp_path):
    operator = make_caller("operator", "13285")
    path = make_recording(tmp_path / "a.m4a", seconds=2)
    assert upload(operator, path).status_code == 201
    assert upload(operator, path, owner="13291").status_code == 403


def test_tts_bulletin_is_spoken_offline_and_normalised(make_caller):
    editor = make_caller("editor", "347")
    response = editor.post(
        "/api/v1/segments/tts",
        json={
            "title": "Ngày Sách",
            "text": "UBND phường tổ chức Ngày Sách 21/4.",
            "voice": "north",
        },
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["engine"] == "espeak" and body["source"] == "tts"
    assert "Ủy ban nhân dân" in body["spoken_text"]
    assert body["loudness_lufs"] == pytest.approx(-16.0, abs=1.0)
    assert body["duration_ms"] > 1500


@pytest.mark.parametrize(
    ("text", "status"),
    [("", 400), ("   ", 400), ("... !!! ---", 400), ("a" * 20_001, 413)],
    ids=["empty", "blank", "punctuation", "too-long"],
)
def test_bad_bulletin_text_is_refused(make_caller, network, text, status):
    editor = make_caller("editor", "347")
    response = editor.post("/api/v1/segments/tts", json={"title": "x", "text": text})
    assert response.status_code == status
    assert response.json["field"] == "text"
    assert network.scalar(select(func.count(Segment.id))) == 0


def test_normalize_endpoint_shows_what_the_voice_reads(make_caller):
    editor = make_caller("editor", "347")
    response = editor.post("/api/v1/tts/normalize", json={"text": "HĐND xã họp lúc 17h30."})
    assert response.status_code == 200
    assert "Hội đồng nhân dân" in response.json["text"]
    assert "mười bảy giờ ba mươi" in response.json["text"]


def test_engines_are_listed_with_their_voices(make_caller):
    engines = make_caller("editor", "347").get("/api/v1/tts/engines").json
    by_name = {e["name"]: e for e in engines}
    assert by_name["espeak"]["available"] is True
    assert {"gtts", "espeak"} <= set(by_name)


def _ready_segment(caller: Any, tmp_path: Path, name: str, seconds: float) -> dict[str, Any]:
    response = upload(caller, make_recording(tmp_path / name, seconds=seconds), title=name)
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def test_programme_renders_and_airs_only_once_approved(make_caller, tmp_path):
    editor, approver = make_caller("editor", "347"), make_caller("approver", "347")
    first = _ready_segment(editor, tmp_path, "a.m4a", 3)
    second = _ready_segment(editor, tmp_path, "b.m4a", 2)
    created = editor.post(
        "/api/v1/programs",
        json={"title": "Chương trình sáng", "items": [
            {"segment": first["id"]}, {"silence_ms": 1000}, {"segment": second["id"]}]},
    )  # fmt: skip
    assert created.status_code == 201, created.json
    program = created.json
    expected = first["duration_ms"] + 1000 + second["duration_ms"]
    assert program["status"] == "ready"
    assert program["duration_ms"] == pytest.approx(expected, abs=300)
    broadcast = {
        "title": "Phát chương trình",
        "owner": "347",
        "kind": "program",
        "program": program["id"],
        "start": "2026-04-21T11:00:00",
        "targets": ["13285"],
    }
    # Scheduled before its bulletins are approved, even by an approver, it waits: it
    # cannot be approved (nor air) while one of them waits.
    waiting = approver.post("/api/v1/broadcasts", json=broadcast)
    assert waiting.status_code == 201 and waiting.json["status"] == "pending", waiting.json
    early = approver.post(f"/api/v1/broadcasts/{waiting.json['id']}/approve")
    assert early.status_code == 422 and early.json["field"] == "program"
    assert approver.get("/api/v1/stations/13285/timeline?from=2026-04-21").json == []
    for segment in (first, second):
        assert editor.post(f"/api/v1/segments/{segment['id']}/approve").status_code == 403
        assert approver.post(f"/api/v1/segments/{segment['id']}/approve").status_code == 200
    saved = approver.post(f"/api/v1/broadcasts/{waiting.json['id']}/approve")
    assert saved.status_code == 200 and saved.json["status"] == "approved", saved.json
    timeline = approver.get("/api/v1/stations/13285/timeline?from=2026-04-21").json
    airing = next(e for e in timeline if e["broadcast"] == saved.json["id"])
    assert airing["start"] == "2026-04-21T11:00:00+07:00"
    assert airing["end"].startswith("2026-04-21T11:00:0")  # the rendered length, a few seconds


def test_programme_refuses_unknown_or_unready_segments(make_caller):
    editor = make_caller("editor", "347")
    unknown = editor.post("/api/v1/programs", json={"title": "x", "items": [{"segment": 999}]})
    assert unknown.status_code == 400 and unknown.json["field"] == "items.0"
    silence_only = editor.post(
        "/api/v1/programs", json={"title": "x", "items": [{"silence_ms": 5}]}
    )
    assert silence_only.status_code == 400
    both = editor.post("/api/v1/programs",
                       json={"title": "x", "items": [{"segment": 1, "silence_ms": 5}]})  # fmt: skip
    assert both.status_code == 400


class TestInTheBackground:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"tts_engine": "espeak", "sync_audio_max_s": 0, "sync_tts_max_chars": 0}

    def test_long_upload_is_processed_in_the_background(self, make_caller, tmp_path):
        editor = make_caller("editor", "347")
        response = upload(editor, make_recording(tmp_path / "dai.m4a"))
        assert response.status_code == 202
        assert response.json["status"] == "processing"
        body = _poll(editor, response.json["id"])
        assert body["status"] == "ready"
        assert body["loudness_lufs"] == pytest.approx(-16.0, abs=1.0)

    def test_long_bulletin_is_spoken_in_the_background(self, make_caller, network):
        editor = make_caller("editor", "347")
        response = editor.post(
            "/api/v1/segments/tts", json={"title": "t", "text": "Xin chào bà con."}
        )
        assert response.status_code == 202
        body = _poll(editor, response.json["id"])
        assert body["status"] == "ready" and body["engine"] == "espeak"
        assert network.scalar(select(func.count(MediaFile.id))) == 1


def _poll(caller: Any, segment_id: int, timeout: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = caller.get(f"/api/v1/segments/{segment_id}").json
        if body["status"] != "processing":
            return body  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"segment {segment_id} still processing after {timeout} s")


class TestUploadLimit:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"tts_engine": "espeak", "max_upload_mb": 1}

    def test_an_upload_over_the_limit_is_refused_before_it_is_read(self, app, make_caller):
        editor = make_caller("editor", "347")
        big = io.BytesIO(os.urandom(2 * 1024 * 1024))
        response = editor.post(
            "/api/v1/segments",
            data={"title": "Quá lớn", "file": (big, "big.mp3")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 413
        assert "1 MB" in response.json["error"]
        assert stored_files(app) == []
