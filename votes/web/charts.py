"""The results charts of the pages, laid out by votes.chart_geometry (the PDFs use it too).

The bar chart is HTML rows (name and low share as text, so they wrap and keep the page's
font size on a phone) each with a small SVG bar whose shapes are placed in percentages of
the bar's width: no viewBox, so nothing shrinks with the screen. The history chart is one
SVG whose labels are spread so that none covers another or an axis label.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from .. import chart_geometry as geometry


def _pct(value: Decimal) -> str:
    return f"{value:.4f}%"


def stacked_bars(result: dict[str, Any]) -> dict[str, Any]:
    """Lay out one bar per item: the low share from the left edge, where the lines are measured.

    Shares are of D, so a bar may end before 100 % (D = members, absent members; invalid
    ballots): the chart shows exactly what the table says.
    """
    denominator = result["denominator"]["value"]
    levels = (
        [level for level in result["items"][0]["counts"] if level != "invalid"]
        if result["items"]
        else []
    )
    low = next((level for level in levels if level in geometry.LOW_LEVELS), "low")
    rows = []
    for item in result["items"]:
        laid = geometry.bar(item["counts"], denominator, levels)
        rows.append(
            {
                "item": item,
                "segments": [
                    {
                        "level": s.level,
                        "x": _pct(s.start),
                        "width": _pct(s.width),
                        "count": s.count,
                        "share": item["percent"].get(s.level),
                    }
                    for s in laid.segments
                ],
                "low_share": item["percent"].get(low),
                "low_count": laid.low_count,
                "flagged": bool(item["findings"]),
            }
        )
    lines = geometry.thresholds(result.get("thresholds"))
    return {
        "rows": rows,
        "levels": levels,
        "stack": geometry.bar_order(levels),
        "has_invalid": any(item["counts"].get("invalid") for item in result["items"]),
        "low": low,
        "thresholds": [
            {"band": t.band, "label": t.label, "x": _pct(t.share), "share": t.share} for t in lines
        ],
    }


LINE_WIDTH = 400  # the SVG's user units across; shown at most 36rem wide (style.css)
LINE_HEIGHT = 250
LINE_LEFT = 52  # room for the percentage labels of the axis
LINE_RIGHT = 40  # room for the threshold labels
LINE_TOP = 26  # room for a point's label above 100 %
LINE_BOTTOM = 30  # room for the years
INSET = 34  # the first and last years sit this far inside the plot: their labels stay in it
LABEL_WIDTH = 56  # "100,00 %" at 14 units
LABEL_HEIGHT = 16


def low_share_line(history: dict[str, Any]) -> dict[str, Any]:
    """Lay out one person's low share of D by year, with the profiles' own threshold lines.

    Only three-level polls are drawn (a vote of confidence has another scale). A round in
    which the person was exempt has no point. Points of consecutive years (or of one year) are
    joined; a year without a round breaks the line, as it breaks "two years in a row".
    """
    rounds = [
        r
        for r in history["rounds"]
        if r.get("scale") == "poll" and r.get("percent") and r["percent"].get("low") is not None
    ]
    rounds.sort(key=lambda r: (r["year"], r["round_id"]))
    plot_left, plot_right = LINE_LEFT, LINE_WIDTH - LINE_RIGHT
    plot_height = LINE_HEIGHT - LINE_TOP - LINE_BOTTOM
    bottom = LINE_TOP + plot_height

    def y_of(share: Decimal) -> Decimal:
        return bottom - share * plot_height / 100

    years = [r["year"] for r in rounds]
    first, last = (min(years), max(years)) if years else (0, 0)
    span = max(last - first, 1)
    inner = Decimal(plot_right - plot_left - 2 * INSET)

    def x_of(year: int) -> Decimal:
        if first == last:
            return Decimal(plot_left + plot_right) / 2
        return Decimal(plot_left + INSET) + inner * (year - first) / span

    per_year: dict[int, int] = {}
    points = []
    for entry in rounds:
        year = entry["year"]
        index = per_year.get(year, 0)
        per_year[year] = index + 1
        # Several rounds in one year sit side by side around the year's place.
        x = x_of(year) + 10 * index
        share = Decimal(entry["percent"]["low"])
        points.append(
            {
                "x": f"{x:.2f}",
                "y": f"{y_of(share):.2f}",
                "year": year,
                "round_id": entry["round_id"],
                "share": entry["percent"]["low"],
                "count": entry["counts"].get("low", 0),
                "denominator": entry["denominator"]["value"],
                "flagged": bool(entry["findings"]),
            }
        )
    # Each point's label sits above it (below it near the top), kept inside the plot so that
    # it never covers an axis label; labels of close points are spread apart.
    xs = geometry.spread([float(p["x"]) for p in points], LABEL_WIDTH + 4, plot_left, plot_right)
    for point, label_x in zip(points, xs, strict=True):
        y = float(point["y"])
        point["label_x"] = f"{label_x:.2f}"
        point["label_y"] = f"{(y - 10 if y - 10 - LABEL_HEIGHT >= 0 else y + 22):.2f}"
    segments = [
        {"x1": a["x"], "y1": a["y"], "x2": b["x"], "y2": b["y"]}
        for a, b in itertools.pairwise(points)
        if b["year"] - a["year"] <= 1
    ]
    lines = geometry.thresholds(history.get("thresholds"))
    label_ys = geometry.spread(
        [float(y_of(t.share)) for t in lines], LABEL_HEIGHT, LINE_TOP, bottom
    )
    thresholds = [
        {"band": t.band, "label": t.label, "y": f"{y_of(t.share):.2f}", "label_y": f"{ly:.2f}"}
        for t, ly in zip(lines, label_ys, strict=True)
    ]
    grid = [{"label": step, "y": f"{y_of(Decimal(step)):.2f}"} for step in (0, 20, 40, 60, 80, 100)]
    ticks = (
        [{"year": year, "x": point["x"]} for year, point in {p["year"]: p for p in points}.items()]
        if first == last
        else [{"year": year, "x": f"{x_of(year):.2f}"} for year in range(first, last + 1)]
    )
    return {
        "points": points,
        "segments": segments,
        "thresholds": thresholds,
        "grid": grid,
        "ticks": ticks,
        "width": LINE_WIDTH,
        "height": LINE_HEIGHT,
        "left": plot_left,
        "right": plot_right,
        "bottom": bottom,
        "year_y": bottom + 20,
    }
