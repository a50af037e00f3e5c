"""Member key files: passphrase-protected, small enough for a printed QR (docs/CRYPTO.md §11).

    file = "VSK1" ‖ kind (1 byte) ‖ opslimit (4) ‖ memlimit KiB (4) ‖ salt (16) ‖ nonce (24) ‖ box

The box is crypto_secretbox (XSalsa20-Poly1305) of the payload under
SHA-256(frame("key-file", header, Argon2id(passphrase, salt, opslimit, memlimit))), so a changed
header, a wrong passphrase or a damaged byte all fail to open. Kind 1 holds a member's ceremony
secrets (polynomial and share-key secret), kind 2 the final member key.
"""

from __future__ import annotations

import base64
import hashlib
import unicodedata
from typing import Final

from votes.sealed import group, sodium
from votes.sealed.committee import MemberKey, MemberSecret
from votes.sealed.group import SealedError

MAGIC: Final = b"VSK1"
KIND_SECRET: Final = 1
KIND_KEY: Final = 2
HEADER_BYTES: Final = 4 + 1 + 4 + 4 + sodium.PWHASH_SALT_BYTES + sodium.SECRETBOX_NONCE_BYTES
# Argon2id costs (libsodium's named limits): "moderate" is the default for real key files.
STRENGTHS: Final = {
    "interactive": (2, 64 * 1024 * 1024),
    "moderate": (3, 256 * 1024 * 1024),
    "sensitive": (4, 1024 * 1024 * 1024),
}
MIN_PASSPHRASE: Final = 10
PRINT_HEADER: Final = "VOTES-SEALED-KEY-1"


class KeyFileError(SealedError):
    """A key file that does not open: wrong passphrase, damaged or not a key file."""


def _payload(secret: MemberSecret | MemberKey) -> tuple[int, bytes]:
    head = secret.ceremony + b"".join(
        x.to_bytes(2, "big") for x in (secret.index, secret.k, secret.n)
    )
    if isinstance(secret, MemberSecret):
        body = group.scalar(secret.share_secret) + b"".join(
            group.scalar(a) for a in secret.coefficients
        )
        return KIND_SECRET, head + body
    body = group.scalar(secret.secret) + secret.public_key + secret.verification_key
    return KIND_KEY, head + body


def _box_key(header: bytes, passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    normal = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    stretched = sodium.pwhash(normal, salt, opslimit, memlimit)
    return group.digest("key-file", [header, stretched])


def lock(secret: MemberSecret | MemberKey, passphrase: str, strength: str = "moderate") -> bytes:
    """Return the key file of a member's secrets, encrypted under a passphrase."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyFileError(f"the passphrase needs at least {MIN_PASSPHRASE} characters")
    opslimit, memlimit = STRENGTHS[strength]
    kind, payload = _payload(secret)
    salt = sodium.random_bytes(sodium.PWHASH_SALT_BYTES)
    nonce = sodium.random_bytes(sodium.SECRETBOX_NONCE_BYTES)
    header = (
        MAGIC
        + bytes([kind])
        + opslimit.to_bytes(4, "big")
        + (memlimit // 1024).to_bytes(4, "big")
        + salt
        + nonce
    )
    key = _box_key(header, passphrase, salt, opslimit, memlimit)
    return header + sodium.secretbox(payload, nonce, key)


def unlock(data: bytes, passphrase: str) -> MemberSecret | MemberKey:
    """Open a key file; raise KeyFileError for a wrong passphrase or a damaged file."""
    if len(data) < HEADER_BYTES + sodium.SECRETBOX_MAC_BYTES or data[:4] != MAGIC:
        raise KeyFileError("not a sealed-ballot key file")
    header, box = data[:HEADER_BYTES], data[HEADER_BYTES:]
    kind = header[4]
    opslimit = int.from_bytes(header[5:9], "big")
    memlimit = int.from_bytes(header[9:13], "big") * 1024
    if kind not in (KIND_SECRET, KIND_KEY) or (opslimit, memlimit) not in STRENGTHS.values():
        raise KeyFileError("not a sealed-ballot key file")
    salt = header[13 : 13 + sodium.PWHASH_SALT_BYTES]
    nonce = header[13 + sodium.PWHASH_SALT_BYTES :]
    payload = sodium.secretbox_open(
        box, nonce, _box_key(header, passphrase, salt, opslimit, memlimit)
    )
    if payload is None:
        raise KeyFileError("wrong passphrase, or the key file is damaged")
    ceremony = payload[:32]
    index, k, n = (int.from_bytes(payload[32 + 2 * i : 34 + 2 * i], "big") for i in range(3))
    rest = payload[38:]
    if not 1 <= index <= n or not 1 <= k <= n or len(rest) < 32:
        raise KeyFileError("the key file is damaged")
    first = group.read_scalar(rest[:32], "key file")
    if kind == KIND_SECRET:
        if len(rest) != 32 * (k + 1):
            raise KeyFileError("the key file is damaged")
        coefficients = tuple(
            group.read_scalar(rest[32 * i : 32 * (i + 1)], "key file") for i in range(1, k + 1)
        )
        return MemberSecret(ceremony, index, k, n, coefficients, first)
    if len(rest) != 96:
        raise KeyFileError("the key file is damaged")
    public_key = group.check_point(rest[32:64], "key file joint key")
    verification_key = group.check_point(rest[64:96], "key file verification key")
    return MemberKey(ceremony, index, k, n, first, public_key, verification_key)


def _check(data: bytes) -> str:
    return base64.b32encode(hashlib.sha256(data).digest()[:5]).decode("ascii")


def printable(data: bytes) -> str:
    """Return a key file as text to print or type: a header, base32 in groups, a check group."""
    text = base64.b32encode(data).decode("ascii").rstrip("=")
    groups = [text[i : i + 4] for i in range(0, len(text), 4)]
    lines = [" ".join(groups[i : i + 10]) for i in range(0, len(groups), 10)]
    return "\n".join([PRINT_HEADER, *lines, f"CHECK {_check(data)}"]) + "\n"


def qr_payload(data: bytes) -> str:
    """Return a key file as one line of QR alphanumeric characters (header:base32:check)."""
    text = base64.b32encode(data).decode("ascii").rstrip("=")
    return f"{PRINT_HEADER}:{text}:{_check(data)}"


def from_printable(text: str) -> bytes:
    """Read a key file back from its printed or QR form; raise KeyFileError on a typing error."""
    cleaned = "".join(text.split()).upper().replace("-", "")
    header = PRINT_HEADER.replace("-", "")
    if cleaned.startswith(header):
        cleaned = cleaned[len(header) :].lstrip(":")
    if "CHECK" in cleaned:
        body, _, check = cleaned.rpartition("CHECK")
    else:
        body, _, check = cleaned.rpartition(":")
    body = body.rstrip(":")
    try:
        data = base64.b32decode(body + "=" * (-len(body) % 8))
    except ValueError:
        raise KeyFileError("the printed key contains characters that are not base32") from None
    if check != _check(data):
        raise KeyFileError("the printed key's check group does not match: a typing error?")
    return data
