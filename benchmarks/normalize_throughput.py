"""Benchmark: sentences per second through the Vietnamese normaliser (issue #14: ≥ 1,000/s).

Bulletin sentences of every kind the normaliser reads — document references, acronyms known
and unknown, dates and ranges, money, phones and emergency numbers, house numbers, roads —
each normalised ``--rounds`` times in one process, after one warm-up pass (regex compiles).

    .venv/bin/python benchmarks/normalize_throughput.py [--rounds 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence

from audio.tts.normalize_vi import normalize

SENTENCES = [
    "Thực hiện Kế hoạch số 58/KH-UBND ngày 15/3/2024 của UBND tỉnh về xây dựng XHHT giai "
    "đoạn 2023–2030.",
    "Căn cứ Nghị định số 100/2019/NĐ-CP và Quyết định số 1234/QĐ-UBND, BCH Đoàn xã tổ chức "
    "ra quân.",
    "Chỉ thị số 05-CT/TW được quán triệt tới các chi bộ, TDP và khu dân cư.",
    "Hội LHPN xã phối hợp NHCSXH huyện giải ngân 1,2 tỷ đồng cho 45 hộ vay vốn.",
    "Người nộp thuế TNCN, GTGT và BHXH đúng hạn trước ngày 20/12.",
    "Khi có cháy, gọi ngay 114; cần cấp cứu gọi 115; các số 113/114/115 trực 24/24.",
    "Điểm tiếp nhận tại số nhà 45/12 đường Lê Lợi, ngõ 12/3 phố Trần Hưng Đạo.",
    "Đoạn QL21A qua xã tạm cấm xe trên 10 tấn từ 7h30 đến 17h ngày 21/4.",
    "Trung tâm HTCĐ mở lớp tin học từ thứ 2 đến thứ 6, học phí 150.000 đồng/người/tháng.",
    "Nhiệt độ thấp nhất 12-15 độ C, có nơi dưới 10°C; mực nước sông Đáy lên 3,5 m.",
    "Tỷ lệ 12/12 thôn đạt chuẩn; 98,5% hộ gia đình được công nhận gia đình học tập.",
    "Đường dây nóng 0226 3852 123 hoặc 1900 1234; thư gửi hopthu@hanam.gov.vn.",
    "Ông HTK, Bí thư ĐTN xã, phát biểu tại hội nghị lần thứ XIII.",
    "Công ty CP Sông Đà hỗ trợ 500 MW điện mặt trời cho KCN Đồng Văn.",
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is kept")
    args = parser.parse_args(argv)
    for sentence in SENTENCES:  # warm-up: the regexes compile, the tables load
        normalize(sentence)
    rates = []
    for _ in range(args.repeat):
        began = time.perf_counter()
        for _ in range(args.rounds):
            for sentence in SENTENCES:
                normalize(sentence)
        rates.append(args.rounds * len(SENTENCES) / (time.perf_counter() - began))
    chars = statistics.fmean(len(s) for s in SENTENCES)
    print(
        f"Loa Xã benchmark: the Vietnamese normaliser ({len(SENTENCES)} bulletin sentences, "
        f"{chars:.0f} characters on average, {args.rounds} rounds, best of {args.repeat})"
    )
    print(f"python {sys.version.split()[0]}")
    print(f"sentences/s: best {max(rates):,.0f}, all " + ", ".join(f"{r:,.0f}" for r in rates))
    print("target: >= 1,000 sentences/s: " + ("met" if max(rates) >= 1000 else "MISSED"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
