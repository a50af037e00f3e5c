"""The application's one door to the sealed-ballot primitives (votes/sealed/, docs/CRYPTO.md).

Everything the application asks of the cryptography goes through here, in the application's
terms: a ballot as the index of the level chosen on each item, the committee's files as JSON
values, the key as text. The library defines the group, the encodings and the proofs.
"""

from __future__ import annotations

from typing import Any

from .errors import N_, InvalidInput


class SealingError(InvalidInput):
    """A file or a value of the sealed record failed its check (a proof, a point, a format)."""


def _refused(what: str, reason: object) -> SealingError:
    return SealingError(N_("{what} does not check: {reason}."), what=what, reason=str(reason))


def encrypt_ballot(public_key: str, choices: list[int], levels: int) -> tuple[bytes, bytes]:
    """Encrypt one online ballot to the joint key, with its proofs: (tracker, content)."""
    raise NotImplementedError


def check_public_part(context: str, threshold: int, number: int, payload: Any) -> None:
    """Check a member's public part (commitments and proofs) for this ceremony."""
    raise NotImplementedError


def check_shares(context: str, number: int, payload: Any, numbers: list[int]) -> None:
    """Check the form of the shares a member made for the others (one per other member)."""
    raise NotImplementedError


def check_confirmation(
    context: str, threshold: int, number: int, payload: Any, public_parts: dict[int, Any]
) -> None:
    """Check a member's confirmation of the shares received, and its verification key."""
    raise NotImplementedError


def joint_public_key(public_parts: list[Any]) -> str:
    """Return the joint public key of the committee from every member's public part."""
    raise NotImplementedError


def single_verification_key(public_part: Any) -> Any:
    """Return the verification key of the only member of a committee of one."""
    raise NotImplementedError


def verification_key(confirmation: Any) -> Any:
    """Return a member's verification key from their confirmation."""
    raise NotImplementedError


def encrypted_totals(public_key: str, contents: list[bytes]) -> Any:
    """Check every sealed ballot and multiply them per item and level."""
    raise NotImplementedError


def check_partial(totals: Any, verification: Any, number: int, payload: Any) -> None:
    """Check a member's partial decryption of the totals against its proofs."""
    raise NotImplementedError


def combine(totals: Any, partials: dict[int, Any], threshold: int, ballots: int) -> list[list[int]]:
    """Combine k partial decryptions and find the totals: per item, one count per level."""
    raise NotImplementedError


def ballot_holds(public_key: str, tracker: bytes, content: bytes) -> bool:
    """Tell whether a stored sealed ballot is its tracker's and its proofs hold for the key."""
    raise NotImplementedError


def tally_problems(record: Any, contents: list[bytes]) -> list[str]:
    """Check a round's whole sealed tally; return each problem found (none: it holds)."""
    raise NotImplementedError
