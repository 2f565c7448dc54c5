r"""Languages and local time for the panel: Vietnamese first, English second.

The source language is Vietnamese: every visible string is written in Vietnamese and wrapped
(``_("Đăng nhập")`` in Python, ``{{ _("Đăng nhập") }}`` in templates; ``lazy_gettext`` for
strings built at import time, such as form labels). English lives in
``web/translations/en/LC_MESSAGES/messages.po``; Vietnamese needs no catalog.

After adding or changing strings (``tests/test_panel_i18n.py`` fails until this is done)::

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location \
        --sort-output --omit-header -o web/translations/messages.pot .
    .venv/bin/pybabel update -i web/translations/messages.pot -d web/translations \
        --ignore-obsolete --no-fuzzy-matching --ignore-pot-creation-date
    # translate the new (empty) entries in web/translations/en/LC_MESSAGES/messages.po
    .venv/bin/pybabel compile -d web/translations

The compiled ``.mo`` is committed, so a fresh clone serves English without a build step.

Which language a request gets: ``?lang=vi|en`` (remembered in the session) → the choice
remembered earlier in this session → the signed-in user's setting → Vietnamese.

Dates and times are shown the Vietnamese way in both languages — ``21/4/2026``, ``17:30`` —
in the station's time zone, through the ``date``, ``time`` and ``datetime`` filters.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime as DateTime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, session
from flask_babel import Babel
from flask_login import current_user

from scheduler.models import Station

Where = Station | ZoneInfo | str | None  # a station, a zone, or None for the user's own

LOCALES = ("vi", "en")
DEFAULT_LOCALE = "vi"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}  # each in its own language


def select_locale() -> str:
    chosen = session.get("lang")
    if chosen in LOCALES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    return DEFAULT_LOCALE


def _remember_lang() -> None:
    """``?lang=en`` on any panel page switches the language for the rest of the session."""
    lang = request.args.get("lang")
    if lang in LOCALES and not request.path.startswith("/api/"):
        session["lang"] = lang


def switch_url(lang: str) -> str:
    """This page in another language (a GET link: the choice is not a change of data)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", lang))
    return f"{quote(request.path)}?{urlencode(args)}"


def _zone(where: Where) -> ZoneInfo:
    if isinstance(where, ZoneInfo):
        return where
    if isinstance(where, Station):
        return ZoneInfo(where.timezone)
    if isinstance(where, str):
        return ZoneInfo(where)
    if current_user and current_user.is_authenticated:
        return ZoneInfo(current_user.station.timezone)
    return ZoneInfo(current_app.extensions["loaxa"]["settings"].timezone)


def _local(value: DateTime, where: Where) -> DateTime:
    """Aware instants are converted to the zone; a naive value is already a local wall time
    (a broadcast's start as the editor typed it) and is shown as it is."""
    return value.astimezone(_zone(where)) if value.tzinfo is not None else value


def format_date(value: Date | DateTime | None, where: Where = None) -> str:
    """``21/4/2026``: day/month/year without leading zeros, as Vietnamese write it."""
    if value is None:
        return ""
    if isinstance(value, DateTime):
        value = _local(value, where)
    return f"{value.day}/{value.month}/{value.year}"


def format_time(value: DateTime | None, where: Where = None) -> str:
    """``17:30`` (24-hour clock)."""
    if value is None:
        return ""
    return f"{_local(value, where):%H:%M}"


def format_datetime(value: DateTime | None, where: Where = None) -> str:
    """``17:30 21/4/2026``: time first, as in Vietnamese notices."""
    if value is None:
        return ""
    local = _local(value, where)
    return f"{local:%H:%M} {local.day}/{local.month}/{local.year}"


def zone_label(zone: str) -> str:
    """A time zone as people say it ("giờ Việt Nam"), not its tz database name."""
    from flask_babel import gettext as _

    if zone in ("Asia/Ho_Chi_Minh", "Asia/Saigon"):
        return _("giờ Việt Nam")
    return zone


def _template_globals() -> dict[str, Any]:
    from flask_babel import get_locale

    current = str(get_locale() or DEFAULT_LOCALE)
    return {
        "current_lang": current,
        "other_languages": [(code, LANGUAGE_NAMES[code]) for code in LOCALES if code != current],
        "switch_url": switch_url,
        "zone_label": zone_label,
    }


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    Babel(app, locale_selector=select_locale)
    app.before_request(_remember_lang)
    app.context_processor(_template_globals)
    app.jinja_env.filters.update(date=format_date, time=format_time, datetime=format_datetime)
