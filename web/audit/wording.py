"""The audit log in words: "admin duyệt buổi phát «Thời sự tối»" rather than
``broadcast.approve broadcast #11``, details with Vietnamese names, station names instead of
codes, local times and lengths — the raw record stays one click away (folded)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Alert, AuditEvent, Broadcast, Program, Segment, Station, User
from web.i18n import format_datetime
from web.panel import ROLE_LABELS
from web.segments.views import mmss
from web.stations.labels import reason_text

# What each action did, as the verb of a sentence whose subject is the actor.
ACTIONS: dict[str, Any] = {
    "broadcast.create": _l("tạo buổi phát"),
    "broadcast.update": _l("sửa buổi phát"),
    "broadcast.revise": _l("gửi thay đổi chờ duyệt cho buổi phát"),
    "broadcast.approve": _l("duyệt buổi phát"),
    "broadcast.reject": _l("từ chối buổi phát"),
    "broadcast.cancel": _l("hủy buổi phát"),
    "alert.create": _l("phát cảnh báo khẩn cấp"),
    "alert.record": _l("ghi nhận (không phát) bản tin cảnh báo"),
    "alert.air": _l("đưa lên sóng cảnh báo"),
    "alert.cancel": _l("hủy cảnh báo"),
    "alert.translate": _l("nhập bản dịch tiếng Việt cho cảnh báo"),
    "segment.upload": _l("tải lên bản tin"),
    "segment.tts": _l("đọc máy bản tin"),
    "segment.approve": _l("duyệt bản tin"),
    "segment.reject": _l("không duyệt bản tin"),
    "segment.publish": _l("công bố lên trang Bản tin"),
    "segment.unpublish": _l("gỡ khỏi trang Bản tin"),
    "program.create": _l("dựng chương trình"),
    "program.archive": _l("lưu trữ chương trình"),
    "program.restore": _l("khôi phục chương trình"),
    "segment.archive": _l("lưu trữ bản tin"),
    "segment.restore": _l("khôi phục bản tin"),
    "reading.add": _l("thêm cách đọc chữ viết tắt"),
    "reading.change": _l("sửa cách đọc chữ viết tắt"),
    "reading.remove": _l("xóa cách đọc chữ viết tắt"),
    "station.rules": _l("đổi quy định phát của"),
    "station_token.rotate": _l("cấp mã máy trạm mới cho"),
    "stations.import": _l("nhập danh mục đài"),
    "stations.migrate": _l("chuyển mạng lưới đài sang bản đồ hành chính mới"),
    "station.retire": _l("giải thể đài"),
    "user.create": _l("tạo tài khoản"),
    "user.update": _l("sửa tài khoản"),
    "user.activate": _l("mở khóa tài khoản"),
    "user.deactivate": _l("khóa tài khoản"),
    "user.password_reset": _l("đặt lại mật khẩu của"),
    "user.password_change": _l("đổi mật khẩu của"),
    "api_token.create": _l("tạo mã API cho"),
    "api_token.rotate": _l("cấp mã API mới cho"),
    "api_token.revoke": _l("thu hồi mã API của"),
}

# Detail keys in the reader's words; keys not listed stay in the folded raw record only.
KEYS: dict[str, Any] = {
    "title": _l("Tên"),
    "status": _l("Trạng thái"),
    "reason": _l("Lý do"),
    "forced": _l("Lưu dù trùng giờ"),
    "revision": _l("Là thay đổi chờ duyệt"),
    "targets": _l("Đài nhận"),
    "role": _l("Vai trò"),
    "duration_ms": _l("Thời lượng"),
    "airings": _l("Các lần phát"),
    "expires": _l("Hết hạn"),
    "repeat_every_s": _l("Nhắc lại sau (giây)"),
    "repeat_count": _l("Số lần nhắc lại"),
    "source": _l("Nguồn"),
    "via": _l("Qua"),
    "allowed_windows": _l("Khung giờ được phát"),
    "max_sessions_per_day": _l("Số buổi tối đa mỗi ngày"),
    "max_minutes_per_session": _l("Số phút tối đa mỗi buổi"),
    "created": _l("Đài mới"),
    "updated": _l("Đài cập nhật"),
    "changes": _l("Thay đổi"),
    "prefix": _l("Mã (đầu)"),
    "province": _l("Tỉnh"),
    "to": _l("Sang bản đồ"),
    "on": _l("Từ ngày"),
    "before": _l("Trước đó"),
    "code": _l("Mã đài"),
    "continued": _l("Giữ bản ghi"),
    "merged": _l("Nhập"),
    "split": _l("Chia"),
    "districts": _l("Đài huyện giải thể"),
    "unknown": _l("Chưa rõ"),
    "broadcasts": _l("Buổi phát chuyển"),
    "users": _l("Người dùng chuyển"),
    "language": _l("Ngôn ngữ gốc"),
    "original": _l("Nội dung gốc"),
}
STATUS = {
    "approved": _l("đã duyệt"),
    "pending": _l("chờ duyệt"),
    "cancelled": _l("đã hủy"),
}
SOURCES = {
    "panel": _l("bảng điều khiển"),
    "api": _l("API"),
    "json": _l("API (JSON)"),
    "cap": _l("CAP 1.2"),
    "broadcast": _l("hủy lịch phát"),
}
MODELS = {"broadcast": Broadcast, "segment": Segment, "program": Program, "alert": Alert}


@dataclass
class Told:
    """One event as the page shows it."""

    event: AuditEvent
    sentence: str
    lines: list[tuple[str, str]] = field(default_factory=list)
    raw: str = ""


def tell(session: Session, events: list[AuditEvent], zone: str) -> list[Told]:
    """Each event as a sentence and labelled lines (names looked up in a few queries)."""
    names = _object_names(session, events)
    codes = {c for e in events for c in _codes(e.detail)}
    stations = _station_names(session, codes)
    told = []
    for e in events:
        what = ACTIONS.get(e.action)
        name = names.get((e.object_type, e.object_id or ""), "")
        sentence = f"{e.actor}: {e.action}" if what is None else f"{e.actor} {what}"
        if name:
            sentence += f" «{name}»"
        elif e.object_id:
            sentence += f" #{e.object_id}"
        detail = e.detail if isinstance(e.detail, dict) else {}
        lines = [
            (str(KEYS[k]), _value(k, v, stations, zone))
            for k, v in detail.items()
            if k in KEYS and v not in (None, [], {}, "") and not (k == "title" and v == name)
        ]
        raw = json.dumps(e.detail, ensure_ascii=False, indent=1) if e.detail else ""
        told.append(Told(e, sentence, lines, raw))
    return told


def action_label(action: str) -> str:
    """For the filter's choices: the verb, capitalised ("Duyệt buổi phát")."""
    what = str(ACTIONS.get(action, action))
    return what[:1].upper() + what[1:]


def _object_names(session: Session, events: Iterable[AuditEvent]) -> dict[tuple[str, str], str]:
    wanted: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if e.object_id and e.object_id.isdigit() and len(e.object_id) < 10:
            wanted[e.object_type].add(int(e.object_id))
    found: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        if kind in MODELS:
            model: Any = MODELS[kind]
            rows = session.execute(select(model.id, model.title).where(model.id.in_(ids)))
        elif kind == "user":
            rows = session.execute(select(User.id, User.username).where(User.id.in_(ids)))
        elif kind == "station":
            rows = session.execute(select(Station.id, Station.name).where(Station.id.in_(ids)))
        else:
            continue
        found |= {(kind, str(i)): str(n) for i, n in rows if n}
    return found


def _codes(detail: Any) -> list[str]:
    if isinstance(detail, dict) and isinstance(detail.get("targets"), list):
        return [str(c) for c in detail["targets"]]
    return []


def _station_names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = session.execute(select(Station.code, Station.name).where(Station.code.in_(codes)))
    return {str(code): str(name) for code, name in rows}


def _value(key: str, value: Any, stations: dict[str, str], zone: str) -> str:
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if key == "targets" and isinstance(value, list):
        return ", ".join(stations.get(str(c), str(c)) for c in value)
    if key == "status":
        return str(STATUS.get(str(value), value))
    if key == "reason":  # the server's own reasons (a CAP alert kept off the air) in words
        return reason_text(str(value))
    if key == "role":
        return str({str(k): v for k, v in ROLE_LABELS.items()}.get(str(value), value))
    if key in ("source", "via"):
        return str(SOURCES.get(str(value), value))
    if key == "duration_ms" and isinstance(value, int):
        return mmss(value)
    if key in ("expires", "airings"):
        moments = value if isinstance(value, list) else [value]
        return ", ".join(_moment(str(m), zone) for m in moments)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _moment(text: str, zone: str) -> str:
    """An ISO instant as local ``17:30 21/4/2026`` (as written if it is not one)."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return text
    return format_datetime(instant, zone) if instant.tzinfo else text
