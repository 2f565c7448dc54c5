"""What trips people who schedule every day (issue #11, fixes 1–4), through the panel and
the API: the past refused, an approved broadcast kept on air while a change to it waits, a
programme scheduled before its bulletins are approved, the approval queue (listen, approve
the bulletins there, approve several at once), and a form that ticks nothing unasked.

Time is frozen at Monday 20/4/2026 08:00 in Hà Nam.
"""

from __future__ import annotations

import hashlib
import re
from itertools import count
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import broadcasts
from scheduler.broadcasts import BroadcastSpec
from scheduler.models import (
    AuditEvent,
    Broadcast,
    BroadcastStatus,
    MediaFile,
    Program,
    ProgramItem,
    Segment,
    Station,
)
from tests.conftest import FROZEN_NOW
from tests.network_codes import COMMUNE, DISTRICT
from tests.panel_support import Panel, field_errors

_sha = count(1)


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


def _schedule(db: Session, app: Any, actor: Any, **fields: Any) -> Broadcast:
    spec = BroadcastSpec.model_validate(fields)
    result = broadcasts.save_broadcast(
        db, app.extensions["loaxa"]["settings"], actor, spec, FROZEN_NOW
    )
    db.commit()
    return result.broadcast


def _form(program_id: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Bản tin học tập suốt đời",
        "owner": DISTRICT,
        "kind": "program",
        "program": str(program_id),
        "recurrence": "once",
        "start_date": "2026-04-21",
        "start_time": "19:00",
        "targets": [COMMUNE],
        "priority": "normal",
        "conflict": "",
        "max_delay_min": "30",
        "action": "save",
    }
    data.update(overrides)
    return data


def _program_with_bulletins(app: Any, db: Session, *approved: bool) -> tuple[int, list[int]]:
    """A rendered district programme of stored bulletins, approved or not as given."""
    store = app.extensions["loaxa"]["settings"].resolved_media_dir
    owner = db.scalar(select(Station).where(Station.code == DISTRICT))

    def stored() -> MediaFile:
        sha = hashlib.sha256(f"bulletin-{next(_sha)}".encode()).hexdigest()
        path = store / sha[:2] / f"{sha}.mp3"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xfb" + bytes(998))
        return MediaFile(sha256=sha, bytes=1000, duration_ms=60_000, created_at=FROZEN_NOW)

    segments = []
    for n, ok in enumerate(approved, 1):
        media = stored()
        segment = Segment(
            title=f"Tin số {n}", owner=owner, status="ready", progress=100, source="upload",
            media_file=media, created_at=FROZEN_NOW, approved_at=FROZEN_NOW if ok else None,
        )  # fmt: skip
        db.add(segment)
        segments.append(segment)
    program = Program(
        title="Chương trình chờ duyệt", owner=owner, status="ready",
        duration_ms=60_000 * len(approved), created_at=FROZEN_NOW, media_file=stored(),
        items=[ProgramItem(position=i, segment=s) for i, s in enumerate(segments)],
    )  # fmt: skip
    db.add(program)
    db.commit()
    return program.id, [s.id for s in segments]


def _week(client: Any, code: str = COMMUNE) -> str:
    return client.get(f"/schedule?station={code}&week=2026-W17").get_data(as_text=True)


def _reload(db: Session, broadcast_id: int) -> Broadcast:
    db.expire_all()
    found = db.get(Broadcast, broadcast_id)
    assert found is not None
    return found


# --- 1. The past is refused -----------------------------------------------------------------


def test_a_one_off_broadcast_in_the_past_is_refused_on_the_start_field(
    panel: Panel, make_program: Any, make_caller: Any
) -> None:
    program = make_program(DISTRICT)
    editor = panel.client("editor", DISTRICT)
    for day, clock in (("2020-01-01", "19:00"), ("2026-04-20", "07:00")):  # long ago; today
        for action in ("preview", "save"):
            page = editor.form_post(
                "/schedule/new", _form(program, start_date=day, start_time=clock, action=action)
            )
            assert page.status_code == 400, (day, action)
            html = page.get_data(as_text=True)
            assert any("đã qua" in e for e in field_errors(html, "start_date")), html
            assert "không có xung đột" not in html.lower()
    assert panel.db.scalar(select(Broadcast)) is None

    api = make_caller("approver", DISTRICT)
    body = {"title": "Cũ", "owner": DISTRICT, "kind": "program", "program": program,
            "start": "2020-01-01T19:00:00"}  # fmt: skip
    refused = api.post("/api/v1/broadcasts", json=body)
    assert refused.status_code == 400 and refused.json["field"] == "start", refused.json
    # A one-off still on air (began 07:50, 15 minutes long) is not in the past.
    assert (
        api.post("/api/v1/broadcasts", json={**body, "start": "2026-04-20T07:50:00"}).status_code
        == 201
    )


def test_a_rule_begun_in_the_past_is_kept_and_the_preview_says_when_it_really_airs(
    panel: Panel, make_program: Any
) -> None:
    program = make_program(DISTRICT)
    editor = panel.client("editor", DISTRICT)
    fridays = _form(
        program, recurrence="days", days=["FR"], start_date="2026-04-01", action="preview"
    )
    html = editor.form_post("/schedule/new", fridays).get_data(as_text=True)
    assert "Lần phát tới:" in html
    assert "19:00 ngày 24/4/2026" in html  # the first Friday still to come, not 1/4
    ended = {**fridays, "until": "2026-04-17"}  # every Friday of it is past
    refused = editor.form_post("/schedule/new", ended)
    assert refused.status_code == 400
    assert any("đã qua" in e for e in field_errors(refused.get_data(as_text=True), "start_date"))


# --- 2. A change to an approved broadcast waits beside it -----------------------------------


def test_an_editors_change_waits_while_the_approved_version_stays_on_air(
    panel: Panel, app: Any, make_program: Any
) -> None:
    approver = panel.user("approver", DISTRICT)
    b = _schedule(
        panel.db, app, approver, title="Thời sự tối", owner=DISTRICT, kind="program",
        program=make_program(DISTRICT), start="2026-04-21T19:00:00", targets=[COMMUNE],
    )  # fmt: skip
    editor = panel.client("editor", DISTRICT)
    form_page = editor.get(f"/schedule/{b.id}/edit").get_data(as_text=True)
    assert "Thay đổi của bạn sẽ chờ lãnh đạo duyệt" in form_page  # said before saving
    preview = editor.form_post(
        f"/schedule/{b.id}/edit",
        _form(b.program_id, title="Thời sự tối", start_time="18:45", action="preview"),
    ).get_data(as_text=True)
    assert "lịch đã duyệt vẫn phát như cũ" in preview

    saved = editor.form_post(
        f"/schedule/{b.id}/edit", _form(b.program_id, title="Thời sự tối", start_time="18:45")
    )
    assert saved.status_code == 302
    assert "vẫn phát như cũ" in editor.get(saved.location).get_data(as_text=True)
    kept = _reload(panel.db, b.id)
    assert kept.status == BroadcastStatus.approved and f"{kept.start_local:%H:%M}" == "19:00"
    assert kept.revision is not None
    commune = panel.client("operator", COMMUNE)
    relay_schedule = commune.get(f"/stations/{COMMUNE}/relay").get_data(as_text=True)
    assert "Thời sự tối" in relay_schedule and "19:00" in relay_schedule  # still airs
    # The editor goes on with the change waiting, not with the approved version.
    again = editor.get(f"/schedule/{b.id}/edit").get_data(as_text=True)
    assert 'value="18:45"' in again and "Bạn đang sửa thay đổi đang chờ duyệt" in again
    page = editor.get(f"/schedule/{b.id}").get_data(as_text=True)
    assert "Thay đổi chờ duyệt" in page and "18:45" in page

    boss = panel.login(approver.username)
    queue = boss.get("/schedule/approvals").get_data(as_text=True)
    assert "Thay đổi chờ duyệt" in queue and "Duyệt thay đổi" in queue
    assert "lúc 19:00" in queue and "lúc 18:45" in queue  # what airs, and what it becomes
    done = boss.form_post(f"/schedule/{b.id}/approve", {}, page="/schedule/approvals")
    assert done.status_code == 302
    changed = _reload(panel.db, b.id)
    assert f"{changed.start_local:%H:%M}" == "18:45" and changed.revision is None
    assert changed.status == BroadcastStatus.approved
    assert "18:45" in commune.get(f"/stations/{COMMUNE}/relay").get_data(as_text=True)


def test_a_rejected_change_leaves_the_approved_version_airing(
    panel: Panel, app: Any, make_program: Any
) -> None:
    approver = panel.user("approver", DISTRICT)
    b = _schedule(
        panel.db, app, approver, title="Thời sự tối", owner=DISTRICT, kind="program",
        program=make_program(DISTRICT), start="2026-04-21T19:00:00", targets=[COMMUNE],
    )  # fmt: skip
    editor = panel.client("editor", DISTRICT)
    editor.form_post(
        f"/schedule/{b.id}/edit", _form(b.program_id, title="Đổi tên", start_time="18:45")
    )
    boss = panel.login(approver.username)
    done = boss.form_post(
        f"/schedule/{b.id}/reject", {"reason": "Giữ giờ cũ"}, page="/schedule/approvals"
    )
    assert done.status_code == 302
    kept = _reload(panel.db, b.id)
    assert (kept.title, f"{kept.start_local:%H:%M}", kept.status) == (
        "Thời sự tối", "19:00", BroadcastStatus.approved,
    )  # fmt: skip
    assert kept.revision is None
    actions = panel.db.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == str(b.id))
    ).all()
    assert "broadcast.revise" in actions and "broadcast.reject" in actions


# --- 3. Programmes with bulletins awaiting approval ---------------------------------------


def test_a_programme_with_pending_bulletins_is_scheduled_as_pending_and_approved_from_the_queue(
    panel: Panel, app: Any
) -> None:
    program, (waiting, fine) = _program_with_bulletins(app, panel.db, False, True)
    editor = panel.client("editor", DISTRICT)
    page = editor.get(f"/programs/{program}").get_data(as_text=True)
    assert "Chờ duyệt bản tin" in page and "Tin số 1" in page and "Sẵn sàng" not in page
    start = editor.get(f"/schedule/new?program={program}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{program}">|value="{program}" selected', start)
    assert "còn bản tin chờ duyệt" in start

    preview = editor.form_post("/schedule/new", _form(program, action="preview"))
    assert preview.status_code == 200, preview.get_data(as_text=True)
    saved = editor.form_post("/schedule/new", _form(program))
    assert saved.status_code == 302, saved.get_data(as_text=True)
    b = panel.db.scalar(select(Broadcast))
    assert b is not None and b.status == BroadcastStatus.pending
    assert "Bản tin học tập suốt đời" not in _week(panel.client("operator", COMMUNE))

    boss = panel.client("approver", DISTRICT)
    queue = boss.get("/schedule/approvals").get_data(as_text=True)
    assert f'src="/programs/{program}/audio"' in queue  # listen to what will air
    assert f'src="/segments/{waiting}/audio"' in queue  # …and to the bulletin that waits
    assert f'action="/segments/{waiting}/approve"' in queue
    assert f'action="/segments/{fine}/approve"' not in queue
    early = boss.form_post(f"/schedule/{b.id}/approve", {}, page="/schedule/approvals")
    assert early.status_code == 302
    assert _reload(panel.db, b.id).status == BroadcastStatus.pending  # a bulletin still waits
    assert "còn bản tin chưa được duyệt" in boss.get(early.location).get_data(as_text=True)

    back = boss.form_post(
        f"/segments/{waiting}/approve", {"next": "approvals"}, page="/schedule/approvals"
    )
    assert back.status_code == 302 and back.location.endswith("/schedule/approvals")
    done = boss.form_post("/schedule/approvals", {"ids": [str(b.id)]})
    assert done.status_code == 302
    assert _reload(panel.db, b.id).status == BroadcastStatus.approved
    assert "Bản tin học tập suốt đời" in _week(panel.client("operator", COMMUNE))


def test_approving_several_at_once_says_which_could_not_be_approved(
    panel: Panel, app: Any, make_program: Any
) -> None:
    editor = panel.user("editor", DISTRICT)
    ready = make_program(DISTRICT)
    blocked, _segments = _program_with_bulletins(app, panel.db, False)
    plan = (("Tin A", ready, "06"), ("Tin B", ready, "07"), ("Tin C", blocked, "08"))
    made = [
        _schedule(
            panel.db,
            app,
            editor,
            title=title,
            owner=DISTRICT,
            kind="program",
            program=prog,
            start=f"2026-04-21T{hour}:00:00",
            targets=[COMMUNE],
        )
        for title, prog, hour in plan
    ]
    boss = panel.client("approver", DISTRICT)
    queue = boss.get("/schedule/approvals").get_data(as_text=True)
    assert "Duyệt các buổi đã chọn" in queue
    assert len(re.findall(r'name="ids"', queue)) == 3
    done = boss.form_post("/schedule/approvals", {"ids": [str(b.id) for b in made]})
    assert done.status_code == 302
    flashes = boss.get(done.location).get_data(as_text=True)
    assert "Đã duyệt 2 buổi phát." in flashes and "«Tin C»" in flashes
    statuses = [_reload(panel.db, b.id).status for b in made]
    assert statuses == [BroadcastStatus.approved, BroadcastStatus.approved,
                        BroadcastStatus.pending]  # fmt: skip
    nothing = boss.form_post("/schedule/approvals", {})
    assert "Hãy chọn ít nhất một buổi phát" in boss.get(nothing.location).get_data(as_text=True)
    editor_client = panel.login(editor.username)
    assert (
        editor_client.form_post(
            "/schedule/approvals", {"ids": [str(made[2].id)]}, page="/schedule/approvals"
        ).status_code
        == 403
    )


# --- 4. The form ticks nothing unasked --------------------------------------------------------


def test_the_form_from_a_district_calendar_ticks_nothing(panel: Panel, make_program: Any) -> None:
    make_program(DISTRICT)
    editor = panel.client("editor", DISTRICT)
    html = editor.get(f"/schedule/new?station={DISTRICT}").get_data(as_text=True)
    assert re.findall(r'name="targets" value="[^"]+" checked', html) == []
    commune = editor.get(f"/schedule/new?station={COMMUNE}").get_data(as_text=True)
    assert re.findall(r'name="targets" value="([^"]+)" checked', commune) == [COMMUNE]


# --- Archiving what is no longer used ---------------------------------------------------------


def test_bulletins_and_programmes_are_archived_with_their_history_and_restored(
    panel: Panel, app: Any
) -> None:
    program, (bulletin,) = _program_with_bulletins(app, panel.db, True)
    b = _schedule(
        panel.db, app, panel.user("approver", DISTRICT), title="Tin tuần này", owner=DISTRICT,
        kind="program", program=program, start="2026-04-21T19:00:00", targets=[COMMUNE],
    )  # fmt: skip
    editor = panel.client("editor", DISTRICT)
    # Still in use: the bulletin by the programme, the programme by a broadcast to come.
    editor.form_post(f"/segments/{bulletin}/archive", page=f"/segments/{bulletin}")
    page = editor.get(f"/segments/{bulletin}").get_data(as_text=True)
    assert "Chưa lưu trữ được" in page and "«Chương trình chờ duyệt»" in page
    editor.form_post(f"/programs/{program}/archive", page=f"/programs/{program}")
    page = editor.get(f"/programs/{program}").get_data(as_text=True)
    assert "còn được phát trong «Tin tuần này»" in page

    editor.form_post(f"/schedule/{b.id}/cancel", {"reason": "Hết đợt"}, page=f"/schedule/{b.id}")
    done = editor.form_post(f"/programs/{program}/archive", page=f"/programs/{program}")
    assert done.status_code == 302
    assert "Đã lưu trữ chương trình" in editor.get(done.location).get_data(as_text=True)
    editor.form_post(f"/segments/{bulletin}/archive", page=f"/segments/{bulletin}")
    # Out of the lists and pickers; still readable, with its history.
    assert "Chương trình chờ duyệt" not in editor.get("/programs").get_data(as_text=True)
    assert "Chương trình chờ duyệt" in editor.get("/programs?archived=1").get_data(as_text=True)
    assert "Tin số 1" not in editor.get("/segments").get_data(as_text=True)
    assert "Tin số 1" in editor.get("/segments?archived=1").get_data(as_text=True)
    assert f'value="{program}"' not in editor.get("/schedule/new").get_data(as_text=True)
    assert f'value="add-{bulletin}"' not in editor.get("/programs/new").get_data(as_text=True)
    assert editor.get(f"/schedule/{b.id}").status_code == 200  # the broadcast's record stays
    refused = editor.form_post("/schedule/new", _form(program), page="/schedule/new")
    assert refused.status_code == 400
    # Restored, it is back.
    editor.form_post(f"/programs/{program}/archive", {"restore": "1"}, page=f"/programs/{program}")
    assert "Chương trình chờ duyệt" in editor.get("/programs").get_data(as_text=True)
    actions = panel.db.scalars(select(AuditEvent.action)).all()
    assert {"program.archive", "program.restore", "segment.archive"} <= set(actions)
    operator = panel.client("operator", "13291")  # another commune's operator may not
    assert operator.form_post(f"/programs/{program}/archive", page="/").status_code in (403, 404)
