"""``/segments``: the list, one segment, its audio, uploads, the TTS composer, approval.

The rules live in ``scheduler.segments`` (what may be stored, who approves) and
``scheduler.library`` (who sees what); this module turns forms into calls and refusals into
Vietnamese messages next to the fields. Uploads answer JSON when sent by the page's script
(``X-Requested-With: XMLHttpRequest``) so the progress bar can stay on the page, and a plain
form post works the same without JavaScript.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from flask import (
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from audio.errors import AudioError
from audio.tts.base import TtsError
from audio.tts.normalize_vi import normalize
from audio.tts.registry import engines_info
from audio.tts.speak import speak, split_sentences
from scheduler import library, permissions
from scheduler import segments as service
from scheduler.db import now_utc
from scheduler.errors import DomainError, Forbidden, NotFound
from scheduler.models import Campaign, Segment, SegmentStatus, User
from scheduler.readings import EDITORS as READING_EDITORS
from scheduler.readings import reading_table
from web.archiving import toggle
from web.auth import login_required, panel_user
from web.db import jobs, session, settings
from web.forms import options, show_error
from web.ingest import commit
from web.segments import bp
from web.segments.forms import (
    VOICE_LABELS,
    ApproveForm,
    RejectForm,
    TtsForm,
    topic_choices,
)

PER_PAGE = 25


def state_labels() -> dict[str, str]:
    return {
        "processing": _("Đang xử lý"),
        "failed": _("Lỗi xử lý"),
        "pending": _("Chờ duyệt"),
        "approved": _("Đã duyệt"),
        "rejected": _("Không duyệt"),
    }


def segment_state(segment: Segment) -> str:
    return segment.status if segment.status != SegmentStatus.ready else segment.approval


@bp.app_template_filter("mmss")
def mmss(ms: int | None) -> str:
    """``83500`` → ``1:24`` (rounded to the second); unknown → ``—``."""
    if ms is None:
        return "—"
    seconds = round(ms / 1000)
    if seconds >= 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return f"{seconds // 60}:{seconds % 60:02d}"


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "segment_state": segment_state,
        "segment_state_labels": state_labels,
        "voice_labels": VOICE_LABELS,
        "engine_labels": engine_labels,
        "speed_text": speed_text,
    }


def wants_json() -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest"


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


def visible_segment(segment_id: int) -> Segment:
    """The segment, if the signed-in user may see it (404 unknown, 403 another area)."""
    try:
        segment = service.get_segment(session(), segment_id)
    except NotFound:
        abort(404)
    if not permissions.can_use(panel_user(), segment.owner):
        abort(403)
    return segment


def field_messages() -> dict[str, str]:
    return {
        "title": _("Hãy nhập tiêu đề từ 1 đến 300 ký tự."),
        "owner": _("Hãy chọn một đài trong phạm vi của bạn."),
        "campaign": _("Không có chiến dịch này."),
        "topic": _("Chủ đề này không thuộc chiến dịch đã chọn."),
        "text": _("Văn bản trống hoặc chỉ có dấu câu, không có gì để đọc."),
    }


# --- The list -------------------------------------------------------------------------------


@bp.get("/segments")
@login_required
def index() -> ResponseReturnValue:
    me, db, args = panel_user(), session(), request.args
    campaign = args.get("campaign", "")[:64]
    topic_campaign, _sep, topic = args.get("topic", "")[:130].partition("/")
    state = args.get("state", "")
    wanted = library.SegmentFilter(
        campaign=campaign or topic_campaign or None,
        topic=topic or None,
        state=state if state in library.SEGMENT_STATES else None,
        owner=args.get("owner", "")[:32] or None,
        text=args.get("q", "").strip()[:100] or None,
        alerts=args.get("alerts") == "1",
        archived=args.get("archived") == "1",
    )
    found = library.segment_page(db, me, wanted, _page_number(), PER_PAGE)
    people = library.people(
        db, [s.created_by_id for s in found.items] + [s.approved_by_id for s in found.items]
    )
    query = {k: v for k, v in args.items() if k != "page" and v}
    return render_template(
        "segments/index.html",
        found=found,
        people=people,
        query=query,
        campaigns=db.scalars(select(Campaign).order_by(Campaign.name)).all(),
        topics=topic_choices(db)[1:],
        owners=library.owners(db, me),
        can_author=True,
        can_teach=me.role in READING_EDITORS,
    )


# --- One segment ----------------------------------------------------------------------------


def _may_author(me: User, segment: Segment) -> bool:
    try:
        permissions.require_author(me, segment.owner)
    except Forbidden:
        return False
    return True


def _show(segment: Segment, reject_form: RejectForm | None = None, status: int = 200) -> Any:
    me = panel_user()
    people = library.people(session(), [segment.created_by_id, segment.approved_by_id])
    return render_template(
        "segments/show.html",
        segment=segment,
        people=people,
        can_approve=permissions.can_approve(me, segment.owner)
        and segment.status == SegmentStatus.ready,
        can_archive=_may_author(me, segment) and segment.status != SegmentStatus.processing,
        approve_form=ApproveForm(formdata=None),
        reject_form=reject_form or RejectForm(formdata=None),
    ), status


@bp.get("/segments/<int:segment_id>")
@login_required
def show(segment_id: int) -> ResponseReturnValue:
    return _show(visible_segment(segment_id))


@bp.get("/segments/<int:segment_id>/status")
@login_required
def status(segment_id: int) -> ResponseReturnValue:
    segment = visible_segment(segment_id)
    return jsonify(
        status=segment.status,
        state=segment_state(segment),
        label=state_labels()[segment_state(segment)],
        progress=segment.progress,
        error=segment.error,
    )


@bp.get("/segments/<int:segment_id>/audio")
@login_required
def audio(segment_id: int) -> ResponseReturnValue:
    segment = visible_segment(segment_id)
    if segment.media_file is None:
        abort(404)
    path = service.store_for(settings()).path_for(segment.media_file.sha256)
    if not path.is_file():
        abort(404)
    return send_file(
        path, mimetype="audio/mpeg", conditional=True, download_name=f"segment-{segment.id}.mp3"
    )


@bp.post("/segments/<int:segment_id>/approve")
@login_required
def approve(segment_id: int) -> ResponseReturnValue:
    segment = visible_segment(segment_id)
    if not permissions.can_approve(panel_user(), segment.owner):
        abort(403)
    if not ApproveForm().validate_on_submit():
        abort(400)
    try:
        service.approve(session(), panel_user(), segment, now_utc())
    except DomainError:
        session().rollback()
        flash(_("Chỉ duyệt được bản tin đã xử lý xong."), "error")
    else:
        session().commit()
        flash(_("Đã duyệt bản tin “%(title)s”.", title=segment.title), "success")
    if request.form.get("next") == "approvals":  # approved from the broadcasts' queue
        return redirect(url_for("schedule.approvals"))
    return redirect(url_for(".show", segment_id=segment.id))


@bp.post("/segments/<int:segment_id>/archive")
@login_required
def archive(segment_id: int) -> ResponseReturnValue:
    """Put a bulletin no longer used away (``restore=1``: bring it back); history stays."""
    segment = visible_segment(segment_id)
    done = toggle(segment)
    if done.refused_by is not None:
        flash(
            _(
                "Chưa lưu trữ được: bản tin còn nằm trong chương trình %(users)s.",
                users=done.refused_by,
            ),
            "error",
        )
    elif done.restored:
        flash(_("Đã khôi phục bản tin “%(title)s”.", title=segment.title), "success")
    else:
        flash(
            _("Đã lưu trữ bản tin “%(title)s”; lịch sử vẫn được giữ.", title=segment.title),
            "success",
        )
    return redirect(url_for(".show", segment_id=segment.id))


@bp.post("/segments/<int:segment_id>/publish")
@login_required
def publish(segment_id: int) -> ResponseReturnValue:
    """Put an approved bulletin on the public page and feed, or (``withdraw``) take it off."""
    segment = visible_segment(segment_id)
    if not permissions.can_approve(panel_user(), segment.owner):
        abort(403)
    if not ApproveForm().validate_on_submit():
        abort(400)
    withdraw = request.form.get("withdraw") == "1"
    try:
        if withdraw:
            service.unpublish(session(), panel_user(), segment, now_utc())
        else:
            service.publish(session(), panel_user(), segment, now_utc())
    except DomainError:
        session().rollback()
        flash(_("Chỉ công bố được bản tin đã duyệt."), "error")
    else:
        session().commit()
        if withdraw:
            flash(
                _("Đã gỡ bản tin “%(title)s” khỏi trang công khai.", title=segment.title), "success"
            )
        else:
            flash(
                _("Đã công bố bản tin “%(title)s” lên trang Bản tin và RSS.", title=segment.title),
                "success",
            )
    return redirect(url_for(".show", segment_id=segment.id))


@bp.post("/segments/<int:segment_id>/reject")
@login_required
def reject(segment_id: int) -> ResponseReturnValue:
    segment = visible_segment(segment_id)
    if not permissions.can_approve(panel_user(), segment.owner):
        abort(403)
    form = RejectForm()
    if form.validate_on_submit():
        try:
            service.reject(session(), panel_user(), segment, str(form.reason.data), now_utc())
        except DomainError as exc:
            session().rollback()
            show_error(form, exc, {"reason": _("Hãy ghi lý do không duyệt.")})
        else:
            session().commit()
            flash(_("Đã trả lại bản tin “%(title)s” kèm lý do.", title=segment.title), "success")
            return redirect(url_for(".show", segment_id=segment.id))
    return _show(segment, form, 400)


# --- TTS composer ---------------------------------------------------------------------------


def engine_labels() -> dict[str, str]:
    """The voices' names as an editor reads them (not the engine's code)."""
    return {
        "gtts": _("Google (cần mạng Internet)"),
        "espeak": _("espeak-ng (máy đọc, không cần mạng)"),
    }


def speed_text(speed: float | None) -> str:
    """``0,8×``, ``1×``, ``1,25×``: the decimal comma, as the speed choices write it."""
    return f"{speed or 1:g}×".replace(".", ",")


def _engine_options() -> list[tuple[str, str]]:
    cfg = settings()
    pairs = [("", _("Tự động (theo cấu hình máy chủ)"))]
    labels = engine_labels()
    for engine in engines_info(cfg):
        label = labels.get(engine["name"], engine["name"])
        if not engine["available"]:
            label = _("%(engine)s — chưa cài trên máy chủ", engine=label)
        pairs.append((engine["name"], label))
    return pairs


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _speak(form: TtsForm, me: User) -> Segment | None:
    db, cfg = session(), settings()
    try:
        campaign, topic = form.campaign_topic()
    except ValueError:
        return None
    text = str(form.text.data)
    engine, voice = str(form.engine.data or "") or None, str(form.voice.data)
    speed = float(str(form.speed.data))
    try:
        meta = service.prepare(db, me, str(form.title.data), str(form.owner.data), campaign, topic)
        return commit(
            service.speak_bulletin(
                db,
                cfg,
                me,
                meta,
                text,
                now_utc(),
                jobs=jobs(),
                engine=engine,
                voice=voice,
                speed=speed,
            )
        )
    except TtsError as exc:
        db.rollback()
        form.engine.errors = [*form.engine.errors, str(exc)]
    except AudioError as exc:
        db.rollback()
        form.form_errors = [*form.form_errors, exc.message]
    except DomainError as exc:
        db.rollback()
        show_error(form, exc, field_messages())
    return None


def _spoken(segment: Segment) -> ResponseReturnValue:
    if segment.status == SegmentStatus.ready:
        flash(_("Đã đọc xong bản tin “%(title)s”.", title=segment.title), "success")
    else:
        flash(_("Bản tin dài đang được đọc; trang sẽ tự cập nhật."), "info")
    return redirect(url_for(".show", segment_id=segment.id))


@lru_cache(maxsize=1)
def notice_templates() -> tuple[dict[str, str], ...]:
    """The bundled notice templates (``config/notices.json``): meeting, vaccination, storm…"""
    raw = resources.files("config").joinpath("notices.json").read_text("utf-8")
    return tuple(json.loads(raw)["templates"])


def _template_code(wanted: str | None) -> str | None:
    return next((t["code"] for t in notice_templates() if t["code"] == wanted), None)


PREVIEW_SENTENCES = 2  # "Nghe thử": the first sentences only, so it answers in a second or two


@bp.post("/segments/tts/listen")
@login_required
def listen() -> ResponseReturnValue:
    """Hear the chosen voice and speed read the text's first sentences, before anything is
    saved: a WAV answered straight back, stored nowhere."""
    form = TtsForm()
    form.fill(session(), panel_user())
    form.engine.choices = options(_engine_options())
    form.validate_on_submit()  # the same checks as speaking, of what a preview needs:
    wanted = ("csrf_token", "text", "engine", "voice", "speed")  # no title yet, say
    problems = [m for name in wanted for m in form.errors.get(name, [])]
    if not form.is_submitted() or problems:
        return jsonify(error=str(problems[0] if problems else _("Không nghe thử được."))), 400
    opening = " ".join(split_sentences(str(form.text.data))[:PREVIEW_SENTENCES])
    with TemporaryDirectory(prefix="loaxa-listen-") as tmp:
        try:
            spoken = speak(
                opening,
                settings(),
                Path(tmp),
                engine=form.engine.data or None,
                voice=str(form.voice.data),
                speed=float(str(form.speed.data)),
                normalize=lambda words: normalize(words, reading_table(session())),
            )
        except TtsError as exc:
            return jsonify(error=str(exc)), 422
        audio = spoken.path.read_bytes()
    response = make_response(audio)
    response.mimetype = "audio/wav"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/segments/tts", methods=["GET", "POST"])
@login_required
def tts() -> ResponseReturnValue:
    me, cfg = panel_user(), settings()
    form = TtsForm()
    form.fill(session(), me)
    form.engine.choices = options(_engine_options())
    if request.method == "GET":
        form.engine.data = cfg.tts_engine if cfg.tts_engine != "auto" else ""
        form.voice.data, form.speed.data = "north", "1.0"
        code = _template_code(request.args.get("mau"))
        chosen = next((t for t in notice_templates() if t["code"] == code), None)
        if chosen is not None:  # "Mẫu thông báo": the blanks […] are the editor's to fill
            form.title.data, form.text.data = chosen["title"], chosen["text"]
    normalized = None
    valid = form.validate_on_submit()
    text = str(form.text.data or "")
    if form.is_submitted() and not form.text.errors:
        if len(text) > cfg.tts_max_chars:
            form.text.errors = [
                *form.text.errors,
                _(
                    "Văn bản quá dài (%(n)d ký tự, tối đa %(max)d); hãy chia thành nhiều bản tin.",
                    n=len(text),
                    max=cfg.tts_max_chars,
                ),
            ]
        else:
            normalized = normalize(text, reading_table(session()))
            if valid and request.form.get("action") == "speak":
                if form.checked.data == fingerprint(text):
                    segment = _speak(form, me)
                    if segment is not None:
                        return _spoken(segment)
                else:
                    form.text.errors = [
                        *form.text.errors,
                        _(
                            "Văn bản đã thay đổi sau lần xem trước. Hãy xem lại văn bản chuẩn hoá "
                            "bên dưới rồi bấm “Đọc thành bản tin”."
                        ),
                    ]
            form.checked.data = fingerprint(text)
    return render_template(
        "segments/tts.html",
        form=form,
        normalized=normalized,
        max_chars=cfg.tts_max_chars,
        templates=notice_templates(),
        chosen=_template_code(request.args.get("mau")),
    ), 400 if form.errors else 200
