"""Vietnamese first, English second: the switch, the catalog, and dates the Vietnamese way."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from scheduler.models import Station
from tests.network_codes import COMMUNE, DISTRICT
from tests.panel_support import PASSWORD, Panel, untranslated
from web.i18n import format_date, format_datetime, format_time

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "web" / "translations" / "en" / "LC_MESSAGES"
HOW_TO = "run the commands in web/i18n.py's docstring"


@pytest.fixture
def panel(app: Any, network: Any) -> Panel:
    return Panel(app, network)


# --- Choosing the language ------------------------------------------------------------------


def test_vietnamese_is_the_default(panel: Panel) -> None:
    page = panel.client("editor", DISTRICT).get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Tổng quan" in page and "Đăng xuất" in page
    assert 'href="/?lang=en"' in page  # the switch to English


def test_lang_en_switches_and_the_session_remembers(panel: Panel) -> None:
    client = panel.client("editor", DISTRICT)
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Dashboard" in page and "Sign out" in page and "Editor" in page
    assert 'href="/?lang=vi"' in page
    assert '<html lang="en">' in client.get("/account").get_data(as_text=True)
    assert '<html lang="en">' in client.get("/account?lang=xx").get_data(as_text=True)
    assert '<html lang="vi">' in client.get("/account?lang=vi").get_data(as_text=True)
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_the_switch_link_keeps_the_other_query_arguments(panel: Panel) -> None:
    client = panel.client("admin", "35")
    page = client.get("/users?a=1&b=%C4%91").get_data(as_text=True)
    assert 'href="/users?a=1&amp;b=%C4%91&amp;lang=en"' in page


def test_a_language_chosen_on_the_login_page_survives_the_login(panel: Panel) -> None:
    user = panel.user("operator", COMMUNE)
    client = panel.anonymous()
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page and "Sign in" in page and "Username" in page
    client.form_post("/login", {"username": user.username, "password": PASSWORD})
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Station operator" in page


def test_login_errors_are_translated_too(panel: Panel) -> None:
    client = panel.anonymous()
    client.get("/login?lang=en")
    response = client.form_post("/login", {"username": "ai-do", "password": "sai-mat-khau"})
    assert "The username or password is not correct." in response.get_data(as_text=True)
    response = client.form_post("/login", {"username": "", "password": ""})
    assert "Enter the username." in response.get_data(as_text=True)


def test_the_api_ignores_lang(panel: Panel) -> None:
    client = panel.client("editor", DISTRICT)
    client.get("/api/v1/health?lang=en")
    assert '<html lang="vi">' in client.get("/").get_data(as_text=True)


def test_english_pages_have_no_vietnamese_left(panel: Panel) -> None:
    """Every visible string is wrapped for translation: in English, only proper names (of
    stations and people) are still Vietnamese."""
    target = panel.user("operator", COMMUNE)
    target.full_name = "Cán bộ phường Quang Trung"
    panel.db.commit()
    admin = panel.client("admin", "35")
    admin.get("/?lang=en")
    names = [s.name for s in panel.db.query(Station)] + [
        s.station_name for s in panel.db.query(Station)
    ]
    names.append(target.full_name)
    pages = {
        url: admin.get(url).get_data(as_text=True)
        for url in (
            "/",
            "/users",
            "/users/new",
            f"/users/{target.id}",
            "/account",
            "/account/tokens",
            "/logout",
            "/khong-co-trang-nay",
        )
    }
    pages["new user, refused"] = admin.form_post("/users/new", {"username": "Ô"}).get_data(
        as_text=True
    )
    pages["password, refused"] = admin.form_post(
        f"/users/{target.id}/password", {"password": "x"}, page=f"/users/{target.id}"
    ).get_data(as_text=True)
    pages["new token"] = admin.form_post("/account/tokens", page="/account/tokens").get_data(
        as_text=True
    )
    pages["csrf"] = admin.post("/account/tokens").get_data(as_text=True)
    operator = panel.login(target.username)
    operator.get("/?lang=en")
    pages["403"] = operator.get("/users").get_data(as_text=True)
    anonymous = panel.anonymous()
    pages["login"] = anonymous.get("/login?lang=en").get_data(as_text=True)
    operator.form_post("/logout", page="/")
    pages["signed out"] = operator.get("/login").get_data(as_text=True)
    for name, page in pages.items():
        assert '<html lang="en">' in page, name
        assert untranslated(page, names) == [], name


# --- The catalog ----------------------------------------------------------------------------


def _extract(tmp_path: Path) -> dict[str, Any]:
    """The strings the source wraps today, extracted exactly as web/i18n.py says."""
    pot = tmp_path / "messages.pot"
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "babel.cfg"), "-k", "_l",
         "-k", "lazy_gettext", "--no-location", "-o", str(pot), str(ROOT)]
    )  # fmt: skip
    with pot.open("rb") as f:
        return {m.id: m for m in read_po(f) if m.id}


def _po() -> dict[str, Any]:
    with (CATALOG / "messages.po").open("rb") as f:
        return {m.id: m for m in read_po(f) if m.id}


def test_the_english_catalog_covers_every_wrapped_string(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(ROOT)  # babel.cfg's patterns are relative to the project
    wanted = _extract(tmp_path)
    catalog = _po()
    missing = sorted(str(k) for k in wanted.keys() - catalog.keys())
    stale = sorted(str(k) for k in catalog.keys() - wanted.keys())
    assert not missing, f"not in messages.po ({HOW_TO}): {missing}"
    assert not stale, f"no longer in the source ({HOW_TO}): {stale}"
    untranslated_ids = [str(k) for k, m in catalog.items() if not m.string or m.fuzzy]
    assert not untranslated_ids, f"translate these in messages.po: {untranslated_ids}"


def test_placeholders_survive_translation() -> None:
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for msgid, message in _po().items():
        wanted = sorted(placeholder.findall(str(msgid)))
        assert sorted(placeholder.findall(str(message.string))) == wanted, msgid


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def test_the_compiled_catalog_is_up_to_date() -> None:
    """The .mo is committed (a fresh clone needs no build step) and must match the .po."""
    with (CATALOG / "messages.mo").open("rb") as f:
        # ngettext entries: read_mo gives lists, read_po tuples
        compiled = {_tuple(m.id): _tuple(m.string) for m in read_mo(f) if m.id}
    source = {k: m.string for k, m in _po().items() if not m.fuzzy}
    assert compiled == source, "recompile: .venv/bin/pybabel compile -d web/translations"


# --- Dates and times ------------------------------------------------------------------------

HA_NAM = ZoneInfo("Asia/Ho_Chi_Minh")


def test_dates_are_day_month_year_without_leading_zeros() -> None:
    instant = datetime(2026, 4, 21, 10, 30, tzinfo=UTC)
    assert format_date(instant, HA_NAM) == "21/4/2026"
    assert format_time(instant, HA_NAM) == "17:30"
    assert format_datetime(instant, HA_NAM) == "17:30 21/4/2026"
    assert format_date(date(2026, 1, 5)) == "5/1/2026"
    assert format_date(None) == format_time(None) == format_datetime(None) == ""


def test_instants_are_shown_in_the_stations_zone() -> None:
    late = datetime(2026, 4, 20, 18, 5, tzinfo=UTC)  # already the 21st in Hà Nam
    assert (format_date(late, "Asia/Ho_Chi_Minh"), format_time(late, "Asia/Ho_Chi_Minh")) == (
        "21/4/2026",
        "01:05",
    )
    abroad = Station(code="x", name="x", level="commune", path="x/", depth=0)
    abroad.timezone = "Europe/Paris"
    assert format_datetime(late, abroad) == "20:05 20/4/2026"


def test_a_naive_value_is_a_local_wall_time_shown_as_it_is() -> None:
    assert format_datetime(datetime(2026, 4, 21, 5, 30), HA_NAM) == "05:30 21/4/2026"


def test_the_signed_in_users_zone_is_the_default(panel: Panel) -> None:
    client = panel.client("operator", COMMUNE)
    page = client.get("/").get_data(as_text=True)
    assert "20/4/2026, 08:00" in page  # FROZEN_NOW is 01:00 UTC
