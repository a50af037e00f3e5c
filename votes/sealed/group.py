"""The group, encodings, hash and random source of sealed ballots (docs/CRYPTO.md §1–§3).

Points are ristretto255 elements in their canonical 32-byte encoding; scalars are integers modulo
L, written as 32 bytes little-endian. Every hash of the protocol goes through `frame`: a fixed
prefix, a tag naming the use, then each part with its length, so that no two statements with
different parts can hash the same input (domain separation and unambiguous framing).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Final

from votes.sealed import sodium
from votes.sealed.sodium import IDENTITY, L

GROUP: Final = "ristretto255"
VERSION: Final = "votes-sealed/1"
PREFIX: Final = b"votes-sealed/1\x00"
GENERATOR: Final = sodium.base_mult(1)


class SealedError(ValueError):
    """Sealed-ballot data that is malformed, invalid or does not verify; the message says why."""


# The random source. Only the operating system's randomness (libsodium's generator) is used;
# the test suite may swap in a seeded generator through votes.sealed.testing.deterministic, so
# that the test vectors of docs/CRYPTO.md can be recomputed. Nothing else sets it. The swap
# holds for the calling thread only: another thread (the sealing pads' refill) keeps drawing
# from the operating system, and never consumes or receives the seeded values.
_source = threading.local()


def random_scalar() -> int:
    """Return a fresh uniformly random non-zero scalar."""
    seeded: Callable[[], int] | None = getattr(_source, "draw", None)
    return seeded() if seeded is not None else sodium.random_scalar()


def set_random_source(source: Callable[[], int] | None) -> Callable[[], int] | None:
    """Replace this thread's random source (testing hook; None restores the OS's); return the
    previous one."""
    previous: Callable[[], int] | None = getattr(_source, "draw", None)
    _source.draw = source
    return previous


def u32(value: int) -> bytes:
    """Encode a non-negative integer as 4 bytes big-endian (indices and counts in statements)."""
    if not 0 <= value < 2**32:
        raise SealedError(f"integer out of range: {value}")
    return value.to_bytes(4, "big")


def frame(tag: str, parts: Iterable[bytes]) -> bytes:
    """Return the unambiguous hash input PREFIX ‖ len(tag) ‖ tag ‖ (len(part) ‖ part)*."""
    label = tag.encode("ascii")
    chunks = [PREFIX, len(label).to_bytes(2, "big"), label]
    for part in parts:
        chunks.append(len(part).to_bytes(4, "big"))
        chunks.append(part)
    return b"".join(chunks)


def digest(tag: str, parts: Iterable[bytes]) -> bytes:
    """Return SHA-256 of the framed parts (trackers, digests, contexts)."""
    return hashlib.sha256(frame(tag, parts)).digest()


def challenge(tag: str, parts: Iterable[bytes]) -> int:
    """Return the Fiat–Shamir challenge SHA-512(frame) read little-endian, reduced modulo L."""
    return int.from_bytes(hashlib.sha512(frame(tag, parts)).digest(), "little") % L


def scalar(value: int) -> bytes:
    """Encode a scalar as 32 bytes little-endian."""
    return sodium.scalar_to_bytes(value)


def read_scalar(encoding: bytes, what: str) -> int:
    """Decode a canonical scalar or raise SealedError naming what it was."""
    value = sodium.scalar_from_bytes(encoding)
    if value is None:
        raise SealedError(f"{what}: not a canonical scalar")
    return value


def check_point(encoding: bytes, what: str, *, allow_identity: bool = False) -> bytes:
    """Return the encoding if it is a canonical ristretto255 point, else raise SealedError."""
    if not sodium.is_canonical_point(encoding):
        raise SealedError(f"{what}: not a canonical ristretto255 point")
    if not allow_identity and encoding == IDENTITY:
        raise SealedError(f"{what}: the identity element is not allowed here")
    return encoding


def point_from_hex(text: object, what: str, *, allow_identity: bool = False) -> bytes:
    """Decode a lowercase hex point from a record or raise SealedError."""
    return check_point(hex_bytes(text, what, 32), what, allow_identity=allow_identity)


def hex_bytes(text: object, what: str, size: int | None = None) -> bytes:
    """Decode lowercase hex text (of size bytes, when given) or raise SealedError."""
    if not isinstance(text, str) or text != text.lower():
        raise SealedError(f"{what}: expected lowercase hex text")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise SealedError(f"{what}: expected lowercase hex text") from None
    if size is not None and len(raw) != size:
        raise SealedError(f"{what}: expected {size} bytes")
    return raw


def base_mult(value: int) -> bytes:
    """Return value·G."""
    return sodium.base_mult(value)


def mult(value: int, point: bytes) -> bytes:
    """Return value·P for a validated point P."""
    return sodium.mult(value, point)


def add(p: bytes, q: bytes) -> bytes:
    """Return P + Q."""
    return sodium.add(p, q)


def sub(p: bytes, q: bytes) -> bytes:
    """Return P − Q."""
    return sodium.sub(p, q)


def total(points: Sequence[bytes]) -> bytes:
    """Return the sum of points (the identity for none)."""
    result = IDENTITY
    for point in points:
        result = sodium.add(result, point)
    return result


def lagrange(index: int, present: Sequence[int]) -> int:
    """Return the Lagrange coefficient at 0 of member index for the set of present indices."""
    numerator, denominator = 1, 1
    for other in present:
        if other != index:
            numerator = numerator * other % L
            denominator = denominator * (other - index) % L
    return numerator * pow(denominator, -1, L) % L
