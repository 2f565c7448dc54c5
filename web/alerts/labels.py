"""Words for the alert pages: the alert's state and each airing's, with their colours, and
the reasons in Vietnamese. Agents and the server give their reasons in English (for logs and
the API); an operator reads them here, so the known ones are translated and the rest are
shown as they came — a reason never disappears because nobody translated it."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l

from scheduler.alert_status import NO_REPORT, StationState
from scheduler.overview import DRIFT_MS, LiveStatus
from web.stations import labels as station_labels

# scheduler.alert_status.AlertStatus.state
ALERT_STATE = {
    "preparing": _l("Đang chuẩn bị âm thanh"),
    "failed": _l("Không phát được"),
    "recorded": _l("Chỉ lưu, không phát"),
    "cancelled": _l("Đã hủy"),
    "live": _l("Đang phát khẩn cấp"),
    "done": _l("Đã xong"),
}
# CSS class (colour) of each state: web/static/live/live.css
ALERT_TONE = {
    "preparing": "info",
    "failed": "bad",
    "recorded": "muted",
    "cancelled": "muted",
    "live": "bad",
    "done": "ok",
}
# One airing at one station (scheduler.alert_status.AiringState.state), in the order the
# counts are listed: what is on its way first, then the outcomes, then what is not there.
AIRING_STATE = {
    "received": _l("Đã nhận"),
    "started": _l("Đang phát"),
    "played": _l("Đã phát trọn"),
    "partial": _l("Phát một phần"),
    "interrupted": _l("Bị ngắt"),
    "missed": _l("Bỏ lỡ"),
    "failed": _l("Lỗi, không phát được"),
    "offline": _l("Mất kết nối"),
    "waiting": _l("Chưa nhận"),
    "scheduled": _l("Chưa tới giờ"),
}
AIRING_TONE = {
    "received": "info",
    "started": "info",
    "played": "ok",
    "partial": "warn",
    "interrupted": "warn",
    "missed": "bad",
    "failed": "bad",
    "offline": "bad",
    "waiting": "muted",
    "scheduled": "muted",
}
SOURCES = {"panel": _l("Bảng điều khiển"), "json": _l("API (JSON)"), "cap": _l("CAP 1.2")}
CANCELLED_BY = {
    "panel": _l("trên bảng điều khiển"),
    "api": _l("qua API"),
    "broadcast": _l("khi lịch phát của nó bị hủy"),
}

# Reasons, most specific first: a pattern the whole reason matches, and what to say; the
# pattern's named groups fill the placeholders (".*" at the end: what follows is detail).
REASONS: list[tuple[re.Pattern[str], Any]] = [(re.compile(p, re.S), text) for p, text in (
    (re.escape(NO_REPORT), _l("Đài không báo cáo trước khi hết hạn (mất liên lạc?)")),
    ("not aired here: the agent was not running or did not have the media.*",
     _l("Không phát tại đài: máy trạm không chạy hoặc chưa có âm thanh kịp giờ")),
    ("the media is not in the cache and could not be fetched",
     _l("Máy trạm chưa có tệp âm thanh và không tải về được")),
    ("too little of it was left to join", _l("Còn quá ít thời gian để phát tiếp")),
    ("pre-empted by emergency: (?P<title>.*)", _l("Bị ngắt để phát khẩn cấp: %(title)s")),
    ("pre-empted by priority: (?P<title>.*)",
     _l("Bị ngắt để phát chương trình ưu tiên: %(title)s")),
    ("pre-empted by (?P<title>.*)", _l("Bị ngắt để phát: %(title)s")),
    ("the agent stopped unexpectedly while this was on air",
     _l("Máy trạm dừng đột ngột khi đang phát (mất điện?)")),
    ("the agent was stopped", _l("Máy trạm đã bị tắt")),
    ("stopped by the agent", _l("Máy trạm đã dừng phát")),
    ("the player was closed", _l("Trình phát đã đóng")),
    ("the alert expired before this station could air it",
     _l("Cảnh báo đã hết hạn trước khi đài kịp phát")),
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
    # Why an alert was not aired at all (Alert.error).
    (r"status: a (?P<kind>\w+) message is recorded.*",
     _l("Bản tin CAP loại %(kind)s chỉ được lưu; chỉ bản tin Actual mới được phát")),
    (r"scope: a (?P<kind>\w+) message is recorded.*",
     _l("Bản tin CAP phạm vi %(kind)s chỉ được lưu; chỉ bản tin Public mới được phát")),
    ("cancels (?P<what>.*)", _l("Bản tin hủy cảnh báo %(what)s")),
    ("the sender's account no longer exists", _l("Tài khoản người gửi không còn tồn tại")),
    ("the alert's audio could not be prepared: (?P<what>.*)",
     _l("Không dựng được âm thanh của cảnh báo: %(what)s")),
    ("it expired before its audio was ready",
     _l("Cảnh báo hết hạn trước khi âm thanh kịp sẵn sàng")),
    (r"the alert lasts (?P<s>[\d.]+) s, so it must repeat.*",
     _l("Cảnh báo dài %(s)s giây, nên khoảng cách giữa các lần nhắc lại phải dài hơn")),
)]  # fmt: skip


def _one(reason: str) -> str | None:
    for pattern, text in REASONS:
        found = pattern.fullmatch(reason)
        if found:
            return str(text) % found.groupdict()
    return None


def reason_text(reason: str | None) -> str:
    """A reason in the reader's language, or as it came. An agent may join several with
    ``; `` ("joined 3.2 s late; cut after 00:41.0"): each part is then told on its own."""
    if not reason:
        return ""
    whole = _one(reason)
    if whole is not None:
        return whole
    return "; ".join(_one(part) or part for part in reason.split("; "))


def live_of(row: StationState) -> LiveStatus:
    """The station's badge for ``stations/_live.html``, from the row's own liveness."""
    station = row.station
    offset = station.clock_offset_ms
    drift = offset is not None and abs(offset) > DRIFT_MS
    return LiveStatus(seen=station.last_seen is not None, online=row.online, drift=drift)


def helpers() -> dict[str, Any]:
    """For the blueprint's ``context_processor`` (with the live pages' shared words)."""
    return {
        **station_labels.helpers(),
        "alert_state": ALERT_STATE,
        "alert_tone": ALERT_TONE,
        "airing_state": AIRING_STATE,
        "airing_tone": AIRING_TONE,
        "alert_sources": SOURCES,
        "cancelled_by": CANCELLED_BY,
        "reason_text": reason_text,
        "live_of": live_of,
    }
