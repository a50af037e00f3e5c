"""Sealed totals and the checks that make them sound (docs/CRYPTO.md §9).

The encrypted totals keep every option of a row but the last, whose total is the number of
ballots minus the others: sound only for ballots whose every proof holds. The close adds up
the ballots as the server sealed them (decoding each); a ballot changed in the database so
that its tracker still matches (the tracker recomputed) is caught by its proofs in
`votes verify`, before and after the close.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.factories import work
from tests.test_sealed import SECRET, sealed_round
from votes import operations, sealed, sealing
from votes.committee import get_key
from votes.models import SealedBallot
from votes.sealing import SealingError
from votes.verify import verify_round
from votes.voting import cast_ballot


def _move_last_option(content: bytes) -> bytes:
    """Add G to the last option of the first row: that option now encrypts 1 more."""
    ballot = sealed.SealedBallot.from_bytes(content)
    row = ballot.rows[0]
    last = row.ciphertexts[-1]
    moved = dataclasses.replace(last, beta=sealed.group.add(last.beta, sealed.group.GENERATOR))
    rows = (dataclasses.replace(row, ciphertexts=(*row.ciphertexts[:-1], moved)), *ballot.rows[1:])
    return sealed.SealedBallot(rows).to_bytes()


def test_a_ballot_whose_last_option_was_changed_is_caught_by_verify(session: Session) -> None:
    round_, codes = sealed_round(session, codes=3)
    operations.open_round(work(session), round_.id)
    session.commit()
    for code, marks in zip(codes, (["H", "C", "L"], ["L", "L", "L"], ["C", "H", "H"]), strict=True):
        cast_ballot(session, SECRET, code, marks)
    tracker, content = session.execute(select(SealedBallot.tracker, SealedBallot.content)).first()  # type: ignore[misc]
    changed = _move_last_option(content)
    # The tracker is recomputed, so only the ballot's own proofs can tell.
    session.execute(
        update(SealedBallot)
        .where(SealedBallot.tracker == tracker)
        .values(tracker=sealed.tracker(changed), content=changed)
    )
    session.commit()
    report = verify_round(session, round_)
    assert not report.ok
    assert any("do not check" in str(problem) for problem in report.problems)
    # The close adds the box up as it is (it does not check proofs again) ...
    operations.close_round(work(session), round_.id)
    session.commit()
    key = get_key(session, round_.id)
    assert key is not None
    assert key.encrypted_totals is not None
    # ... and the changed ballot is still reported, now against the stored totals too.
    session.expire_all()
    report = verify_round(session, round_)
    assert not report.ok
    assert any("do not check" in str(problem) for problem in report.problems)


def test_a_ballot_that_does_not_decode_stops_the_close(session: Session) -> None:
    round_, codes = sealed_round(session, codes=2)
    operations.open_round(work(session), round_.id)
    session.commit()
    cast_ballot(session, SECRET, codes[0], ["H", "C", "L"])
    tracker, content = session.execute(select(SealedBallot.tracker, SealedBallot.content)).first()  # type: ignore[misc]
    broken = content[:-1] + bytes([content[-1] ^ 0xFF])
    session.execute(
        update(SealedBallot)
        .where(SealedBallot.tracker == tracker)
        .values(tracker=sealed.tracker(broken), content=broken)
    )
    session.commit()
    with pytest.raises(SealingError):
        operations.close_round(work(session), round_.id)
    session.rollback()
    key = get_key(session, round_.id)
    assert key is not None
    assert key.encrypted_totals is None


def test_the_encrypted_totals_keep_every_option_but_the_last(session: Session) -> None:
    round_, codes = sealed_round(session, codes=2)
    operations.open_round(work(session), round_.id)
    session.commit()
    cast_ballot(session, SECRET, codes[0], ["H", "C", "L"])
    cast_ballot(session, SECRET, codes[1], ["L", "L", "L"])
    operations.close_round(work(session), round_.id)
    session.commit()
    key = get_key(session, round_.id)
    assert key is not None
    assert key.encrypted_totals is not None
    totals = json.loads(key.encrypted_totals)
    (group,) = totals.values()
    assert group["count"] == 2
    assert [len(row) for row in group["rows"]] == [2, 2, 2]  # 3 levels: the last is implied


def test_encrypted_totals_of_the_old_shape_are_refused_not_decrypted() -> None:
    # Format 1 kept all m options a row; read as this format, the last option would be
    # decrypted and a further one derived from the count. Such totals are refused.
    committee, member = sealed.single_member(sealed.ceremony_context("test", "old", 1, 1))
    parameters = sealing.parameters(7, ["Nguyễn Văn An", "Trần Thị Bình"], 3)
    ballot = sealed.seal_ballot(committee.public_key, parameters.context, [0, 2], (3, 3))
    old = {
        "count": 1,
        "rows": [[c.to_list() for c in row.ciphertexts] for row in ballot.rows],
    }
    with pytest.raises(SealingError, match="rows of \\[3, 3\\] ciphertexts"):
        sealing.combine(committee, parameters, old, [])
    tally = sealed.aggregate(committee.public_key, parameters.context, [ballot], (3, 3))
    partial = sealed.partial_decrypt(member, committee, parameters.context, tally).to_dict()
    with pytest.raises(SealingError, match="this round's need \\[2, 2\\]"):
        sealing.check_partial(committee, parameters, old, 1, partial)
    assert sealing.combine(committee, parameters, tally.to_dict(), [partial]) == [
        [1, 0, 0],
        [0, 0, 1],
    ]
