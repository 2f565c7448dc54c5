"""Readings editors teach the voice (issue #14): the panel page lists and adds them
(audited), bad input is refused next to its field, and from then on the normaliser — the
API, the TTS composer's preview — reads the abbreviation their way."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from scheduler.models import AuditEvent, Reading
from tests.network_codes import DISTRICT
from tests.panel_support import Panel, csrf_token, field_errors


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def test_an_editor_adds_a_reading_it_is_audited_and_the_voice_uses_it(
    panel: Panel, make_caller: Any, network: Any
) -> None:
    caller = make_caller("editor", DISTRICT, "bien.tap.api")
    before = caller.post("/api/v1/tts/normalize", json={"text": "Chi hội CTĐ xã"}).json["text"]
    assert before == "Chi hội xê tê đê xã"  # unknown: spelled, never passed raw

    editor = panel.client("editor", DISTRICT)
    page = editor.get("/doc-tat")
    assert page.status_code == 200 and "Cách đọc chữ viết tắt" in page.get_data(as_text=True)
    saved = editor.form_post("/doc-tat", {"written": "CTĐ", "spoken": "Chữ thập đỏ"})
    assert saved.status_code == 302
    shown = editor.get(saved.headers["Location"]).get_data(as_text=True)
    assert 'data-reading="CTĐ"' in shown and "Máy sẽ đọc:" in shown and "Chữ thập đỏ" in shown

    after = caller.post("/api/v1/tts/normalize", json={"text": "Chi hội CTĐ xã"}).json["text"]
    assert after == "Chi hội Chữ thập đỏ xã"
    [event] = network.scalars(select(AuditEvent).where(AuditEvent.action == "reading.add"))
    assert event.detail == {"written": "CTĐ", "spoken": "Chữ thập đỏ"}


def test_the_tts_composer_previews_with_the_editors_reading(panel: Panel, network: Any) -> None:
    editor = panel.client("editor", DISTRICT)
    editor.form_post("/doc-tat", {"written": "CTĐ", "spoken": "Chữ thập đỏ"})
    preview = editor.form_post("/segments/tts", {"text": "Hội CTĐ tặng quà.", "action": "preview",
                                                 "title": "Tin", "owner": DISTRICT})  # fmt: skip
    assert "Hội Chữ thập đỏ tặng quà." in preview.get_data(as_text=True)


def test_changing_a_reading_replaces_it_and_says_what_it_was(panel: Panel, network: Any) -> None:
    editor = panel.client("approver", DISTRICT)
    editor.form_post("/doc-tat", {"written": "BCH", "spoken": "Ban Chỉ huy"})
    editor.form_post("/doc-tat", {"written": "BCH", "spoken": "Ban Chấp hành"})
    [reading] = network.scalars(select(Reading))
    assert reading.spoken == "Ban Chấp hành"
    [change] = network.scalars(select(AuditEvent).where(AuditEvent.action == "reading.change"))
    assert change.detail["before"] == "Ban Chỉ huy"


@pytest.mark.parametrize(
    ("written", "spoken", "field"),
    [
        ("", "Ban Chấp hành", "written"),
        ("bch", "Ban Chấp hành", "written"),  # no capital: a word, not an abbreviation
        ("B" * 41, "Ban Chấp hành", "written"),
        ("BCH<script>", "Ban Chấp hành", "written"),
        ("BCH", "", "spoken"),
        ("BCH", "Ban 3", "spoken"),  # numbers in words, so a second pass changes nothing
        ("BCH", "x" * 301, "spoken"),
    ],
)
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_saved(
    panel: Panel, network: Any, written: str, spoken: str, field: str
) -> None:
    editor = panel.client("editor", DISTRICT)
    refused = editor.form_post("/doc-tat", {"written": written, "spoken": spoken})
    assert refused.status_code == 400
    assert field_errors(refused.get_data(as_text=True), field)
    assert network.scalar(select(Reading.id)) is None


def test_an_operator_may_not_teach_readings(panel: Panel, network: Any) -> None:
    operator = panel.client("operator", DISTRICT)
    assert operator.get("/doc-tat").status_code == 403
    token_page = panel.client("editor", DISTRICT).get("/doc-tat").get_data(as_text=True)
    form = {"csrf_token": csrf_token(token_page), "written": "CTĐ", "spoken": "Chữ thập đỏ"}
    posted = operator.post("/doc-tat", data=form)
    assert posted.status_code in (400, 403)
    assert network.scalar(select(Reading.id)) is None


def test_a_reading_is_removed_and_the_removal_audited(panel: Panel, network: Any) -> None:
    editor = panel.client("editor", DISTRICT)
    editor.form_post("/doc-tat", {"written": "CTĐ", "spoken": "Chữ thập đỏ"})
    reading_id = network.scalar(select(Reading.id))
    gone = editor.form_post(f"/doc-tat/{reading_id}/xoa", page="/doc-tat")
    assert gone.status_code == 302
    network.expire_all()
    assert network.scalar(select(Reading.id)) is None
    assert network.scalar(select(AuditEvent.id).where(AuditEvent.action == "reading.remove"))
    assert editor.form_post("/doc-tat/999999/xoa", page="/doc-tat").status_code == 302


def test_editors_find_the_readings_from_the_bulletins_page(panel: Panel) -> None:
    editor = panel.client("editor", DISTRICT)
    bulletins = editor.get("/segments").get_data(as_text=True)
    assert 'href="/doc-tat"' in bulletins
    readings = editor.get("/doc-tat").get_data(as_text=True)
    assert '<a href="/segments" aria-current="page">' in readings  # its menu entry is lit
    operator = panel.client("operator", DISTRICT).get("/segments").get_data(as_text=True)
    assert 'href="/doc-tat"' not in operator  # a page they may not open is not offered
