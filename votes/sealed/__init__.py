"""Sealed ballots: ballots encrypted to the counting committee, only totals ever decrypted.

The primitives library of docs/CRYPTO.md. Flask-free and SQLAlchemy-free: it needs only the
standard library and libsodium, so the exported bundle's stand-alone verifier runs it as is.

Round parameters
    RoundParameters(scope, round_id, items, options).context -> bytes (32)
    round_context(scope, round_id, items, options) -> bytes
Casting (server side)
    seal_ballot(public_key, context, choices, options, pads=None) -> SealedBallot
    SealingPads(public_key).fill(options, rows): secret precomputation, memory only
    verify_ballot(public_key, context, ballot, options) -> None   (raises SealedError)
    SealedBallot.to_bytes() / SealedBallot.from_bytes(data)
    tracker(ballot_or_bytes) -> bytes (32); tracker_text(tracker) -> str
    box_digest(context, trackers) -> bytes (32), independent of order
Counting
    check_box(public_key, context, ballots_or_encodings, options, workers=None)
        -> (problems, trackers, EncryptedTally)  every proof checked, in processes for a big box
    aggregate(public_key, context, ballots_or_encodings, options, workers=None) -> EncryptedTally
        (check_box that raises on any bad ballot; to_dict / from_dict; m − 1 sums a row)
    add_up(public_key, context, encodings, options) -> EncryptedTally
        (decoded and added as they are, no proof checked: the server's close, docs/CRYPTO.md §9)
    sum_tallies(parts, options) -> EncryptedTally   (slices or shards of one box)
    partial_decrypt(member_key, committee, context, tally) -> PartialDecryption
    verify_partial(committee, context, tally, partial) -> None     (raises SealedError)
    combine(committee, context, tally, partials, max_count=None) -> list[list[int]]
Key ceremony (each member on their own machine)
    ceremony_context(scope, label, k, n) -> bytes
    new_member(ceremony, index, k, n) -> (MemberPublic, MemberSecret)
    make_committee(ceremony, publics) -> Committee     (checks every proof; raises CeremonyError)
    make_shares(secret, committee) -> list[EncryptedShare]
    receive_shares(secret, committee, shares) -> MemberKey   (raises CeremonyError naming a sender)
    single_member(ceremony) -> (Committee, MemberKey)        (1-of-1, weaker)
Key files
    lock(secret_or_key, passphrase, strength="moderate") -> bytes; unlock(data, passphrase)
    printable(data) -> str; qr_payload(data) -> str; from_printable(text) -> bytes
Public record
    make_record(parameters, committee, ballots, partials) -> dict
    verify_record(record, workers=None) -> list[str]   (empty: everything verifies)
"""

from votes.sealed.ballot import (
    Ciphertext,
    EncryptedTally,
    SealedBallot,
    SealedRow,
    SealingPads,
    SumProof,
    ZeroOneProof,
    add_up,
    aggregate,
    ballot_problems,
    box_digest,
    check_box,
    seal_ballot,
    sum_tallies,
    tracker,
    tracker_text,
    verify_ballot,
)
from votes.sealed.committee import (
    CeremonyError,
    Committee,
    EncryptedShare,
    MemberKey,
    MemberPublic,
    MemberSecret,
    ceremony_context,
    make_committee,
    make_shares,
    new_member,
    receive_shares,
    single_member,
)
from votes.sealed.decryption import (
    DecryptionShare,
    PartialDecryption,
    combine,
    partial_decrypt,
    partial_problems,
    verify_partial,
)
from votes.sealed.group import GROUP, VERSION, SealedError
from votes.sealed.keyfile import KeyFileError, from_printable, lock, printable, qr_payload, unlock
from votes.sealed.record import (
    FORMAT,
    RoundParameters,
    make_record,
    round_context,
    verify_record,
    worker_count,
)

__all__ = [
    "FORMAT",
    "GROUP",
    "VERSION",
    "CeremonyError",
    "Ciphertext",
    "Committee",
    "DecryptionShare",
    "EncryptedShare",
    "EncryptedTally",
    "KeyFileError",
    "MemberKey",
    "MemberPublic",
    "MemberSecret",
    "PartialDecryption",
    "RoundParameters",
    "SealedBallot",
    "SealedError",
    "SealedRow",
    "SealingPads",
    "SumProof",
    "ZeroOneProof",
    "add_up",
    "aggregate",
    "ballot_problems",
    "box_digest",
    "ceremony_context",
    "check_box",
    "combine",
    "from_printable",
    "lock",
    "make_committee",
    "make_record",
    "make_shares",
    "new_member",
    "partial_decrypt",
    "partial_problems",
    "printable",
    "qr_payload",
    "receive_shares",
    "round_context",
    "seal_ballot",
    "single_member",
    "sum_tallies",
    "tracker",
    "tracker_text",
    "unlock",
    "verify_ballot",
    "verify_partial",
    "verify_record",
    "worker_count",
]
