"""The results chart: stacked horizontal bars per item, drawn as inline SVG on the server."""

from __future__ import annotations

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
