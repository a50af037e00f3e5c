"""The k-of-n key ceremony, partial decryptions and their combination.

Every subset of k members must give the same totals, k − 1 must not decrypt, and every wrong
share, commitment, proof or partial decryption must be refused.
"""

from __future__ import annotations

import dataclasses
from itertools import combinations

import pytest

from tests.sealed_helpers import ROUND, committee
from votes.sealed import (
    CeremonyError,
    PartialDecryption,
    SealedError,
    aggregate,
    ceremony_context,
    combine,
    group,
    make_committee,
    make_shares,
    new_member,
    partial_decrypt,
    receive_shares,
    seal_ballot,
    single_member,
    sodium,
    verify_partial,
)
from votes.sealed.committee import SHARE_NONCE, Committee, SchnorrProof, _share_key
from votes.sealed.decryption import DecryptionShare
from votes.sealed.sodium import L

CONTEXT = ROUND.context
VOTES = [(0, 1), (2, 1), (0, 0), (1, 1), (0, 1)]
EXPECTED = [[3, 1, 1], [1, 4]]  # counted by hand from VOTES


def tally_for(public: Committee):  # type: ignore[no-untyped-def]
    ballots = [seal_ballot(public.public_key, CONTEXT, list(v), list(ROUND.options)) for v in VOTES]
    return aggregate(public.public_key, CONTEXT, ballots, ROUND.options)


@pytest.mark.parametrize(("k", "n"), [(1, 1), (1, 2), (2, 3), (3, 5)])
def test_every_subset_of_k_members_gives_the_same_totals(k: int, n: int) -> None:
    public, keys = committee(k, n)
    tally = tally_for(public)
    partials = [partial_decrypt(key, public, CONTEXT, tally) for key in keys]
    for subset in combinations(partials, k):
        assert combine(public, CONTEXT, tally, list(subset)) == EXPECTED
    assert combine(public, CONTEXT, tally, partials) == EXPECTED
    for subset in combinations(partials, k - 1):
        with pytest.raises(SealedError, match="cannot be decrypted"):
            combine(public, CONTEXT, tally, list(subset))


def test_the_joint_key_is_the_product_of_the_constant_terms_and_vks_match_keys() -> None:
    public, keys = committee(3, 5)
    assert public.public_key == group.total([m.commitments[0] for m in public.members])
    for key in keys:
        assert group.base_mult(key.secret) == public.verification_key(key.index)
        assert key.public_key == public.public_key
    # Any k member keys interpolate the joint secret: k·G from Lagrange equals K.
    present = [1, 3, 5]
    secret = sum(group.lagrange(i, present) * keys[i - 1].secret for i in present) % L
    assert group.base_mult(secret) == public.public_key


def test_the_committee_round_trips_through_its_record_form() -> None:
    public, _ = committee(2, 3)
    assert Committee.from_dict(public.to_dict()) == public
    assert public.to_dict()["mode"] == "threshold"


def test_single_member_mode_is_marked_and_works() -> None:
    ceremony = ceremony_context("test.example", "Tổ kiểm phiếu", 1, 1)
    public, key = single_member(ceremony)
    assert public.single
    assert public.to_dict()["mode"] == "single"
    assert public.public_key == group.base_mult(key.secret)
    tally = tally_for(public)
    assert (
        combine(public, CONTEXT, tally, [partial_decrypt(key, public, CONTEXT, tally)]) == EXPECTED
    )


@pytest.mark.parametrize(("k", "n"), [(0, 1), (2, 1), (1, 51), (-1, 3)])
def test_impossible_thresholds_are_refused(k: int, n: int) -> None:
    with pytest.raises(CeremonyError, match="threshold"):
        ceremony_context("s", "l", k, n)


# -- the ceremony's checks ---------------------------------------------------------------------


def _ceremony(k: int = 2, n: int = 3):  # type: ignore[no-untyped-def]
    ceremony = ceremony_context("test.example", "mutations", k, n)
    made = [new_member(ceremony, i, k, n) for i in range(1, n + 1)]
    public = make_committee(ceremony, [p for p, _ in made])
    return ceremony, made, public


def test_a_share_that_does_not_match_the_commitments_names_its_sender() -> None:
    ceremony, made, public = _ceremony()
    shares = [s for _, secret in made for s in make_shares(secret, public)]
    # Member 2 sends member 1 a well-encrypted but wrong value: P_2(1) + 1.
    secret2 = made[1][1]
    e = group.random_scalar()
    ephemeral = group.base_mult(e)
    recipient_key = public.members[0].share_key
    box_key = _share_key(ceremony, 2, 1, ephemeral, recipient_key, group.mult(e, recipient_key))
    wrong = sodium.secretbox(group.scalar(secret2.share_for(1) + 1), SHARE_NONCE, box_key)
    shares = [
        dataclasses.replace(s, ephemeral=ephemeral, box=wrong)
        if (s.sender, s.recipient) == (2, 1)
        else s
        for s in shares
    ]
    with pytest.raises(
        CeremonyError, match="from member 2 does not match its commitments"
    ) as caught:
        receive_shares(made[0][1], public, shares)
    assert caught.value.member == 2
    receive_shares(made[2][1], public, shares)  # member 3's shares are fine


def test_a_damaged_share_does_not_open() -> None:
    _, made, public = _ceremony()
    shares = [s for _, secret in made for s in make_shares(secret, public)]
    damaged = [
        dataclasses.replace(s, box=bytes([s.box[0] ^ 1]) + s.box[1:])
        if (s.sender, s.recipient) == (3, 2)
        else s
        for s in shares
    ]
    with pytest.raises(CeremonyError, match="from member 3 does not open"):
        receive_shares(made[1][1], public, damaged)


def test_a_missing_or_doubled_share_is_refused() -> None:
    _, made, public = _ceremony()
    shares = [s for _, secret in made for s in make_shares(secret, public)]
    missing = [s for s in shares if (s.sender, s.recipient) != (1, 3)]
    with pytest.raises(CeremonyError, match="no share from member 1"):
        receive_shares(made[2][1], public, missing)
    mine = next(s for s in shares if s.recipient == 3)
    with pytest.raises(CeremonyError, match="two shares"):
        receive_shares(made[2][1], public, [*shares, mine])


def test_a_share_for_someone_else_does_not_open_for_me() -> None:
    _, made, public = _ceremony()
    shares = [s for _, secret in made for s in make_shares(secret, public)]
    # Member 1's share for member 3, relabelled as if meant for member 2.
    stolen = next(s for s in shares if (s.sender, s.recipient) == (1, 3))
    relabelled = [
        dataclasses.replace(stolen, recipient=2) if (s.sender, s.recipient) == (1, 2) else s
        for s in shares
    ]
    with pytest.raises(CeremonyError, match="from member 1 does not open"):
        receive_shares(made[1][1], public, relabelled)


def test_a_wrong_commitment_proof_or_identity_commitment_is_refused() -> None:
    ceremony, made, _ = _ceremony()
    publics = [p for p, _ in made]
    p2 = publics[1]
    bad_proof = dataclasses.replace(
        p2, proofs=(SchnorrProof(p2.proofs[0].c, (p2.proofs[0].v + 1) % L), p2.proofs[1])
    )
    with pytest.raises(CeremonyError, match="member 2: proof for commitment 0 fails"):
        make_committee(ceremony, [publics[0], bad_proof, publics[2]])
    swapped = dataclasses.replace(p2, commitments=(p2.commitments[1], p2.commitments[0]))
    with pytest.raises(CeremonyError, match="member 2"):
        make_committee(ceremony, [publics[0], swapped, publics[2]])
    bad_key = dataclasses.replace(p2, share_key=publics[0].share_key)
    with pytest.raises(CeremonyError, match="share key fails"):
        make_committee(ceremony, [publics[0], bad_key, publics[2]])
    record = publics[0].to_dict()
    record["commitments"] = [bytes(32).hex(), record["commitments"][1]]  # type: ignore[index]
    with pytest.raises(SealedError, match="identity"):
        type(publics[0]).from_dict(record)


def test_a_member_part_from_another_ceremony_is_refused() -> None:
    _, made, _ = _ceremony()
    other = ceremony_context("test.example", "another committee", 2, 3)
    with pytest.raises(CeremonyError, match="proof"):
        make_committee(other, [p for p, _ in made])


def test_members_must_be_one_to_n_each_once() -> None:
    ceremony, made, _ = _ceremony()
    publics = [p for p, _ in made]
    with pytest.raises(CeremonyError, match="each once"):
        make_committee(ceremony, publics[:2])
    with pytest.raises(CeremonyError, match="each once"):
        make_committee(ceremony, [publics[0], publics[0], publics[2]])


def test_a_secret_that_is_not_on_the_committee_is_refused() -> None:
    public = _ceremony()[2]
    stranger = new_member(public.ceremony, 1, 2, 3)[1]
    with pytest.raises(CeremonyError, match="another public part"):
        make_shares(stranger, public)


# -- partial decryptions -----------------------------------------------------------------------


def test_a_wrong_partial_decryption_is_refused() -> None:
    public, keys = committee(2, 3)
    tally = tally_for(public)
    partial = partial_decrypt(keys[0], public, CONTEXT, tally)
    verify_partial(public, CONTEXT, tally, partial)
    share = partial.rows[0][1]
    changed = dataclasses.replace(share, value=group.add(share.value, group.GENERATOR))
    rows = ((partial.rows[0][0], changed), partial.rows[1])
    wrong = PartialDecryption(1, rows)
    with pytest.raises(SealedError, match="member 1, row 1 option 2: proof fails"):
        verify_partial(public, CONTEXT, tally, wrong)
    with pytest.raises(SealedError, match="proof fails"):
        combine(public, CONTEXT, tally, [wrong, partial_decrypt(keys[1], public, CONTEXT, tally)])


def test_a_partial_decryption_claimed_by_another_member_is_refused() -> None:
    public, keys = committee(2, 3)
    tally = tally_for(public)
    partial = partial_decrypt(keys[0], public, CONTEXT, tally)
    with pytest.raises(SealedError, match="proof fails"):
        verify_partial(public, CONTEXT, tally, dataclasses.replace(partial, member=2))


def test_a_partial_decryption_for_another_context_or_tally_is_refused() -> None:
    public, keys = committee(2, 3)
    tally = tally_for(public)
    partial = partial_decrypt(keys[0], public, CONTEXT, tally)
    other = dataclasses.replace(ROUND, round_id="round-2").context
    with pytest.raises(SealedError, match="proof fails"):
        verify_partial(public, other, tally, partial)
    with pytest.raises(SealedError, match="proof fails"):
        verify_partial(public, CONTEXT, tally_for(public), partial)


def test_a_forged_share_with_a_made_up_proof_is_refused() -> None:
    public, keys = committee(2, 3)
    tally = tally_for(public)
    partial = partial_decrypt(keys[0], public, CONTEXT, tally)
    forged = DecryptionShare(group.base_mult(5), partial.rows[0][0].c, partial.rows[0][0].v)
    rows = ((forged, *partial.rows[0][1:]), partial.rows[1])
    with pytest.raises(SealedError, match="row 1 option 1: proof fails"):
        verify_partial(public, CONTEXT, tally, PartialDecryption(1, rows))


def test_a_member_key_of_another_committee_cannot_decrypt() -> None:
    public, _ = committee(2, 3)
    _, other_keys = committee(3, 5)
    with pytest.raises(SealedError, match="another committee"):
        partial_decrypt(other_keys[0], public, CONTEXT, tally_for(public))


def test_duplicate_partials_and_totals_beyond_the_limit_are_refused() -> None:
    public, keys = committee(2, 3)
    tally = tally_for(public)
    partials = [partial_decrypt(key, public, CONTEXT, tally) for key in keys[:2]]
    with pytest.raises(SealedError, match="two partial decryptions"):
        combine(public, CONTEXT, tally, [partials[0], partials[0], partials[1]])
    # Row 1's first option holds 3 ballots (the last options are not decrypted: §10).
    with pytest.raises(SealedError, match="row 1 option 1: the total is not between 0 and 2"):
        combine(public, CONTEXT, tally, partials, max_count=2)
