"""Reports upward: this installation's key, trusted keys of lower ones, signed packages."""

from __future__ import annotations

from .. import package
from ..package import Imported
from .work import Work


def installation_key(work: Work) -> bytes:
    """Return this installation's public key, making the key pair on first use."""
    made = not package.has_installation_key(work.session)
    key = package.installation_key(work.session)
    if made:
        work.log(
            "installation_key_made",
            details={
                "public_key": package.key_text(key.public_key),
                "fingerprint": package.fingerprint(key.public_key),
            },
        )
    return key.public_key


def trust_key(work: Work, body_code: str, key: str) -> bytes:
    """Register a lower installation's public key for a body and everything under it."""
    body = work.body(body_code)
    trusted = package.trust_key(work.session, body, key)
    work.log(
        "key_trusted",
        details={
            "body": body.code,
            "public_key": package.key_text(trusted.public_key),
            "fingerprint": package.fingerprint(trusted.public_key),
        },
    )
    return trusted.public_key


def import_package(work: Work, data: bytes) -> Imported:
    """Import a signed package of a lower installation (everything or nothing)."""
    imported = package.import_package(work.session, data)
    if imported.new:
        work.log(
            "package_imported",
            round_id=imported.round.id,
            details={
                "sha256": imported.sha256,
                "fingerprint": imported.fingerprint,
                "body": imported.round.body.code,
                "origin_round": imported.round.origin_id,
            },
        )
    return imported
