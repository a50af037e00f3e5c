"""The group layer: point validation, canonical encodings, framing, Lagrange coefficients."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from votes.sealed import group, sodium
from votes.sealed.group import SealedError
from votes.sealed.sodium import IDENTITY, L

# RFC 9496 §A.1: encodings of the multiples 0·B, 1·B, 2·B, 3·B of the ristretto255 generator.
MULTIPLES = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
    "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
    "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
]
# RFC 9496 §A.2 (some of the bad encodings): non-canonical field elements and negative ones.
BAD = [
    "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
]


def test_the_generator_and_its_multiples_match_rfc_9496() -> None:
    for multiple, expected in enumerate(MULTIPLES):
        assert group.base_mult(multiple).hex() == expected
    assert group.GENERATOR.hex() == MULTIPLES[1]


@pytest.mark.parametrize("encoding", BAD)
def test_bad_encodings_from_rfc_9496_are_refused(encoding: str) -> None:
    assert not sodium.is_canonical_point(bytes.fromhex(encoding))
    with pytest.raises(SealedError, match="canonical"):
        group.check_point(bytes.fromhex(encoding), "point")


def test_a_set_top_bit_is_refused_although_libsodium_1_0_18_accepts_it() -> None:
    flipped = bytearray(group.GENERATOR)
    flipped[31] |= 0x80
    with pytest.raises(SealedError, match="canonical"):
        group.check_point(bytes(flipped), "point")


def test_the_identity_is_refused_unless_allowed() -> None:
    with pytest.raises(SealedError, match="identity"):
        group.check_point(IDENTITY, "point")
    assert group.check_point(IDENTITY, "sum", allow_identity=True) == IDENTITY


@pytest.mark.parametrize("size", [0, 31, 33])
def test_wrong_lengths_are_refused(size: int) -> None:
    with pytest.raises(SealedError):
        group.check_point(bytes(size), "point")


def test_scalars_must_be_canonical() -> None:
    assert group.read_scalar((L - 1).to_bytes(32, "little"), "s") == L - 1
    for bad in (L.to_bytes(32, "little"), (2**256 - 1).to_bytes(32, "little"), bytes(31)):
        with pytest.raises(SealedError, match="canonical scalar"):
            group.read_scalar(bad, "s")


def test_the_frame_is_the_documented_byte_string() -> None:
    expected = b"votes-sealed/1\x00" + b"\x00\x03tag" + b"\x00\x00\x00\x02ab" + b"\x00\x00\x00\x00"
    assert group.frame("tag", [b"ab", b""]) == expected
    assert group.digest("tag", [b"ab", b""]) == hashlib.sha256(expected).digest()
    value = int.from_bytes(hashlib.sha512(expected).digest(), "little") % L
    assert group.challenge("tag", [b"ab", b""]) == value


def test_framing_separates_parts_and_tags() -> None:
    assert group.digest("t", [b"ab", b"c"]) != group.digest("t", [b"a", b"bc"])
    assert group.digest("t", [b"abc"]) != group.digest("u", [b"abc"])


def test_point_arithmetic_is_consistent() -> None:
    p, q = group.base_mult(5), group.base_mult(7)
    assert group.add(p, q) == group.base_mult(12)
    assert group.sub(p, q) == group.base_mult(L - 2)
    assert group.mult(3, p) == group.base_mult(15)
    assert group.mult(L, p) == IDENTITY
    assert group.sub(p, p) == IDENTITY


@settings(max_examples=30, deadline=None)
@given(st.sets(st.integers(min_value=1, max_value=30), min_size=1, max_size=6), st.data())
def test_lagrange_recovers_the_constant_term(present: set[int], data: st.DataObject) -> None:
    degree = len(present) - 1
    coefficients = data.draw(
        st.lists(st.integers(0, L - 1), min_size=degree + 1, max_size=degree + 1)
    )

    def poly(x: int) -> int:
        return sum(a * x**j for j, a in enumerate(coefficients)) % L

    indices = sorted(present)
    recovered = sum(group.lagrange(i, indices) * poly(i) for i in indices) % L
    assert recovered == coefficients[0]


def test_randomness_is_fresh() -> None:
    draws = {group.random_scalar() for _ in range(50)}
    assert len(draws) == 50
    assert all(0 < x < L for x in draws)
