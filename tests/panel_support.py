"""Helpers for tests of the HTML panel: users per role, signed-in clients, CSRF tokens.

A panel test module adds one fixture::

    @pytest.fixture
    def panel(app, network):
        return Panel(app, network)

and then ``client = panel.client("editor", "347")`` is a test client signed in (through the
real ``/login`` form, CSRF included) as a new editor of Phủ Lý; ``client.form_post(url,
data)`` reads the CSRF token from the page at ``url`` (or ``page=``) and posts the form.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from itertools import count
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from scheduler import accounts
from scheduler.models import User
from tests.conftest import FROZEN_NOW

PASSWORD = "mat-khau-dai"
ROLES = ("admin", "editor", "approver", "operator")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                  r'type="hidden" name="csrf_token" value="([^"]+)"')  # fmt: skip


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1) or found.group(2)


class PanelClient(FlaskClient):
    def form_post(
        self, url: str, data: dict[str, Any] | None = None, page: str | None = None, **kw: Any
    ) -> TestResponse:
        """POST ``data`` as a browser would after loading ``page`` (default: ``url``)."""
        shown = self.get(page or url)
        token = csrf_token(shown.get_data(as_text=True))
        return self.post(url, data={"csrf_token": token, **(data or {})}, **kw)


class Panel:
    def __init__(self, app: Flask, db: Session) -> None:
        self.app = app
        self.db = db
        self._counter = count(1)
        app.test_client_class = PanelClient

    def user(
        self, role: str, station: str, username: str | None = None, password: str = PASSWORD
    ) -> User:
        name = username or f"{role}{next(self._counter)}.{station}"
        user = accounts.add_user(self.db, FROZEN_NOW, name, password, role, station)
        self.db.commit()
        return user

    def anonymous(self) -> PanelClient:
        return self.app.test_client()  # type: ignore[return-value]

    def login(self, username: str, password: str = PASSWORD, **kw: Any) -> PanelClient:
        client = self.anonymous()
        response = client.form_post("/login", {"username": username, "password": password}, **kw)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    def client(self, role: str, station: str, username: str | None = None) -> PanelClient:
        """A client signed in as a new user with this role at this station."""
        return self.login(self.user(role, station, username).username)

    def reload(self, username: str) -> User:
        self.db.expire_all()
        user = self.db.scalar(select(User).where(User.username == username))
        assert user is not None
        return user


def as_json(response: TestResponse) -> dict[str, Any]:
    """The JSON object a page's script gets (an upload's result, a render's status)."""
    body = response.get_json()
    assert isinstance(body, dict), response.get_data(as_text=True)
    return body


def field_errors(html: str, field: str) -> list[str]:
    """The messages shown next to a field (``<p class="error" id="<field>-error">``)."""
    return re.findall(rf'<p class="error" id="{re.escape(field)}-error">([^<]*)</p>', html)


def input_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


class _Text(HTMLParser):
    """The visible text of a page and its human-readable attributes."""

    READABLE = ("aria-label", "title", "placeholder", "alt")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in self.READABLE and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE
)


def untranslated(html: str, allowed: list[str]) -> list[str]:
    """Text on an English page that still reads Vietnamese, once proper names (stations,
    people, "Loa Xã", "Tiếng Việt") listed in ``allowed`` are taken out."""
    names = sorted({"Loa Xã", "Tiếng Việt", *allowed}, key=len, reverse=True)
    left = []
    for part in visible_text(html):
        rest = part
        for name in names:
            rest = rest.replace(name, "")
        if VIETNAMESE.search(rest):
            left.append(part)
    return left
