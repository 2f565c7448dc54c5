"""Screenshots of the panel's main pages at a phone's width (390 px) and a desktop's
(1366 px), for the README: ``make screenshots`` → ``docs/screenshots/*.png``.

The Hà Nam 2024 demo (``loaxa init --demo``) is built in a temporary instance and served on
a free local port; Debian's Chromium (``/usr/bin/chromium``, or ``LOAXA_CHROMIUM``) visits
each page as the demo user who would use it. Nothing outside the temporary folder changes.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

OUT = Path(__file__).resolve().parent / "screenshots"
CHROMIUM = os.environ.get("LOAXA_CHROMIUM", "/usr/bin/chromium")
PASSWORD = "loaxa-demo"
WIDTHS = {"phone": 390, "desktop": 1366}
# (file name, demo user, page)
PAGES = [
    ("tong-quan", "admin", "/"),
    ("lich-phat", "bientap.phuly", "/schedule?station=13285"),
    ("lich-phat-thang", "bientap.phuly", "/schedule?station=13285&view=month"),
    ("lich-phat-ngay", "bientap.phuly", "/schedule?station=13285&view=day"),
    ("them-buoi-phat", "bientap.phuly", "/schedule/new"),
    ("cho-duyet", "duyet.phuly", "/schedule/approvals"),
    ("ban-tin", "bientap.phuly", "/segments"),
    ("soan-ban-tin", "bientap.phuly", "/segments/tts"),
    ("dung-chuong-trinh", "bientap.phuly", "/programs/new"),
    ("lich-tiep-am", "vanhanh.quangtrung", "/stations/13285/relay"),
    ("dai", "admin", "/stations"),
    ("bao-cao", "admin", "/reports"),
    ("phat-khan-cap", "admin", "/alerts"),
    ("nhat-ky", "admin", "/audit"),
]


def main() -> int:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    with tempfile.TemporaryDirectory(prefix="loaxa-shots-") as tmp:
        instance = Path(tmp) / "instance"
        env = {**os.environ, "LOAXA_INSTANCE": str(instance)}
        env.pop("LOAXA_DATABASE_URL", None)
        loaxa = Path(sys.executable).with_name("loaxa")
        subprocess.run([str(loaxa), "init", "--demo"], env=env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        from web import create_app

        app = create_app({"instance_path": instance})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        OUT.mkdir(parents=True, exist_ok=True)
        try:
            shoot(base)
        finally:
            server.shutdown()
            app.extensions["loaxa"]["jobs"].shutdown()
    print(f"{len(PAGES) * len(WIDTHS)} screenshots in {OUT}")
    return 0


def shoot(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        for device, width in WIDTHS.items():
            pages: dict[str, Page] = {}
            for name, user, path in PAGES:
                page = pages.get(user) or signed_in(browser, base, user, width)
                pages[user] = page
                page.goto(path)
                page.screenshot(path=str(OUT / f"{name}-{device}.png"))
        browser.close()


def signed_in(browser: Browser, base: str, user: str, width: int) -> Page:
    context = browser.new_context(
        base_url=base, locale="vi-VN", viewport={"width": width, "height": 900}
    )
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(user)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_load_state()
    return page


if __name__ == "__main__":
    sys.exit(main())
