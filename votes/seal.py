"""The seal over a whole round, computed from the database in the canonical form of the bundle.

The canonical form is defined once, in votes/recount.py (the standalone verifier copied into
every export bundle): the application describes the round as the bundle's round.json does and
hands it over with the receipts and the ballots, so the seal recorded at close, the one
`votes verify` recomputes and the one the bundle's verify.py recomputes are the same. See
docs/AUDIT.md, "The seal".
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from . import sealing
from .ballotbox import ballot_box, receipts, sealed_box, trackers
from .committee import committee_of, get_key, round_parameters
from .credentials import codes_issued, codes_used
from .models import Round
from .recount import (
    canonical,
    canonical_csv,
    receipts_text,
    round_seal,
    seal_parts,
    sealed_box_text,
)
from .roster import roster_details
from .sealing import SealingError


def round_definition(session: Session, round_: Round) -> dict[str, Any]:
    """Describe a round as recorded: what a recount and the seal need besides the ballots."""
    return {
        "id": round_.id,
        "body": round_.body.code,
        "body_name": round_.body.name,
        "body_kind": round_.body.kind,
        "year": round_.year,
        "title": round_.title,
        "scale": round_.scale,
        "status": round_.status,
        "profile": {"id": round_.profile_id, "version": round_.profile_version},
        "place": round_.place,
        "held_on": round_.held_on.isoformat() if round_.held_on else None,
        "followup_of": round_.followup_of,
        "members": round_.members,
        "summoned": round_.summoned,
        "present": round_.present,
        "paper_issued": round_.paper_issued,
        "issued": round_.issued,
        "collected": round_.collected,
        "codes_issued": codes_issued(session, round_.id),
        "codes_used": codes_used(session, round_.id),
        **roster_details(round_),
    }


def receipts_file(session: Session, round_: Round) -> bytes:
    """Return the receipts of a round as the bundle's receipts.txt (sorted, one a line)."""
    return receipts_text(receipts(session, round_.id))


def ballots_file(session: Session, round_: Round) -> bytes:
    """Return the ballots of a round as the bundle's ballots.csv (canonical)."""
    return canonical_csv(len(round_.items), ballot_box(session, round_.id))


def sealed_box_file(session: Session, round_id: int) -> bytes:
    """Return the list of a round's sealed ballots (tracker and digest of each, sorted)."""
    return sealed_box_text(
        (tracker.hex(), content) for tracker, content in sealed_box(session, round_id)
    )


def box_digest(session: Session, round_id: int) -> str | None:
    """Return the digest of a round's box of sealed ballots, or None before it opened.

    Shown to auditors while the round is open, recorded when voting ends, printed on the
    minutes: its count and its trackers, sorted (docs/CRYPTO.md §7).
    """
    key = get_key(session, round_id)
    if key is None or key.parameters is None:
        return None
    return sealing.box_digest(round_parameters(key), trackers(session, round_id))


def public_record(session: Session, round_: Round) -> dict[str, Any] | None:
    """Return the public record of a round's sealed ballots once decrypted, else None.

    The library's record (votes/sealed/record.py): the round's parameters, the committee's
    public values and proofs, every sealed ballot, the encrypted totals, the partial
    decryptions with their proofs, and the totals; `verify_record` checks all of it.
    """
    key = get_key(session, round_.id)
    if key is None or key.totals is None or key.parameters is None:
        return None
    return sealing.record(
        round_parameters(key),
        committee_of(round_, key),
        [content for _tracker, content in sealed_box(session, round_.id)],
        [json.loads(h.partial) for h in key.holders if h.partial is not None],
    )


def sealed_files(session: Session, round_: Round) -> dict[str, bytes] | None:
    """Return the parts a round with a committee key adds to its seal, in canonical form.

    `sealed_box`: the sealed ballots, one "TRACKER SHA256" line each, sorted;
    `sealed_tally`: the public record without its ballots (those are the other part).
    """
    key = get_key(session, round_.id)
    if key is None:
        return None
    try:
        record = public_record(session, round_)
    except SealingError as error:
        # The box no longer agrees with its decryption (a ballot deleted, say): the part is
        # recomputed as what it now is, and differs from the one sealed at close.
        record = {"broken": str(error)}
    tally: dict[str, Any] = (
        {name: value for name, value in record.items() if name != "ballots"}
        if record is not None
        else {"public_key": key.public_key, "parameters": _json(key.parameters), "ballots": 0}
    )
    return {
        "sealed_box": sealed_box_file(session, round_.id),
        "sealed_tally": canonical(tally).encode("utf-8"),
    }


def _json(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def current_parts(session: Session, round_: Round) -> dict[str, str]:
    """Return the digest of each part of the round's seal, from the database as it is now."""
    return seal_parts(
        round_definition(session, round_),
        receipts_file(session, round_),
        ballots_file(session, round_),
        sealed_files(session, round_),
    )


def current_seal(session: Session, round_: Round) -> tuple[str, dict[str, str]]:
    """Return the round's seal as the database gives it now, and the digests of its parts."""
    parts = current_parts(session, round_)
    return round_seal(parts), parts
