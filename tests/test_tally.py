"""Counting: marks per item and level, invalid marks, denominators, percentages (DOMAIN.md §4).

Expected values are written out by hand or computed by a small oracle here, never by the code
under test.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from tests.factories import (
    add_committee,
    decrypt_round,
    draft_round_of,
    open_round_of,
    store_box,
    year_in_force,
)
from votes import groups, profiles, rounds, voting
from votes.counting import count_marks
from votes.errors import CountError
from votes.models import Ballot, Round, Scale
from votes.roster import RosterEntry
from votes.tally import tally_groups, tally_round
from votes.text import percent, percent_text

SECRET = "test-secret-key-0123456789abcdef"


# ---------------------------------------------------------------------------- the oracle


def oracle_percent(count: int, denominator: int) -> str:
    """count / D * 100, half-up to two places, in exact fractions."""
    hundredths = math.floor(Fraction(count * 100 * 100, denominator) + Fraction(1, 2))
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def oracle_count(
    ballots: list[tuple[str, str]], items: int, scope: str, levels: str
) -> tuple[int, list[Counter[str]]]:
    """Count ballot by ballot, mark by mark, the slow and obvious way."""
    invalid_ballots = 0
    per_item: list[Counter[str]] = [Counter() for _ in range(items)]
    for status, marks in ballots:
        spoiled = status == "invalid" or (scope == "ballot" and any(m not in levels for m in marks))
        if spoiled:
            invalid_ballots += 1
            continue
        for n, mark in enumerate(marks):
            per_item[n]["invalid" if mark not in levels else mark] += 1
    return invalid_ballots, per_item


NAMES = {"H": "high", "C": "confidence", "L": "low", "T": "trust", "K": "no_trust"}


# ---------------------------------------------------------------------------- percentages


@pytest.mark.parametrize(
    ("count", "denominator", "expected"),
    [
        (1, 32, "3.13"),  # DOMAIN.md §8: 3.125 rounds up
        (20, 32, "62.50"),
        (8, 32, "25.00"),
        (17, 32, "53.13"),
        (3, 32, "9.38"),
        (5, 32, "15.63"),
        (7, 160, "4.38"),  # 4.375: a float rounding gives 4.37
        (1, 160, "0.63"),
        (2, 3, "66.67"),
        (1, 3, "33.33"),
        (1, 6, "16.67"),
        (0, 49, "0.00"),
        (49, 49, "100.00"),
        (1, 80_000, "0.00"),  # 0.00125
        (1, 40_000, "0.00"),  # 0.0025
        (1, 20_000, "0.01"),  # 0.005 rounds up
        (1, 400, "0.25"),
    ],
)
def test_percentages_round_half_up_to_two_places(
    count: int, denominator: int, expected: str
) -> None:
    assert percent_text(percent(count, denominator)) == expected


@pytest.mark.parametrize("denominator", [None, 0])
def test_an_unknown_denominator_gives_no_percentage(denominator: int | None) -> None:
    assert percent(3, denominator) is None
    assert percent_text(None) is None


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=5000).flatmap(
        lambda d: st.tuples(st.integers(min_value=0, max_value=d), st.just(d))
    )
)
def test_percentages_agree_with_exact_fractions(case: tuple[int, int]) -> None:
    count, denominator = case
    assert percent_text(percent(count, denominator)) == oracle_percent(count, denominator)


# ---------------------------------------------------------------------------- counting packed marks


def test_counting_by_hand() -> None:
    ballots = [
        ("valid", "HCL"),
        ("valid", "HH-"),
        ("valid", "XCL"),
        ("invalid", "LLL"),
        ("valid", "LLL"),
    ]
    invalid, counts = count_marks(ballots, 3, Scale.POLL.value, "row")
    assert invalid == 1
    assert counts == [
        {"high": 2, "confidence": 0, "low": 1, "invalid": 1},
        {"high": 1, "confidence": 2, "low": 1, "invalid": 0},
        {"high": 0, "confidence": 0, "low": 3, "invalid": 1},
    ]
    invalid, counts = count_marks(ballots, 3, Scale.POLL.value, "ballot")
    assert invalid == 3
    assert counts == [
        {"high": 1, "confidence": 0, "low": 1, "invalid": 0},
        {"high": 0, "confidence": 1, "low": 1, "invalid": 0},
        {"high": 0, "confidence": 0, "low": 2, "invalid": 0},
    ]


def test_counting_a_vote_of_confidence() -> None:
    ballots = [("valid", "TK"), ("valid", "K-"), ("valid", "XT"), ("invalid", "TT")]
    invalid, counts = count_marks(ballots, 2, Scale.CONFIDENCE_VOTE.value, "row")
    assert invalid == 1
    assert counts == [
        {"trust": 1, "no_trust": 1, "invalid": 1},
        {"trust": 1, "no_trust": 1, "invalid": 1},
    ]


def test_an_empty_box_counts_zero() -> None:
    assert count_marks([], 2, Scale.POLL.value, "row") == (
        0,
        [
            {"high": 0, "confidence": 0, "low": 0, "invalid": 0},
            {"high": 0, "confidence": 0, "low": 0, "invalid": 0},
        ],
    )


@pytest.mark.parametrize("marks", ["HC", "HCLH", ""])
def test_a_stored_ballot_of_the_wrong_length_is_refused(marks: str) -> None:
    with pytest.raises(CountError):
        count_marks([("valid", "HCL"), ("valid", marks)], 3, Scale.POLL.value, "row")


@settings(max_examples=200, deadline=None)
@given(
    st.integers(min_value=1, max_value=8).flatmap(
        lambda items: st.tuples(
            st.just(items),
            st.lists(
                st.tuples(
                    st.sampled_from(["valid", "valid", "valid", "invalid"]),
                    st.text(alphabet="HCL-X", min_size=items, max_size=items),
                ),
                max_size=60,
            ),
        )
    ),
    st.sampled_from(["row", "ballot"]),
)
def test_counting_agrees_with_the_oracle(
    case: tuple[int, list[tuple[str, str]]], scope: str
) -> None:
    items, ballots = case
    invalid, counts = count_marks(ballots, items, Scale.POLL.value, scope)
    expected_invalid, expected = oracle_count(ballots, items, scope, "HCL")
    assert invalid == expected_invalid
    for item, want in zip(counts, expected, strict=True):
        assert item == {
            "high": want["H"],
            "confidence": want["C"],
            "low": want["L"],
            "invalid": want["invalid"],
        }
    # Accounting: every counted ballot has exactly one entry per item.
    for item in counts:
        assert sum(item.values()) == len(ballots) - invalid


# ---------------------------------------------------------------------------- whole rounds


def paper_round(
    session: Session,
    *,
    profile: str,
    items: list[str],
    ballots: list[str],
    members: int | None,
    summoned: int | None = None,
    present: int | None = None,
    issued: int | None = None,
    scale: str = Scale.POLL.value,
) -> Round:
    """Create, open, fill with paper ballots ("valid,H,C" lines), close; return the round."""
    # A Party rule for a Party committee, an Assembly rule for a People's Council.
    kind = "party" if profile.startswith(("tn-", "qd")) else "council"
    body = rounds.add_body(session, f"B-{len(items)}-{len(ballots)}", "Đơn vị thử", kind)
    roster = [
        RosterEntry(line=n + 2, name=name, position="Ủy viên") for n, name in enumerate(items)
    ]
    round_ = rounds.create_round(
        session,
        body,
        year=year_in_force(profile),
        profile_id=profile,
        title="Lấy phiếu",
        roster=roster,
        members=members,
        summoned=summoned,
        present=present,
        scale=scale,
    )
    rounds.open_round(session, round_)
    header = "status," + ",".join(str(n) for n in range(1, len(items) + 1))
    data = "\n".join([header, *ballots]).encode()
    voting.import_paper_ballots(session, round_, data, issued=issued or len(ballots))
    rounds.close_round(session, round_)
    decrypt_round(session, round_.id)
    session.commit()
    return round_


def test_the_worked_example_through_the_api(session: Session) -> None:
    """DOMAIN.md §8: nq35-2012, 32 members, 30 ballots; A 20/8/1 + 1 invalid mark; B 5/8/17."""
    a = ["H"] * 20 + ["C"] * 8 + ["L"] + [""]
    b = ["H"] * 5 + ["C"] * 8 + ["L"] * 17
    round_ = paper_round(
        session,
        profile="nq35-2012",
        items=["Người A", "Người B"],
        members=32,
        summoned=32,
        present=30,
        ballots=[f"valid,{x},{y}" for x, y in zip(a, b, strict=True)],
    )
    tally = tally_round(session, round_)
    assert (tally.issued, tally.collected, tally.valid, tally.invalid) == (30, 30, 30, 0)
    assert (tally.basis, tally.denominator) == ("members", 32)
    assert tally.levels == ("high", "confidence", "low")
    person_a, person_b = tally.items
    assert person_a.counts == {"high": 20, "confidence": 8, "low": 1, "invalid": 1}
    assert [percent_text(person_a.share(level, 32)) for level in tally.levels] == [
        "62.50",
        "25.00",
        "3.13",
    ]
    assert person_b.counts == {"high": 5, "confidence": 8, "low": 17, "invalid": 0}
    assert percent_text(person_b.share("low", tally.denominator)) == "53.13"
    assert (person_a.name, person_b.name) == ("Người A", "Người B")
    assert [item.order for item in tally.items] == [1, 2]


def test_collected_is_the_denominator_under_tn_16kh(session: Session) -> None:
    round_ = paper_round(
        session,
        profile="tn-16kh-2012",
        items=["Người A"],
        members=60,
        ballots=["valid,L", "valid,L", "valid,H", "invalid,L"],
        issued=5,
    )
    tally = tally_round(session, round_)
    assert (tally.basis, tally.denominator) == ("collected", 4)
    assert (tally.issued, tally.collected, tally.valid, tally.invalid) == (5, 4, 3, 1)
    assert percent_text(tally.items[0].share("low", tally.denominator)) == "50.00"


@pytest.mark.parametrize(
    ("basis", "expected"),
    [("members", 40), ("summoned", 36), ("present", 30), ("collected", 5), ("valid", 3)],
)
def test_every_denominator_basis_takes_its_own_figure(
    session: Session, basis: str, expected: int
) -> None:
    profiles.add_profile(
        session,
        f'''
id = "test-{basis}"
version = 1
name = "Quy định thử với mẫu số {basis}"
denominator = "{basis}"
invalid_marks = "ballot"

[[bands]]
id = "over_half"
consequence.vi = "Quá nửa"
consequence.en = "Over half"

[confidence_vote]
consequence.vi = "Không tín nhiệm"
consequence.en = "No confidence"
''',
    )
    round_ = paper_round(
        session,
        profile=f"test-{basis}",
        items=["Người A"],
        members=40,
        summoned=36,
        present=30,
        ballots=["valid,L", "valid,L", "valid,C", "valid,X", "invalid,L"],
    )
    tally = tally_round(session, round_)
    assert (tally.basis, tally.denominator) == (basis, expected)
    assert (tally.valid, tally.invalid) == (3, 2)
    assert tally.items[0].counts == {"high": 0, "confidence": 1, "low": 2, "invalid": 0}


def test_an_unknown_members_count_gives_no_percentage(session: Session) -> None:
    round_ = paper_round(
        session, profile="nq35-2012", items=["Người A"], members=None, ballots=["valid,L"]
    )
    tally = tally_round(session, round_)
    assert tally.denominator is None
    assert tally.items[0].share("low", tally.denominator) is None


def test_online_and_paper_ballots_are_counted_together(session: Session) -> None:
    body = rounds.add_body(session, "HDND-M", "HĐND M", "council")
    round_ = rounds.create_round(
        session,
        body,
        year=2014,
        profile_id="nq35-2012",
        title="Lấy phiếu",
        members=10,
        roster=[RosterEntry(line=2, name="Người A", position="Chủ tịch")],
    )
    add_committee(session, round_.id)
    codes = rounds.issue_round_codes(session, round_, 3, SECRET)
    rounds.open_round(session, round_)
    voting.import_paper_ballots(session, round_, b"status,1\nvalid,L\nvalid,\n", issued=2)
    session.commit()
    for code, mark in zip(codes, ["L", "H"], strict=False):
        voting.cast_ballot(session, SECRET, code, [mark], round_id=round_.id)
    round_ = rounds.get_round(session, round_.id)
    rounds.close_round(session, round_)
    decrypt_round(session, round_.id)
    session.commit()
    tally = tally_round(session, round_)
    # Issued: 2 paper + 3 codes; collected: 2 paper + 2 online (one code never used).
    assert (tally.issued, tally.collected, tally.valid, tally.invalid) == (5, 4, 4, 0)
    assert tally.items[0].counts == {"high": 1, "confidence": 0, "low": 2, "invalid": 1}
    assert percent_text(tally.items[0].share("low", tally.denominator)) == "20.00"


def test_a_vote_of_confidence_round_counts_trust(session: Session) -> None:
    round_ = paper_round(
        session,
        profile="nq35-2012",
        items=["Người A", "Người B"],
        members=10,
        ballots=["valid,T,K", "valid,K,K", "valid,,T", "invalid,K,K"],
        scale=Scale.CONFIDENCE_VOTE.value,
    )
    tally = tally_round(session, round_)
    assert tally.levels == ("trust", "no_trust")
    assert [item.counts for item in tally.items] == [
        {"trust": 1, "no_trust": 1, "invalid": 1},
        {"trust": 1, "no_trust": 2, "invalid": 0},
    ]


def test_a_box_with_more_ballots_than_issued_is_refused(session: Session) -> None:
    """Counts that cannot be true (a ballot slipped into the box) stop the count."""
    body = rounds.add_body(session, "HDND-Z", "HĐND Z", "council")
    round_ = rounds.create_round(
        session,
        body,
        year=2014,
        profile_id="nq35-2012",
        title="Lấy phiếu",
        members=10,
        roster=[RosterEntry(line=2, name="Người A", position="Chủ tịch")],
    )
    rounds.open_round(session, round_)
    voting.import_paper_ballots(session, round_, b"status,1\nvalid,L\n", issued=1)
    session.execute(
        insert(Ballot).values(round_id=round_.id, id=b"\x01" * 16, status="valid", marks="L")
    )
    session.flush()
    with pytest.raises(CountError):
        tally_round(session, round_)


def test_a_ballot_with_only_the_collective_is_counted(session: Session) -> None:
    body = rounds.add_body(session, "TU-Q", "Tỉnh ủy Q")
    round_ = rounds.create_round(
        session,
        body,
        year=2025,
        profile_id="tn-16kh-2012",
        title="Lấy phiếu",
        members=5,
        roster=[RosterEntry(line=2, name="Tập thể Ban Thường vụ", position="", kind="collective")],
    )
    rounds.open_round(session, round_)
    voting.import_paper_ballots(session, round_, b"status,1\nvalid,L\nvalid,H\n", issued=2)
    rounds.close_round(session, round_)
    decrypt_round(session, round_.id)
    tally = tally_round(session, round_)
    assert [(item.kind, item.person_key, item.counts) for item in tally.items] == [
        ("collective", None, {"high": 1, "confidence": 0, "low": 1, "invalid": 0})
    ]


# ---------------------------------------------------------------------------- the database's count


def stored_box(session: Session, items: int, profile: str, ballots: list[tuple[str, str]]) -> Round:
    """An open round of `items` persons holding exactly `ballots`, inserted as stored rows."""
    round_ = open_round_of(session, items, profile)
    store_box(session, round_, ballots)
    round_.issued = len(ballots)
    session.flush()
    return round_


SCOPES = {"tn-16kh-2012": "row", "qd262-2014": "ballot"}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(min_value=1, max_value=6).flatmap(
        lambda items: st.tuples(
            st.just(items),
            st.lists(
                st.tuples(
                    st.sampled_from(["valid", "valid", "valid", "invalid"]),
                    st.text(alphabet="HCL-X", min_size=items, max_size=items),
                ),
                max_size=40,
            ),
        )
    ),
    st.sampled_from(sorted(SCOPES)),
)
def test_the_database_count_agrees_with_the_oracle(
    session: Session, case: tuple[int, list[tuple[str, str]]], profile: str
) -> None:
    """tally_round (marks joined by the database, str.count per column) = ballot by ballot."""
    items, ballots = case
    round_ = stored_box(session, items, profile, ballots)
    try:
        tally = tally_round(session, round_)
        expected_invalid, expected = oracle_count(ballots, items, SCOPES[profile], "HCL")
        assert (tally.collected, tally.invalid) == (len(ballots), expected_invalid)
        assert tally.valid == len(ballots) - expected_invalid
        for item, want in zip(tally.items, expected, strict=True):
            assert item.counts == {
                "high": want["H"],
                "confidence": want["C"],
                "low": want["L"],
                "invalid": want["invalid"],
            }
    finally:
        session.rollback()


@pytest.mark.parametrize("marks", ["HC", "HCLH", ""])
def test_a_stored_ballot_of_the_wrong_length_is_refused_by_the_tally(
    session: Session, marks: str
) -> None:
    round_ = stored_box(session, 3, "tn-16kh-2012", [("valid", "HCL"), ("invalid", marks)])
    with pytest.raises(CountError, match="marks where the ballot has 3 items"):
        tally_round(session, round_)


def test_a_box_of_one_thousand_ballots_counts_as_by_hand(session: Session) -> None:
    """A larger box with a known answer: 1 000 ballots in 4 patterns, counted by hand."""
    patterns = {("valid", "HCX"): 400, ("valid", "LL-"): 300, ("invalid", "HHH"): 200}
    patterns[("valid", "CCC")] = 100
    ballots = [ballot for ballot, times in patterns.items() for _ in range(times)]
    round_ = stored_box(session, 3, "tn-16kh-2012", ballots)
    tally = tally_round(session, round_)
    assert (tally.collected, tally.valid, tally.invalid) == (1000, 800, 200)
    assert [item.counts for item in tally.items] == [
        {"high": 400, "confidence": 100, "low": 300, "invalid": 0},
        {"high": 0, "confidence": 500, "low": 300, "invalid": 0},
        {"high": 0, "confidence": 100, "low": 0, "invalid": 700},
    ]
    ballot_scope = stored_box(session, 3, "qd262-2014", ballots)
    tally = tally_round(session, ballot_scope)
    assert (tally.collected, tally.valid, tally.invalid) == (1000, 100, 900)
    assert [item.counts for item in tally.items] == [
        {"high": 0, "confidence": 100, "low": 0, "invalid": 0},
    ] * 3


def two_group_box(
    session: Session, items: int, profile: str, ballots: list[tuple[int, str, str]]
) -> Round:
    """An open round of two voter groups holding exactly `ballots` (group, status, marks)."""
    round_ = draft_round_of(session, items, profile, members=50)
    groups.add_group(session, round_, "Trưởng các phòng, ban", members=50)
    rounds.open_round(session, round_)
    session.execute(delete(Ballot).where(Ballot.round_id == round_.id))
    if ballots:
        session.execute(
            insert(Ballot),
            [
                {
                    "round_id": round_.id,
                    "id": os.urandom(16),
                    "group_number": number,
                    "status": status,
                    "marks": marks,
                }
                for number, status, marks in ballots
            ],
        )
    for group in round_.groups:
        group.issued = sum(1 for number, _s, _m in ballots if number == group.number)
    round_.issued = len(ballots)
    session.flush()
    return round_


def as_counts(want: Counter[str]) -> dict[str, int]:
    return {
        "high": want["H"],
        "confidence": want["C"],
        "low": want["L"],
        "invalid": want["invalid"],
    }


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.integers(min_value=1, max_value=4).flatmap(
        lambda items: st.tuples(
            st.just(items),
            st.lists(
                st.tuples(
                    st.sampled_from([1, 2]),
                    st.sampled_from(["valid", "valid", "valid", "invalid"]),
                    st.text(alphabet="HCL-X", min_size=items, max_size=items),
                ),
                max_size=30,
            ),
        )
    ),
    st.sampled_from(sorted(SCOPES)),
)
def test_each_group_counts_its_own_ballots_only(
    session: Session, case: tuple[int, list[tuple[int, str, str]]], profile: str
) -> None:
    """The database's join per group: a group's result counts its ballots, and no other's."""
    items, ballots = case
    # Ballots of another round of two groups, which no count of this round may take in.
    two_group_box(session, items, profile, [(n, "valid", "H" * items) for n in (1, 2, 2)])
    round_ = two_group_box(session, items, profile, ballots)
    try:
        grouped = tally_groups(session, round_)
        for group, tally in grouped.groups:
            mine = [(status, marks) for number, status, marks in ballots if number == group.number]
            invalid, expected = oracle_count(mine, items, SCOPES[profile], "HCL")
            assert (tally.group, tally.collected, tally.invalid) == (
                group.number,
                len(mine),
                invalid,
            )
            assert [item.counts for item in tally.items] == [as_counts(c) for c in expected]
        everything = [(status, marks) for _number, status, marks in ballots]
        invalid, expected = oracle_count(everything, items, SCOPES[profile], "HCL")
        combined = grouped.combined
        assert (combined.collected, combined.invalid) == (len(ballots), invalid)
        assert [item.counts for item in combined.items] == [as_counts(c) for c in expected]
    finally:
        session.rollback()


def test_a_group_ballot_of_the_wrong_length_is_refused_by_the_tally(session: Session) -> None:
    """A stored ballot too short in group 2 is refused, not counted with group 1's lengths."""
    round_ = two_group_box(session, 3, "tn-16kh-2012", [(1, "valid", "HCL"), (2, "valid", "HC")])
    with pytest.raises(CountError, match="marks where the ballot has 3 items"):
        tally_groups(session, round_)
