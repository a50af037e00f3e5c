"""Charts: stacked shares per item, and the low share of a person over the years.

ReportLab charts draw their labels in Helvetica unless told otherwise, and Helvetica
has no Vietnamese letters ("thấp" became "th■p"): every label, axis and legend here
gets the registered family explicitly.

Percentages arrive as strings rounded by the core; they are turned into floats only to
place shapes on the page. No threshold is decided here: the lines only show where the
bands begin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from votes import chart_geometry as geometry

from . import labels
from .fonts import FontFamily
from .styles import COLOURS
from .text import fmt_percent, nfc

__all__ = ["DEFAULT_THRESHOLDS", "low_share_chart", "stacked_share_chart"]

#: No line unless the profile has the band: a ⅔ line for a rule without one misleads.
DEFAULT_THRESHOLDS: tuple[tuple[str, str], ...] = ()


def thresholds_from(
    history_thresholds: Sequence[Mapping[str, Any]] | None,
) -> list[tuple[str, str]]:
    """Turn the profile's [{"band", "percent", "fraction"}] into (label, percent) pairs."""
    return [(line.label, str(line.share)) for line in geometry.thresholds(history_thresholds)]


def _share(value: Any) -> float:
    """Return a percentage string as a float for drawing (None -> 0)."""
    if value is None or value == "":
        return 0.0
    return float(Decimal(str(value)))


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def stacked_share_chart(
    fonts: FontFamily,
    round_: Mapping[str, Any],
    items: Sequence[Mapping[str, Any]],
    *,
    width: float,
    max_height: float,
    thresholds: Sequence[tuple[str, str]] = DEFAULT_THRESHOLDS,
) -> Drawing:
    """Draw one horizontal stacked bar per item, in ballot order from the top.

    The low (or no-trust) share is stacked first, from zero, so that the threshold lines
    at 1/2 and 2/3 of D read directly against it; then confidence, then high.
    """
    levels = list(reversed(labels.levels(round_)))  # low first
    level_colours = {
        "low": COLOURS.low,
        "no_trust": COLOURS.low,
        "confidence": COLOURS.confidence,
        "trust": COLOURS.high,
        "high": COLOURS.high,
    }
    ordered = sorted(items, key=lambda i: i.get("order") or 0)
    # The category axis runs bottom-up: reverse so that item 1 is on top.
    shown = list(reversed(ordered))
    n = max(len(shown), 1)

    label_size = 8.0 if n <= 30 else 7.0
    names = [nfc(f"{item.get('order', '')}. {nfc(item.get('name'))}") for item in shown]
    label_room = min(
        max((stringWidth(name, fonts.regular, label_size) for name in names), default=40) + 6,
        width * 0.36,
    )
    names = [_fit(name, fonts.regular, label_size, label_room - 6) for name in names]

    legend_height = 26.0
    axis_height = 36.0
    row = max(9.0, min(20.0, (max_height - legend_height - axis_height) / n))
    plot_height = row * n
    height = plot_height + legend_height + axis_height
    value_room = 40.0

    drawing = Drawing(width, height, initialFontName=fonts.regular)
    chart = HorizontalBarChart()
    chart.x = label_room
    chart.y = legend_height + 22
    chart.width = width - label_room - value_room
    chart.height = plot_height
    chart.data = [
        [_share((item.get("percent") or {}).get(key)) for item in shown]
        for key, _label, _short in levels
    ]
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.categoryNames = names
    chart.categoryAxis.labels.fontName = fonts.regular
    chart.categoryAxis.labels.fontSize = label_size
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.categoryAxis.strokeColor = COLOURS.rule
    chart.categoryAxis.tickLeft = 0
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = 100
    chart.valueAxis.valueStep = 10
    chart.valueAxis.labels.fontName = fonts.regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d"
    chart.valueAxis.strokeColor = COLOURS.rule
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    chart.valueAxis.gridStrokeWidth = 0.3
    chart.barWidth = row * 0.62
    chart.groupSpacing = row * 0.38
    chart.barSpacing = 0
    for index, (key, _label, _short) in enumerate(levels):
        chart.bars[index].fillColor = level_colours[key]
        chart.bars[index].strokeColor = colors.white
        chart.bars[index].strokeWidth = 0.3
    drawing.add(chart)

    def x_at(percent: float) -> float:
        return float(chart.x + chart.width * percent / 100)

    top = chart.y + chart.height
    for label, percent in thresholds:
        x = x_at(_share(percent))
        line = Line(x, chart.y, x, top + 3)
        line.strokeColor = COLOURS.threshold
        line.strokeWidth = 0.9
        line.strokeDashArray = [3, 2]
        drawing.add(line)
        drawing.add(
            String(
                x,
                top + 5,
                label,
                fontName=fonts.bold,
                fontSize=8,
                fillColor=COLOURS.threshold,
                textAnchor="middle",
            )
        )

    # The low share printed at the end of each bar, bold red when a finding holds.
    low = labels.low_key(round_)
    for index, item in enumerate(shown):
        total = sum(series[index] for series in chart.data)
        y = chart.y + row * index + row / 2 - 2.5
        flagged = bool(item.get("findings"))
        drawing.add(
            String(
                x_at(min(total, 100)) + 3,
                y,
                fmt_percent((item.get("percent") or {}).get(low), suffix=" %"),
                fontName=fonts.bold if flagged else fonts.regular,
                fontSize=7,
                fillColor=COLOURS.low if flagged else COLOURS.muted,
            )
        )

    legend = Legend()
    legend.fontName = fonts.regular
    legend.fontSize = 8
    legend.x = label_room
    legend.y = 10
    legend.boxAnchor = "sw"
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 90
    legend.dx = 8
    legend.dy = 8
    legend.colorNamePairs = [(level_colours[key], label) for key, label, _short in levels]
    drawing.add(legend)
    drawing.add(
        String(
            width,
            10,
            f"Số ở cuối thanh: tỷ lệ % {labels.low_word(round_)}",
            fontName=fonts.italic,
            fontSize=7.5,
            fillColor=COLOURS.muted,
            textAnchor="end",
        )
    )
    return drawing


def low_share_chart(
    fonts: FontFamily,
    points: Sequence[tuple[int, Any]],
    *,
    width: float,
    height: float,
    thresholds: Sequence[tuple[str, str]] = DEFAULT_THRESHOLDS,
    low_word: str = "tín nhiệm thấp",
) -> Drawing:
    """Draw the low share (%) of one person by year, with the threshold lines."""
    drawing = Drawing(width, height, initialFontName=fonts.regular)
    plot = LinePlot()
    plot.x = 40
    plot.y = 34
    plot.width = width - 70
    plot.height = height - 56
    data = [(int(year), _share(percent)) for year, percent in points if percent is not None]
    years = [year for year, _ in data] or [0]
    first, last = min(years), max(years)
    plot.data = [data or [(first, 0.0)]]
    plot.lines[0].strokeColor = COLOURS.low
    plot.lines[0].strokeWidth = 1.5
    plot.lines[0].symbol = makeMarker("FilledCircle", size=4, fillColor=COLOURS.low)
    plot.xValueAxis.valueMin = first - 1 if first == last else first - 0.5
    plot.xValueAxis.valueMax = last + 1 if first == last else last + 0.5
    plot.xValueAxis.valueSteps = (
        [first - 1, first, first + 1] if first == last else list(range(first, last + 1))
    )
    plot.xValueAxis.labelTextFormat = "%d"
    plot.xValueAxis.labels.fontName = fonts.regular
    plot.xValueAxis.labels.fontSize = 8
    plot.xValueAxis.strokeColor = COLOURS.rule
    plot.yValueAxis.valueMin = 0
    plot.yValueAxis.valueMax = 100
    plot.yValueAxis.valueStep = 20
    plot.yValueAxis.labelTextFormat = "%d %%"
    plot.yValueAxis.labels.fontName = fonts.regular
    plot.yValueAxis.labels.fontSize = 8
    plot.yValueAxis.strokeColor = COLOURS.rule
    plot.yValueAxis.visibleGrid = 1
    plot.yValueAxis.gridStrokeColor = colors.HexColor("#dddddd")
    plot.yValueAxis.gridStrokeWidth = 0.3
    drawing.add(plot)

    for label, percent in thresholds:
        y = plot.y + plot.height * _share(percent) / 100
        line = Line(plot.x, y, plot.x + plot.width, y)
        line.strokeColor = COLOURS.threshold
        line.strokeWidth = 0.9
        line.strokeDashArray = [3, 2]
        drawing.add(line)
        drawing.add(
            String(
                plot.x + plot.width + 3,
                y - 3,
                label,
                fontName=fonts.bold,
                fontSize=8,
                fillColor=COLOURS.threshold,
            )
        )

    x_min, x_max = plot.xValueAxis.valueMin, plot.xValueAxis.valueMax
    for year, percent in points:
        if percent is None:
            continue
        x = plot.x + plot.width * (int(year) - x_min) / (x_max - x_min)
        y = plot.y + plot.height * _share(percent) / 100
        drawing.add(
            String(
                x,
                y + 6,
                fmt_percent(percent, suffix=" %"),
                fontName=fonts.regular,
                fontSize=7,
                fillColor=COLOURS.ink,
                textAnchor="middle",
            )
        )
    drawing.add(
        String(
            plot.x,
            8,
            f"Tỷ lệ % phiếu {low_word} theo năm",
            fontName=fonts.italic,
            fontSize=8,
            fillColor=COLOURS.muted,
        )
    )
    return drawing
