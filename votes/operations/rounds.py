"""Bodies and rounds: create, change the roster and attendance, open, close, publish, follow up."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

from .. import paper, rounds, tree
from ..errors import N_, WrongState
from ..followup import Proposal, create_followup
from ..groups import GROUP_CLOSED, deciding_label, get_group
from ..meeting import Member, meeting_details
from ..meeting import record_meeting as record_meeting_of
from ..models import Body, Person, Round, RoundStatus, Scale, VoterGroup
from ..profiles import get_profile
from ..roster import RosterEntry, roster_details
from ..seal import box_digest, current_seal
from ..vocabulary import COUNTED, PUBLIC_KINDS, RESIGNED
from .committee import voting_closed_record
from .work import Work


def add_body(
    work: Work,
    code: str,
    name: str,
    kind: str = "party",
    level: str | None = None,
    parent: str | None = None,
) -> Body:
    """Add a body (the organisation that holds rounds), placed in the tree of bodies."""
    body = rounds.add_body(work.session, code, name, kind)
    above = work.body(parent) if parent else None
    tree.place_body(work.session, body, level or tree.default_level(kind), above)
    details: dict[str, object] = {"code": body.code, "name": body.name, "kind": body.kind}
    # Logged only when the tree says something, so that the log of a flat body reads as before.
    if level or above is not None:
        details.update(level=body.level, parent=above.code if above is not None else None)
    work.log("body_added", details=details)
    return body


def place_body(work: Work, code: str, level: str | None = None, parent: str | None = None) -> Body:
    """Move a body in the tree: a new level, a new parent ("" for the top), or both."""
    body = work.body(code)
    if parent is None:
        above = work.session.get(Body, body.parent_id) if body.parent_id else None
    else:
        above = work.body(parent) if parent else None
    tree.place_body(work.session, body, level or body.level, above)
    work.log(
        "body_placed",
        details={
            "code": body.code,
            "level": body.level,
            "parent": above.code if above is not None else None,
        },
    )
    return body


def _log_created(
    work: Work, round_: Round, identity: list[dict[str, object]] | None = None
) -> None:
    profile = get_profile(work.session, round_.profile_id, round_.profile_version)
    details: dict[str, object] = {
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
    }
    # Logged only when given, so that the log of an ordinary round reads as before.
    if round_.time_exception:
        details["time_exception"] = round_.time_exception
    if identity:
        details["identity"] = identity
    if round_.proposal_by:
        details["proposal"] = {
            "by": round_.proposal_by,
            "number": round_.proposal_number,
            "date": round_.proposal_on.isoformat() if round_.proposal_on else None,
            "signatories": round_.proposal_signatories,
        }
    work.log("round_created", round_id=round_.id, details=details)


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
    time_exception: str | None = None,
    other_exemption: str | None = None,
    identity: Mapping[int, str] | None = None,
) -> Round:
    """Create a draft round of a body from a roster, under a profile made for that body.

    `time_exception` is the number of the decision that allows a round outside the profile's
    dates or frequency; `other_exemption` the decision that allows exemptions the profile does
    not list; `identity` answers the roster's "same person?" questions (line → person key,
    or "new").
    """
    body = work.body(body_code)
    rounds.check_profile_fits(work.session, body, profile_id)
    decisions: list[dict[str, object]] = []
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
        time_exception=time_exception,
        other_exemption=other_exemption,
        identity=dict(identity or {}),
        decisions=decisions,
    )
    _log_created(work, round_, decisions)
    return round_


def set_roster(
    work: Work,
    round_id: int,
    roster: list[RosterEntry],
    *,
    other_exemption: str | None = None,
    identity: Mapping[int, str] | None = None,
) -> Round:
    """Replace the roster of a draft round (answers to "same person?" in `identity`)."""
    round_ = work.round(round_id)
    decisions = rounds.set_roster(
        work.session,
        round_,
        roster,
        other_exemption=other_exemption,
        identity=dict(identity or {}),
    )
    details = roster_details(round_)
    if decisions:
        details["identity"] = decisions
    work.log("roster_changed", round_id=round_.id, details=details)
    return round_


def exempt_person(
    work: Work, round_id: int, person_key: str, reason: str, decision: str = ""
) -> Person:
    """Leave a person off the ballot of a draft round, with the reason (and, for a reason
    the profile does not list, the number of the decision that allows it)."""
    round_ = work.round(round_id)
    person = rounds.change_exemption(work.session, round_, person_key, reason, decision)
    work.log("roster_changed", round_id=round_.id, details=roster_details(round_))
    return person


def resign_person(work: Work, round_id: int, person_key: str, decision: str) -> Person:
    """Record that a person resigned before a draft vote of confidence: off its ballot."""
    round_ = work.round(round_id)
    if round_.scale != Scale.CONFIDENCE_VOTE.value:
        raise WrongState(
            N_("Round {id} is a poll: a resignation is recorded on a vote of confidence."),
            id=round_.id,
        )
    person = rounds.change_exemption(work.session, round_, person_key, RESIGNED, decision)
    work.log("roster_changed", round_id=round_.id, details=roster_details(round_))
    return person


def record_meeting(
    work: Work,
    round_id: int,
    *,
    held_on: dt.date,
    committee: list[Member],
    starts_at: dt.time | None = None,
    counted_at: dt.datetime | None = None,
    place: str | None = None,
    chair: str | None = None,
) -> Round:
    """Record the meeting and its counting committee (before the minutes are signed)."""
    round_ = work.round(round_id)
    profile = get_profile(work.session, round_.profile_id, round_.profile_version)
    before = record_meeting_of(
        work.session,
        round_,
        profile,
        held_on=held_on,
        committee=committee,
        starts_at=starts_at,
        counted_at=counted_at,
        place=place,
        chair=chair,
    )
    details: dict[str, Any] = {**meeting_details(round_), "before": before}
    if round_.status in COUNTED:
        # The meeting's date and place are part of the round's sealed details: recorded after
        # the close, they re-seal the round (verify and the bundle take the latest seal).
        sealed, parts = current_seal(work.session, round_)
        details.update(seal=sealed, seal_parts=parts)
    work.log("meeting_recorded", round_id=round_.id, details=details)
    return round_


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
    group: int | None = None,
) -> Round:
    """Record members, summoned and present of a draft or open round, or of one of its voter
    groups (KEEP leaves one as is)."""
    round_ = work.round(round_id)
    target = get_group(round_, group)
    holder: Round | VoterGroup = target if len(round_.groups) > 1 else round_
    figures = {
        "members": holder.members if members is KEEP else members,
        "summoned": holder.summoned if summoned is KEEP else summoned,
        "present": holder.present if present is KEEP else present,
    }
    before = rounds.set_attendance(
        work.session,
        round_,
        members=figures["members"],
        summoned=figures["summoned"],
        present=figures["present"],
        group=group,
    )
    details: dict[str, Any] = {**figures, "before": before}
    if len(round_.groups) > 1:
        details["group"] = target.number
    work.log("attendance_changed", round_id=round_.id, details=details)
    return round_


def open_round(work: Work, round_id: int, group: int | None = None) -> Round:
    """Open a draft round (or one of its voter groups, without: every group) for voting; its
    ballot is frozen from now on."""
    round_ = work.round(round_id)
    first = round_.status == RoundStatus.DRAFT.value
    opened = rounds.open_round(work.session, round_, group)
    if len(round_.groups) <= 1:
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
    if first:
        # The result that decides is in the log before any ballot is cast.
        work.log(
            "round_opened",
            round_id=round_.id,
            details={"items": len(round_.items), "deciding": deciding_label(round_)},
        )
    for target in opened:
        work.log(
            "group_opened",
            round_id=round_.id,
            details={
                "group": target.number,
                "present": target.present,
                "summoned": target.summoned,
            },
        )
    return round_


def close_round(work: Work, round_id: int, group: int | None = None) -> Round:
    """Close an open round (or one of its voter groups; without: every group still open): no
    ballot after this; the count is recorded and sealed in the log when the last group closes."""
    round_ = work.round(round_id)
    still_open = [g.number for g in round_.groups if g.status != GROUP_CLOSED]
    closed = rounds.close_round(work.session, round_, group)
    if len(round_.groups) > 1:
        for number in still_open if group is None else [group]:
            target = get_group(round_, number)
            # A group's paper entries close with the group: what was not accepted is dropped.
            dropped = paper.discard_pending(work.session, round_.id, target.number)
            if dropped:
                work.log(
                    "paper_entries_discarded",
                    round_id=round_.id,
                    details={"ballots": dropped, "group": target.number},
                )
            work.log(
                "group_closed",
                round_id=round_.id,
                details={
                    "group": target.number,
                    "issued": target.issued,
                    "collected": target.collected,
                    "present": target.present,
                    "summoned": target.summoned,
                    # The group's box of sealed ballots as it closed (null without them).
                    "box_digest": box_digest(work.session, round_.id, target.number),
                },
            )
    if not closed:
        return round_
    dropped = paper.discard_pending(work.session, round_.id)
    if dropped:
        work.log("paper_entries_discarded", round_id=round_.id, details={"ballots": dropped})
    if round_.status == RoundStatus.DECRYPTING.value:
        # Sealed online ballots: counted once k members of the committee have decrypted the
        # totals (operations.committee.receive_committee_file writes the close record then).
        work.log("voting_closed", round_id=round_.id, details=voting_closed_record(work, round_))
        return round_
    work.log(
        "round_closed", round_id=round_.id, details=rounds.closing_record(work.session, round_)
    )
    return round_


def publish_round(work: Work, round_id: int) -> Round:
    """Publish a closed round's results: on the open site for a council or the Assembly,
    to the committee and the managing level only for a Party committee."""
    round_ = work.round(round_id)
    rounds.publish_round(work.session, round_)
    audience = "public" if round_.body.kind in PUBLIC_KINDS else "staff_and_auditors"
    work.log("round_published", round_id=round_.id, details={"audience": audience})
    return round_


def follow_up(
    work: Work,
    round_id: int | None,
    *,
    body_code: str | None = None,
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
    """Create a vote of confidence: on the findings of a counted poll, on a proposal, or both.

    Persons in `resigned` (key → decision number) resigned first: recorded, off the ballot.
    """
    source = work.round(round_id) if round_id is not None else None
    body = work.body(body_code) if body_code is not None and source is None else None
    if body is not None and profile_id is not None:
        rounds.check_profile_fits(work.session, body, profile_id)
    round_ = create_followup(
        work.session,
        source,
        body=body,
        year=year,
        profile_id=profile_id,
        title=title,
        members=members,
        summoned=summoned,
        present=present,
        proposal=proposal,
        resigned=resigned,
        time_exception=time_exception,
    )
    _log_created(work, round_)
    return round_
