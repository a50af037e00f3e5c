"""Voter groups: add one to a draft round, name the result that decides (both logged)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from .. import audit, groups, rounds
from ..meeting import Member
from ..models import VoterGroup
from ..profiles import get_profile
from ..seal import current_seal
from ..vocabulary import COUNTED
from .work import Work


def add_group(
    work: Work,
    round_id: int,
    name: str,
    *,
    members: int,
    summoned: int | None = None,
    present: int | None = None,
    deciding: bool = False,
    kind: str | None = None,
) -> VoterGroup:
    """Add a voter group to a draft round (with `deciding`, its result decides).

    Unless the organizer chose the result that decides (`deciding` now or before, or `votes
    group decide`), the profile's `deciding_group` names it: the first group of its kind, or
    the combined result; the log says which it was ("deciding_by").
    """
    round_ = work.round(round_id)
    group = groups.add_group(
        work.session,
        round_,
        name,
        members=members,
        summoned=summoned,
        present=present,
        deciding=deciding,
        basis=rounds.basis_of(work.session, round_),
        kind=kind,
    )
    deciding_by = "organizer" if deciding else None
    if not deciding and not _organizer_chose(work, round_.id):
        profile = get_profile(work.session, round_.profile_id, round_.profile_version)
        chosen = groups.deciding_by_profile(round_, profile.deciding_group)
        if chosen != round_.deciding_group:
            round_.deciding_group = chosen
            deciding_by = "profile"
    work.log(
        "group_added",
        round_id=round_.id,
        details={
            "number": group.number,
            "name": group.name,
            "members": group.members,
            "summoned": group.summoned,
            "present": group.present,
            "deciding": groups.deciding_label(round_),
            **({"kind": group.kind} if group.kind else {}),
            **({"deciding_by": deciding_by} if deciding_by else {}),
        },
    )
    return group


def _organizer_chose(work: Work, round_id: int) -> bool:
    """Tell whether the organizer named the result that decides (the log says so)."""
    for event in audit.round_events(work.session, round_id):
        if event.kind == "deciding_chosen":
            return True
        if event.kind == "group_added" and json.loads(event.details).get("deciding_by") == (
            "organizer"
        ):
            return True
    return False


def choose_deciding(work: Work, round_id: int, number: int | None) -> int | str:
    """Name the result the rules apply to before the round opens: a group, or None (combined)."""
    round_ = work.round(round_id)
    before = groups.deciding_label(round_)
    groups.choose_deciding(round_, number)
    work.session.flush()
    chosen = groups.deciding_label(round_)
    work.log("deciding_chosen", round_id=round_.id, details={"deciding": chosen, "before": before})
    return chosen


def record_group_meeting(
    work: Work,
    round_id: int,
    group: int,
    *,
    held_on: dt.date,
    place: str | None,
    committee: list[Member],
) -> VoterGroup:
    """Record a voter group's own meeting and counting committee (who signs its minutes)."""
    round_ = work.round(round_id)
    target = groups.get_group(round_, group)
    before = groups.record_group_meeting(
        round_,
        target,
        held_on=held_on,
        place=place,
        committee=[(member.name, member.role) for member in committee],
    )
    details: dict[str, Any] = {
        "group": target.number,
        "held_on": held_on.isoformat(),
        "place": target.place,
        "committee": [
            {"name": name, "role": role} for name, role in groups.group_committee(target)
        ],
        "before": before,
    }
    if round_.status in COUNTED:
        # A group's meeting date and place are sealed: recorded after the close, they
        # re-seal the round (verify and the bundle take the latest seal).
        sealed, parts = current_seal(work.session, round_)
        details.update(seal=sealed, seal_parts=parts)
    work.log("group_meeting_recorded", round_id=round_.id, details=details)
    return target
