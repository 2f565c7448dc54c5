"""A CAP alert that came without Vietnamese words, from the panel: its page says it waits for
a translation, with the sender's reason in Vietnamese and the original words to translate
from; an approver of its area enters the Vietnamese words there and it airs as if it had
come in Vietnamese (the same domain step as ``POST /api/v1/alerts/{id}/translation``). Bad
input keeps the words typed and changes nothing; a second translation is refused.

The CAP samples are tests/samples/cap/ (see tests/test_cap_samples.py). Time is frozen at
Monday 20 April 2026, 08:00 in Hà Nam (01:00 UTC).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.models import Alert, AlertState, AuditEvent, Broadcast, Segment
from tests.alert_support import finish_jobs
from tests.network_codes import PHU_LY
from tests.panel_support import Panel, field_errors, visible_text

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

SAMPLES = Path(__file__).parent / "samples" / "cap"
TRANSLATION = "Dông mạnh kèm mưa đá. Bà con vào trong nhà kiên cố, tránh xa cửa kính."
ENGLISH = "a severe thunderstorm was located near Leesburg"


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _received(make_caller: Any, app: Any, name: str) -> int:
    """A CAP sample as a sender's system posts it; the alert's id."""
    sender = make_caller("approver", PHU_LY, "cap.gateway")
    body = (SAMPLES / name).read_bytes()
    answer = sender.post(
        "/api/v1/alerts", data=body, headers={"Content-Type": "application/cap+xml"}
    )
    assert answer.status_code in (200, 202), answer.json
    finish_jobs(app)
    return int(answer.json["id"])


def _alert(panel: Panel, alert_id: int) -> Alert:
    panel.db.expire_all()
    alert = panel.db.get(Alert, alert_id)
    assert alert is not None
    return alert


def _broadcasts(panel: Panel) -> int:
    panel.db.rollback()
    return panel.db.scalar(select(func.count(Broadcast.id))) or 0


def _state(html: str) -> str:
    found = re.search(r'id="alert-state">\s*<span class="tone [a-z]+" data-state="([a-z_]+)"', html)
    assert found, "no state on the page"
    return found.group(1)


def test_an_english_only_alert_waits_on_its_page_and_airs_the_words_entered(
    panel: Panel, app: Any, make_caller: Any
) -> None:
    alert_id = _received(make_caller, app, "nws-severe-thunderstorm.xml")
    client = panel.client("approver", PHU_LY)

    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert _state(page) == "awaiting_translation"
    text = " ".join(visible_text(page))
    assert "Chờ bản dịch tiếng Việt" in text
    assert "không có nội dung tiếng Việt (chỉ có en-US)" in text  # the reason, in Vietnamese
    assert ENGLISH in text  # the words to translate from
    assert "cảnh báo được gửi tới các đài khi có bản dịch tiếng Việt" in text  # not "no station"
    assert f'action="/alerts/{alert_id}/translation"' in page
    listed = client.get("/alerts").get_data(as_text=True)
    assert f'data-alert="{alert_id}"' in listed and 'data-state="awaiting_translation"' in listed

    empty = client.form_post(f"/alerts/{alert_id}/translation", {"text": "   "},
                             page=f"/alerts/{alert_id}")  # fmt: skip
    assert empty.status_code == 400
    assert field_errors(empty.get_data(as_text=True), "text") == [
        "Hãy nhập nội dung tiếng Việt cần đọc."
    ]
    assert _alert(panel, alert_id).outcome == "awaiting_translation" and _broadcasts(panel) == 0

    done = client.form_post(f"/alerts/{alert_id}/translation", {"text": TRANSLATION},
                            page=f"/alerts/{alert_id}")  # fmt: skip
    assert done.status_code == 302 and done.location == f"/alerts/{alert_id}"
    finish_jobs(app)
    alert = _alert(panel, alert_id)
    assert alert.state == AlertState.ready and alert.outcome == "emergency"
    segment = panel.db.get(Segment, alert.segment_id)
    assert segment is not None and (segment.text or "").startswith(TRANSLATION)  # not English
    assert _broadcasts(panel) == 1
    # The sender's own words are replaced on the alert by those read out; the log keeps them.
    [event] = panel.db.scalars(select(AuditEvent).where(AuditEvent.action == "alert.translate"))
    assert ENGLISH in event.detail["original"] and event.detail["language"] == "en-US"

    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    text = " ".join(visible_text(page))
    assert "Đã nhận bản dịch" in text  # the flash
    assert "đã nhập bản dịch tiếng Việt; nội dung gốc (en-US) không được đọc" in text
    assert _state(page) != "awaiting_translation" and "/translation" not in page
    log = " ".join(visible_text(client.get("/audit").get_data(as_text=True)))
    assert "nhập bản dịch tiếng Việt cho cảnh báo" in log and ENGLISH in log
    assert "Bản tin CAP không có nội dung tiếng Việt (chỉ có en-US)" in log  # why it was kept

    again = client.form_post(f"/alerts/{alert_id}/translation", {"text": TRANSLATION},
                             page=f"/alerts/{alert_id}")  # fmt: skip
    assert again.status_code == 302
    shown = " ".join(visible_text(client.get(again.location).get_data(as_text=True)))
    assert "không còn chờ bản dịch" in shown and _broadcasts(panel) == 1


def test_only_an_issuer_of_its_area_may_translate(panel: Panel, app: Any, make_caller: Any) -> None:
    alert_id = _received(make_caller, app, "nws-severe-thunderstorm.xml")
    operator = panel.client("operator", PHU_LY)
    answer = operator.form_post(f"/alerts/{alert_id}/translation", {"text": TRANSLATION}, page="/")
    assert answer.status_code == 403
    assert _alert(panel, alert_id).outcome == "awaiting_translation" and _broadcasts(panel) == 0


def test_an_alert_kept_off_the_air_says_why_in_vietnamese(
    panel: Panel, app: Any, make_caller: Any
) -> None:
    alert_id = _received(make_caller, app, "earthquake-update-2003.xml")
    page = panel.client("approver", PHU_LY).get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert _state(page) == "recorded"
    text = " ".join(visible_text(page))
    assert re.search(r"đã gửi cách đây \d+ ngày, quá hạn cho phép; chỉ được lưu", text), text
    assert "/translation" not in page  # nothing to translate: it is stale


def test_once_it_has_expired_untranslated_it_says_so_and_offers_no_form(
    panel: Panel, app: Any, make_caller: Any, frozen: Any
) -> None:
    alert_id = _received(make_caller, app, "nws-severe-thunderstorm.xml")  # expires 03:45 UTC
    client = panel.client("approver", PHU_LY)
    frozen.shift(timedelta(hours=3))
    page = client.get(f"/alerts/{alert_id}").get_data(as_text=True)
    assert _state(page) == "recorded" and "/translation" not in page
    text = " ".join(visible_text(page))
    assert "hết hạn trước khi có bản dịch tiếng Việt nên không được phát" in text
    assert "khi người duyệt nhập bản dịch" not in text  # the reason no longer true
    late = client.form_post(f"/alerts/{alert_id}/translation", {"text": TRANSLATION},
                            page=f"/alerts/{alert_id}")  # fmt: skip
    assert late.status_code == 302 and _broadcasts(panel) == 0
