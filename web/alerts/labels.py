"""Words for the alert pages: the alert's state and each airing's, with their colours, and
the reasons in Vietnamese. Agents and the server give their reasons in English (for logs and
the API); an operator reads them here, so the known ones are translated and the rest are
shown as they came — a reason never disappears because nobody translated it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l

from scheduler.alert_status import StationState
from scheduler.cap_alerts import awaits_translation
from scheduler.overview import DRIFT_MS, LiveStatus
from web.stations import labels as station_labels
from web.stations.labels import reason_text

# scheduler.alert_status.AlertStatus.state
ALERT_STATE = {
    "preparing": _l("Đang chuẩn bị âm thanh"),
    "failed": _l("Không phát được"),
    "recorded": _l("Chỉ lưu, không phát"),
    "awaiting_translation": _l("Chờ bản dịch tiếng Việt"),
    "cancelled": _l("Đã hủy"),
    "live": _l("Đang phát khẩn cấp"),
    "done": _l("Đã xong"),
}
# CSS class (colour) of each state: web/static/live/live.css
ALERT_TONE = {
    "preparing": "info",
    "failed": "bad",
    "recorded": "muted",
    "awaiting_translation": "warn",
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


def shown_state(alert: Any, status: Any, now: datetime) -> str:
    """The alert's state as the pages name it: one that waits for its Vietnamese words is
    "recorded" to the domain but waits for someone, which the page says."""
    if status.state == "recorded" and awaits_translation(alert, now):
        return "awaiting_translation"
    return str(status.state)


def why_not_aired(alert: Any, state: str) -> str:
    """Why an alert is off the air, in the reader's language. One that waited for its
    Vietnamese words until it expired says so: its recorded reason ("it airs once an
    approver enters…") is no longer true."""
    if state == "recorded" and alert.outcome == "awaiting_translation":
        return str(_l("Cảnh báo đã hết hạn trước khi có bản dịch tiếng Việt nên không được phát."))
    return reason_text(alert.error)


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
        "shown_state": shown_state,
        "why_not_aired": why_not_aired,
    }
