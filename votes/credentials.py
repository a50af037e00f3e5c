"""Voter codes: generation, normalisation, HMAC digest at rest, and random receipts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Credential, Round
from .recount import RECEIPT_DIGITS, RECEIPT_PREFIX
from .recount import tracker_receipt as tracker_receipt

# No 0/O, 1/I/L, 5/S, 8/B, 2/Z, U/V: nothing a voter can misread on a slip or type wrong.
ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
CODE_LENGTH = 12  # 23**12 ≈ 2**54: guessing one live code out of a few hundred is hopeless
GROUP = 4
RECEIPT_LENGTH = 12


class CodeFormatError(ValueError):
    """The text typed is not a well-formed code."""


def _random_chars(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def group(raw: str) -> str:
    """Write a code in groups of four: ACDE-FGHJ-KMNP."""
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def new_code() -> str:
    """Return a fresh random voter code, grouped for reading."""
    return group(_random_chars(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """Return the canonical form of a typed code: upper case, without spaces or dashes."""
    # NFKC folds full-width letters (typed with some input methods) to ASCII; whitespace of any
    # kind (a pasted line break) and every dash (word processors turn '-' into '–') are dropped.
    folded = unicodedata.normalize("NFKC", text).upper()
    raw = "".join(
        ch for ch in folded if not ch.isspace() and ch != "_" and unicodedata.category(ch) != "Pd"
    )
    if len(raw) != CODE_LENGTH or any(ch not in ALPHABET for ch in raw):
        raise CodeFormatError("malformed code")
    return raw


def digest(secret: str | bytes, code: str) -> bytes:
    """Return the HMAC-SHA256 digest of a code under the server secret (what is stored)."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, normalise_code(code).encode("ascii"), hashlib.sha256).digest()


def issue_codes(
    session: Session, round_: Round, count: int, secret: str | bytes, *, group: int = 1
) -> list[str]:
    """Create `count` new codes for a round and return them; only their digests are stored.

    The codes are returned once, to be printed or handed out by lot; the system never records
    which code went to which person, only the voter group it is for.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    codes = [new_code() for _ in range(count)]
    session.add_all(
        Credential(round_id=round_.id, group_number=group, digest=digest(secret, c)) for c in codes
    )
    session.flush()
    return codes


def codes_issued(session: Session, round_id: int) -> int:
    """Count the codes issued for a round."""
    return session.scalar(select(func.count()).where(Credential.round_id == round_id)) or 0


def codes_used(session: Session, round_id: int) -> int:
    """Count the codes of a round that were used (never which, never when)."""
    return (
        session.scalar(
            select(func.count()).where(Credential.round_id == round_id, Credential.used.is_(True))
        )
        or 0
    )


def new_receipt() -> str:
    """Return a random receipt: not derived from the vote or the code, so it proves nothing.

    The receipts of rounds cast before sealed ballots; a sealed ballot's receipt is its tracker's.
    """
    return group(_random_chars(RECEIPT_LENGTH))


def normalise_receipt(text: str) -> str | None:
    """Return a typed receipt in its printed form, or None if it is not one.

    Spaces, dashes and case do not matter: "bn1234-5678 9012 3456" is BN 1234 5678 9012 3456.
    """
    folded = "".join(ch for ch in unicodedata.normalize("NFKC", text).upper() if ch.isalnum())
    digits = folded.removeprefix(RECEIPT_PREFIX)
    if len(digits) != RECEIPT_DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    return " ".join(
        [RECEIPT_PREFIX, *(digits[i : i + GROUP] for i in range(0, len(digits), GROUP))]
    )
