"""Shared pieces of the sealed-ballot tests: committees, rounds, forged ballots."""

from __future__ import annotations

from functools import cache

from votes.sealed import (
    Committee,
    MemberKey,
    RoundParameters,
    ceremony_context,
    group,
    make_committee,
    make_shares,
    new_member,
    receive_shares,
)
from votes.sealed.ballot import (
    Ciphertext,
    SealedBallot,
    SealedRow,
    SumProof,
    ZeroOneProof,
    _seal_option,
    _sum_challenge,
)
from votes.sealed.sodium import L

ROUND = RoundParameters("test.example", "round-1", ("Nguyễn Văn A", "Trần Thị B"), (3, 2))


@cache
def committee(k: int, n: int) -> tuple[Committee, tuple[MemberKey, ...]]:
    """Run a whole k-of-n ceremony in one process (each member's steps as on its machine)."""
    ceremony = ceremony_context("test.example", f"Ban kiểm phiếu {k}/{n}", k, n)
    made = [new_member(ceremony, index, k, n) for index in range(1, n + 1)]
    public = make_committee(ceremony, [p for p, _ in made])
    shares = [share for _, secret in made for share in make_shares(secret, public)]
    keys = tuple(receive_shares(secret, public, shares) for _, secret in made)
    return public, keys


def encrypt_value(public_key: bytes, value: int, r: int) -> Ciphertext:
    """Encrypt any integer (also a forbidden one) with known randomness."""
    beta = (
        group.add(group.mult(r, public_key), group.base_mult(value))
        if value
        else group.mult(r, public_key)
    )
    return Ciphertext(group.base_mult(r), beta)


def forged_option(
    public_key: bytes, context: bytes, row: int, option: int, value: int
) -> tuple[Ciphertext, ZeroOneProof, int]:
    """Encrypt value (say 2) with a proof made as if it were 1: what a cheating server would try."""
    ciphertext, proof, r = _seal_option(public_key, context, row, option, 1)
    if value == 1:
        return ciphertext, proof, r
    # Same randomness, another plaintext: the proof made for "1" must not verify for it.
    return encrypt_value(public_key, value, r), proof, r


def sum_proof(
    public_key: bytes, context: bytes, row: int, product: Ciphertext, randomness: int
) -> SumProof:
    """Run the honest sum prover over whatever the product encrypts."""
    w = group.random_scalar()
    a, b = group.base_mult(w), group.mult(w, public_key)
    c = _sum_challenge(public_key, context, row, product, a, b)
    return SumProof(c, (w + c * randomness) % L)


def row_from_bits(public_key: bytes, context: bytes, row: int, bits: list[int]) -> SealedRow:
    """Seal a row whose options are the given bits (each proof honest), e.g. [1, 1, 0]."""
    sealed = [
        _seal_option(public_key, context, row, option, bit) for option, bit in enumerate(bits)
    ]
    ciphertexts = tuple(item[0] for item in sealed)
    product = ciphertexts[0]
    for item in ciphertexts[1:]:
        product = product + item
    randomness = sum(item[2] for item in sealed) % L
    return SealedRow(
        ciphertexts,
        tuple(item[1] for item in sealed),
        sum_proof(public_key, context, row, product, randomness),
    )


def replace_row(ballot: SealedBallot, index: int, row: SealedRow) -> SealedBallot:
    """Return the ballot with one row replaced."""
    rows = list(ballot.rows)
    rows[index] = row
    return SealedBallot(tuple(rows))


def row_with_values(public_key: bytes, context: bytes, row: int, values: list[int]) -> SealedRow:
    """Seal a row whose options encrypt the given integers, e.g. [1, 1, -1]: each option's
    proof made as if it were 1 (so those not 0 or 1 fail it), and an honest sum proof over the
    row's product (which holds when the values add up to 1)."""
    sealed = [
        forged_option(public_key, context, row, option, value)
        for option, value in enumerate(values)
    ]
    ciphertexts = tuple(item[0] for item in sealed)
    product = ciphertexts[0]
    for item in ciphertexts[1:]:
        product = product + item
    randomness = sum(item[2] for item in sealed) % L
    return SealedRow(
        ciphertexts,
        tuple(item[1] for item in sealed),
        sum_proof(public_key, context, row, product, randomness),
    )
