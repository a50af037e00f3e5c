"""The result of a round as one JSON-ready document (the stable interface of `votes results`)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from .audit import head, round_events
from .errors import N_, WrongState
from .models import Round
from .rules import findings_for_round
from .tally import tally_round
from .text import percent_text
from .vocabulary import COUNTED


def round_header(round_: Round) -> dict[str, Any]:
    """Describe a round as every document heads it: id, body, year, title, state, scale."""
    return {
        "id": round_.id,
        "body": round_.body.code,
        "body_name": round_.body.name,
        "body_kind": round_.body.kind,
        "year": round_.year,
        "title": round_.title,
        "status": round_.status,
        "scale": round_.scale,
    }


def round_results(session: Session, round_: Round) -> dict[str, Any]:
    """Return the counted result of a closed or published round; refuse any other state."""
    if round_.status not in COUNTED:
        raise WrongState(
            N_("Round {id} is {status}: results exist only after the round is closed."),
            id=round_.id,
            status=round_.status,
        )
    tally = tally_round(session, round_)
    findings = findings_for_round(session, tally)
    quorum = tally.quorum_met
    return {
        "round": {
            **round_header(round_),
            "place": round_.place,
            "held_on": round_.held_on.isoformat() if round_.held_on else None,
            "profile": {
                "id": tally.profile.id,
                "version": tally.profile.version,
                "name": tally.profile.name.vi,
            },
        },
        "members": round_.members,
        "summoned": round_.summoned,
        "present": round_.present,
        "quorum_met": quorum,
        "quorum": tally.quorum,
        "ballots": {
            "issued": tally.issued,
            "collected": tally.collected,
            "valid": tally.valid,
            "invalid": tally.invalid,
        },
        "denominator": {"basis": tally.basis, "value": tally.denominator},
        "items": [
            {
                "order": item.order,
                "kind": item.kind,
                "person_key": item.person_key,
                "name": item.name,
                "position": item.position,
                "counts": dict(item.counts),
                "percent": {
                    level: percent_text(item.share(level, tally.denominator))
                    for level in tally.levels
                },
                "findings": [f.as_dict() for f in findings[item.order]],
            }
            for item in tally.items
        ],
        "exempt": [
            {"name": e.person.name, "position": e.position, "reason": e.reason}
            for e in round_.exemptions
        ],
        # The anchors printed on paper (docs/AUDIT.md): the seal recorded at close, and the
        # head of the log as this result is read; the head moves on with every later event.
        **_seal(session, round_.id),
        "head": _head(session),
    }


def _seal(session: Session, round_id: int) -> dict[str, Any]:
    """Return the seal recorded when the round closed, and the digests of its parts."""
    for event in round_events(session, round_id):
        if event.kind == "round_closed":
            recorded = json.loads(event.details)
            return {"seal": recorded.get("seal"), "seal_parts": recorded.get("seal_parts")}
    return {"seal": None, "seal_parts": None}


def _head(session: Session) -> dict[str, Any] | None:
    now = head(session)
    return {"id": now.id, "hash": now.hash} if now else None
