"""Excel workbooks (.xlsx, openpyxl): the periodic report, a round's results, findings.

Headers in Vietnamese, numbers as numbers: counts as integers ("#,##0"), percentages as the
number of percent with two decimals ("0.00"), never as text, so that an office can add them up.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .labels import BAND_SHORT, POLL_LEVELS, VOTE_LEVELS, consequence_text, years_text
from .text import nfc

COUNT = "#,##0"
PERCENT = "0.00"
LEVEL_NAMES = {"central": "Trung ương", "province": "Tỉnh", "commune": "Xã", "agency": "Cơ quan"}
BAND_NAMES = BAND_SHORT
#: The column label of each level, from the vocabulary (votes/vocabulary.py).
LEVEL_LABELS = {name: label for name, label, _short in (*POLL_LEVELS, *VOTE_LEVELS)}
RULE_NAMES = {"band": "Ngưỡng trong năm", "consecutive_years": "Hai năm liên tiếp"}
STATUS_NAMES = {
    "draft": "Dự thảo",
    "open": "Đang lấy phiếu",
    "closed": "Đã kết thúc",
    "published": "Đã công bố",
}


def _percent(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _sheet(
    book: Workbook,
    title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    formats: Mapping[int, str] | None = None,
    *,
    first: bool = False,
) -> Worksheet:
    sheet = book.active if first and book.active is not None else book.create_sheet()
    assert isinstance(sheet, Worksheet)
    sheet.title = title
    sheet.append([nfc(h) for h in headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F0")
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    widths = [len(h) for h in headers]
    for row in rows:
        values = [nfc(v) if isinstance(v, str) else v for v in row]
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            # A name starting with "=" is a name, never a formula the spreadsheet would run.
            if cell.data_type == "f":
                cell.data_type = "s"
        for index, value in enumerate(values):
            widths[index] = max(widths[index], min(len(str(value or "")), 60))
    for column, fmt in (formats or {}).items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = fmt
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(8, width + 2)
    sheet.freeze_panes = "A2"
    return sheet


def _bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def period_workbook(report: Mapping[str, Any]) -> bytes:
    """Write the periodic report: "Tổng hợp" (a row per rated person and round), "Kết luận"."""
    book = Workbook()
    poll_rows = [r for r in report["rows"] if r["scale"] == "poll"]
    _sheet(
        book,
        "Tổng hợp",
        [
            "STT",
            "Họ và tên",
            "Chức vụ",
            "Đơn vị",
            "Cấp",
            "Năm",
            "Đợt",
            "Quy định",
            LEVEL_LABELS["high"],
            LEVEL_LABELS["confidence"],
            LEVEL_LABELS["low"],
            "Mẫu số",
            f"Tỷ lệ {LEVEL_LABELS['low'].lower()} (%)",
            "Không có giá trị",
        ],
        (
            [
                n,
                r["name"],
                r["position"],
                r["body_name"],
                LEVEL_NAMES.get(r["level"], r["level"]),
                r["year"],
                r["round"],
                r["profile"],
                r["counts"].get("high"),
                r["counts"].get("confidence"),
                r["counts"].get("low"),
                r["denominator"],
                _percent(r["low_share"]),
                "x" if r["void"] else "",
            ]
            for n, r in enumerate(poll_rows, start=1)
        ),
        {1: COUNT, 6: "0", 7: "0", 9: COUNT, 10: COUNT, 11: COUNT, 12: COUNT, 13: PERCENT},
        first=True,
    )
    _findings_sheet(book, report["findings"], with_body=True)
    _sheet(
        book,
        "Đợt lấy phiếu",
        [
            "Đợt",
            "Đơn vị",
            "Cấp",
            "Năm",
            "Ngày hội nghị",
            "Quy định",
            "Tình trạng",
            "Đủ số người có mặt",
            "Không có giá trị",
            "Phiếu phát ra",
            "Phiếu thu về",
            "Phiếu hợp lệ",
            "Mẫu số",
            "Báo cáo từ cấp dưới",
        ],
        (
            [
                r["id"],
                r["body_name"],
                LEVEL_NAMES.get(r["level"], r["level"]),
                r["year"],
                r["held_on"] or "",
                f"{r['profile']['id']}@{r['profile']['version']}",
                STATUS_NAMES.get(r["status"], r["status"]),
                {True: "Có", False: "Không", None: ""}[r.get("quorum_met")],
                "x" if r.get("void") else "",
                (r.get("ballots") or {}).get("issued"),
                (r.get("ballots") or {}).get("collected"),
                (r.get("ballots") or {}).get("valid"),
                (r.get("denominator") or {}).get("value"),
                "x" if r["reported"] else "",
            ]
            for r in [*report["rounds"], *report["not_closed"]]
        ),
        {1: "0", 4: "0", 10: COUNT, 11: COUNT, 12: COUNT, 13: COUNT},
    )
    _sheet(
        book,
        "Bỏ phiếu tín nhiệm",
        [
            "Đợt",
            "Đơn vị",
            "Họ và tên",
            "Chức vụ",
            LEVEL_LABELS["trust"],
            LEVEL_LABELS["no_trust"],
            "Mẫu số",
            "Kết quả",
        ],
        (
            [
                v["round"],
                v["body"],
                v["name"],
                v["position"],
                v["trust"],
                v["no_trust"],
                v["denominator"],
                "Không có giá trị"
                if v["void"]
                else ("Không tín nhiệm quá nửa" if v["no_confidence"] else "Được tín nhiệm"),
            ]
            for v in report["confidence_votes"]
        ),
        {5: COUNT, 6: COUNT, 7: COUNT},
    )
    return _bytes(book)


def results_workbook(result: Mapping[str, Any]) -> bytes:
    """Write one round's results: a row per ballot item, counts and percentages as numbers."""
    book = Workbook()
    levels = list(result["items"][0]["counts"]) if result["items"] else []
    names = {**LEVEL_LABELS, "invalid": "Phiếu không hợp lệ (dòng)"}
    shares = [level for level in levels if level != "invalid"]
    headers = ["STT", "Họ và tên", "Chức vụ"]
    headers += [f"{names.get(level, level)}" for level in levels]
    headers += [f"Tỷ lệ {names.get(level, level).lower()} (%)" for level in shares]
    headers += ["Mẫu số"]
    count_columns = {4 + i: COUNT for i in range(len(levels))}
    share_columns = {4 + len(levels) + i: PERCENT for i in range(len(shares))}
    _sheet(
        book,
        "Kết quả",
        headers,
        (
            [
                item["order"],
                item["name"],
                item["position"],
                *[item["counts"].get(level) for level in levels],
                *[_percent(item["percent"].get(level)) for level in shares],
                result["denominator"]["value"],
            ]
            for item in result["items"]
        ),
        {**count_columns, **share_columns, len(headers): COUNT},
        first=True,
    )
    return _bytes(book)


def _findings_sheet(
    book: Workbook, findings: Sequence[Mapping[str, Any]], *, with_body: bool, first: bool = False
) -> None:
    """Add the sheet "Kết luận": a row per finding (with its body, in a report of several)."""
    body = ["Đơn vị"] if with_body else []
    _sheet(
        book,
        "Kết luận",
        ["STT", "Họ và tên", "Chức vụ", *body, "Trường hợp", "Ngưỡng", "Năm", "Đợt", "Hệ quả"],
        (
            [
                n,
                f["name"],
                f["position"],
                *([f["body"]] if with_body else []),
                RULE_NAMES.get(f["rule"], f["rule"]),
                BAND_NAMES.get(f["band"], f["band"]),
                years_text(f["years"]),
                ", ".join(str(r) for r in f["rounds"]),
                consequence_text(f),
            ]
            for n, f in enumerate(findings, start=1)
        ),
        {1: COUNT},
        first=first,
    )


def findings_workbook(findings: Sequence[Mapping[str, Any]]) -> bytes:
    """Write a list of findings: a row per finding."""
    book = Workbook()
    _findings_sheet(book, findings, with_body=False, first=True)
    return _bytes(book)


def roster_workbook(rows: Sequence[Sequence[str]]) -> bytes:
    """Write a roster (the header row first) as the first sheet of a workbook."""
    book = Workbook()
    _sheet(book, "Danh sách", rows[0], rows[1:], first=True)
    return _bytes(book)


def histories_workbook(histories: Sequence[Mapping[str, Any]]) -> bytes:
    """Write histories: a row per person, body and round (an exempt year with its reason)."""
    book = Workbook()
    rows = []
    for history in histories:
        for entry in history["rounds"]:
            counts = entry.get("counts") or {}
            low = "no_trust" if entry["scale"] == "confidence_vote" else "low"
            percent = (entry.get("percent") or {}).get(low)
            rows.append(
                [
                    history["person"]["name"],
                    history["body"]["name"],
                    entry["year"],
                    entry["round_id"],
                    entry.get("position") or "",
                    counts.get(low),
                    (entry.get("denominator") or {}).get("value"),
                    _percent(percent),
                    entry.get("exempt") or "",
                ]
            )
    _sheet(
        book,
        "Quá trình",
        [
            "Họ và tên",
            "Đơn vị",
            "Năm",
            "Đợt",
            "Chức vụ",
            LEVEL_LABELS["low"],
            "Mẫu số",
            f"Tỷ lệ {LEVEL_LABELS['low'].lower()} (%)",
            "Không lấy phiếu (lý do)",
        ],
        rows,
        {3: "0", 4: "0", 6: COUNT, 7: COUNT, 8: PERCENT},
        first=True,
    )
    return _bytes(book)
