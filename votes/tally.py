"""Counting: marks per item and level, invalid marks, ballot accounting, the denominator."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import profiles
from .ballotbox import ballot_box, ballots_collected, ballots_issued, sealed_count
from .committee import online_totals
from .counting import count_marks
from .credentials import codes_issued
from .errors import N_, CountError, Message, WrongState, message
from .models import Person, Round, Scale
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
    """The count of one round, with its ballot accounting and denominator."""

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


def tally_round(session: Session, round_: Round) -> RoundTally:
    """Count the marks of one round."""
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    ballots = ballot_box(session, round_.id)
    items = list(round_.items)
    invalid, per_item = count_marks(ballots, len(items), round_.scale, profile.invalid_marks)
    sealed = sealed_count(session, round_.id)
    if sealed:
        # Online ballots are sealed: their totals exist once k members have decrypted them;
        # paper ballots (above) are counted in the clear and added.
        online = online_totals(session, round_.id)
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
    collected = len(ballots) + sealed
    issued = round_.issued if round_.issued is not None else ballots_issued(session, round_)
    valid = collected - invalid
    if collected > issued:
        raise CountError(
            N_("Impossible counts: {collected} ballots collected but {issued} issued."),
            collected=collected,
            issued=issued,
        )
    basis = (
        profile.vote_denominator
        if round_.scale == Scale.CONFIDENCE_VOTE.value
        else profile.denominator
    )
    figures = {
        "members": round_.members,
        "collected": collected,
        "summoned": round_.summoned,
        "present": round_.present,
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
        quorum=quorum_status(session, round_, profile),
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
    )


def quorum_status(session: Session, round_: Round, profile: profiles.Profile) -> dict[str, object]:
    """Say whether the quorum is met, on which figures, and why (DOMAIN.md §2).

    Attendance (present of summoned) gates paper rounds; a round with online codes must also
    reach the quorum in turnout, the ballots actually collected.
    """
    status: dict[str, object] = {"rule": profile.quorum, **both_languages(profile.quorum_words())}
    rule = profile.quorum_rule
    if rule is None:
        return {**status, "met": True, "reason": None}
    summoned = round_.summoned
    figures = [("present", round_.present)]
    if codes_issued(session, round_.id):
        figures.append(("collected", ballots_collected(session, round_.id)))
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


def quorum_warning(session: Session, round_: Round) -> Message | None:
    """Warn, while a round is a draft or open, that the number present is below quorum.

    Attendance may change until the round closes; the quorum is judged at close, so this is a
    warning, not a refusal: closed like this, the round would be void (DOMAIN.md §2). Turnout
    is not judged here: ballots still arrive while the round is open.
    """
    if round_.status in COUNTED:
        return None
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    rule = profile.quorum_rule
    if rule is None or round_.present is None or round_.summoned is None:
        return None
    if rule.met(round_.present, round_.summoned):
        return None
    return message(
        N_(
            "the quorum is not met ({present} present of {summoned} summoned; at least "
            "{required} are needed): if round {id} closes like this, it is void and raises no "
            "finding."
        ),
        present=round_.present,
        summoned=round_.summoned,
        required=rule.required(round_.summoned),
        id=round_.id,
    )
