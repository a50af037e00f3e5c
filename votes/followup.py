"""Votes of confidence (bỏ phiếu tín nhiệm): after a poll's findings, or on a proposal.

DOMAIN.md §5: the persons on a vote of confidence are those a finding refers (the profile
marks which consequences call for a vote), or those named by a proposal of someone the profile
lists (the Assembly's Standing Committee, a share of the deputies, the Front committee…),
recorded with who proposed, its number and date. A person who resigns first is recorded with
the decision and left off the ballot.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import profiles
from .errors import N_, CountError, InvalidInput, NotFound, WrongState
from .limits import LENGTHS
from .models import BallotItem, Body, Person, Round, Scale, VoterGroup
from .roster import RosterEntry
from .rounds import create_round
from .rules import findings_for_round
from .tally import tally_round
from .text import clean_name, same_name
from .vocabulary import COUNTED, RESIGNED


@dataclass(frozen=True)
class Proposal:
    """A proposal for a vote of confidence: who proposed it, its number and date, the persons.

    `signatories` is how many members signed it, where the profile requires a share of them.
    """

    by: str
    number: str
    on: dt.date
    persons: Sequence[str] = field(default_factory=tuple)
    signatories: int | None = None


def _check_proposal(
    profile: profiles.Profile, body: Body, proposal: Proposal, members: int | None
) -> None:
    proposer = profile.proposer(proposal.by)
    if proposer is None or body.kind not in proposer.body_kinds:
        allowed = [p.id for p in profile.proposers if body.kind in p.body_kinds]
        raise InvalidInput(
            N_(
                "Under the profile {profile}, a vote of confidence of this body cannot be "
                "proposed by {by!r}; it can be proposed by: {allowed}."
            ),
            profile=profile.id,
            by=proposal.by,
            allowed=", ".join(allowed) or "—",
        )
    if not clean_name(proposal.number):
        raise InvalidInput(N_("A proposal needs its number."))
    if not proposal.persons:
        raise InvalidInput(N_("A proposal names at least one person."))
    if proposer.min_share is None:
        return
    numerator, denominator = proposer.min_share
    if proposal.signatories is None or members is None:
        raise CountError(
            N_(
                "A proposal by {by} needs the number of members who signed it and the number "
                "of members: at least {share} of them must sign."
            ),
            by=proposal.by,
            share=f"{numerator}/{denominator}",
        )
    if proposal.signatories > members:
        raise CountError(
            N_("Impossible counts: {signed} signed the proposal but there are {members} members."),
            signed=proposal.signatories,
            members=members,
        )
    if proposal.signatories * denominator < members * numerator:
        raise CountError(
            N_(
                "The proposal has {signed} signatures of {members} members: at least {share} "
                "of them ({needed}) must sign."
            ),
            signed=proposal.signatories,
            members=members,
            share=f"{numerator}/{denominator}",
            needed=-(-members * numerator // denominator),
        )


def _person(session: Session, body: Body, key: str) -> Person:
    persons = session.scalars(select(Person).where(Person.body_id == body.id)).all()
    found = next((p for p in persons if p.person_key == key), None)
    found = found or next((p for p in persons if same_name(p.person_key, key)), None)
    if found is None:
        raise NotFound(N_("Unknown person {key} in body {code}."), key=key, code=body.code)
    return found


def _position(session: Session, person: Person) -> str:
    """Return the position a person held on their latest ballot in the body."""
    latest = session.scalar(
        select(BallotItem.position)
        .join(Round, Round.id == BallotItem.round_id)
        .where(BallotItem.person_id == person.id)
        .order_by(Round.year.desc(), Round.id.desc())
        .limit(1)
    )
    return latest or ""


def _from_findings(session: Session, source: Round) -> list[RosterEntry]:
    if source.status not in COUNTED:
        raise WrongState(
            N_("Round {id} is {status}: a vote of confidence follows a counted round."),
            id=source.id,
            status=source.status,
        )
    if source.scale != Scale.POLL.value:
        raise WrongState(N_("Round {id} is already a vote of confidence."), id=source.id)
    tally = tally_round(session, source)
    if tally.void:
        raise WrongState(
            N_(
                "Round {id} is void for want of quorum: it raises no finding and no vote of "
                "confidence."
            ),
            id=source.id,
        )
    flagged = findings_for_round(session, tally)
    return [
        RosterEntry(
            line=item.order,
            name=item.name,
            position=item.position,
            person_key=item.person_key,
            referral="finding",
        )
        for item in tally.items
        if any(finding.calls_for_vote for finding in flagged[item.order])
    ]


def create_followup(
    session: Session,
    source: Round | None,
    *,
    body: Body | None = None,
    year: int | None = None,
    profile_id: str | None = None,
    title: str | None = None,
    members: int | None = None,
    summoned: int | None = None,
    present: int | None = None,
    proposal: Proposal | None = None,
    resigned: Mapping[str, str] | None = None,
    time_exception: str | None = None,
) -> Round:
    """Create a draft vote of confidence: the persons a finding of `source` refers, or a proposal.

    Only findings whose consequence calls for a vote of confidence count (the profile marks
    them `followup_vote`): under NQ 35/2012 more than half low in one year means "may resign",
    not a vote (DOMAIN.md §8), while more than two thirds, or two years in a row, does.
    `resigned` maps the key of a person who resigned before the vote to the decision number:
    they are recorded and left off the ballot.
    """
    roster: list[RosterEntry] = []
    if source is not None:
        body = source.body
        year = source.year
        profile = profiles.get_profile(session, source.profile_id, source.profile_version)
        roster = _from_findings(session, source)
        # The vote is held by those whose result decided (a poll of several voter groups: the
        # deciding group, e.g. the executive committee; the combined result: all of them).
        deciding = next(
            (
                g
                for g in source.groups
                if g.number == source.deciding_group and len(source.groups) > 1
            ),
            None,
        )
        voters: Round | VoterGroup = deciding if deciding is not None else source
        members = voters.members if members is None else members
        summoned = voters.summoned if summoned is None else summoned
        present = voters.present if present is None else present
    else:
        if body is None or year is None or profile_id is None or proposal is None:
            raise InvalidInput(
                N_(
                    "A vote of confidence follows a counted poll (--from-round), or a "
                    "proposal with the body, the year and the profile."
                )
            )
        profile = profiles.get_profile(session, profile_id)
    if proposal is not None:
        _check_proposal(profile, body, proposal, members)
        on_ballot = {entry.person_key for entry in roster}
        for key in proposal.persons:
            person = _person(session, body, key)
            if person.person_key in on_ballot:
                continue
            on_ballot.add(person.person_key)
            roster.append(
                RosterEntry(
                    line=len(roster) + 1,
                    name=person.name,
                    position=_position(session, person),
                    person_key=person.person_key,
                    referral="proposal",
                )
            )
    if not roster:
        if source is not None and any(
            findings_for_round(session, tally_round(session, source)).values()
        ):
            raise WrongState(
                N_("Round {id} has no finding that calls for a vote of confidence."),
                id=source.id,
            )
        raise WrongState(
            N_("Round {id} has no finding: there is nobody to put to a vote of confidence."),
            id=source.id if source is not None else 0,
        )
    for key, decision in (resigned or {}).items():
        match = [entry for entry in roster if entry.person_key == key]
        if not match:
            raise InvalidInput(
                N_("{key} is not among the persons of this vote of confidence."), key=key
            )
        index = roster.index(match[0])
        roster[index] = RosterEntry(
            line=match[0].line,
            name=match[0].name,
            position=match[0].position,
            person_key=match[0].person_key,
            exempt_reason=RESIGNED,
            exempt_decision=decision,
            referral=match[0].referral,
        )
    if all(entry.exempt_reason for entry in roster):
        raise InvalidInput(N_("Everybody resigned: there is nobody left to vote on."))
    default_title = (
        f"Bỏ phiếu tín nhiệm — {source.title}"
        if source is not None
        else f"Bỏ phiếu tín nhiệm năm {year}"
    )
    round_ = create_round(
        session,
        body,
        year=year,
        profile_id=profile.id,
        profile_version=profile.version,
        title=title or default_title[: LENGTHS["title"]],
        roster=roster,
        # The vote may be held at a later sitting: its attendance is its own when given.
        members=members,
        summoned=summoned,
        present=present,
        scale=Scale.CONFIDENCE_VOTE.value,
        place=source.place if source is not None else None,
        followup_of=source.id if source is not None else None,
        time_exception=time_exception,
    )
    if proposal is not None:
        round_.proposal_by = proposal.by
        round_.proposal_number = clean_name(proposal.number)
        round_.proposal_on = proposal.on
        round_.proposal_signatories = proposal.signatories
    session.flush()
    return round_
