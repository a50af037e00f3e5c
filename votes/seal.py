"""The seal over a whole round, computed from the database in the canonical form of the bundle.

The canonical form is defined once, in votes/recount.py (the standalone verifier copied into
every export bundle): the application describes the round as the bundle's round.json does and
hands it over with the receipts and the ballots, so the seal recorded at close, the one
`votes verify` recomputes and the one the bundle's verify.py recomputes are the same. See
docs/AUDIT.md, "The seal".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .ballotbox import ballot_box, receipts
from .credentials import codes_issued, codes_used
from .groups import codes_issued_in, codes_used_in, deciding_label
from .models import Ballot, Round
from .recount import canonical_csv, group_ballots_csv, receipts_text, round_seal, seal_parts
from .roster import roster_details


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
        "deciding": deciding_label(round_),
        "groups": [
            {
                "number": group.number,
                "name": group.name,
                "status": group.status,
                "members": group.members,
                "summoned": group.summoned,
                "present": group.present,
                "paper_issued": group.paper_issued,
                "issued": group.issued,
                "collected": group.collected,
                "codes_issued": codes_issued_in(session, round_.id, group.number),
                "codes_used": codes_used_in(session, round_.id, group.number),
                "place": group.place,
                "held_on": group.held_on.isoformat() if group.held_on else None,
            }
            for group in round_.groups
        ],
    }


def group_ballots_file(session: Session, round_: Round) -> bytes:
    """Return every ballot of a round with its voter group (the seal's part "group_ballots")."""
    return group_ballots_csv(
        len(round_.items),
        [
            (number, status, marks)
            for number, status, marks in session.execute(
                select(Ballot.group_number, Ballot.status, Ballot.marks).where(
                    Ballot.round_id == round_.id
                )
            )
        ],
    )


def receipts_file(session: Session, round_: Round) -> bytes:
    """Return the receipts of a round as the bundle's receipts.txt (sorted, one a line)."""
    return receipts_text(receipts(session, round_.id))


def ballots_file(session: Session, round_: Round) -> bytes:
    """Return the ballots of a round as the bundle's ballots.csv (canonical)."""
    return canonical_csv(len(round_.items), ballot_box(session, round_.id))


def current_parts(session: Session, round_: Round) -> dict[str, str]:
    """Return the digest of each part of the round's seal, from the database as it is now."""
    definition = round_definition(session, round_)
    return seal_parts(
        definition,
        receipts_file(session, round_),
        ballots_file(session, round_),
        group_ballots_file(session, round_) if len(round_.groups) > 1 else None,
    )


def current_seal(session: Session, round_: Round) -> tuple[str, dict[str, str]]:
    """Return the round's seal as the database gives it now, and the digests of its parts."""
    parts = current_parts(session, round_)
    return round_seal(parts), parts
