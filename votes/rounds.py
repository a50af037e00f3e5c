"""Bodies and rounds: creation from a roster, and the life draft → open → closed → published.

Guard checks and state changes only; what a user does (and its audit event) is an operation
in votes/operations, which calls these.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    event,
    insert,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from . import profiles
from .ballotbox import (
    ballots_collected,
    ballots_issued,
    check_counts,
    check_paper_issued,
    check_within_members,
    lock_round,
    sealed_count,
)
from .committee import (
    check_ready_to_open,
    combine,
    fix_parameters,
    get_key,
    pending_groups,
    require_key_for_codes,
    seal_totals,
)
from .credentials import codes_issued, codes_used, issue_codes
from .errors import N_, CountError, InvalidInput, NotFound, WrongState, message
from .groups import (
    GROUP_CLOSED,
    GROUP_DRAFT,
    GROUP_OPEN,
    codes_issued_in,
    codes_used_in,
    collected_in,
    deciding_label,
    first_group,
    get_group,
    issued_in,
    set_group_attendance,
)
from .i18n import translate
from .limits import ITEMS_MAX, check_body_code, check_count, check_text, in_id_range, searchable
from .models import (
    Ballot,
    BallotItem,
    Body,
    Credential,
    Exemption,
    Person,
    Receipt,
    Round,
    RoundStatus,
    Scale,
    VoterGroup,
)
from .roster import RosterEntry, checked_entry, resolve_persons, roster_entries, with_exemption
from .rules import round_findings
from .seal import current_seal
from .sealing import drop_sealing_pads
from .tally import is_void, quorum_status, tally_groups
from .text import clean_name, nfc
from .vocabulary import (
    BODY_KINDS,
    EXEMPTION_WORDS,
    FREQUENCY_WORDS,
    OTHER_EXEMPTION,
    RESIGNED,
    YEARS,
)

logger = logging.getLogger(__name__)


def add_body(session: Session, code: str, name: str, kind: str = "party") -> Body:
    """Create a body (the organisation that holds rounds)."""
    if not nfc(code) or not clean_name(name):
        raise InvalidInput(N_("A body needs a code and a name."))
    code = check_body_code(code)
    name = check_text(name, "body_name")
    if kind not in BODY_KINDS:
        raise InvalidInput(
            N_("Unknown kind of body {kind!r}: use party, council or assembly."), kind=kind
        )
    if session.scalar(select(Body).where(Body.code == code)) is not None:
        raise InvalidInput(N_("A body with the code {code} already exists."), code=code)
    body = Body(code=code, name=name, kind=kind)
    session.add(body)
    session.flush()
    return body


def get_body(session: Session, code: str) -> Body:
    """Return a body by its code."""
    body = (
        session.scalar(select(Body).where(Body.code == nfc(code)))
        if searchable(nfc(code), "body_code")
        else None
    )
    if body is None:
        raise NotFound(N_("Unknown body {code}."), code=code)
    return body


def get_round(session: Session, round_id: int) -> Round:
    """Return a round by id."""
    round_ = session.get(Round, round_id) if in_id_range(round_id) else None
    if round_ is None:
        raise NotFound(N_("Unknown round {id}."), id=round_id)
    return round_


def check_profile_fits(session: Session, body: Body, profile_id: str) -> None:
    """Refuse a profile written for another kind of body (a Party rule for a People's Council)."""
    profile = profiles.get_profile(session, profile_id)
    if body.kind not in profile.body_kinds:
        raise InvalidInput(
            N_("The profile {profile} is for {kinds}, not for a body of kind {kind}."),
            profile=profile.id,
            kinds=", ".join(profile.body_kinds),
            kind=body.kind,
        )


def set_attendance(
    session: Session,
    round_: Round,
    *,
    members: int | None,
    summoned: int | None,
    present: int | None,
    group: int | None = None,
) -> dict[str, int | None]:
    """Record the attendance of a draft or open round (of one voter group): members, summoned,
    present.

    The number present is often counted in the hall, after the round has opened. Once the
    round is closed the attendance is part of the closing record and its seal, and stays.
    Return the figures it replaced; the caller logs the change and commits. A round of several
    groups records each group's figures; the round's are their sums.
    """
    lock_round(session, round_)
    if round_.status not in (RoundStatus.DRAFT.value, RoundStatus.OPEN.value):
        raise WrongState(
            N_(
                "Round {id} is {status}: its attendance was recorded when it closed and can "
                "no longer be changed."
            ),
            id=round_.id,
            status=round_.status,
        )
    check_counts(members, summoned, present)
    several = len(round_.groups) > 1 or group is not None
    target = get_group(round_, group) if several else None
    if target is not None:
        issued = issued_in(session, target)
        collected = collected_in(session, round_.id, target.number)
    else:
        issued = ballots_issued(session, round_)
        collected = ballots_collected(session, round_.id)
    check_within_members(basis_of(session, round_), members, issued=issued, collected=collected)
    if summoned is not None and issued > summoned:
        raise CountError(
            N_(
                "Impossible counts: {issued} ballots and codes are already issued for "
                "{summoned} persons summoned."
            ),
            issued=issued,
            summoned=summoned,
        )
    if target is not None:
        check_paper_issued(target.paper_issued, present)
        return set_group_attendance(
            round_, target, members=members, summoned=summoned, present=present
        )
    check_paper_issued(round_.paper_issued, present)
    before = {"members": round_.members, "summoned": round_.summoned, "present": round_.present}
    round_.members, round_.summoned, round_.present = members, summoned, present
    for only in round_.groups:  # a round of one group: the group holds the same figures
        only.members, only.summoned, only.present = members, summoned, present
    return before


def basis_of(session: Session, round_: Round) -> str:
    """Return what D counts for a round (its profile's basis for its scale)."""
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    if round_.scale == Scale.CONFIDENCE_VOTE.value:
        return profile.vote_denominator
    return profile.denominator


def _per_term(frequency: str) -> bool:
    return frequency in ("mid_term", "once_a_term")


def check_time(
    session: Session,
    body: Body,
    profile: profiles.Profile,
    *,
    year: int,
    scale: str,
    round_id: int | None = None,
) -> None:
    """Refuse a round outside its profile's years or more often than it allows (DOMAIN.md §2).

    Only polls that were opened count for the frequency (a draft is a plan, and a draft cannot
    be deleted), and a poll void for want of quorum does not use up its period: the check runs
    when a round is created and again when it is opened. A body's term is not recorded: under a
    profile that polls once a term, two polls fewer than `term_years` apart are taken to fall in
    the same term. The caller skips this check when the organizer records the number of the
    decision that allows an exception.
    """
    if not profile.in_force_in(year):
        raise InvalidInput(
            N_(
                "The profile {profile} is in force from {start} to {end}: a round of {year} "
                "is outside it. A round outside these dates needs the number of the decision "
                "that allows the exception."
            ),
            profile=profile.id,
            start=_day(profile.in_force_from),
            end=_day(profile.in_force_until),
            year=year,
        )
    if scale != Scale.POLL.value:
        return
    others = session.scalars(
        select(Round).where(
            Round.body_id == body.id,
            Round.scale == Scale.POLL.value,
            Round.id != (round_id or 0),
            Round.status != RoundStatus.DRAFT.value,
        )
    )
    for other in others:
        other_profile = profiles.get_profile(session, other.profile_id, other.profile_version)
        if _per_term(other_profile.frequency) != _per_term(profile.frequency):
            continue
        if _per_term(profile.frequency):
            clash = abs(other.year - year) < profile.term_years
        else:
            clash = other.year == year
        if clash and not is_void(session, other, other_profile):
            raise InvalidInput(
                N_(
                    "The profile {profile} allows one poll {frequency}, and body {code} already "
                    "has round {other} of {other_year}. A further poll needs the number of the "
                    "decision that allows the exception."
                ),
                profile=profile.id,
                frequency=message(FREQUENCY_WORDS[profile.frequency]),
                code=body.code,
                other=other.id,
                other_year=other.year,
            )


def _day(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "…"


def resolve_exemption(
    profile: profiles.Profile, scale: str, name: str, reason: str, decision: str
) -> tuple[str, str, str | None]:
    """Return (reason id, reason text, decision) of an exemption (DOMAIN.md §2, Exemptions).

    A reason the profile lists is named by its id or its words; any other reason is "other"
    and needs the number of the decision that allows it; on a vote of confidence, a person
    who resigned before the vote is left off with the decision that accepted it.
    """
    listed = profile.exemption(reason)
    decision = clean_name(decision)
    if listed is not None:
        return listed[0], listed[1].vi, None
    resigned = {RESIGNED, *(translate(EXEMPTION_WORDS[RESIGNED], lang) for lang in ("vi", "en"))}
    if scale == Scale.CONFIDENCE_VOTE.value and nfc(reason).casefold() in {
        word.casefold() for word in resigned
    }:
        if not decision:
            raise InvalidInput(
                N_("{name} resigned before the vote: give the number of the decision."),
                name=name,
            )
        return RESIGNED, translate(EXEMPTION_WORDS[RESIGNED], "vi"), decision
    if not decision:
        raise InvalidInput(
            N_(
                "{name}: the reason {reason!r} is not one the profile {profile} lists "
                "({allowed}); any other reason needs the number of the decision that allows "
                "it (on the command line: --other-exemption DECISION)."
            ),
            name=name,
            reason=reason,
            profile=profile.id,
            allowed="; ".join(text.vi for _key, text in profile.exemptions) or "—",
        )
    return OTHER_EXEMPTION, reason, decision


def create_round(
    session: Session,
    body: Body,
    *,
    year: int,
    profile_id: str,
    title: str,
    roster: list[RosterEntry],
    profile_version: int | None = None,
    members: int | None = None,
    summoned: int | None = None,
    present: int | None = None,
    scale: str = Scale.POLL.value,
    place: str | None = None,
    held_on: dt.date | None = None,
    followup_of: int | None = None,
    time_exception: str | None = None,
    other_exemption: str | None = None,
    identity: dict[int, str] | None = None,
    decisions: list[dict[str, object]] | None = None,
) -> Round:
    """Create a draft round of a body, with its ballot items and exemptions.

    The answers taken to "same person?" questions are appended to `decisions` (for the log).
    """
    profile = profiles.get_profile(session, profile_id, profile_version)
    if not YEARS[0] <= year <= YEARS[1]:
        raise InvalidInput(N_("The year {year} is not plausible."), year=year)
    title = check_text(title, "title")
    if not title:
        raise InvalidInput(N_("A round needs a title."))
    place = check_text(place, "place") if place else None
    check_counts(members, summoned, present)
    time_exception = clean_name(time_exception or "") or None
    if time_exception is None:
        check_time(session, body, profile, year=year, scale=scale)
    round_ = Round(
        body_id=body.id,
        year=year,
        title=title,
        profile_id=profile.id,
        profile_version=profile.version,
        scale=scale,
        status=RoundStatus.DRAFT.value,
        members=members,
        summoned=summoned,
        present=present,
        place=place or None,
        held_on=held_on,
        followup_of=followup_of,
        time_exception=time_exception,
        deciding_group=1,
    )
    first_group(round_, body.kind)
    session.add(round_)
    session.flush()
    taken = set_roster(session, round_, roster, other_exemption=other_exemption, identity=identity)
    if decisions is not None:
        decisions.extend(taken)
    return round_


def set_roster(
    session: Session,
    round_: Round,
    roster: list[RosterEntry],
    *,
    other_exemption: str | None = None,
    identity: dict[int, str] | None = None,
) -> list[dict[str, object]]:
    """Replace the ballot items and exemptions of a draft round; return identity decisions.

    Every exemption is checked against the profile's reasons (any other needs a decision
    number: the line's own, or `other_exemption`), and every "same person?" question must
    be answered in `identity`; all problems are refused together, nothing written.
    """
    if round_.status != RoundStatus.DRAFT.value:
        raise WrongState(N_("The roster can only be changed while the round is a draft."))
    roster = [checked_entry(entry) for entry in roster]
    if sum(1 for entry in roster if not entry.exempt_reason) > ITEMS_MAX:
        raise InvalidInput(
            N_("A ballot holds at most {limit} persons; this roster puts {count} on it."),
            limit=ITEMS_MAX,
            count=sum(1 for entry in roster if not entry.exempt_reason),
        )
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    problems: list[InvalidInput] = []
    reasons: dict[int, tuple[str, str, str | None]] = {}
    for index, entry in enumerate(roster):
        if entry.kind == "person" and entry.exempt_reason:
            try:
                reasons[index] = resolve_exemption(
                    profile,
                    round_.scale,
                    entry.name,
                    entry.exempt_reason,
                    entry.exempt_decision or other_exemption or "",
                )
            except InvalidInput as refused:
                problems.append(refused)
    try:
        persons, decisions = resolve_persons(session, round_.body, roster, identity)
    except InvalidInput as refused:
        problems += refused.problems or [refused]
    if problems:
        raise InvalidInput.of(problems)
    round_.items.clear()
    round_.exemptions.clear()
    session.flush()
    order = 0
    for index, entry in enumerate(roster):
        if entry.kind == "collective":
            order += 1
            round_.items.append(
                BallotItem(
                    order=order,
                    kind="collective",
                    person_id=None,
                    name=entry.name,
                    position=entry.position,
                )
            )
            continue
        person = persons[index]
        if person is None:  # resolve_persons gives every person line its person
            raise InvalidInput(
                N_("Line {line}: nobody could be found for this line."), line=entry.line
            )
        if entry.exempt_reason:
            reason_id, reason, decision = reasons[index]
            round_.exemptions.append(
                Exemption(
                    person_id=person.id,
                    position=entry.position,
                    reason=reason,
                    reason_id=reason_id,
                    decision=decision,
                )
            )
        else:
            order += 1
            round_.items.append(
                BallotItem(
                    order=order,
                    kind="person",
                    person_id=person.id,
                    name=entry.name,
                    position=entry.position,
                    referral=entry.referral,
                )
            )
    session.flush()
    return decisions


def open_round(session: Session, round_: Round, group: int | None = None) -> list[VoterGroup]:
    """Open a draft round (or one of its voter groups) for voting; return the groups opened.

    The ballot's item order is frozen from the first opening on. Without a group, every group
    still in draft opens. The quorum is judged per group, on its own figures.
    """
    first = round_.status == RoundStatus.DRAFT.value
    drafts = [g for g in round_.groups if g.status == GROUP_DRAFT]
    if (round_.status != RoundStatus.OPEN.value and not first) or (
        not first and group is None and not drafts
    ):
        raise WrongState(
            N_("Round {id} is {status}; only a draft round can be opened."),
            id=round_.id,
            status=round_.status,
        )
    targets = [get_group(round_, group)] if group is not None else drafts
    for target in targets:
        if target.status != GROUP_DRAFT:
            raise WrongState(
                N_("Voter group {number} of round {id} is {status}; it opens only once."),
                number=target.number,
                id=round_.id,
                status=target.status,
            )
    if not round_.items:
        raise WrongState(N_("Round {id} has no items on its ballot."), id=round_.id)
    check_ready_to_open(session, round_)
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    if first and not round_.time_exception:
        check_time(
            session,
            round_.body,
            profile,
            year=round_.year,
            scale=round_.scale,
            round_id=round_.id,
        )
    rule = profile.quorum_rule
    for target in targets:
        if rule is not None and target.summoned is None:
            raise CountError(
                N_(
                    "The profile {profile} requires a quorum: give the number of persons "
                    "summoned before opening the round."
                ),
                profile=profile.id,
            )
        if rule is not None and profile.quorum_met(target.present, target.summoned) is False:
            raise CountError(
                N_(
                    "No quorum: {present} present of {summoned} summoned; the profile {profile} "
                    "requires: {rule}."
                ),
                present=target.present,
                summoned=target.summoned,
                profile=profile.id,
                rule=rule.words,
            )
    for target in targets:
        target.status = GROUP_OPEN
    round_.status = RoundStatus.OPEN.value
    fix_parameters(session, round_)
    session.flush()
    return targets


def close_round(session: Session, round_: Round, group: int | None = None) -> bool:
    """Close an open round (or one voter group): no more ballots; freeze issued and collected.
    Return whether voting in the round itself ended (its last group closed).

    A group with sealed online ballots keeps its encrypted totals (its sealed ballots
    multiplied per item and level) for k members of the committee to decrypt, from the
    moment it closes. When the last group closes, a round with a group still awaiting
    decryption goes on to status `decrypting` and is counted when the last group's totals
    are found (finish_count); otherwise it is counted at once (closed). Sealed ballots reveal
    nothing and are not rewritten; ballots kept in the clear from online codes (cast before
    sealed ballots existed) are.
    """
    if session.get_bind().dialect.name == "postgresql":
        # Casts share-lock the round's row and do not wait for one another, so casts that keep
        # overlapping would hold off a close waiting on the row for as long as voting goes on.
        # Table locks queue: casts that start after this wait behind the close (briefly, in
        # every round), the close waits only for the casts already in progress.
        session.execute(text("LOCK TABLE round IN EXCLUSIVE MODE"))
    # The row is read again under the lock: a close that committed meanwhile is seen.
    session.refresh(round_, with_for_update=True)
    if round_.status != RoundStatus.OPEN.value:
        raise WrongState(
            N_("Round {id} is {status}; only an open round can be closed."),
            id=round_.id,
            status=round_.status,
        )
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    for current in round_.groups:  # the groups' states as committed, not as first loaded
        session.refresh(current)
    targets = (
        [get_group(round_, group)]
        if group is not None
        else [g for g in round_.groups if g.status != GROUP_CLOSED]
    )
    basis = basis_of(session, round_)
    for target in targets:
        if group is not None and target.status != GROUP_OPEN:
            raise WrongState(
                N_(
                    "Voter group {number} of round {id} is {status}; only an open group can "
                    "be closed."
                ),
                number=target.number,
                id=round_.id,
                status=target.status,
            )
        if profile.quorum_rule is not None and target.present is None:
            raise CountError(
                N_(
                    "The profile {profile} requires a quorum, judged on the number present: "
                    "record it before closing round {id}."
                ),
                profile=profile.id,
                id=round_.id,
            )
    for target in targets:
        target.issued = issued_in(session, target)
        target.collected = collected_in(session, round_.id, target.number)
        check_within_members(
            basis, target.members, issued=target.issued, collected=target.collected
        )
        target.status = GROUP_CLOSED
        seal_totals(session, round_, target.number)
    if any(g.status != GROUP_CLOSED for g in round_.groups):
        # Other groups still vote: only the closed group's clear ballots are rewritten now.
        for target in targets:
            if holds_clear_online_ballots(session, round_.id, target.number):
                rewrite_ballot_box(session, round_.id, group=target.number)
        session.flush()
        return False
    round_.issued = ballots_issued(session, round_)
    round_.collected = ballots_collected(session, round_.id)
    check_within_members(
        basis,
        round_.members,
        issued=round_.issued,
        collected=round_.collected,
    )
    key = get_key(session, round_.id)
    if key is not None and key.public_key is not None:
        drop_sealing_pads(key.public_key)  # this process's precomputed randomness for the key
    if key is not None and pending_groups(key):
        round_.status = RoundStatus.DECRYPTING.value
        session.flush()
        return True
    round_.status = RoundStatus.CLOSED.value
    if holds_clear_online_ballots(session, round_.id):
        rewrite_ballot_box(session, round_.id)
        event.listen(session, "after_commit", lambda done: compact(done.get_bind()), once=True)
    session.flush()
    return True


def holds_clear_online_ballots(session: Session, round_id: int, group: int | None = None) -> bool:
    """Whether a round's box (or one group's) holds online ballots stored in the clear.

    Such ballots were cast before sealed ballots existed: the engine's bookkeeping could still
    hint at the order of casting, so the box is rewritten at close (docs/ANONYMITY.md). Sealed
    ballots reveal nothing and never need it; a box of sealed and paper ballots neither.
    """
    used = (
        codes_used(session, round_id) if group is None else codes_used_in(session, round_id, group)
    )
    return bool(used) and not sealed_count(session, round_id, group)


def finish_count(session: Session, round_: Round, group: int) -> bool:
    """Find a closed group's online totals once k members' partial decryptions are in.

    Return whether the round is counted now: it was awaiting decryption (every group closed)
    and this was the last group whose totals were missing.
    """
    session.refresh(round_, with_for_update=True)
    target = get_group(round_, group)
    if round_.status not in (RoundStatus.OPEN.value, RoundStatus.DECRYPTING.value) or (
        target.status != GROUP_CLOSED
    ):
        raise WrongState(
            N_("Round {id} is {status}; only a round awaiting decryption can be counted."),
            id=round_.id,
            status=round_.status,
        )
    combine(session, round_, group)
    key = get_key(session, round_.id)
    if round_.status != RoundStatus.DECRYPTING.value or (key is not None and pending_groups(key)):
        session.flush()
        return False
    round_.status = RoundStatus.CLOSED.value
    session.flush()
    return True


def closing_record(session: Session, round_: Round) -> dict[str, Any]:
    """Describe a counted round for the log: accounting, seal, counts and findings.

    A round of several voter groups records the combined count (what ballots.csv recounts),
    the findings of the result that decides, which one decides, and each group's accounting.
    No group's counts per person are written here: the log travels in the export bundle,
    where a small group is never shown alone; the seal's parts cover its ballots.
    """
    everything = tally_groups(session, round_)
    tally, decisive = everything.combined, everything.decisive
    sealed, parts = current_seal(session, round_)
    widened: dict[str, Any] = {}
    if len(round_.groups) > 1:
        widened = {
            "deciding": deciding_label(round_),
            "groups": [
                {
                    "number": group.number,
                    "issued": group.issued,
                    "collected": group.collected,
                    "valid": count.valid,
                    "invalid": count.invalid,
                    "codes_issued": codes_issued_in(session, round_.id, group.number),
                    "members": group.members,
                    "summoned": group.summoned,
                    "present": group.present,
                    "denominator": {"basis": count.basis, "value": count.denominator},
                    "quorum_met": count.quorum_met,
                }
                for group, count in everything.groups
            ],
        }
    return {
        "issued": round_.issued,
        "collected": round_.collected,
        "valid": tally.valid,
        "invalid": tally.invalid,
        "paper_issued": round_.paper_issued,
        "codes_issued": codes_issued(session, round_.id),
        "codes_used": codes_used(session, round_.id),
        "members": round_.members,
        "summoned": round_.summoned,
        "present": round_.present,
        "profile": {"id": tally.profile.id, "version": tally.profile.version},
        "denominator": {"basis": tally.basis, "value": tally.denominator},
        "quorum_met": decisive.quorum_met,
        # The seal over the whole round and the digest of each of its parts (docs/AUDIT.md):
        # verify names the part that no longer matches.
        "seal": sealed,
        "seal_parts": parts,
        "items": [
            {"order": i.order, "person_key": i.person_key, "name": i.name, "counts": i.counts}
            for i in tally.items
        ],
        "findings": [
            {"person_key": f.person_key, "band": f.band} for f in round_findings(decisive)
        ],
        **widened,
    }


def rewrite_ballot_box(session: Session, round_id: int, *, group: int | None = None) -> None:
    """Rewrite a round's ballots, receipts and credentials in one transaction, in random order.

    While a round is open, the engine's own bookkeeping could hint at the order of casting
    (PostgreSQL's xmin and ctid, pages appended to a file). Rewriting everything in one
    transaction, shuffled, with fresh random keys, leaves every row with the same transaction
    id and a physical place that follows nothing. See docs/ANONYMITY.md. With `group`, only
    that voter group's ballots are rewritten (it closed while others still vote); receipts and
    codes follow at the round's close.

    In bounded memory: the rows are copied a batch at a time into temporary tables under
    fresh keys from `secrets`, then written back ordered by those keys — a uniformly random
    order — by the database itself. A round of a million ballots never sits in Python.
    """
    connection = session.connection()
    for table in (_SHUFFLED_BALLOT, _SHUFFLED_RECEIPT):
        table.drop(connection, checkfirst=True)
        table.create(connection)
    which = [Ballot.round_id == round_id]
    if group is not None:
        which.append(Ballot.group_number == group)
    _copy_shuffled(
        connection,
        select(Ballot.group_number, Ballot.status, Ballot.marks).where(*which),
        _SHUFFLED_BALLOT,
    )
    if group is None:
        _copy_shuffled(
            connection,
            select(Receipt.receipt).where(Receipt.round_id == round_id),
            _SHUFFLED_RECEIPT,
        )
    session.execute(delete(Ballot).where(*which))
    # The temporary key becomes the ballot's key: random, from secrets, never seen before.
    ballots, receipts = _SHUFFLED_BALLOT.c, _SHUFFLED_RECEIPT.c
    connection.execute(
        insert(Ballot).from_select(
            ["round_id", "id", "group_number", "status", "marks"],
            select(
                literal(round_id), ballots.key, ballots.group_number, ballots.status, ballots.marks
            ).order_by(ballots.key),
        )
    )
    if group is not None:
        for table in (_SHUFFLED_BALLOT, _SHUFFLED_RECEIPT):
            table.drop(connection)
        return
    session.execute(delete(Receipt).where(Receipt.round_id == round_id))
    connection.execute(
        insert(Receipt).from_select(
            ["round_id", "receipt"],
            select(literal(round_id), receipts.receipt).order_by(receipts.key),
        )
    )
    for table in (_SHUFFLED_BALLOT, _SHUFFLED_RECEIPT):
        table.drop(connection)
    # Touch every credential so that none keeps the transaction id of the ballot it cast.
    session.execute(
        update(Credential).where(Credential.round_id == round_id).values(used=Credential.used)
    )


def _copy_shuffled(connection: Connection, rows: Any, table: Table, batch: int = 20_000) -> None:
    """Copy the rows of a SELECT into a temporary table, each under a fresh random key.

    The rows go to the driver's executemany a batch at a time (as ballotbox.insert_ballots
    does): through SQLAlchemy's per-row parameter handling a million rows took seconds more.
    """
    compiled = insert(table).compile(dialect=connection.dialect)
    names = [column.name for column in table.c]
    order = [names.index(name) for name in compiled.positiontup or ()]
    # Per statement: Connection.execution_options() would change the connection itself.
    result = connection.execute(rows, execution_options={"yield_per": batch})
    for partition in result.partitions():
        keyed = [(secrets.token_bytes(16), *row) for row in partition]
        if compiled.positional:
            connection.exec_driver_sql(compiled.string, [tuple(r[n] for n in order) for r in keyed])
        else:
            connection.exec_driver_sql(
                compiled.string, [dict(zip(names, r, strict=True)) for r in keyed]
            )


# The box while it is rewritten: temporary tables (dropped at the end of the rewrite, and by
# PostgreSQL at the commit in any case), keyed by fresh random keys.
_SHUFFLE = MetaData()
_SHUFFLED_BALLOT = Table(
    "shuffled_ballot",
    _SHUFFLE,
    Column("key", LargeBinary(16), primary_key=True),
    Column("group_number", Integer, nullable=False),
    Column("status", String(8), nullable=False),
    Column("marks", String(2000), nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
_SHUFFLED_RECEIPT = Table(
    "shuffled_receipt",
    _SHUFFLE,
    Column("key", LargeBinary(16), primary_key=True),
    Column("receipt", String(32), nullable=False),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)


def publish_round(session: Session, round_: Round) -> None:
    """Publish a closed round's results."""
    if round_.status != RoundStatus.CLOSED.value:
        raise WrongState(
            N_("Round {id} is {status}; only a closed round can be published."),
            id=round_.id,
            status=round_.status,
        )
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    if quorum_status(session, round_, profile)["met"] is not True:
        raise CountError(
            N_(
                "Round {id} cannot be published: the quorum of profile {profile} is not met "
                "or attendance is unknown."
            ),
            id=round_.id,
            profile=profile.id,
        )
    round_.status = RoundStatus.PUBLISHED.value
    session.flush()


def issue_round_codes(
    session: Session, round_: Round, count: int, secret: str | bytes, group: int | None = None
) -> list[str]:
    """Issue voter codes for a draft or open round, for one of its voter groups (how many is
    all that is recorded)."""
    lock_round(session, round_)
    if round_.status not in (RoundStatus.DRAFT.value, RoundStatus.OPEN.value):
        raise WrongState(
            N_("Round {id} is {status}; codes can be issued only for a draft or open round."),
            id=round_.id,
            status=round_.status,
        )
    target = get_group(round_, group)
    if len(round_.groups) > 1:
        return _issue_group_codes(session, round_, target, count, secret)
    if count < 1:
        raise InvalidInput(N_("The number of codes must be at least 1."))
    check_count(count, "codes")
    require_key_for_codes(session, round_)
    check_within_members(
        basis_of(session, round_), round_.members, issued=ballots_issued(session, round_) + count
    )
    if round_.summoned is not None and ballots_issued(session, round_) + count > round_.summoned:
        raise CountError(
            N_(
                "Impossible counts: {total} ballots and codes would be issued for {summoned} "
                "persons summoned."
            ),
            total=ballots_issued(session, round_) + count,
            summoned=round_.summoned,
        )
    return issue_codes(session, round_, count, secret)


def _issue_group_codes(
    session: Session, round_: Round, group: VoterGroup, count: int, secret: str | bytes
) -> list[str]:
    if group.status == GROUP_CLOSED:
        raise WrongState(
            N_("Voter group {number} of round {id} is closed; no more codes are issued for it."),
            number=group.number,
            id=round_.id,
        )
    if count < 1:
        raise InvalidInput(N_("The number of codes must be at least 1."))
    check_count(count, "codes")
    issued = issued_in(session, group) + count
    check_within_members(basis_of(session, round_), group.members, issued=issued)
    if group.summoned is not None and issued > group.summoned:
        raise CountError(
            N_(
                "Impossible counts: {total} ballots and codes would be issued for {summoned} "
                "persons summoned."
            ),
            total=issued,
            summoned=group.summoned,
        )
    return issue_codes(session, round_, count, secret, group=group.number)


def compact(engine: Engine) -> bool:
    """After a close, let the engine forget the old rows of the rewritten ballot box.

    SQLite: checkpoint the write-ahead log and truncate it. PostgreSQL: VACUUM the tables whose
    dead tuples still hold the old physical order (see docs/ANONYMITY.md).

    This runs once the close is committed: whatever happens here, the round IS closed, so a
    failure (a reader holding the tables past the lock timeout, a statement_timeout) is
    logged and never raised — a committed close must not be reported as an error. Run
    `votes db compact` later to do it again. Return whether it was done.
    """
    try:
        _compact(engine)
    except Exception:
        logger.warning(
            "The round is closed, but compacting the ballot tables afterwards failed; "
            "run `votes db compact` when nobody is voting (docs/ANONYMITY.md).",
            exc_info=True,
        )
        return False
    return True


# How long the compaction waits for the tables: VACUUM FULL needs them alone, and while it
# waits in the lock queue every cast of every round would wait behind it.
COMPACT_LOCK_TIMEOUT = "2s"


def _compact(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            # A reader still open elsewhere would make TRUNCATE wait for the whole busy timeout:
            # wait a little, then leave it to the next close (the WAL is reused from its start
            # after every full checkpoint anyway).
            connection.exec_driver_sql("PRAGMA busy_timeout = 2000")
            try:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                connection.exec_driver_sql("PRAGMA busy_timeout = 60000")
        return
    # VACUUM FULL, not VACUUM: a plain VACUUM marks the old tuples dead but leaves their bytes
    # (in casting order, with each cast's transaction id) in the pages until they are reused.
    # VACUUM FULL writes the live rows, already shuffled, into new files; it locks these
    # tables for the moment it takes.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(f"SET lock_timeout = '{COMPACT_LOCK_TIMEOUT}'")
        try:
            connection.exec_driver_sql("VACUUM FULL ballot, receipt, credential")
        finally:
            connection.exec_driver_sql("RESET lock_timeout")


def change_exemption(
    session: Session, round_: Round, person_key: str, reason: str, decision: str = ""
) -> Person:
    """Leave a person of a draft round off the ballot with a reason, or put them back ("").

    The reason is one the profile lists (by its id or its words), or any other with the
    number of the decision that allows it.
    """
    person = (
        session.scalar(
            select(Person).where(Person.body_id == round_.body_id, Person.person_key == person_key)
        )
        if searchable(person_key, "person_key")
        else None
    )
    if person is None:
        raise NotFound(
            N_("Unknown person {key} in body {code}."), key=person_key, code=round_.body.code
        )
    current = roster_entries(round_)
    if not any(e.kind == "person" and e.identity == person.person_key for e in current):
        raise InvalidInput(
            N_("{name} is not on the roster of round {id}."), name=person.name, id=round_.id
        )
    set_roster(
        session,
        round_,
        with_exemption(
            current, person.person_key, check_text(reason, "reason"), clean_name(decision)
        ),
    )
    return person
