"""Casting ballots and importing paper ballots: one transaction each, no link to the voter."""

from __future__ import annotations

import hashlib
import secrets
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

from . import credentials
from .csvinput import rows
from .db import WRITE
from .errors import N_, CountError, InvalidInput, VotesError, WrongState
from .models import Ballot, BallotItem, Credential, Receipt, Round, RoundStatus, Scale
from .rounds import ballots_collected, ballots_issued, check_paper_issued

LEVELS = {
    Scale.POLL.value: ("H", "C", "L"),
    Scale.CONFIDENCE_VOTE.value: ("T", "K"),
}
LEVEL_NAMES = {
    Scale.POLL.value: {"high": "H", "confidence": "C", "low": "L"},
    Scale.CONFIDENCE_VOTE.value: {"trust": "T", "no_trust": "K"},
}
NO_MARK = "-"  # a paper row with no box marked
MANY_MARKS = "X"  # a paper row with two or more boxes marked
INVALID_MARKS = (NO_MARK, MANY_MARKS)


class CastRefused(VotesError):
    """A ballot was not accepted. `reason` is one of: malformed, unknown, used, not_open, marks."""

    def __init__(self, reason: str, msgid: str, **params: object) -> None:
        self.reason = reason
        super().__init__(msgid, **params)


def item_count(session: Session, round_id: int) -> int:
    """Return the number of items on a round's ballot."""
    return session.scalar(select(func.count()).where(BallotItem.round_id == round_id)) or 0


def normalise_marks(
    marks: Sequence[str] | Mapping[int | str, str], count: int, scale: str
) -> str:
    """Check an online ballot has exactly one level for every item; return the packed marks.

    Accepts a sequence in ballot order or a mapping {order: level}; a level is its paper code
    (H/C/L or T/K) or its name (high/confidence/low or trust/no_trust), in any case.
    """
    allowed = LEVELS[scale]
    names = LEVEL_NAMES[scale]
    if isinstance(marks, Mapping):
        by_order: dict[int, str] = {}
        for key, value in marks.items():
            try:
                order = int(str(key))
            except ValueError as exc:
                raise CastRefused(
                    "marks", N_("The ballot refers to an item that does not exist.")
                ) from exc
            if order in by_order:  # {1: "H", "1": "L"}: two levels for one item
                raise CastRefused("marks", N_("Choose one level for item {order}."), order=order)
            by_order[order] = value
        if set(by_order) != set(range(1, count + 1)):
            missing = sorted(set(range(1, count + 1)) - set(by_order))
            if missing:
                raise CastRefused(
                    "marks", N_("Choose one level for item {order}."), order=missing[0]
                )
            raise CastRefused("marks", N_("The ballot refers to an item that does not exist."))
        ordered = [by_order[order] for order in range(1, count + 1)]
    else:
        ordered = list(marks)
        if len(ordered) != count:
            raise CastRefused(
                "marks",
                N_("The ballot has {found} marks; it needs exactly one for each of the "
                   "{count} items."),
                found=len(ordered), count=count,
            )
    packed = []
    for order, value in enumerate(ordered, start=1):
        text = str(value).strip()
        letter = names.get(text.lower(), text.upper())
        if letter not in allowed:
            raise CastRefused(
                "marks",
                N_("Item {order}: {mark!r} is not a level of this ballot ({allowed})."),
                order=order, mark=text, allowed="/".join(allowed),
            )
        packed.append(letter)
    return "".join(packed)


# The statements of the hot path, built once. They run on the session's connection as Core
# statements: the ORM adds nothing here (no objects are loaded) but costs time on every ballot.
_credential = cast(Table, Credential.__table__)
_round = cast(Table, Round.__table__)
_item = cast(Table, BallotItem.__table__)
_ballot = cast(Table, Ballot.__table__)
_receipt = cast(Table, Receipt.__table__)
# One statement finds the code, its round and the number of items, and on PostgreSQL takes a
# share lock on the round's row: closing the round (FOR UPDATE) waits for ballots being cast.
# Why a code could not be claimed. The share lock on the round's row (PostgreSQL) waits for a
# close in progress, so a round that closed meanwhile is reported as not open.
_FIND_CODE = (
    select(_credential.c.round_id, _credential.c.used, _round.c.status)
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
        exists(
            select(_round.c.id)
            .where(
                _round.c.id == _credential.c.round_id,
                _round.c.status == RoundStatus.OPEN.value,
            )
            .with_for_update(read=True)
        ),
    )
    .values(used=True)
    .returning(
        _credential.c.round_id,
        # Written out: SQLAlchemy renders the columns of a RETURNING clause without their
        # table on SQLite, which would turn these correlations into "round_id = round_id".
        literal_column("(SELECT round.scale FROM round WHERE round.id = credential.round_id)"),
        literal_column(
            "(SELECT count(*) FROM ballot_item WHERE ballot_item.round_id = credential.round_id)"
        ),
    )
)
_INSERT_BALLOT = insert(_ballot)
_INSERT_RECEIPT = insert(_receipt)


def _refusal(connection: Connection, code_digest: bytes, round_id: int | None) -> CastRefused:
    """Say why a code could not be claimed: unknown (here), used, or its round not open."""
    found = connection.execute(_FIND_CODE, {"digest": code_digest}).first()
    # A code of another round is "unknown" here: nothing tells whether it exists elsewhere.
    if found is None or (round_id is not None and found.round_id != round_id):
        return CastRefused("unknown", N_("This code is not valid for this round."))
    if found.used or found.status == RoundStatus.OPEN.value:
        # Used (by a concurrent cast that committed first, maybe).
        return CastRefused("used", N_("This code has already been used."))
    return CastRefused("not_open", N_("Voting is not open for this round."))


def cast_ballot(
    session: Session,
    secret: str | bytes,
    code: str,
    marks: Sequence[str] | Mapping[int | str, str],
    *,
    round_id: int | None = None,
) -> str:
    """Cast an online ballot with a voter code; return the voter's random receipt.

    Marking the code used and storing the ballot happen in one transaction, and the stored
    ballot carries nothing that leads back to the code: no key, no time, no order.
    The cast ends the session's transaction first, then commits or rolls back its own: call it
    on a session with nothing pending.
    """
    try:
        code_digest = credentials.digest(secret, code)
    except credentials.CodeFormatError as exc:
        raise CastRefused(
            "malformed", N_("This is not a valid code; check what you typed.")
        ) from exc
    # One transaction, which holds the write lock from its first statement on SQLite (so what is
    # read below cannot change before the write) and a share lock on the round's row on
    # PostgreSQL (so the round cannot close in between). Three statements between BEGIN and
    # COMMIT — claim the code, store the ballot, store the receipt: a cast is bound by round
    # trips and commits, not by the work it does. A transaction the caller left open (reading
    # the round, say) is ended first, or it would not be a write transaction.
    session.rollback()
    connection = session.connection(execution_options=WRITE)
    try:
        claimed = connection.execute(
            _CLAIM_CODE, {"code_digest": code_digest, "named_round": round_id}
        ).first()
        if claimed is None:
            raise _refusal(connection, code_digest, round_id)
        cast_round, scale, items = claimed
        packed = normalise_marks(marks, items, scale)  # refused: the claim is rolled back
        receipt = credentials.new_receipt()
        connection.execute(_INSERT_BALLOT, {
            "round_id": cast_round, "id": secrets.token_bytes(16), "status": "valid",
            "marks": packed,
        })
        connection.execute(_INSERT_RECEIPT, {"round_id": cast_round, "receipt": receipt})
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return receipt


@dataclass(frozen=True)
class ImportResult:
    """What a paper-ballot import stored."""

    count: int
    valid: int
    invalid: int
    sha256: str


def parse_paper_ballots(data: bytes, count: int, scale: str) -> list[tuple[str, str]]:
    """Read a paper-ballot CSV into (status, packed marks); refuse it at its first bad line."""
    allowed = frozenset(LEVELS[scale]) | {MANY_MARKS}
    # What a line typed cleanly packs to: one letter or nothing (NO_MARK) in every cell.
    clean = allowed | {NO_MARK}
    expected = ["status"] + [str(n) for n in range(1, count + 1)]
    ballots: list[tuple[str, str]] = []
    header_seen = False
    for line, cells in rows(data):
        if not header_seen:
            header = [cell.strip().lower() for cell in cells]
            if header != expected:
                raise InvalidInput(
                    N_("Line 1: the header must be {expected} (this round has {count} items)."),
                    expected=",".join(expected) if count <= 6 else
                    f"status,1,2,…,{count}", count=count,
                )
            header_seen = True
            continue
        if len(cells) != count + 1:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            raise InvalidInput(
                N_("Line {line}: {found} cells; a ballot of this round has {expected}."),
                line=line, found=len(cells), expected=count + 1,
            )
        status = cells[0]
        if status != "valid" and status != "invalid":
            status = status.strip().lower()
            if status not in ("valid", "invalid"):
                raise InvalidInput(
                    N_("Line {line}: status {status!r}; use valid or invalid."),
                    line=line, status=cells[0].strip(),
                )
        marks = cells[1:]
        # The usual line is checked with a few operations done in C (about 1 µs); a line with
        # spaces, lower case or a mistake is read cell by cell, which also says what is wrong.
        packed = "".join([cell or NO_MARK for cell in marks])
        if len(packed) != count or NO_MARK in marks or not clean.issuperset(packed):
            packed = _pack_cells(line, marks, allowed, scale)
        ballots.append((status, packed))
    if not header_seen:
        raise InvalidInput(N_("The file is empty."))
    if not ballots:
        raise InvalidInput(N_("The file has a header but no ballots."))
    return ballots


def _pack_cells(line: int, cells: list[str], allowed: frozenset[str], scale: str) -> str:
    packed = []
    for order, cell in enumerate(cells, start=1):
        mark = cell.strip().upper()
        if not mark:
            packed.append(NO_MARK)
        elif mark in allowed:
            packed.append(mark)
        else:
            raise InvalidInput(
                N_("Line {line}, item {order}: {mark!r} is not a mark; use {allowed}, X for "
                   "several boxes, or leave it empty for none."),
                line=line, order=order, mark=cell.strip(),
                allowed=", ".join(LEVELS[scale]),
            )
    return "".join(packed)


def _insert_ballots(session: Session, round_id: int, ballots: list[tuple[str, str]]) -> None:
    """Insert ballots with one executemany of the driver.

    Through SQLAlchemy every row costs about 10 µs of parameter handling, more than SQLite
    takes to store it; the statement is still compiled by SQLAlchemy for the database in use.
    Each ballot gets a fresh random key, as in cast_ballot.
    """
    connection = session.connection()
    keys = ["round_id", "id", "status", "marks"]
    compiled = _INSERT_BALLOT.compile(dialect=connection.dialect, column_keys=keys)
    rows: list[tuple[object, ...]] = [
        (round_id, secrets.token_bytes(16), status, marks) for status, marks in ballots
    ]
    if compiled.positional:
        order = [keys.index(name) for name in compiled.positiontup or ()]
        if order != list(range(len(keys))):
            rows = [tuple(row[n] for n in order) for row in rows]
        connection.exec_driver_sql(compiled.string, rows)
    else:
        connection.exec_driver_sql(compiled.string, [dict(zip(keys, row, strict=True))
                                                     for row in rows])


def require_open_for_paper(round_: Round) -> None:
    """Refuse paper ballots (typed or imported) unless the round is open."""
    if round_.status != RoundStatus.OPEN.value:
        raise WrongState(
            N_("Paper ballots can only be entered while the round is open "
               "(round {id} is {status})."),
            id=round_.id, status=round_.status,
        )


def import_paper_ballots(
    session: Session,
    round_: Round,
    data: bytes,
    *,
    issued: int | None = None,
    entered_by: list[str] | None = None,
) -> ImportResult:
    """Store a file of paper ballots typed in by the counting committee: all of it or nothing.

    The caller commits. `issued` sets the number of paper ballots handed out; `entered_by`
    names the clerks of a double entry, for the log.
    """
    require_open_for_paper(round_)
    ballots = parse_paper_ballots(data, item_count(session, round_.id), round_.scale)
    if issued is not None:
        if issued < 0:
            raise CountError(N_("The number of ballots issued cannot be negative."))
        check_paper_issued(issued, round_.present)
        round_.paper_issued = issued
    total_issued = ballots_issued(session, round_)
    collected = ballots_collected(session, round_.id) + len(ballots)
    if collected > total_issued:
        raise CountError(
            N_("Impossible counts: this import would make {collected} ballots collected but only "
               "{issued} were issued; give the number issued with --issued."),
            collected=collected, issued=total_issued,
        )
    _insert_ballots(session, round_.id, ballots)
    session.flush()
    invalid = sum(1 for status, _ in ballots if status == "invalid")
    result = ImportResult(
        count=len(ballots),
        valid=len(ballots) - invalid,
        invalid=invalid,
        sha256=hashlib.sha256(data).hexdigest(),
    )
    from . import audit

    audit.record(session, "ballots_imported", round_id=round_.id, details={
        "count": result.count, "valid": result.valid, "invalid": result.invalid,
        "sha256": result.sha256, "paper_issued": round_.paper_issued,
        **({"entered_by": entered_by} if entered_by else {}),
    })
    return result
