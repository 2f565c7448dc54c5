"""The table ``loaxa stations migrate`` prints: what moving onto the 2025 map does to each
2024 station, broadcast and user, in Vietnamese (the people who decide read it)."""

from __future__ import annotations

from config.map2025 import Mapping
from scheduler.remap import Plan
from web.schedule.recurrence import vn_date

KINDS = {
    "continue": "giữ bản ghi, đổi thành",
    "merge": "nhập vào",
    "split": "chia — cần người chọn",
    "district": "giải thể (đài huyện dừng), lịch về",
    "province": "sáp nhập vào",
    "unknown": "không có trong bảng chuyển đổi — cần người quyết định",
}


def render(plan: Plan, mapping: Mapping, dry_run: bool) -> str:
    def name(code: str) -> str:
        unit = mapping.units.get(code)
        return f"{unit.name} ({code})" if unit else code

    lines = [
        ("Dự kiến chuyển" if dry_run else "Đã chuyển")
        + f" sang bản đồ hành chính 2025 từ ngày {vn_date(plan.on)} (bảng chuyển đổi: "
        + f"{mapping.source})",
        "",
        f"{'Mã':<8} {'Đài (bản đồ 2024)':<34} {'Việc':<38} Thành (bản đồ 2025)",
    ]
    for step in plan.steps:
        heirs = ", ".join(
            name(c) + (" — mặc định" if i == 0 and step.kind == "split" else "")
            for i, c in enumerate(step.successors)
        )
        lines.append(
            f"{step.station.code:<8} {step.station.name[:34]:<34} {KINDS[step.kind]:<38} {heirs}"
        )
    communes = [s for s in plan.steps if s.station.level == "commune"]
    heir_codes = {c for s in communes for c in s.successors}
    lines += [
        "",
        f"Tóm tắt: {len(communes)} xã/phường thành {len(heir_codes)}; "
        f"giữ bản ghi {plan.count('continue')}, nhập {plan.count('merge')}, "
        f"chia {plan.count('split')} (cần người chọn), "
        f"đài huyện giải thể {plan.count('district')}, tỉnh sáp nhập {plan.count('province')}, "
        f"chưa rõ {plan.count('unknown')}; tạo mới {len(plan.creates)} đài.",
    ]
    if plan.broadcasts:
        lines += ["", f"Buổi phát cần chuyển: {len(plan.broadcasts)}"]
        for move in plan.broadcasts:
            what = []
            if move.owner:
                what.append(f"đơn vị phát → {name(move.owner)}")
            if move.source:
                what.append(f"nguồn tiếp âm → {name(move.source)}")
            if move.added:
                what.append(f"thêm {len(move.added)} đài nhận mới")
            if move.stopped_source:
                what.append(
                    f"nguồn tiếp âm {move.stopped_source} là đài huyện đã dừng — giữ "
                    "nguyên luồng, cần người quyết định"
                )
            if move.choices:
                what.append("cần người chọn cho " + ", ".join(move.choices))
            lines.append(f"  #{move.broadcast.id} «{move.broadcast.title}»: " + "; ".join(what))
    if plan.users:
        lines += ["", f"Người dùng đổi phạm vi: {len(plan.users)}"]
        lines += [
            f"  {user.username}: {user.station.name} → {name(code)}" for user, code in plan.users
        ]
    if dry_run:
        lines += ["", "Chưa thay đổi gì (--dry-run). Chạy lại không có --dry-run để chuyển."]
    return "\n".join(lines)
