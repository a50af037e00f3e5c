"""What a member of the counting committee does on their own machine (`votes trustee`).

No database and no server: each step reads the file the server published (the committee's
public file, or the encrypted totals), the member's key file (opened with their passphrase),
and writes the file the member sends back. The key never leaves the member's machine:

    new      make the member's key: a key file (passphrase-protected) and the public part
    shares   make the shares for the other members, each encrypted to its recipient
    check    check the shares received; the key file becomes the member's final key
    decrypt  after voting: the member's partial decryption of the totals, with its proofs

A committee of one (weaker) needs only `new` and `decrypt`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from . import sealed, sealing
from .committee import (
    FILE_FORMAT,
    KIND_COMMITTEE,
    KIND_CONFIRMATION,
    KIND_PARTIAL,
    KIND_PUBLIC_PART,
    KIND_SHARES,
    KIND_TOTALS,
    read_file,
)
from .config import KEY_FILE_STRENGTH
from .errors import N_, InvalidInput, Message, message
from .sealed.keyfile import MIN_PASSPHRASE


class TrusteeError(InvalidInput):
    """A step of the ceremony or of the decryption that cannot be done; nothing was written."""


def _expect(document: dict[str, Any], kind: str) -> dict[str, Any]:
    if document.get("kind") != kind:
        raise TrusteeError(
            N_("This file is a {found!r} file; this step needs the {kind!r} file."),
            found=document.get("kind"),
            kind=kind,
        )
    return document


def read_document(data: bytes, kind: str) -> dict[str, Any]:
    """Read a file the server published (the committee's file or the encrypted totals)."""
    return _expect(read_file(data), kind)


def _answer(document: dict[str, Any], kind: str, number: int, payload: Any) -> bytes:
    answer = {
        "format": FILE_FORMAT,
        "kind": kind,
        "context": document["context"],
        "context_digest": document["context_digest"],
        "ceremony": document["ceremony"],
        "member": number,
        "payload": payload,
    }
    return as_file(answer)


def as_file(document: dict[str, Any]) -> bytes:
    """The bytes of a committee file (the organizer's or a member's): JSON, UTF-8, readable."""
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _ceremony(document: dict[str, Any]) -> tuple[bytes, int, int]:
    context = document["context"]
    return bytes.fromhex(document["ceremony"]), context["threshold"], context["size"]


def _member(document: dict[str, Any], number: int) -> dict[str, Any]:
    for member in document["context"]["members"]:
        if member["number"] == number:
            return dict(member)
    raise TrusteeError(
        N_("The committee has no member {number}."),
        number=number,
    )


# Why a key file does not open (the library's words, votes/sealed/keyfile.py), as a member reads it.
KEY_FILE_REASONS = {
    "not a sealed-ballot key file": N_("this is not a key file of the counting committee"),
    "wrong passphrase, or the key file is damaged": N_(
        "wrong passphrase, or the key file is damaged"
    ),
    "the key file is damaged": N_("the key file is damaged"),
    "the printed key contains characters that are not base32": N_(
        "the printed key contains characters that cannot be in it"
    ),
    "the printed key's check group does not match: a typing error?": N_(
        "the check group of the printed key does not match: a typing error?"
    ),
}


def key_file_reason(error: sealed.KeyFileError) -> Message | str:
    """Say why a key file does not open or cannot be made, in the member's language."""
    text = str(error)
    if text.startswith("the passphrase needs at least"):
        return message(
            N_("the passphrase needs at least {count} characters"),
            count=MIN_PASSPHRASE,
        )
    return message(KEY_FILE_REASONS[text]) if text in KEY_FILE_REASONS else text


def _unlock(key_file: bytes, passphrase: str) -> sealed.MemberSecret | sealed.MemberKey:
    try:
        return sealed.unlock(key_file, passphrase)
    except sealed.KeyFileError as error:
        raise TrusteeError(
            N_("The key file does not open: {reason} (a wrong passphrase?)."),
            reason=key_file_reason(error),
        ) from error


def _lock(secret: sealed.MemberSecret | sealed.MemberKey, passphrase: str, strength: str) -> bytes:
    try:
        return sealed.lock(secret, passphrase, strength)
    except sealed.KeyFileError as error:
        raise TrusteeError(
            N_("The key file cannot be made: {reason}."), reason=key_file_reason(error)
        ) from error


def new_member(
    committee_file: bytes, number: int, passphrase: str, strength: str = KEY_FILE_STRENGTH
) -> tuple[bytes, bytes]:
    """Make member `number`'s key: return (the key file, the public part to send)."""
    document = read_document(committee_file, KIND_COMMITTEE)
    ceremony, threshold, size = _ceremony(document)
    _member(document, number)
    secret: sealed.MemberSecret | sealed.MemberKey
    if size == 1:
        committee, secret = sealed.single_member(ceremony)
        public = committee.members[0]
    else:
        public, secret = sealed.new_member(ceremony, number, threshold, size)
    key_file = _lock(secret, passphrase, strength)
    return key_file, _answer(document, KIND_PUBLIC_PART, number, public.to_dict())


def _committee(document: dict[str, Any]) -> sealed.Committee:
    ceremony, _threshold, size = _ceremony(document)
    parts = [m["public_part"] for m in document["members"]]
    if any(part is None for part in parts):
        raise TrusteeError(
            N_(
                "Not every member's public part is in yet ({have} of {size}): fetch the "
                "committee's file again later."
            ),
            have=sum(1 for part in parts if part is not None),
            size=size,
        )
    return sealing.make_committee(ceremony, parts)


def make_shares(committee_file: bytes, key_file: bytes, passphrase: str) -> bytes:
    """Make the shares for the other members, each encrypted to its recipient."""
    document = read_document(committee_file, KIND_COMMITTEE)
    secret = _unlock(key_file, passphrase)
    if not isinstance(secret, sealed.MemberSecret):
        raise TrusteeError(N_("This key file is already a final key: its shares were made."))
    committee = _committee(document)
    try:
        shares = sealed.make_shares(secret, committee)
    except sealed.SealedError as error:
        raise TrusteeError(N_("The shares cannot be made: {reason}."), reason=str(error)) from error
    return _answer(
        document, KIND_SHARES, secret.index, {"shares": [share.to_dict() for share in shares]}
    )


def check_shares(
    committee_file: bytes, key_file: bytes, passphrase: str, strength: str = KEY_FILE_STRENGTH
) -> tuple[bytes, bytes]:
    """Check the shares received; return (the final key file, the confirmation to send)."""
    document = read_document(committee_file, KIND_COMMITTEE)
    secret = _unlock(key_file, passphrase)
    if not isinstance(secret, sealed.MemberSecret):
        raise TrusteeError(N_("This key file is already a final key: its shares were checked."))
    committee = _committee(document)
    sent = [m["shares"] for m in document["members"]]
    if any(shares is None for shares in sent):
        raise TrusteeError(
            N_(
                "Not every member's shares are in yet ({have} of {size}): fetch the "
                "committee's file again later."
            ),
            have=sum(1 for shares in sent if shares is not None),
            size=len(sent),
        )
    try:
        key = sealed.receive_shares(secret, committee, sealing.shares_for(secret.index, sent))
    except sealed.CeremonyError as error:
        raise TrusteeError(
            N_(
                "The shares do not check: {reason}. Tell the organizer: the ceremony must be "
                "run again."
            ),
            reason=str(error),
        ) from error
    confirmation = {
        "public_key": key.public_key.hex(),
        "verification_key": key.verification_key.hex(),
    }
    return _lock(key, passphrase, strength), _answer(
        document, KIND_CONFIRMATION, secret.index, confirmation
    )


def decrypt(totals_file: bytes, key_file: bytes, passphrase: str) -> bytes:
    """Compute the member's partial decryption of the totals, with its proofs."""
    document = read_document(totals_file, KIND_TOTALS)
    key = _unlock(key_file, passphrase)
    if not isinstance(key, sealed.MemberKey):
        raise TrusteeError(
            N_(
                "This key file is not finished: check the shares received first "
                "(`votes trustee check`)."
            )
        )
    try:
        committee = sealed.Committee.from_dict(document["committee"])
        parameters = sealed.RoundParameters.from_dict(document["parameters"])
        # One partial decryption per voter group whose totals await decryption.
        partials = {
            str(group["number"]): sealed.partial_decrypt(
                key,
                committee,
                parameters.context,
                sealed.EncryptedTally.from_dict(group["totals"]),
            ).to_dict()
            for group in document["groups"]
        }
    except (sealed.SealedError, KeyError, TypeError) as error:
        raise TrusteeError(
            N_("The totals cannot be decrypted with this key: {reason}."), reason=str(error)
        ) from error
    return _answer(document, KIND_PARTIAL, key.index, {"groups": partials})


def fingerprint(data: bytes) -> str:
    """Return a short fingerprint of a file, to compare aloud: 4 groups of 4."""
    digest = hashlib.sha256(data).hexdigest()[:16].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))
