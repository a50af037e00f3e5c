"""The result of a round as one JSON-ready document (the stable interface of `votes results`)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from .audit import head, round_events
from .errors import N_, InvalidInput, NotFound, WrongState, message
from .groups import Shown, deciding_label, group_committee, shown_results
from .groups import small_minimum as configured_minimum
from .meeting import meeting_details
from .models import Round, VoterGroup
from .profiles import both_languages
from .recount import latest_seal
from .rules import Finding, findings_for_round, thresholds
from .tally import RoundTally, tally_groups
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


def round_results(
    session: Session, round_: Round, *, small_minimum: int | None = None
) -> dict[str, Any]:
    """Return the counted result of a closed or published round; refuse any other state.

    The top level is the result that decides (a round of one group: the round's result, as it
    always was). `groups` gives each voter group's result and `combined` the result of all
    groups together; a group under `small_minimum` ballots or members is never given alone
    (DOMAIN.md §2), nor any group whose result would let it be computed by subtraction.
    """
    if round_.status not in COUNTED:
        raise WrongState(
            N_("Round {id} is {status}: results exist only after the round is closed."),
            id=round_.id,
            status=round_.status,
        )
    grouped = tally_groups(session, round_)
    if small_minimum is None:
        small_minimum = configured_minimum()
    shown = shown_results(
        [(group.number, tally.collected, tally.members) for group, tally in grouped.groups],
        round_.deciding_group,
        small_minimum,
    )
    decisive = grouped.decisive
    deciding_hidden = decisive.group is not None and decisive.group in shown.hidden
    if deciding_hidden:
        # The deciding group is itself too small to be shown: nothing is shown of it, and it
        # raises no finding (a finding would show its count); the combined result is given.
        decisive = grouped.combined
    findings = {} if deciding_hidden else findings_for_round(session, decisive)
    referrals = {item.order: item.referral for item in round_.items}
    return {
        "round": {
            **round_header(round_),
            "place": round_.place,
            "held_on": round_.held_on.isoformat() if round_.held_on else None,
            "meeting": meeting_details(round_),
            "profile": {
                "id": decisive.profile.id,
                "version": decisive.profile.version,
                "name": decisive.profile.name.vi,
            },
            "time_exception": round_.time_exception,
            "followup_of": round_.followup_of,
            "proposal": None
            if round_.proposal_by is None
            else {
                "by": round_.proposal_by,
                "words": _proposer_words(decisive, round_.proposal_by),
                "number": round_.proposal_number,
                "date": round_.proposal_on.isoformat() if round_.proposal_on else None,
                "signatories": round_.proposal_signatories,
            },
        },
        "members": decisive.members,
        "summoned": decisive.summoned,
        "present": decisive.present,
        "quorum_met": decisive.quorum_met,
        "quorum": decisive.quorum,
        "void": decisive.void,
        "void_reason": _void_reason(decisive),
        **_counts(decisive, findings, referrals),
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
        "deciding": deciding_label(round_),
        "deciding_hidden": deciding_hidden,
        "small_minimum": small_minimum,
        "groups": [
            _group_result(group, tally, round_, shown, findings) for group, tally in grouped.groups
        ],
        "combined": _combined_result(grouped.combined, round_, shown, findings, referrals),
        # The anchors printed on paper (docs/AUDIT.md): the seal recorded at close, and the
        # head of the log as this result is read; the head moves on with every later event.
        **_seal(session, round_.id),
        "head": _head(session),
    }


def group_view(result: dict[str, Any], number: int) -> dict[str, Any]:
    """Return one voter group's result shaped as a round's (for its minutes), dated and placed
    by the group's meeting; refused for a group that is not shown alone."""
    group = next((g for g in result["groups"] if g["number"] == number), None)
    if group is None:
        raise NotFound(
            N_("Round {id} has no voter group {number}."), id=result["round"]["id"], number=number
        )
    if group["hidden_small"]:
        raise InvalidInput(
            N_(
                "The result of voter group {number} ({name}) is not shown alone: too few "
                "ballots or members (under {minimum}) to keep the vote secret, or it would "
                "let such a group be computed. It is counted inside the combined result."
            ),
            number=number,
            name=group["name"],
            minimum=result["small_minimum"],
        )
    if len(result["groups"]) == 1:
        return result
    round_ = dict(result["round"])
    round_["title"] = f"{round_['title']} — {group['name']}"
    round_["held_on"] = group["held_on"]
    round_["place"] = group["place"]
    round_["meeting"] = {
        **(round_.get("meeting") or {}),
        "held_on": group["held_on"],
        "place": group["place"],
        "committee": group.get("committee") or [],
        "starts_at": None,
        "counted_at": None,
        "chair": None,
    }
    return {
        **result,
        "round": round_,
        **{key: group[key] for key in ("members", "summoned", "present", "quorum", "void")},
        "quorum_met": group["quorum_met"],
        "void_reason": result["void_reason"] if group["deciding"] else None,
        "ballots": group["ballots"],
        "sealed": group["sealed"],
        "denominator": group["denominator"],
        "items": group["items"],
    }


def _counts(
    tally: RoundTally, findings: dict[int, list[Finding]], referrals: dict[int, str | None]
) -> dict[str, Any]:
    """Return the ballots, D and items of one result, shaped as the top level has them."""
    return {
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
        # Where the profile's bands begin, for the threshold lines of the charts.
        "thresholds": thresholds([tally.profile]),
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
                "findings": [f.as_dict() for f in findings.get(item.order, [])],
                "referral": referrals.get(item.order),
            }
            for item in tally.items
        ],
    }


def _figures(tally: RoundTally) -> dict[str, Any]:
    return {
        "members": tally.members,
        "summoned": tally.summoned,
        "present": tally.present,
        "quorum_met": tally.quorum_met,
        "quorum": tally.quorum,
        "void": tally.void,
    }


def _group_result(
    group: VoterGroup,
    tally: RoundTally,
    round_: Round,
    shown: Shown,
    findings: dict[int, list[Finding]],
) -> dict[str, Any]:
    """Describe one voter group's result; a hidden one by its name and figures only."""
    deciding = round_.deciding_group == group.number
    described: dict[str, Any] = {
        "number": group.number,
        "name": group.name,
        "deciding": deciding,
        "status": group.status,
        "hidden_small": group.number in shown.hidden,
        "hidden_reason": "small"
        if group.number in shown.small
        else "shields_small"
        if group.number in shown.shielding
        else None,
        "place": group.place,
        "held_on": group.held_on.isoformat() if group.held_on else None,
        "committee": [{"name": name, "role": role} for name, role in group_committee(group)],
        **_figures(tally),
    }
    if group.number in shown.hidden:
        return described
    referrals = {item.order: item.referral for item in round_.items}
    # A group that does not decide is shown for reference: it never raises a finding.
    return {**described, **_counts(tally, findings if deciding else {}, referrals)}


def _combined_result(
    tally: RoundTally,
    round_: Round,
    shown: Shown,
    findings: dict[int, list[Finding]],
    referrals: dict[int, str | None],
) -> dict[str, Any]:
    """Describe the result of all groups together (withheld when it would show a small group)."""
    deciding = round_.deciding_group is None
    described: dict[str, Any] = {
        "deciding": deciding,
        "withheld": shown.combined_withheld,
        **_figures(tally),
    }
    if shown.combined_withheld:
        return described
    return {**described, **_counts(tally, findings if deciding else {}, referrals)}


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
