"""``/segments``: the list and its filters, one segment and its audio, uploads (real ffmpeg),
the TTS composer (offline espeak-ng), approval with a reason — per role, in and out of scope."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduler.models import Campaign, Segment
from tests.audio_fixtures import make_recording
from tests.conftest import FROZEN_NOW
from tests.network_codes import COMMUNE, DISTRICT, OTHER_COMMUNE, OTHER_DISTRICT
from tests.panel_support import Panel, PanelClient, as_json, csrf_token, field_errors, input_value
from tests.upload_support import panel_upload, stored_files

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _count(network: Any) -> int:
    return network.scalar(select(func.count(Segment.id))) or 0


# --- Who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "station"),
    [("admin", "35"), ("editor", DISTRICT), ("approver", DISTRICT), ("operator", COMMUNE)],
)
def test_every_role_sees_the_segments_that_reach_them(
    panel: Panel, make_segment: Any, role: str, station: str
) -> None:
    district = make_segment(DISTRICT, "Tin của huyện Phủ Lý")
    province = make_segment("35", "Tin của tỉnh")
    elsewhere = make_segment(OTHER_DISTRICT, "Tin của Duy Tiên")
    client = panel.client(role, station)
    page = client.get("/segments")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Tin của huyện Phủ Lý" in html and "Tin của tỉnh" in html
    assert ("Tin của Duy Tiên" in html) is (station == "35")
    assert "1:24" in html  # 83.5 s, as m:ss
    for segment in (district, province):
        assert client.get(f"/segments/{segment.id}").status_code == 200
        audio = client.get(f"/segments/{segment.id}/audio", headers={"Range": "bytes=0-9"})
        assert audio.status_code == 206 and len(audio.data) == 10
    expected = 200 if station == "35" else 403
    assert client.get(f"/segments/{elsewhere.id}").status_code == expected
    assert client.get(f"/segments/{elsewhere.id}/audio").status_code == expected


def test_an_operator_does_not_see_a_neighbouring_commune(panel: Panel, make_segment: Any) -> None:
    neighbour = make_segment("13291", "Tin của xã bên")
    client = panel.client("operator", COMMUNE)
    assert "Tin của xã bên" not in client.get("/segments").get_data(as_text=True)
    response = client.get(f"/segments/{neighbour.id}")
    assert response.status_code == 403
    assert "Tài khoản của bạn không được mở trang này." in response.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_the_login(panel: Panel, make_segment: Any) -> None:
    segment = make_segment(DISTRICT)
    client = panel.anonymous()
    for url in ("/segments", "/segments/new", "/segments/tts", f"/segments/{segment.id}",
                f"/segments/{segment.id}/audio"):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


@pytest.mark.parametrize(
    "url",
    ["/segments/999", "/segments/999/audio", "/segments/999/status", "/segments/99999999999999",
     "/segments/abc", "/segments/-1"],
)  # fmt: skip
def test_unknown_segments_are_a_vietnamese_404(panel: Panel, url: str) -> None:
    response = panel.client("editor", DISTRICT).get(url)
    assert response.status_code == 404
    assert "Không tìm thấy" in response.get_data(as_text=True)


def test_a_segment_without_audio_has_no_audio_route(panel: Panel, make_segment: Any) -> None:
    segment = make_segment(DISTRICT, status="processing", media_file=None, progress=10)
    client = panel.client("editor", DISTRICT)
    assert client.get(f"/segments/{segment.id}/audio").status_code == 404
    page = client.get(f"/segments/{segment.id}").get_data(as_text=True)
    assert "Đang xử lý âm thanh" in page and 'http-equiv="refresh"' in page
    status = as_json(client.get(f"/segments/{segment.id}/status"))
    assert status["status"] == "processing" and status["progress"] == 10


# --- Filters and pages ----------------------------------------------------------------------


def test_filters_by_campaign_topic_state_owner_and_title(
    panel: Panel, network: Any, make_segment: Any
) -> None:
    campaign = network.scalar(select(Campaign).where(Campaign.code == "xhht-2023-2030"))
    topic = campaign.topics[0]
    make_segment(DISTRICT, "Tin chiến dịch", campaign=campaign, topic=topic)
    make_segment(DISTRICT, "Tin đã duyệt", approved_at=FROZEN_NOW)
    make_segment(DISTRICT, "Tin bị trả lại", rejected_at=FROZEN_NOW, rejected_reason="Sai tên")
    make_segment(COMMUNE, "Tin của xã")
    client = panel.client("editor", DISTRICT)

    def titles(query: str) -> set[str]:
        html = client.get(f"/segments?{query}").get_data(as_text=True)
        return set(re.findall(r'<a href="/segments/\d+">([^<]+)</a>', html))

    assert titles("campaign=xhht-2023-2030") == {"Tin chiến dịch"}
    assert titles(f"topic=xhht-2023-2030/{topic.code}") == {"Tin chiến dịch"}
    assert titles("state=approved") == {"Tin đã duyệt"}
    assert titles("state=rejected") == {"Tin bị trả lại"}
    assert titles("state=pending") == {"Tin chiến dịch", "Tin của xã"}
    assert titles(f"owner={COMMUNE}") == {"Tin của xã"}
    assert titles("q=duyệt") == {"Tin đã duyệt"}
    assert titles("state=nonsense&campaign=") == {
        "Tin chiến dịch", "Tin đã duyệt", "Tin bị trả lại", "Tin của xã"
    }  # fmt: skip
    assert titles("q=%25") == set()  # a LIKE wildcard is searched for literally


def test_the_list_is_paginated(panel: Panel, make_segment: Any) -> None:
    for n in range(27):
        make_segment(DISTRICT, f"Bản tin số {n}")
    client = panel.client("editor", DISTRICT)
    first = client.get("/segments").get_data(as_text=True)
    assert "Trang 1 / 2" in first and first.count('href="/segments/') >= 25
    second = client.get("/segments?page=2").get_data(as_text=True)
    assert "Trang 2 / 2" in second
    assert len(re.findall(r'<a href="/segments/\d+">', second)) == 2
    assert client.get("/segments?page=abc").status_code == 200
    assert client.get("/segments?page=999").status_code == 200


# --- Upload ---------------------------------------------------------------------------------


def test_a_phone_recording_becomes_a_ready_segment(
    panel: Panel, network: Any, tmp_path: Path
) -> None:
    client = panel.client("editor", DISTRICT)
    response = panel_upload(client, make_recording(tmp_path / "ghi-am.m4a", seconds=2),
                       topic="xhht-2023-2030/nguoi-dan-tu-hoc")  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    segment = network.scalar(select(Segment))
    assert segment.status == "ready" and segment.campaign.code == "xhht-2023-2030"
    assert segment.topic.code == "nguoi-dan-tu-hoc" and segment.original_name == "ghi-am.m4a"
    assert response.headers["Location"] == f"/segments/{segment.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã tải lên và xử lý xong" in page and "Chờ duyệt" in page
    assert f'src="/segments/{segment.id}/audio"' in page
    audio = client.get(f"/segments/{segment.id}/audio", headers={"Range": "bytes=0-99"})
    assert audio.status_code == 206 and audio.mimetype == "audio/mpeg" and len(audio.data) == 100


def test_a_quiet_recording_is_accepted_with_a_warning_to_listen_again(
    panel: Panel, network: Any, tmp_path: Path
) -> None:
    from tests.audio_fixtures import tone

    client = panel.client("editor", DISTRICT)
    quiet = tone(tmp_path / "xa-loa.wav", 3, 440, amplitude=10 ** (-51 / 20) * 2**0.5)
    response = panel_upload(client, quiet)
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bản ghi rất nhỏ" in page and "im lặng" not in page


def test_the_upload_script_gets_json(panel: Panel, network: Any, tmp_path: Path) -> None:
    client = panel.client("editor", DISTRICT)
    done = panel_upload(client, make_recording(tmp_path / "a.m4a", seconds=2), xhr=True)
    assert done.status_code == 200
    assert as_json(done)["redirect"] == f"/segments/{network.scalar(select(Segment.id))}"
    refused = panel_upload(client, None, xhr=True, title="")
    assert refused.status_code == 400
    assert as_json(refused)["errors"]["title"] == ["Hãy nhập tiêu đề."]
    assert as_json(refused)["errors"]["file"] == ["Hãy chọn tệp âm thanh để tải lên."]


def _upload_several(client: PanelClient, files: list[tuple[bytes, str]], **form: str) -> Any:
    token = csrf_token(client.get("/segments/new").get_data(as_text=True))
    data: dict[str, Any] = {"csrf_token": token, "title": "", "owner": "347", **form}
    data["file"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post("/segments/new", data=data, content_type="multipart/form-data")


def test_several_files_at_once_each_become_a_bulletin_and_a_refused_one_costs_only_itself(
    panel: Panel, network: Any, tmp_path: Path
) -> None:
    client = panel.client("editor", DISTRICT)
    morning = make_recording(tmp_path / "ban_tin_sang.m4a", seconds=2).read_bytes()
    evening = make_recording(tmp_path / "ban-tin-chieu.m4a", seconds=2).read_bytes()
    files = [(morning, "ban_tin_sang.m4a"), ("không phải âm thanh".encode(), "ghi-chu.txt"),
             (evening, "ban-tin-chieu.m4a")]  # fmt: skip
    response = _upload_several(client, files)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Đã tải lên 2/3 tệp." in html
    refused = re.search(r'<li class="refused">(.*?)</li>', html, re.S)
    assert refused and "ghi-chu.txt" in refused.group(1)
    assert "Tệp không phải âm thanh" in refused.group(1)
    titles = sorted(network.scalars(select(Segment.title)))
    assert titles == ["ban tin sang", "ban-tin-chieu"]  # named after their files
    for segment in network.scalars(select(Segment)):
        assert f'href="/segments/{segment.id}"' in html and segment.status == "ready"

    # a typed title goes before each file's name
    again = _upload_several(client, files[:1] + files[2:], title="Tuần học tập")
    assert "Đã tải lên 2/2 tệp." in again.get_data(as_text=True)
    assert {"Tuần học tập — ban tin sang", "Tuần học tập — ban-tin-chieu"} <= set(
        network.scalars(select(Segment.title))
    )


def test_the_upload_script_sends_several_files_one_request_each(
    panel: Panel, network: Any, tmp_path: Path
) -> None:
    client = panel.client("editor", DISTRICT)
    done = panel_upload(client, make_recording(tmp_path / "loa_xa_so_3.m4a", seconds=2), xhr=True,
                   title="", several="1")  # fmt: skip
    assert done.status_code == 200
    answer = as_json(done)
    assert answer["title"] == "loa xa so 3"
    assert answer["redirect"] == f"/segments/{network.scalar(select(Segment.id))}"


def test_several_files_that_cannot_go_in_are_refused_with_nothing_stored(
    panel: Panel, network: Any, tmp_path: Path
) -> None:
    client = panel.client("editor", DISTRICT)
    recording = make_recording(tmp_path / "a.m4a", seconds=2).read_bytes()
    too_many = _upload_several(client, [(recording, f"{i}.m4a") for i in range(21)])
    assert too_many.status_code == 400
    assert field_errors(too_many.get_data(as_text=True), "file") == ["Chọn tối đa 20 tệp mỗi lần."]
    elsewhere = _upload_several(client, [(recording, "a.m4a")] * 2, owner=OTHER_DISTRICT)
    assert elsewhere.status_code == 400
    assert field_errors(elsewhere.get_data(as_text=True), "owner") == [
        "Hãy chọn một đài trong phạm vi của bạn."
    ]
    junk = _upload_several(client, [(b"", "a.mp3"), (bytes(range(256)) * 8, "b.mp3")])
    assert junk.status_code == 400 and "Đã tải lên 0/2 tệp." in junk.get_data(as_text=True)
    assert _count(network) == 0


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("random.mp3", bytes(range(256)) * 80, "Tệp không phải âm thanh"),
        ("empty.wav", b"", "Tệp"),
        ("notes.txt", "Bản tin chưa ghi âm".encode(), "Tệp không phải âm thanh"),
    ],
    ids=["random-bytes", "zero-length", "text-file"],
)
def test_an_unplayable_file_is_refused_next_to_the_field_and_nothing_is_stored(
    panel: Panel, network: Any, app: Any, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    client = panel.client("editor", DISTRICT)
    path = tmp_path / name
    path.write_bytes(content)
    response = panel_upload(client, path, title="Bản tin hỏng")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    errors = field_errors(html, "file")
    assert errors and errors[0].startswith(reason), errors
    assert input_value(html, "title") == "Bản tin hỏng"  # the other values are kept
    assert _count(network) == 0
    assert [p for p in stored_files(app) if p.suffix == ".mp3"] == []


def test_missing_title_and_file_are_named(panel: Panel, network: Any) -> None:
    response = panel_upload(panel.client("editor", DISTRICT), None, title="  ")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_errors(html, "title") == ["Hãy nhập tiêu đề."]
    assert field_errors(html, "file") == ["Hãy chọn tệp âm thanh để tải lên."]
    assert _count(network) == 0


def test_a_topic_of_another_campaign_is_refused(panel: Panel, network: Any, tmp_path: Path) -> None:
    other = network.scalar(select(Campaign).where(Campaign.code != "xhht-2023-2030"))
    path = make_recording(tmp_path / "a.m4a", seconds=2)
    response = panel_upload(panel.client("editor", DISTRICT), path, campaign=other.code,
                       topic="xhht-2023-2030/nguoi-dan-tu-hoc")  # fmt: skip
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "topic") == [
        "Chủ đề này không thuộc chiến dịch đã chọn."
    ]
    assert _count(network) == 0


def test_an_owner_outside_the_area_is_refused(panel: Panel, network: Any, tmp_path: Path) -> None:
    path = make_recording(tmp_path / "a.m4a", seconds=2)
    response = panel_upload(panel.client("editor", DISTRICT), path, owner=OTHER_DISTRICT)
    assert response.status_code == 400
    assert field_errors(response.get_data(as_text=True), "owner") == [
        "Hãy chọn một đài trong phạm vi của bạn."
    ]
    assert _count(network) == 0


def test_an_operator_adds_audio_for_their_own_commune_only(
    panel: Panel, network: Any, tmp_path: Path
) -> None:
    """As the domain rules (scheduler.permissions.require_author): local bulletins."""
    client = panel.client("operator", COMMUNE)
    form = client.get("/segments/new").get_data(as_text=True)
    assert f'<input type="hidden" name="owner" value="{COMMUNE}">' in form
    path = make_recording(tmp_path / "a.m4a", seconds=2)
    refused = panel_upload(client, path, owner="13291")
    assert refused.status_code == 400 and _count(network) == 0
    done = panel_upload(client, path, owner=COMMUNE)
    assert done.status_code == 302
    assert network.scalar(select(Segment)).owner.code == COMMUNE


class TestOversize:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"tts_engine": "espeak", "max_upload_mb": 1}

    def test_an_upload_over_the_limit_is_refused_before_it_is_read(
        self, panel: Panel, network: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        import werkzeug.formparser

        def never(*args: Any, **kw: Any) -> Any:  # the body must not be parsed at all
            raise AssertionError("the oversize body was read")

        client = panel.client("editor", DISTRICT)
        token = csrf_token(client.get("/segments/new").get_data(as_text=True))
        monkeypatch.setattr(werkzeug.formparser.FormDataParser, "parse", never)

        def big() -> dict[str, Any]:
            return {"csrf_token": token, "title": "x",
                    "file": (io.BytesIO(bytes(2 * 1024 * 1024)), "big.mp3")}  # fmt: skip

        response = client.post("/segments/new", data=big(), content_type="multipart/form-data")
        assert response.status_code == 413
        assert field_errors(response.get_data(as_text=True), "file") == [
            "Tệp quá lớn: chỉ nhận tệp đến 1 MB."
        ]
        xhr = client.post("/segments/new", data=big(), content_type="multipart/form-data",
                          headers={"X-Requested-With": "XMLHttpRequest"})  # fmt: skip
        assert xhr.status_code == 413 and as_json(xhr)["errors"]["file"]
        assert _count(network) == 0


class TestLongRecordings:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"tts_engine": "espeak", "sync_audio_max_s": 0, "sync_tts_max_chars": 0}

    def test_a_long_recording_is_processed_in_the_background(
        self, app: Any, panel: Panel, network: Any, tmp_path: Path
    ) -> None:
        client = panel.client("editor", DISTRICT)
        response = panel_upload(client, make_recording(tmp_path / "dai.m4a", seconds=2))
        assert response.status_code == 302
        segment_id = network.scalar(select(Segment.id))
        page = client.get(f"/segments/{segment_id}").get_data(as_text=True)
        assert "Đã nhận tệp; bản ghi dài đang được xử lý." in page
        app.extensions["loaxa"]["jobs"].shutdown()  # wait for the ingest
        status = as_json(client.get(f"/segments/{segment_id}/status"))
        assert status["status"] == "ready" and status["label"] == "Chờ duyệt"
        assert "Đang xử lý âm thanh" not in client.get(f"/segments/{segment_id}").get_data(
            as_text=True
        )

    def test_a_long_bulletin_is_spoken_in_the_background(
        self, app: Any, panel: Panel, network: Any
    ) -> None:
        client = panel.client("editor", DISTRICT)
        checked = input_value(_tts(client, "preview").get_data(as_text=True), "checked") or ""
        response = _tts(client, "speak", checked)
        assert response.status_code == 302
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Bản tin dài đang được đọc" in page and "Đang xử lý âm thanh" in page
        app.extensions["loaxa"]["jobs"].shutdown()
        network.expire_all()
        segment = network.scalar(select(Segment))
        assert segment.status == "ready" and segment.engine == "espeak"


def test_the_pages_open_in_english(panel: Panel, make_segment: Any) -> None:
    segment = make_segment(DISTRICT)
    client = panel.client("approver", DISTRICT)
    for url in ("/segments", "/segments/new", "/segments/tts", f"/segments/{segment.id}"):
        response = client.get(f"{url}?lang=en")
        assert response.status_code == 200, url
        assert '<html lang="en">' in response.get_data(as_text=True)


# --- TTS composer ---------------------------------------------------------------------------

TEXT = "UBND phường tổ chức Ngày Sách 21/4 lúc 17h30."


def _tts(client: PanelClient, action: str, checked: str = "", **form: str) -> Any:
    data = {"title": "Ngày Sách", "owner": DISTRICT, "text": TEXT, "engine": "espeak",
            "voice": "north", "speed": "1.0", "action": action, "checked": checked,
            **form}  # fmt: skip
    return client.form_post("/segments/tts", data)


def test_tts_shows_the_normalised_text_then_speaks(panel: Panel, network: Any) -> None:
    client = panel.client("editor", DISTRICT)
    page = client.get("/segments/tts").get_data(as_text=True)
    assert "Xem văn bản chuẩn hoá" in page and 'value="speak"' not in page
    assert "Giọng Bắc" in page and "Giọng Trung" in page and "Giọng Nam" in page
    assert "espeak-ng" in page

    preview = _tts(client, "preview")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert "Ủy ban nhân dân" in html and "mười bảy giờ ba mươi" in html
    assert 'value="speak"' in html and _count(network) == 0
    checked = input_value(html, "checked")
    assert checked

    spoken = _tts(client, "speak", checked)
    assert spoken.status_code == 302, spoken.get_data(as_text=True)
    segment = network.scalar(select(Segment))
    assert segment.source == "tts" and segment.engine == "espeak" and segment.voice == "north"
    assert segment.status == "ready" and "Ủy ban nhân dân" in (segment.spoken_text or "")
    shown = client.get(spoken.headers["Location"]).get_data(as_text=True)
    assert "Máy đã đọc" in shown and f'src="/segments/{segment.id}/audio"' in shown
    audio = client.get(f"/segments/{segment.id}/audio", headers={"Range": "bytes=0-"})
    assert audio.status_code == 206 and len(audio.data) > 1000


def test_the_voice_is_heard_before_anything_is_saved(panel: Panel, network: Any) -> None:
    """ "Nghe thử": the first two sentences, spoken by the chosen voice at the chosen speed,
    answered as audio and stored nowhere; a slower speed gives longer audio."""
    import io
    import wave

    client = panel.client("editor", DISTRICT)
    text = (
        "Kính thưa bà con. UBND phường tổ chức Ngày Sách 21/4 lúc 17h30. "
        "Câu thứ ba này không được đọc thử. Câu thứ tư cũng vậy."
    )

    def listen(speed: str) -> float:
        answer = client.form_post("/segments/tts/listen", {
            "text": text, "engine": "espeak", "voice": "north", "speed": speed,
        }, page="/segments/tts")  # fmt: skip
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.mimetype == "audio/wav" and answer.headers["Cache-Control"] == "no-store"
        with wave.open(io.BytesIO(answer.data)) as heard:
            return heard.getnframes() / heard.getframerate()

    normal, slow = listen("1.0"), listen("0.8")
    assert 2 < normal < 12, normal  # two sentences, not four
    assert slow > normal * 1.1, (slow, normal)
    assert _count(network) == 0  # nothing saved
    empty = client.form_post("/segments/tts/listen", {"text": " ", "engine": "espeak",
                             "voice": "north", "speed": "1.0"}, page="/segments/tts")  # fmt: skip
    assert empty.status_code == 400 and empty.json and empty.json["error"]
    no_csrf = client.post("/segments/tts/listen", data={"text": text})
    assert no_csrf.status_code == 400


def test_tts_will_not_speak_text_changed_after_the_preview(panel: Panel, network: Any) -> None:
    client = panel.client("editor", DISTRICT)
    checked = input_value(_tts(client, "preview").get_data(as_text=True), "checked") or ""
    changed = _tts(client, "speak", checked, text=TEXT + " Mời bà con đến dự.")
    assert changed.status_code == 400
    html = changed.get_data(as_text=True)
    assert field_errors(html, "text")[0].startswith("Văn bản đã thay đổi sau lần xem trước.")
    assert "Mời bà con đến dự" in html  # the preview of the new text is shown
    assert _count(network) == 0
    assert _tts(client, "speak", "").status_code == 400  # no preview at all


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("text", "   ", "Văn bản trống hoặc chỉ có dấu câu, không có gì để đọc."),
        ("text", "... !!!", "Văn bản trống hoặc chỉ có dấu câu, không có gì để đọc."),
        ("text", "a" * 20_001,
         "Văn bản quá dài (20001 ký tự, tối đa 20000); hãy chia thành nhiều bản tin."),
        ("voice", "west", "Hãy chọn giọng Bắc, Trung hoặc Nam."),
        ("engine", "polly", "Hãy chọn một bộ đọc trong danh sách."),
        ("speed", "9", "Hãy chọn một tốc độ trong danh sách."),
        ("title", "", "Hãy nhập tiêu đề."),
    ],
)  # fmt: skip
def test_bad_tts_input_is_explained_next_to_the_field(
    panel: Panel, network: Any, field: str, value: str, message: str
) -> None:
    client = panel.client("editor", DISTRICT)
    response = _tts(client, "speak", "x", **{field: value})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in field_errors(html, field)
    assert _count(network) == 0


# --- Approval -------------------------------------------------------------------------------


def test_an_approver_approves_and_rejects_with_a_reason(
    panel: Panel, network: Any, make_segment: Any
) -> None:
    segment = make_segment(COMMUNE, "Thông báo họp dân")
    client = panel.client("approver", DISTRICT)
    page = client.get(f"/segments/{segment.id}").get_data(as_text=True)
    assert "Duyệt bản tin" in page

    no_reason = client.form_post(f"/segments/{segment.id}/reject", {"reason": "  "},
                                 page=f"/segments/{segment.id}")  # fmt: skip
    assert no_reason.status_code == 400
    assert field_errors(no_reason.get_data(as_text=True), "reason") == [
        "Hãy ghi lý do không duyệt để người biên tập biết cần sửa gì."
    ]
    network.expire_all()
    assert network.get(Segment, segment.id).rejected_at is None

    approved = client.form_post(
        f"/segments/{segment.id}/approve", {}, page=f"/segments/{segment.id}"
    )
    assert approved.status_code == 302
    network.expire_all()
    assert network.get(Segment, segment.id).approval == "approved"
    assert "Đã duyệt bản tin" in client.get(f"/segments/{segment.id}").get_data(as_text=True)

    rejected = client.form_post(f"/segments/{segment.id}/reject",
                                {"reason": "Sai giờ họp, đề nghị ghi âm lại."},
                                page=f"/segments/{segment.id}")  # fmt: skip
    assert rejected.status_code == 302
    network.expire_all()
    again = network.get(Segment, segment.id)
    assert (
        again.approval == "rejected" and again.rejected_reason == "Sai giờ họp, đề nghị ghi âm lại."
    )
    shown = client.get(f"/segments/{segment.id}").get_data(as_text=True)
    assert "Sai giờ họp, đề nghị ghi âm lại." in shown


@pytest.mark.parametrize(
    ("role", "station"),
    [("editor", DISTRICT), ("operator", COMMUNE), ("approver", OTHER_DISTRICT),
     ("approver", OTHER_COMMUNE), ("admin", OTHER_DISTRICT)],
)  # fmt: skip
def test_others_cannot_approve(
    panel: Panel, network: Any, make_segment: Any, role: str, station: str
) -> None:
    segment = make_segment(COMMUNE)
    client = panel.client(role, station)
    page = client.get(f"/segments/{segment.id}")
    if page.status_code == 200:  # editors and the commune's operator see it, without buttons
        assert "Duyệt bản tin" not in page.get_data(as_text=True)
    for url, data in [(f"/segments/{segment.id}/approve", {}),
                      (f"/segments/{segment.id}/reject", {"reason": "Không"})]:  # fmt: skip
        assert client.form_post(url, data, page="/segments").status_code == 403
    network.expire_all()
    assert network.get(Segment, segment.id).approval == "pending"


def test_a_failed_segment_cannot_be_approved(panel: Panel, network: Any, make_segment: Any) -> None:
    segment = make_segment(DISTRICT, status="failed", error="Tệp đã hỏng.", media_file=None)
    client = panel.client("approver", DISTRICT)
    page = client.get(f"/segments/{segment.id}").get_data(as_text=True)
    assert "Tệp đã hỏng." in page and "Duyệt bản tin" not in page
    response = client.form_post(f"/segments/{segment.id}/approve", {}, page="/segments")
    assert response.status_code == 302
    assert "Chỉ duyệt được bản tin đã xử lý xong." in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


def test_approval_needs_the_csrf_token(panel: Panel, network: Any, make_segment: Any) -> None:
    segment = make_segment(DISTRICT)
    client = panel.client("approver", DISTRICT)
    response = client.post(f"/segments/{segment.id}/approve")
    assert response.status_code == 400
    network.expire_all()
    assert network.get(Segment, segment.id).approval == "pending"


def test_a_notice_template_fills_the_composer(panel: Panel) -> None:
    client = panel.client("editor", DISTRICT)
    page = client.get("/segments/tts").get_data(as_text=True)
    for name in ("Mời họp dân", "Lịch tiêm chủng", "Cảnh báo bão, mưa lớn"):
        assert name in page
    storm = client.get("/segments/tts?mau=bao").get_data(as_text=True)
    assert input_value(storm, "title") == "Cảnh báo bão số [số]"
    assert "chằng chống nhà cửa" in storm and "Thay các chỗ […]" in storm
    unknown = client.get("/segments/tts?mau=khong-co")
    assert unknown.status_code == 200 and "Thay các chỗ" not in unknown.get_data(as_text=True)
