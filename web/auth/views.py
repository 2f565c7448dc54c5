"""``/login`` and ``/logout``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from scheduler import accounts
from scheduler.models import User
from web.auth import bp
from web.auth.access import Account
from web.auth.forms import LoginForm
from web.auth.limiter import LoginLimiter
from web.db import session as db_session

# Failures allowed per window (LoginLimiter.window_s): for one username from one address, and
# from one address over all usernames (someone trying many accounts).
PER_USER_AND_ADDRESS = 5
PER_ADDRESS = 30


def safe_next(target: str | None) -> str | None:
    """``next=`` only ever leads to a page of this site: a local path, never ``//host``,
    ``https://host``, a backslash trick or control characters."""
    if not target:
        return None
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _limiter() -> LoginLimiter:
    return current_app.extensions["loaxa"]["login_limiter"]


def _start_session(user: User) -> None:
    """A fresh session for the signed-in user (nothing carried over from before the login
    except the language they chose)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    login_user(Account(user))


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        return render_template("auth/login.html", form=form)
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 400
    username = str(form.username.data).lower()
    address = request.remote_addr or "-"
    keys = (("user", username, address), ("address", address))
    wait = _limiter().check(*keys, limits=(PER_USER_AND_ADDRESS, PER_ADDRESS))
    if wait:
        minutes = max(1, round(wait / 60))
        form.form_errors.append(
            _(
                "Bạn đã nhập sai quá nhiều lần. Hãy thử lại sau %(minutes)s phút.",
                minutes=minutes,
            )
        )
        page = render_template("auth/login.html", form=form)
        return page, 429, {"Retry-After": str(int(wait) + 1)}
    user = accounts.authenticate(db_session(), username, str(form.password.data))
    if user is None:
        _limiter().failed(*keys)
        current_app.logger.warning("failed login for %r from %s", username, address)
        form.form_errors.append(_("Tên đăng nhập hoặc mật khẩu không đúng."))
        return render_template("auth/login.html", form=form), 400
    _limiter().succeeded(keys[0])
    _start_session(user)
    return redirect(safe_next(form.next.data) or url_for("home.index"))


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> ResponseReturnValue:
    """POST signs out (a link or an image elsewhere cannot); GET asks first."""
    if request.method == "GET":
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login"))
        return render_template("auth/logout.html")
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))
