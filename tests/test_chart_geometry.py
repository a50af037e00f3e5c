"""The results chart's geometry (votes/chart_geometry.py), against numbers worked by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from votes import chart_geometry as geometry
from votes.profiles import get_profile
from votes.rules import thresholds as profile_thresholds

POLL = ["high", "confidence", "low"]


def test_the_low_share_starts_at_the_left_edge_where_the_lines_are_measured() -> None:
    # 9 low of D = 17 is 52.94 %: it must reach past the one-half line and stop short of ⅔.
    bar = geometry.bar({"high": 5, "confidence": 3, "low": 9, "invalid": 0}, 17, POLL)
    low = bar.segments[0]
    assert low.level == "low"
    assert low.start == 0
    assert low.width == Decimal("52.9412")  # 900/17 to four places, worked by hand
    assert low.end > 50
    assert low.end < Decimal("66.67")
    assert [s.level for s in bar.segments] == ["low", "confidence", "high"]
    assert bar.segments[1].start == low.end


def test_exactly_one_half_touches_the_line_without_crossing_it() -> None:
    low = geometry.bar({"high": 8, "confidence": 0, "low": 8}, 16, POLL).segments[0]
    assert low.end == 50


def test_a_bar_stops_short_of_d_when_ballots_are_missing() -> None:
    # D = 10 members, 1 ballot: the bar shows 10 % of D and leaves the rest empty.
    bar = geometry.bar({"high": 1, "confidence": 0, "low": 0, "invalid": 0}, 10, POLL)
    assert bar.end == 10
    assert [s.level for s in bar.segments] == ["high"]


def test_invalid_marks_come_last_and_the_bar_never_passes_100() -> None:
    bar = geometry.bar({"high": 3, "confidence": 2, "low": 4, "invalid": 1}, 10, POLL)
    assert [s.level for s in bar.segments] == ["low", "confidence", "high", "invalid"]
    assert bar.end == 100
    over = geometry.bar({"high": 6, "confidence": 6, "low": 6}, 10, POLL)
    assert over.end == 100


def test_a_vote_of_confidence_measures_no_trust_from_the_edge() -> None:
    bar = geometry.bar({"trust": 4, "no_trust": 6}, 10, ["trust", "no_trust"])
    assert [s.level for s in bar.segments] == ["no_trust", "trust"]
    assert bar.low_share == 60


def test_no_d_no_bar() -> None:
    assert geometry.bar({"low": 3}, 0, POLL).segments == ()


@pytest.mark.parametrize(
    ("profile", "lines"),
    [
        ("tn-16kh-2012", [("1/2", Decimal("50.00"))]),
        ("qd262-2014", [("1/2", Decimal("50.00"))]),
        ("qd96-2023", [("1/2", Decimal("50.00")), ("2/3", Decimal("66.67"))]),
        ("nq35-2012", [("1/2", Decimal("50.00")), ("2/3", Decimal("66.67"))]),
    ],
)
def test_only_the_profiles_own_threshold_lines(profile: str, lines: list[object]) -> None:
    drawn = geometry.thresholds(profile_thresholds([get_profile(None, profile)]))
    assert [(t.label, t.share) for t in drawn] == lines


def test_no_threshold_no_line() -> None:
    assert geometry.thresholds([]) == []
    assert geometry.thresholds(None) == []


def test_old_data_without_a_fraction_is_labelled_by_its_band() -> None:
    drawn = geometry.thresholds([{"band": "two_thirds_or_more", "percent": "66.67"}])
    assert [(t.label, t.share) for t in drawn] == [("2/3", Decimal("66.67"))]


def test_labels_are_spread_apart_and_kept_inside() -> None:
    # Three labels 50 wide wanting the same place on a 0–300 axis.
    placed = geometry.spread([10, 12, 14], 50, 0, 300)
    assert placed == [25, 75, 125]
    # Near the far edge they are pushed back in.
    assert geometry.spread([295, 299], 50, 0, 300) == [225, 275]
    boxes = [
        geometry.Box(c - 25, c + 25) for c in geometry.spread([100, 101, 102, 103], 50, 0, 300)
    ]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
