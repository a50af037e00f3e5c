"""Sealed ballots in the application: the committee's key, casting, counting, verifying.

Online ballots are encrypted to the counting committee's key before anything is stored; the
round awaits decryption after voting ends and is counted once k members have decrypted the
totals; paper ballots are counted in the clear and added.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

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
    issued = operations.issue_codes(task, round_.id, codes, SECRET) if codes else []
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


# ---------------------------------------------------------- the ceremony on the command line


def _ok(outcome) -> str:  # type: ignore[no-untyped-def]
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    return str(outcome.stdout)


def test_a_two_of_three_ceremony_and_decryption_with_one_member_absent(
    session: Session,
    votes,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """Three members make the key on their own machines (the `votes trustee` steps, key files
    locked by passphrases); voting; two of them decrypt, the third is absent; a wrong partial
    decryption is refused; the round is counted and verifies, its bundle too."""
    round_, _ = sealed_round(session, codes=0, committee_=False)
    round_id = round_.id
    session.commit()
    _ok(
        votes(
            "committee",
            "create",
            round_id,
            "--threshold",
            2,
            "--members",
            "Hà Thị Mai (Trưởng ban); Vương Đình Khoa; Triệu Thị Hồng",
        )
    )
    file = tmp_path / "committee.json"
    passphrases = {1: "mật khẩu của chị Mai", 2: "mật khẩu của anh Khoa", 3: "mật khẩu chị Hồng"}
    keys = {n: tmp_path / f"member-{n}.key" for n in passphrases}

    def trustee(step: str, n: int, *args: object) -> None:
        _ok(votes("trustee", step, *args, stdin=passphrases[n] + "\n"))

    _ok(votes("committee", "file", round_id, "--out", file))
    for n in passphrases:
        trustee(
            "new",
            n,
            "--committee",
            file,
            "--member",
            n,
            "--key",
            keys[n],
            "--out",
            tmp_path / f"public-{n}.json",
            "--strength",
            "interactive",
        )
    # A key file is never overwritten.
    again = votes(
        "trustee",
        "new",
        "--committee",
        file,
        "--member",
        1,
        "--key",
        keys[1],
        "--out",
        tmp_path / "x.json",
        stdin="whatever passphrase\n",
    )
    assert again.exit_code != 0
    _ok(
        votes(
            "committee", "receive", round_id, *(tmp_path / f"public-{n}.json" for n in passphrases)
        )
    )
    _ok(votes("committee", "file", round_id, "--out", file))
    for n in passphrases:
        trustee(
            "shares",
            n,
            "--committee",
            file,
            "--key",
            keys[n],
            "--out",
            tmp_path / f"shares-{n}.json",
        )
    _ok(
        votes(
            "committee", "receive", round_id, *(tmp_path / f"shares-{n}.json" for n in passphrases)
        )
    )
    _ok(votes("committee", "file", round_id, "--out", file))
    # A wrong passphrase opens nothing and writes nothing.
    wrong = votes(
        "trustee",
        "check",
        "--committee",
        file,
        "--key",
        keys[1],
        "--out",
        tmp_path / "check-1.json",
        stdin="not the passphrase\n",
    )
    assert wrong.exit_code != 0
    assert not (tmp_path / "check-1.json").exists()
    for n in passphrases:
        trustee(
            "check",
            n,
            "--committee",
            file,
            "--key",
            keys[n],
            "--out",
            tmp_path / f"check-{n}.json",
            "--strength",
            "interactive",
        )
    out = _ok(
        votes(
            "committee", "receive", round_id, *(tmp_path / f"check-{n}.json" for n in passphrases)
        )
    )
    assert "có thể mở" in out or "can open" in out
    shown = _ok(votes("committee", "show", round_id))
    assert "2" in shown
    assert "3" in shown

    codes = _ok(votes("codes", "issue", round_id, "--count", 3)).split()
    _ok(votes("round", "open", round_id))
    marks = ["H,C,L", "L,L,L", "H,H,C"]
    receipts = [
        _ok(votes("cast", round_id, "--code", c, "--marks", m)).strip()
        for c, m in zip(codes, marks, strict=True)
    ]
    assert all(RECEIPT.match(r) for r in receipts)
    box = _ok(votes("box", round_id, "--list"))
    assert "3" in box
    _ok(votes("round", "close", round_id))
    refused = votes("results", round_id)
    assert refused.exit_code != 0
    totals = tmp_path / "totals.json"
    _ok(votes("committee", "totals", round_id, "--out", totals))
    trustee(
        "decrypt", 1, "--totals", totals, "--key", keys[1], "--out", tmp_path / "partial-1.json"
    )
    trustee(
        "decrypt", 3, "--totals", totals, "--key", keys[3], "--out", tmp_path / "partial-3.json"
    )
    # Member 3's decryption sent as member 1's second one: refused, nothing changes.
    forged = json.loads((tmp_path / "partial-3.json").read_text())
    forged["member"] = 2
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    assert votes("committee", "receive", round_id, tmp_path / "forged.json").exit_code != 0
    _ok(votes("committee", "receive", round_id, tmp_path / "partial-1.json"))
    assert votes("results", round_id).exit_code != 0  # one of two: still awaiting decryption
    out = _ok(votes("committee", "receive", round_id, tmp_path / "partial-3.json"))
    assert "đã được kiểm phiếu" in out or "is counted" in out
    result = json.loads(_ok(votes("results", round_id, "--format", "json")))
    counts = [item["counts"] for item in result["items"]]
    assert counts[0] == {"high": 2, "confidence": 0, "low": 1, "invalid": 0}
    assert counts[1] == {"high": 1, "confidence": 1, "low": 1, "invalid": 0}
    assert counts[2] == {"high": 0, "confidence": 1, "low": 2, "invalid": 0}
    _ok(votes("verify", round_id))
    for receipt in receipts:
        _ok(votes("receipts", round_id, "--check", receipt))
    bundle = tmp_path / "round.zip"
    _ok(votes("export", round_id, "--out", bundle))
    _ok(votes("verify", "--bundle", bundle))


def test_single_member_mode_is_said_to_be_weaker(session: Session, votes) -> None:  # type: ignore[no-untyped-def]
    round_, _ = sealed_round(session, codes=0, committee_=False)
    session.commit()
    out = votes(
        "committee", "create", round_.id, "--threshold", 1, "--members", "Hà Thị Mai (Trưởng ban)"
    )
    assert out.exit_code == 0
    assert "Kém an toàn hơn" in out.stderr
    assert "Kém an toàn hơn" in votes("committee", "show", round_.id).stdout
