"""The application's one door to the sealed-ballot primitives (votes/sealed/, docs/CRYPTO.md).

Everything the application asks of the cryptography goes through here, in the application's
terms: a ballot as the index of the level chosen on each item, the committee's files as JSON
values (the library's record forms), keys and contexts as hexadecimal text. The library
defines the group, the encodings and the proofs; a failed check becomes a SealingError (a
refusal with a clear message, nothing stored).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from . import sealed
from .errors import N_, InvalidInput, Message, message

# Bound into every context: which system the ceremony and the ballots belong to.
SCOPE = "phieu-tin-nhiem"


class SealingError(InvalidInput):
    """A file or a value of the sealed record failed its check (a proof, a point, a format)."""


# What a refusal names, in the words of the pages (the call sites name it by these keys). The
# reason after it is the library's own technical text.
CHECKED_WORDS = {
    "public part": N_("public part of the key"),
    "committee": N_("the committee's joint key"),
    "shares": N_("shares for the other members"),
    "confirmation": N_("check of the shares received"),
    "partial decryption": N_("partial decryption"),
    "decryption": N_("decryption of the totals"),
    "sealed record": N_("public record of the sealed ballots"),
    "sealed ballot box": N_("box of sealed ballots"),
}


def _refused(what: str, reason: object) -> SealingError:
    return SealingError(
        N_("{what} does not check: {reason}."),
        what=message(CHECKED_WORDS.get(what, what)),
        reason=reason if isinstance(reason, Message) else str(reason),
    )


# ------------------------------------------------------------------------- the ceremony


def ceremony(label: str, threshold: int, size: int) -> bytes:
    """Return the ceremony context of a committee (its label is the round's context digest)."""
    return sealed.ceremony_context(SCOPE, label, threshold, size)


def member_public(payload: Any, what: str = "public part") -> sealed.MemberPublic:
    """Read a member's public part from its record form, or refuse."""
    try:
        return sealed.MemberPublic.from_dict(payload)
    except sealed.SealedError as error:
        raise _refused(what, error) from error


def check_public_part(
    ceremony_bytes: bytes, threshold: int, size: int, number: int, payload: Any
) -> None:
    """Check a member's public part: its number, k and n, and every proof of knowledge."""
    public = member_public(payload)
    if (public.index, public.k, public.n) != (number, threshold, size):
        raise _refused(
            "public part",
            message(
                N_(
                    "it is member {index}'s for {k} of {n}, not member {number}'s for "
                    "{threshold} of {size}"
                ),
                index=public.index,
                k=public.k,
                n=public.n,
                number=number,
                threshold=threshold,
                size=size,
            ),
        )
    problems = sealed.committee.member_problems(ceremony_bytes, public)
    if problems:
        raise _refused("public part", "; ".join(problems))


def make_committee(ceremony_bytes: bytes, public_parts: Sequence[Any]) -> sealed.Committee:
    """Check every public part and derive the joint key and each member's verification key."""
    try:
        return sealed.make_committee(ceremony_bytes, [member_public(p) for p in public_parts])
    except sealed.SealedError as error:
        raise _refused("committee", error) from error


def check_shares(number: int, payload: Any, numbers: Sequence[int]) -> None:
    """Check the form of the shares a member made: one for every other member, from them."""
    if not isinstance(payload, dict) or not isinstance(payload.get("shares"), list):
        raise _refused("shares", "expected {shares: [...]}")
    try:
        shares = [sealed.EncryptedShare.from_dict(s) for s in payload["shares"]]
    except sealed.SealedError as error:
        raise _refused("shares", error) from error
    if any(share.sender != number for share in shares):
        raise _refused("shares", message(N_("a share is not from member {number}"), number=number))
    recipients = sorted(share.recipient for share in shares)
    if recipients != sorted(n for n in numbers if n != number):
        raise _refused("shares", message(N_("not exactly one share for every other member")))


def shares_for(number: int, all_shares: Sequence[Any]) -> list[sealed.EncryptedShare]:
    """Return the shares addressed to one member among every member's shares payload."""
    found = []
    for payload in all_shares:
        for share in payload["shares"]:
            read = sealed.EncryptedShare.from_dict(share)
            if read.recipient == number:
                found.append(read)
    return found


def check_confirmation(committee: sealed.Committee, number: int, payload: Any) -> None:
    """Check a member's confirmation: the joint key and their verification key, as derived."""
    if not isinstance(payload, dict):
        raise _refused("confirmation", message(N_("the file holds no check")))
    if payload.get("public_key") != committee.public_key.hex():
        raise _refused("confirmation", message(N_("the member made another joint key")))
    if payload.get("verification_key") != committee.verification_key(number).hex():
        raise _refused(
            "confirmation", message(N_("the member's key does not match the commitments"))
        )


# ------------------------------------------------------------------------- the round


def parameters(round_id: int, items: Sequence[str], levels: int) -> sealed.RoundParameters:
    """Return what a round's ballots are bound to: its items, each with `levels` options."""
    return sealed.RoundParameters(SCOPE, str(round_id), tuple(items), (levels,) * len(items))


def read_parameters(text: str) -> sealed.RoundParameters:
    """Read a round's stored parameters (the record's form)."""
    return sealed.RoundParameters.from_dict(json.loads(text))


def encrypt_ballot(
    public_key: str, context: str, choices: Sequence[int], levels: int
) -> tuple[bytes, bytes]:
    """Encrypt one online ballot to the joint key, with its proofs: (tracker, content)."""
    ballot = sealed.seal_ballot(
        bytes.fromhex(public_key), bytes.fromhex(context), choices, (levels,) * len(choices)
    )
    content = ballot.to_bytes()
    return sealed.tracker(content), content


def ballot_holds(
    public_key: str, round_parameters: sealed.RoundParameters, tracker: bytes, content: bytes
) -> bool:
    """Tell whether a stored sealed ballot is its tracker's and its proofs hold for the key."""
    try:
        if sealed.tracker(content) != tracker:
            return False
        ballot = sealed.SealedBallot.from_bytes(content)
        return not sealed.ballot_problems(
            bytes.fromhex(public_key),
            round_parameters.context,
            ballot,
            round_parameters.options,
        )
    except sealed.SealedError:
        return False


def box_digest(round_parameters: sealed.RoundParameters, trackers: Sequence[bytes]) -> str:
    """Return the digest of a box of sealed ballots (its count and sorted trackers)."""
    return sealed.box_digest(round_parameters.context, trackers).hex()


def encrypted_totals(
    round_parameters: sealed.RoundParameters, contents: Sequence[bytes]
) -> dict[str, object]:
    """Multiply the sealed ballots option by option: the encrypted totals (record form)."""
    ballots = (sealed.SealedBallot.from_bytes(content) for content in contents)
    return sealed.aggregate(ballots, round_parameters.options).to_dict()


def check_partial(
    committee: sealed.Committee,
    round_parameters: sealed.RoundParameters,
    totals: Any,
    number: int,
    payload: Any,
) -> None:
    """Check a member's partial decryption of the totals against every proof in it."""
    try:
        partial = sealed.PartialDecryption.from_dict(payload)
        tally = sealed.EncryptedTally.from_dict(totals)
    except sealed.SealedError as error:
        raise _refused("partial decryption", error) from error
    if partial.member != number:
        raise _refused(
            "partial decryption",
            message(N_("it is member {member}'s"), member=partial.member),
        )
    problems = sealed.partial_problems(committee, round_parameters.context, tally, partial)
    if problems:
        raise _refused("partial decryption", "; ".join(problems[:3]))


def combine(
    committee: sealed.Committee,
    round_parameters: sealed.RoundParameters,
    totals: Any,
    partials: Sequence[Any],
) -> list[list[int]]:
    """Combine k checked partial decryptions and find the totals: per item, one count per level."""
    try:
        return sealed.combine(
            committee,
            round_parameters.context,
            sealed.EncryptedTally.from_dict(totals),
            [sealed.PartialDecryption.from_dict(p) for p in partials],
        )
    except sealed.SealedError as error:
        raise _refused("decryption", error) from error


def record(
    round_parameters: sealed.RoundParameters,
    committee: sealed.Committee,
    contents: Sequence[bytes],
    partials: Sequence[Any],
) -> dict[str, object]:
    """Return the public record of a counted round (the library's verify_record reads it)."""
    try:
        return sealed.make_record(
            round_parameters,
            committee,
            list(contents),
            [sealed.PartialDecryption.from_dict(p) for p in partials],
        )
    except sealed.SealedError as error:
        raise _refused("sealed record", error) from error


def record_problems(document: Mapping[str, object]) -> list[str]:
    """Check a whole public record; return each problem found (none: it holds)."""
    return sealed.verify_record(document)


def encoded(content: bytes) -> str:
    """Return a sealed ballot as the record writes it (base64)."""
    return base64.b64encode(content).decode("ascii")
