"""Counting: marks per item and level, invalid marks, ballot accounting, the denominator."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import profiles
from .ballotbox import (
    PackedBox,
    ballots_collected,
    ballots_issued,
    combined_box,
    packed_box,
    sealed_count,
)
from .committee import online_totals
from .counting import count_packed
from .credentials import codes_issued
from .errors import N_, CountError, Message, WrongState, message
from .groups import GROUP_CLOSED, codes_issued_in, issued_in
from .models import Person, Round, Scale, VoterGroup
from .profiles import both_languages
from .text import percent
from .vocabulary import BASES, COUNTED, level_names

BASIS_FIELDS = tuple(BASES)


@dataclass
class ItemTally:
    """The count of one ballot item."""

    order: int
    kind: str
    person_id: int | None
    person_key: str | None
    name: str
    position: str
    counts: dict[str, int]

    def share(self, level: str, denominator: int | None) -> Decimal | None:
        """Return the percentage of a level on D, half-up to 2 places."""
        return percent(self.counts[level], denominator)


@dataclass
class RoundTally:
    """The count of one result of a round (a voter group's, or the combined one).

    `group` is the number of the voter group counted, or None for the combined result of all
    groups (in a round of one group the two are the same ballots and the same figures).
    """

    round: Round
    profile: profiles.Profile
    levels: tuple[str, ...]
    issued: int
    collected: int
    valid: int
    invalid: int
    basis: str
    denominator: int | None
    quorum: dict[str, object]
    items: list[ItemTally] = field(default_factory=list)
    # Of the ballots collected: the online ones, sealed and decrypted by the committee only as
    # totals (the rest are paper ballots, counted in the clear).
    sealed: int = 0
    group: int | None = None
    # The group's figures (the round's sums for the combined result).
    members: int | None = None
    summoned: int | None = None
    present: int | None = None

    @property
    def quorum_met(self) -> bool | None:
        """Tell whether the quorum is met (None when attendance is unknown)."""
        met = self.quorum["met"]
        return None if met is None else bool(met)

    @property
    def void(self) -> bool:
        """Tell whether the round is void for want of quorum: counted, shown, no finding.

        A profile with a quorum needs it to have held at close (DOMAIN.md §2); a round whose
        attendance is unknown has not shown that it held.
        """
        return self.profile.quorum_rule is not None and self.quorum_met is not True


@dataclass(frozen=True)
class Electorate:
    """Who voted in one result: the figures a tally needs besides the ballots."""

    members: int | None
    summoned: int | None
    present: int | None
    issued: int
    codes_issued: int


@dataclass
class GroupedTally:
    """Every result of a round: each voter group's, the combined one, and which decides."""

    groups: list[tuple[VoterGroup, RoundTally]]
    combined: RoundTally
    deciding: int | None

    @property
    def decisive(self) -> RoundTally:
        """Return the result the rules apply to."""
        for group, tally in self.groups:
            if group.number == self.deciding:
                return tally
        return self.combined


def basis_for(profile: profiles.Profile, scale: str) -> str:
    """Return what D counts for a scale under a profile."""
    return profile.vote_denominator if scale == Scale.CONFIDENCE_VOTE.value else profile.denominator


def count_result(
    session: Session,
    round_: Round,
    profile: profiles.Profile,
    box: PackedBox,
    electorate: Electorate,
    *,
    group: int | None,
    quorum: dict[str, object] | None = None,
    sealed: int = 0,
    online: list[dict[str, int]] | None = None,
) -> RoundTally:
    """Count one result from its count source: the ballots and the electorate that cast them.

    The box is the ballots kept in the clear (paper ballots) of one voter group, or of all of
    them, as the database joined their counted marks (ballotbox.packed_box); each item is then
    one `str.count` per level. `sealed` online ballots are counted from their decrypted totals
    `online` (one {level: count} per item), added to the ballots counted in the clear.
    """
    items = list(round_.items)
    invalid, per_item = count_packed(
        box.ballots,
        box.counted,
        box.shortest,
        box.longest,
        box.joined,
        len(items),
        round_.scale,
    )
    if sealed:
        # Online ballots are sealed: their totals exist once k members have decrypted them;
        # paper ballots (above) are counted in the clear and added.
        if online is None or len(online) != len(items):
            raise WrongState(
                N_(
                    "Round {id} is awaiting decryption: its online ballots are counted when "
                    "enough members of the counting committee have decrypted the totals."
                ),
                id=round_.id,
            )
        for counts, decrypted in zip(per_item, online, strict=True):
            for level, count in decrypted.items():
                counts[level] += count
    collected = box.ballots + sealed
    issued = electorate.issued
    valid = collected - invalid
    if collected > issued:
        raise CountError(
            N_("Impossible counts: {collected} ballots collected but {issued} issued."),
            collected=collected,
            issued=issued,
        )
    basis = basis_for(profile, round_.scale)
    figures = {
        "members": electorate.members,
        "collected": collected,
        "summoned": electorate.summoned,
        "present": electorate.present,
        "valid": valid,
    }
    keys = dict(
        session.execute(
            select(Person.id, Person.person_key).where(
                Person.id.in_([i.person_id for i in items if i.person_id is not None])
            )
        ).all()
    )
    return RoundTally(
        round=round_,
        profile=profile,
        levels=level_names(round_.scale),
        issued=issued,
        collected=collected,
        valid=valid,
        invalid=invalid,
        basis=basis,
        denominator=figures[basis],
        quorum=quorum if quorum is not None else judge_quorum(profile, electorate, collected),
        sealed=sealed,
        items=[
            ItemTally(
                order=item.order,
                kind=item.kind,
                person_id=item.person_id,
                person_key=keys.get(item.person_id) if item.person_id else None,
                name=item.name,
                position=item.position,
                counts=counts,
            )
            for item, counts in zip(items, per_item, strict=True)
        ],
        group=group,
        members=electorate.members,
        summoned=electorate.summoned,
        present=electorate.present,
    )


def round_electorate(session: Session, round_: Round) -> Electorate:
    """Return the figures of a whole round (the sums over its groups)."""
    issued = round_.issued if round_.issued is not None else ballots_issued(session, round_)
    return Electorate(
        members=round_.members,
        summoned=round_.summoned,
        present=round_.present,
        issued=issued,
        codes_issued=codes_issued(session, round_.id),
    )


def group_electorate(session: Session, group: VoterGroup) -> Electorate:
    """Return the figures of one voter group."""
    return Electorate(
        members=group.members,
        summoned=group.summoned,
        present=group.present,
        issued=group.issued if group.issued is not None else issued_in(session, group),
        codes_issued=codes_issued_in(session, group.round_id, group.number),
    )


def tally_groups(session: Session, round_: Round) -> GroupedTally:
    """Count every voter group of a round and the combined result.

    Each group's box is read by the database's join (one statement per group); the combined
    result counts the groups' boxes put together, not a second read of the ballots.
    """
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    spoiled_by_marks = profile.invalid_marks == "ballot"
    groups = list(round_.groups)
    if len(groups) <= 1:
        # One group: its ballots and figures are the round's; counted once, as always.
        combined = count_result(
            session,
            round_,
            profile,
            packed_box(session, round_.id, spoiled_by_marks=spoiled_by_marks),
            round_electorate(session, round_),
            group=None,
            sealed=sealed_count(session, round_.id),
            online=online_totals(session, round_.id),
        )
        tallies = [(group, _as_group(combined, group.number)) for group in groups]
        return GroupedTally(groups=tallies, combined=combined, deciding=round_.deciding_group)
    boxes = [
        packed_box(session, round_.id, spoiled_by_marks=spoiled_by_marks, group=group.number)
        for group in groups
    ]
    tallies = [
        (
            group,
            count_result(
                session,
                round_,
                profile,
                box,
                group_electorate(session, group),
                group=group.number,
                sealed=sealed_count(session, round_.id, group.number),
                online=online_totals(session, round_.id, group.number),
            ),
        )
        for group, box in zip(groups, boxes, strict=True)
    ]
    combined = count_result(
        session,
        round_,
        profile,
        combined_box(boxes),
        round_electorate(session, round_),
        group=None,
        quorum=combined_quorum(profile, tallies),
        sealed=sum(tally.sealed for _group, tally in tallies),
        online=online_totals(session, round_.id),
    )
    return GroupedTally(groups=tallies, combined=combined, deciding=round_.deciding_group)


def _as_group(tally: RoundTally, number: int) -> RoundTally:
    return RoundTally(**{**tally.__dict__, "group": number})


def tally_round(session: Session, round_: Round) -> RoundTally:
    """Count the marks of one round: the result that decides (a group's, or the combined one).

    In a round of one group this is the round's whole box, counted as it always was.
    """
    return tally_groups(session, round_).decisive


def combined_quorum(
    profile: profiles.Profile, tallies: list[tuple[VoterGroup, RoundTally]]
) -> dict[str, object]:
    """Judge the combined result's quorum: every group must have met its own (DOMAIN.md §2).

    Each group meets separately and the quorum is per group: a combined result that includes
    a group without quorum is counted and shown, but it is void.
    """
    status: dict[str, object] = {"rule": profile.quorum, **both_languages(profile.quorum_words())}
    if profile.quorum_rule is None:
        return {**status, "met": True, "reason": None}
    unknown = None
    for group, tally in tallies:
        met = tally.quorum_met
        if met is False:
            reason = tally.quorum.get("reason")
            words = both_languages(
                message(N_("Voter group {name}: {reason}"), name=group.name, reason="{reason}")
            )
            if isinstance(reason, dict):
                words = {
                    lang: text.replace("{reason}", reason[lang]) for lang, text in words.items()
                }
            return {**status, "met": False, "reason": words}
        if met is None and unknown is None:
            unknown = both_languages(
                message(N_("Voter group {name}: attendance is unknown"), name=group.name)
            )
    if unknown is not None:
        return {**status, "met": None, "reason": unknown}
    return {**status, "met": True, "reason": None}


def quorum_status(session: Session, round_: Round, profile: profiles.Profile) -> dict[str, object]:
    """Say whether the deciding result's quorum is met, on which figures, and why (§2)."""
    if len(round_.groups) > 1:
        return tally_groups(session, round_).decisive.quorum
    return judge_quorum(
        profile, round_electorate(session, round_), ballots_collected(session, round_.id)
    )


def judge_quorum(
    profile: profiles.Profile, electorate: Electorate, collected: int
) -> dict[str, object]:
    """Say whether one electorate met the quorum, on which figures, and why (DOMAIN.md §2).

    Attendance (present of summoned) gates paper rounds; a round with online codes must also
    reach the quorum in turnout, the ballots actually collected.
    """
    status: dict[str, object] = {"rule": profile.quorum, **both_languages(profile.quorum_words())}
    rule = profile.quorum_rule
    if rule is None:
        return {**status, "met": True, "reason": None}
    summoned = electorate.summoned
    figures = [("present", electorate.present)]
    if electorate.codes_issued:
        figures.append(("collected", collected))
    required = None if summoned is None else rule.required(summoned)
    status.update(summoned=summoned, required=required)
    if summoned is None:
        return {
            **status,
            "met": None,
            "reason": both_languages(N_("The number summoned is unknown")),
        }
    for name, value in figures:
        if value is None:
            continue
        if not rule.met(value, summoned):
            reason = message(
                N_("Only {value} present of {summoned} summoned; at least {required} are needed")
                if name == "present"
                else N_(
                    "Only {value} ballots collected of {summoned} summoned; at least {required} "
                    "are needed"
                ),
                value=value,
                summoned=summoned,
                required=required,
            )
            return {**status, "met": False, name: value, "reason": both_languages(reason)}
    known = [(name, value) for name, value in figures if value is not None]
    if not known:
        return {
            **status,
            "met": None,
            "reason": both_languages(N_("The number present is unknown")),
        }
    return {**status, "met": True, "reason": None, **dict(known)}


def is_void(session: Session, round_: Round, profile: profiles.Profile | None = None) -> bool:
    """Tell whether a counted round is void for want of quorum (a draft or open one is not)."""
    if round_.status not in COUNTED:
        return False
    profile = profile or profiles.get_profile(session, round_.profile_id, round_.profile_version)
    if profile.quorum_rule is None:
        return False
    return quorum_status(session, round_, profile)["met"] is not True


def quorum_warnings(session: Session, round_: Round) -> list[Message]:
    """Warn, while a round is a draft or open, that the number present is below quorum.

    Attendance may change until the round closes; the quorum is judged at close, so this is a
    warning, not a refusal: closed like this, the round would be void (DOMAIN.md §2). Turnout
    is not judged here: ballots still arrive while the round is open. A round of several
    voter groups is warned of per group (the quorum is per group), for each group not closed.
    """
    if round_.status in COUNTED:
        return []
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    rule = profile.quorum_rule
    if rule is None:
        return []
    if len(round_.groups) <= 1:
        if round_.present is None or round_.summoned is None:
            return []
        if rule.met(round_.present, round_.summoned):
            return []
        return [
            message(
                N_(
                    "the quorum is not met ({present} present of {summoned} summoned; at "
                    "least {required} are needed): if round {id} closes like this, it is void "
                    "and raises no finding."
                ),
                present=round_.present,
                summoned=round_.summoned,
                required=rule.required(round_.summoned),
                id=round_.id,
            )
        ]
    return [
        message(
            N_(
                "voter group {number} ({name}): the quorum is not met ({present} present of "
                "{summoned} summoned; at least {required} are needed): if the group closes "
                "like this, its result is void and raises no finding."
            ),
            number=group.number,
            name=group.name,
            present=group.present,
            summoned=group.summoned,
            required=rule.required(group.summoned),
        )
        for group in round_.groups
        if group.status != GROUP_CLOSED
        and group.present is not None
        and group.summoned is not None
        and not rule.met(group.present, group.summoned)
    ]
