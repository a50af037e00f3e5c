"""Danh sách các trường hợp phải xem xét: every person flagged in a body."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from . import labels
from .blocks import TEXT_WIDTH, section
from .person_history import POLL, findings_story
from .styles import Styles, build_pdf, get_styles, grid_style, para
from .text import esc, fmt_date_line, fmt_int, nfc, upper

__all__ = ["findings_list"]

_RULE = {"band": "Ngưỡng trong năm", "consecutive_years": "Hai năm liên tiếp"}


def _overview(styles: Styles, findings: Sequence[Mapping[str, Any]]) -> Table:
    data: list[list[Any]] = [
        ["STT", "Họ và tên", "Chức vụ", "Trường hợp", "Năm", "Hệ quả theo quy định"]
    ]
    for number, finding in enumerate(findings, 1):
        rule = _RULE.get(str(finding.get("rule")), nfc(finding.get("rule")))
        data.append(
            [
                str(number),
                Paragraph(esc(finding.get("name")), styles.cell_bold),
                Paragraph(esc(finding.get("position")), styles.cell),
                Paragraph(
                    f"<b>{esc(rule)}</b>: {esc(labels.finding_text(finding, POLL))}", styles.cell
                ),
                Paragraph(esc(labels.years_text(finding.get("years"))), styles.cell_center),
                Paragraph(esc(labels.consequence_text(finding)), styles.cell),
            ]
        )
    style = grid_style(1, font=styles.fonts.regular, bold=styles.fonts.bold)
    style.add("ALIGN", (0, 1), (0, -1), "CENTER")
    style.add("VALIGN", (0, 1), (-1, -1), "TOP")
    rest = TEXT_WIDTH - 9 * mm - 16 * mm
    widths = [9 * mm, rest * 0.2, rest * 0.18, rest * 0.36, 16 * mm, rest * 0.26]
    return Table(data, colWidths=widths, repeatRows=1, style=style)


def findings_list(
    body: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    meta: Mapping[str, Any] | None = None,
) -> bytes:
    """Render the list of every person flagged in a body, with rule, years and consequence.

    ``meta`` may carry ``place`` and ``date`` for the line at the end.
    """
    meta = meta or {}
    styles = get_styles()
    persons = {f.get("person_key") or f.get("name") for f in findings}
    story: list[Flowable] = [
        para(upper(body.get("name") or body.get("code")), styles.heading_left_bold),
        para("DANH SÁCH CÁC TRƯỜNG HỢP PHẢI XEM XÉT", styles.title),
        para("theo kết quả lấy phiếu tín nhiệm", styles.subtitle),
        para(
            f"{fmt_int(len(findings))} trường hợp, {fmt_int(len(persons))} người",
            styles.centered_italic,
        ),
        Spacer(1, 6),
    ]
    if findings:
        story.append(_overview(styles, findings))
        story += section(styles, "CĂN CỨ CỦA TỪNG TRƯỜNG HỢP")
        story += findings_story(styles, findings, with_person=True)
    else:
        story.append(para("Không có trường hợp nào phải xem xét theo quy định.", styles.body))
    date = meta.get("date") or dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    story += [Spacer(1, 10), para(fmt_date_line(meta.get("place"), date), styles.italic_right)]
    name = nfc(body.get("name"))
    return build_pdf(
        story,
        title=f"Danh sách các trường hợp phải xem xét — {name}",
        subject=name,
        footer=f"Danh sách các trường hợp phải xem xét — {name}",
    )
