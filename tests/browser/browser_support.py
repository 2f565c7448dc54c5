"""Signing in to the panel in the browser tests, as one of the demo accounts of
``config/demo.json`` that the ``live_server`` fixture creates."""

from __future__ import annotations

import re
from typing import Any

try:
    from playwright.sync_api import expect
except ImportError:  # the ``chromium`` fixture skips (or fails) with the reason
    expect = None  # type: ignore[assignment]

PASSWORD = "loaxa-demo"  # every demo account's


def sign_in(page: Any, username: str) -> None:
    """Open the panel, get sent to the login form, and sign in as ``username``."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
