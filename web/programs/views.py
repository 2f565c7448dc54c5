"""``/programs``: the list, the builder, one programme, its render.

The builder keeps the programme being built in the form itself (one hidden ``item`` per
entry: ``s<segment id>`` or ``q<silence ms>``), so adding, moving and removing work by plain
form posts without JavaScript; with JavaScript the moves happen on the page and the total is
summed as you go. Saving goes through ``scheduler.programs.create_program`` and renders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from pydantic import ValidationError

from scheduler import library, permissions
from scheduler import programs as service
from scheduler.db import MAX_ID, now_utc
from scheduler.errors import DomainError, NotFound
from scheduler.models import Program, ProgramStatus, Role, Segment, SegmentStatus, User
from scheduler.programs import unapproved_segments
from scheduler.segments import store_for
from web.archiving import toggle
from web.auth import login_required, panel_user
from web.db import queue_job, session, sessions, settings
from web.forms import options
from web.programs import bp
from web.programs.forms import CROSSFADES, ProgramForm
from web.segments.forms import campaign_choices

PER_PAGE = 25
# Programmes whose segments add up to less than this render inside the request (as the API).
SYNC_RENDER_MS = 5 * 60 * 1000
MAX_ITEMS = 200
TOKEN = re.compile(r"^(?:s(\d{1,10})|q(\d{1,7}))$")
OP = re.compile(r"^(?:(save|filter|silence|refresh)|(add|up|down|remove)-(\d{1,10}))$")


@dataclass(frozen=True)
class Row:
    """One entry of the programme being built."""

    token: str
    ms: int
    segment: Segment | None = None

    @property
    def silence(self) -> bool:
        return self.segment is None


def status_labels() -> dict[str, str]:
    return {
        "draft": _("Bản nháp"),
        "rendering": _("Đang dựng"),
        "ready": _("Sẵn sàng"),
        "awaiting": _("Chờ duyệt bản tin"),
        "failed": _("Lỗi khi dựng"),
    }


def program_state(program: Program) -> str:
    """Its status, except that a rendered programme with bulletins still awaiting approval
    is not "ready" to anyone who reads the label: it cannot air yet."""
    if program.status == ProgramStatus.ready and unapproved_segments(program):
        return "awaiting"
    return program.status


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {"program_status_labels": status_labels, "program_state": program_state}


def visible_program(program_id: int) -> Program:
    try:
        program = service.get_program(session(), program_id)
    except NotFound:
        abort(404)
    if not permissions.can_use(panel_user(), program.owner):
        abort(403)
    return program


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


@bp.get("/programs")
@login_required
def index() -> ResponseReturnValue:
    found = library.program_page(
        session(),
        panel_user(),
        _page_number(),
        PER_PAGE,
        alerts=request.args.get("alerts") == "1",
        archived=request.args.get("archived") == "1",
    )
    return render_template("programs/index.html", found=found)


@bp.post("/programs/<int:program_id>/archive")
@login_required
def archive(program_id: int) -> ResponseReturnValue:
    """Put a programme no longer aired away (``restore=1``: bring it back); history stays."""
    program = visible_program(program_id)
    done = toggle(program)
    if done.refused_by is not None:
        users = done.refused_by
        flash(
            _("Chưa lưu trữ được: chương trình còn được phát trong %(users)s.", users=users),
            "error",
        )
    elif done.restored:
        flash(_("Đã khôi phục chương trình “%(title)s”.", title=program.title), "success")
    else:
        flash(
            _("Đã lưu trữ chương trình “%(title)s”; lịch sử vẫn được giữ.", title=program.title),
            "success",
        )
    return redirect(url_for(".show", program_id=program.id))


# --- One programme --------------------------------------------------------------------------


def _rows_of(program: Program) -> list[Row]:
    return [
        Row(f"s{i.segment.id}", _segment_ms(i.segment), i.segment)
        if i.segment is not None
        else Row(f"q{i.silence_ms}", i.silence_ms or 0)
        for i in program.items
    ]


@bp.get("/programs/<int:program_id>")
@login_required
def show(program_id: int) -> ResponseReturnValue:
    program = visible_program(program_id)
    rows = _rows_of(program)
    unapproved = [r.segment for r in rows if r.segment is not None and not r.segment.approved_at]
    author = library.people(session(), [program.created_by_id]).get(program.created_by_id or 0)
    return render_template(
        "programs/show.html",
        program=program,
        rows=rows,
        total=sum(r.ms for r in rows),
        unapproved=unapproved,
        author=author,
        can_schedule=panel_user().role in (Role.admin, Role.editor, Role.approver),
    )


@bp.get("/programs/<int:program_id>/status")
@login_required
def status(program_id: int) -> ResponseReturnValue:
    program = visible_program(program_id)
    return jsonify(
        status=program.status,
        label=status_labels().get(program.status, program.status),
        duration_ms=program.duration_ms,
        error=program.error,
    )


@bp.get("/programs/<int:program_id>/audio")
@login_required
def audio(program_id: int) -> ResponseReturnValue:
    program = visible_program(program_id)
    if program.media_file is None:
        abort(404)
    path = store_for(settings()).path_for(program.media_file.sha256)
    if not path.is_file():
        abort(404)
    return send_file(
        path, mimetype="audio/mpeg", conditional=True, download_name=f"program-{program.id}.mp3"
    )


# --- The builder ----------------------------------------------------------------------------


def _segment_ms(segment: Segment) -> int:
    return segment.media_file.duration_ms if segment.media_file is not None else 0


def _usable(segment: Segment | None, me: User) -> bool:
    return (
        segment is not None
        and permissions.can_use(me, segment.owner)
        and segment.status == SegmentStatus.ready
        and segment.media_file is not None
    )


def _parse_rows(tokens: list[str], me: User, form: ProgramForm) -> list[Row]:
    """The posted entries, keeping only those still usable (and saying so)."""
    rows: list[Row] = []
    dropped = False
    db = session()
    for token in tokens[:MAX_ITEMS]:
        match = TOKEN.match(token)
        if match is None:
            dropped = True
            continue
        if match.group(2) is not None:
            ms = int(match.group(2))
            if 0 < ms <= service.MAX_SILENCE_MS:
                rows.append(Row(token, ms))
            else:
                dropped = True
            continue
        segment_id = int(match.group(1))
        segment = db.get(Segment, segment_id) if segment_id <= MAX_ID else None
        if segment is None or not _usable(segment, me):
            dropped = True
            continue
        rows.append(Row(token, _segment_ms(segment), segment))
    if dropped or len(tokens) > MAX_ITEMS:
        form.form_errors = [
            *form.form_errors,
            _(
                "Có mục không còn dùng được (bản tin đã xoá, chưa xử lý xong hoặc ngoài phạm vi); "
                "mục đó đã được bỏ khỏi chương trình."
            ),
        ]
    return rows


def _silence_ms(form: ProgramForm) -> int | None:
    raw = str(form.silence_s.data or "").replace(",", ".")
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1
    if not (0.1 <= seconds <= service.MAX_SILENCE_MS / 1000):
        form.silence_s.errors = [
            *form.silence_s.errors,
            _(
                "Nhập số giây của khoảng lặng, từ 0,1 đến %(max)d.",
                max=service.MAX_SILENCE_MS // 1000,
            ),
        ]
        return None
    return round(seconds * 1000)


def _apply_op(op: str, rows: list[Row], form: ProgramForm, me: User) -> list[Row]:
    """Add, move or remove an entry; anything else leaves the list as it is."""
    match = OP.match(op)
    if match is None:
        return rows
    if match.group(1) == "silence":
        ms = _silence_ms(form)
        if ms is not None and len(rows) < MAX_ITEMS:
            form.silence_s.data = ""
            return [*rows, Row(f"q{ms}", ms)]
        return rows
    verb, number = match.group(2), int(match.group(3)) if match.group(3) else 0
    if verb == "add":
        segment = session().get(Segment, number) if number <= MAX_ID else None
        if segment is None or not _usable(segment, me) or segment.rejected_at is not None:
            form.form_errors = [*form.form_errors, _("Bản tin này không dùng được.")]
            return rows
        return [*rows, Row(f"s{segment.id}", _segment_ms(segment), segment)][:MAX_ITEMS]
    if not 0 <= number < len(rows):
        return rows
    rows = list(rows)
    if verb == "remove":
        del rows[number]
    elif verb == "up" and number > 0:
        rows[number - 1], rows[number] = rows[number], rows[number - 1]
    elif verb == "down" and number < len(rows) - 1:
        rows[number + 1], rows[number] = rows[number], rows[number + 1]
    return rows


def _save(form: ProgramForm, rows: list[Row], me: User) -> Program | None:
    if not any(r.segment is not None for r in rows):
        form.form_errors = [*form.form_errors, _("Chương trình cần ít nhất một bản tin.")]
        return None
    db = session()
    try:
        spec = service.ProgramSpec(
            title=str(form.title.data),
            owner=str(form.owner.data),
            crossfade_ms=int(str(form.crossfade.data)),
            items=[
                service.ItemSpec(segment=r.segment.id)
                if r.segment is not None
                else service.ItemSpec(silence_ms=r.ms)
                for r in rows
            ],
        )
        program = service.create_program(db, me, spec, now_utc())
    except (ValidationError, ValueError):
        db.rollback()
        form.form_errors = [*form.form_errors, _("Chương trình chưa hợp lệ; hãy kiểm tra lại.")]
        return None
    except DomainError as exc:
        db.rollback()
        if exc.field == "owner":
            form.owner.errors = [*form.owner.errors, _("Hãy chọn một đài trong phạm vi của bạn.")]
        else:
            form.form_errors = [
                *form.form_errors,
                _(
                    "Có bản tin trong chương trình không dùng được (chưa xử lý xong hoặc ngoài "
                    "phạm vi của bạn)."
                ),
            ]
        return None
    if sum(r.ms for r in rows if r.segment is not None) <= SYNC_RENDER_MS:
        db.commit()
        service.render_job(sessions(), settings(), program.id)
        db.expire_all()
    else:
        queue_job(db, "render", program=program.id)
    return service.get_program(db, program.id)


def _start_from(form: ProgramForm, me: User) -> list[Row]:
    """A new programme, or (``?from=<id>``) a copy of one to change."""
    form.owner.data = me.station.code
    form.crossfade.data = "0"
    raw = request.args.get("from", "")
    if not raw:
        return []
    if not raw.isdigit() or len(raw) > 10:
        abort(404)
    source = visible_program(int(raw))
    form.title.data = source.title
    form.crossfade.data = (
        str(source.crossfade_ms) if str(source.crossfade_ms) in CROSSFADES else "0"
    )
    if any(source.owner.code == value for value, *_rest in form.owner.iter_choices()):
        form.owner.data = source.owner.code
    return [r for r in _rows_of(source) if r.segment is None or _usable(r.segment, me)]


@bp.route("/programs/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    me = panel_user()
    form = ProgramForm()
    form.fill(session(), me)
    form.campaign.choices = options(
        [("", _("Tất cả chiến dịch")), *campaign_choices(session())[1:]]
    )
    status = 200
    if request.method == "GET":
        rows = _start_from(form, me)
    else:
        rows = _parse_rows(request.form.getlist("item"), me, form)
        op = request.form.get("op", "refresh")
        if op == "save":
            if form.validate():
                program = _save(form, rows, me)
                if program is not None:
                    if program.status == ProgramStatus.failed:
                        flash(
                            _(
                                "Đã lưu nhưng không dựng được âm thanh: %(reason)s",
                                reason=program.error or "",
                            ),
                            "error",
                        )
                    else:
                        flash(_("Đã lưu chương trình “%(title)s”.", title=program.title), "success")
                    return redirect(url_for(".show", program_id=program.id))
            status = 400
        else:
            rows = _apply_op(op, rows, form, me)
            if form.silence_s.errors:
                status = 400
    candidates = library.program_candidates(
        session(),
        me,
        str(form.q.data or "")[:100],
        str(form.campaign.data or "")[:64],
        bool(form.approved_only.data),
    )
    return render_template(
        "programs/new.html",
        form=form,
        rows=rows,
        total=sum(r.ms for r in rows),
        candidates=candidates,
    ), status
