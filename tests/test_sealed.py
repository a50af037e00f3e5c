"""Sealed ballots in the application: the committee's key, casting, counting, verifying.

Online ballots are encrypted to the counting committee's key before anything is stored; the
round awaits decryption after voting ends and is counted once k members have decrypted the
totals; paper ballots are counted in the clear and added.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.factories import (
    add_committee,
    add_test_body,
    decrypt_round,
    paper_csv,
    person,
    work,
)
from votes import operations
from votes.errors import WrongState
from votes.meeting import Member
from votes.models import Ballot, Credential, Round, SealedBallot
from votes.results import round_results
from votes.verify import verify_round
from votes.voting import CastRefused, cast_ballot

SECRET = "test-secret-key-0123456789abcdef"
RECEIPT = re.compile(r"^BN( [0-9]{4}){4}$")


def sealed_round(
    session: Session, *, codes: int = 4, committee_: bool = True
) -> tuple[Round, list[str]]:
    """A council round of three persons with codes and (by default) a committee; open."""
    body = add_test_body(session, "HDND-S")
    task = work(session)
    round_ = operations.create_round(
        task,
        body_code=body.code,
        year=2014,
        profile_id="nq35-2012",
        title="Lấy phiếu tín nhiệm",
        roster=[person("Nguyễn Văn An"), person("Trần Thị Bình"), person("Lê Văn Cường")],
        members=10,
        summoned=10,
        present=10,
    )
    if committee_:
        add_committee(session, round_.id)
    issued = operations.issue_codes(task, round_.id, codes, SECRET)
    session.commit()
    return round_, issued


def test_a_round_with_codes_does_not_open_without_a_complete_key(session: Session) -> None:
    round_, _codes = sealed_round(session, committee_=False)
    with pytest.raises(WrongState, match="no counting committee key"):
        operations.open_round(work(session), round_.id)
    session.rollback()
    operations.create_committee(work(session), round_.id, 1, [Member("Nguyễn Văn Kiểm", "head")])
    with pytest.raises(WrongState, match="not made yet"):
        operations.open_round(work(session), round_.id)


def test_cast_seal_decrypt_count_with_paper_ballots(session: Session) -> None:
    round_, codes = sealed_round(session)
    operations.open_round(work(session), round_.id)
    session.commit()
    receipts = [
        cast_ballot(session, SECRET, codes[0], ["H", "C", "L"]),
        cast_ballot(session, SECRET, codes[1], ["L", "L", "L"]),
        cast_ballot(session, SECRET, codes[2], ["H", "H", "C"], round_id=round_.id),
    ]
    assert all(RECEIPT.match(r) for r in receipts)
    # Nothing readable is stored: no plaintext ballot, only ciphertexts with their trackers.
    assert session.scalar(select(func.count()).select_from(Ballot)) == 0
    assert session.scalar(select(func.count()).select_from(SealedBallot)) == 3
    operations.import_paper_ballots(work(session), round_.id, paper_csv(["HCL", "CC-"]), issued=2)
    session.commit()
    assert verify_round(session, round_).ok
    round_ = operations.close_round(work(session), round_.id)
    session.commit()
    assert round_.status == "decrypting"
    with pytest.raises(WrongState):
        round_results(session, round_)
    assert verify_round(session, round_).ok
    decrypt_round(session, round_.id)
    session.commit()
    assert round_.status == "closed"
    result = round_results(session, round_)
    counts = [item["counts"] for item in result["items"]]
    # Online: H,C,L / L,L,L / H,H,C; paper: H,C,L / C,C,-
    assert counts[0] == {"high": 3, "confidence": 1, "low": 1, "invalid": 0}
    assert counts[1] == {"high": 1, "confidence": 3, "low": 1, "invalid": 0}
    assert counts[2] == {"high": 0, "confidence": 1, "low": 3, "invalid": 1}
    assert result["ballots"]["collected"] == 5
    report = verify_round(session, round_)
    assert report.ok, report.problems
    # Every receipt is among the counted ballots.
    from votes.bundle import receipt_counted

    assert all(receipt_counted(session, round_, r) for r in receipts)
    assert not receipt_counted(session, round_, "BN 0000 0000 0000 0000")


def test_a_used_code_and_bad_marks_are_refused_before_anything_is_stored(session: Session) -> None:
    round_, codes = sealed_round(session)
    operations.open_round(work(session), round_.id)
    session.commit()
    cast_ballot(session, SECRET, codes[0], ["H", "C", "L"])
    with pytest.raises(CastRefused) as refused:
        cast_ballot(session, SECRET, codes[0], ["H", "C", "L"])
    assert refused.value.reason == "used"
    with pytest.raises(CastRefused) as refused:
        cast_ballot(session, SECRET, codes[1], ["H", "C"])
    assert refused.value.reason == "marks"
    assert session.scalar(select(func.count()).select_from(SealedBallot)) == 1
    assert (
        session.scalar(
            select(func.count()).where(Credential.used.is_(True), Credential.round_id == round_.id)
        )
        == 1
    )


def _open_with_ballots(session: Session) -> tuple[Round, list[str]]:
    round_, codes = sealed_round(session)
    operations.open_round(work(session), round_.id)
    session.commit()
    cast_ballot(session, SECRET, codes[0], ["H", "C", "L"])
    cast_ballot(session, SECRET, codes[1], ["L", "L", "L"])
    session.commit()
    assert verify_round(session, round_).ok
    return round_, codes


def test_open_box_tamper_a_changed_ballot_is_caught(session: Session) -> None:
    round_, _codes = _open_with_ballots(session)
    tracker, content = session.execute(select(SealedBallot.tracker, SealedBallot.content)).first()  # type: ignore[misc]
    changed = bytearray(content)
    changed[100] ^= 1
    session.execute(
        update(SealedBallot).where(SealedBallot.tracker == tracker).values(content=bytes(changed))
    )
    session.commit()
    assert not verify_round(session, round_).ok


def test_open_box_tamper_an_added_ballot_is_caught(session: Session) -> None:
    """A copy of a ballot added under another tracker: the count and the tracker both tell."""
    round_, _codes = _open_with_ballots(session)
    content = session.scalars(select(SealedBallot.content)).first()
    session.execute(
        SealedBallot.__table__.insert().values(
            round_id=round_.id, tracker=b"\x01" * 32, content=content
        )
    )
    session.commit()
    assert not verify_round(session, round_).ok


def test_open_box_tamper_a_removed_ballot_is_caught(session: Session) -> None:
    round_, _codes = _open_with_ballots(session)
    tracker = session.scalars(select(SealedBallot.tracker)).first()
    session.execute(SealedBallot.__table__.delete().where(SealedBallot.tracker == tracker))
    session.commit()
    assert not verify_round(session, round_).ok
    session.rollback()


def test_open_box_tamper_codes_marked_used_without_a_ballot_is_caught(session: Session) -> None:
    round_, _codes = _open_with_ballots(session)
    session.execute(
        update(Credential)
        .where(Credential.round_id == round_.id, Credential.used.is_(False))
        .values(used=True)
    )
    session.commit()
    assert not verify_round(session, round_).ok
