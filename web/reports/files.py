"""A compliance report as a spreadsheet: CSV (UTF-8 with BOM, so Excel reads the
diacritics) and XLSX (openpyxl), with Vietnamese headers — what a department clerk opens."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from scheduler.compliance import Report, Row, Tally

LEVELS = {"province": "Tỉnh", "district": "Huyện", "commune": "Xã"}
# (header, key in the JSON row)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("Mã đài", "station"),
    ("Tên đơn vị", "name"),
    ("Cấp", "level"),
    ("Số lượt theo kế hoạch", "planned"),
    ("Phát đủ", "played"),
    ("Phát một phần", "partial"),
    ("Bỏ lỡ", "missed"),
    ("Bị ngắt", "interrupted"),
    ("Lỗi", "failed"),
    ("Phút theo kế hoạch", "planned_minutes"),
    ("Phút đã phát", "aired_minutes"),
    ("Tỷ lệ lượt (%)", "rate_count"),
    ("Tỷ lệ phút (%)", "rate_minutes"),
)


def tally_json(tally: Tally) -> dict[str, Any]:
    return {
        "planned": tally.planned,
        "played": tally.played,
        "partial": tally.partial,
        "missed": tally.missed,
        "interrupted": tally.interrupted,
        "failed": tally.failed,
        "upcoming": tally.upcoming,
        "planned_minutes": round(tally.planned_s / 60, 1),
        "aired_minutes": round(tally.aired_s / 60, 1),
        "rate_count": _rate(tally.rate_count),
        "rate_minutes": _rate(tally.rate_minutes),
        "verified": tally.verified,
        "verified_minutes": round(tally.verified_s / 60, 1),
    }


def row_json(row: Row) -> dict[str, Any]:
    station = row.station
    return {
        "station": station.code,
        "name": station.name,
        "level": station.level,
        "airs": row.airs,
        **tally_json(row.tally),
    }


def _rate(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


def _cells(row: dict[str, Any]) -> list[Any]:
    cells: list[Any] = []
    for _, key in COLUMNS:
        value = row.get(key)
        if key == "level":
            value = LEVELS.get(str(value), value)
        elif key.startswith("rate_") and value is not None:
            value = round(value * 100, 1)
        cells.append(value)
    return cells


def _table(report: Report) -> tuple[list[str], list[list[Any]]]:
    rows = [_cells(row_json(r)) for r in report.rows]
    total = {"station": "", "name": "Tổng cộng", "level": "", **tally_json(report.totals)}
    return [h for h, _ in COLUMNS], [*rows, _cells(total)]


def title_of(report: Report) -> str:
    p = report.period
    return (
        f"Báo cáo kết quả tiếp âm — {report.root.name} — "
        f"{p.first.day}/{p.first.month}/{p.first.year}–{p.last.day}/{p.last.month}/"
        f"{p.last.year}"
    )


CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(report: Report, fmt: str) -> Response:
    """The compliance report as a ``csv`` or ``xlsx`` attachment (the API's and the panel's)."""
    p = report.period
    name = f"tiep-am-{report.root.code}-{p.first.isoformat()}-{p.last.isoformat()}"
    return spreadsheet(fmt, name, "Tiếp âm", title_of(report), *_table(report))


def spreadsheet(
    fmt: str,
    name: str,
    sheet: str,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> Response:
    """``headers`` and ``rows`` as a CSV or XLSX attachment called ``name.fmt``."""
    if fmt == "csv":
        body, mimetype = write_csv(headers, rows), CSV_TYPE
    else:
        body, mimetype = write_xlsx(sheet, title, headers, rows), XLSX_TYPE
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(
    name: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]
) -> bytes:
    """A sheet: the title, bold headers, the rows, the last row (the totals) bold."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = name
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    _widths(sheet, headers, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _widths(sheet: Any, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    for n, header in enumerate(headers):
        longest = max([len(header), *(len(str(r[n] or "")) for r in rows)])
        sheet.column_dimensions[get_column_letter(n + 1)].width = min(48, longest + 2)
