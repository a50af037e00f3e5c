"""Where the shapes of a results chart go: one geometry for the pages (SVG) and the PDFs.

A chart that a committee member reads at a glance measures the "tín nhiệm thấp" share from
the same edge as the threshold lines: the low (or no-trust) part of each bar starts at 0 %
of D, on the left, and a line at one half of D is crossed exactly when `low * 2 > D`. The
other levels follow it (confidence, then high), then invalid marks; what is left of D
(absent members, invalid ballots) stays empty, so a bar may stop short of 100 %, as the table
says. Only the thresholds of the round's own profile are drawn.

Positions are percentages of D (0–100) as Decimal: the page writes them as SVG percentages,
the PDF multiplies them by its plot width. Nothing here decides a band: the lines only show
where the bands begin (votes.rules decides, in integers).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

HUNDRED = Decimal(100)
PLACES = Decimal("0.01")

#: Where the bands of DOMAIN.md §5 begin, for data written before lines carried a fraction.
BAND_FRACTIONS = {
    "over_half": "1/2",
    "over_half_under_two_thirds": "1/2",
    "two_thirds_or_more": "2/3",
    "over_two_thirds": "2/3",
}

#: The low levels of the scales: the share the thresholds are measured on.
LOW_LEVELS = ("low", "no_trust")


@dataclass(frozen=True)
class Segment:
    """One level's part of a bar, from `start` to `start + width` (percent of D)."""

    level: str
    count: int
    start: Decimal
    width: Decimal

    @property
    def end(self) -> Decimal:
        """Return where the segment ends (percent of D)."""
        return self.start + self.width


@dataclass(frozen=True)
class Bar:
    """One item's bar: its segments from the left edge, the low one first."""

    segments: tuple[Segment, ...]
    low_count: int
    low_share: Decimal  # exact share of D, for placing; the printed figure is the result's

    @property
    def end(self) -> Decimal:
        """Return where the last segment ends (percent of D, at most 100)."""
        return self.segments[-1].end if self.segments else Decimal(0)


@dataclass(frozen=True)
class Threshold:
    """A threshold line of the profile: where a band begins, as a share of D."""

    band: str
    label: str  # "1/2", "2/3"
    share: Decimal


def share_of(count: int, denominator: int | None) -> Decimal:
    """Return count / D * 100, to four places, for placing a shape (0 when D is unknown)."""
    if not denominator or denominator <= 0:
        return Decimal(0)
    return (Decimal(count) * HUNDRED / Decimal(denominator)).quantize(Decimal("0.0001"))


def bar_order(levels: Sequence[str]) -> list[str]:
    """Return the order the levels are stacked in: the low one first, from the left edge."""
    low = [level for level in levels if level in LOW_LEVELS]
    others = [level for level in reversed(levels) if level not in LOW_LEVELS]
    return [*low, *others]


def bar(counts: Mapping[str, int], denominator: int | None, levels: Sequence[str]) -> Bar:
    """Lay out one bar: the low share from 0, then the other levels, then invalid marks."""
    start = Decimal(0)
    segments = []
    for level in [*bar_order(levels), "invalid"]:
        count = int(counts.get(level, 0) or 0)
        width = min(share_of(count, denominator), HUNDRED - start)
        if width > 0:
            segments.append(Segment(level, count, start, width))
        start += max(width, Decimal(0))
    low = next((level for level in levels if level in LOW_LEVELS), "low")
    low_count = int(counts.get(low, 0) or 0)
    return Bar(tuple(segments), low_count, share_of(low_count, denominator))


def thresholds(lines: Iterable[Mapping[str, Any]] | None) -> list[Threshold]:
    """Return the profile's threshold lines from [{"band", "percent", "fraction"}], lowest first.

    No default: a profile without a band draws no line, and a ⅔ line is drawn only for a
    profile with a band that begins at two thirds.
    """
    found: dict[Decimal, Threshold] = {}
    for line in lines or []:
        percent = line.get("percent")
        if percent in (None, ""):
            continue
        share = Decimal(str(percent))
        label = (
            str(line.get("fraction") or "")
            or BAND_FRACTIONS.get(str(line.get("band")), "")
            or f"{share.quantize(PLACES, ROUND_HALF_UP)} %"
        )
        found.setdefault(share, Threshold(str(line.get("band", "")), label, share))
    return [found[share] for share in sorted(found)]


@dataclass(frozen=True)
class Box:
    """A label's box along one axis: [low, high] in the chart's units."""

    low: float
    high: float

    def overlaps(self, other: Box) -> bool:
        """Tell whether two boxes share more than an edge."""
        return self.low < other.high and other.low < self.high


def spread(centres: Sequence[float], size: float, low: float, high: float) -> list[float]:
    """Move labels of one `size` apart along an axis so that none overlaps another or an edge.

    The labels keep their order; each stays as near its centre as the room allows, inside
    [low + size/2, high - size/2].
    """
    order = sorted(range(len(centres)), key=lambda i: centres[i])
    placed: dict[int, float] = {}
    previous = low - size / 2
    for index in order:
        centre = max(centres[index], previous + size, low + size / 2)
        placed[index] = centre
        previous = centre
    # Push back from the far edge when the last one ran over it.
    following = high + size / 2
    for index in reversed(order):
        centre = min(placed[index], following - size, high - size / 2)
        placed[index] = centre
        following = centre
    return [placed[i] for i in range(len(centres))]
