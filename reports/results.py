"""Kết quả lấy phiếu tín nhiệm: a results summary for presentation, with charts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Paragraph, Spacer, Table

from . import labels
from .blocks import TEXT_WIDTH
from .charts import stacked_share_chart, thresholds_from
from .counting import anchors
from .styles import COLOURS, Styles, build_pdf, get_styles, grid_style, para
from .text import esc, fmt_int, fmt_percent, nfc, upper

__all__ = ["summary"]

#: Height of the page body (A4 minus 20 mm top and bottom margins), in points.
BODY_HEIGHT = 257 * mm


def _facts_line(results: Mapping[str, Any]) -> str:
    ballots = results.get("ballots") or {}
    parts = [
        f"Số thành viên: {fmt_int(results.get('members'))}",
        f"có mặt: {fmt_int(results.get('present'))}/{fmt_int(results.get('summoned'))}",
        f"phiếu phát ra: {fmt_int(ballots.get('issued'))}",
        f"thu về: {fmt_int(ballots.get('collected'))}",
        f"hợp lệ: {fmt_int(ballots.get('valid'))}",
    ]
    return " · ".join(parts) + "."


def _note(item: Mapping[str, Any]) -> str:
    notes = []
    for finding in item.get("findings") or []:
        short = labels.BAND_SHORT.get(str(finding.get("band")), nfc(finding.get("band")))
        if finding.get("rule") == "consecutive_years":
            short += f", 2 năm liền ({labels.years_text(finding.get('years'))})"
        notes.append(short)
    return "; ".join(notes)


def _compact_table(
    styles: Styles, round_: Mapping[str, Any], items: Sequence[Mapping[str, Any]]
) -> Table:
    levels = labels.levels(round_)
    low = labels.low_key(round_)
    header: list[Any] = ["STT", "Họ và tên", "Chức vụ"]
    header += [Paragraph(esc(label), styles.cell_head) for _key, label, _short in levels]
    header.append("Ghi chú")
    data: list[list[Any]] = [header]
    flagged: list[int] = []
    for row_index, item in enumerate(items, 1):
        counts = item.get("counts") or {}
        percent = item.get("percent") or {}
        row: list[Any] = [
            str(item.get("order", row_index)),
            Paragraph(esc(item.get("name")), styles.cell_bold),
            Paragraph(esc(item.get("position")), styles.cell),
        ]
        for key, _label, _short in levels:
            row.append(f"{fmt_int(counts.get(key))} ({fmt_percent(percent.get(key))} %)")
        row.append(Paragraph(esc(_note(item)), styles.cell))
        data.append(row)
        if item.get("findings"):
            flagged.append(row_index)
    level_width = 23 * mm if len(levels) == 3 else 30 * mm
    note_width = 24 * mm
    rest = TEXT_WIDTH - 8 * mm - level_width * len(levels) - note_width
    widths = [8 * mm, rest * 0.5, rest * 0.5, *([level_width] * len(levels)), note_width]
    style = grid_style(1, font=styles.fonts.regular, bold=styles.fonts.bold)
    style.add("ALIGN", (0, 1), (0, -1), "CENTER")
    style.add("ALIGN", (3, 1), (2 + len(levels), -1), "RIGHT")
    low_column = 3 + [key for key, _l, _s in levels].index(low)
    for row_index in flagged:
        style.add("BACKGROUND", (0, row_index), (-1, row_index), COLOURS.flagged_bg)
        style.add("TEXTCOLOR", (low_column, row_index), (low_column, row_index), COLOURS.low)
        style.add("FONTNAME", (low_column, row_index), (low_column, row_index), styles.fonts.bold)
    return Table(data, colWidths=widths, repeatRows=1, style=style)


def _round_story(styles: Styles, results: Mapping[str, Any]) -> list[Flowable]:
    round_ = results.get("round") or {}
    items = sorted(results.get("items") or [], key=lambda i: i.get("order") or 0)
    kind = "BỎ PHIẾU" if labels.is_confidence_vote(round_) else "LẤY PHIẾU"
    story: list[Flowable] = [
        para(upper(round_.get("body_name") or round_.get("body")), styles.heading_left_bold),
        para(f"KẾT QUẢ {kind} TÍN NHIỆM", styles.title),
        para(round_.get("title"), styles.subtitle),
        para(_facts_line(results), styles.centered_italic),
        para(labels.denominator_sentence(results.get("denominator")), styles.centered_italic),
        Spacer(1, 6),
    ]
    if not items:
        story.append(para("Không có người nào trong danh sách lấy phiếu.", styles.body))
        return story
    chart_room = BODY_HEIGHT - 75 * mm if len(items) > 12 else 120 * mm
    story.append(
        stacked_share_chart(
            styles.fonts,
            round_,
            items,
            width=TEXT_WIDTH,
            max_height=chart_room,
            thresholds=thresholds_from(results.get("thresholds")),
        )
    )
    story.append(Spacer(1, 6))
    story.append(_compact_table(styles, round_, items))
    story += anchors(styles, results, "NIÊM PHONG VÀ ĐẦU NHẬT KÝ")
    return story


def summary(results: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """Render the results of one round (or of several, one after another) as PDF bytes."""
    rounds = [results] if isinstance(results, Mapping) else list(results)
    styles = get_styles()
    story: list[Flowable] = []
    for index, one in enumerate(rounds):
        if index:
            story.append(PageBreak())
        story += _round_story(styles, one)
    first = (rounds[0].get("round") or {}) if rounds else {}
    title = nfc(first.get("title"))
    return build_pdf(
        story,
        title=f"Kết quả lấy phiếu tín nhiệm — {title}",
        subject=nfc(first.get("body_name")),
        footer=f"Kết quả — {title}" if len(rounds) == 1 else "Kết quả lấy phiếu tín nhiệm",
    )
