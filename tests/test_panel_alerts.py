"""Emergency alerts from the panel: only approvers and admins, inside their area, confirmed
twice; bad input explained next to its field with the values kept; the alert's audio made in
a job (the page says so meanwhile); the status page showing, station by station, what the
agents reported — counts that agree with the rows, reasons in Vietnamese, silent stations
counted — refreshed from a panel endpoint; the history; cancelling.

Time is frozen at Monday 20 April 2026, 08:00 in Hà Nam (01:00 UTC) unless a test moves it.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from audio.tts.base import TtsError
from scheduler import accounts
from scheduler import alerts as service
from scheduler.dispatch import item_id
from scheduler.models import Alert, AlertState, AuditEvent, Broadcast, BroadcastStatus, Station
from tests.alert_support import finish_jobs
from tests.conftest import FROZEN_NOW
from tests.network_codes import (
    CHAU_CAU,
    COMMUNE,
    DISTRICT,
    LE_HONG_PHONG,
    OTHER_COMMUNE,
    OTHER_DISTRICT,
)
from tests.panel_support import Panel, field_errors, input_value, untranslated

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

TITLE = "Cảnh báo lũ sông Đáy"
TEXT = "Nước sông Đáy đang lên nhanh. Bà con vùng bãi khẩn trương di dời người và tài sản."
NOT_RUNNING = "not aired here: the agent was not running or did not have the media in time"


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _form(**overrides: Any) -> dict[str, Any]:
    return {
        "title": TITLE,
        "targets": [COMMUNE],
        "source": "text",
        "text": TEXT,
        "segment": "",
        "repeat_every_s": "",
        "repeat_count": "",
        "expires": "",
        "confirm": "y",
        "confirm_title": TITLE,
        **overrides,
    }


def _issue(client: Any, app: Any, **overrides: Any) -> int:
    """Issue from the form and wait for the job that speaks it."""
    response = client.form_post("/alerts/new", _form(**overrides))
    assert response.status_code == 302, response.get_data(as_text=True)
    found = re.fullmatch(r"/alerts/(\d+)", response.location)
    assert found, response.location
    finish_jobs(app)
    return int(found.group(1))


def _alert(panel: Panel, alert_id: int) -> Alert:
    panel.db.expire_all()
    alert = panel.db.get(Alert, alert_id)
    assert alert is not None
    return alert


def _row(html: str, code: str) -> str:
    found = re.search(rf'<tr data-code="{code}" data-state="(\w+)">(.*?)</tr>', html, re.S)
    assert found, code
    return f"{found.group(1)}|{found.group(2)}"


def _counts(html: str) -> dict[str, int]:
    """The summary's line per state: ``{"played": 1, ...}``."""
    found = re.findall(r'<li data-state="(\w+)">.*?<strong class="num">(\d+)</strong>', html, re.S)
    return {state: int(n) for state, n in found}


def _row_states(html: str) -> dict[str, int]:
    states: dict[str, int] = {}
    for state in re.findall(r'<tr data-code="\w+" data-state="(\w+)">', html):
        states[state] = states.get(state, 0) + 1
    return states


# --- The agents, through their API ----------------------------------------------------------


class Agent:
    """A station's agent: heartbeats (with the alerts it holds) and play logs, as it sends them."""

    def __init__(self, app: Any, network: Any, code: str) -> None:
        self.app = app
        self.token = accounts.new_station_token(network, FROZEN_NOW, code)
        network.commit()

    def _post(self, url: str, body: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        response = self.app.test_client().post(url, json=body, headers=headers)
        assert response.status_code == 200, response.get_json()
        return response

    def heartbeat(self, now: datetime, holds: list[dict[str, Any]] | None = None) -> None:
        self._post("/api/v1/agent/heartbeat", {
            "agent_version": "0.1.0", "now": now.isoformat(), "playing": None,
            "disk_free_bytes": 5_000_000_000, "alerts": holds or [],
        })  # fmt: skip

    def play(self, broadcast: int, start: datetime, status: str, **fields: Any) -> None:
        body = {"id": str(uuid.uuid4()), "item": item_id(broadcast, start), "broadcast": broadcast,
                "scheduled_start": start.isoformat(), "status": status, **fields}  # fmt: skip
        assert self._post("/api/v1/agent/plays", [body]).get_json()["accepted"] == 1


# --- Who may issue, and the form -------------------------------------------------------------


@pytest.mark.parametrize(("role", "home"), [("editor", DISTRICT), ("operator", COMMUNE)])
def test_editors_and_operators_cannot_issue_alerts(panel: Panel, role: str, home: str) -> None:
    client = panel.client(role, home)
    assert client.get("/alerts/new").status_code == 403
    assert client.get("/alerts").status_code == 403
    assert client.form_post("/alerts/new", _form(), page="/").status_code == 403
    assert "/alerts/new" not in client.get("/").get_data(as_text=True)  # not in the menu
    assert panel.db.scalar(select(Alert)) is None


@pytest.mark.parametrize(("role", "home"), [("approver", DISTRICT), ("admin", "35")])
def test_approvers_and_admins_see_the_guarded_form(panel: Panel, role: str, home: str) -> None:
    client = panel.client(role, home)
    assert '<a href="/alerts/new"' in client.get("/").get_data(as_text=True)
    page = client.get("/alerts/new").get_data(as_text=True)
    assert "Tôi xác nhận phát khẩn cấp" in page and "Gõ lại tiêu đề để xác nhận" in page
    assert f'value="{COMMUNE}"' in page
    if role == "approver":
        assert f'value="{OTHER_COMMUNE}"' not in page  # only their area is offered


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"confirm": ""}, "confirm", "Hãy đánh dấu xác nhận"),
        ({"confirm_title": "Cảnh báo lũ"}, "confirm_title", "gõ lại đúng tiêu đề"),
        ({"title": "", "confirm_title": ""}, "title", "Hãy nhập tiêu đề"),
        ({"targets": []}, "targets", "ít nhất một đài"),
        ({"targets": [OTHER_COMMUNE]}, "targets", "trong phạm vi của bạn"),
        ({"text": "  ...  "}, "text", "văn bản cần đọc"),
        ({"text": ""}, "text", "văn bản cần đọc"),
        ({"source": "segment"}, "segment", "không phát được"),
        ({"source": "segment", "segment": "999"}, "segment", "trong danh sách"),
        ({"source": "radio"}, "source", "trong danh sách"),
        ({"repeat_count": "3"}, "repeat_count", "khoảng cách giữa các lần phát"),
        ({"repeat_every_s": "600"}, "repeat_count", "khoảng cách giữa các lần phát"),
        ({"repeat_every_s": "mười"}, "repeat_every_s", "số nguyên"),
        ({"repeat_count": "1000", "repeat_every_s": "600"}, "repeat_count", "từ 1 đến 100"),
        ({"expires": "hôm qua"}, "expires", "20/4/2026 09:30"),
        ({"expires": "2026-04-19T08:00"}, "expires", "ở tương lai"),
        ({"expires": "2026-05-19T08:00"}, "expires", "trong vòng 7 ngày"),
    ],
)
def test_bad_alert_input_is_explained_and_kept(
    panel: Panel, overrides: dict[str, Any], field: str, message: str
) -> None:
    client = panel.client("approver", DISTRICT)
    response = client.form_post("/alerts/new", _form(**overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    shown = field_errors(page, field)
    assert any(message in m for m in shown), (field, shown)
    if field != "title":
        assert input_value(page, "title") == TITLE
    assert panel.db.scalar(select(Alert)) is None


# --- The status page -------------------------------------------------------------------------


def test_the_page_says_the_audio_is_being_prepared_until_the_job_is_done(
    panel: Panel, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = service.prepare_job
    monkeypatch.setattr(service, "prepare_job", lambda *_args: None)  # the job has not run yet
    client = panel.client("approver", DISTRICT)
    alert_id = _issue(client, app)
    html = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert "Đang chuẩn bị âm thanh" in html and '<meta http-equiv="refresh"' in html
    assert "<table" not in html and "Đã xong" not in html
    assert "Hủy cảnh báo</button>" in html  # it can be stopped before it airs
    real(app.extensions["loaxa"]["sessions"], app.extensions["loaxa"]["settings"], alert_id)
    html = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert "Đang chuẩn bị âm thanh" not in html and '<meta http-equiv="refresh"' not in html
    assert "Đang phát khẩn cấp" in html and f'data-code="{COMMUNE}"' in html


def test_an_alert_airs_and_its_page_shows_the_facts_and_every_station(
    panel: Panel, app: Any
) -> None:
    client = panel.client("approver", DISTRICT, username="nguyen.van.an")
    alert_id = _issue(client, app, targets=[COMMUNE, LE_HONG_PHONG], repeat_every_s="600",
                      repeat_count="3")  # fmt: skip
    page = client.get(f"/alerts/{alert_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Đã gửi cảnh báo khẩn cấp tới 2 đài." in html
    assert TITLE in html and TEXT in html and "Đang phát khẩn cấp" in html
    assert "nguyen.van.an" in html and "Bảng điều khiển" in html
    assert "Phường Quang Trung, Phường Lê Hồng Phong" in html  # the area
    assert "08:00 20/4/2026" in html  # sent, Hà Nam time
    assert "08:00, 08:10, 08:20" in html and "(20/4/2026)" in html  # the three airings
    assert "09:20 20/4/2026" in html  # it expires an hour after the last one
    assert "Mã CAP" not in html  # CAP details only for CAP messages
    assert f'data-code="{COMMUNE}"' in html and f'data-code="{LE_HONG_PHONG}"' in html
    assert "0</strong> / 2 đài đã phát" in html
    assert "refresh.js" in html and f'data-refresh="/alerts/{alert_id}/stations"' in html
    fragment = client.get(f"/alerts/{alert_id}/stations").get_data(as_text=True)
    assert "<html" not in fragment and f'data-code="{COMMUNE}"' in fragment
    assert "đã phát 0/3 lần" in _row(fragment, COMMUNE)
    event = panel.db.scalar(select(AuditEvent).where(AuditEvent.action == "alert.create"))
    assert event is not None and event.detail["targets"] == [COMMUNE, LE_HONG_PHONG]
    alert = _alert(panel, alert_id)
    assert alert.state == AlertState.ready and alert.broadcast is not None
    assert alert.broadcast.priority.value == "emergency"


def test_the_status_agrees_with_what_the_agents_reported_and_counts_silent_stations(
    panel: Panel, app: Any, network: Any, frozen: Any
) -> None:
    """Quang Trung airs it in full; Lê Hồng Phong's agent says it missed it; Châu Cầu never
    says anything. Until its deadline the alert is not over; then the silence is a miss."""
    client = panel.client("approver", DISTRICT)
    alert_id = _issue(client, app, targets=[COMMUNE, LE_HONG_PHONG, CHAU_CAU])
    broadcast = _alert(panel, alert_id).broadcast_id
    assert broadcast is not None
    start = FROZEN_NOW
    frozen.shift(timedelta(minutes=2))
    now = FROZEN_NOW + timedelta(minutes=2)
    quang_trung, le_hong_phong = Agent(app, network, COMMUNE), Agent(app, network, LE_HONG_PHONG)
    quang_trung.heartbeat(now)
    at = [(start + timedelta(seconds=s)).isoformat() for s in (1, 2, 14)]
    quang_trung.play(broadcast, start, "played", alert_received_at=at[0], started_at=at[1],
                     ended_at=at[2])  # fmt: skip
    le_hong_phong.heartbeat(now)
    le_hong_phong.play(broadcast, start, "missed", detail=NOT_RUNNING)

    html = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert _counts(html) == _row_states(html) == {"played": 1, "missed": 1, "offline": 1}
    assert '<strong class="num" id="aired-count">1</strong> / 3 đài đã phát' in html
    played = _row(html, COMMUNE)
    assert played.startswith("played|") and "Đã phát trọn" in played and "Trực tuyến" in played
    assert "08:00" in played  # received, started and ended at 08:00 (seconds apart)
    missed = _row(html, LE_HONG_PHONG)
    assert missed.startswith("missed|") and "Bỏ lỡ" in missed
    assert "Không phát tại đài: máy trạm không chạy hoặc chưa có âm thanh kịp giờ" in missed
    silent = _row(html, CHAU_CAU)
    assert silent.startswith("offline|") and "Mất kết nối" in silent and "Chưa kết nối" in silent
    assert "Đang phát khẩn cấp" in html and "Đã xong" not in html  # Châu Cầu may still air it

    frozen.shift(timedelta(hours=1))  # past the airing's deadline (its expiry)
    fragment = client.get(f"/alerts/{alert_id}/stations").get_data(as_text=True)
    assert _counts(fragment) == _row_states(fragment) == {"played": 1, "missed": 2}
    silent = _row(fragment, CHAU_CAU)
    assert silent.startswith("missed|")
    assert "Đài không báo cáo trước khi hết hạn (mất liên lạc?)" in silent
    assert "Đã xong" in fragment and "Đang phát khẩn cấp" not in fragment
    listed = client.get("/alerts").get_data(as_text=True)
    assert "1</strong> / 3 đài đã phát" in listed and "2</strong> bỏ lỡ hoặc lỗi" in listed


def test_an_alert_whose_audio_cannot_be_made_says_why(
    panel: Panel, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scheduler import segments

    def no_voice(*_args: Any) -> Any:
        raise TtsError("espeak: no voice for vi")

    monkeypatch.setattr(segments, "spoken_segment", no_voice)
    client = panel.client("approver", DISTRICT)
    alert_id = _issue(client, app)
    html = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert "Không phát được" in html and "espeak: no voice for vi" in html  # shown as given
    assert "Cảnh báo này không phát tới đài nào." in html
    assert "Hủy cảnh báo</button>" not in html and "refresh.js" not in html
    listed = client.get("/alerts").get_data(as_text=True)
    assert "Không phát được" in listed and "Hủy cảnh báo</button>" not in listed


def test_the_status_page_in_english(panel: Panel, app: Any, network: Any, frozen: Any) -> None:
    client = panel.client("approver", DISTRICT)
    alert_id = _issue(client, app, targets=[COMMUNE, LE_HONG_PHONG])
    broadcast = _alert(panel, alert_id).broadcast_id
    assert broadcast is not None
    Agent(app, network, LE_HONG_PHONG).play(broadcast, FROZEN_NOW, "missed", detail=NOT_RUNNING)
    names = [s.name for s in network.query(Station)] + [
        s.station_name for s in network.query(Station)
    ]
    names += [TITLE, TEXT]
    client.get("/?lang=en")
    pages = {url: client.get(url).get_data(as_text=True)
             for url in (f"/alerts/{alert_id}", f"/alerts/{alert_id}/stations", "/alerts",
                         "/alerts/new")}  # fmt: skip
    for url, page in pages.items():
        assert untranslated(page, names) == [], url
    html = pages[f"/alerts/{alert_id}"]
    assert '<html lang="en">' in html and "Emergency broadcast in progress" in html
    assert "not running or did not have the audio in time" in html


# --- The history, and cancelling ---------------------------------------------------------------


def test_the_history_lists_my_areas_alerts_with_links_and_cancels_from_the_list(
    panel: Panel, app: Any
) -> None:
    client = panel.client("approver", DISTRICT)
    first = _issue(client, app, title="Cảnh báo bão số 3", confirm_title="Cảnh báo bão số 3")
    second = _issue(client, app)
    html = client.get("/alerts").get_data(as_text=True)
    assert html.index(f'href="/alerts/{second}"') < html.index(f'href="/alerts/{first}"')
    assert "Cảnh báo bão số 3" in html and TEXT[:40] in html and "Phường Quang Trung" in html
    assert html.count("Hủy cảnh báo</button>") == 2 and 'name="next" value="index"' in html
    assert client.get(f"/alerts/{first}").status_code == 200  # the link works
    assert 'href="/alerts"' in client.get("/alerts/new").get_data(as_text=True)

    response = client.form_post(f"/alerts/{first}/cancel", {"next": "index"}, page="/alerts")
    assert response.status_code == 302 and response.location == "/alerts"
    html = client.get("/alerts").get_data(as_text=True)
    assert "Đã hủy cảnh báo" in html and html.count("Hủy cảnh báo</button>") == 1
    item = re.search(rf'<li class="alert-item" data-alert="{first}" data-state="(\w+)">', html)
    assert item and item.group(1) == "cancelled"
    assert _alert(panel, first).state == AlertState.cancelled
    assert _alert(panel, second).state == AlertState.ready

    stranger = panel.client("approver", OTHER_DISTRICT).get("/alerts").get_data(as_text=True)
    assert f'href="/alerts/{first}"' not in stranger and "Chưa có cảnh báo nào." in stranger
    admin = panel.client("admin", "35").get("/alerts").get_data(as_text=True)
    assert f'href="/alerts/{second}"' in admin  # the province sees its districts' alerts


def test_the_history_pages(panel: Panel, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from web.alerts import views

    monkeypatch.setattr(views, "PAGE", 1)
    client = panel.client("approver", DISTRICT)
    older, newer = _issue(client, app), _issue(client, app)
    html = client.get("/alerts").get_data(as_text=True)
    assert f'href="/alerts/{newer}"' in html and f'href="/alerts/{older}"' not in html
    assert 'href="/alerts?page=2"' in html
    html = client.get("/alerts?page=2").get_data(as_text=True)
    assert f'href="/alerts/{older}"' in html and 'href="/alerts?page=1"' in html
    assert 'href="/alerts?page=3"' not in html
    assert client.get("/alerts?page=abc").status_code == 200


def test_cancelling_an_alert(panel: Panel, app: Any) -> None:
    client = panel.client("approver", DISTRICT)
    alert_id = _issue(client, app)
    response = client.form_post(f"/alerts/{alert_id}/cancel", page=f"/alerts/{alert_id}")
    assert response.status_code == 302 and response.location == f"/alerts/{alert_id}"
    html = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert "Đã hủy cảnh báo" in html and "Hủy cảnh báo</button>" not in html
    assert "Đã hủy" in html and "Hủy lúc" in html and "trên bảng điều khiển" in html
    assert "refresh.js" not in html
    alert = _alert(panel, alert_id)
    assert alert.state == AlertState.cancelled and alert.broadcast is not None
    broadcast = panel.db.get(Broadcast, alert.broadcast.id)
    assert broadcast is not None and broadcast.status == BroadcastStatus.cancelled
    assert panel.db.scalar(select(AuditEvent).where(AuditEvent.action == "alert.cancel"))
    page = client.get("/alerts/new").get_data(as_text=True)
    assert "Cảnh báo gần đây" in page and "Đã hủy" in page


def test_alert_pages_outside_my_area_and_bad_ids(panel: Panel, app: Any) -> None:
    alert_id = _issue(panel.client("approver", DISTRICT), app)
    stranger = panel.client("approver", OTHER_DISTRICT)
    assert stranger.get(f"/alerts/{alert_id}").status_code == 403
    assert stranger.get(f"/alerts/{alert_id}/stations").status_code == 403
    assert stranger.form_post(f"/alerts/{alert_id}/cancel", page="/alerts/new").status_code == 403
    assert panel.client("editor", DISTRICT).get(f"/alerts/{alert_id}").status_code == 403
    admin = panel.client("admin", "35")
    assert admin.get(f"/alerts/{alert_id}").status_code == 200
    for url in ("/alerts/999999", f"/alerts/{2**40}", "/alerts/abc"):
        response = admin.get(url)
        assert response.status_code == 404, url
        assert "Không tìm thấy" in response.get_data(as_text=True)


def test_alert_audio_is_hidden_from_the_bulletin_and_programme_lists_unless_asked(
    panel: Panel, app: Any
) -> None:
    client = panel.client("approver", DISTRICT)
    _issue(client, app)
    bulletins = client.get("/segments?q=l%C5%A9").get_data(as_text=True)
    assert f">{TITLE}</a>" not in bulletins
    toggle = 'href="/segments?q=l%C5%A9&amp;alerts=1"'  # keeps the search
    assert toggle in bulletins and "Hiện cả âm thanh của cảnh báo khẩn cấp" in bulletins
    shown = client.get("/segments?q=l%C5%A9&alerts=1").get_data(as_text=True)
    assert f">{TITLE}</a>" in shown and 'href="/segments?q=l%C5%A9"' in shown
    assert 'name="alerts" value="1" checked' in shown  # the filter form keeps it too
    programmes = client.get("/programs").get_data(as_text=True)
    assert f">{TITLE}</a>" not in programmes and 'href="/programs?alerts=1"' in programmes
    shown = client.get("/programs?alerts=1").get_data(as_text=True)
    assert f">{TITLE}</a>" in shown and "Ẩn âm thanh của cảnh báo khẩn cấp" in shown


# --- Reasons, in Vietnamese ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ("no report", "Đài không báo cáo trước khi hết hạn (mất liên lạc?)"),
        (NOT_RUNNING, "Không phát tại đài: máy trạm không chạy hoặc chưa có âm thanh kịp giờ"),
        (
            "the media is not in the cache and could not be fetched",
            "Máy trạm chưa có tệp âm thanh và không tải về được",
        ),
        ("pre-empted by emergency: Cảnh báo bão", "Bị ngắt để phát khẩn cấp: Cảnh báo bão"),
        (
            "the agent stopped unexpectedly while this was on air",
            "Máy trạm dừng đột ngột khi đang phát (mất điện?)",
        ),
        (
            "media missing: /var/cache/loaxa/ab12.opus",
            "Thiếu tệp âm thanh: /var/cache/loaxa/ab12.opus",
        ),
        ("joined 3.2 s late; cut after 00:41.0", "Vào phát muộn 3,2 giây; Bị cắt sau 00:41,0"),
        (  # a relay's own account: amounts, not its UTC clock times
            "source on 22:30:01.250–22:50:00.000 (19:58.8 of 30:00.0); 2 breaks: the stream "
            "broke; could not reach the source; filler 10:01.2",
            "Nguồn phát được 19:58,8 trên 30:00,0; Mất nguồn 2 lần: Luồng phát bị đứt; "
            "Không kết nối được tới nguồn; Phát nhạc đệm 10:01,2",
        ),
        (
            "status: a Test message is recorded, not aired; only Actual messages go on air",
            "Bản tin CAP loại Test chỉ được lưu; chỉ bản tin Actual mới được phát",
        ),
        ("the speaker caught fire", "the speaker caught fire"),  # unknown: shown as given
        (None, ""),
    ],
)
def test_reasons_are_told_in_vietnamese(app: Any, reason: str | None, shown: str) -> None:
    from web.alerts.labels import reason_text

    with app.test_request_context("/"):
        assert reason_text(reason) == shown
