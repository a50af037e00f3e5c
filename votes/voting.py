"""Casting ballots and importing paper ballots: one transaction each, no link to the voter."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.orm import Session

from . import credentials
from .csvinput import rows
from .db import WRITE, is_sqlite
from .errors import N_, CountError, InvalidInput, NotFound, VotesError, WrongState
from .models import Ballot, BallotItem, Credential, Receipt, Round, RoundStatus, Scale
from .rounds import ballots_collected, ballots_issued

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
        try:
            by_order = {int(str(key)): value for key, value in marks.items()}
        except ValueError as exc:
            raise CastRefused("marks", N_("The ballot refers to an item that does not exist.")) from exc
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
                N_("The ballot has {found} marks; it needs exactly one for each of the {count} items."),
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
    """
    try:
        code_digest = credentials.digest(secret, code)
    except credentials.CodeFormatError as exc:
        raise CastRefused("malformed", N_("This is not a valid code; check what you typed.")) from exc
    found = session.execute(
        select(Credential.id, Credential.round_id, Credential.used, Round.status, Round.scale)
        .join(Round, Round.id == Credential.round_id)
        .where(Credential.digest == code_digest)
    ).first()
    # A code of another round is "unknown" here: nothing tells whether it exists elsewhere.
    if found is None or (round_id is not None and found.round_id != round_id):
        session.rollback()
        raise CastRefused("unknown", N_("This code is not valid for this round."))
    if found.used:
        session.rollback()
        raise CastRefused("used", N_("This code has already been used."))
    if found.status != RoundStatus.OPEN.value:
        session.rollback()
        raise CastRefused("not_open", N_("Voting is not open for this round."))
    packed = normalise_marks(marks, item_count(session, found.round_id), found.scale)
    receipt = credentials.new_receipt()
    # End the read transaction, then write in one transaction that holds the write lock
    # from its first statement (SQLite) and shares the round's row lock (PostgreSQL), so that
    # closing the round waits for ballots already being cast and refuses the rest.
    session.rollback()
    session.connection(execution_options=WRITE)
    try:
        if not is_sqlite(session):
            session.execute(
                select(Round.id).where(Round.id == found.round_id).with_for_update(read=True)
            )
        marked = session.execute(
            update(Credential)
            .where(
                Credential.id == found.id,
                Credential.used.is_(False),
                exists().where(
                    and_(Round.id == found.round_id, Round.status == RoundStatus.OPEN.value)
                ),
            )
            .values(used=True)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:
            session.rollback()
            still_open = session.scalar(select(Round.status).where(Round.id == found.round_id))
            session.rollback()
            if still_open != RoundStatus.OPEN.value:
                raise CastRefused("not_open", N_("Voting is not open for this round."))
            raise CastRefused("used", N_("This code has already been used."))
        session.execute(
            insert(Ballot).values(
                round_id=found.round_id, id=secrets.token_bytes(16), status="valid", marks=packed
            )
        )
        session.execute(insert(Receipt).values(round_id=found.round_id, receipt=receipt))
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
    """Read a paper-ballot CSV into (status, packed marks); refuse the file at its first bad line."""
    allowed = set(LEVELS[scale]) | {MANY_MARKS}
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
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue
        if len(cells) != count + 1:
            raise InvalidInput(
                N_("Line {line}: {found} cells; a ballot of this round has {expected}."),
                line=line, found=len(cells), expected=count + 1,
            )
        status = cells[0].strip().lower()
        if status not in ("valid", "invalid"):
            raise InvalidInput(
                N_("Line {line}: status {status!r}; use valid or invalid."),
                line=line, status=cells[0].strip(),
            )
        packed = []
        for order, cell in enumerate(cells[1:], start=1):
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
        ballots.append((status, "".join(packed)))
    if not header_seen:
        raise InvalidInput(N_("The file is empty."))
    if not ballots:
        raise InvalidInput(N_("The file has a header but no ballots."))
    return ballots


def import_paper_ballots(
    session: Session, round_: Round, data: bytes, *, issued: int | None = None
) -> ImportResult:
    """Store a file of paper ballots typed in by the counting committee: all of it or nothing.

    The caller commits. `issued` sets the number of paper ballots handed out.
    """
    if round_.status != RoundStatus.OPEN.value:
        raise WrongState(
            N_("Paper ballots can only be entered while the round is open (round {id} is {status})."),
            id=round_.id, status=round_.status,
        )
    ballots = parse_paper_ballots(data, item_count(session, round_.id), round_.scale)
    if issued is not None:
        if issued < 0:
            raise CountError(N_("The number of ballots issued cannot be negative."))
        if round_.present is not None and issued > round_.present:
            raise CountError(
                N_("Impossible counts: {issued} paper ballots issued but only {present} present."),
                issued=issued, present=round_.present,
            )
        round_.paper_issued = issued
    total_issued = ballots_issued(session, round_)
    collected = ballots_collected(session, round_.id) + len(ballots)
    if collected > total_issued:
        raise CountError(
            N_("Impossible counts: this import would make {collected} ballots collected but only "
               "{issued} were issued; give the number issued with --issued."),
            collected=collected, issued=total_issued,
        )
    session.execute(
        insert(Ballot),
        [
            {"round_id": round_.id, "id": secrets.token_bytes(16), "status": status, "marks": marks}
            for status, marks in ballots
        ],
    )
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
    })
    return result
