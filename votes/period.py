"""The periodic report ("báo cáo 6 tháng và hằng năm"): a body and its subtree over a period.

Every number is counted again from the ballots (votes.tally) and the findings applied again
(votes.rules); nothing is copied from a stored total. A round belongs to the period by the
date of its meeting, or, when no meeting is recorded, by its year.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import N_, InvalidInput
from .models import Body, Person, Round, Scale
from .results import round_header
from .rules import body_findings, round_findings
from .tally import RoundTally, tally_round
from .text import percent, percent_text, sort_key
from .tree import LEVEL_ORDER, ancestors, subtree_ids
from .vocabulary import COUNTED


def in_period(round_: Round, start: dt.date, end: dt.date) -> bool:
    """Tell whether a round falls in a period: by its meeting's date, else by its year."""
    if round_.held_on is not None:
        return start <= round_.held_on <= end
    return start.year <= round_.year <= end.year


def period_rounds(session: Session, body: Body, start: dt.date, end: dt.date) -> list[Round]:
    """Return the rounds of a body and its subtree in a period, by year, body and id."""
    if end < start:
        raise InvalidInput(
            N_("The period ends ({end}) before it starts ({start})."),
            start=start.isoformat(),
            end=end.isoformat(),
        )
    below = subtree_ids(session, [body.id])
    found = session.scalars(select(Round).where(Round.body_id.in_(below))).all()
    chosen = [r for r in found if in_period(r, start, end)]
    chosen.sort(key=lambda r: (r.year, LEVEL_ORDER[r.body.level], sort_key(r.body.name), r.id))
    return chosen


def _identity(session: Session, person_id: int | None, cache: dict[int, str]) -> str | None:
    if person_id is None:
        return None
    if person_id not in cache:
        person = session.get(Person, person_id)
        cache[person_id] = person.identity if person is not None else str(person_id)
    return cache[person_id]


def period_report(session: Session, body: Body, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Gather the periodic report of a body and everything under it (JSON-ready)."""
    rounds = period_rounds(session, body, start, end)
    identities: dict[int, str] = {}
    held: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    votes: list[dict[str, Any]] = []
    polled: set[str] = set()
    exempted: dict[str, dict[str, Any]] = {}
    bands: dict[str, set[str]] = defaultdict(set)
    by_profile: dict[str, Counter[str]] = defaultdict(Counter)
    levels: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    bodies_seen: dict[int, Body] = {}
    for round_ in rounds:
        bodies_seen[round_.body_id] = round_.body
        head = _round_head(round_)
        if round_.status not in COUNTED:
            pending.append(head)
            continue
        tally = tally_round(session, round_)
        head.update(
            quorum_met=tally.quorum_met,
            void=tally.void,
            ballots={
                "issued": tally.issued,
                "collected": tally.collected,
                "valid": tally.valid,
                "invalid": tally.invalid,
            },
            denominator={"basis": tally.basis, "value": tally.denominator},
        )
        held.append(head)
        profile_key = f"{tally.profile.id}@{tally.profile.version}"
        by_profile[profile_key]["rounds"] += 1
        by_profile[profile_key]["quorum_met" if tally.quorum_met else "quorum_not_met"] += 1
        if tally.void:
            by_profile[profile_key]["void"] += 1
        level = round_.body.level
        for exemption in round_.exemptions:
            key = _identity(session, exemption.person_id, identities) or ""
            exempted.setdefault(
                key, {"name": exemption.person.name, "reasons": [], "identity": key}
            )["reasons"].append(
                {"round": round_.id, "body": round_.body.code, "reason": exemption.reason}
            )
        round_found = round_findings(tally)
        if round_.scale == Scale.CONFIDENCE_VOTE.value:
            votes.extend(_vote_rows(session, tally, identities))
        for item in tally.items:
            identity = _identity(session, item.person_id, identities)
            rows.append(_row(tally, item, identity))
            if item.kind != "person" or identity is None or round_.scale != Scale.POLL.value:
                continue
            polled.add(identity)
            levels[level]["polled"].add(identity)
        for finding in round_found:
            if round_.scale != Scale.POLL.value:
                continue
            identity = _identity(session, _person_id(tally, finding.person_key), identities)
            bands[finding.band].add(identity or finding.person_key)
            levels[level]["low"].add(identity or finding.person_key)
            findings.append(_finding_row(round_, finding.as_dict(), identity))
    years = range(start.year, end.year + 1)
    for found_body in sorted(bodies_seen.values(), key=lambda b: b.code):
        for finding in body_findings(session, found_body):
            if finding.rule != "consecutive_years" or finding.years[-1] not in years:
                continue
            if not any(r.id in finding.rounds for r in rounds):
                continue
            data = finding.as_dict()
            data["body"] = found_body.code
            findings.append(
                _finding_row(
                    session.get(Round, finding.rounds[-1]) or rounds[0],
                    data,
                    _identity(session, _key_person(session, found_body, finding.person_key), {}),
                )
            )
    return {
        "body": {
            "code": body.code,
            "name": body.name,
            "kind": body.kind,
            "level": body.level,
            "path": [b.code for b in reversed(ancestors(session, body))],
        },
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        "bodies": len(subtree_ids(session, [body.id])),
        "rounds": held,
        "not_closed": pending,
        "void": [r for r in held if r.get("void")],
        "by_profile": {key: dict(counts) for key, counts in sorted(by_profile.items())},
        "persons_polled": len(polled),
        "persons_exempted": sorted(exempted.values(), key=lambda e: sort_key(e["name"])),
        "bands": {band: len(found) for band, found in sorted(bands.items())},
        "findings": findings,
        "two_years": [f for f in findings if f["rule"] == "consecutive_years"],
        "confidence_votes": votes,
        "levels": {
            level: {"polled": len(sets["polled"]), "low": len(sets["low"])}
            for level, sets in sorted(levels.items(), key=lambda kv: LEVEL_ORDER[kv[0]])
        },
        "rows": rows,
    }


def _round_head(round_: Round) -> dict[str, Any]:
    return {
        **round_header(round_),
        "level": round_.body.level,
        "held_on": round_.held_on.isoformat() if round_.held_on else None,
        "profile": {"id": round_.profile_id, "version": round_.profile_version},
        "reported": round_.reported_from is not None,
    }


def _person_id(tally: RoundTally, person_key: str) -> int | None:
    return next((i.person_id for i in tally.items if i.person_key == person_key), None)


def _key_person(session: Session, body: Body, person_key: str) -> int | None:
    return session.scalar(
        select(Person.id).where(Person.body_id == body.id, Person.person_key == person_key)
    )


def _row(tally: RoundTally, item: Any, identity: str | None) -> dict[str, Any]:
    round_ = tally.round
    low_level = tally.levels[-1]
    share = percent(item.counts[low_level], tally.denominator)
    return {
        "round": round_.id,
        "body": round_.body.code,
        "body_name": round_.body.name,
        "level": round_.body.level,
        "year": round_.year,
        "scale": round_.scale,
        "profile": f"{tally.profile.id}@{tally.profile.version}",
        "identity": identity,
        "kind": item.kind,
        "name": item.name,
        "position": item.position,
        "counts": dict(item.counts),
        "denominator": tally.denominator,
        "low_share": percent_text(share),
        "void": tally.void,
    }


def _finding_row(round_: Round, finding: dict[str, Any], identity: str | None) -> dict[str, Any]:
    return {
        "rule": finding["rule"],
        "body": finding.get("body", round_.body.code),
        "identity": identity or finding["person_key"],
        "name": finding["name"],
        "position": finding["position"],
        "years": finding["years"],
        "rounds": finding["rounds"],
        "band": finding["band"],
        "consequence": finding["consequence"],
        "evidence": finding["evidence"],
    }


def _vote_rows(session: Session, tally: RoundTally, cache: dict[int, str]) -> list[dict[str, Any]]:
    rows = []
    for item in tally.items:
        if item.kind != "person":
            continue
        no_trust = item.counts.get("no_trust", 0)
        d = tally.denominator or 0
        rows.append(
            {
                "round": tally.round.id,
                "body": tally.round.body.code,
                "identity": _identity(session, item.person_id, cache),
                "name": item.name,
                "position": item.position,
                "trust": item.counts.get("trust", 0),
                "no_trust": no_trust,
                "denominator": tally.denominator,
                "void": tally.void,
                # NQ 85/2014 and NQ 96/2023: no confidence when no_trust*2 > D.
                "no_confidence": None if tally.void or not d else no_trust * 2 > d,
            }
        )
    return rows
