"""The domain's refusals of a broadcast in the panel's words, chosen by the error's ``code``
(or, where one field has one reason, its ``field``): one table, so the sentence an operator
reads cannot drift from the refusal it explains when the English message is reworded."""

from __future__ import annotations

from flask_babel import gettext as _

from scheduler.errors import Clash, DomainError


def refusal(exc: DomainError) -> str:
    if isinstance(exc, Clash):
        return _("Trùng giờ với buổi phát cùng cấp và cùng mức ưu tiên; hãy đổi giờ hoặc đài.")
    by_code = {
        "program_elsewhere": _("Chương trình này thuộc địa bàn khác."),
        "program_archived": _(
            "Chương trình này đã được lưu trữ; hãy khôi phục trước khi lên lịch."
        ),
        "program_not_rendered": _("Chương trình chưa dựng xong nên chưa phát được."),
        "program_unapproved": _("Chương trình còn bản tin chưa được duyệt."),
        "program_unknown": _("Không có chương trình này."),
        "rrule_overlap": _(
            "Các lần phát chồng lên nhau: mỗi lần phát dài hơn khoảng cách giữa hai lần."
        ),
        "rrule_never_airs": _("Quy tắc này không có lần phát nào trong 400 ngày đầu."),
    }
    if exc.code in by_code:
        return by_code[exc.code]
    by_field = {
        "program": _("Không có chương trình này."),
        "rrule": _(
            "Quy tắc lặp lại không dùng được: %(reason)s",
            reason=exc.message.removeprefix("rrule: "),
        ),
        "start": _(
            "Giờ phát này đã qua: buổi phát không còn lần phát nào. Hãy kiểm tra ngày và giờ."
        ),
        "until": _("Ngày kết thúc phải sau ngày phát đầu tiên."),
        "targets": _("Có đài nằm ngoài phạm vi của đài lập lịch hoặc của bạn."),
        "owner": _("Hãy chọn một đài trong phạm vi của bạn."),
        "conflict": _(
            "Tiếp âm là phát trực tiếp nên không dời giờ được; hãy chọn cắt bớt hoặc bỏ qua."
        ),
        "source": _("Đài nguồn chưa có địa chỉ luồng phát; hãy nhập địa chỉ luồng."),
        "stream_url": _(
            "Địa chỉ luồng phải bắt đầu bằng http://, https://, rtsp://, rtmp://, udp://, rtp:// "
            "hoặc srt://."
        ),
        "duration_s": _("Hãy nhập thời lượng tiếp âm."),
    }
    return by_field.get(exc.field or "") or _("Không lưu được: %(reason)s", reason=exc.message)
