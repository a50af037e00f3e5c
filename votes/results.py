"""The result of a round as one JSON-ready document (the stable interface of `votes results`)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from .audit import head, round_events
from .errors import N_, WrongState, message
from .meeting import meeting_details
from .models import Round
from .profiles import both_languages
from .recount import latest_seal
from .rules import findings_for_round
from .tally import RoundTally, tally_round
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
    referrals = {item.order: item.referral for item in round_.items}
    return {
        "round": {
            **round_header(round_),
            "place": round_.place,
            "held_on": round_.held_on.isoformat() if round_.held_on else None,
            "meeting": meeting_details(round_),
            "profile": {
                "id": tally.profile.id,
                "version": tally.profile.version,
                "name": tally.profile.name.vi,
            },
            "time_exception": round_.time_exception,
            "followup_of": round_.followup_of,
            "proposal": None
            if round_.proposal_by is None
            else {
                "by": round_.proposal_by,
                "words": _proposer_words(tally, round_.proposal_by),
                "number": round_.proposal_number,
                "date": round_.proposal_on.isoformat() if round_.proposal_on else None,
                "signatories": round_.proposal_signatories,
            },
        },
        "members": round_.members,
        "summoned": round_.summoned,
        "present": round_.present,
        "quorum_met": quorum,
        "quorum": tally.quorum,
        "void": tally.void,
        "void_reason": _void_reason(tally),
        "ballots": {
            "issued": tally.issued,
            "collected": tally.collected,
            "valid": tally.valid,
            "invalid": tally.invalid,
        },
        # Which part of the ballots was online and sealed (decrypted by the counting committee
        # only as totals) and which was paper, counted in the clear (DOMAIN.md §7).
        "sealed": {"online": tally.sealed, "paper": tally.collected - tally.sealed},
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
                "referral": referrals.get(item.order),
            }
            for item in tally.items
        ],
        "exempt": [
            {
                "name": e.person.name,
                "position": e.position,
                "reason": e.reason,
                "reason_id": e.reason_id,
                "decision": e.decision,
            }
            for e in round_.exemptions
        ],
        # The anchors printed on paper (docs/AUDIT.md): the seal recorded at close, and the
        # head of the log as this result is read; the head moves on with every later event.
        **_seal(session, round_.id),
        "head": _head(session),
    }


def _seal(session: Session, round_id: int) -> dict[str, Any]:
    """Return the seal recorded last (at close, or with a meeting recorded after), and parts."""
    recorded = latest_seal(
        {"kind": event.kind, "details": json.loads(event.details)}
        for event in round_events(session, round_id)
    )
    if recorded is None:
        return {"seal": None, "seal_parts": None}
    return {"seal": recorded.get("seal"), "seal_parts": recorded.get("seal_parts")}


def _head(session: Session) -> dict[str, Any] | None:
    now = head(session)
    return {"id": now.id, "hash": now.hash} if now else None


def _void_reason(tally: RoundTally) -> dict[str, str] | None:
    """Say why a round is void for want of quorum, in both languages (None when it is not)."""
    if not tally.void:
        return None
    words = both_languages(
        message(
            N_(
                "The round is void for want of quorum ({rule}): it is counted and shown, but "
                "it raises no finding and no vote of confidence, and it enters no two-years "
                "chain."
            ),
            rule=message(tally.profile.quorum_words()),
        )
    )
    reason = tally.quorum.get("reason")
    if isinstance(reason, dict):
        return {language: f"{reason[language]}. {text}" for language, text in words.items()}
    return words


def _proposer_words(tally: RoundTally, proposer_id: str) -> dict[str, str] | None:
    proposer = tally.profile.proposer(proposer_id)
    return None if proposer is None else proposer.text.as_dict()
