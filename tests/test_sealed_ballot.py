"""Sealed ballots: encryption, 0/1 and row-sum proofs, encodings, trackers, box digest, tally.

Every proof has a mutation that must fail; every expected count comes from the test's own plain
count, never from the code under test.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.sealed_helpers import (
    ROUND,
    committee,
    encrypt_value,
    forged_option,
    replace_row,
    row_from_bits,
    row_with_values,
    sum_proof,
)
from votes.sealed import (
    SealedBallot,
    SealedError,
    SealingPads,
    add_up,
    aggregate,
    ballot_problems,
    box_digest,
    check_box,
    combine,
    group,
    partial_decrypt,
    seal_ballot,
    sum_tallies,
    tracker,
    tracker_text,
    verify_ballot,
)
from votes.sealed.ballot import SealedRow, ZeroOneProof, zero_one_valid
from votes.sealed.sodium import L

CONTEXT = ROUND.context
OPTIONS = ROUND.options


def key() -> bytes:
    return committee(1, 1)[0].public_key


def sealed(choices: tuple[int, ...] = (0, 1)) -> SealedBallot:
    return seal_ballot(key(), CONTEXT, list(choices), list(OPTIONS))


def test_an_honest_ballot_verifies() -> None:
    for choices in [(0, 0), (1, 1), (2, 0), (2, 1)]:
        verify_ballot(key(), CONTEXT, sealed(choices), OPTIONS)


def test_the_encoding_round_trips_and_has_the_documented_size() -> None:
    ballot = sealed()
    data = ballot.to_bytes()
    assert len(data) == 4 + 2 + 2 + 3 * 192 + 64 + 2 * 192 + 64
    assert SealedBallot.from_bytes(data) == ballot
    assert SealedBallot.from_bytes(data).to_bytes() == data


def test_two_sealings_of_the_same_choices_differ() -> None:
    assert sealed((1, 1)).to_bytes() != sealed((1, 1)).to_bytes()


@pytest.mark.parametrize(
    ("choices", "options"),
    [([3, 0], [3, 2]), ([0, -1], [3, 2]), ([0], [3, 2]), ([0, 0], [1, 2]), ([0, 0], [3, 9])],
)
def test_sealing_refuses_impossible_choices(choices: list[int], options: list[int]) -> None:
    with pytest.raises(SealedError):
        seal_ballot(key(), CONTEXT, choices, options)


def test_sealing_refuses_an_invalid_public_key() -> None:
    with pytest.raises(SealedError, match="identity"):
        seal_ballot(bytes(32), CONTEXT, [0, 0], list(OPTIONS))
    bad = bytearray(key())
    bad[31] |= 0x80
    with pytest.raises(SealedError, match="canonical"):
        seal_ballot(bytes(bad), CONTEXT, [0, 0], list(OPTIONS))


# -- mutations that must fail ------------------------------------------------------------------


def test_a_mutated_ciphertext_fails() -> None:
    ballot = sealed((0, 1))
    row = ballot.rows[0]
    other = encrypt_value(key(), 0, 12345)
    for field in ("alpha", "beta"):
        changed = dataclasses.replace(row.ciphertexts[1], **{field: getattr(other, field)})
        mutated = replace_row(
            ballot,
            0,
            dataclasses.replace(row, ciphertexts=(row.ciphertexts[0], changed, row.ciphertexts[2])),
        )
        problems = ballot_problems(key(), CONTEXT, mutated, OPTIONS)
        assert "ballot row 1 option 2: 0/1 proof fails" in problems
        assert "ballot row 1: the row does not provably sum to 1" in problems


def test_a_re_randomised_ciphertext_fails() -> None:
    ballot = sealed((0, 1))
    row = ballot.rows[1]
    shift = encrypt_value(key(), 0, 999)
    moved = row.ciphertexts[0] + shift
    mutated = replace_row(
        ballot, 1, dataclasses.replace(row, ciphertexts=(moved, row.ciphertexts[1]))
    )
    with pytest.raises(SealedError, match="0/1 proof fails"):
        verify_ballot(key(), CONTEXT, mutated, OPTIONS)


@pytest.mark.parametrize("value", [2, 3, L - 1])
def test_a_zero_one_proof_for_another_value_fails(value: int) -> None:
    ciphertext, proof, _ = forged_option(key(), CONTEXT, 0, 0, value)
    ballot = sealed((0, 0))
    row = ballot.rows[0]
    mutated = replace_row(
        ballot,
        0,
        dataclasses.replace(
            row, ciphertexts=(ciphertext, *row.ciphertexts[1:]), proofs=(proof, *row.proofs[1:])
        ),
    )
    assert "ballot row 1 option 1: 0/1 proof fails" in ballot_problems(
        key(), CONTEXT, mutated, OPTIONS
    )


@pytest.mark.parametrize("field", ["c0", "c1", "v0", "v1"])
def test_a_changed_proof_scalar_fails(field: str) -> None:
    ballot = sealed((1, 0))
    row = ballot.rows[0]
    proof = row.proofs[0]
    bumped = dataclasses.replace(proof, **{field: (getattr(proof, field) + 1) % L})
    mutated = replace_row(ballot, 0, dataclasses.replace(row, proofs=(bumped, *row.proofs[1:])))
    with pytest.raises(SealedError, match="row 1 option 1: 0/1 proof fails"):
        verify_ballot(key(), CONTEXT, mutated, OPTIONS)


def test_swapped_challenges_fail() -> None:
    ballot = sealed((1, 0))
    row = ballot.rows[0]
    p = row.proofs[1]
    swapped = ZeroOneProof(p.c1, p.c0, p.v1, p.v0)
    mutated = replace_row(
        ballot, 0, dataclasses.replace(row, proofs=(row.proofs[0], swapped, row.proofs[2]))
    )
    with pytest.raises(SealedError, match="0/1 proof fails"):
        verify_ballot(key(), CONTEXT, mutated, OPTIONS)


@pytest.mark.parametrize("bits", [[1, 1, 0], [1, 1, 1], [0, 0, 0]])
def test_a_row_that_does_not_sum_to_one_fails(bits: list[int]) -> None:
    row = row_from_bits(key(), CONTEXT, 0, bits)
    mutated = replace_row(sealed(), 0, row)
    problems = ballot_problems(key(), CONTEXT, mutated, OPTIONS)
    # Each option alone is a proven 0 or 1; only the row's sum proof catches the ballot.
    assert problems == ["ballot row 1: the row does not provably sum to 1"]


def test_the_helper_makes_a_valid_row_from_one_bit() -> None:
    # The forging helpers are honest when given honest input: the failures above are the proofs'.
    row = row_from_bits(key(), CONTEXT, 0, [0, 1, 0])
    verify_ballot(key(), CONTEXT, replace_row(sealed(), 0, row), OPTIONS)


def test_a_sum_proof_for_two_fails_even_with_the_true_randomness() -> None:
    ballot = sealed()
    row = ballot.rows[1]
    two = encrypt_value(key(), 2, 77)
    forged = SealedRow(row.ciphertexts, row.proofs, sum_proof(key(), CONTEXT, 1, two, 77))
    assert ballot_problems(key(), CONTEXT, replace_row(ballot, 1, forged), OPTIONS) == [
        "ballot row 2: the row does not provably sum to 1"
    ]


def test_another_context_key_or_position_fails() -> None:
    ballot = sealed()
    other_round = dataclasses.replace(ROUND, round_id="round-2").context
    with pytest.raises(SealedError, match="proof fails"):
        verify_ballot(key(), other_round, ballot, OPTIONS)
    other_key = committee(2, 3)[0].public_key
    with pytest.raises(SealedError, match="proof fails"):
        verify_ballot(other_key, CONTEXT, ballot, OPTIONS)
    swapped = SealedBallot((ballot.rows[0], ballot.rows[0]))
    with pytest.raises(SealedError):
        verify_ballot(key(), CONTEXT, swapped, (3, 3))


def test_a_ballot_of_another_shape_is_refused() -> None:
    with pytest.raises(SealedError, match="do not match"):
        verify_ballot(key(), CONTEXT, sealed(), (2, 3))


# -- encodings that must be refused ------------------------------------------------------------


def _alpha_offset(row: int = 0, option: int = 0) -> int:
    return 4 + 2 + 2 + row * (3 * 192 + 64) + option * 192


def test_non_canonical_identity_and_invalid_points_are_refused() -> None:
    data = bytearray(sealed().to_bytes())
    at = _alpha_offset(0, 1)
    top = bytearray(data)
    top[at + 31] |= 0x80
    identity = bytearray(data)
    identity[at : at + 32] = bytes(32)
    invalid = bytearray(data)
    invalid[at : at + 32] = bytes.fromhex("01" + "00" * 31)
    for bad, message in ((top, "canonical"), (identity, "identity"), (invalid, "canonical")):
        with pytest.raises(SealedError, match=message):
            SealedBallot.from_bytes(bytes(bad))


def test_a_non_canonical_scalar_is_refused() -> None:
    data = bytearray(sealed().to_bytes())
    at = _alpha_offset(0, 0) + 64
    data[at : at + 32] = (int.from_bytes(data[at : at + 32], "little") + L).to_bytes(32, "little")
    with pytest.raises(SealedError, match="canonical scalar"):
        SealedBallot.from_bytes(bytes(data))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d[:-1],
        lambda d: d + b"\x00",
        lambda d: b"VSB2" + d[4:],
        lambda d: d[:4] + b"\x00\x00" + d[6:],
        lambda d: d[:6] + b"\x01" + d[7:],
        lambda d: d[:6] + b"\x09" + d[7:],
        lambda d: d[:4] + b"\x03\xe9" + d[6:],
        lambda d: b"",
    ],
)
def test_malformed_encodings_are_refused(mutate: object) -> None:
    assert callable(mutate)
    with pytest.raises(SealedError):
        SealedBallot.from_bytes(mutate(sealed().to_bytes()))


# -- trackers, box digest, tally ---------------------------------------------------------------


def test_the_tracker_is_sha256_over_the_framed_encoding() -> None:
    ballot = sealed()
    assert (
        tracker(ballot)
        == tracker(ballot.to_bytes())
        == group.digest("tracker", [ballot.to_bytes()])
    )
    text = tracker_text(tracker(ballot))
    assert len(text.replace("-", "")) == 52
    assert text == text.lower()


def test_the_box_digest_ignores_order_and_refuses_repeats() -> None:
    trackers = [tracker(sealed()) for _ in range(4)]
    digest = box_digest(CONTEXT, trackers)
    assert box_digest(CONTEXT, list(reversed(trackers))) == digest
    assert box_digest(CONTEXT, trackers[:3]) != digest
    assert box_digest(CONTEXT, [*trackers[:3], tracker(sealed())]) != digest
    with pytest.raises(SealedError, match="twice"):
        box_digest(CONTEXT, [*trackers, trackers[0]])
    expected = group.digest("ballot-box", [CONTEXT, (4).to_bytes(4, "big"), *sorted(trackers)])
    assert digest == expected


@settings(max_examples=8, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1)), min_size=0, max_size=6))
def test_the_decrypted_tally_is_the_plain_count(votes: list[tuple[int, int]]) -> None:
    public, keys = committee(2, 3)
    ballots = [seal_ballot(public.public_key, CONTEXT, list(v), list(OPTIONS)) for v in votes]
    tally = aggregate(public.public_key, CONTEXT, ballots, OPTIONS)
    partials = [partial_decrypt(keys[i], public, CONTEXT, tally) for i in (0, 2)]
    expected = [[0, 0, 0], [0, 0]]
    for first, second in votes:
        expected[0][first] += 1
        expected[1][second] += 1
    assert combine(public, CONTEXT, tally, partials) == expected
    assert tally.count == len(votes)


def test_the_forging_helper_is_honest_for_one() -> None:
    ciphertext, proof, _ = forged_option(key(), CONTEXT, 0, 1, 1)
    assert zero_one_valid(key(), CONTEXT, 0, 1, ciphertext, proof)
    assert not zero_one_valid(key(), CONTEXT, 0, 2, ciphertext, proof)


def test_aggregation_in_processes_gives_the_same_tally() -> None:
    ballots = [sealed((i % 3, i % 2)) for i in range(5)]
    assert aggregate(key(), CONTEXT, ballots, OPTIONS, workers=2) == aggregate(
        key(), CONTEXT, ballots, OPTIONS, workers=1
    )
    assert aggregate(key(), CONTEXT, ballots, OPTIONS, workers=2).count == 5


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_a_changed_byte_is_refused_or_is_another_canonical_ballot(at: int, flip: int) -> None:
    data = bytearray(_encoded())
    data[at % len(data)] ^= flip
    try:
        decoded = SealedBallot.from_bytes(bytes(data))
    except SealedError:
        return
    # Whatever decodes has exactly this encoding (no second spelling) and fails its proofs.
    assert decoded.to_bytes() == bytes(data)
    assert ballot_problems(key(), CONTEXT, decoded, OPTIONS)


_ENCODED: list[bytes] = []


def _encoded() -> bytes:
    if not _ENCODED:
        _ENCODED.append(sealed().to_bytes())
    return _ENCODED[0]


def test_aggregation_reads_encodings_and_adds_shards() -> None:
    ballots = [sealed((i % 3, (i + 1) % 2)) for i in range(4)]
    whole = aggregate(key(), CONTEXT, ballots, OPTIONS)
    assert aggregate(key(), CONTEXT, [b.to_bytes() for b in ballots], OPTIONS) == whole
    shards = [
        aggregate(key(), CONTEXT, ballots[:1], OPTIONS),
        aggregate(key(), CONTEXT, ballots[1:], OPTIONS),
    ]
    assert sum_tallies(shards, OPTIONS) == whole
    with pytest.raises(SealedError, match="rows"):
        sum_tallies([whole], (3, 3))
    bad = bytearray(ballots[0].to_bytes())
    bad[8 + 31] |= 0x80  # the top bit of the first alpha
    with pytest.raises(SealedError, match="canonical"):
        aggregate(key(), CONTEXT, [bytes(bad)], OPTIONS)


def test_sealing_with_precomputed_pads_gives_valid_ballots_and_uses_each_pad_once() -> None:
    pads = SealingPads(key())
    pads.fill(options=10, rows=4)
    first = seal_ballot(key(), CONTEXT, [2, 1], list(OPTIONS), pads=pads)
    assert pads.available() == (5, 2)
    second = seal_ballot(key(), CONTEXT, [2, 1], list(OPTIONS), pads=pads)
    assert pads.available() == (0, 0)
    third = seal_ballot(key(), CONTEXT, [2, 1], list(OPTIONS), pads=pads)  # empty: fresh draws
    for ballot in (first, second, third):
        verify_ballot(key(), CONTEXT, ballot, OPTIONS)
    alphas = [c.alpha for b in (first, second, third) for row in b.rows for c in row.ciphertexts]
    assert len(set(alphas)) == len(alphas) == 15
    tally = aggregate(key(), CONTEXT, [first, second, third], OPTIONS)
    public, keys = committee(1, 1)
    assert combine(public, CONTEXT, tally, [partial_decrypt(keys[0], public, CONTEXT, tally)]) == [
        [0, 0, 3],
        [0, 3],
    ]


def test_pads_for_another_key_are_refused() -> None:
    pads = SealingPads(committee(2, 3)[0].public_key)
    with pytest.raises(SealedError, match="another key"):
        seal_ballot(key(), CONTEXT, [0, 0], list(OPTIONS), pads=pads)


def test_the_tally_adds_every_option_but_the_last_and_finds_it_from_the_count() -> None:
    votes = [(0, 1), (2, 1), (0, 0), (1, 1), (2, 1)]
    ballots = [sealed(v) for v in votes]
    tally = aggregate(key(), CONTEXT, ballots, OPTIONS)
    assert [len(row) for row in tally.rows] == [2, 1]  # 3 and 2 options
    assert tally.options == OPTIONS
    assert tally.count == 5
    public, keys = committee(1, 1)
    partial = partial_decrypt(keys[0], public, CONTEXT, tally)
    assert [len(row) for row in partial.rows] == [2, 1]
    # Counted by hand from `votes`: row 1 has 2 × 0, 1 × 1, 2 × 2; row 2 has 1 × 0, 4 × 1.
    assert combine(public, CONTEXT, tally, [partial]) == [[2, 1, 2], [1, 4]]


def test_a_row_of_one_one_minus_one_is_caught_by_the_last_option_s_proof() -> None:
    # (1, 1, −1) adds up to 1, so the row proof holds, and the first two options are proven
    # bits: without the last option's own proof, ballots − the others would count it as −1.
    forged = replace_row(sealed(), 0, row_with_values(key(), CONTEXT, 0, [1, 1, -1]))
    assert ballot_problems(key(), CONTEXT, forged, OPTIONS) == [
        "ballot row 1 option 3: 0/1 proof fails"
    ]
    problems, trackers, tally = check_box(key(), CONTEXT, [sealed(), forged], OPTIONS)
    assert problems == ["ballot 2: ballot row 1 option 3: 0/1 proof fails"]
    assert len(trackers) == 2
    assert tally.count == 1
    with pytest.raises(SealedError, match="ballot 2: ballot row 1 option 3"):
        aggregate(key(), CONTEXT, [sealed(), forged.to_bytes()], OPTIONS)


def test_adding_up_without_proofs_gives_the_checked_totals_and_refuses_what_does_not_decode() -> (
    None
):
    ballots = [sealed((0, 1)), sealed((1, 0)), sealed((2, 1))]
    encodings = [b.to_bytes() for b in ballots]
    assert add_up(key(), CONTEXT, encodings, OPTIONS) == aggregate(key(), CONTEXT, ballots, OPTIONS)
    broken = bytearray(encodings[1])
    broken[-1] ^= 0xFF
    with pytest.raises(SealedError, match="ballot 2"):
        add_up(key(), CONTEXT, [encodings[0], bytes(broken)], OPTIONS)
    with pytest.raises(SealedError, match="ballot 1: its rows"):
        add_up(key(), CONTEXT, [encodings[0]], (*OPTIONS, 3))
    # In two processes: the same points, and a bad ballot named by its place in the box.
    assert add_up(key(), CONTEXT, encodings, OPTIONS, workers=2) == add_up(
        key(), CONTEXT, encodings, OPTIONS, workers=1
    )
    with pytest.raises(SealedError, match="ballot 3"):
        add_up(key(), CONTEXT, [*encodings[:2], bytes(broken)], OPTIONS, workers=2)


def _last_option_moved(ballot: SealedBallot) -> SealedBallot:
    """The ballot with G added to the last option of its second row (it encrypts 1 more)."""
    row = ballot.rows[1]
    last = row.ciphertexts[-1]
    moved = dataclasses.replace(last, beta=group.add(last.beta, group.GENERATOR))
    return replace_row(ballot, 1, dataclasses.replace(row, ciphertexts=(row.ciphertexts[0], moved)))


def test_adding_up_leaves_the_proofs_to_the_verifier() -> None:
    # What add_up does not do (docs/CRYPTO.md §9): a ballot whose last option was changed is
    # added as it is; only the checks of the verifier refuse it.
    changed = _last_option_moved(sealed((1, 0)))
    assert add_up(key(), CONTEXT, [changed.to_bytes()], OPTIONS).count == 1
    with pytest.raises(SealedError, match="0/1 proof fails"):
        aggregate(key(), CONTEXT, [changed.to_bytes()], OPTIONS)


def test_a_changed_last_option_is_refused_when_counting() -> None:
    changed = _last_option_moved(sealed((1, 0)))
    with pytest.raises(SealedError, match="ballot 1: ballot row 2 option 2: 0/1 proof fails"):
        aggregate(key(), CONTEXT, [changed.to_bytes(), sealed().to_bytes()], OPTIONS, workers=2)


def test_a_tally_whose_decryption_exceeds_the_count_is_refused() -> None:
    # A tally claiming fewer ballots than its first options hold: the last total would be
    # negative, which is refused rather than reported.
    ballots = [sealed((0, 0)), sealed((0, 0))]
    tally = aggregate(key(), CONTEXT, ballots, OPTIONS)
    short = dataclasses.replace(tally, count=1)
    public, keys = committee(1, 1)
    partial = partial_decrypt(keys[0], public, CONTEXT, short)
    with pytest.raises(SealedError):
        combine(public, CONTEXT, short, [partial])
