"""``/programs``: the builder (add, silence, reorder, remove — by plain form posts), saving
and rendering with real ffmpeg, listening, and who may see what."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.models import Program, ProgramItem, Segment
from tests.audio_fixtures import make_recording
from tests.conftest import FROZEN_NOW
from tests.network_codes import COMMUNE, DISTRICT, OTHER_DISTRICT
from tests.panel_support import Panel, PanelClient, as_json, field_errors
from tests.upload_support import panel_upload


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _items(html: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="item" value="([^"]+)">', html)


def _build(client: PanelClient, items: list[str], op: str, **form: str) -> Any:
    data: dict[str, Any] = {"title": "Chương trình sáng thứ Hai", "owner": DISTRICT,
                            "crossfade": "0", "item": items, "op": op, **form}  # fmt: skip
    return client.form_post("/programs/new", data)


def _real_segment(
    client: PanelClient, network: Any, tmp_path: Path, name: str, seconds: float
) -> Segment:
    response = panel_upload(
        client, make_recording(tmp_path / f"{name}.m4a", seconds=seconds), title=name
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    segment = network.scalar(select(Segment).where(Segment.title == name))
    assert segment is not None and segment.status == "ready"
    return segment


# --- Who sees what --------------------------------------------------------------------------


@pytest.fixture
def make_program(network: Any, make_segment: Any) -> Any:
    def make(owner: str, title: str = "Chương trình thử") -> Program:
        segment = make_segment(owner)
        program = Program(title=title, owner=segment.owner, status="ready", created_at=FROZEN_NOW,
                          duration_ms=83_500, media_file=segment.media_file)  # fmt: skip
        program.items = [ProgramItem(position=0, segment=segment),
                         ProgramItem(position=1, silence_ms=2000)]  # fmt: skip
        network.add(program)
        network.commit()
        return program

    return make


@pytest.mark.parametrize(
    ("role", "station"),
    [("admin", "35"), ("editor", DISTRICT), ("approver", DISTRICT), ("operator", COMMUNE)],
)
def test_every_role_sees_the_programmes_that_reach_them(
    panel: Panel, make_program: Any, role: str, station: str
) -> None:
    ours = make_program(DISTRICT, "Chương trình của Phủ Lý")
    theirs = make_program(OTHER_DISTRICT, "Chương trình của Duy Tiên")
    client = panel.client(role, station)
    html = client.get("/programs").get_data(as_text=True)
    assert "Chương trình của Phủ Lý" in html and "1:24" in html
    assert ("Chương trình của Duy Tiên" in html) is (station == "35")
    page = client.get(f"/programs/{ours.id}").get_data(as_text=True)
    assert "Khoảng lặng" in page and "0:02" in page
    audio = client.get(f"/programs/{ours.id}/audio", headers={"Range": "bytes=0-9"})
    assert audio.status_code == 206 and len(audio.data) == 10
    expected = 200 if station == "35" else 403
    for url in (f"/programs/{theirs.id}", f"/programs/{theirs.id}/audio",
                f"/programs/{theirs.id}/status", f"/programs/new?from={theirs.id}"):  # fmt: skip
        assert client.get(url).status_code == expected, url


@pytest.mark.parametrize(
    "url",
    ["/programs/999", "/programs/999/audio", "/programs/999/status", "/programs/new?from=999",
     "/programs/new?from=abc", "/programs/99999999999999", "/programs/x"],
)  # fmt: skip
def test_unknown_programmes_are_a_vietnamese_404(panel: Panel, url: str) -> None:
    response = panel.client("editor", DISTRICT).get(url)
    assert response.status_code == 404
    assert "Không tìm thấy" in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_the_login(panel: Panel) -> None:
    for url in ("/programs", "/programs/new", "/programs/1", "/programs/1/audio"):
        response = panel.anonymous().get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_a_rendering_programme_refreshes_itself(
    panel: Panel, network: Any, make_program: Any
) -> None:
    program = make_program(DISTRICT)
    program.status, program.media_file = "rendering", None
    network.commit()
    client = panel.client("editor", DISTRICT)
    page = client.get(f"/programs/{program.id}").get_data(as_text=True)
    assert "Đang dựng chương trình" in page and 'http-equiv="refresh"' in page
    assert as_json(client.get(f"/programs/{program.id}/status"))["status"] == "rendering"
    assert client.get(f"/programs/{program.id}/audio").status_code == 404


# --- The builder without JavaScript ---------------------------------------------------------


def test_the_builder_adds_moves_and_removes_entries(
    panel: Panel, network: Any, make_segment: Any
) -> None:
    first = make_segment(DISTRICT, "Bản tin một")
    second = make_segment("35", "Bản tin của tỉnh", approved_at=FROZEN_NOW)
    rejected = make_segment(DISTRICT, "Bản tin bị trả lại", rejected_at=FROZEN_NOW)
    make_segment(OTHER_DISTRICT, "Bản tin của Duy Tiên")
    client = panel.client("editor", DISTRICT)

    page = client.get("/programs/new").get_data(as_text=True)
    assert "Bản tin một" in page and "Bản tin của tỉnh" in page
    assert "Bản tin bị trả lại" not in page and "Bản tin của Duy Tiên" not in page
    approved_only = _build(client, [], "filter", approved_only="y").get_data(as_text=True)
    assert "Bản tin của tỉnh" in approved_only and f'value="add-{first.id}"' not in approved_only

    html = _build(client, [], f"add-{first.id}").get_data(as_text=True)
    assert _items(html) == [f"s{first.id}"]
    html = _build(client, _items(html), "silence", silence_s="2,5").get_data(as_text=True)
    assert _items(html) == [f"s{first.id}", "q2500"]
    html = _build(client, _items(html), f"add-{second.id}").get_data(as_text=True)
    assert _items(html) == [f"s{first.id}", "q2500", f"s{second.id}"]
    assert 'data-ms="169500"' in html and "2:50" in html  # 83.5 + 2.5 + 83.5 s
    html = _build(client, _items(html), "up-2").get_data(as_text=True)
    assert _items(html) == [f"s{first.id}", f"s{second.id}", "q2500"]
    html = _build(client, _items(html), "down-0").get_data(as_text=True)
    assert _items(html) == [f"s{second.id}", f"s{first.id}", "q2500"]
    html = _build(client, _items(html), "remove-2").get_data(as_text=True)
    assert _items(html) == [f"s{second.id}", f"s{first.id}"]
    assert _items(_build(client, _items(html), "up-0").get_data(as_text=True)) == _items(html)
    assert _items(_build(client, _items(html), "remove-9").get_data(as_text=True)) == _items(html)

    refused = _build(client, _items(html), f"add-{rejected.id}")
    assert "Bản tin này không dùng được." in refused.get_data(as_text=True)
    assert _items(refused.get_data(as_text=True)) == _items(html)


@pytest.mark.parametrize("value", ["", "abc", "0", "-1", "601", "1e9"])
def test_a_bad_silence_is_explained_next_to_its_field(panel: Panel, value: str) -> None:
    response = _build(panel.client("editor", DISTRICT), [], "silence", silence_s=value)
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "silence_s") == [
        "Nhập số giây của khoảng lặng, từ 0,1 đến 600."
    ]


def test_forged_or_foreign_entries_are_dropped_with_a_message(
    panel: Panel, make_segment: Any
) -> None:
    foreign = make_segment(OTHER_DISTRICT)
    response = _build(panel.client("editor", DISTRICT), [f"s{foreign.id}", "s999", "zzz", "q0",
                                                         "q1000"], "refresh")  # fmt: skip
    html = response.get_data(as_text=True)
    assert _items(html) == ["q1000"]
    assert "mục đó đã được bỏ khỏi chương trình" in html


def test_saving_needs_a_title_and_a_segment(panel: Panel, network: Any) -> None:
    client = panel.client("editor", DISTRICT)
    response = _build(client, ["q1000"], "save", title="")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_errors(html, "title") == ["Hãy nhập tên chương trình."]
    assert _items(html) == ["q1000"]  # kept
    response = _build(client, ["q1000"], "save")
    assert response.status_code == 400
    assert "Chương trình cần ít nhất một bản tin." in response.get_data(as_text=True)
    assert network.scalar(select(func.count(Program.id))) == 0


def test_an_owner_outside_the_area_is_refused(
    panel: Panel, network: Any, make_segment: Any
) -> None:
    segment = make_segment(DISTRICT)
    response = _build(panel.client("editor", DISTRICT), [f"s{segment.id}"], "save",
                      owner=OTHER_DISTRICT)  # fmt: skip
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "owner") == [
        "Hãy chọn một đài trong phạm vi của bạn."
    ]
    assert network.scalar(select(func.count(Program.id))) == 0


# --- Save, render, listen -------------------------------------------------------------------


@pytest.mark.slow  # ffmpeg renders it
def test_a_programme_of_two_recordings_and_a_silence_renders_and_plays(
    panel: Panel, network: Any, tmp_path: Path
) -> None:
    client = panel.client("editor", DISTRICT)
    first = _real_segment(client, network, tmp_path, "Tin sáng", 2)
    second = _real_segment(client, network, tmp_path, "Tin chiều", 1.5)
    items = [f"s{first.id}", "q1000", f"s{second.id}"]
    html = _build(client, items, "up-2").get_data(as_text=True)  # the afternoon news first
    assert _items(html) == [f"s{first.id}", f"s{second.id}", "q1000"]
    saved = _build(client, _items(html), "save", crossfade="0")
    assert saved.status_code == 302, saved.get_data(as_text=True)
    program = network.scalar(select(Program))
    assert saved.headers["Location"] == f"/programs/{program.id}"
    assert program.status == "ready"
    assert [i.segment_id or i.silence_ms for i in program.items] == [first.id, second.id, 1000]
    assert first.media_file and second.media_file
    expected = first.media_file.duration_ms + second.media_file.duration_ms + 1000
    assert program.duration_ms == pytest.approx(expected, abs=300)

    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Đã lưu chương trình" in page
    # Rendered, but its bulletins still await approval: not "Sẵn sàng", and it says why.
    assert "Chờ duyệt bản tin" in page and "Sẵn sàng" not in page
    assert f'src="/programs/{program.id}/audio"' in page
    assert "chưa được duyệt" in page and "Tin sáng" in page
    assert f'href="/schedule/new?program={program.id}"' in page  # "Lên lịch phát"
    audio = client.get(f"/programs/{program.id}/audio", headers={"Range": "bytes=0-99"})
    assert audio.status_code == 206 and audio.mimetype == "audio/mpeg" and len(audio.data) == 100

    copy = client.get(f"/programs/new?from={program.id}").get_data(as_text=True)
    assert _items(copy) == [f"s{first.id}", f"s{second.id}", "q1000"]


def test_an_operator_builds_a_local_programme_for_their_own_commune(
    panel: Panel, network: Any, make_segment: Any
) -> None:
    district = make_segment(DISTRICT, "Tin của huyện", approved_at=FROZEN_NOW)
    client = panel.client("operator", COMMUNE)
    page = client.get("/programs/new").get_data(as_text=True)
    assert f'<input type="hidden" name="owner" value="{COMMUNE}">' in page
    assert "Tin của huyện" in page
    refused = _build(client, [f"s{district.id}"], "save", owner=DISTRICT)
    assert refused.status_code == 400
    assert network.scalar(select(func.count(Program.id))) == 0


def test_the_pages_open_in_english(panel: Panel, make_program: Any) -> None:
    program = make_program(DISTRICT)
    client = panel.client("editor", DISTRICT)
    for url in ("/programs", "/programs/new", f"/programs/{program.id}"):
        response = client.get(f"{url}?lang=en")
        assert response.status_code == 200, url
        assert '<html lang="en">' in response.get_data(as_text=True)
