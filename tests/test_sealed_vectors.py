"""The test vectors of docs/CRYPTO.md §13, recomputed from their fixed seed.

The vectors are regression values (a change of any encoding, hash input or equation changes
them); the independent anchors are RFC 9496's generator multiples (test_sealed_group.py) and
the byte-level frame test.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from votes.sealed import (
    RoundParameters,
    aggregate,
    box_digest,
    ceremony_context,
    combine,
    group,
    make_committee,
    make_shares,
    new_member,
    partial_decrypt,
    receive_shares,
    seal_ballot,
    tracker,
    tracker_text,
)
from votes.sealed.testing import deterministic

DOC = Path(__file__).resolve().parent.parent / "docs" / "CRYPTO.md"
SEED = b"docs/CRYPTO.md section 13"


def compute_vectors() -> dict[str, str]:
    """Run a 2-of-3 ceremony, seal one ballot, count it with members 1 and 3, under the seed."""
    vectors: dict[str, str] = {}
    with deterministic(SEED):
        ceremony = ceremony_context("example.org", "Ban kiểm phiếu", 2, 3)
        made = [new_member(ceremony, i, 2, 3) for i in (1, 2, 3)]
        committee = make_committee(ceremony, [p for p, _ in made])
        shares = [s for _, secret in made for s in make_shares(secret, committee)]
        keys = [receive_shares(secret, committee, shares) for _, secret in made]
        parameters = RoundParameters(
            "example.org", "2026-1", ("Nguyễn Văn A", "Trần Thị B"), (3, 2)
        )
        context = parameters.context
        ballot = seal_ballot(committee.public_key, context, [1, 0], [3, 2])
        tally = aggregate(committee.public_key, context, [ballot], parameters.options)
        partials = [partial_decrypt(keys[i], committee, context, tally) for i in (0, 2)]
        totals = combine(committee, context, tally, partials)
    vectors["first_scalar"] = group.scalar(made[0][1].coefficients[0]).hex()
    vectors["ceremony"] = ceremony.hex()
    for public, _ in made:
        vectors[f"K_{public.index}0"] = public.commitments[0].hex()
    vectors["joint_key"] = committee.public_key.hex()
    for index in (1, 2, 3):
        vectors[f"VK_{index}"] = committee.verification_key(index).hex()
    vectors["round_context"] = context.hex()
    first = ballot.rows[0].ciphertexts[0]
    vectors["ballot_row1_option1_alpha"] = first.alpha.hex()
    vectors["ballot_row1_option1_beta"] = first.beta.hex()
    vectors["ballot_bytes"] = str(len(ballot.to_bytes()))
    vectors["tracker"] = tracker(ballot).hex()
    vectors["tracker_text"] = tracker_text(tracker(ballot))
    vectors["box_digest"] = box_digest(context, [tracker(ballot)]).hex()
    vectors["partial_1_row1_option2"] = partials[0].rows[0][1].value.hex()
    vectors["totals"] = repr(totals)
    return vectors


def documented() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"```text vectors\n(.*?)```", text, re.S)
    assert block, "docs/CRYPTO.md has no ```text vectors block"
    pairs = (line.split(" = ", 1) for line in block.group(1).splitlines() if " = " in line)
    return {name.strip(): value.strip() for name, value in pairs}


def test_the_documented_vectors_are_recomputed() -> None:
    assert documented() == compute_vectors()


def test_the_seeded_generator_is_switched_off_afterwards() -> None:
    compute_vectors()
    with deterministic(SEED):
        seeded = group.random_scalar()
    assert group.random_scalar() != seeded
    with deterministic(SEED):
        assert group.random_scalar() == seeded


def test_the_seeded_generator_holds_for_its_thread_only() -> None:
    # The sealing pads' refill thread may run while a test seeds its own thread: it must
    # neither consume the seeded values nor receive them.
    with deterministic(SEED):
        first = [group.random_scalar() for _ in range(3)]
    other: list[int] = []
    with deterministic(SEED):
        thread = threading.Thread(
            target=lambda: other.extend(group.random_scalar() for _ in range(3))
        )
        thread.start()
        thread.join()
        again = [group.random_scalar() for _ in range(3)]
    assert again == first
    assert len(other) == 3
    assert not set(other) & set(first)
