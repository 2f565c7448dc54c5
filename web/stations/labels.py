"""Words and small formatters the live pages share (dashboard, stations, relay schedule,
alerts): play-log statuses with their colours, timeline outcomes, kinds and classes, and
durations and byte counts the way an operator reads them."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from scheduler.alert_status import NO_REPORT
from scheduler.db import now_utc

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


# Reasons, most specific first: a pattern the whole reason matches, and what to say; the
# pattern's named groups fill the placeholders (".*" at the end: what follows is detail).
REASONS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(p, re.S), text)
    for p, text in (
        (re.escape(NO_REPORT), _l("Đài không báo cáo trước khi hết hạn (mất liên lạc?)")),
        (
            "not aired here: the agent was not running or did not have the media.*",
            _l("Không phát tại đài: máy trạm không chạy hoặc chưa có âm thanh kịp giờ"),
        ),
        (
            "the media is not in the cache and could not be fetched",
            _l("Máy trạm chưa có tệp âm thanh và không tải về được"),
        ),
        ("too little of it was left to join", _l("Còn quá ít thời gian để phát tiếp")),
        ("pre-empted by emergency: (?P<title>.*)", _l("Bị ngắt để phát khẩn cấp: %(title)s")),
        (
            "pre-empted by priority: (?P<title>.*)",
            _l("Bị ngắt để phát chương trình ưu tiên: %(title)s"),
        ),
        ("pre-empted by (?P<title>.*)", _l("Bị ngắt để phát: %(title)s")),
        (
            "the agent stopped unexpectedly while this was on air",
            _l("Máy trạm dừng đột ngột khi đang phát (mất điện?)"),
        ),
        ("the agent was stopped", _l("Máy trạm đã bị tắt")),
        ("stopped by the agent", _l("Máy trạm đã dừng phát")),
        ("the player was closed", _l("Trình phát đã đóng")),
        (
            "the alert expired before this station could air it",
            _l("Cảnh báo đã hết hạn trước khi đài kịp phát"),
        ),
        ("media missing: (?P<what>.*)", _l("Thiếu tệp âm thanh: %(what)s")),
        ("undecodable: (?P<what>.*)", _l("Không đọc được tệp âm thanh: %(what)s")),
        ("could not prepare: (?P<what>.*)", _l("Không chuẩn bị phát được: %(what)s")),
        ("the cue has neither media nor.*", _l("Không có âm thanh để phát")),
        ("its window was over before it could start", _l("Đã hết khung giờ trước khi kịp phát")),
        ("nothing aired before the window's end", _l("Không phát được gì trước khi hết khung giờ")),
        ("joined after the media's end", _l("Vào phát khi âm thanh đã hết")),
        (r"joined (?P<s>[\d.]+) s late", _l("Vào phát muộn %(s)s giây")),
        ("cut before (its start|it aired)", _l("Bị cắt trước khi kịp phát")),
        ("cut at its end after (?P<aired>.*)", _l("Hết khung giờ, bị cắt sau %(aired)s")),
        ("cut after (?P<aired>.*)", _l("Bị cắt sau %(aired)s")),
        ("cut at its end", _l("Hết khung giờ, bị cắt")),
        ("cut", _l("Bị cắt")),
        # A relay's account of its source (audio/player/relay.py); its clock times are UTC and
        # stay in the raw log, the reader gets the amounts.
        (
            r"source on .* \((?P<aired>[\d:.]+) of (?P<planned>[\d:.]+)\)",
            _l("Nguồn phát được %(aired)s trên %(planned)s"),
        ),
        ("the source never aired", _l("Không thu được nguồn lần nào")),
        (r"(?P<n>\d+) breaks?: (?P<what>.*)", _l("Mất nguồn %(n)s lần: %(what)s")),
        ("the source ended the stream", _l("Nguồn ngừng phát")),
        (r"no sound from the source after (?P<s>\d+) s", _l("Nguồn im lặng sau %(s)s giây")),
        ("no sound from the source", _l("Nguồn không có tiếng")),
        ("the stream broke", _l("Luồng phát bị đứt")),
        ("the stream stalled", _l("Luồng phát bị treo")),
        ("could not reach the source", _l("Không kết nối được tới nguồn")),
        (r"filler (?P<aired>[\d:.]+)", _l("Phát nhạc đệm %(aired)s")),
        ("filler missing: (?P<what>.*)", _l("Thiếu tệp nhạc đệm: %(what)s")),
        ("filler unplayable: (?P<what>.*)", _l("Không phát được tệp nhạc đệm: %(what)s")),
        # Why an alert was not aired at all (Alert.error).
        (
            r"status: a (?P<kind>\w+) message is recorded.*",
            _l("Bản tin CAP loại %(kind)s chỉ được lưu; chỉ bản tin Actual mới được phát"),
        ),
        (
            r"scope: a (?P<kind>\w+) message is recorded.*",
            _l("Bản tin CAP phạm vi %(kind)s chỉ được lưu; chỉ bản tin Public mới được phát"),
        ),
        (
            r"sent: the message was sent (?P<what>.*) ago \(.*\), more than .*",
            _l("Bản tin CAP đã gửi cách đây %(what)s, quá hạn cho phép; chỉ được lưu, không phát"),
        ),
        (r"(?P<n>[\d.]+) h", _l("%(n)s giờ")),
        (r"(?P<n>\d+) days", _l("%(n)s ngày")),
        (
            "urgency: Past .*",
            _l("Sự việc đã qua (urgency Past); bản tin CAP chỉ được lưu, không phát"),
        ),
        (
            "certainty: Unlikely .*",
            _l("Sự việc khó xảy ra (certainty Unlikely); bản tin CAP chỉ được lưu, không phát"),
        ),
        (
            r"severity: a (?P<level>\S+) message is recorded.*",
            _l(
                "Bản tin CAP mức %(level)s chỉ được lưu, không phát (cap_minor_policy = record): "
                "chỉ mức Extreme hoặc Severe, khẩn cấp Immediate hoặc Expected mới được phát"
            ),
        ),
        (
            r"language: the message has no Vietnamese <info> \(it offers (?P<langs>.*)\); "
            r"it airs once.*",
            _l(
                "Bản tin CAP không có nội dung tiếng Việt (chỉ có %(langs)s); cảnh báo sẽ được "
                "phát khi người duyệt nhập bản dịch tiếng Việt"
            ),
        ),
        (
            r"language: the message has no Vietnamese <info> \(it offers (?P<langs>.*)\); "
            r"it is recorded.*",
            _l(
                "Bản tin CAP không có nội dung tiếng Việt (chỉ có %(langs)s); chỉ được lưu, "
                "không phát (cap_no_vietnamese = refuse)"
            ),
        ),
        (
            r"translated by (?P<who>\S+): the sender's words \((?P<langs>.*)\) were not read out",
            _l("%(who)s đã nhập bản dịch tiếng Việt; nội dung gốc (%(langs)s) không được đọc"),
        ),
        (
            r"the sender's own recording \(CAP resource\) is aired",
            _l("Phát bản ghi âm của chính nơi gửi (CAP resource)"),
        ),
        (
            "(?P<what>.*); the text was spoken instead",
            _l("%(what)s; đã đọc văn bản thay cho bản ghi âm"),
        ),
        ("cancels (?P<what>.*)", _l("Bản tin hủy cảnh báo %(what)s")),
        ("the sender's account no longer exists", _l("Tài khoản người gửi không còn tồn tại")),
        (
            "the alert's audio could not be prepared: (?P<what>.*)",
            _l("Không dựng được âm thanh của cảnh báo: %(what)s"),
        ),
        (
            "it expired before its audio was ready",
            _l("Cảnh báo hết hạn trước khi âm thanh kịp sẵn sàng"),
        ),
        (
            r"the alert lasts (?P<s>[\d.]+) s, so it must repeat.*",
            _l("Cảnh báo dài %(s)s giây, nên khoảng cách giữa các lần nhắc lại phải dài hơn"),
        ),
    )
]


NUMBER = re.compile(r"[\d:.]+")


def _one(reason: str) -> str | None:
    for pattern, text in REASONS:
        found = pattern.fullmatch(reason)
        if found:
            return str(text) % {k: _filled(k, v or "") for k, v in found.groupdict().items()}
    return None


def _filled(name: str, value: str) -> str:
    """A placeholder's value as a Vietnamese reader expects it: numbers with a decimal comma
    (``3,2``, ``20:00,0``), a nested reason ("2 breaks: the stream broke") told too."""
    if NUMBER.fullmatch(value):
        return value.replace(".", ",")
    if name == "what":
        return _one(value) or value
    return value


def reason_text(reason: str | None) -> str:
    """A reason in the reader's language, or as it came. An agent may join several with
    ``; `` ("joined 3.2 s late; cut after 00:41.0"): each part is then told on its own."""
    if not reason:
        return ""
    whole = _one(reason)
    if whole is not None:
        return whole
    return "; ".join(_one(part) or part for part in reason.split("; "))


def after_kind(title: str, kind: str) -> str:
    """The title beside its kind's badge, without saying the kind twice: the badge "Tiếp âm"
    and "Tiếp âm Thời sự VOV1" read "Tiếp âm · Thời sự VOV1", not "Tiếp âm Tiếp âm …"."""
    label = str(KINDS.get(kind, ""))
    if label and title.lower().startswith(label.lower() + " "):
        rest = title[len(label) :].strip()
        return rest[:1].upper() + rest[1:]
    return title


def remaining_text(station: Any) -> str:
    """How long what a station plays has left, as its agent planned it: ``còn 12 phút``
    (empty when unknown or already past — an old heartbeat says nothing of now)."""
    until = getattr(station, "now_playing_until", None)
    if until is None:
        return ""
    left = until - now_utc()
    if left.total_seconds() <= 0:
        return ""
    return _("còn %(left)s", left=duration_text(left))


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
        "reason_text": reason_text,
        "after_kind": after_kind,
        "remaining_text": remaining_text,
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
