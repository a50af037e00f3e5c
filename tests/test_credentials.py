"""Voter codes and receipts: their form, their randomness, and that only digests are stored."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import add_committee
from votes import credentials, rounds
from votes.errors import CountError, InvalidInput, WrongState
from votes.models import Credential, Round
from votes.roster import RosterEntry

SECRET = "test-secret-key-0123456789abcdef"
# Written out here, not imported: the alphabet is part of what the slips promise the voter.
ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
CODE = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")


def make_round(session: Session, *, summoned: int | None = None) -> Round:
    """Create a draft round with two persons on the ballot."""
    body = rounds.add_body(session, "TU-T", "Tỉnh ủy T")
    roster = [
        RosterEntry(line=2, name="Lê Văn Một", position="Bí thư"),
        RosterEntry(line=3, name="Trần Thị Hai", position="Phó Bí thư"),
    ]
    return rounds.create_round(
        session,
        body,
        year=2025,
        profile_id="tn-16kh-2012",
        title="Lấy phiếu 2025",
        roster=roster,
        members=60,
        summoned=summoned,
    )


def test_a_code_is_twelve_unambiguous_characters_in_groups_of_four() -> None:
    codes = [credentials.new_code() for _ in range(2000)]
    assert all(CODE.match(code) for code in codes)
    assert len(set(codes)) == len(codes)
    # Nothing that reads like another character on a slip.
    assert not set("".join(codes)) & set("0O1IL5S8B2ZUV")


def test_code_characters_are_spread_over_the_whole_alphabet() -> None:
    """A crude check that the generator is not stuck on part of the alphabet or a position."""
    codes = [credentials.new_code().replace("-", "") for _ in range(4000)]
    overall = Counter("".join(codes))
    assert set(overall) == set(ALPHABET)
    expected = 4000 * 12 / len(ALPHABET)  # ≈ 2087 per character
    # Six standard deviations: this fails only for a broken generator.
    spread = 6 * math.sqrt(expected)
    assert all(abs(count - expected) < spread for count in overall.values()), overall
    for position in range(12):
        assert len({code[position] for code in codes}) == len(ALPHABET)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("ACDE-FGHJ-KMNP", "ACDEFGHJKMNP"),
        ("acde-fghj-kmnp", "ACDEFGHJKMNP"),
        ("ACDEFGHJKMNP", "ACDEFGHJKMNP"),
        (" acde fghj kmnp ", "ACDEFGHJKMNP"),
        ("ACDE–FGHJ—KMNP", "ACDEFGHJKMNP"),  # en and em dashes
        ("ACDE_FGHJ_KMNP", "ACDEFGHJKMNP"),
        ("ACDE\u00a0FGHJ\tKMNP\r\n", "ACDEFGHJKMNP"),
        ("ＡＣＤＥ-ＦＧＨＪ-ＫＭＮＰ", "ACDEFGHJKMNP"),  # full-width letters
        ("3467-9ACD-EFGH", "34679ACDEFGH"),
    ],
)
def test_typed_codes_are_normalised(typed: str, canonical: str) -> None:
    assert credentials.normalise_code(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ACDE-FGHJ-KMN",
        "ACDE-FGHJ-KMNPP",
        "ACDE-FGHJ-KMN0",
        "ACDE-FGHJ-KMNI",
        "ÁCDE-FGHJ-KMNP",
        "ACDE.FGHJ.KMNP",
        "ACDE-FGHJ-KMN?",
    ],
)
def test_malformed_codes_are_refused(typed: str) -> None:
    with pytest.raises(credentials.CodeFormatError):
        credentials.normalise_code(typed)


def test_the_digest_is_hmac_sha256_of_the_canonical_code_under_the_secret() -> None:
    expected = hmac.new(SECRET.encode(), b"ACDEFGHJKMNP", hashlib.sha256).digest()
    assert credentials.digest(SECRET, "acde-fghj-kmnp") == expected
    assert credentials.digest(SECRET.encode(), "ACDE FGHJ KMNP") == expected
    assert credentials.digest("another-secret-0123456789", "ACDE-FGHJ-KMNP") != expected
    # Not a plain hash: without the secret the digest cannot be recomputed from a guessed code.
    assert expected != hashlib.sha256(b"ACDEFGHJKMNP").digest()


def test_issued_codes_are_stored_only_as_digests(session: Session) -> None:
    round_ = make_round(session)
    codes = rounds.issue_round_codes(session, round_, 30, SECRET)
    session.commit()
    assert len(codes) == len(set(codes)) == 30
    assert all(CODE.match(code) for code in codes)
    stored = set(session.scalars(select(Credential.digest).where(Credential.round_id == round_.id)))
    assert stored == {
        hmac.new(SECRET.encode(), code.replace("-", "").encode(), hashlib.sha256).digest()
        for code in codes
    }
    # No column of any credential holds the code in any spelling.
    for row in session.execute(select(Credential.__table__)).all():
        text = " ".join(str(value) for value in row)
        assert not any(code in text or code.replace("-", "") in text for code in codes)
    assert credentials.codes_issued(session, round_.id) == 30
    assert credentials.codes_used(session, round_.id) == 0


def test_codes_can_be_issued_in_several_batches_while_draft_or_open(session: Session) -> None:
    round_ = make_round(session)
    add_committee(session, round_.id)  # online codes need the committee's key to open
    first = rounds.issue_round_codes(session, round_, 3, SECRET)
    rounds.open_round(session, round_)
    second = rounds.issue_round_codes(session, round_, 2, SECRET)
    session.commit()
    assert not set(first) & set(second)
    assert credentials.codes_issued(session, round_.id) == 5


def test_codes_are_refused_once_the_round_is_closed(session: Session) -> None:
    round_ = make_round(session)
    add_committee(session, round_.id)
    rounds.issue_round_codes(session, round_, 1, SECRET)
    rounds.open_round(session, round_)
    rounds.close_round(session, round_)
    with pytest.raises(WrongState):
        rounds.issue_round_codes(session, round_, 1, SECRET)


@pytest.mark.parametrize("count", [0, -1])
def test_a_count_below_one_is_refused(session: Session, count: int) -> None:
    round_ = make_round(session)
    with pytest.raises(InvalidInput):
        rounds.issue_round_codes(session, round_, count, SECRET)
    with pytest.raises(ValueError, match="at least 1"):
        credentials.issue_codes(session, round_, count, SECRET)


def test_more_codes_than_persons_summoned_are_refused(session: Session) -> None:
    round_ = make_round(session, summoned=5)
    rounds.issue_round_codes(session, round_, 4, SECRET)
    with pytest.raises(CountError):
        rounds.issue_round_codes(session, round_, 2, SECRET)
    rounds.issue_round_codes(session, round_, 1, SECRET)
    assert session.scalar(select(func.count()).select_from(Credential)) == 5


def test_receipts_are_random_and_well_formed() -> None:
    receipts = [credentials.new_receipt() for _ in range(2000)]
    assert all(CODE.match(receipt) for receipt in receipts)
    assert len(set(receipts)) == len(receipts)


SEALED_RECEIPT = re.compile(r"^BN( [0-9]{4}){4}$")


def test_a_sealed_receipt_is_the_trackers_digits_and_never_a_code() -> None:
    tracker = bytes(range(32))
    # The first 8 bytes as a big-endian integer, modulo 10^16, written with 16 digits.
    expected = int("0001020304050607", 16) % 10**16
    assert credentials.tracker_receipt(tracker) == "BN " + " ".join(
        f"{expected:016d}"[i : i + 4] for i in range(0, 16, 4)
    )
    for _ in range(2000):
        receipt = credentials.tracker_receipt(secrets.token_bytes(32))
        assert SEALED_RECEIPT.match(receipt)
        for typed in (receipt, receipt.replace(" ", ""), receipt.replace(" ", "-"), receipt[3:]):
            with pytest.raises(credentials.CodeFormatError):
                credentials.normalise_code(typed)
        assert credentials.normalise_receipt(receipt.lower().replace(" ", "-")) == receipt
    # Nor is a code ever read as a receipt.
    assert credentials.normalise_receipt(credentials.new_code()) is None
    assert credentials.normalise_receipt("BN 1234 5678") is None
