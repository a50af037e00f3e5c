"""Building blocks shared by the documents: heading, tables, signature lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from . import labels
from .styles import COLOURS, Styles, grid_style, para
from .text import DASH, esc, fmt_date_line, fmt_int, fmt_percent, nfc, upper

__all__ = [
    "ROMAN",
    "admin_heading",
    "ballot_accounting",
    "exempt_table",
    "findings_paragraphs",
    "items_table",
    "section",
    "signature_block",
]

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")

#: A4 width minus the administrative margins (30 mm + 15 mm).
TEXT_WIDTH = 165 * mm


def admin_heading(
    styles: Styles,
    *,
    body_name: str,
    body_kind: str | None,
    issuer: str | None,
    place: str | None = None,
    date: dt.date | str | None = None,
    width: float = TEXT_WIDTH,
    date_line: bool = True,
) -> list[Flowable]:
    """Return the two-block heading of a Vietnamese administrative document.

    Left: the body (upper case) and the issuing unit. Right: the national motto, or
    "ĐẢNG CỘNG SẢN VIỆT NAM" for a Party body, then the place-and-date line.
    """
    party = body_kind == "party"
    left: list[Flowable] = [para(upper(body_name), styles.heading_left)]
    if issuer:
        left.append(para(upper(issuer), styles.heading_left_bold))
    if party:
        # Party documents mark the end of the issuer block with an asterisk.
        left.append(para("*", styles.heading_left))
    else:
        left.append(HRFlowable(width="35%", thickness=0.6, color=COLOURS.ink, spaceBefore=2))

    right: list[Flowable]
    if party:
        right = [Paragraph("<u>ĐẢNG CỘNG SẢN VIỆT NAM</u>", styles.heading_right_bold)]
    else:
        right = [
            Paragraph("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", styles.heading_right_bold),
            Paragraph("<u>Độc lập - Tự do - Hạnh phúc</u>", styles.heading_right_bold),
        ]
    if date_line:
        right.append(Spacer(1, 8))
        right.append(para(fmt_date_line(place, date), styles.date_line))

    table = Table(
        [[left, right]],
        colWidths=[width * 0.42, width * 0.58],
        style=TableStyle(
            [
                # Tables set a cell font even for flowable cells: never Helvetica.
                ("FONTNAME", (0, 0), (-1, -1), styles.fonts.regular),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    return [table]


def wrap_text(text: object, font: str, size: float, width: float) -> str:
    """Break plain text into lines that fit ``width`` ("\n"-joined, NFC).

    A Table draws such a string cell far faster than a Paragraph: the result table of
    a large round has two wrapped cells per row.
    """
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    # ReportLab draws without kerning, so a line's width is the sum of its words and spaces:
    # measure each word once instead of every growing candidate line.
    space = stringWidth(" ", font, size)
    for word in nfc(text).split():
        wide = stringWidth(word, font, size)
        if current and used + space + wide > width:
            lines.append(" ".join(current))
            current, used = [word], wide
        else:
            used += (space if current else 0.0) + wide
            current.append(word)
    if current:
        lines.append(" ".join(current))
    return "\n".join(lines)


def section(styles: Styles, title: str, *, room: float = 35 * mm) -> list[Flowable]:
    """Return a section heading that starts a new page when less than ``room`` is left."""
    return [CondPageBreak(room), para(title, styles.section)]


def _basis_unit(value: Any, unit: str) -> str:
    return DASH if value is None else f"{fmt_int(value)} {unit}"


def ballot_accounting(styles: Styles, results: Mapping[str, Any]) -> list[Flowable]:
    """Return the table of members, attendance, quorum and ballots, and the D sentence."""
    ballots = results.get("ballots") or {}
    quorum = results.get("quorum_met")
    quorum_text = DASH if quorum is None else ("Bảo đảm" if quorum else "Không bảo đảm")
    rows = [
        ("Tổng số thành viên", _basis_unit(results.get("members"), "người")),
        ("Số người được triệu tập", _basis_unit(results.get("summoned"), "người")),
        ("Số người có mặt", _basis_unit(results.get("present"), "người")),
        ("Tỷ lệ có mặt theo quy định", quorum_text),
        ("Tổng số phiếu phát ra", _basis_unit(ballots.get("issued"), "phiếu")),
        ("Số phiếu thu về", _basis_unit(ballots.get("collected"), "phiếu")),
        ("Số phiếu hợp lệ", _basis_unit(ballots.get("valid"), "phiếu")),
        ("Số phiếu không hợp lệ", _basis_unit(ballots.get("invalid"), "phiếu")),
    ]
    data = [[f"{i}. {label}:", value] for i, (label, value) in enumerate(rows, 1)]
    table = Table(
        data,
        colWidths=[70 * mm, 40 * mm],
        hAlign="LEFT",
        style=TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), styles.fonts.regular),
                ("FONTNAME", (1, 0), (1, -1), styles.fonts.bold),
                ("FONTSIZE", (0, 0), (-1, -1), 11),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LEFTPADDING", (0, 0), (-1, -1), 6 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, COLOURS.zebra),
            ]
        ),
    )
    sentence = para(labels.denominator_sentence(results.get("denominator")), styles.body)
    return [table, Spacer(1, 4), sentence]


def _finding_bands(item: Mapping[str, Any]) -> bool:
    return bool(item.get("findings"))


def items_table(
    styles: Styles,
    round_: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    *,
    width: float = TEXT_WIDTH,
) -> Table:
    """Return the result table: one row per item in ballot order, counts and shares.

    The two header rows repeat on every page the table spans.
    """
    levels = labels.levels(round_)
    low_key = labels.low_key(round_)
    n_levels = len(levels)
    head_top: list[Any] = ["STT", "Họ và tên", "Chức vụ"]
    head_sub: list[Any] = ["", "", ""]
    # Plain strings, not Paragraphs: the header is laid out again on every page.
    for _, label, _short in levels:
        head_top += [label, ""]
        head_sub += ["Số phiếu", "Tỷ lệ %"]
    head_top.append("Phiếu\nkhông\nhợp lệ")
    head_sub.append("")

    number_width = 12 * mm if n_levels == 3 else 16 * mm
    fixed = 8 * mm + 2 * n_levels * number_width + 13 * mm
    name_width = (width - fixed) * 0.5
    position_width = width - fixed - name_width
    col_widths = [8 * mm, name_width, position_width]
    col_widths += [number_width] * (2 * n_levels) + [13 * mm]
    padding = 6  # LEFTPADDING + RIGHTPADDING of grid_style
    size = 8.5

    data: list[list[Any]] = [head_top, head_sub]
    flagged_rows: list[int] = []
    for row_index, item in enumerate(sorted(items, key=lambda i: i.get("order") or 0), 2):
        counts = item.get("counts") or {}
        percent = item.get("percent") or {}
        row: list[Any] = [
            str(item.get("order", row_index - 1)),
            wrap_text(item.get("name"), styles.fonts.bold, size, name_width - padding),
            wrap_text(item.get("position"), styles.fonts.regular, size, position_width - padding),
        ]
        for key, _label, _short in levels:
            row += [fmt_int(counts.get(key)), fmt_percent(percent.get(key))]
        row.append(fmt_int(counts.get("invalid", 0)))
        data.append(row)
        if _finding_bands(item):
            flagged_rows.append(row_index)

    style = grid_style(2, font=styles.fonts.regular, bold=styles.fonts.bold, size=size)
    style.add("FONTNAME", (1, 2), (1, -1), styles.fonts.bold)
    style.add("LEADING", (0, 2), (-1, -1), 10.5)
    last = 3 + 2 * n_levels
    for column in (0, 1, 2, last):
        style.add("SPAN", (column, 0), (column, 1))
    for level in range(n_levels):
        style.add("SPAN", (3 + 2 * level, 0), (4 + 2 * level, 0))
    style.add("FONTSIZE", (0, 0), (-1, 0), 8)
    style.add("LEADING", (0, 0), (-1, 0), 9.5)
    style.add("FONTSIZE", (0, 1), (-1, 1), 7)
    style.add("ALIGN", (0, 2), (0, -1), "CENTER")
    style.add("ALIGN", (3, 2), (-1, -1), "RIGHT")
    style.add("VALIGN", (0, 0), (-1, 1), "MIDDLE")
    low_column = 3 + 2 * [k for k, _l, _s in levels].index(low_key) + 1
    style.add("ROWBACKGROUNDS", (0, 2), (-1, -1), [colors.white, COLOURS.zebra])
    for row_index in flagged_rows:
        style.add("BACKGROUND", (0, row_index), (-1, row_index), COLOURS.flagged_bg)
        style.add(
            "FONTNAME", (low_column - 1, row_index), (low_column, row_index), styles.fonts.bold
        )
        style.add("TEXTCOLOR", (low_column - 1, row_index), (low_column, row_index), COLOURS.low)
    return Table(data, colWidths=col_widths, repeatRows=2, style=style)


def findings_paragraphs(
    styles: Styles,
    round_: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    *,
    basis: str | None = None,
) -> list[Flowable]:
    """Describe every finding of the items with its consequence; "Không có" when none."""
    flowables: list[Flowable] = []
    number = 0
    for item in items:
        for finding in item.get("findings") or []:
            number += 1
            who = f"<b>{esc(item.get('name'))}</b>"
            if item.get("position"):
                who += f" ({esc(item.get('position'))})"
            text = f"{number}. {who}: {esc(labels.finding_text(finding, round_, basis))}."
            consequence = labels.consequence_text(finding)
            if consequence:
                text += f" Hệ quả theo quy định: <b>{esc(consequence)}</b>."
            flowables.append(Paragraph(text, styles.body_justify))
            evidence = finding.get("evidence") or []
            if finding.get("rule") == "consecutive_years" or len(evidence) > 1:
                lines = "; ".join(esc(labels.evidence_text(e, round_)) for e in evidence)
                if lines:
                    flowables.append(Paragraph(f"Căn cứ: {lines}.", styles.small_indented))
    if not flowables:
        flowables.append(
            para("Không có trường hợp nào thuộc diện phải xem xét theo quy định.", styles.body)
        )
    return flowables


def exempt_table(
    styles: Styles, exempt: Sequence[Mapping[str, Any]], *, width: float = TEXT_WIDTH
) -> list[Flowable]:
    """Return the table of persons left off the ballot, with the reason; "Không có." if none."""
    if not exempt:
        return [para("Không có.", styles.body)]
    data: list[list[Any]] = [["STT", "Họ và tên", "Chức vụ", "Lý do"]]
    for number, person in enumerate(exempt, 1):
        data.append(
            [
                str(number),
                Paragraph(esc(person.get("name")), styles.cell_bold),
                Paragraph(esc(person.get("position")), styles.cell),
                Paragraph(esc(person.get("reason")), styles.cell),
            ]
        )
    style = grid_style(1, font=styles.fonts.regular, bold=styles.fonts.bold)
    style.add("ALIGN", (0, 1), (0, -1), "CENTER")
    rest = width - 10 * mm
    return [
        Table(
            data,
            colWidths=[10 * mm, rest * 0.3, rest * 0.3, rest * 0.4],
            repeatRows=1,
            style=style,
        )
    ]


def signature_block(
    styles: Styles,
    committee: Sequence[Mapping[str, Any]] | None,
    *,
    width: float = TEXT_WIDTH,
    per_row: int = 3,
) -> Flowable:
    """Return the signature lines of the counting committee, kept on one page.

    Without a committee, blank lines for the chair and two members are printed so the
    names can be written in by hand.
    """
    members = list(committee or [])
    if not members:
        members = [
            {"name": "", "role": "Trưởng ban"},
            {"name": "", "role": "Thành viên"},
            {"name": "", "role": "Thành viên"},
        ]
    cells: list[list[Flowable]] = []
    for member in members:
        name = nfc(member.get("name")).strip()
        cells.append(
            [
                para(upper(member.get("role") or "Thành viên"), styles.sign_role),
                para("(Ký, ghi rõ họ tên)", styles.sign_note),
                Spacer(1, 20 * mm),
                para(name or "……………………………", styles.sign_name),
            ]
        )
    per_row = min(per_row, len(cells))
    rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
    for row in rows:
        row.extend([[] for _ in range(per_row - len(row))])
    table = Table(
        rows,
        colWidths=[width / per_row] * per_row,
        style=TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), styles.fonts.regular),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]
        ),
    )
    return KeepTogether(
        [para("CÁC THÀNH VIÊN BAN KIỂM PHIẾU", styles.subtitle), Spacer(1, 4), table]
    )
