"""The public record of a sealed round and its verifier (docs/CRYPTO.md §12).

`verify_record` is what the stand-alone verifier of an exported bundle runs: from the record
alone it rechecks the round context, the committee's proofs and derived keys, every ballot's
proofs, trackers and the box digest, the encrypted tally (recomputed), every partial decryption
proof, and the totals (recombined and compared). It needs only the standard library and
libsodium.
"""

from __future__ import annotations

import base64
import binascii
import os
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from votes.sealed import group
from votes.sealed.ballot import (
    MAX_OPTIONS,
    MIN_OPTIONS,
    EncryptedTally,
    aggregate,
    box_digest,
    check_box,
    tracker,
)
from votes.sealed.committee import Committee
from votes.sealed.decryption import PartialDecryption, combine, combine_checked, partial_problems
from votes.sealed.group import GROUP, VERSION, SealedError, u32

FORMAT: Final = "votes-sealed-record/2"
MAX_ITEMS: Final = 1000


@dataclass(frozen=True, slots=True)
class RoundParameters:
    """What ballots are bound to: installation scope, round id, items, options per item."""

    scope: str
    round_id: str
    items: tuple[str, ...]
    options: tuple[int, ...]

    def __post_init__(self) -> None:
        """Refuse parameters that no ballot could have."""
        if not 1 <= len(self.items) <= MAX_ITEMS or len(self.items) != len(self.options):
            raise SealedError("round: one option count per item, 1 to 1000 items")
        if any(not MIN_OPTIONS <= m <= MAX_OPTIONS for m in self.options):
            raise SealedError("round: each item has 2 to 8 options")

    @property
    def context(self) -> bytes:
        """Return the 32-byte round context that every proof of the round hashes."""
        return round_context(self.scope, self.round_id, self.items, self.options)

    def to_dict(self) -> dict[str, object]:
        """Return the record's form."""
        return {
            "scope": self.scope,
            "round": self.round_id,
            "items": list(self.items),
            "options": list(self.options),
            "context": self.context.hex(),
        }

    @classmethod
    def from_dict(cls, value: object) -> RoundParameters:
        """Read the record's form, recomputing the context."""
        if not isinstance(value, dict):
            raise SealedError("round: expected an object")
        scope, round_id = value.get("scope"), value.get("round")
        items, options = value.get("items"), value.get("options")
        if not isinstance(scope, str) or not isinstance(round_id, str):
            raise SealedError("round: scope and round must be text")
        if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
            raise SealedError("round: items must be a list of text")
        if not isinstance(options, list) or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in options
        ):
            raise SealedError("round: options must be a list of integers")
        parameters = cls(scope, round_id, tuple(items), tuple(options))
        if value.get("context") != parameters.context.hex():
            raise SealedError("round: the context is not the hash of the round's parameters")
        return parameters


def _text(value: str) -> bytes:
    return unicodedata.normalize("NFC", value).encode("utf-8")


def round_context(scope: str, round_id: str, items: Sequence[str], options: Sequence[int]) -> bytes:
    """Return SHA-256 over the version, group, scope, round id, items and their option counts."""
    return group.digest(
        "round",
        [
            VERSION.encode("ascii"),
            GROUP.encode("ascii"),
            _text(scope),
            _text(round_id),
            u32(len(items)),
            *(_text(item) for item in items),
            bytes(options),
        ],
    )


def make_record(
    parameters: RoundParameters,
    committee: Committee,
    ballots: Sequence[bytes],
    partials: Sequence[PartialDecryption],
    tally: EncryptedTally | None = None,
) -> dict[str, object]:
    """Assemble the public record of a counted round (checks the partials and combines them).

    tally: the encrypted totals already made from these ballots when they were counted (what
    the partial decryptions decrypt); without it, every ballot is checked and added up again.
    A tally that is not these ballots' makes a record that verify_record refuses.
    """
    context = parameters.context
    decoded = sorted(((tracker(b), b) for b in ballots), key=lambda pair: pair[0])
    if tally is None:
        tally = aggregate(
            committee.public_key, context, [b for _, b in decoded], parameters.options
        )
    totals = combine(committee, context, tally, partials)
    return {
        "format": FORMAT,
        "group": GROUP,
        "version": VERSION,
        "round": parameters.to_dict(),
        "committee": committee.to_dict(),
        "ballots": [base64.b64encode(b).decode("ascii") for _, b in decoded],
        "trackers": [t.hex() for t, _ in decoded],
        "box_digest": box_digest(context, [t for t, _ in decoded]).hex(),
        "tally": tally.to_dict(),
        "partial_decryptions": [p.to_dict() for p in sorted(partials, key=lambda p: p.member)],
        "totals": totals,
    }


def verify_record(record: Mapping[str, object], workers: int | None = None) -> list[str]:
    """Check every proof and recompute every derived value of a record; return the problems.

    An empty list means the record verifies. workers > 1 checks the ballots in that many
    processes (the same checks, spread over the machine's cores); None: two processes for a
    large box, this one for a small one (check_box).
    """
    problems: list[str] = []
    if not isinstance(record, Mapping):
        return ["record: expected a JSON object"]
    if record.get("format") != FORMAT or record.get("group") != GROUP:
        return [f"record: not a {FORMAT} record over {GROUP}"]
    if record.get("version") != VERSION:
        return [f"record: version {record.get('version')!r}, this verifier reads {VERSION}"]
    try:
        parameters = RoundParameters.from_dict(record.get("round"))
        committee = Committee.from_dict(record.get("committee"))
    except SealedError as error:
        return [str(error)]
    context, options = parameters.context, parameters.options

    encoded = record.get("ballots")
    if not isinstance(encoded, list) or not all(isinstance(x, str) for x in encoded):
        return ["record: ballots must be a list of base64 text"]
    raw: list[bytes] = []
    for number, text in enumerate(encoded, start=1):
        try:
            raw.append(base64.b64decode(text, validate=True))
        except (binascii.Error, ValueError):
            problems.append(f"ballot {number}: not base64")
    if problems:
        return problems
    # Every ballot decoded and its proofs checked, in `workers` processes for a large box; the
    # tally of the valid ballots, added up slice by slice where the slices were checked.
    found, trackers, tally = check_box(committee.public_key, context, raw, options, workers)
    problems.extend(found)

    listed = record.get("trackers")
    if listed != [t.hex() for t in trackers]:
        problems.append("trackers: the list is not the hashes of the ballots")
    if trackers != sorted(trackers):
        problems.append("ballots: not in tracker order")
    try:
        digest = box_digest(context, trackers).hex()
    except SealedError as error:
        problems.append(str(error))
    else:
        if record.get("box_digest") != digest:
            problems.append("box digest: not the digest of the ballots")

    try:
        published = EncryptedTally.from_dict(record.get("tally"))
    except SealedError as error:
        problems.append(str(error))
    else:
        if published != tally or tally.count != len(encoded):
            problems.append("tally: not the product of the ballots' ciphertexts")

    partials: list[PartialDecryption] = []
    raw_partials = record.get("partial_decryptions")
    if not isinstance(raw_partials, list):
        return [*problems, "partial decryptions: expected a list"]
    for value in raw_partials:
        try:
            partial = PartialDecryption.from_dict(value)
        except SealedError as error:
            problems.append(str(error))
            continue
        found = partial_problems(committee, context, tally, partial)
        problems.extend(found)
        if not found:
            partials.append(partial)
    try:
        totals = combine_checked(committee, tally, partials)  # each proof was checked above
    except SealedError as error:
        problems.append(f"totals: {error}")
    else:
        if record.get("totals") != totals:
            problems.append(
                f"totals: the record says {record.get('totals')}, the proofs give {totals}"
            )
        if any(len(row) != m for row, m in zip(totals, options, strict=True)):
            problems.append("totals: not one total per option")
    return problems


def worker_count() -> int:
    """Return the number of processes worth using for ballot checks on this machine."""
    return max(1, os.cpu_count() or 1)
