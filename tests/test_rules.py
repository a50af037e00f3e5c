"""Findings (votes/rules.py): bands, "two years in a row" and their evidence.

DOMAIN.md §4–§8. Every expected value here is written by hand or computed by a small oracle
in this file with fractions.Fraction, never by the code under test.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import VotesRunner
from tests.factories import (
    add_test_body,
    collective,
    column,
    counted_round,
    exempt,
    person,
    rated,
    year_in_force,
)
from votes.counting import count_marks
from votes.models import Body, Person, Round
from votes.profiles import BUILTIN, add_profile, get_profile
from votes.results import round_results
from votes.rounds import close_round
from votes.rules import (
    body_findings,
    consecutive_findings,
    finding_message,
    findings_for_round,
    item_bands,
    person_history,
    round_findings,
)
from votes.tally import ItemTally, RoundTally, tally_round
from votes.text import percent, percent_text

PROFILE_IDS = ("tn-16kh-2012", "qd262-2014", "qd96-2023", "nq35-2012", "nq85-2014", "nq96-2023")
# The kind of body each built-in profile is written for.
BUILTIN_KIND = {pid: get_profile(None, pid).body_kinds[0] for pid in PROFILE_IDS}

# DOMAIN.md §5, copied by hand: the bands of each profile in order, and the basis of D.
PROFILE_BANDS = {
    "tn-16kh-2012": ("over_half",),
    "qd262-2014": ("over_half",),
    "qd96-2023": ("over_half_under_two_thirds", "two_thirds_or_more"),
    "nq35-2012": ("over_half", "over_two_thirds"),
    "nq85-2014": ("over_half", "two_thirds_or_more"),
    "nq96-2023": ("over_half_under_two_thirds", "two_thirds_or_more"),
}
PROFILE_BASIS = {
    "tn-16kh-2012": "collected",
    "qd262-2014": "collected",
    "qd96-2023": "collected",
    "nq35-2012": "members",
    "nq85-2014": "members",
    "nq96-2023": "collected",
}
PROFILE_SCOPE = {
    "tn-16kh-2012": "row",
    "qd262-2014": "ballot",
    "qd96-2023": "ballot",
    "nq35-2012": "row",
    "nq85-2014": "row",
    "nq96-2023": "row",
}


# ---------------------------------------------------------------------------- the oracle


def oracle_bands(low: int, denominator: int) -> set[str]:
    """Return every band id that holds for low/D, from fractions (DOMAIN.md §5 table)."""
    share = Fraction(low, denominator)
    half, two_thirds = Fraction(1, 2), Fraction(2, 3)
    holds = {
        "over_half": share > half,
        "over_half_under_two_thirds": half < share < two_thirds,
        "two_thirds_or_more": share >= two_thirds,
        "over_two_thirds": share > two_thirds,
    }
    return {band for band, yes in holds.items() if yes}


def oracle_percent(count: int, denominator: int) -> str:
    """Return count/D*100 rounded half-up to 2 places, as "53.13" (DOMAIN.md §4)."""
    hundredths = math.floor(Fraction(count * 100, denominator) * 100 + Fraction(1, 2))
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def test_the_oracle_agrees_with_the_worked_example() -> None:
    # A check of the oracle itself, against the numbers printed in DOMAIN.md §8.
    assert oracle_percent(1, 32) == "3.13"
    assert oracle_percent(20, 32) == "62.50"
    assert oracle_percent(17, 32) == "53.13"
    assert oracle_bands(17, 32) == {"over_half", "over_half_under_two_thirds"}
    assert oracle_bands(16, 32) == set()


# ---------------------------------------------------------------------------- worked example

PERSON_A = column(high=20, confidence=8, low=1, blank=1)
PERSON_B = column(high=5, confidence=8, low=17)
MAY_RESIGN = {
    "vi": "Có quá nửa tổng số đại biểu đánh giá tín nhiệm thấp: có thể xin từ chức",
    "en": "More than half of all deputies rate the person low: may resign",
}
TWO_YEARS_VOTE = {
    "vi": "Hai năm liền có quá nửa tổng số đại biểu đánh giá tín nhiệm thấp: "
    "trình bỏ phiếu tín nhiệm",
    "en": "More than half of all deputies rate the person low two years in a row: "
    "a vote of confidence is held",
}


def example_round(
    session: Session, body: Body, year: int, a: list[str], b: list[str], **kwargs: Any
) -> Round:
    """A round of DOMAIN.md §8: nq35-2012, 32 members, 30 present, 30 ballots."""
    return counted_round(
        session,
        body,
        year=year,
        profile_id="nq35-2012",
        roster=[person("Người A", "Chủ tịch"), person("Người B", "Phó Chủ tịch")],
        columns=[a, b],
        members=32,
        summoned=32,
        present=30,
        **kwargs,
    )


def b_evidence(round_: Round, year: int, band: str = "over_half") -> dict[str, Any]:
    """The evidence of person B's 17 of 32 low, written out by hand."""
    return {
        "round": round_.id,
        "year": year,
        "title": f"Lấy phiếu tín nhiệm năm {year}",
        "position": "Phó Chủ tịch",
        "level": "low",
        "count": 17,
        "low": 17,
        "counts": {"high": 5, "confidence": 8, "low": 17, "invalid": 0},
        "denominator": 32,
        "basis": "members",
        "percent": "53.13",
        "band": band,
        "rule": "low*2 > D",
        "profile": {"id": "nq35-2012", "version": 2},
    }


def test_worked_example(session: Session) -> None:
    """DOMAIN.md §8 through the logic API: counts, shares on 32 members, B "may resign"."""
    body = add_test_body(session)
    round_ = example_round(session, body, 2014, PERSON_A, PERSON_B)
    tally = tally_round(session, round_)
    assert (tally.basis, tally.denominator) == ("members", 32)
    assert (tally.issued, tally.collected, tally.valid, tally.invalid) == (30, 30, 30, 0)
    a, b = tally.items
    assert a.counts == {"high": 20, "confidence": 8, "low": 1, "invalid": 1}
    assert [percent_text(a.share(level, 32)) for level in ("high", "confidence", "low")] == [
        "62.50",
        "25.00",
        "3.13",
    ]
    assert b.counts == {"high": 5, "confidence": 8, "low": 17, "invalid": 0}
    assert percent_text(b.share("low", 32)) == "53.13"

    findings = round_findings(tally)
    assert [f.as_dict() for f in findings] == [
        {
            "rule": "band",
            "person_key": "Người B",
            "name": "Người B",
            "position": "Phó Chủ tịch",
            "years": [2014],
            "rounds": [round_.id],
            "band": "over_half",
            "consequence": MAY_RESIGN,
            "evidence": [b_evidence(round_, 2014)],
            "passed_over": [],
        }
    ]
    # 17 * 3 > 64 is false: no vote of confidence this year, and nothing "two years in a row".
    assert body_findings(session, body) == findings
    assert findings_for_round(session, tally) == {1: [], 2: findings}


@pytest.mark.parametrize(("low_before", "fires"), [(17, True), (16, False)])
def test_worked_example_two_years(session: Session, low_before: int, fires: bool) -> None:
    """B 17/32 the year before: the two-years rule fires; 16/32 (exactly half): it does not."""
    body = add_test_body(session)
    before = example_round(
        session,
        body,
        2013,
        rated(0, 30),
        column(high=22 - low_before, confidence=8, low=low_before),
    )
    after = example_round(session, body, 2014, PERSON_A, PERSON_B)
    found = body_findings(session, body)
    consecutive = [f for f in found if f.rule == "consecutive_years"]
    before_bands = [f.band for f in found if f.rule == "band" and f.years == (2013,)]
    if not fires:
        assert consecutive == []
        assert before_bands == []
        return
    assert before_bands == ["over_half"]
    assert [f.as_dict() for f in consecutive] == [
        {
            "rule": "consecutive_years",
            "person_key": "Người B",
            "name": "Người B",
            "position": "Phó Chủ tịch",
            "years": [2013, 2014],
            "rounds": [before.id, after.id],
            "band": "over_half",
            "consequence": TWO_YEARS_VOTE,
            "evidence": [b_evidence(before, 2013), b_evidence(after, 2014)],
            "passed_over": [],
        }
    ]
    # The finding belongs to the round of its last year, not to the year before.
    assert consecutive[0] in findings_for_round(session, tally_round(session, after))[2]
    assert all(
        f.rule == "band" for f in findings_for_round(session, tally_round(session, before))[2]
    )
    # The year filter keeps a finding by its last year.
    assert [f.rule for f in body_findings(session, body, 2014)] == ["band", "consecutive_years"]
    assert [f.rule for f in body_findings(session, body, 2013)] == ["band"]


# ---------------------------------------------------------------------------- boundaries

# (D, low, region): exactly 1/2 and one above; exactly 2/3, one below and one above; D even,
# odd, divisible by 3 or not. Written by hand.
BELOW, MIDDLE, TWO_THIRDS, ABOVE = "at_most_half", "half_to_two_thirds", "two_thirds", "above"
BOUNDARY_CASES = {
    6: [(2, BELOW), (3, BELOW), (4, TWO_THIRDS), (5, ABOVE)],
    7: [(3, BELOW), (4, MIDDLE), (5, ABOVE)],
    30: [(14, BELOW), (15, BELOW), (16, MIDDLE), (19, MIDDLE), (20, TWO_THIRDS), (21, ABOVE)],
    31: [(15, BELOW), (16, MIDDLE), (20, MIDDLE), (21, ABOVE)],
    33: [(16, BELOW), (17, MIDDLE), (21, MIDDLE), (22, TWO_THIRDS), (23, ABOVE)],
}
# What each profile flags in each region (DOMAIN.md §5), by hand.
EXPECTED_BANDS: dict[str, dict[str, set[str]]] = {
    "tn-16kh-2012": {
        BELOW: set(),
        MIDDLE: {"over_half"},
        TWO_THIRDS: {"over_half"},
        ABOVE: {"over_half"},
    },
    "qd262-2014": {
        BELOW: set(),
        MIDDLE: {"over_half"},
        TWO_THIRDS: {"over_half"},
        ABOVE: {"over_half"},
    },
    "qd96-2023": {
        BELOW: set(),
        MIDDLE: {"over_half_under_two_thirds"},
        TWO_THIRDS: {"two_thirds_or_more"},
        ABOVE: {"two_thirds_or_more"},
    },
    "nq35-2012": {
        BELOW: set(),
        MIDDLE: {"over_half"},
        TWO_THIRDS: {"over_half"},
        ABOVE: {"over_half", "over_two_thirds"},
    },
    "nq85-2014": {
        BELOW: set(),
        MIDDLE: {"over_half"},
        TWO_THIRDS: {"over_half", "two_thirds_or_more"},
        ABOVE: {"over_half", "two_thirds_or_more"},
    },
    "nq96-2023": {
        BELOW: set(),
        MIDDLE: {"over_half_under_two_thirds"},
        TWO_THIRDS: {"two_thirds_or_more"},
        ABOVE: {"two_thirds_or_more"},
    },
}


@pytest.mark.parametrize("profile_id", PROFILE_IDS)
def test_boundaries_of_every_profile(session: Session, profile_id: str) -> None:
    """Each threshold on both sides, D odd and even, on the profile's own basis."""
    kind = "party" if profile_id.startswith(("qd", "tn")) else "council"
    body = add_test_body(session, kind=kind)
    basis = PROFILE_BASIS[profile_id]
    for denominator, cases in BOUNDARY_CASES.items():
        lows = [low for low, _ in cases]
        if basis == "members":
            # D = members; one member absent makes "collected" a different, wrong number
            # (collected may not exceed members: DOMAIN.md §2).
            size, spoiled, members = denominator - 1, 0, denominator
        else:
            # D = collected (one of them spoiled); "members" and "valid" are wrong numbers.
            size, spoiled, members = denominator - 1, 1, denominator + 3
        round_ = counted_round(
            session,
            body,
            year=year_in_force(profile_id),
            profile_id=profile_id,
            roster=[person(f"P{low}", key=f"p{low}") for low in lows],
            columns=[rated(low, size) for low in lows],
            spoiled=spoiled,
            members=members,
            # Several rounds of one body in one year: allowed by a decision.
            time_exception=f"thử nghiệm {denominator}",
        )
        tally = tally_round(session, round_)
        assert (tally.basis, tally.denominator) == (basis, denominator)
        bands: dict[str, set[str]] = {f"p{low}": set() for low in lows}
        for finding in round_findings(tally):
            bands[finding.person_key].add(finding.band)
        expected = {f"p{low}": EXPECTED_BANDS[profile_id][region] for low, region in cases}
        assert bands == expected, f"D = {denominator}"
        # Each finding's share is printed half-up on D.
        for finding in round_findings(tally):
            (proof,) = finding.evidence
            assert proof["percent"] == oracle_percent(proof["count"], denominator)
            assert proof["denominator"] == denominator


def test_nq85_at_seventy_percent_gives_both_bands(session: Session) -> None:
    body = add_test_body(session)
    round_ = counted_round(
        session,
        body,
        year=2018,
        profile_id="nq85-2014",
        roster=[person("A")],
        columns=[rated(7, 10)],
        members=10,
    )
    assert [f.band for f in round_findings(tally_round(session, round_))] == [
        "over_half",
        "two_thirds_or_more",
    ]


def test_the_basis_of_d_changes_the_bands(session: Session) -> None:
    """Same ballots: D = 32 members under nq35-2012, D = 30 collected under nq96-2023."""
    body = add_test_body(session)
    by_profile = {}
    for year, profile_id in ((2014, "nq35-2012"), (2024, "nq96-2023")):
        round_ = counted_round(
            session,
            body,
            year=year,
            profile_id=profile_id,
            roster=[person("A"), person("B"), person("C")],
            columns=[rated(16, 30), rated(20, 30), rated(22, 30)],
            members=32,
            summoned=32,
            present=30,
        )
        tally = tally_round(session, round_)
        by_profile[profile_id] = (
            tally.denominator,
            [sorted(f.band for f in item_bands(tally, item)) for item in tally.items],
        )
    assert by_profile == {
        # 16*2 > 32 no; 20*2 > 32 yes, 20*3 > 64 no; 22*3 = 66 > 64 yes.
        "nq35-2012": (32, [[], ["over_half"], ["over_half", "over_two_thirds"]]),
        # 16*2 > 30 yes, 16*3 < 60; 20*3 >= 60; 22*3 >= 60.
        "nq96-2023": (
            30,
            [["over_half_under_two_thirds"], ["two_thirds_or_more"], ["two_thirds_or_more"]],
        ),
    }


# ---------------------------------------------------------------------------- invalid marks


@pytest.mark.parametrize("profile_id", PROFILE_IDS)
def test_invalid_mark_scope(session: Session, profile_id: str) -> None:
    """An empty or doubled row spoils the row (row scope) or the whole ballot (ballot scope)."""
    body = add_test_body(session, kind=BUILTIN_KIND[profile_id])
    # Ten ballots typed in, plus one ballot spoiled as a whole (written on).
    # Ballot 1 has no box marked for item 1, ballot 2 two boxes for item 2.
    item_1 = list("-HHHHHCCLL")
    item_2 = list("HXLLLLLCCH")
    round_ = counted_round(
        session,
        body,
        year=year_in_force(profile_id),
        profile_id=profile_id,
        roster=[person("A"), person("B")],
        columns=[item_1, item_2],
        spoiled=1,
        members=12,
    )
    tally = tally_round(session, round_)
    assert (tally.issued, tally.collected) == (11, 11)
    if PROFILE_SCOPE[profile_id] == "row":
        assert (tally.valid, tally.invalid) == (10, 1)
        assert [item.counts for item in tally.items] == [
            {"high": 5, "confidence": 2, "low": 2, "invalid": 1},
            {"high": 2, "confidence": 2, "low": 5, "invalid": 1},
        ]
    else:
        assert (tally.valid, tally.invalid) == (8, 3)
        assert [item.counts for item in tally.items] == [
            {"high": 4, "confidence": 2, "low": 2, "invalid": 0},
            {"high": 1, "confidence": 2, "low": 5, "invalid": 0},
        ]


LETTERS = ("H", "C", "L", "-", "X")


@settings(max_examples=200, deadline=None)
@given(
    items=st.integers(min_value=1, max_value=4),
    data=st.data(),
)
def test_count_marks_matches_an_oracle(items: int, data: st.DataObject) -> None:
    ballots = data.draw(
        st.lists(
            st.tuples(
                st.sampled_from(("valid", "valid", "valid", "invalid")),
                st.text(alphabet=LETTERS, min_size=items, max_size=items),
            ),
            max_size=30,
        )
    )
    for scope in ("row", "ballot"):
        invalid, counts = count_marks(ballots, items, "poll", scope)
        # The oracle: which ballots count, then a plain loop over their rows.
        counted = [
            marks
            for status, marks in ballots
            if status == "valid" and not (scope == "ballot" and ("-" in marks or "X" in marks))
        ]
        assert invalid == len(ballots) - len(counted)
        for index in range(items):
            row = [marks[index] for marks in counted]
            assert counts[index] == {
                "high": row.count("H"),
                "confidence": row.count("C"),
                "low": row.count("L"),
                "invalid": row.count("-") + row.count("X"),
            }


# ---------------------------------------------------------------------------- properties


def _tally(
    profile_id: str,
    low: int,
    denominator: int,
    *,
    year: int = 2025,
    round_id: int = 1,
    key: str = "p",
) -> RoundTally:
    """A tally built by hand (no database) with one person, for the pure rule functions."""
    profile = get_profile(None, profile_id)
    round_ = Round(
        id=round_id,
        year=year,
        title=f"#{round_id}",
        scale="poll",
        status="closed",
        profile_id=profile.id,
        profile_version=profile.version,
    )
    return RoundTally(
        round=round_,
        profile=profile,
        levels=("high", "confidence", "low"),
        issued=denominator,
        collected=denominator,
        valid=denominator,
        invalid=0,
        basis=profile.denominator,
        denominator=denominator,
        quorum={"met": True},
        items=[
            ItemTally(
                order=1,
                kind="person",
                person_id=1,
                person_key=key,
                name="P",
                position="X",
                counts={"high": denominator - low, "confidence": 0, "low": low, "invalid": 0},
            )
        ],
    )


@settings(max_examples=200, deadline=None)
@given(
    profile_id=st.sampled_from(PROFILE_IDS),
    denominator=st.integers(min_value=1, max_value=2000),
    data=st.data(),
)
def test_bands_match_the_fraction_oracle(
    profile_id: str, denominator: int, data: st.DataObject
) -> None:
    # Half of the draws sit right at a threshold, where mistakes live.
    near = [denominator // 2 + k for k in (-1, 0, 1)]
    near += [2 * denominator // 3 + k for k in (-1, 0, 1)]
    low = data.draw(
        st.one_of(
            st.integers(min_value=0, max_value=denominator),
            st.sampled_from([n for n in near if 0 <= n <= denominator]),
        )
    )
    tally = _tally(profile_id, low, denominator)
    findings = item_bands(tally, tally.items[0])
    expected = [b for b in PROFILE_BANDS[profile_id] if b in oracle_bands(low, denominator)]
    assert [f.band for f in findings] == expected
    for finding in findings:
        assert finding.evidence[0]["percent"] == oracle_percent(low, denominator)


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=100_000),
    denominator=st.integers(min_value=1, max_value=100_000),
)
def test_percent_is_half_up_to_two_places(count: int, denominator: int) -> None:
    assert percent_text(percent(count, denominator)) == oracle_percent(count, denominator)


@pytest.mark.parametrize(
    ("count", "denominator", "expected"),
    [
        (1, 32, "3.13"),  # 3.125: the half goes up (DOMAIN.md §8)
        (1, 800, "0.13"),  # 0.125
        (3, 800, "0.38"),  # 0.375
        (1, 20_000, "0.01"),  # 0.005
        (1, 40_000, "0.00"),  # 0.0025
        (1, 1_600, "0.06"),  # 0.0625
        (1, 3, "33.33"),
        (2, 3, "66.67"),
        (1, 6, "16.67"),
        (0, 5, "0.00"),
        (7, 7, "100.00"),
    ],
)
def test_percent_table(count: int, denominator: int, expected: str) -> None:
    assert percent_text(percent(count, denominator)) == expected


_bodies = iter(range(1, 10_000))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    profile_id=st.sampled_from(PROFILE_IDS),
    denominator=st.integers(min_value=1, max_value=40),
    data=st.data(),
)
def test_stored_rounds_match_the_oracle(
    session: Session, profile_id: str, denominator: int, data: st.DataObject
) -> None:
    """Through the database and the results document: shares and bands against the oracle."""
    near = [denominator // 2 + 1, 2 * denominator // 3, 2 * denominator // 3 + 1]
    lows = data.draw(
        st.lists(
            st.one_of(
                st.integers(min_value=0, max_value=denominator),
                st.sampled_from([n for n in near if n <= denominator]),
            ),
            min_size=1,
            max_size=3,
        )
    )
    body = add_test_body(session, code=f"P-{next(_bodies)}", kind=BUILTIN_KIND[profile_id])
    members = denominator if PROFILE_BASIS[profile_id] == "members" else denominator + 7
    round_ = counted_round(
        session,
        body,
        year=year_in_force(profile_id),
        profile_id=profile_id,
        roster=[person(f"P{n}", key=f"p{n}") for n in range(len(lows))],
        columns=[rated(low, denominator) for low in lows],
        members=members,
    )
    result = round_results(session, round_)
    assert result["denominator"] == {"basis": PROFILE_BASIS[profile_id], "value": denominator}
    for low, item in zip(lows, result["items"], strict=True):
        assert item["percent"]["low"] == oracle_percent(low, denominator)
        assert item["percent"]["high"] == oracle_percent(denominator - low, denominator)
        assert [f["band"] for f in item["findings"]] == [
            b for b in PROFILE_BANDS[profile_id] if b in oracle_bands(low, denominator)
        ]


# A year of one person in a body under tn-16kh-2012 (in force with no end, the two-years
# rule on more than half of D), as the property test draws it.
NO_ROUND, OFF_BALLOT, RATED, LOW = "no round", "not on the ballot", "rated", "low"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from((OFF_BALLOT, RATED, LOW)), min_size=0, max_size=2),
        min_size=1,
        max_size=8,
    )
)
def test_two_years_in_a_row_matches_an_oracle(years: list[list[str]]) -> None:
    """Random histories of rounds per year (0, 1 or 2 rounds) against a plain oracle."""
    tallies = []
    low_rounds: dict[int, list[int]] = {}
    round_id = 0
    for offset, states in enumerate(years):
        year = 2013 + offset
        for state in states:
            round_id += 1
            low = {OFF_BALLOT: 0, RATED: 16, LOW: 17}[state]
            tally = _tally("tn-16kh-2012", low, 32, year=year, round_id=round_id)
            if state == OFF_BALLOT:
                tally.items = []
            tallies.append(tally)
            if state == LOW:
                low_rounds.setdefault(year, []).append(round_id)
    expected = [
        ((year - 1, year), tuple(low_rounds[year - 1] + low_rounds[year]))
        for year in sorted(low_rounds)
        if year - 1 in low_rounds
    ]
    found = consecutive_findings(tallies)
    assert [(f.years, f.rounds) for f in found] == expected
    assert all(f.band == "over_half" and f.rule == "consecutive_years" for f in found)


# ---------------------------------------------------------------------------- two years in a row


def poll(
    session: Session,
    body: Body,
    year: int,
    lows: dict[str, int],
    *,
    size: int = 20,
    positions: dict[str, str] | None = None,
    exempt_keys: tuple[str, ...] = (),
    status: str = "closed",
    profile_id: str = "tn-16kh-2012",
    time_exception: str | None = None,
) -> Round:
    """A Party poll with one item per person key, `lows[key]` low marks out of `size`.

    `time_exception` allows a second poll of the same year (the profile polls once a year).
    """
    positions = positions or {}
    roster = [
        person(key.upper(), positions.get(key, "Ủy viên Ban Thường vụ"), key=key) for key in lows
    ]
    roster += [
        exempt(
            key.upper(),
            "Đã có thông báo nghỉ hưu",
            positions.get(key, "Ủy viên Ban Thường vụ"),
            key=key,
        )
        for key in exempt_keys
    ]
    return counted_round(
        session,
        body,
        year=year,
        profile_id=profile_id,
        roster=roster,
        columns=[rated(low, size) for low in lows.values()],
        status=status,
        time_exception=time_exception,
    )


def consecutive(session: Session, body: Body) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """Return (person, years, rounds) of every "years in a row" finding of a body."""
    return [
        (f.person_key, f.years, f.rounds)
        for f in body_findings(session, body)
        if f.rule == "consecutive_years"
    ]


@pytest.fixture
def party(session: Session) -> Body:
    return add_test_body(session, code="TU-X", kind="party")


def test_same_person_across_a_position_change(session: Session, party: Body) -> None:
    first = poll(session, party, 2024, {"p1": 11, "p2": 11}, positions={"p1": "Phó Bí thư Tỉnh ủy"})
    second = poll(session, party, 2025, {"p1": 11, "p3": 11}, positions={"p1": "Bí thư Tỉnh ủy"})
    assert consecutive(session, party) == [("p1", (2024, 2025), (first.id, second.id))]
    (finding,) = [f for f in body_findings(session, party) if f.rule == "consecutive_years"]
    assert finding.position == "Bí thư Tỉnh ủy"
    assert [e["position"] for e in finding.evidence] == ["Phó Bí thư Tỉnh ủy", "Bí thư Tỉnh ủy"]
    assert finding.consequence["vi"] == (
        "Hai năm liền tín nhiệm thấp: xem xét, cho thôi giữ chức vụ mà không chờ hết nhiệm kỳ"
    )


def test_a_missing_year_breaks_the_chain(session: Session, party: Body) -> None:
    poll(session, party, 2023, {"p1": 11})
    poll(session, party, 2025, {"p1": 11})
    assert consecutive(session, party) == []


def test_an_exempt_year_is_passed_over_not_a_way_out(session: Session, party: Body) -> None:
    """Low, exempt, low: the exempt year neither counts nor breaks the chain (DOMAIN.md §6).

    Otherwise an exemption in the year after a low one would be a way out of the rule.
    """
    first = poll(session, party, 2023, {"p1": 11, "p2": 3})
    poll(session, party, 2024, {"p2": 3}, exempt_keys=("p1",))
    last = poll(session, party, 2025, {"p1": 11, "p2": 3})
    assert consecutive(session, party) == [("p1", (2023, 2025), (first.id, last.id))]
    (finding,) = [f for f in body_findings(session, party) if f.rule == "consecutive_years"]
    assert finding.passed_over == (2024,)
    assert "2024" in finding_message(finding.as_dict()).text("vi")


def test_an_exempt_year_after_a_rated_year_does_not_make_a_chain(
    session: Session, party: Body
) -> None:
    poll(session, party, 2023, {"p1": 3})
    poll(session, party, 2024, {"p2": 3}, exempt_keys=("p1",))
    poll(session, party, 2025, {"p1": 11})
    assert consecutive(session, party) == []


def test_a_year_off_the_ballot_breaks_the_chain(session: Session, party: Body) -> None:
    poll(session, party, 2023, {"p1": 11, "p2": 3})
    poll(session, party, 2024, {"p2": 3})
    poll(session, party, 2025, {"p1": 11, "p2": 3})
    assert consecutive(session, party) == []


def test_exactly_half_is_not_a_low_year(session: Session, party: Body) -> None:
    poll(session, party, 2024, {"p1": 10})  # 10 of 20: exactly one half
    poll(session, party, 2025, {"p1": 20})
    assert consecutive(session, party) == []


@pytest.mark.parametrize("low_first", [True, False])
def test_two_rounds_in_one_year(session: Session, party: Body, low_first: bool) -> None:
    """Low in one of the two rounds of 2024: the year is low, and the evidence says which."""
    a = poll(session, party, 2024, {"p1": 11 if low_first else 2})
    b = poll(session, party, 2024, {"p1": 2 if low_first else 11}, time_exception="12-QĐ/TU")
    c = poll(session, party, 2025, {"p1": 15})
    low_round = a if low_first else b
    assert consecutive(session, party) == [("p1", (2024, 2025), (low_round.id, c.id))]
    (finding,) = [f for f in body_findings(session, party) if f.rule == "consecutive_years"]
    assert [(e["round"], e["year"], e["count"]) for e in finding.evidence] == [
        (low_round.id, 2024, 11),
        (c.id, 2025, 15),
    ]


def test_three_low_years_give_the_last_two_pairs(session: Session, party: Body) -> None:
    r23 = poll(session, party, 2023, {"p1": 11})
    r24 = poll(session, party, 2024, {"p1": 12})
    r25 = poll(session, party, 2025, {"p1": 13})
    assert consecutive(session, party) == [
        ("p1", (2023, 2024), (r23.id, r24.id)),
        ("p1", (2024, 2025), (r24.id, r25.id)),
    ]
    assert [
        f.years for f in body_findings(session, party, 2025) if f.rule == "consecutive_years"
    ] == [(2024, 2025)]


def test_the_collective_is_never_a_finding(session: Session, party: Body) -> None:
    for year in (2024, 2025):
        counted_round(
            session,
            party,
            year=year,
            profile_id="tn-16kh-2012",
            roster=[person("A", key="p1"), collective()],
            columns=[rated(1, 20), rated(20, 20)],
        )
    assert body_findings(session, party) == []


def test_open_rounds_are_never_evidence(session: Session, party: Body) -> None:
    poll(session, party, 2024, {"p1": 11})
    later = poll(session, party, 2025, {"p1": 11}, status="open")
    assert consecutive(session, party) == []
    assert [f.years for f in body_findings(session, party)] == [(2024,)]
    close_round(session, later)
    assert [f[1] for f in consecutive(session, party)] == [(2024, 2025)]


def test_three_years_in_a_row_when_the_profile_says_three(session: Session, party: Body) -> None:
    add_profile(
        session,
        BUILTIN[("tn-16kh-2012", 1)]
        .source.replace('id = "tn-16kh-2012"', 'id = "tu-x-3y"')
        .replace("years = 2", "years = 3"),
    )
    r23 = poll(session, party, 2023, {"p1": 11}, profile_id="tu-x-3y")
    r24 = poll(session, party, 2024, {"p1": 11}, profile_id="tu-x-3y")
    assert consecutive(session, party) == []
    r25 = poll(session, party, 2025, {"p1": 11}, profile_id="tu-x-3y")
    assert consecutive(session, party) == [("p1", (2023, 2024, 2025), (r23.id, r24.id, r25.id))]


def test_a_profile_without_the_rule_has_no_two_years_finding(session: Session) -> None:
    body = add_test_body(session)
    for year in (2016, 2021):  # NQ 85/2014 polls once a term
        counted_round(
            session,
            body,
            year=year,
            profile_id="nq85-2014",
            roster=[person("A")],
            columns=[rated(20, 30)],
            members=30,
        )
    # 20 of 30 members: over_half and two_thirds_or_more each year, never "two years in a row".
    assert [(f.rule, f.band) for f in body_findings(session, body)] == [
        ("band", "over_half"),
        ("band", "two_thirds_or_more"),
    ] * 2


def test_findings_are_stable_and_explained_by_their_evidence(session: Session, party: Body) -> None:
    """Computing twice gives the same; every flag can be checked from its evidence alone."""
    poll(session, party, 2023, {"p1": 14, "p2": 3, "p3": 11}, size=21)
    poll(session, party, 2024, {"p1": 11, "p2": 11}, size=20)
    poll(session, party, 2024, {"p1": 2, "p3": 12}, size=20, time_exception="12-QĐ/TU")
    poll(session, party, 2025, {"p1": 17, "p2": 9, "p3": 9}, size=19)
    first = [f.as_dict() for f in body_findings(session, party)]
    second = [f.as_dict() for f in body_findings(session, party)]
    assert first == second
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert {(f["rule"], f["person_key"], tuple(f["years"])) for f in first} == {
        ("band", "p1", (2023,)),
        ("band", "p3", (2023,)),
        ("band", "p1", (2024,)),
        ("band", "p2", (2024,)),
        ("band", "p3", (2024,)),
        ("band", "p1", (2025,)),
        ("consecutive_years", "p1", (2023, 2024)),
        ("consecutive_years", "p3", (2023, 2024)),
        ("consecutive_years", "p1", (2024, 2025)),
    }
    for finding in first:
        explain(finding)


def explain(finding: dict[str, Any]) -> None:
    """Check a finding from its evidence alone, with the oracle (no call into the code)."""
    evidence = finding["evidence"]
    assert evidence, finding
    years = sorted({e["year"] for e in evidence})
    assert finding["years"] == years
    assert finding["rounds"] == [e["round"] for e in evidence]
    if finding["rule"] == "consecutive_years":
        # Consecutive, once the years passed over (the person exempt) are counted in.
        every = sorted({*years, *finding["passed_over"]})
        assert every == list(range(years[0], years[0] + len(every)))
        assert len(years) >= 2
    for proof in evidence:
        assert proof["band"] == finding["band"]
        assert proof["count"] == proof["counts"][proof["level"]]
        assert proof["basis"] in ("members", "collected", "summoned", "present", "valid")
        assert proof["percent"] == oracle_percent(proof["count"], proof["denominator"])
        assert finding["band"] in oracle_bands(proof["count"], proof["denominator"])
        # The rule text is the integer comparison of the band.
        rule = {
            "over_half": "low*2 > D",
            "over_half_under_two_thirds": "low*2 > D and low*3 < 2*D",
            "two_thirds_or_more": "low*3 >= 2*D",
            "over_two_thirds": "low*3 > 2*D",
        }[finding["band"]]
        assert proof["rule"] == rule
        profile = BUILTIN[(proof["profile"]["id"], proof["profile"]["version"])]
        wanted = (
            profile.consecutive_years.consequence.as_dict()
            if finding["rule"] == "consecutive_years" and profile.consecutive_years
            else next(b.consequence.as_dict() for b in profile.bands if b.id == finding["band"])
        )
        assert finding["consequence"] == wanted


def test_person_history(session: Session, party: Body) -> None:
    r23 = poll(session, party, 2023, {"p1": 11, "p2": 2})
    r24 = poll(session, party, 2024, {"p2": 2}, exempt_keys=("p1",))
    r25 = poll(session, party, 2025, {"p1": 12, "p2": 2}, positions={"p1": "Phó Bí thư"})
    p1 = session.scalar(select(Person).where(Person.person_key == "p1"))
    assert p1 is not None
    history = person_history(session, party, p1)
    assert [(r["round_id"], r["year"], r["position"], r["exempt"]) for r in history["rounds"]] == [
        (r23.id, 2023, "Ủy viên Ban Thường vụ", None),
        (r24.id, 2024, "Ủy viên Ban Thường vụ", "Đã có thông báo nghỉ hưu"),
        (r25.id, 2025, "Phó Bí thư", None),
    ]
    assert [r["percent"] and r["percent"]["low"] for r in history["rounds"]] == [
        "55.00",
        None,
        "60.00",
    ]
    # 2024 exempt is passed over: low in 2023 and 2025 is "two years in a row" (DOMAIN.md §6).
    assert [(f["rule"], f["years"]) for f in history["findings"]] == [
        ("band", [2023]),
        ("band", [2025]),
        ("consecutive_years", [2023, 2025]),
    ]


# ---------------------------------------------------------------------------- command line

FINDING_KEYS = {
    "rule",
    "person_key",
    "name",
    "position",
    "years",
    "rounds",
    "band",
    "consequence",
    "evidence",
    "passed_over",
}


def test_findings_command(session: Session, votes: VotesRunner) -> None:
    body = add_test_body(session)
    before = example_round(session, body, 2013, rated(0, 30), PERSON_B)
    after = example_round(session, body, 2014, PERSON_A, PERSON_B)
    session.commit()

    out = votes("findings", "--body", "HDND-X", "--format", "json")
    assert out.exit_code == 0, out.stderr
    found = json.loads(out.stdout)
    assert isinstance(found, list)
    assert all(set(f) == FINDING_KEYS for f in found)
    assert all(set(f["consequence"]) == {"vi", "en"} for f in found)
    assert [(f["rule"], f["years"], f["rounds"], f["band"]) for f in found] == [
        ("band", [2013], [before.id], "over_half"),
        ("band", [2014], [after.id], "over_half"),
        ("consecutive_years", [2013, 2014], [before.id, after.id], "over_half"),
    ]
    assert found[2]["evidence"] == [b_evidence(before, 2013), b_evidence(after, 2014)]
    for finding in found:
        explain(finding)

    # The same findings under each item of `votes results`, the chain on its last round only.
    result = json.loads(votes("results", after.id, "--format", "json").stdout)
    assert [(f["rule"], f["years"]) for f in result["items"][1]["findings"]] == [
        ("band", [2014]),
        ("consecutive_years", [2013, 2014]),
    ]
    assert result["items"][1]["findings"] == found[1:]
    result = json.loads(votes("results", before.id, "--format", "json").stdout)
    assert result["items"][1]["findings"] == found[:1]

    out = votes("findings", "--body", "HDND-X", "--year", 2013, "--format", "json")
    assert [f["years"] for f in json.loads(out.stdout)] == [[2013]]

    out = votes("findings", "--body", "HDND-X", "--year", 2014)
    assert out.exit_code == 0, out.stderr
    assert (
        "2013–2014  Người B (Phó Chủ tịch): số phiếu tín nhiệm thấp chiếm quá nửa tổng số "
        "đại biểu, trong 2 năm liên tiếp." in out.stdout
    )
    assert "consecutive_years" not in out.stdout
    assert "over_half" not in out.stdout
    assert "2013: 17/32 = 53,13 %, 2014: 17/32 = 53,13 %" in out.stdout
    assert TWO_YEARS_VOTE["vi"] in out.stdout

    out = votes("findings", "--body", "NO-SUCH", "--format", "json")
    assert out.exit_code != 0
    assert len(out.stderr.strip().splitlines()) == 1


def test_history_command(session: Session, votes: VotesRunner) -> None:
    body = add_test_body(session)
    before = example_round(session, body, 2013, rated(0, 30), PERSON_B)
    after = example_round(session, body, 2014, PERSON_A, PERSON_B)
    session.commit()

    out = votes("history", "--body", "HDND-X", "--person", "Người B")
    assert out.exit_code == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "Người B [Người B]"
    assert f"2013  Phó Chủ tịch: Tín nhiệm thấp 17/32 = 53,13 %  (#{before.id})" in lines[1]
    assert f"2014  Phó Chủ tịch: Tín nhiệm thấp 17/32 = 53,13 %  (#{after.id})" in lines[2]
    flags = [line for line in lines if "⚑" in line]
    assert [line.split(":")[0].strip() for line in flags] == ["⚑ 2013", "⚑ 2014", "⚑ 2013–2014"]
    assert TWO_YEARS_VOTE["vi"] in flags[2]

    out = votes("history", "--body", "HDND-X", "--person", "Người A", "--format", "json")
    history = json.loads(out.stdout)
    assert [r["percent"]["low"] for r in history["rounds"]] == ["0.00", "3.13"]
    assert history["findings"] == []

    out = votes("history", "--body", "HDND-X", "--person", "nobody")
    assert out.exit_code != 0
    assert len(out.stderr.strip().splitlines()) == 1
