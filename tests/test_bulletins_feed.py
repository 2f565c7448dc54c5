"""The e-portal channel (issue #10): what an approver publishes — and only that — appears in
``/feeds/bulletins.rss`` (parsed with feedparser as a reader would) and on ``/ban-tin``,
with audio that plays from any offset (Range) and no login anywhere."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import feedparser
import pytest

from tests.audio_fixtures import tone
from tests.network_codes import PHU_LY

pytestmark = pytest.mark.slow  # see setup.cfg: make test-fast skips it

CAMPAIGN = "xhht-2023-2030"


def upload(caller: Any, path: Path, title: str, **form: str) -> dict[str, Any]:
    data = {"title": title, "file": (io.BytesIO(path.read_bytes()), path.name), **form}
    answer = caller.post("/api/v1/segments", data=data, content_type="multipart/form-data")
    assert answer.status_code == 201, answer.json
    return dict(answer.json)


@pytest.fixture
def bulletins(make_caller: Any, tmp_path: Path) -> dict[str, Any]:
    editor, approver = make_caller("editor", PHU_LY), make_caller("approver", PHU_LY)
    made = {}
    for name, seconds, form in (("published", 2.0, {"campaign": CAMPAIGN}),
                                ("elsewhere", 1.5, {}), ("draft", 1.0, {})):  # fmt: skip
        segment = upload(editor, tone(tmp_path / f"{name}.wav", seconds, 440), f"Bản tin {name}",
                         **form)  # fmt: skip
        if name != "draft":
            assert approver.post(f"/api/v1/segments/{segment['id']}/approve").status_code == 200
        made[name] = segment
    for name in ("published", "elsewhere"):
        answer = approver.post(f"/api/v1/segments/{made[name]['id']}/publish")
        assert answer.status_code == 200 and answer.json["published_at"], answer.json
    return {"editor": editor, "approver": approver, **made}


def test_the_feed_lists_only_published_bulletins_with_their_audio(app, bulletins):
    client = app.test_client()  # nobody signed in
    answer = client.get("/feeds/bulletins.rss")
    assert answer.status_code == 200 and answer.mimetype == "application/rss+xml"
    feed = feedparser.parse(answer.data)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "rss20" and feed.feed.language == "vi"
    titles = [e.title for e in feed.entries]
    assert sorted(titles) == ["Bản tin elsewhere", "Bản tin published"]
    [entry] = [e for e in feed.entries if e.title == "Bản tin published"]
    [enclosure] = entry.enclosures
    assert enclosure.type == "audio/mpeg"
    audio = client.get(enclosure.href.removeprefix("http://localhost"))
    assert audio.status_code == 200 and int(enclosure.length) == len(audio.data)
    assert entry.itunes_duration == "2"

    only = feedparser.parse(client.get(f"/feeds/bulletins.rss?campaign={CAMPAIGN}").data)
    assert [e.title for e in only.entries] == ["Bản tin published"]
    assert client.get("/feeds/bulletins.rss?campaign=khong-co").status_code == 404


def test_the_public_page_plays_the_audio_from_any_offset(app, bulletins):
    client = app.test_client()
    page = client.get("/ban-tin").get_data(as_text=True)
    assert "Bản tin published" in page and "Bản tin draft" not in page
    url = f"/ban-tin/{bulletins['published']['id']}.mp3"
    assert f'src="{url}"' in page
    part = client.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and len(part.data) == 100
    assert part.headers["Content-Range"].startswith("bytes 100-199/")


def test_nothing_unpublished_leaks(app, bulletins):
    client, approver = app.test_client(), bulletins["approver"]
    draft = bulletins["draft"]["id"]
    assert client.get(f"/ban-tin/{draft}.mp3").status_code == 404  # not approved, not published
    refused = approver.post(f"/api/v1/segments/{draft}/publish")
    assert refused.status_code == 422 and "approve" in refused.json["error"]
    assert bulletins["editor"].post(
        f"/api/v1/segments/{bulletins['published']['id']}/publish").status_code == 403  # fmt: skip

    gone = bulletins["elsewhere"]["id"]
    assert approver.post(f"/api/v1/segments/{gone}/unpublish").status_code == 200
    rejected = bulletins["published"]["id"]
    answer = approver.post(f"/api/v1/segments/{rejected}/reject", json={"reason": "Sai số liệu"})
    assert answer.status_code == 200 and answer.json["published_at"] is None
    assert feedparser.parse(client.get("/feeds/bulletins.rss").data).entries == []
    for segment in (gone, rejected):
        assert client.get(f"/ban-tin/{segment}.mp3").status_code == 404
    assert "Chưa có bản tin nào được công bố." in client.get("/ban-tin").get_data(as_text=True)


def test_an_approver_publishes_and_withdraws_from_the_panel(app, network, bulletins):
    from tests.panel_support import Panel, csrf_token

    panel = Panel(app, network)
    client = panel.client("approver", PHU_LY, "cong.bo.phuly")
    shown = client.get(f"/segments/{bulletins['elsewhere']['id']}").get_data(as_text=True)
    assert "Đã công bố trên trang Bản tin" in shown
    token = csrf_token(shown)
    url = f"/segments/{bulletins['elsewhere']['id']}/publish"
    withdrawn = client.post(url, data={"csrf_token": token, "withdraw": "1"},
                            follow_redirects=True)  # fmt: skip
    assert "Đã gỡ bản tin" in withdrawn.get_data(as_text=True)
    feed = feedparser.parse(app.test_client().get("/feeds/bulletins.rss").data)
    assert [e.title for e in feed.entries] == ["Bản tin published"]
    again = client.post(url, data={"csrf_token": token}, follow_redirects=True)
    assert "Đã công bố bản tin" in again.get_data(as_text=True)
