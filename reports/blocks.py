"""Building blocks shared by the documents: heading, tables, signature lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    HRFlowable,
    Paragraph,
    Spacer,
    Table,
)

from . import labels
from .styles import (
    COLOURS,
    GRID_PADDING,
    Columns,
    Grid,
    GridHead,
    GridRow,
    HeadCell,
    HeadedTable,
    PlainText,
    Styles,
    grid_style,
    para,
    wrap_text,
)
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
        right = [PlainText("ĐẢNG CỘNG SẢN VIỆT NAM", styles.heading_right_bold, underline=True)]
    else:
        right = [
            para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", styles.heading_right_bold),
            PlainText("Độc lập - Tự do - Hạnh phúc", styles.heading_right_bold, underline=True),
        ]
    if date_line:
        right.append(Spacer(1, 8))
        right.append(para(fmt_date_line(place, date), styles.date_line))

    return [Columns([left, right], [width * 0.42, width * 0.58])]


def section(styles: Styles, title: str, *, room: float = 35 * mm) -> list[Flowable]:
    """Return a section heading that starts a new page when less than ``room`` is left."""
    return [CondPageBreak(room), para(title, styles.section)]


def _basis_unit(value: Any, unit: str) -> str:
    return DASH if value is None else f"{fmt_int(value)} {unit}"


def figures_table(
    styles: Styles,
    data: list[list[str]],
    widths: list[float],
    *,
    below: tuple[float, Any] | None = None,
    above_last: tuple[float, Any] | None = None,
) -> Grid:
    """A table of labels and their figures (bold, right-aligned) in the body's size, indented:
    the minutes' accounting of members and ballots, and of online and paper ballots.

    A rule (width, colour) ``below`` every row, or above the last one (``above_last``). What a
    Table of these strings drew (ReportLab's leading of 12, paddings 1 above and 2 below: a
    row's text sits where a Grid centres it).
    """
    rows = [
        GridRow(
            cells,
            12 + 1 + 2,
            above=above_last if index == len(data) - 1 else None,
            below=below,
        )
        for index, cells in enumerate(data)
    ]
    return Grid(
        rows,
        widths,
        fonts=[styles.fonts.regular, styles.fonts.bold],
        aligns=["LEFT", "RIGHT"],
        size=11,
        leading=12,
        padding=(1, 2, 6 * mm, 6),
        rule=None,
    )


def ballot_accounting(
    styles: Styles, results: Mapping[str, Any], member: str = "thành viên"
) -> list[Flowable]:
    """Return the table of members, attendance, quorum and ballots, and the D sentence."""
    ballots = results.get("ballots") or {}
    quorum = results.get("quorum_met")
    quorum_text = DASH if quorum is None else ("Bảo đảm" if quorum else "Không bảo đảm")
    rows = [
        (f"Tổng số {member}", _basis_unit(results.get("members"), "người")),
        ("Số người được triệu tập", _basis_unit(results.get("summoned"), "người")),
        ("Số người có mặt", _basis_unit(results.get("present"), "người")),
        ("Tỷ lệ có mặt theo quy định", quorum_text),
        ("Tổng số phiếu phát ra", _basis_unit(ballots.get("issued"), "phiếu")),
        ("Số phiếu thu về", _basis_unit(ballots.get("collected"), "phiếu")),
        ("Số phiếu hợp lệ", _basis_unit(ballots.get("valid"), "phiếu")),
        ("Số phiếu không hợp lệ", _basis_unit(ballots.get("invalid"), "phiếu")),
    ]
    data = [[f"{i}. {label}:", value] for i, (label, value) in enumerate(rows, 1)]
    table = figures_table(styles, data, [70 * mm, 40 * mm], below=(0.25, COLOURS.zebra))
    sentence = para(labels.denominator_sentence(results.get("denominator"), member), styles.body)
    return [table, Spacer(1, 4), sentence]


def _finding_bands(item: Mapping[str, Any]) -> bool:
    return bool(item.get("findings"))


#: The result table's headings of the columns that span both header rows.
ITEM_HEAD = ("STT", "Họ và tên", "Chức vụ")

#: Leading of the result table's rows.
ITEM_LEADING = 10.5


def items_table(
    styles: Styles,
    round_: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    *,
    width: float = TEXT_WIDTH,
) -> Flowable:
    """Return the result table: one row per item in ballot order, counts and shares.

    The two header rows, with merged cells, repeat on every page the table spans.
    """
    levels = labels.levels(round_)
    low_key = labels.low_key(round_)
    n_levels = len(levels)
    last = 3 + 2 * n_levels
    # Cells in the order a reader takes them (the text is extracted in this order).
    head = [HeadCell(label, column, 0, rows=2) for column, label in enumerate(ITEM_HEAD)]
    head += [
        HeadCell(label, 3 + 2 * level, 0, columns=2) for level, (_, label, _s) in enumerate(levels)
    ]
    head.append(HeadCell("Phiếu\nkhông\nhợp lệ", last, 0, rows=2))
    for level in range(n_levels):
        head += [HeadCell("Số phiếu", 3 + 2 * level, 1), HeadCell("Tỷ lệ %", 4 + 2 * level, 1)]

    number_width = 12 * mm if n_levels == 3 else 16 * mm
    fixed = 8 * mm + 2 * n_levels * number_width + 13 * mm
    name_width = (width - fixed) * 0.5
    position_width = width - fixed - name_width
    col_widths = [8 * mm, name_width, position_width]
    col_widths += [number_width] * (2 * n_levels) + [13 * mm]
    top, bottom, left, right = GRID_PADDING
    size = 8.5

    data: list[list[Any]] = []
    # Row heights are known from the wrapping: ReportLab need not measure every cell.
    heights: list[float] = []
    flagged_rows: list[int] = []
    for row_index, item in enumerate(sorted(items, key=lambda i: i.get("order") or 0)):
        counts = item.get("counts") or {}
        percent = item.get("percent") or {}
        row: list[Any] = [
            str(item.get("order", row_index + 1)),
            wrap_text(item.get("name"), styles.fonts.bold, size, name_width - left - right),
            wrap_text(
                item.get("position"), styles.fonts.regular, size, position_width - left - right
            ),
        ]
        for key, _label, _short in levels:
            row += [fmt_int(counts.get(key)), fmt_percent(percent.get(key))]
        row.append(fmt_int(counts.get("invalid", 0)))
        data.append(row)
        lines = max(row[1].count("\n"), row[2].count("\n")) + 1
        heights.append(lines * ITEM_LEADING + top + bottom)
        if _finding_bands(item):
            flagged_rows.append(row_index)

    fonts = styles.fonts
    header = GridHead(
        head,
        col_widths,
        # Bold; the levels' sub-headings smaller, in the leading of the body's size.
        rows=[(fonts.bold, 8, 9.5), (fonts.bold, 7, size * 1.2)],
        padding=GRID_PADDING,
        background=COLOURS.header_bg,
        rule=COLOURS.rule,
    )

    # The body: plain strings in a ruled grid, zebra rows, a flagged person's row shaded and
    # their low level's figures in bold red.
    low_column = 3 + 2 * [k for k, _l, _s in levels].index(low_key) + 1
    flagged = set(flagged_rows)
    low = (fonts.bold, COLOURS.low)
    rows = [
        GridRow(
            cells,
            height,
            COLOURS.flagged_bg if index in flagged else (None if index % 2 == 0 else COLOURS.zebra),
            {low_column - 1: low, low_column: low} if index in flagged else None,
        )
        for index, (cells, height) in enumerate(zip(data, heights, strict=True))
    ]
    body = Grid(
        rows,
        col_widths,
        fonts=[fonts.regular, fonts.bold] + [fonts.regular] * (len(col_widths) - 2),
        aligns=["CENTER", "LEFT", "LEFT"] + ["RIGHT"] * (len(col_widths) - 3),
        size=size,
        leading=ITEM_LEADING,
        padding=GRID_PADDING,
        rule=COLOURS.rule,
    )
    return HeadedTable(header, body)


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
                Paragraph(esc(labels.exempt_reason(person)), styles.cell),
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
) -> Flowable:
    """Return the counting committee's signatures, kept on one page.

    On the right, "TM. BAN KIỂM PHIẾU / TRƯỞNG BAN" and the head's name; on the left, each
    other member's name under room to sign. Without a committee, blank lines are printed so
    that the names can be written in by hand.
    """
    members = list(committee or [])
    head = next((m for m in members if m.get("role") == "Trưởng ban"), None)
    others = [m for m in members if m is not head]
    if not members:
        others = [{"name": ""}, {"name": ""}]
    left: list[Flowable] = [
        para("CÁC THÀNH VIÊN BAN KIỂM PHIẾU", styles.sign_role),
        para("(Ký, ghi rõ họ tên)", styles.sign_note),
    ]
    for member in others:
        left += [
            Spacer(1, 16 * mm),
            para(nfc(member.get("name")).strip() or "……………………………", styles.sign_name),
        ]
    right: list[Flowable] = [
        para("TM. BAN KIỂM PHIẾU", styles.sign_role),
        para("TRƯỞNG BAN", styles.sign_role),
        para("(Ký, ghi rõ họ tên)", styles.sign_note),
        Spacer(1, 20 * mm),
        para(nfc((head or {}).get("name")).strip() or "……………………………", styles.sign_name),
    ]
    # Columns is never split: it needs no KeepTogether of its own. A KeepTogether inside the
    # caller's KeepTogether reports a height of 0xffffff and pushes the signatures onto a
    # page of their own, whatever room is left.
    return Columns([left, right], [width / 2, width / 2], padding=6)
