"""Bodies and rounds: create, change the roster and attendance, open, close, publish, follow up."""

from __future__ import annotations

import datetime as dt
import enum

from .. import paper, rounds
from ..followup import create_followup
from ..models import Body, Person, Round, Scale
from ..profiles import get_profile
from ..roster import RosterEntry, roster_details
from .work import Work


def add_body(work: Work, code: str, name: str, kind: str = "party") -> Body:
    """Add a body (the organisation that holds rounds)."""
    body = rounds.add_body(work.session, code, name, kind)
    work.log("body_added", details={"code": body.code, "name": body.name, "kind": body.kind})
    return body


def _log_created(work: Work, round_: Round) -> None:
    profile = get_profile(work.session, round_.profile_id, round_.profile_version)
    work.log(
        "round_created",
        round_id=round_.id,
        details={
            "body": round_.body.code,
            "year": round_.year,
            "title": round_.title,
            "scale": round_.scale,
            "profile": {"id": profile.id, "version": profile.version},
            "members": round_.members,
            "summoned": round_.summoned,
            "present": round_.present,
            "followup_of": round_.followup_of,
            **roster_details(round_),
        },
    )


def create_round(
    work: Work,
    *,
    body_code: str,
    year: int,
    profile_id: str,
    title: str,
    roster: list[RosterEntry],
    members: int | None,
    summoned: int | None = None,
    present: int | None = None,
    place: str | None = None,
    held_on: dt.date | None = None,
    profile_version: int | None = None,
    scale: str = Scale.POLL.value,
) -> Round:
    """Create a draft round of a body from a roster, under a profile made for that body."""
    body = work.body(body_code)
    rounds.check_profile_fits(work.session, body, profile_id)
    round_ = rounds.create_round(
        work.session,
        body,
        year=year,
        profile_id=profile_id,
        title=title,
        roster=roster,
        profile_version=profile_version,
        members=members,
        summoned=summoned,
        present=present,
        scale=scale,
        place=place,
        held_on=held_on,
    )
    _log_created(work, round_)
    return round_


def set_roster(work: Work, round_id: int, roster: list[RosterEntry]) -> Round:
    """Replace the roster of a draft round."""
    round_ = work.round(round_id)
    rounds.set_roster(work.session, round_, roster)
    work.log("roster_changed", round_id=round_.id, details=roster_details(round_))
    return round_


def exempt_person(work: Work, round_id: int, person_key: str, reason: str) -> Person:
    """Leave a person off the ballot of a draft round, with the reason."""
    round_ = work.round(round_id)
    person = rounds.change_exemption(work.session, round_, person_key, reason)
    work.log("roster_changed", round_id=round_.id, details=roster_details(round_))
    return person


def restore_person(work: Work, round_id: int, person_key: str) -> Person:
    """Put an exempt person back on the ballot of a draft round."""
    round_ = work.round(round_id)
    person = rounds.change_exemption(work.session, round_, person_key, "")
    work.log("roster_changed", round_id=round_.id, details=roster_details(round_))
    return person


class Keep(enum.Enum):
    """An attendance figure that is left as recorded."""

    KEEP = "keep"


KEEP = Keep.KEEP


def record_attendance(
    work: Work,
    round_id: int,
    *,
    members: int | Keep | None = KEEP,
    summoned: int | Keep | None = KEEP,
    present: int | Keep | None = KEEP,
) -> Round:
    """Record members, summoned and present of a draft or open round (KEEP leaves one as is)."""
    round_ = work.round(round_id)
    figures = {
        "members": round_.members if members is KEEP else members,
        "summoned": round_.summoned if summoned is KEEP else summoned,
        "present": round_.present if present is KEEP else present,
    }
    before = rounds.set_attendance(
        work.session,
        round_,
        members=figures["members"],
        summoned=figures["summoned"],
        present=figures["present"],
    )
    work.log("attendance_changed", round_id=round_.id, details={**figures, "before": before})
    return round_


def open_round(work: Work, round_id: int) -> Round:
    """Open a draft round for voting; its ballot is frozen from now on."""
    round_ = work.round(round_id)
    rounds.open_round(work.session, round_)
    work.log(
        "round_opened",
        round_id=round_.id,
        details={
            "items": len(round_.items),
            "present": round_.present,
            "summoned": round_.summoned,
        },
    )
    return round_


def close_round(work: Work, round_id: int) -> Round:
    """Close an open round: no ballot after this; the count is recorded and sealed in the log."""
    round_ = work.round(round_id)
    rounds.close_round(work.session, round_)
    dropped = paper.discard_pending(work.session, round_.id)
    if dropped:
        work.log("paper_entries_discarded", round_id=round_.id, details={"ballots": dropped})
    work.log(
        "round_closed", round_id=round_.id, details=rounds.closing_record(work.session, round_)
    )
    return round_


def publish_round(work: Work, round_id: int) -> Round:
    """Publish a closed round's results."""
    round_ = work.round(round_id)
    rounds.publish_round(work.session, round_)
    work.log("round_published", round_id=round_.id)
    return round_


def follow_up(
    work: Work,
    round_id: int,
    *,
    title: str | None = None,
    members: int | None = None,
    summoned: int | None = None,
    present: int | None = None,
) -> Round:
    """Create the vote of confidence that the findings of a counted poll call for."""
    source = work.round(round_id)
    round_ = create_followup(
        work.session, source, title=title, members=members, summoned=summoned, present=present
    )
    _log_created(work, round_)
    return round_
