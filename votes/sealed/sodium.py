"""libsodium's ristretto255 group, secretbox and Argon2id, reached through ctypes.

PyNaCl (PyPI `pynacl`, 1.6) wraps no ristretto255 function and its bundled libsodium exports no
symbol, so this module loads the system's libsodium (Debian `libsodium23`, ≥ 1.0.18; .ci/run
installs it). Only this module touches ctypes; every other module of the package calls the
checked functions below, which refuse what libsodium would let through:

- a point encoding must be 32 bytes, canonical (libsodium 1.0.18 ignores the top bit of the last
  byte, so two encodings would name one point: the top bit must be clear) and a valid ristretto255
  point;
- scalars are Python integers reduced modulo the group order L;
- `crypto_scalarmult_ristretto255` returns -1 when the product is the identity: for a valid input
  point that is a result (the identity, 32 zero bytes), not a failure.

The group arithmetic itself is libsodium's; nothing here computes on curve coordinates.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Final

# The prime order of the ristretto255 group (RFC 9496, section 4).
L: Final = 2**252 + 27742317777372353535851937790883648493
POINT_BYTES: Final = 32
SCALAR_BYTES: Final = 32
IDENTITY: Final = bytes(32)
SECRETBOX_KEY_BYTES: Final = 32
SECRETBOX_NONCE_BYTES: Final = 24
SECRETBOX_MAC_BYTES: Final = 16
PWHASH_SALT_BYTES: Final = 16
PWHASH_ALG_ARGON2ID13: Final = 2


class SodiumError(RuntimeError):
    """libsodium is missing, too old, or refused an operation it should have done."""


def _load() -> ctypes.CDLL:
    names = [
        ctypes.util.find_library("sodium"),
        "libsodium.so.23",
        "libsodium.so",
        "libsodium.dylib",
    ]
    for name in names:
        if not name:
            continue
        try:
            library = ctypes.CDLL(name)
        except OSError:
            continue
        if hasattr(library, "crypto_core_ristretto255_is_valid_point"):
            return library
    raise SodiumError(
        "libsodium ≥ 1.0.18 with ristretto255 is needed (Debian: apt-get install libsodium23)"
    )


_lib: Final = _load()
if _lib.sodium_init() < 0:  # pragma: no cover - only on a broken installation
    raise SodiumError("sodium_init failed")

_lib.sodium_version_string.restype = ctypes.c_char_p
_lib.crypto_pwhash.argtypes = [
    ctypes.c_char_p,
    ctypes.c_ulonglong,
    ctypes.c_char_p,
    ctypes.c_ulonglong,
    ctypes.c_char_p,
    ctypes.c_ulonglong,
    ctypes.c_size_t,
    ctypes.c_int,
]
_lib.crypto_secretbox_easy.argtypes = [
    ctypes.c_char_p,
    ctypes.c_char_p,
    ctypes.c_ulonglong,
    ctypes.c_char_p,
    ctypes.c_char_p,
]
_lib.crypto_secretbox_open_easy.argtypes = _lib.crypto_secretbox_easy.argtypes


def version() -> str:
    """Return the version string of the loaded libsodium."""
    raw: bytes = _lib.sodium_version_string()
    return raw.decode("ascii")


def is_canonical_point(encoding: bytes) -> bool:
    """Tell whether bytes are the canonical encoding of a ristretto255 point (identity included)."""
    return (
        isinstance(encoding, bytes)
        and len(encoding) == POINT_BYTES
        and encoding[31] & 0x80 == 0
        and _lib.crypto_core_ristretto255_is_valid_point(encoding) == 1
    )


def _scalar_bytes(scalar: int) -> bytes:
    return (scalar % L).to_bytes(SCALAR_BYTES, "little")


def scalar_from_bytes(encoding: bytes) -> int | None:
    """Read a canonical scalar (32 bytes little-endian, below L); None when it is not one."""
    if len(encoding) != SCALAR_BYTES:
        return None
    value = int.from_bytes(encoding, "little")
    return value if value < L else None


def scalar_to_bytes(scalar: int) -> bytes:
    """Encode a scalar (reduced modulo L) as 32 bytes little-endian."""
    return _scalar_bytes(scalar)


def base_mult(scalar: int) -> bytes:
    """Return scalar·G for the ristretto255 generator G."""
    out = ctypes.create_string_buffer(POINT_BYTES)
    if _lib.crypto_scalarmult_ristretto255_base(out, _scalar_bytes(scalar)) != 0:
        return IDENTITY  # only when scalar ≡ 0 (mod L)
    return out.raw


def mult(scalar: int, point: bytes) -> bytes:
    """Return scalar·point; the point must already be validated (see is_canonical_point)."""
    out = ctypes.create_string_buffer(POINT_BYTES)
    if _lib.crypto_scalarmult_ristretto255(out, _scalar_bytes(scalar), point) != 0:
        # libsodium refuses an identity result and an undecodable input alike; callers pass
        # only validated points, so this is the identity (checked, not assumed).
        if not is_canonical_point(point):
            raise SodiumError("scalar multiplication of an invalid point")
        return IDENTITY
    return out.raw


def add(p: bytes, q: bytes) -> bytes:
    """Return p + q (validated points)."""
    out = ctypes.create_string_buffer(POINT_BYTES)
    if _lib.crypto_core_ristretto255_add(out, p, q) != 0:
        raise SodiumError("addition of an invalid point")
    return out.raw


def sub(p: bytes, q: bytes) -> bytes:
    """Return p − q (validated points)."""
    out = ctypes.create_string_buffer(POINT_BYTES)
    if _lib.crypto_core_ristretto255_sub(out, p, q) != 0:
        raise SodiumError("subtraction of an invalid point")
    return out.raw


def random_scalar() -> int:
    """Return a uniformly random non-zero scalar from libsodium's OS-seeded generator."""
    out = ctypes.create_string_buffer(SCALAR_BYTES)
    _lib.crypto_core_ristretto255_scalar_random(out)
    return int.from_bytes(out.raw, "little")


def random_bytes(size: int) -> bytes:
    """Return size bytes from libsodium's generator (the operating system's randomness)."""
    out = ctypes.create_string_buffer(size)
    _lib.randombytes_buf(out, ctypes.c_size_t(size))
    return out.raw


def secretbox(message: bytes, nonce: bytes, key: bytes) -> bytes:
    """Encrypt and authenticate with XSalsa20-Poly1305 (crypto_secretbox_easy)."""
    if len(nonce) != SECRETBOX_NONCE_BYTES or len(key) != SECRETBOX_KEY_BYTES:
        raise SodiumError("secretbox nonce or key of the wrong size")
    out = ctypes.create_string_buffer(len(message) + SECRETBOX_MAC_BYTES)
    if _lib.crypto_secretbox_easy(out, message, len(message), nonce, key) != 0:
        raise SodiumError("crypto_secretbox_easy failed")
    return out.raw


def secretbox_open(box: bytes, nonce: bytes, key: bytes) -> bytes | None:
    """Decrypt a secretbox; None when it was not made with this key and nonce or was altered."""
    if (
        len(nonce) != SECRETBOX_NONCE_BYTES
        or len(key) != SECRETBOX_KEY_BYTES
        or len(box) < SECRETBOX_MAC_BYTES
    ):
        return None
    out = ctypes.create_string_buffer(len(box) - SECRETBOX_MAC_BYTES)
    if _lib.crypto_secretbox_open_easy(out, box, len(box), nonce, key) != 0:
        return None
    return out.raw


def pwhash(passphrase: bytes, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    """Derive a 32-byte key from a passphrase with Argon2id (crypto_pwhash, ALG_ARGON2ID13)."""
    if len(salt) != PWHASH_SALT_BYTES:
        raise SodiumError("pwhash salt of the wrong size")
    out = ctypes.create_string_buffer(SECRETBOX_KEY_BYTES)
    status = _lib.crypto_pwhash(
        out,
        SECRETBOX_KEY_BYTES,
        passphrase,
        len(passphrase),
        salt,
        opslimit,
        memlimit,
        PWHASH_ALG_ARGON2ID13,
    )
    if status != 0:
        raise SodiumError("crypto_pwhash failed (out of memory?)")
    return out.raw
