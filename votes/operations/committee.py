"""The counting committee's key: name the committee, receive its files, decrypt the totals."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from .. import committee, rounds
from ..ballotbox import sealed_count
from ..committee import Received
from ..meeting import Member
from ..models import CountingKey, Round
from ..seal import box_digest
from .work import Work


def create_committee(
    work: Work, round_id: int, threshold: int, members: Sequence[Member]
) -> CountingKey:
    """Name a draft round's counting committee and how many members must decrypt (k of n)."""
    round_ = work.round(round_id)
    key = committee.create_committee(work.session, round_, threshold, members)
    work.log(
        "committee_created",
        round_id=round_.id,
        details={
            "threshold": key.threshold,
            "size": key.size,
            "single_member": key.single_member,
            "members": [{"number": h.number, "name": h.name, "role": h.role} for h in key.holders],
        },
    )
    return key


def remove_committee(work: Work, round_id: int) -> None:
    """Remove the counting committee of a draft round, to name it again."""
    round_ = work.round(round_id)
    key = committee.remove_committee(work.session, round_)
    work.log(
        "committee_removed",
        round_id=round_.id,
        details={"threshold": key.threshold, "size": key.size},
    )


def receive_committee_file(work: Work, round_id: int, data: bytes) -> Received:
    """Receive a member's file: a public part, shares, a confirmation or a partial decryption.

    Every proof in it is checked before it is stored. When it completes the key, the joint
    key is made; when it is the k-th partial decryption, the totals are found and the round
    is counted (its close record and seal are written then).
    """
    round_ = work.round(round_id)
    received = committee.receive(work.session, round_, data)
    work.log(
        "committee_file_received",
        round_id=round_.id,
        details={
            "kind": received.kind,
            "member": received.number,
            "name": received.name,
            "sha256": received.sha256,
            "state": received.state,
        },
    )
    key = committee.require_key(work.session, round_)
    if received.key_made is not None:
        work.log(
            "committee_key_made",
            round_id=round_.id,
            details={"public_key": key.public_key, "fingerprint": received.key_made},
        )
    decrypted = False
    if received.kind == committee.KIND_PARTIAL:
        for number in committee.pending_groups(key):
            if committee.ready_to_combine(key, number):
                _count(work, round_, key, number)
                decrypted = True
    if decrypted:
        return Received(**{**received.__dict__, "decrypted": True})
    return received


def _count(work: Work, round_: Round, key: CountingKey, group: int) -> None:
    counted = rounds.finish_count(work.session, round_, group)
    details: dict[str, object] = {
        "members": [h.number for h in key.holders if str(group) in committee.by_group(h.partial)],
        "totals": committee.online_totals(work.session, round_.id, group),
    }
    if len(round_.groups) > 1:
        # A voter group's own totals: written in the log only when it may be shown alone.
        details = {"group": group, "members": details["members"]}
    work.log("totals_decrypted", round_id=round_.id, details=details)
    if counted:
        work.log(
            "round_closed",
            round_id=round_.id,
            details=rounds.closing_record(work.session, round_),
        )


def voting_closed_record(work: Work, round_: Round) -> dict[str, object]:
    """Describe the end of voting in a sealed round, before its totals are decrypted."""
    key = committee.require_key(work.session, round_)
    return {
        "issued": round_.issued,
        "collected": round_.collected,
        "sealed_ballots": sealed_count(work.session, round_.id),
        "box_digest": box_digest(work.session, round_.id),
        "encrypted_totals": hashlib.sha256((key.encrypted_totals or "").encode()).hexdigest(),
        "awaiting": committee.pending_groups(key),
        "threshold": key.threshold,
        "size": key.size,
    }
