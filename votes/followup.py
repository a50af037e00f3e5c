"""Votes of confidence (bỏ phiếu tín nhiệm) that follow up the findings of a poll."""

from __future__ import annotations

from sqlalchemy.orm import Session

from .errors import N_, WrongState
from .limits import LENGTHS
from .models import Round, Scale
from .roster import RosterEntry
from .rounds import create_round
from .rules import findings_for_round
from .tally import tally_round
from .vocabulary import COUNTED


def create_followup(
    session: Session,
    source: Round,
    *,
    title: str | None = None,
    members: int | None = None,
    summoned: int | None = None,
    present: int | None = None,
) -> Round:
    """Create a draft vote of confidence for the persons whose findings in `source` call for one.

    Only findings whose consequence calls for a vote of confidence count (the profile marks
    them `followup_vote`): under NQ 35/2012 more than half low in one year means "may resign",
    not a vote (DOMAIN.md §8), while more than two thirds, or two years in a row, does.
    """
    if source.status not in COUNTED:
        raise WrongState(
            N_("Round {id} is {status}: a vote of confidence follows a counted round."),
            id=source.id,
            status=source.status,
        )
    if source.scale != Scale.POLL.value:
        raise WrongState(N_("Round {id} is already a vote of confidence."), id=source.id)
    tally = tally_round(session, source)
    flagged = findings_for_round(session, tally)
    roster = [
        RosterEntry(
            line=item.order, name=item.name, position=item.position, person_key=item.person_key
        )
        for item in tally.items
        if any(finding.calls_for_vote for finding in flagged[item.order])
    ]
    if not roster:
        if any(flagged.values()):
            raise WrongState(
                N_("Round {id} has no finding that calls for a vote of confidence."),
                id=source.id,
            )
        raise WrongState(
            N_("Round {id} has no finding: there is nobody to put to a vote of confidence."),
            id=source.id,
        )
    return create_round(
        session,
        source.body,
        year=source.year,
        profile_id=source.profile_id,
        profile_version=source.profile_version,
        title=title or f"Bỏ phiếu tín nhiệm — {source.title}"[: LENGTHS["title"]],
        roster=roster,
        # The vote may be held at a later sitting: its attendance is its own when given.
        members=source.members if members is None else members,
        summoned=source.summoned if summoned is None else summoned,
        present=source.present if present is None else present,
        scale=Scale.CONFIDENCE_VOTE.value,
        place=source.place,
        followup_of=source.id,
    )
