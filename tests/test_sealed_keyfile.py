"""Member key files: passphrase protection, damage detection, printed and QR forms."""

from __future__ import annotations

import pytest

from tests.sealed_helpers import committee
from votes.sealed import (
    KeyFileError,
    ceremony_context,
    from_printable,
    lock,
    new_member,
    printable,
    qr_payload,
    unlock,
)
from votes.sealed.keyfile import HEADER_BYTES

PASSPHRASE = "mật khẩu của thành viên số một"


def test_a_member_key_round_trips() -> None:
    _, keys = committee(2, 3)
    data = lock(keys[1], PASSPHRASE, "interactive")
    assert unlock(data, PASSPHRASE) == keys[1]
    # Small enough for one QR symbol (version 40-L holds 4296 alphanumeric characters).
    assert len(qr_payload(data)) < 600


def test_ceremony_secrets_round_trip() -> None:
    ceremony = ceremony_context("test.example", "keyfile", 3, 4)
    _, secret = new_member(ceremony, 2, 3, 4)
    assert unlock(lock(secret, PASSPHRASE, "interactive"), PASSPHRASE) == secret


def test_the_passphrase_is_normalised_to_nfc() -> None:
    _, keys = committee(1, 1)
    decomposed = "ma\u0323\u0302t kha\u0302\u0309u da\u0300i hơn"
    composed = "mật khẩu dài hơn"
    assert unlock(lock(keys[0], decomposed, "interactive"), composed) == keys[0]


def test_a_wrong_passphrase_or_any_changed_byte_fails() -> None:
    _, keys = committee(1, 1)
    data = lock(keys[0], PASSPHRASE, "interactive")
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        unlock(data, PASSPHRASE + "!")
    for position in (4, 13, HEADER_BYTES - 1, HEADER_BYTES, len(data) - 1):
        damaged = bytearray(data)
        damaged[position] ^= 0x01
        with pytest.raises(KeyFileError):
            unlock(bytes(damaged), PASSPHRASE)
    with pytest.raises(KeyFileError, match="not a sealed-ballot key file"):
        unlock(b"VSK2" + data[4:], PASSPHRASE)
    with pytest.raises(KeyFileError):
        unlock(data[:40], PASSPHRASE)


def test_weak_passphrases_are_refused() -> None:
    _, keys = committee(1, 1)
    with pytest.raises(KeyFileError, match="at least 10"):
        lock(keys[0], "short", "interactive")


def test_two_locks_of_one_key_differ() -> None:
    _, keys = committee(1, 1)
    assert lock(keys[0], PASSPHRASE, "interactive") != lock(keys[0], PASSPHRASE, "interactive")


def test_the_printed_form_round_trips_and_catches_typing_errors() -> None:
    _, keys = committee(2, 3)
    data = lock(keys[0], PASSPHRASE, "interactive")
    text = printable(data)
    assert text.startswith("VOTES-SEALED-KEY-1\n")
    assert from_printable(text) == data
    assert from_printable(text.lower()) == data
    assert from_printable(qr_payload(data)) == data
    lines = text.splitlines()
    typo = lines[1][:3] + ("A" if lines[1][3] != "A" else "B") + lines[1][4:]
    with pytest.raises(KeyFileError, match="check group"):
        from_printable("\n".join([lines[0], typo, *lines[2:]]))
    with pytest.raises(KeyFileError, match="base32"):
        from_printable(text.replace(lines[1][:1], "1", 1))
