"""``/account`` (language, password) and ``/account/tokens`` (personal API tokens).

A new token is shown once, in the answer to the POST that made it, and never stored in the
session or a flash message: only its SHA-256 is kept.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import login_user

from scheduler import accounts
from scheduler.db import now_utc
from scheduler.errors import DomainError
from web.account import bp
from web.account.forms import LanguageForm, OwnPasswordForm
from web.auth import Account, login_required, panel_user
from web.db import session as db_session
from web.forms import show_error


def _account_page(
    language: LanguageForm | None = None, password: OwnPasswordForm | None = None, status: int = 200
) -> ResponseReturnValue:
    me = panel_user()
    language = language or LanguageForm(formdata=None, data={"locale": me.locale})
    password = password or OwnPasswordForm(formdata=None)
    return render_template(
        "account/index.html", me=me, language_form=language, password_form=password
    ), status


@bp.get("/account")
@login_required
def index() -> ResponseReturnValue:
    return _account_page()


@bp.post("/account/language")
@login_required
def language() -> ResponseReturnValue:
    form = LanguageForm()
    if not form.validate_on_submit():
        return _account_page(language=form, status=400)
    accounts.set_locale(db_session(), panel_user(), str(form.locale.data))
    db_session().commit()
    session["lang"] = form.locale.data  # this session follows the new setting at once
    refresh()  # and so does this answer's message
    flash(_("Đã lưu ngôn ngữ."), "success")
    return redirect(url_for(".index"))


@bp.post("/account/password")
@login_required
def password() -> ResponseReturnValue:
    form = OwnPasswordForm()
    if form.validate_on_submit():
        me = panel_user()
        try:
            accounts.change_own_password(
                db_session(),
                now_utc(),
                me,
                str(form.current_password.data),
                str(form.password.data),
            )
        except DomainError as exc:
            db_session().rollback()
            show_error(form, exc, {"current_password": _("Mật khẩu hiện tại không đúng.")})
        else:
            db_session().commit()
            login_user(Account(me))  # the session carries the new password's fingerprint
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for(".index"))
    return _account_page(password=form, status=400)


def _tokens_page(new_token: str | None = None, status: int = 200) -> ResponseReturnValue:
    me = panel_user()
    page = render_template(
        "account/tokens.html",
        me=me,
        tokens=accounts.active_api_tokens(db_session(), me),
        new_token=new_token,
    )
    return page, status, {"Cache-Control": "no-store"}


@bp.get("/account/tokens")
@login_required
def tokens() -> ResponseReturnValue:
    return _tokens_page()


@bp.post("/account/tokens")
@login_required
def issue_token() -> ResponseReturnValue:
    me = panel_user()
    token = accounts.new_api_token(db_session(), now_utc(), me.username, actor=me)
    db_session().commit()
    return _tokens_page(new_token=token)


@bp.post("/account/tokens/rotate")
@login_required
def rotate_token() -> ResponseReturnValue:
    token = accounts.rotate_api_token(db_session(), now_utc(), panel_user())
    db_session().commit()
    return _tokens_page(new_token=token)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> ResponseReturnValue:
    try:
        accounts.revoke_api_token(db_session(), now_utc(), panel_user(), token_id)
    except DomainError:
        db_session().rollback()
        flash(_("Không tìm thấy mã này trong các mã đang dùng của bạn."), "error")
        return redirect(url_for(".tokens"))
    db_session().commit()
    flash(_("Đã thu hồi mã."), "success")
    return redirect(url_for(".tokens"))
