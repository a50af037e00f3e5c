"""Casting an online ballot: what is refused, what is accepted; a refusal changes nothing."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tests.factories import add_committee, opened_ballots
from votes import credentials, rounds
from votes.ballotbox import receipts
from votes.models import Ballot, Credential, Round, Scale
from votes.roster import RosterEntry
from votes.voting import CastRefused, cast_ballot

SECRET = "test-secret-key-0123456789abcdef"  # the key the `app` fixture is configured with
# A sealed ballot's receipt: BN and 16 digits of its tracker (never a code: votes/credentials.py).
RECEIPT = re.compile(r"^BN( [0-9]{4}){4}$")


def make_round(
    session: Session,
    *,
    items: int = 3,
    codes: int = 4,
    state: str = "open",
    scale: str = Scale.POLL.value,
    body: str = "HDND-T",
) -> tuple[Round, list[str]]:
    """Create a round of `items` persons with `codes` voter codes, brought to `state`; commit."""
    owner = rounds.add_body(session, body, f"Hội đồng nhân dân {body}", "council")
    roster = [
        RosterEntry(line=n + 2, name=f"Nguyễn Văn {chr(65 + n)}", position="Ủy viên")
        for n in range(items)
    ]
    round_ = rounds.create_round(
        session,
        owner,
        year=2014,
        profile_id="nq35-2012",
        title="Lấy phiếu tín nhiệm",
        roster=roster,
        members=40,
        scale=scale,
    )
    add_committee(session, round_.id)
    issued = rounds.issue_round_codes(session, round_, codes, SECRET)
    if state in ("open", "closed"):
        rounds.open_round(session, round_)
    if state == "closed":
        rounds.close_round(session, round_)
    session.commit()
    return round_, issued


def box(session: Session, round_id: int) -> dict[str, object]:
    """Return what a round's ballot box holds: ballots (marks), receipts, codes used.

    The ballots are sealed: the test opens each with its committee's key (opened_ballots);
    nothing readable is stored, which the assertion on the plain ballot table says.
    """
    session.rollback()
    assert not session.scalar(select(func.count()).where(Ballot.round_id == round_id))
    state = {
        "ballots": opened_ballots(session, round_id),
        "receipts": receipts(session, round_id),
        "used": session.scalar(
            select(func.count()).where(Credential.round_id == round_id, Credential.used)
        ),
    }
    session.rollback()
    return state


EMPTY = {"ballots": [], "receipts": [], "used": 0}


def refusal(session: Session, code: str, marks: object, round_id: int | None) -> str:
    """Cast, expect a refusal, and return its reason."""
    with pytest.raises(CastRefused) as refused:
        cast_ballot(session, SECRET, code, marks, round_id=round_id)  # type: ignore[arg-type]
    assert str(refused.value)  # every refusal carries a message
    return refused.value.reason


# ---------------------------------------------------------------------------- accepted


def test_a_ballot_is_stored_with_its_marks_and_a_receipt(session: Session) -> None:
    round_, codes = make_round(session)
    receipt = cast_ballot(session, SECRET, codes[0], ["H", "C", "L"], round_id=round_.id)
    assert RECEIPT.match(receipt)
    assert box(session, round_.id) == {"ballots": ["HCL"], "receipts": [receipt], "used": 1}


def test_a_cast_on_postgresql_reads_without_a_transaction_and_writes_in_one(
    session: Session,
) -> None:
    """The cast's look-up before sealing is one SELECT (no BEGIN and ROLLBACK round trips);
    the claim and the sealed ballot are written in one transaction."""
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no round trips to save")
    round_, codes = make_round(session)
    seen: list[tuple[str, bool]] = []

    def note(conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append((statement.split()[0].upper(), conn.connection.dbapi_connection.autocommit))

    event.listen(engine, "before_cursor_execute", note)
    try:
        receipt = cast_ballot(session, SECRET, codes[0], ["H", "C", "L"], round_id=round_.id)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert RECEIPT.match(receipt)
    assert seen == [("SELECT", True), ("UPDATE", False), ("INSERT", False)]
    assert box(session, round_.id)["ballots"] == ["HCL"]


@pytest.mark.parametrize(
    "marks",
    [
        ["h", "c", "l"],
        [" H ", "C", "l "],
        ["high", "confidence", "low"],
        ["HIGH", "Confidence", "LOW"],
        {1: "H", 2: "C", 3: "L"},
        {"3": "L", "1": "high", "2": "c"},
        ("H", "C", "L"),
    ],
)
def test_levels_are_accepted_in_every_documented_spelling(
    session: Session, marks: Sequence[str]
) -> None:
    round_, codes = make_round(session)
    cast_ballot(session, SECRET, codes[0], marks, round_id=round_.id)
    assert box(session, round_.id)["ballots"] == ["HCL"]


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: code.replace("-", ""),
        lambda code: code.replace("-", " "),
        lambda code: "  " + code.replace("-", "").lower() + "\n",
        lambda code: " ".join(code.replace("-", "")),
        lambda code: code.replace("-", "\u2013"),  # an en dash, as word processors write it
    ],
    ids=["lower", "no-dashes", "spaces", "padded-lower", "spaced-letters", "en-dash"],
)
def test_codes_are_case_insensitive_and_ignore_dashes_and_spaces(session: Session, typed) -> None:
    round_, codes = make_round(session)
    receipt = cast_ballot(session, SECRET, typed(codes[1]), ["L", "L", "H"], round_id=round_.id)
    assert box(session, round_.id) == {"ballots": ["LLH"], "receipts": [receipt], "used": 1}


def test_round_id_may_be_left_out(session: Session) -> None:
    round_, codes = make_round(session)
    cast_ballot(session, SECRET, codes[0], "CCC", round_id=None)
    assert box(session, round_.id)["ballots"] == ["CCC"]


def test_a_vote_of_confidence_takes_trust_and_no_trust(session: Session) -> None:
    round_, codes = make_round(session, items=2, scale=Scale.CONFIDENCE_VOTE.value)
    cast_ballot(session, SECRET, codes[0], ["T", "K"], round_id=round_.id)
    cast_ballot(session, SECRET, codes[1], ["no_trust", "trust"], round_id=round_.id)
    assert box(session, round_.id)["ballots"] == ["KT", "TK"]
    assert refusal(session, codes[2], ["H", "L"], round_.id) == "marks"
    assert refusal(session, codes[2], ["high", "low"], round_.id) == "marks"


def test_every_code_casts_once_and_each_gets_its_own_receipt(session: Session) -> None:
    round_, codes = make_round(session, codes=6)
    receipts = [cast_ballot(session, SECRET, code, "HHH", round_id=round_.id) for code in codes]
    assert len(set(receipts)) == 6  # identical ballots, different receipts
    assert box(session, round_.id) == {
        "ballots": ["HHH"] * 6,
        "receipts": sorted(receipts),
        "used": 6,
    }


# ---------------------------------------------------------------------------- refused codes


@pytest.mark.parametrize(
    "code",
    [
        "",
        "   ",
        "ACDE-FGHJ-KMN",  # 11 characters
        "ACDE-FGHJ-KMNPQ",  # 13 characters
        "ACDE-FGHJ-KMN0",  # 0 is not in the alphabet
        "ACDE-FGHJ-KMNO",  # nor O
        "ACDE-FGHJ-KMN1",  # nor 1
        "ACDE-FGHJ-KMNB",  # nor B
        "ACDE-FGHJ-KMNÁ",
        "ACDE/FGHJ/KMNP",
        "ACDE-FGHJ-KMNP; DROP TABLE ballot",
    ],
)
def test_malformed_codes_are_refused(session: Session, code: str) -> None:
    round_, _codes = make_round(session)
    assert refusal(session, code, ["H", "C", "L"], round_.id) == "malformed"
    assert box(session, round_.id) == EMPTY


def test_an_unknown_code_is_refused(session: Session) -> None:
    round_, codes = make_round(session)
    stranger = credentials.new_code()
    assert stranger not in codes
    assert refusal(session, stranger, ["H", "C", "L"], round_.id) == "unknown"
    assert box(session, round_.id) == EMPTY


def test_a_code_is_unknown_under_another_secret(session: Session) -> None:
    round_, codes = make_round(session)
    with pytest.raises(CastRefused) as refused:
        cast_ballot(session, "another-secret-0123456789", codes[0], "HCL", round_id=round_.id)
    assert refused.value.reason == "unknown"
    assert box(session, round_.id) == EMPTY


def test_a_code_of_another_round_is_unknown_here_and_stays_usable_there(session: Session) -> None:
    first, first_codes = make_round(session, body="HDND-1")
    second, _ = make_round(session, body="HDND-2")
    assert refusal(session, first_codes[0], ["H", "C", "L"], second.id) == "unknown"
    assert box(session, second.id) == EMPTY
    assert box(session, first.id) == EMPTY
    cast_ballot(session, SECRET, first_codes[0], ["H", "C", "L"], round_id=first.id)
    assert box(session, first.id)["used"] == 1


def test_marks_are_checked_against_the_codes_own_round(session: Session) -> None:
    # Two open rounds of different sizes (and scales): each ballot is checked against the
    # items and levels of its code's round, never of another round or of every round.
    small, small_codes = make_round(session, items=2, body="HDND-S")
    large, large_codes = make_round(
        session, items=5, body="HDND-L", scale=Scale.CONFIDENCE_VOTE.value
    )
    assert refusal(session, small_codes[0], ["H", "C", "L"], None) == "marks"
    assert refusal(session, small_codes[0], ["T", "K"], None) == "marks"
    assert refusal(session, large_codes[0], ["T", "K"], None) == "marks"
    cast_ballot(session, SECRET, small_codes[0], ["H", "L"])
    cast_ballot(session, SECRET, large_codes[0], ["T", "K", "T", "K", "T"])
    assert box(session, small.id)["ballots"] == ["HL"]
    assert box(session, large.id)["ballots"] == ["TKTKT"]


def test_a_used_code_is_refused(session: Session) -> None:
    round_, codes = make_round(session)
    receipt = cast_ballot(session, SECRET, codes[0], ["H", "C", "L"], round_id=round_.id)
    assert refusal(session, codes[0], ["L", "L", "L"], round_.id) == "used"
    assert refusal(session, codes[0].lower(), ["H", "C", "L"], round_.id) == "used"
    assert box(session, round_.id) == {"ballots": ["HCL"], "receipts": [receipt], "used": 1}


@pytest.mark.parametrize("state", ["draft", "closed"])
def test_a_round_that_is_not_open_refuses_ballots(session: Session, state: str) -> None:
    round_, codes = make_round(session, state=state)
    assert refusal(session, codes[0], ["H", "C", "L"], round_.id) == "not_open"
    assert box(session, round_.id) == EMPTY


def test_a_published_round_refuses_ballots(session: Session) -> None:
    round_, codes = make_round(session, state="closed")
    rounds.publish_round(session, session.get(Round, round_.id))  # type: ignore[arg-type]
    session.commit()
    assert refusal(session, codes[0], ["H", "C", "L"], round_.id) == "not_open"
    assert box(session, round_.id) == EMPTY


# ---------------------------------------------------------------------------- refused marks


@pytest.mark.parametrize(
    "marks",
    [
        [],
        ["H", "C"],  # one missing
        ["H", "C", "L", "H"],  # one extra
        ["H", "C", "Z"],  # not a level
        ["H", "C", ""],  # nothing chosen
        ["H", "C", "-"],  # paper-only: no box marked
        ["H", "C", "X"],  # paper-only: several boxes marked
        ["H", "C", "x"],
        ["H", "C", "T"],  # a level of the vote of confidence, not of a poll
        ["H", "C", "trust"],
        ["H", "C", "HC"],
        ["H", "C", "none"],
        "HC",
        "HCLH",
        {1: "H", 2: "C"},  # item 3 missing
        {1: "H", 2: "C", 3: "L", 4: "H"},  # item 4 does not exist
        {0: "H", 1: "C", 2: "L"},  # item 0 does not exist
        {"1": "H", "2": "C", "three": "L"},
        {1: "H", "1": "L", 2: "C", 3: "L"},  # two levels for item 1
        {1: "H", 2: "C", 3: "X"},
    ],
    ids=repr,
)
def test_exactly_one_level_for_every_item_is_required(session: Session, marks: object) -> None:
    round_, codes = make_round(session)
    assert refusal(session, codes[0], marks, round_.id) == "marks"
    # The code is still unused, and works for a correct ballot.
    assert box(session, round_.id) == EMPTY
    cast_ballot(session, SECRET, codes[0], ["H", "C", "L"], round_id=round_.id)
    assert box(session, round_.id)["ballots"] == ["HCL"]


def test_a_refused_ballot_leaves_the_code_unused_for_every_reason(session: Session) -> None:
    """A refusal of any kind stores no ballot, no receipt and does not spend the code."""
    round_, codes = make_round(session, codes=3)
    reasons = [
        refusal(session, codes[0], ["H", "C"], round_.id),
        refusal(session, codes[0][:-1], ["H", "C", "L"], round_.id),
        refusal(session, credentials.new_code(), ["H", "C", "L"], round_.id),
        refusal(session, codes[0], ["H", "C", "X"], round_.id),
    ]
    assert reasons == ["marks", "malformed", "unknown", "marks"]
    assert box(session, round_.id) == EMPTY
    used = session.scalar(select(func.count()).where(Credential.used))
    assert used == 0
    session.rollback()
    receipts = {cast_ballot(session, SECRET, code, "HCL", round_id=round_.id) for code in codes}
    assert box(session, round_.id) == {
        "ballots": ["HCL"] * 3,
        "receipts": sorted(receipts),
        "used": 3,
    }
