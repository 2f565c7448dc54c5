"""What every panel page shares: the navigation, role names, and error pages.

Adding a page (see also ``web/auth/access.py`` for the decorators)::

    bp = Blueprint("stations", __name__, template_folder="templates")
    panel.register_error_pages(bp)        # Vietnamese 403/404/500 pages for this blueprint

and in ``NAV`` below, an entry ``("stations.index", _l("Đài"), None)``. Entries whose endpoint
is not registered yet are skipped, so the menu shows only pages that exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException

from scheduler.errors import DomainError, Invalid
from scheduler.models import Role

ROLE_LABELS = {
    Role.admin: _l("Quản trị"),
    Role.editor: _l("Biên tập"),
    Role.approver: _l("Người duyệt"),
    Role.operator: _l("Vận hành đài"),
}
LEVEL_LABELS = {
    "province": _l("tỉnh"),
    "district": _l("huyện"),
    "commune": _l("xã"),
}
EVERYONE = None
# The main menu, in order: (endpoint, label, roles that see it; None = every role).
NAV: list[tuple[str, Any, frozenset[Role] | None]] = [
    ("home.index", _l("Tổng quan"), EVERYONE),
    ("relay.index", _l("Lịch tiếp âm"), EVERYONE),
    ("stations.index", _l("Đài"), EVERYONE),
    ("segments.index", _l("Bản tin"), EVERYONE),
    ("programs.index", _l("Chương trình"), EVERYONE),
    ("schedule.index", _l("Lịch phát"), EVERYONE),
    ("reports.index", _l("Báo cáo"), EVERYONE),
    # Editors cannot issue alerts (scheduler.alerts.require_issuer): no menu entry for them.
    ("alerts.new", _l("Phát khẩn cấp"), frozenset({Role.admin, Role.approver})),
    ("audit.index", _l("Nhật ký"), frozenset({Role.admin, Role.approver})),
    ("admin.users", _l("Người dùng"), frozenset({Role.admin})),
]


# Pages without a menu entry of their own light up the entry they hang from: the readings
# page (/doc-tat) is opened from "Bản tin" and the TTS composer; the header has no room for
# a twelfth entry at 1366 px, the usual office laptop.
SECTION_OF = {"readings": "segments"}


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: Any
    active: bool


def nav_items() -> list[NavItem]:
    """The menu for the signed-in user: pages that exist and that their role may open."""
    if not current_user.is_authenticated:
        return []
    here = (request.endpoint or "").partition(".")[0]
    here = SECTION_OF.get(here, here)
    return [
        NavItem(endpoint, label, endpoint.partition(".")[0] == here)
        for endpoint, label, roles in NAV
        if endpoint in current_app.view_functions and (roles is None or current_user.role in roles)
    ]


def _context() -> dict[str, Any]:
    return {"nav_items": nav_items, "role_labels": ROLE_LABELS, "level_labels": LEVEL_LABELS}


# --- Error pages ---------------------------------------------------------------------------

ERROR_TEXT = {
    400: (_l("Yêu cầu không hợp lệ"), _l("Trang không hiểu yêu cầu này.")),
    403: (_l("Không có quyền"), _l("Tài khoản của bạn không được mở trang này.")),
    404: (_l("Không tìm thấy"), _l("Không có trang này. Hãy kiểm tra lại địa chỉ.")),
    405: (_l("Không hợp lệ"), _l("Trang này không nhận cách gửi này.")),
    413: (_l("Tệp quá lớn"), _l("Nội dung gửi lên vượt quá giới hạn cho phép.")),
    429: (_l("Quá nhiều yêu cầu"), _l("Hãy đợi một lát rồi thử lại.")),
    500: (
        _l("Lỗi hệ thống"),
        _l("Đã có lỗi xảy ra. Quản trị viên có thể xem chi tiết trong nhật ký máy chủ."),
    ),
}
CSRF_TEXT = (
    _l("Biểu mẫu đã hết hạn"),
    _l("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang rồi thử lại."),
)


def error_page(code: int, title: Any = None, text: Any = None) -> tuple[str, int]:
    default_title, default_text = ERROR_TEXT.get(code, ERROR_TEXT[500])
    page = render_template(
        "_error.html", code=code, title=title or default_title, text=text or default_text
    )
    return page, code


def _panel_error(exc: Exception) -> tuple[str, int]:
    """Every error raised inside a panel view becomes a Vietnamese page, never a traceback."""
    if isinstance(exc, CSRFError):
        return error_page(400, *CSRF_TEXT)
    if isinstance(exc, HTTPException):
        return error_page(exc.code or 500)
    if isinstance(exc, DomainError):
        return error_page(exc.status if exc.status in ERROR_TEXT else 400)
    current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
    return error_page(500)


def register_error_pages(bp: Blueprint) -> None:
    """Blueprint-level handlers win over the JSON API's app-wide ones for this blueprint."""
    bp.register_error_handler(Exception, _panel_error)


def _unrouted(exc: HTTPException) -> Any:
    """404/405 for addresses no view matched: a panel page, except under ``/api/`` where the
    JSON API answers in its own shape."""
    if request.path.startswith("/api/"):
        from web.api.errors import error_response

        return error_response(exc.code or 500, exc.description or exc.name)
    return error_page(exc.code or 500)


def init_app(app: Flask) -> None:
    app.context_processor(_context)
    app.before_request(_refuse_nul)
    for code in (404, 405):
        app.register_error_handler(code, _unrouted)


def _refuse_nul() -> None:
    """A NUL character in the address or a form field is refused at the door, for every page
    and the API alike: PostgreSQL cannot store or even compare it, so it would otherwise
    surface deep inside a query as a 500."""
    values = [request.path, *request.args.values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.values(), *(f.filename or "" for f in request.files.values())]
    if any("\x00" in value for value in values):
        if request.path.startswith("/api/"):
            raise Invalid("the request contains a NUL character")
        raise BadRequest()
