"""Casting ballots and importing paper ballots: one transaction each, no link to the voter."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    Integer,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from . import audit, credentials, profiles, sealing
from .ballotbox import (
    check_paper_issued,
    check_within_members,
    insert_ballots,
    item_count,
    lock_round,
)
from .counting import INVALID, normalise_marks, parse_paper_ballots
from .db import WRITE, autocommit_reads
from .errors import N_, CountError, InvalidInput, VotesError, WrongState
from .groups import (
    GROUP_OPEN,
    collected_in,
    get_group,
    issued_in,
    require_group_open,
    sync_round,
)
from .models import (
    BallotItem,
    CountingKey,
    Credential,
    Round,
    RoundStatus,
    SealedBallot,
    VoterGroup,
)
from .text import local_time_text
from .vocabulary import letters


class CastRefused(VotesError):
    """A ballot was not accepted. `reason` is one of: malformed, unknown, used, not_open, marks."""

    def __init__(self, reason: str, msgid: str, **params: object) -> None:
        self.reason = reason
        super().__init__(msgid, **params)


# The statements of the hot path, built once. They run on the session's connection as Core
# statements: the ORM adds nothing here (no objects are loaded) but costs time on every ballot.
_credential = cast(Table, Credential.__table__)
_round = cast(Table, Round.__table__)
_item = cast(Table, BallotItem.__table__)
_key = cast(Table, CountingKey.__table__)
_sealed = cast(Table, SealedBallot.__table__)
_group = cast(Table, VoterGroup.__table__)
# One statement finds the code, its round and the number of items, and on PostgreSQL takes a
# share lock on the round's row: closing the round (FOR UPDATE) waits for ballots being cast.
# Why a code could not be claimed. The share lock on the round's row (PostgreSQL) waits for a
# close in progress, so a round that closed meanwhile is reported as not open.
_FIND_CODE = (
    select(
        _credential.c.round_id,
        _credential.c.used,
        _credential.c.group_number,
        _round.c.status,
        select(_group.c.status)
        .where(
            _group.c.round_id == _credential.c.round_id,
            _group.c.number == _credential.c.group_number,
        )
        .scalar_subquery()
        .label("group_status"),
    )
    .select_from(_credential.join(_round, _round.c.id == _credential.c.round_id))
    .where(_credential.c.digest == bindparam("digest"))
    .with_for_update(read=True, of=_round)
)

# Claiming a code is one statement: mark it used if it is unused and its round open (and,
# when the caller names the round, in that round), returning what the marks are checked
# against. On PostgreSQL the round's row is share-locked by the same statement, so the round
# cannot close between the claim and the commit; a close that committed first is seen.
_CLAIM_CODE = (
    update(_credential)
    .where(
        _credential.c.digest == bindparam("code_digest"),
        _credential.c.used.is_(False),
        _credential.c.round_id
        == func.coalesce(bindparam("named_round", type_=Integer), _credential.c.round_id),
        _credential.c.group_number
        == func.coalesce(bindparam("named_group", type_=Integer), _credential.c.group_number),
        exists(
            select(_round.c.id)
            .where(
                _round.c.id == _credential.c.round_id,
                _round.c.status == RoundStatus.OPEN.value,
            )
            .with_for_update(read=True)
        ),
        # The code's voter group must be open too (groups open and close separately).
        exists(
            select(_group.c.id).where(
                _group.c.round_id == _credential.c.round_id,
                _group.c.number == _credential.c.group_number,
                _group.c.status == GROUP_OPEN,
            )
        ),
    )
    .values(used=True)
    .returning(
        _credential.c.round_id,
        _credential.c.group_number,
        # Written out: SQLAlchemy renders the columns of a RETURNING clause without their
        # table on SQLite, which would turn these correlations into "round_id = round_id".
        literal_column("(SELECT round.scale FROM round WHERE round.id = credential.round_id)"),
        literal_column(
            "(SELECT count(*) FROM ballot_item WHERE ballot_item.round_id = credential.round_id)"
        ),
    )
)
_INSERT_SEALED = insert(_sealed)


def _refusal(
    connection: Connection, code_digest: bytes, round_id: int | None, group: int | None = None
) -> CastRefused:
    """Say why a code could not be claimed: unknown (here), used, or its round not open."""
    found = connection.execute(_FIND_CODE, {"digest": code_digest}).first()
    # A code of another round is "unknown" here: nothing tells whether it exists elsewhere.
    if (
        found is None
        or (round_id is not None and found.round_id != round_id)
        or (group is not None and found.group_number != group)
    ):
        return CastRefused("unknown", N_("This code is not valid for this round."))
    if found.used or (found.status == RoundStatus.OPEN.value and found.group_status == GROUP_OPEN):
        # Used (by a concurrent cast that committed first, maybe).
        return CastRefused("used", N_("This code has already been used."))
    return CastRefused("not_open", N_("Voting is not open for this round."))


# Before the transaction: the round of a code, what its ballot holds, and the key to seal it to.
_SEALING_TARGET = (
    select(
        _credential.c.round_id,
        _credential.c.used,
        _credential.c.group_number,
        _round.c.status,
        select(_group.c.status)
        .where(
            _group.c.round_id == _credential.c.round_id,
            _group.c.number == _credential.c.group_number,
        )
        .scalar_subquery()
        .label("group_status"),
        _round.c.scale,
        _key.c.public_key,
        _key.c.parameters,
        select(func.count())
        .where(_item.c.round_id == _credential.c.round_id)
        .scalar_subquery()
        .label("items"),
    )
    .select_from(
        _credential.join(_round, _round.c.id == _credential.c.round_id).outerjoin(
            _key, _key.c.round_id == _credential.c.round_id
        )
    )
    .where(_credential.c.digest == bindparam("digest"))
)


def seal_ballot(
    session: Session,
    code_digest: bytes,
    marks: Sequence[str] | Mapping[int | str, str],
    round_id: int | None,
    group: int | None = None,
) -> tuple[int, bytes, bytes]:
    """Check the marks and encrypt them to the round's committee key: (round, tracker, content).

    This runs before the cast's transaction and holds no lock: encryption and its proofs take
    milliseconds that no other voter waits for. The plaintext marks live only in this call.
    """
    session.rollback()
    # One SELECT: on PostgreSQL without BEGIN and ROLLBACK around it (two round trips a cast).
    autocommit_reads(session)
    found = session.execute(_SEALING_TARGET, {"digest": code_digest}).first()
    session.rollback()
    if (
        found is None
        or (round_id is not None and found.round_id != round_id)
        or (group is not None and found.group_number != group)
    ):
        raise CastRefused("unknown", N_("This code is not valid for this round."))
    if found.status != RoundStatus.OPEN.value or found.group_status != GROUP_OPEN:
        raise CastRefused("not_open", N_("Voting is not open for this round."))
    if found.used:
        raise CastRefused("used", N_("This code has already been used."))
    if found.public_key is None or found.parameters is None:
        # Opening with codes needs a complete key (committee.check_ready_to_open): only a
        # round opened before sealed ballots existed can get here, and it is not sealed.
        raise CastRefused(
            "not_open",
            N_("This round has no counting committee key: online ballots cannot be sealed."),
        )
    try:
        packed = normalise_marks(marks, found.items, found.scale)
    except InvalidInput as refused:
        raise CastRefused("marks", refused.msgid, **refused.params) from refused
    choices = [letters(found.scale).index(letter) for letter in packed]
    context = json.loads(found.parameters)["context"]
    tracker, content = sealing.encrypt_ballot(
        found.public_key, context, choices, len(letters(found.scale))
    )
    return found.round_id, tracker, content


def cast_ballot(
    session: Session,
    secret: str | bytes,
    code: str,
    marks: Sequence[str] | Mapping[int | str, str],
    *,
    round_id: int | None = None,
    group: int | None = None,
) -> str:
    """Cast an online ballot with a voter code; return the voter's receipt (BN and 16 digits).

    The marks are encrypted to the counting committee's key first (seal_ballot); then one
    transaction marks the code used and stores the encrypted ballot, keyed by its tracker,
    with the voter group its code was issued for (with `group`, the code must be one of that
    group's). Nothing stored leads back to the code: no key, no time, no order, and no
    readable choice.
    The cast ends the session's transaction first, then commits or rolls back its own: call it
    on a session with nothing pending.
    """
    try:
        code_digest = credentials.digest(secret, code)
    except credentials.CodeFormatError as exc:
        raise CastRefused(
            "malformed", N_("This is not a valid code; check what you typed.")
        ) from exc
    sealed_round, tracker, content = seal_ballot(session, code_digest, marks, round_id, group)
    # One transaction, which holds the write lock from its first statement on SQLite (so what is
    # read below cannot change before the write) and a share lock on the round's row on
    # PostgreSQL (so the round cannot close in between). Two statements between BEGIN and
    # COMMIT — claim the code, store the sealed ballot: a cast is bound by round trips and
    # commits, not by the work it does. The code is claimed in the round it was sealed for.
    session.rollback()
    connection = session.connection(execution_options=WRITE)
    try:
        claimed = connection.execute(
            _CLAIM_CODE,
            {"code_digest": code_digest, "named_round": sealed_round, "named_group": group},
        ).first()
        if claimed is None:
            raise _refusal(connection, code_digest, sealed_round, group)
        connection.execute(
            _INSERT_SEALED,
            {
                "round_id": sealed_round,
                "tracker": tracker,
                "content": content,
                "group_number": claimed[1],
            },
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return credentials.tracker_receipt(tracker)


@dataclass(frozen=True)
class ImportResult:
    """What a paper-ballot import stored."""

    count: int
    valid: int
    invalid: int
    sha256: str
    # Said by the organizer: the same file, but another stack of paper ballots.
    another_stack: bool = False
    # A digest of the one-time token of the form (or the API's Idempotency-Key) that sent it.
    submission: str | None = None
    # The voter group the ballots belong to, and whether the round has several.
    group: int = 1
    widened: bool = False


class AlreadyImported(VotesError):
    """This file (or this very form) was imported into the round before; nothing was stored.

    `first` is when (UTC) the earlier import was written to the log.
    """

    def __init__(self, msgid: str, *, first: object, **params: object) -> None:
        self.first = first
        super().__init__(msgid, **params)


def submission_digest(token: str | None) -> str | None:
    """Return what the log keeps of a form's one-time token: a digest, never the token."""
    if not token:
        return None
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()[:32]


def _refuse_a_second_import(
    session: Session,
    round_: Round,
    sha256: str,
    *,
    another_stack: bool,
    submission: str | None,
    group: VoterGroup,
) -> None:
    """Refuse a file imported into this round before, or a form sent twice.

    The log is the record: every import wrote its file's SHA-256 (and its form's token, and in
    a round of several voter groups its group) in a `ballots_imported` event. Read under the
    round's lock, so two uploads of the same file at the same moment are ordered, and the
    second one sees the first.

    Voter groups: the same file twice in one group is a stack imported twice; the same file in
    another group is most likely the wrong group chosen (each group's committee types its
    own stack). Both are refused unless the organizer says it is another stack, and the
    refusal names the group the file went into.
    """
    names = {g.number: g.name for g in round_.groups}
    for event in audit.round_events(session, round_.id):
        if event.kind != "ballots_imported":
            continue
        details = json.loads(event.details)
        when = local_time_text(event.at)
        if submission is not None and details.get("submission") == submission:
            raise AlreadyImported(
                N_(
                    "This form was already sent: its file was imported into round {id} at "
                    "{time}. Nothing was imported again."
                ),
                first=event.at,
                id=round_.id,
                time=when,
            )
        if details.get("sha256") != sha256 or another_stack:
            continue
        into = int(details.get("group", 1))
        if len(names) > 1 and into != group.number:
            raise AlreadyImported(
                N_(
                    "This file was already imported into voter group {other} ({name}) of round "
                    "{id} at {time} ({count} ballots); nothing was imported into group "
                    "{group}. Check that the right group is chosen; if it is really another "
                    "stack of ballots that gives the very same file, say so and import it again."
                ),
                first=event.at,
                other=into,
                name=names.get(into, "?"),
                group=group.number,
                id=round_.id,
                time=when,
                count=details.get("count"),
            )
        raise AlreadyImported(
            N_(
                "This file was already imported into round {id} at {time} ({count} "
                "ballots); nothing was imported. If it is really another stack of ballots "
                "that gives the very same file, say so and import it again."
            )
            if len(names) <= 1
            else N_(
                "This file was already imported into voter group {group} of round {id} at "
                "{time} ({count} ballots); nothing was imported. If it is really another "
                "stack of ballots that gives the very same file, say so and import it again."
            ),
            first=event.at,
            group=group.number,
            id=round_.id,
            time=when,
            count=details.get("count"),
        )


def require_open_for_paper(session: Session, round_: Round) -> None:
    """Refuse paper ballots (typed or imported) unless the round is open, and hold it open.

    The round is locked first (ballotbox.lock_round): a close cannot count the box between
    this check and the commit, and a close that committed meanwhile is seen here.
    """
    lock_round(session, round_)
    _refuse_unless_open(round_)


def _refuse_unless_open(round_: Round) -> None:
    if round_.status != RoundStatus.OPEN.value:
        raise WrongState(
            N_(
                "Paper ballots can only be entered while the round is open "
                "(round {id} is {status})."
            ),
            id=round_.id,
            status=round_.status,
        )


def import_paper_ballots(
    session: Session,
    round_: Round,
    data: bytes,
    *,
    issued: int | None = None,
    another_stack: bool = False,
    submission: str | None = None,
    group: int | None = None,
) -> ImportResult:
    """Store a file of paper ballots typed in by the counting committee: all of it or nothing.

    The caller logs the import and commits. `issued` sets the number of paper ballots handed
    out. The file is read before the round is locked: a long file does not hold a close (or
    the voters) waiting; the round is checked again under the lock.

    The same file (by SHA-256) is imported once per round unless `another_stack` says it is
    another stack that happens to give the same file; a form sent twice (the same
    `submission` digest) is refused even then. The ballots belong to one voter group (`group`;
    without it, the round's only group), which must be open.
    """
    _refuse_unless_open(round_)
    target = get_group(round_, group)
    ballots = parse_paper_ballots(data, item_count(session, round_.id), round_.scale)
    sha256 = hashlib.sha256(data).hexdigest()
    require_open_for_paper(session, round_)
    session.refresh(target)
    require_group_open(round_, target)
    _refuse_a_second_import(
        session, round_, sha256, another_stack=another_stack, submission=submission, group=target
    )
    if issued is not None:
        if issued < 0:
            raise CountError(N_("The number of ballots issued cannot be negative."))
        check_paper_issued(issued, target.present)
        target.paper_issued = issued
        sync_round(round_)
    total_issued = issued_in(session, target)
    collected = collected_in(session, round_.id, target.number) + len(ballots)
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    basis = profile.vote_denominator if round_.scale == "confidence_vote" else profile.denominator
    check_within_members(basis, target.members, issued=total_issued, collected=collected)
    if collected > total_issued:
        raise CountError(
            N_(
                "Impossible counts: this import would make {collected} ballots collected but only "
                "{issued} were issued; give the number issued with --issued."
            ),
            collected=collected,
            issued=total_issued,
        )
    insert_ballots(session, round_.id, ballots, group=target.number)
    session.flush()
    invalid = sum(1 for status, _ in ballots if status == INVALID)
    return ImportResult(
        count=len(ballots),
        valid=len(ballots) - invalid,
        invalid=invalid,
        sha256=sha256,
        another_stack=another_stack,
        submission=submission,
        group=target.number,
        widened=len(round_.groups) > 1,
    )
