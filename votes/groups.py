"""Voter groups of a round ("mở rộng đối tượng tham gia"): one list of persons, several electorates.

A round is rated by one or more groups that meet separately. Each group has its own
members, summoned and present, codes, paper ballots, quorum and open/close; the round's own
figures are the sums over its groups, so everything that reads a round as a whole (the
combined result, the seal's counts) reads the sums. A round created as before has exactly
one group, number 1, and behaves exactly as before.

Which result decides — one group's, or the combined one — is the round's `deciding_group`
(NULL = combined), chosen before the round opens. Guard checks and state changes only: the
operations in votes/operations/groups.py log them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .ballotbox import check_counts, check_within_members
from .errors import N_, InvalidInput, NotFound, WrongState
from .limits import check_text, in_id_range
from .models import Ballot, Credential, Round, RoundStatus, SealedBallot, VoterGroup
from .text import clean_name, nfc
from .vocabulary import COMBINED, FIRST_GROUP_KINDS, GROUP_KINDS

# A group under this many ballots (or members) is never shown alone (DOMAIN.md §2): the
# setting VOTES_SMALL_ROUND_MINIMUM (votes/config.py), whose default this is.
SMALL_MINIMUM = 5


def small_minimum() -> int:
    """Return the small-round minimum as configured (VOTES_SMALL_ROUND_MINIMUM), for every door."""
    try:
        return max(1, int(os.environ.get("VOTES_SMALL_ROUND_MINIMUM", SMALL_MINIMUM)))
    except ValueError:
        return SMALL_MINIMUM


# The name of a round's first group: the body's own members (stored in Vietnamese, as the
# migration of existing rounds names it).
FIRST_GROUP_NAMES = {
    "party": "Ban Chấp hành",
    "council": "Đại biểu Hội đồng nhân dân",
    "assembly": "Đại biểu Quốc hội",
}

GROUP_DRAFT, GROUP_OPEN, GROUP_CLOSED = "draft", "open", "closed"


def first_group(round_: Round, kind: str) -> VoterGroup:
    """Give a new round its first group, holding the round's own figures."""
    group = VoterGroup(
        number=1,
        name=FIRST_GROUP_NAMES.get(kind, FIRST_GROUP_NAMES["party"]),
        kind=FIRST_GROUP_KINDS.get(kind),
        status=GROUP_DRAFT,
        members=round_.members,
        summoned=round_.summoned,
        present=round_.present,
        place=round_.place,
        held_on=round_.held_on,
    )
    round_.groups.append(group)
    return group


def is_widened(round_: Round) -> bool:
    """Tell whether a round has more than one voter group."""
    return len(round_.groups) > 1


def get_group(round_: Round, number: int | None) -> VoterGroup:
    """Return a group of a round by number; without one, the round's only group."""
    if number is None:
        if len(round_.groups) == 1:
            return round_.groups[0]
        raise InvalidInput(
            N_(
                "Round {id} has {count} voter groups: name the group (on the command line: "
                "--group N)."
            ),
            id=round_.id,
            count=len(round_.groups),
        )
    if in_id_range(number):
        for group in round_.groups:
            if group.number == number:
                return group
    raise NotFound(N_("Round {id} has no voter group {number}."), id=round_.id, number=number)


def deciding_label(round_: Round) -> int | str:
    """Return the number of the deciding group, or "combined"."""
    return COMBINED if round_.deciding_group is None else round_.deciding_group


def sum_figures(values: Iterable[int | None]) -> int | None:
    """Add figures of the groups; unknown (None) when any group's is unknown."""
    total = 0
    for value in values:
        if value is None:
            return None
        total += value
    return total


def sync_round(round_: Round) -> None:
    """Make the round's members, summoned, present and paper ballots the sums of its groups."""
    groups = round_.groups
    round_.members = sum_figures(g.members for g in groups)
    round_.summoned = sum_figures(g.summoned for g in groups)
    round_.present = sum_figures(g.present for g in groups)
    papers = [g.paper_issued for g in groups if g.paper_issued is not None]
    round_.paper_issued = sum(papers) if papers else None


def add_group(
    session: Session,
    round_: Round,
    name: str,
    *,
    members: int,
    summoned: int | None = None,
    present: int | None = None,
    deciding: bool = False,
    basis: str = "collected",
    kind: str | None = None,
) -> VoterGroup:
    """Add a voter group to a draft round; return it (numbered after the others).

    `kind` says what the group is (vocabulary.GROUP_KINDS), for a profile's default.
    """
    if round_.status != RoundStatus.DRAFT.value:
        raise WrongState(
            N_("Round {id} is {status}: voter groups are added while the round is a draft."),
            id=round_.id,
            status=round_.status,
        )
    name = check_text(name, "name")
    if not clean_name(name):
        raise InvalidInput(N_("A voter group needs a name."))
    if any(nfc(g.name).casefold() == name.casefold() for g in round_.groups):
        raise InvalidInput(
            N_("Round {id} already has a voter group named {name}."), id=round_.id, name=name
        )
    check_counts(members, summoned, present)
    if kind is not None and kind not in GROUP_KINDS:
        raise InvalidInput(
            N_("Unknown kind of voter group {kind!r}; expected one of {allowed}."),
            kind=kind,
            allowed=", ".join(GROUP_KINDS),
        )
    group = VoterGroup(
        number=max((g.number for g in round_.groups), default=0) + 1,
        name=name,
        kind=kind,
        status=GROUP_DRAFT,
        members=members,
        summoned=summoned,
        present=present,
    )
    round_.groups.append(group)
    sync_round(round_)
    check_within_members(basis, round_.members)
    if deciding:
        round_.deciding_group = group.number
    session.flush()
    return group


def deciding_by_profile(round_: Round, setting: str | None) -> int | None:
    """Return the result a profile's `deciding_group` names in a round of several groups.

    "combined": None; a kind of group: the first group of that kind. When the profile names
    none, or no group is of that kind, the round's current choice stands.
    """
    if setting is None:
        return round_.deciding_group
    if setting == COMBINED:
        return None
    return next(
        (g.number for g in sorted(round_.groups, key=lambda g: g.number) if g.kind == setting),
        round_.deciding_group,
    )


def choose_deciding(round_: Round, number: int | None) -> None:
    """Name the result that decides (a group's number, or None for combined) before opening."""
    if round_.status != RoundStatus.DRAFT.value:
        raise WrongState(
            N_("Round {id} is {status}: the result that decides is chosen before the round opens."),
            id=round_.id,
            status=round_.status,
        )
    if number is not None:
        get_group(round_, number)
    round_.deciding_group = number


def set_group_attendance(
    round_: Round,
    group: VoterGroup,
    *,
    members: int | None,
    summoned: int | None,
    present: int | None,
) -> dict[str, int | None]:
    """Record a group's figures (draft or open group); return those it replaced."""
    if group.status == GROUP_CLOSED:
        raise WrongState(
            N_(
                "Voter group {number} of round {id} is closed: its attendance was recorded "
                "when it closed and can no longer be changed."
            ),
            number=group.number,
            id=round_.id,
        )
    check_counts(members, summoned, present)
    before = {"members": group.members, "summoned": group.summoned, "present": group.present}
    group.members, group.summoned, group.present = members, summoned, present
    sync_round(round_)
    return before


def codes_issued_in(session: Session, round_id: int, number: int) -> int:
    """Count the codes issued for one group of a round."""
    return (
        session.scalar(
            select(func.count()).where(
                Credential.round_id == round_id, Credential.group_number == number
            )
        )
        or 0
    )


def codes_used_in(session: Session, round_id: int, number: int) -> int:
    """Count the codes of one group that were used (never which, never when)."""
    return (
        session.scalar(
            select(func.count()).where(
                Credential.round_id == round_id,
                Credential.group_number == number,
                Credential.used.is_(True),
            )
        )
        or 0
    )


def collected_in(session: Session, round_id: int, number: int) -> int:
    """Count the ballots of one group in the box: in the clear (paper) and sealed."""
    clear = session.scalar(
        select(func.count()).where(Ballot.round_id == round_id, Ballot.group_number == number)
    )
    sealed = session.scalar(
        select(func.count()).where(
            SealedBallot.round_id == round_id, SealedBallot.group_number == number
        )
    )
    return (clear or 0) + (sealed or 0)


def issued_in(session: Session, group: VoterGroup) -> int:
    """Return the ballots issued to one group: its paper ballots plus its codes."""
    return (group.paper_issued or 0) + codes_issued_in(session, group.round_id, group.number)


def group_box(session: Session, round_id: int, number: int) -> list[tuple[str, str]]:
    """Return the (status, marks) of every ballot of one group (a count source)."""
    return [
        (status, marks)
        for status, marks in session.execute(
            select(Ballot.status, Ballot.marks).where(
                Ballot.round_id == round_id, Ballot.group_number == number
            )
        )
    ]


def require_group_open(round_: Round, group: VoterGroup) -> None:
    """Refuse ballots for a group that is not open."""
    if round_.status != RoundStatus.OPEN.value or group.status != GROUP_OPEN:
        raise WrongState(
            N_(
                "Paper ballots can only be entered while the round is open "
                "(round {id} is {status})."
            )
            if len(round_.groups) == 1
            else N_(
                "Ballots of voter group {number} can only be entered while it is open (it "
                "is {status})."
            ),
            id=round_.id,
            status=round_.status,
            number=group.number,
        )


@dataclass(frozen=True)
class Shown:
    """Which results of a widened round may be shown: the groups hidden, and why."""

    # Groups under the minimum: never shown alone (DOMAIN.md §2).
    small: frozenset[int]
    # Groups hidden besides, so that no small group can be read off the combined result by
    # subtracting the others (complementary suppression).
    shielding: frozenset[int]
    # The combined result is withheld too when no other group could shield a small one.
    combined_withheld: bool

    @property
    def hidden(self) -> frozenset[int]:
        """Return every group whose own result is not shown."""
        return self.small | self.shielding


def is_small(collected: int, members: int | None, minimum: int) -> bool:
    """Tell whether a group is too small to be shown alone (ballots or members under minimum)."""
    return collected < minimum or (members is not None and members < minimum)


def shown_results(
    sizes: Sequence[tuple[int, int, int | None]], deciding: int | None, minimum: int
) -> Shown:
    """Decide which groups' results may be shown: `sizes` is (number, collected, members).

    A group under the minimum is hidden. The combined result is the sum of all groups, so a
    single hidden group could be computed as combined minus the others: other groups are
    hidden with it (the smallest first, never the deciding one) until the hidden groups
    together hold at least `minimum` ballots from at least two groups. When that cannot be
    done without hiding the deciding group, the combined result is withheld instead. A round
    of one group hides nothing (the pages warn about a small round, as they always did).
    """
    if len(sizes) <= 1:
        return Shown(frozenset(), frozenset(), combined_withheld=False)
    small = {
        number for number, collected, members in sizes if is_small(collected, members, minimum)
    }
    if not small:
        return Shown(frozenset(), frozenset(), combined_withheld=False)
    collected_of = {number: collected for number, collected, _ in sizes}
    hidden = set(small)
    candidates = sorted(
        (collected, number)
        for number, collected, _ in sizes
        if number not in hidden and number != deciding
    )
    withheld = False
    while len(hidden) < len(sizes) and (
        len(hidden) < 2 or sum(collected_of[n] for n in hidden) < minimum
    ):
        if not candidates:
            withheld = True
            break
        hidden.add(candidates.pop(0)[1])
    return Shown(frozenset(small), frozenset(hidden - small), combined_withheld=withheld)


def record_group_meeting(
    round_: Round,
    group: VoterGroup,
    *,
    held_on: dt.date,
    place: str | None,
    committee: Sequence[tuple[str, str]],
) -> dict[str, object]:
    """Record a group's own meeting (date, place) and counting committee; return the former.

    `committee` is (name, role) with one head, as votes.meeting reads it. A group of a round
    of one group shares the round's meeting: record that one instead.
    """
    if len(round_.groups) <= 1:
        raise InvalidInput(
            N_("Round {id} has one voter group: its meeting is the round's."), id=round_.id
        )
    if round_.status == RoundStatus.PUBLISHED.value:
        raise WrongState(
            N_(
                "Round {id} is published: its minutes are signed and the meeting of voter "
                "group {number} can no longer be changed."
            ),
            id=round_.id,
            number=group.number,
        )
    before: dict[str, object] = {
        "held_on": group.held_on.isoformat() if group.held_on else None,
        "place": group.place,
        "committee": group.committee,
    }
    group.held_on = held_on
    group.place = check_text(place, "place") if place else None
    group.committee = "\n".join(
        f"head: {name}" if role == "head" else name for name, role in committee
    )
    return before


def group_committee(group: VoterGroup) -> list[tuple[str, str]]:
    """Return a group's counting committee as (name, role), the head first."""
    members = []
    for line in (group.committee or "").splitlines():
        if line.startswith("head: "):
            members.append((line[len("head: ") :], "head"))
        elif line.strip():
            members.append((line, "member"))
    return sorted(members, key=lambda member: member[1] != "head")
