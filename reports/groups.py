"""Tổng hợp kết quả theo nhóm: one table, persons × voter groups, and a chart.

A widened poll (one list of persons rated by several groups that meet separately) is read
side by side: for each person, the share of "low" marks in each group, the group whose result
decides marked, and the combined result. A group too small to be shown alone (hidden by the
core: ``hidden_small``) has no figures here, only the reason; the combined column holds it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from . import labels
from .blocks import TEXT_WIDTH
from .counting import anchors
from .fonts import FontFamily
from .styles import COLOURS, build_pdf, get_styles, grid_style, para
from .text import esc, fmt_int, fmt_percent, nfc, upper

__all__ = ["groups_summary"]

#: Bar colours of the groups, then of the combined result (dark).
BAR_COLOURS = ("#6b8fb5", "#b58a5a", "#7aa37a", "#a36b9a", "#8c8c5a", "#5a9a9a")
COMBINED_COLOUR = "#333333"


def _columns(results: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any], bool]]:
    """Return (heading, result, shown) for each group, then the combined result."""
    columns: list[tuple[str, Mapping[str, Any], bool]] = []
    for group in results.get("groups") or []:
        heading = f"Nhóm {group.get('number')}: {nfc(group.get('name'))}"
        if group.get("deciding"):
            heading += " (quyết định)"
        columns.append((heading, group, not group.get("hidden_small")))
    combined = results.get("combined") or {}
    heading = "Chung các nhóm" + (" (quyết định)" if combined.get("deciding") else "")
    columns.append((heading, combined, not combined.get("withheld")))
    return columns


def _cell(part: Mapping[str, Any], order: int, low: str) -> str:
    for item in part.get("items") or []:
        if item.get("order") == order:
            counts = item.get("counts") or {}
            percent = (item.get("percent") or {}).get(low)
            return f"{fmt_int(counts.get(low))}\n({fmt_percent(percent)} %)"
    return "—"


def _table(styles: Any, results: Mapping[str, Any]) -> Table:
    round_ = results.get("round") or {}
    low = labels.low_key(round_)
    columns = _columns(results)
    header: list[Any] = ["STT", "Họ và tên"]
    for heading, part, shown in columns:
        d = (part.get("denominator") or {}).get("value") if shown else None
        text = heading + (f"; D = {fmt_int(d)}" if d is not None else "")
        header.append(Paragraph(esc(text), styles.cell_head))
    data: list[list[Any]] = [header]
    items = sorted(results.get("items") or [], key=lambda i: i.get("order") or 0)
    for item in items:
        order = int(item.get("order") or 0)
        row: list[Any] = [
            str(order),
            Paragraph(
                f"<b>{esc(item.get('name'))}</b><br/>{esc(item.get('position'))}", styles.cell
            ),
        ]
        for _heading, part, shown in columns:
            row.append(_cell(part, order, low) if shown else "không công bố riêng")
        data.append(row)
    name_width = 42 * mm
    rest = (TEXT_WIDTH - 8 * mm - name_width) / len(columns)
    style = grid_style(1, font=styles.fonts.regular, bold=styles.fonts.bold)
    style.add("ALIGN", (2, 1), (-1, -1), "CENTER")
    style.add("ALIGN", (0, 1), (0, -1), "CENTER")
    for index, (_heading, part, shown) in enumerate(columns, start=2):
        if part.get("deciding"):
            style.add("BACKGROUND", (index, 0), (index, -1), COLOURS.flagged_bg)
            style.add("FONTNAME", (index, 1), (index, -1), styles.fonts.bold)
        if not shown:
            style.add("TEXTCOLOR", (index, 1), (index, -1), COLOURS.muted)
            style.add("FONTSIZE", (index, 1), (index, -1), 7)
    return Table(
        data, colWidths=[8 * mm, name_width, *([rest] * len(columns))], repeatRows=1, style=style
    )


def _share(value: Any) -> float:
    try:
        return float(str(value))
    except ValueError:
        return 0.0


def groups_chart(fonts: FontFamily, results: Mapping[str, Any], *, width: float) -> Drawing:
    """Draw, for each person, the low share in each group shown and combined, with 1/2."""
    round_ = results.get("round") or {}
    low = labels.low_key(round_)
    shown = [(h, p) for h, p, visible in _columns(results) if visible]
    items = sorted(results.get("items") or [], key=lambda i: i.get("order") or 0)
    height = 84 * mm
    drawing = Drawing(width, height, initialFontName=fonts.regular)
    chart = VerticalBarChart()
    chart.x, chart.y = 34, 56
    chart.width, chart.height = width - 50, height - 72
    series = []
    for _heading, part in shown:
        by_order = {i.get("order"): i for i in part.get("items") or []}
        series.append(
            [
                _share(((by_order.get(i.get("order")) or {}).get("percent") or {}).get(low))
                for i in items
            ]
        )
    chart.data = series or [[0.0]]
    chart.categoryAxis.categoryNames = [nfc(i.get("name")).split()[-1] for i in items]
    chart.categoryAxis.labels.fontName = fonts.regular
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = 100
    chart.valueAxis.valueStep = 25
    chart.valueAxis.labelTextFormat = "%d %%"
    chart.valueAxis.labels.fontName = fonts.regular
    chart.valueAxis.labels.fontSize = 8
    chart.barSpacing = 1
    chart.groupSpacing = 8
    for index, (heading, _part) in enumerate(shown):
        colour = COMBINED_COLOUR if heading.startswith("Chung") else BAR_COLOURS[index % 6]
        chart.bars[index].fillColor = colors.HexColor(colour)
        chart.bars[index].strokeColor = None
    drawing.add(chart)
    y = chart.y + chart.height * 0.5
    half = Line(chart.x, y, chart.x + chart.width, y)
    half.strokeColor = COLOURS.threshold
    half.strokeDashArray = [3, 2]
    drawing.add(half)
    drawing.add(String(chart.x + chart.width + 2, y - 3, "1/2", fontName=fonts.bold, fontSize=8))
    legend = Legend()
    legend.x, legend.y = chart.x, 30
    legend.fontName = fonts.regular
    legend.fontSize = 7
    legend.alignment = "right"
    legend.columnMaximum = 2
    legend.dx = legend.dy = 6
    legend.colorNamePairs = [
        (
            colors.HexColor(
                COMBINED_COLOUR if heading.startswith("Chung") else BAR_COLOURS[index % 6]
            ),
            heading[:48],
        )
        for index, (heading, _part) in enumerate(shown)
    ]
    drawing.add(legend)
    drawing.add(
        String(
            chart.x,
            height - 10,
            f"Tỷ lệ % phiếu {labels.low_word(round_)} theo nhóm",
            fontName=fonts.italic,
            fontSize=8,
            fillColor=COLOURS.muted,
        )
    )
    return drawing


def _notes(results: Mapping[str, Any]) -> list[str]:
    notes = []
    minimum = results.get("small_minimum")
    for group in results.get("groups") or []:
        if group.get("hidden_reason") == "small":
            notes.append(
                f"Nhóm {group.get('number')} ({nfc(group.get('name'))}) có dưới "
                f"{fmt_int(minimum)} phiếu hoặc thành viên: để giữ bí mật phiếu, kết quả của "
                "nhóm không công bố riêng, chỉ được tính trong kết quả chung."
            )
        elif group.get("hidden_reason") == "shields_small":
            notes.append(
                f"Nhóm {group.get('number')} ({nfc(group.get('name'))}) cũng không công bố "
                "riêng: nếu công bố, có thể suy ra kết quả của nhóm nhỏ bằng phép trừ từ kết "
                "quả chung."
            )
    if (results.get("combined") or {}).get("withheld"):
        notes.append(
            "Kết quả chung không công bố: nếu công bố, có thể suy ra kết quả của nhóm nhỏ "
            "bằng phép trừ."
        )
    deciding = results.get("deciding")
    notes.append(
        "Kết quả chung của các nhóm là căn cứ xem xét theo quy định."
        if deciding == "combined"
        else f"Kết quả của nhóm {deciding} là căn cứ xem xét theo quy định; kết quả của các "
        "nhóm khác để tham khảo."
    )
    notes.append(
        "Kết quả chung: cộng số phiếu của các nhóm; tỷ lệ % tính trên tổng mẫu số của các nhóm."
    )
    return notes


def groups_summary(results: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> bytes:
    """Render the cross-group summary of a round of several voter groups as PDF bytes."""
    result = results if isinstance(results, Mapping) else results[0]
    styles = get_styles()
    round_ = result.get("round") or {}
    story: list[Flowable] = [
        para(upper(round_.get("body_name") or round_.get("body")), styles.heading_left_bold),
        para("TỔNG HỢP KẾT QUẢ LẤY PHIẾU TÍN NHIỆM THEO NHÓM", styles.title),
        para(round_.get("title"), styles.subtitle),
        Spacer(1, 4),
        _table(styles, result),
        Spacer(1, 4),
    ]
    for note in _notes(result):
        story.append(para(note, styles.small_italic))
    story.append(Spacer(1, 6))
    story.append(groups_chart(styles.fonts, result, width=TEXT_WIDTH))
    story += anchors(styles, result, "NIÊM PHONG VÀ ĐẦU NHẬT KÝ")
    title = nfc(round_.get("title"))
    return build_pdf(
        story,
        title=f"Tổng hợp kết quả theo nhóm — {title}",
        subject=nfc(round_.get("body_name")),
        footer=f"Tổng hợp theo nhóm — {title}",
    )
