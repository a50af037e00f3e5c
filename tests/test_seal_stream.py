"""The seal's two large parts are hashed as the database hands them over, sorted (issue 18).

The expected digests are computed here, independently: the test writes the CSV lines and the
receipts itself, sorts them with Python and hashes the bytes — the definition of ballots.csv
and receipts.txt in docs/AUDIT.md — and the whole seal must equal the one computed the old way
(every line in memory, votes.recount.seal_parts).
"""

from __future__ import annotations

import hashlib
import random

import pytest
from sqlalchemy.orm import Session

from tests.factories import open_round_of, store_box
from votes import seal
from votes.recount import round_seal, seal_parts


def expected_ballots_sha256(items: int, ballots: list[tuple[str, str]]) -> str:
    """ballots.csv written by hand: header, then one line a ballot, "-" as an empty cell."""
    header = "status," + ",".join(str(n) for n in range(1, items + 1))
    lines = sorted(
        status + "," + ",".join("" if mark == "-" else mark for mark in marks)
        for status, marks in ballots
    )
    text = "".join(line + "\n" for line in [header, *lines])
    return hashlib.sha256(text.encode()).hexdigest()


def expected_receipts_sha256(receipts: list[str]) -> str:
    return hashlib.sha256("".join(r + "\n" for r in sorted(receipts)).encode()).hexdigest()


def random_box(rng: random.Random, items: int, size: int) -> list[tuple[str, str]]:
    letters = "HCL-X"
    return [
        (rng.choice(["valid", "valid", "invalid"]), "".join(rng.choices(letters, k=items)))
        for _ in range(size)
    ]


CASES = [
    # Empty cells against letters at every place, both statuses, repeated ballots.
    (
        3,
        [
            ("valid", "H-L"),
            ("valid", "HCL"),
            ("invalid", "---"),
            ("valid", "-XX"),
            ("valid", "H-L"),
            ("invalid", "HCL"),
            ("valid", "X--"),
            ("valid", "--H"),
        ],
    ),
    (1, [("valid", "-"), ("valid", "H"), ("valid", "C"), ("invalid", "X")]),
    (4, []),
]


@pytest.mark.parametrize(("items", "ballots"), CASES)
def test_the_streamed_digests_are_those_of_the_files(
    session: Session, items: int, ballots: list[tuple[str, str]]
) -> None:
    round_ = open_round_of(session, items)
    receipts = ["KMNP-QRTW-XY34", "ACDE-FGHJ-KMNP", "ACDE-FGHJ-KMNA"] if ballots else []
    store_box(session, round_, ballots, receipts)
    assert seal.ballots_digest(session, round_) == expected_ballots_sha256(items, ballots)
    assert seal.receipts_digest(session, round_) == expected_receipts_sha256(receipts)


def test_a_large_box_streams_to_the_seal_of_the_old_computation(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several batches (a small batch size), and the whole seal as computed in memory."""
    monkeypatch.setattr(seal, "BATCH", 97)
    rng = random.Random(18)
    round_ = open_round_of(session, 6)
    ballots = random_box(rng, 6, 1500)
    receipts = ["".join(rng.choices("ACDEFGHJKMNPQRTWXY34679", k=12)) for _ in range(700)]
    store_box(session, round_, ballots, receipts)
    assert seal.ballots_digest(session, round_) == expected_ballots_sha256(6, ballots)
    assert seal.receipts_digest(session, round_) == expected_receipts_sha256(receipts)
    old_parts = seal_parts(
        seal.round_definition(session, round_),
        seal.receipts_file(session, round_),
        seal.ballots_file(session, round_),
    )
    streamed, parts = seal.current_seal(session, round_)
    assert parts == old_parts
    assert streamed == round_seal(old_parts)


def test_a_mark_out_of_the_usual_order_falls_back_to_sorting_in_memory(session: Session) -> None:
    """'!' sorts below '-' in the marks, but as the last cell "valid,H,!" sorts above the
    empty cell "valid,H,": the database's order is then not the CSV's, and the digest must
    still be the CSV's."""
    round_ = open_round_of(session, 2)
    ballots = [("valid", "H!"), ("valid", "H-"), ("valid", "HH")]
    store_box(session, round_, ballots, [])
    assert seal.ballots_digest(session, round_) == expected_ballots_sha256(2, ballots)
