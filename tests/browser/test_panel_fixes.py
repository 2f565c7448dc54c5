"""What tripped daily users (issue #11), in Debian's Chromium at a phone's width (390 px) and
a desktop's (1366 px): nothing wider than the screen, the column people came for in view,
and each fix doing what it says — the schedule form, a change waiting beside an approved
broadcast, the approval queue, a refused upload, the audit log in words."""

from __future__ import annotations

import hashlib
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduler.broadcasts import BroadcastSpec, save_broadcast
from scheduler.models import MediaFile, Program, ProgramItem, Segment, Station, User
from tests.browser.browser_support import sign_in
from tests.browser.conftest import LiveServer

try:
    from playwright.sync_api import expect
except ImportError:  # the ``chromium`` fixture skips (or fails) with the reason
    expect = None  # type: ignore[assignment]

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
WIDTHS = [390, 1366]

# Elements sticking out past the right edge, leaving out what is clipped on purpose (inside
# a scrolling box, or visually hidden): what a reader would have to scroll sideways to see.
OVERFLOWING = """(vw) => {
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1 || r.right <= vw + 1) continue;
    let clipped = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (["auto", "scroll", "hidden", "clip"].includes(style.overflowX)) { clipped = true; break; }
    }
    if (!clipped) out.push(`${el.tagName.toLowerCase()}.${el.className} → ${Math.round(r.right)}`);
  }
  return out.slice(0, 5);
}"""


def fits(page: Any, width: int, what: str) -> None:
    sideways = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert sideways <= 0, f"{what} scrolls sideways by {sideways}px at {width}px"
    wide = page.evaluate(OVERFLOWING, width)
    assert not wide, f"{what} at {width}px: wider than the screen: {wide}"


def open_menu(page: Any, width: int) -> None:
    """On a phone the menu folds behind one button; on a desktop it is simply there."""
    if width < 768:
        page.get_by_role("button", name="Trình đơn", exact=False).click()


def _programme(live: LiveServer, title: str, approved: bool = True) -> int:
    """A rendered Phủ Lý programme of one stored bulletin (approved or still waiting)."""
    settings = live.app.extensions["loaxa"]["settings"]
    with live.app.extensions["loaxa"]["sessions"]() as db:
        owner = db.scalar(select(Station).where(Station.code == "347"))
        now = datetime.now(UTC)

        def stored(name: str) -> MediaFile:
            sha = hashlib.sha256(f"{title}-{name}".encode()).hexdigest()
            path = Path(settings.resolved_media_dir) / sha[:2] / f"{sha}.mp3"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\xff\xfb" + bytes(998))
            return MediaFile(sha256=sha, bytes=1000, duration_ms=60_000, created_at=now)

        segment = Segment(
            title=f"{title} (bản tin)", owner=owner, status="ready", progress=100,
            source="upload", media_file=stored("s"), created_at=now,
            approved_at=now if approved else None,
        )  # fmt: skip
        program = Program(
            title=title, owner=owner, status="ready", duration_ms=60_000, created_at=now,
            media_file=stored("p"), items=[ProgramItem(position=0, segment=segment)],
        )  # fmt: skip
        db.add(program)
        db.commit()
        return program.id


def _broadcast(live: LiveServer, username: str, title: str, program: int, at: datetime) -> int:
    with live.app.extensions["loaxa"]["sessions"]() as db:
        actor = db.scalar(select(User).where(User.username == username))
        spec = BroadcastSpec(
            title=title, owner="347", kind="program", program=program,
            start=at.replace(tzinfo=None), targets=["13285"],
        )  # fmt: skip
        now = datetime.now(UTC)
        result = save_broadcast(db, live.app.extensions["loaxa"]["settings"], actor, spec, now)
        db.commit()
        return result.broadcast.id


def _tomorrow(hour: int) -> datetime:
    day = datetime.now(ZONE).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=ZONE)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_broadcast_form_ticks_nothing_finds_stations_and_refuses_the_past(
    page: Any, live_server: LiveServer, width: int
) -> None:
    _programme(live_server, "Bản tin học tập")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "bientap.phuly")
    page.goto("/schedule/new?station=347")
    fits(page, width, "the broadcast form")
    tree = page.locator("#targets")
    expect(tree.locator("input[name=targets]:checked")).to_have_count(0)
    expect(page.locator("#target-picked")).to_have_text("Chưa chọn đài nào.")
    # "Một lần" is the default: no weekday boxes under it.
    expect(page.get_by_label("T2", exact=True)).to_be_hidden()
    page.get_by_label("Các thứ trong tuần").check()
    expect(page.get_by_label("T2", exact=True)).to_be_visible()
    page.get_by_label("Một lần").check()
    expect(page.get_by_label("T2", exact=True)).to_be_hidden()
    # The tree is searched without diacritics.
    page.get_by_placeholder("Tìm đài theo tên hoặc mã…").fill("quang trung")
    quang_trung = tree.locator("input[name=targets][value='13285']")
    expect(quang_trung).to_be_visible()
    expect(tree.locator("input[name=targets][value='13291']")).to_be_hidden()
    quang_trung.check()
    expect(page.locator("#target-picked")).to_contain_text("Phường Quang Trung")
    page.get_by_placeholder("Tìm đài theo tên hoặc mã…").fill("")
    expect(tree.locator("input[name=targets][value='13291']")).to_be_visible()
    # A date long past is refused on the date, and nothing is saved.
    page.get_by_label("Tên buổi phát").fill("Gõ nhầm năm")
    page.locator("select[name=program]").select_option(index=1)
    page.get_by_label("Ngày bắt đầu").fill("2020-01-01")
    page.get_by_label("Giờ phát").fill("19:00")
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.locator("#start_date-error")).to_contain_text("Giờ phát này đã qua")
    expect(quang_trung).to_be_checked()  # what was typed is kept
    fits(page, width, "the refused form")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_change_waits_beside_the_approved_broadcast_and_the_queue_approves_it(
    page: Any, live_server: LiveServer, width: int
) -> None:
    program = _programme(live_server, "Thời sự tối")
    waiting = _programme(live_server, "Chương trình chờ duyệt", approved=False)
    evening = _broadcast(live_server, "duyet.phuly", "Thời sự tối", program, _tomorrow(19))
    _broadcast(live_server, "bientap.phuly", "Tin chờ bản tin", waiting, _tomorrow(20))
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "bientap.phuly")
    page.goto(f"/schedule/{evening}/edit")
    expect(page.locator(".revision-notice")).to_contain_text("lịch đã duyệt vẫn phát như cũ")
    page.get_by_label("Giờ phát").fill("18:45")
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.get_by_text("Lịch đã duyệt vẫn phát như cũ")).to_be_visible()
    page.goto(f"/schedule/{evening}")
    expect(page.locator(".status")).to_have_text("Đã duyệt")  # still on air, as approved
    expect(page.locator("section.revision")).to_contain_text("18:45")
    fits(page, width, "the broadcast page")
    open_menu(page, width)
    page.get_by_role("button", name="Đăng xuất").click()

    sign_in(page, "duyet.phuly")
    page.goto("/schedule/approvals")
    fits(page, width, "the approval queue")
    change = page.locator("article.queue-item", has_text="Thời sự tối")
    expect(change).to_contain_text("lúc 19:00")
    expect(change).to_contain_text("lúc 18:45")
    blocked = page.locator("article.queue-item", has_text="Tin chờ bản tin")
    expect(blocked.locator("audio")).to_have_count(2)  # the programme and its bulletin
    blocked.get_by_role("button", name="Duyệt bản tin").click()
    expect(page.get_by_text("Đã duyệt bản tin")).to_be_visible()
    page.get_by_label("Chọn tất cả").check()
    page.get_by_role("button", name="Duyệt các buổi đã chọn").click()
    expect(page.get_by_text("Đã duyệt 2 buổi phát.")).to_be_visible()
    expect(page.get_by_text("Không có buổi phát nào đang chờ duyệt.")).to_be_visible()
    page.goto(f"/schedule/{evening}")
    expect(page.locator("section.revision")).to_have_count(0)
    expect(page.locator(".card").first).to_contain_text("18:45")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_refused_upload_leaves_only_the_refusal(
    page: Any, live_server: LiveServer, width: int, tmp_path: Path
) -> None:
    not_audio = tmp_path / "ghi-chu.mp3"
    not_audio.write_bytes(bytes(range(256)) * 200)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "bientap.phuly")
    page.goto("/segments/new")
    page.get_by_label("Tiêu đề").fill("Tệp hỏng")
    page.get_by_label("Tệp âm thanh").set_input_files(str(not_audio))
    page.get_by_role("button", name="Tải lên").click()
    expect(page.locator(".js-error")).to_contain_text("Tệp không phải âm thanh")
    expect(page.locator("#upload-progress")).to_be_hidden()
    expect(page.get_by_text("đang xử lý")).to_have_count(0)
    fits(page, width, "the refused upload")


@pytest.mark.parametrize("width", WIDTHS)
def test_main_pages_fit_and_say_things_in_words(
    page: Any, live_server: LiveServer, width: int
) -> None:
    program = _programme(live_server, "Bản tin sáng")
    _broadcast(live_server, "duyet.phuly", "Bản tin sáng", program, _tomorrow(6))
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "admin")
    header = page.locator("header.top").bounding_box()
    assert header is not None and header["height"] < 80, f"the header is {header} at {width}px"
    for url in ("/", "/schedule", "/programs", "/programs/new", "/segments", "/stations",
                "/stations/13285", "/stations/13285/relay", "/users", "/audit", "/alerts",
                "/reports"):  # fmt: skip
        page.goto(url)
        fits(page, width, url)
    page.goto("/programs/new")
    add = page.get_by_role("button", name="Thêm “Bản tin sáng (bản tin)”")
    add.scroll_into_view_if_needed()
    expect(add).to_be_in_viewport()  # the builder's "Thêm" buttons are on screen, not
    box = add.bounding_box()  # beyond its right edge
    assert box is not None and box["x"] + box["width"] <= width, box
    page.goto("/audit")
    expect(page.locator(".sentence").first).to_be_visible()
    expect(page.get_by_text("tạo buổi phát «Bản tin sáng»").first).to_be_visible()
    expect(page.locator("details.raw code").first).to_be_hidden()  # codes folded away
    page.goto("/schedule?station=13285")
    expect(page.locator(".week-range")).to_contain_text("giờ Việt Nam")
    if width < 768:
        expect(page.get_by_role("navigation", name="Điều hướng chính")).to_be_hidden()
        open_menu(page, width)
    expect(page.get_by_role("navigation", name="Điều hướng chính")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_day_and_month_views_fit_and_lead_from_one_to_the_other(
    page: Any, live_server: LiveServer, width: int
) -> None:
    at = _tomorrow(6)
    program = _programme(live_server, "Bản tin sáng")
    _broadcast(live_server, "duyet.phuly", "Bản tin sáng", program, at)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "bientap.phuly")
    page.goto(f"/schedule?station=13285&view=month&month={at:%Y-%m}")
    fits(page, width, "the month view")
    expect(page.locator(".week-range")).to_contain_text(f"Tháng {at.month}/{at.year}")
    cell = page.locator(f'.mday[data-day="{at.date().isoformat()}"]')
    expect(cell.locator(".item")).to_have_text("06:00 Bản tin sáng")
    expect(cell.locator(".item")).to_be_in_viewport()
    cell.locator("h2 a").click()  # the day's heading opens that day
    expect(page.locator(".week-range")).to_contain_text(f"{at.day}/{at.month}/{at.year}")
    expect(page.locator("section.day")).to_have_count(1)
    block = page.locator("section.day .block")
    expect(block).to_contain_text("Bản tin sáng")
    expect(block).to_contain_text("06:00–06:01")
    fits(page, width, "the day view")
    page.get_by_role("navigation", name="Kiểu xem").get_by_role("link", name="Tuần").click()
    expect(page.locator("section.day")).to_have_count(7)
    expect(page.locator(f'section.day[data-day="{at.date().isoformat()}"] .block')).to_have_count(1)


@pytest.mark.parametrize("width", WIDTHS)
def test_several_files_upload_each_with_its_own_progress_and_result(
    page: Any, live_server: LiveServer, width: int, tmp_path: Path
) -> None:
    from tests.audio_fixtures import make_recording

    morning = make_recording(tmp_path / "ban_tin_sang.m4a", seconds=2)
    broken = tmp_path / "ghi-chu.mp3"
    broken.write_bytes(bytes(range(256)) * 200)
    evening = make_recording(tmp_path / "ban_tin_chieu.m4a", seconds=2)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "bientap.phuly")
    page.goto("/segments/new")
    page.get_by_label("Tiêu đề").fill("Tuần học tập")
    page.get_by_label("Tệp âm thanh").set_input_files([str(morning), str(broken), str(evening)])
    page.get_by_role("button", name="Tải lên").click()
    expect(page.locator(".upload-summary")).to_have_text("Đã tải lên 2/3 tệp.", timeout=60_000)
    rows = page.locator("ol.upload-files li")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_have_class("stored")
    expect(rows.nth(0).get_by_role("link")).to_have_text("Tuần học tập — ban tin sang")
    expect(rows.nth(1)).to_have_class("refused")
    expect(rows.nth(1)).to_contain_text("ghi-chu.mp3")
    expect(rows.nth(1)).to_contain_text("Tệp không phải âm thanh")
    expect(rows.nth(2).get_by_role("link")).to_have_text("Tuần học tập — ban tin chieu")
    expect(page).to_have_url(f"{live_server.url}/segments/new")  # the results stay in view
    fits(page, width, "the upload of several files")
    rows.nth(2).get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("Tuần học tập — ban tin chieu")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_waiting_programme_says_why_and_can_still_be_scheduled(
    page: Any, live_server: LiveServer, width: int
) -> None:
    program = _programme(live_server, "Bản tin chờ duyệt", approved=False)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "bientap.phuly")
    page.goto(f"/programs/{program}")
    expect(page.locator("#program-state")).to_have_text("Chờ duyệt bản tin")
    expect(page.locator("#not-ready")).to_contain_text("Có 1 bản tin chưa được duyệt")
    expect(page.locator("#not-ready")).to_contain_text("Bản tin chờ duyệt (bản tin)")
    fits(page, width, "a programme waiting for its bulletins")
    page.get_by_role("link", name="Lên lịch phát").click()
    expect(page).to_have_url(re.compile(rf"/schedule/new\?program={program}$"))
    expect(page.locator("#program")).to_have_value(str(program))
    fits(page, width, "the broadcast form from a programme")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_quiet_recording_is_kept_and_flagged_not_called_silence(
    page: Any, live_server: LiveServer, width: int, tmp_path: Path
) -> None:
    from tests.audio_fixtures import tone

    quiet = tone(tmp_path / "xa-loa-nho.wav", 3, 440, amplitude=10 ** (-51 / 20) * 2**0.5)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "bientap.phuly")
    page.goto("/segments/new")
    page.get_by_label("Tiêu đề").fill("Thông báo thu nhỏ")
    page.get_by_label("Tệp âm thanh").set_input_files(str(quiet))
    page.get_by_role("button", name="Tải lên").click()
    expect(page.locator("h1")).to_have_text("Thông báo thu nhỏ", timeout=30_000)
    expect(page.get_by_text("Bản ghi rất nhỏ").first).to_be_visible()
    expect(page.get_by_text("im lặng")).to_have_count(0)
    fits(page, width, "a quiet recording's page")


def _past_relay(live: LiveServer) -> datetime:
    """A five-minute relay to Quang Trung that ended today a little while ago, which no agent
    reported; the report grace made short so the test need not wait ten minutes."""
    cfg = live.app.extensions["loaxa"]["settings"]
    live.app.extensions["loaxa"]["settings"] = cfg.model_copy(update={"report_grace_s": 30})
    now = datetime.now(ZONE)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start = max(now.replace(second=0, microsecond=0) - timedelta(minutes=8), midnight)
    end = start + timedelta(minutes=1)
    while datetime.now(ZONE) < end + timedelta(seconds=31):  # only just after midnight
        threading.Event().wait(1)
    with live.app.extensions["loaxa"]["sessions"]() as db:
        province = db.scalar(select(Station).where(Station.code == "35"))
        admin = db.scalar(select(User).where(User.username == "admin"))
        assert province is not None and admin is not None
        province.stream_url = live.demo["stream_urls"]["35"]
        spec = BroadcastSpec(
            title="Tiếp âm đã qua", owner="35", kind="relay", source="35",
            start=start.replace(tzinfo=None), duration_s=60, targets=["13285"],
        )  # fmt: skip
        save_broadcast(db, cfg, admin, spec, start.astimezone(UTC) - timedelta(hours=1))
        db.commit()
    return start


@pytest.mark.parametrize("width", WIDTHS)
def test_the_operator_sees_a_missed_relay_and_no_install_guide(
    page: Any, live_server: LiveServer, width: int
) -> None:
    start = _past_relay(live_server)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "vanhanh.quangtrung")
    page.goto("/stations/13285/relay")
    row = page.locator("#today tr", has_text="Tiếp âm đã qua")
    expect(row).to_contain_text(f"{start:%H:%M}")
    aired = row.locator("td[data-label='Đã phát']")
    expect(aired).to_have_text("Bỏ lỡ — không có báo cáo")
    expect(aired).to_be_in_viewport()
    fits(page, width, "the relay schedule")
    page.goto("/stations/13285")
    expect(page.get_by_text("systemd")).to_have_count(0)  # the install guide is for admins
    fits(page, width, "the station page")
    page.context.clear_cookies()
    sign_in(page, "admin")
    page.goto("/stations/13285")
    expect(page.get_by_text("systemd").first).to_be_attached()
