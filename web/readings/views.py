"""``/doc-tat``: the readings editors added (who, when), a form to add or change one, and
what the voice would say for a sample sentence with them. Editors, approvers and admins.
Every change is audited (``reading.add``/``change``/``remove``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from audio.tts.normalize_vi import load_abbreviations, normalize
from scheduler.db import now_utc
from scheduler.errors import DomainError
from scheduler.models import Reading, User
from scheduler.readings import EDITORS, add_reading, reading_table, remove_reading
from web.auth import panel_user, role_required
from web.db import session
from web.forms import show_error, strip
from web.readings import bp


class ReadingForm(FlaskForm):
    written = StringField(
        _l("Chữ viết tắt"),
        filters=[strip],
        validators=[
            DataRequired(_l("Hãy nhập chữ viết tắt.")),
            Length(max=40, message=_l("Tối đa 40 ký tự.")),
        ],
    )
    spoken = StringField(
        _l("Đọc là"),
        filters=[strip],
        validators=[
            DataRequired(_l("Hãy nhập cách đọc.")),
            Length(max=300, message=_l("Tối đa 300 ký tự.")),
        ],
    )


def _messages() -> dict[str, str]:
    return {
        "written": _(
            "Chữ viết tắt phải có ít nhất một chữ in hoa (ví dụ BCH, TT&TT, KT-XH), tối đa 40 "
            "ký tự."
        ),
        "spoken": _("Cách đọc chỉ gồm chữ (số hãy viết bằng chữ), tối đa 300 ký tự."),
    }


def _page(form: ReadingForm, status: int = 200) -> ResponseReturnValue:
    db = session()
    rows = db.execute(
        select(Reading, User.username)
        .outerjoin(User, User.id == Reading.added_by)
        .order_by(Reading.written)
    ).all()
    sample = (request.args.get("thu") or "").strip()[:500]
    return render_template(
        "readings/index.html",
        form=form,
        rows=rows,
        bundled=sorted(load_abbreviations().items()),
        sample=sample,
        heard=normalize(sample, reading_table(db)) if sample else None,
    ), status


@bp.get("/doc-tat")
@role_required(*EDITORS)
def index() -> ResponseReturnValue:
    return _page(ReadingForm())


@bp.post("/doc-tat")
@role_required(*EDITORS)
def add() -> ResponseReturnValue:
    form = ReadingForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    db = session()
    try:
        reading = add_reading(
            db, panel_user(), str(form.written.data), str(form.spoken.data), now_utc()
        )
    except DomainError as exc:
        db.rollback()
        show_error(form, exc, _messages())
        return _page(form, 400)
    db.commit()
    flash(
        _(
            "Đã lưu: %(written)s đọc là “%(spoken)s”.",
            written=reading.written,
            spoken=reading.spoken,
        ),
        "success",
    )
    return redirect(url_for(".index", thu=reading.written))


@bp.post("/doc-tat/<int:reading_id>/xoa")
@role_required(*EDITORS)
def remove(reading_id: int) -> ResponseReturnValue:
    form = FlaskForm()
    if not form.validate_on_submit():
        return _page(ReadingForm(formdata=None), 400)
    db = session()
    try:
        remove_reading(db, panel_user(), reading_id, now_utc())
    except DomainError as exc:
        db.rollback()
        flash(_("Không xóa được: %(reason)s", reason=exc.message), "error")
        return redirect(url_for(".index"))
    db.commit()
    flash(_("Đã xóa cách đọc."), "success")
    return redirect(url_for(".index"))
