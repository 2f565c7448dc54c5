"""CAP 1.2 messages in the shapes real senders use (tests/samples/cap/), and what they lead to:
the README table "CAP: from urgency and severity to the air".

Each sample says in its opening comment what it is modelled on and what must happen. The
sender's audio by URI is served by ``responses`` (the true outside edge); everything else —
the parser, the policy, ffmpeg ingesting the sender's MP3, espeak-ng speaking the text, the
database — is real. Time is frozen at Monday 2026-04-20 08:00 in Hà Nam (01:00 UTC).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import accounts
from scheduler.cap import parse_cap
from scheduler.cap_policy import Facts, decide
from scheduler.models import Broadcast
from tests.alert_support import finish_jobs
from tests.conftest import FROZEN_NOW
from tests.network_codes import LY_NHAN, PHU_LY, QUANG_TRUNG

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

SAMPLES = Path(__file__).parent / "samples" / "cap"
AUDIO_URI = "https://canhbao.kttv.gov.vn/audio/lu-song-day-20260420.mp3"
NOW_LOCAL = "2026-04-20T08:00:00+07:00"
TRANSLATION = "Dông mạnh kèm mưa đá. Bà con vào trong nhà kiên cố, tránh xa cửa kính."


def sample(name: str, **replace: str) -> bytes:
    data = (SAMPLES / name).read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in data, old
        data = data.replace(old, new)
    return data.encode()


def post(caller: Any, body: bytes) -> Any:
    response = caller.post(
        "/api/v1/alerts", data=body, headers={"Content-Type": "application/cap+xml"}
    )
    finish_jobs(caller.client.application)
    return response


def shown(caller: Any, alert_id: int) -> dict[str, Any]:
    response = caller.get(f"/api/v1/alerts/{alert_id}")
    assert response.status_code == 200, response.json
    return dict(response.json)


def spoken_text(caller: Any, alert: dict[str, Any]) -> str:
    return str(caller.get(f"/api/v1/segments/{alert['segment']}").json["text"])


def broadcasts(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count(Broadcast.id))) or 0


def manifest_items(app: Any, db: Session) -> list[dict[str, Any]]:
    token = accounts.new_station_token(db, FROZEN_NOW, QUANG_TRUNG)
    db.commit()
    response = app.test_client().get(
        "/api/v1/agent/manifest", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.json
    return list(response.json["items"])


@pytest.fixture
def approver(make_caller: Any) -> Any:
    return make_caller("approver", PHU_LY)


# --- not for the air ------------------------------------------------------------------------


def test_a_restricted_advisory_with_fresh_dates_is_recorded_not_aired(approver, network):
    answer = post(approver, sample("restricted-advisory.xml"))
    assert answer.status_code == 200, answer.json
    assert answer.json["aired"] is False and answer.json["outcome"] == "recorded"
    assert answer.json["reason"].startswith("scope: a Restricted message")
    assert broadcasts(network) == 0


def test_an_earthquake_update_replayed_from_2003_is_recorded_as_stale(approver, network):
    answer = post(approver, sample("earthquake-update-2003.xml"))
    assert answer.status_code == 200, answer.json
    assert answer.json["status"] == "recorded" and answer.json["aired"] is False
    assert answer.json["reason"].startswith("sent: the message was sent 8348 days ago")
    assert answer.json["cap"]["urgency"] == "Past" and answer.json["cap"]["severity"] == "Minor"
    assert broadcasts(network) == 0


def test_a_fresh_update_whose_event_is_past_is_recorded_not_aired(approver, network):
    fresh = sample("earthquake-update-2003.xml", **{"2003-06-11T20:56:00-07:00": NOW_LOCAL})
    answer = post(approver, fresh)
    assert answer.status_code == 200, answer.json
    assert answer.json["reason"].startswith("urgency: Past")
    assert answer.json["aired"] is False and broadcasts(network) == 0


# --- urgency, severity and onset ------------------------------------------------------------


def test_an_expected_storm_with_an_onset_is_scheduled_for_the_onset(app, approver, network):
    answer = post(approver, sample("kttv-storm-onset.xml"))
    assert answer.status_code == 202, answer.json
    alert = shown(approver, answer.json["id"])
    assert alert["status"] == "ready" and alert["outcome"] == "scheduled"
    assert alert["priority"] == "emergency"
    assert alert["starts_at"] == "2026-04-20T14:00:00+07:00"
    assert alert["airings"] == ["2026-04-20T14:00:00+07:00"]  # not at 08:00, when it came
    assert all(i["start"] != NOW_LOCAL for i in manifest_items(app, network))


def test_a_moderate_heat_advisory_is_a_priority_bulletin_not_an_emergency(app, approver, network):
    answer = post(approver, sample("kttv-heat-moderate.xml"))
    assert answer.status_code == 202, answer.json
    alert = shown(approver, answer.json["id"])
    assert alert["outcome"] == "priority" and alert["priority"] == "priority"
    assert alert["airings"] == [NOW_LOCAL]
    items = [i for i in manifest_items(app, network) if i["broadcast"] == alert["broadcast"]]
    assert [i["priority"] for i in items] == ["priority"]


class TestMinorRecorded:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"tts_engine": "espeak", "cap_minor_policy": "record"}

    def test_the_record_policy_keeps_a_moderate_advisory_off_the_air(self, approver, network):
        answer = post(approver, sample("kttv-heat-moderate.xml"))
        assert answer.status_code == 200, answer.json
        assert answer.json["aired"] is False and answer.json["outcome"] == "recorded"
        assert "cap_minor_policy = record" in answer.json["reason"]
        assert broadcasts(network) == 0


# --- language -------------------------------------------------------------------------------


def test_the_vietnamese_info_is_spoken_even_when_english_comes_first(approver, network):
    answer = post(approver, sample("kttv-flood-bilingual.xml"))
    assert answer.status_code == 202, answer.json
    alert = shown(approver, answer.json["id"])
    assert alert["status"] == "ready" and alert["outcome"] == "emergency"
    assert alert["title"] == "Cảnh báo lũ trên sông Đáy" and alert["cap"]["language"] == "vi-VN"
    assert spoken_text(approver, alert).startswith("Nước sông Đáy đang lên nhanh.")


def test_an_english_only_warning_waits_for_a_translation_then_airs_it(app, approver, network):
    answer = post(approver, sample("nws-severe-thunderstorm.xml"))
    assert answer.status_code == 200, answer.json
    assert answer.json["aired"] is False and answer.json["outcome"] == "awaiting_translation"
    assert answer.json["reason"].startswith("language: the message has no Vietnamese <info>")
    assert "en-US" in answer.json["reason"] and broadcasts(network) == 0
    alert_id = answer.json["id"]

    bad = approver.post(f"/api/v1/alerts/{alert_id}/translation", json={"text": "  "})
    assert bad.status_code == 400 and bad.json["field"] == "text"
    translated = approver.post(f"/api/v1/alerts/{alert_id}/translation", json={"text": TRANSLATION})
    assert translated.status_code == 202, translated.json
    finish_jobs(app)
    alert = shown(approver, alert_id)
    assert alert["status"] == "ready" and alert["outcome"] == "emergency"
    assert alert["airings"] == [NOW_LOCAL]
    assert spoken_text(approver, alert).startswith(TRANSLATION)  # never the English words
    assert alert["note"].startswith(f"translated by {approver.username}")
    again = approver.post(f"/api/v1/alerts/{alert_id}/translation", json={"text": TRANSLATION})
    assert again.status_code == 422 and broadcasts(network) == 1


class TestNoVietnameseRefused:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"tts_engine": "espeak", "cap_no_vietnamese": "refuse"}

    def test_the_refuse_policy_records_it_with_the_reason(self, approver, network):
        answer = post(approver, sample("nws-severe-thunderstorm.xml"))
        assert answer.status_code == 200, answer.json
        assert answer.json["outcome"] == "recorded"
        assert "cap_no_vietnamese = refuse" in answer.json["reason"]
        late = approver.post(f"/api/v1/alerts/{answer.json['id']}/translation",
                             json={"text": TRANSLATION})  # fmt: skip
        assert late.status_code == 422 and broadcasts(network) == 0


# --- the sender's own audio -----------------------------------------------------------------


def audio_bytes() -> bytes:
    return (SAMPLES / "lu-song-day-20260420.mp3").read_bytes()


def assert_sender_audio(alert: dict[str, Any]) -> None:
    """The 3 s recording aired, not the ~6 s of words espeak-ng would speak."""
    assert alert["status"] == "ready", alert
    assert alert["note"] == "the sender's own recording (CAP resource) is aired"
    assert 2500 <= alert["duration_ms"] <= 3500


def test_embedded_deref_audio_is_aired_instead_of_the_words(approver, network):
    answer = post(approver, sample("kttv-flood-deref.xml"))
    assert answer.status_code == 202, answer.json
    alert = shown(approver, answer.json["id"])
    assert_sender_audio(alert)
    assert alert["resource"] == {"uri": None, "embedded": True, "mime": "audio/mpeg",
                                 "digest": hashlib.sha1(audio_bytes()).hexdigest()}  # fmt: skip


def test_audio_from_a_host_not_allowed_falls_back_to_the_words_with_a_note(approver, network):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as served:
        served.get(AUDIO_URI, body=audio_bytes(), content_type="audio/mpeg")
        alert = shown(approver, post(approver, sample("kttv-flood-audio-uri.xml")).json["id"])
        assert len(served.calls) == 0  # never fetched
    assert alert["status"] == "ready" and alert["duration_ms"] > 4000
    assert "host canhbao.kttv.gov.vn is not in cap_resource_hosts" in alert["note"]
    assert alert["note"].endswith("the text was spoken instead")
    assert spoken_text(approver, alert).startswith("Nước sông Đáy vượt báo động ba.")


class TestAllowedHost:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"tts_engine": "espeak", "cap_resource_hosts": "kttv.gov.vn"}

    def test_audio_by_uri_is_fetched_ingested_and_aired(self, approver, network):
        with responses.RequestsMock() as served:
            served.get(AUDIO_URI, body=audio_bytes(), content_type="audio/mpeg")
            alert = shown(approver, post(approver, sample("kttv-flood-audio-uri.xml")).json["id"])
        assert_sender_audio(alert)
        assert alert["resource"]["uri"] == AUDIO_URI

    def test_audio_that_does_not_match_its_digest_is_not_aired(self, approver, network):
        with responses.RequestsMock() as served:
            served.get(AUDIO_URI, body=audio_bytes()[:-500], content_type="audio/mpeg")
            alert = shown(approver, post(approver, sample("kttv-flood-audio-uri.xml")).json["id"])
        assert alert["status"] == "ready" and alert["duration_ms"] > 4000
        assert "does not match the message's SHA-1 digest" in alert["note"]

    def test_a_sender_that_answers_404_falls_back_to_the_words(self, approver, network):
        with responses.RequestsMock() as served:
            served.get(AUDIO_URI, status=404)
            alert = shown(approver, post(approver, sample("kttv-flood-audio-uri.xml")).json["id"])
        assert alert["status"] == "ready"
        assert f"{AUDIO_URI} answered HTTP 404" in alert["note"]


# --- export ---------------------------------------------------------------------------------


def test_an_alert_exports_as_cap_that_reads_back(approver, make_caller, network):
    answer = post(approver, sample("kttv-storm-onset.xml"))
    exported = approver.get(f"/api/v1/alerts/{answer.json['id']}.cap")
    assert exported.status_code == 200
    assert exported.mimetype == "application/cap+xml"
    back = parse_cap(exported.data)
    assert (back.identifier, back.sender) == ("KTTV-2026-0420-S1", "kttv-ha-nam@example.vn")
    assert back.headline == "Cảnh báo dông lốc chiều nay" and back.targets == (QUANG_TRUNG,)
    assert (back.urgency, back.severity, back.language) == ("Expected", "Severe", "vi-VN")
    assert back.effective == "2026-04-20T14:00:00+07:00"
    assert back.parameters["loaxa:outcome"] == "scheduled"

    outsider = make_caller("operator", LY_NHAN)
    assert outsider.get(f"/api/v1/alerts/{answer.json['id']}.cap").status_code == 403
    assert approver.get("/api/v1/alerts/999999.cap").status_code == 404


def test_a_json_alert_exports_as_an_immediate_actual_public_message(approver, network):
    body = {"title": "Cảnh báo lũ", "text": "Nước lên nhanh.", "targets": [QUANG_TRUNG]}
    created = approver.post("/api/v1/alerts", json=body)
    finish_jobs(approver.client.application)
    back = parse_cap(approver.get(f"/api/v1/alerts/{created.json['id']}.cap").data)
    assert (back.status, back.msg_type, back.scope) == ("Actual", "Alert", "Public")
    assert (back.urgency, back.severity) == ("Immediate", "Severe")
    assert back.description == "Nước lên nhanh." and back.sender == approver.username


# --- the table (scheduler.cap_policy, pure) -------------------------------------------------

NOW = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
SOON = NOW + timedelta(hours=6)


@pytest.mark.parametrize(
    ("urgency", "severity", "certainty", "onset", "policy", "outcome", "priority"),
    [
        ("Immediate", "Extreme", "Observed", None, "priority", "emergency", "emergency"),
        ("Expected", "Severe", "Likely", None, "priority", "emergency", "emergency"),
        ("Expected", "Severe", "Likely", SOON, "priority", "scheduled", "emergency"),
        ("Immediate", "Moderate", "Observed", None, "priority", "priority", "priority"),
        ("Future", "Severe", "Possible", None, "priority", "priority", "priority"),
        ("Unknown", "Unknown", "Unknown", None, "priority", "priority", "priority"),
        ("Expected", "Minor", "Likely", SOON, "priority", "scheduled", "priority"),
        ("Immediate", "Minor", "Observed", None, "record", "recorded", None),
        ("Past", "Extreme", "Observed", None, "priority", "recorded", None),
        ("Immediate", "Extreme", "Unlikely", None, "priority", "recorded", None),
    ],
)
def test_the_mapping_table(urgency, severity, certainty, onset, policy, outcome, priority):
    facts = Facts(NOW - timedelta(minutes=2), urgency, severity, certainty, onset=onset)
    decided = decide(facts, NOW, timedelta(hours=6), policy)
    assert decided.outcome == outcome
    assert (decided.priority.value if decided.priority else None) == priority
    assert decided.starts_at == (onset if outcome == "scheduled" else None)
    assert (decided.reason is not None) == (outcome == "recorded")


def test_an_onset_already_past_airs_now_and_a_stale_message_is_recorded():
    past = Facts(NOW - timedelta(hours=1), "Immediate", "Severe", onset=NOW - timedelta(hours=1))
    assert decide(past, NOW, timedelta(hours=6), "priority").outcome == "emergency"
    old = Facts(NOW - timedelta(hours=7), "Immediate", "Extreme", "Observed")
    decided = decide(old, NOW, timedelta(hours=6), "priority")
    assert decided.outcome == "recorded" and decided.reason.startswith(
        "sent: the message was sent 7.0 h ago"
    )
