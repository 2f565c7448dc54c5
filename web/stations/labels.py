"""Words and small formatters the live pages share (dashboard, stations, relay schedule,
alerts): play-log statuses with their colours, timeline outcomes, kinds and classes, and
durations and byte counts the way an operator reads them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

PLAY_STATUS = {
    "played": _l("Đã phát"),
    "partial": _l("Phát một phần"),
    "missed": _l("Bỏ lỡ"),
    "failed": _l("Lỗi"),
    "interrupted": _l("Bị ngắt"),
}
# CSS class (colour) of each play status: web/static/live/live.css
PLAY_TONE = {
    "played": "ok",
    "partial": "warn",
    "missed": "bad",
    "failed": "bad",
    "interrupted": "warn",
}
OUTCOMES = {
    "scheduled": _l("Đúng lịch"),
    "shifted": _l("Dời giờ"),
    "truncated": _l("Rút ngắn"),
    "preempted": _l("Bị thay thế"),
}
KINDS = {"relay": _l("Tiếp âm"), "program": _l("Chương trình")}
PRIORITIES = {"normal": _l("Thường"), "priority": _l("Ưu tiên"), "emergency": _l("Khẩn cấp")}
WEEKDAYS = (
    _l("Thứ Hai"),
    _l("Thứ Ba"),
    _l("Thứ Tư"),
    _l("Thứ Năm"),
    _l("Thứ Sáu"),
    _l("Thứ Bảy"),
    _l("Chủ nhật"),
)
LIVE = {
    "online": _l("Trực tuyến"),
    "offline": _l("Mất kết nối"),
    "never": _l("Chưa kết nối"),
}
LIVE_TONE = {"online": "ok", "offline": "bad", "never": "muted"}


def duration_text(value: timedelta | int | None) -> str:
    """``30 phút``, ``1 giờ 15 phút``, ``45 giây`` (an int is milliseconds)."""
    if value is None:
        return ""
    if isinstance(value, int):
        value = timedelta(milliseconds=value)
    seconds = round(value.total_seconds())
    if seconds < 60:
        return _("%(n)d giây", n=seconds)
    minutes = (seconds + 30) // 60
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return _("%(n)d phút", n=minutes)
    if not minutes:
        return _("%(n)d giờ", n=hours)
    return _("%(h)d giờ %(m)d phút", h=hours, m=minutes)


def size_text(value: int | None) -> str:
    """Free disk space: ``12,5 GB``, ``830 MB`` (Vietnamese decimal comma)."""
    if value is None:
        return ""
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if value >= size:
            amount = value / size
            text = f"{amount:.1f}" if amount < 100 else f"{amount:.0f}"
            return f"{text.replace('.', ',')} {unit}"
    return f"{value} B"


def offset_text(ms: int | None) -> str:
    """A clock offset: ``+0,3 s``, ``−4,2 s``."""
    if ms is None:
        return ""
    sign = "+" if ms >= 0 else "−"
    return f"{sign}{abs(ms) / 1000:.1f} s".replace(".", ",")


def helpers() -> dict[str, Any]:
    """For a blueprint's ``context_processor``."""
    return {
        "play_status": PLAY_STATUS,
        "play_tone": PLAY_TONE,
        "outcomes": OUTCOMES,
        "kinds": KINDS,
        "priorities": PRIORITIES,
        "live_labels": LIVE,
        "live_tone": LIVE_TONE,
        "weekday_names": WEEKDAYS,
        "duration_text": duration_text,
        "size_text": size_text,
        "offset_text": offset_text,
    }
