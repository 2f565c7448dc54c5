"""``/segments/new``: upload one recording or several at once. Each file is checked and
ingested on its own, so one refused file costs only itself: the others are kept and the page
says which went in and which did not, and why.

With the script, several files go one request each (``several=1``) so each has its own
progress bar and result; without it they come in one request and a results page answers."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from audio.errors import AudioError
from scheduler import segments as service
from scheduler.errors import DomainError
from scheduler.models import Segment, SegmentStatus
from web import panel
from web.auth import login_required, panel_user
from web.db import session, settings
from web.forms import show_error
from web.ingest import store_file
from web.segments import bp
from web.segments.forms import MAX_FILES, UploadForm, upload_title
from web.segments.views import field_messages, wants_json


@dataclass
class UploadResult:
    """One file of an upload: the bulletin it became, or why it was refused."""

    filename: str
    title: str
    segment: Segment | None = None
    refusal: str = ""


def _store_all(form: UploadForm) -> list[UploadResult] | None:
    """Every chosen file, each on its own; None when what they share (owner, campaign, topic)
    is refused, with the reason attached to the form."""
    db, me = session(), panel_user()
    files: list[FileStorage] = list(form.file.data or [])
    several = form.several_files()
    try:
        campaign, topic = form.campaign_topic()
    except ValueError:
        return None
    typed = str(form.title.data or "")
    try:
        shared = service.prepare(db, me, typed or "-", str(form.owner.data), campaign, topic)
    except DomainError as exc:
        db.rollback()
        show_error(form, exc, field_messages())
        return None
    outcomes = []
    for upload in files:
        outcome = UploadResult(upload.filename or "", upload_title(typed, upload.filename, several))
        try:
            outcome.segment = store_file(me, replace(shared, title=outcome.title), upload)
        except AudioError as exc:
            db.rollback()
            outcome.refusal = exc.message
        outcomes.append(outcome)
    return outcomes


def _form_errors(form: Any) -> dict[str, Any]:
    return {
        "errors": {f.name: list(f.errors) for f in form if f.errors},
        "form_errors": list(form.form_errors),
    }


def _upload_page(form: UploadForm, status: int) -> ResponseReturnValue:
    if wants_json():
        return jsonify(_form_errors(form)), status
    return render_template(
        "segments/new.html", form=form, max_mb=settings().max_upload_mb, max_files=MAX_FILES
    ), status


def _one(form: UploadForm, outcome: UploadResult) -> ResponseReturnValue:
    """A single file (typed alone, or one of several sent by the script)."""
    segment = outcome.segment
    if segment is None:
        form.file.errors = [*form.file.errors, outcome.refusal]
        return _upload_page(form, 400)
    target = url_for(".show", segment_id=segment.id)
    if not form.several_files():  # one of several shows its result in its own row instead
        if segment.status == SegmentStatus.ready:
            flash(_("Đã tải lên và xử lý xong “%(title)s”.", title=segment.title), "success")
        else:
            flash(_("Đã nhận tệp; bản ghi dài đang được xử lý."), "info")
    if wants_json():
        return jsonify(redirect=target, title=segment.title, status=segment.status)
    return redirect(target)


@bp.route("/segments/new", methods=["GET", "POST"])
@login_required
def new() -> ResponseReturnValue:
    form = UploadForm()
    form.fill(session(), panel_user())
    if form.validate_on_submit():
        outcomes = _store_all(form)
        if outcomes is not None and len(outcomes) == 1:
            return _one(form, outcomes[0])
        if outcomes is not None:
            stored = sum(1 for o in outcomes if o.segment is not None)
            page = render_template("segments/uploaded.html", outcomes=outcomes, stored=stored)
            return page, 200 if stored else 400
    return _upload_page(form, 400 if form.errors else 200)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> ResponseReturnValue:
    """An upload over the limit, refused before its body is read: the form again, with the
    limit next to the file field (the other values could not be read, so they are not kept)."""
    if request.endpoint != "segments.new":
        return panel.error_page(413)
    form = UploadForm(formdata=None)
    form.fill(session(), panel_user())
    form.owner.data = panel_user().station.code
    limit = settings().max_upload_mb
    form.file.errors = [_("Tệp quá lớn: chỉ nhận tệp đến %(mb)d MB.", mb=limit)]
    return _upload_page(form, 413)
