"""The results chart: stacked horizontal bars per item, drawn as inline SVG on the server."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from ..text import percent

BAR_WIDTH = 600  # the SVG's user units for 100 % of D
BAR_HEIGHT = 22
ROW_HEIGHT = 46
LABEL_HEIGHT = 16
TOP = 8


def stacked_bars(result: dict[str, Any]) -> dict[str, Any]:
    """Lay out one bar per item: each level's share of D (DOMAIN.md §4), then invalid marks.

    Shares are of D, so a bar may end before 100 % (D = members, absent members) — the chart
    shows exactly what the table says. Lines mark one half and two thirds of D.
    """
    denominator = result["denominator"]["value"]
    levels = (
        [level for level in result["items"][0]["counts"] if level != "invalid"]
        if result["items"]
        else []
    )
    rows = []
    for index, item in enumerate(result["items"]):
        y = TOP + index * ROW_HEIGHT + LABEL_HEIGHT
        x = Decimal(0)
        segments = []
        for level in [*levels, "invalid"]:
            share = percent(item["counts"].get(level, 0), denominator) or Decimal(0)
            width = share * BAR_WIDTH / 100
            if width > 0:
                segments.append(
                    {
                        "level": level,
                        "x": f"{x:.2f}",
                        "width": f"{width:.2f}",
                        "count": item["counts"].get(level, 0),
                        "share": f"{share:.2f}",
                    }
                )
            x += width
        rows.append(
            {
                "item": item,
                "y": y,
                "label_y": y - 5,
                "segments": segments,
                "flagged": bool(item["findings"]),
            }
        )
    height = TOP + len(rows) * ROW_HEIGHT + 4
    return {
        "rows": rows,
        "levels": levels,
        "width": BAR_WIDTH,
        "bar_height": BAR_HEIGHT,
        "height": height,
        "half": BAR_WIDTH / 2,
        "two_thirds": f"{BAR_WIDTH * 2 / 3:.2f}",
    }


LINE_WIDTH = 600  # the SVG's user units across the plot
LINE_HEIGHT = 220
LINE_LEFT = 44  # room for the percentage labels of the axis
LINE_RIGHT = 56  # room for the threshold labels
LINE_TOP = 12
LINE_BOTTOM = 28  # room for the years


def low_share_line(history: dict[str, Any]) -> dict[str, Any]:
    """Lay out one person's low share of D by year, with the one-half and two-thirds lines.

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
    plot_width = LINE_WIDTH - LINE_LEFT - LINE_RIGHT
    plot_height = LINE_HEIGHT - LINE_TOP - LINE_BOTTOM
    bottom = LINE_TOP + plot_height

    def y_of(share: Decimal) -> str:
        return f"{bottom - share * plot_height / 100:.2f}"

    years = [r["year"] for r in rounds]
    first, last = (min(years), max(years)) if years else (0, 0)
    span = max(last - first, 1)
    per_year: dict[int, int] = {}
    points = []
    for entry in rounds:
        year = entry["year"]
        index = per_year.get(year, 0)
        per_year[year] = index + 1
        # Several rounds in one year sit side by side around the year's place.
        x = (
            Decimal(LINE_LEFT + plot_width / 2)
            if first == last
            else Decimal(LINE_LEFT) + Decimal(plot_width) * (year - first) / span
        ) + 8 * index
        share = Decimal(entry["percent"]["low"])
        points.append(
            {
                "x": f"{x:.2f}",
                "y": y_of(share),
                "year": year,
                "round_id": entry["round_id"],
                "share": entry["percent"]["low"],
                "count": entry["counts"].get("low", 0),
                "denominator": entry["denominator"]["value"],
                "flagged": bool(entry["findings"]),
            }
        )
    segments = [
        {"x1": a["x"], "y1": a["y"], "x2": b["x"], "y2": b["y"]}
        for a, b in itertools.pairwise(points)
        if b["year"] - a["year"] <= 1
    ]
    thresholds = [
        {"band": t["band"], "share": t["percent"], "y": y_of(Decimal(t["percent"]))}
        for t in history.get("thresholds", [])
    ]
    grid = [{"label": step, "y": y_of(Decimal(step))} for step in (0, 20, 40, 60, 80, 100)]
    ticks = (
        [{"year": year, "x": point["x"]} for year, point in {p["year"]: p for p in points}.items()]
        if first == last
        else [
            {"year": year, "x": f"{LINE_LEFT + plot_width * (year - first) / span:.2f}"}
            for year in range(first, last + 1)
        ]
    )
    return {
        "points": points,
        "segments": segments,
        "thresholds": thresholds,
        "grid": grid,
        "ticks": ticks,
        "width": LINE_WIDTH,
        "height": LINE_HEIGHT,
        "left": LINE_LEFT,
        "right": LINE_WIDTH - LINE_RIGHT,
        "bottom": bottom,
        "year_y": bottom + 18,
    }
