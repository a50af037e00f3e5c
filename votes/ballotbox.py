"""The ballot box of a round and its accounting: what is in it, what was issued, what can be.

Reads and bulk writes of the anonymous tables (ballots, receipts) and the checks of DOMAIN.md §2
that every door applies before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, case, func, insert, select
from sqlalchemy.orm import Session

from .credentials import codes_issued, tracker_receipt
from .errors import N_, CountError
from .limits import check_count
from .models import Ballot, BallotItem, Receipt, Round, SealedBallot, random_id

INSERT_BALLOT = insert(cast(Table, Ballot.__table__))


def lock_round(session: Session, round_: Round) -> None:
    """Hold a round against a close until this transaction ends, and read it again.

    Every change to what a close counts (paper ballots, codes, attendance) takes this lock
    before it checks the round's state. PostgreSQL: the row lock (FOR UPDATE) conflicts with
    the table lock a close takes first (rounds.close_round), so a change either commits before
    the close counts, or waits for the close and then finds the round closed. SQLite: the
    write transaction (BEGIN IMMEDIATE) already orders them; the row is read again.
    Online casts share-lock the round and are not held by this lock beyond a moment.
    Changes made to the round before are flushed first, not lost.
    """
    session.flush()
    session.refresh(round_, with_for_update=True)


def item_count(session: Session, round_id: int) -> int:
    """Return the number of items on a round's ballot."""
    return session.scalar(select(func.count()).where(BallotItem.round_id == round_id)) or 0


def ballots_collected(session: Session, round_id: int) -> int:
    """Count the ballots in the box of a round: paper (and older online) ones, and sealed ones."""
    return (session.scalar(select(func.count()).where(Ballot.round_id == round_id)) or 0) + (
        sealed_count(session, round_id)
    )


def _in_group(round_id: int, group: int | None) -> list[Any]:
    where: list[Any] = [SealedBallot.round_id == round_id]
    if group is not None:
        where.append(SealedBallot.group_number == group)
    return where


def sealed_count(session: Session, round_id: int, group: int | None = None) -> int:
    """Count the sealed (encrypted) online ballots of a round (or of one of its voter groups)."""
    return session.scalar(select(func.count()).where(*_in_group(round_id, group))) or 0


def sealed_box(
    session: Session, round_id: int, group: int | None = None
) -> list[tuple[bytes, bytes]]:
    """Return the (tracker, content) of every sealed ballot of a round (or group), by tracker."""
    return [
        (tracker, content)
        for tracker, content in session.execute(
            select(SealedBallot.tracker, SealedBallot.content)
            .where(*_in_group(round_id, group))
            .order_by(SealedBallot.tracker)
        )
    ]


def trackers(session: Session, round_id: int, group: int | None = None) -> list[bytes]:
    """Return the trackers of a round's (or a group's) sealed ballots, sorted."""
    return list(
        session.scalars(
            select(SealedBallot.tracker)
            .where(*_in_group(round_id, group))
            .order_by(SealedBallot.tracker)
        )
    )


def ballots_issued(session: Session, round_: Round) -> int:
    """Return ballots issued: paper ballots handed out plus online codes issued."""
    return (round_.paper_issued or 0) + codes_issued(session, round_.id)


def ballot_box(session: Session, round_id: int) -> list[tuple[str, str]]:
    """Return the (status, marks) of every ballot of a round kept in the clear (paper ballots)."""
    return [
        (status, marks)
        for status, marks in session.execute(
            select(Ballot.status, Ballot.marks).where(Ballot.round_id == round_id)
        )
    ]


@dataclass(frozen=True)
class PackedBox:
    """A ballot box as counting needs it: figures, and the counted marks joined.

    `joined` holds the marks of every counted ballot one after the other, in no particular
    order; `shortest` and `longest` are the lengths of the shortest and longest marks of all
    ballots (None for an empty box), which tell whether every ballot can be cut in items.
    """

    ballots: int
    counted: int
    shortest: int | None
    longest: int | None
    joined: str


EMPTY_BOX = PackedBox(0, 0, None, None, "")


def packed_box(
    session: Session, round_id: int, *, spoiled_by_marks: bool, group: int | None = None
) -> PackedBox:
    """Read a round's ballots (or one voter group's) for counting, in one statement and one pass.

    Counted are the valid ballots; with `spoiled_by_marks` (an invalid mark spoils the whole
    ballot, DOMAIN.md §3) only those without a "-" or "X" mark. The database joins the counted
    marks (SQLite's group_concat, PostgreSQL's string_agg, both skipping NULL): one row comes
    back instead of one Python object per ballot, which was most of what counting cost. No
    GROUP BY, so no sort: one scan of the round's ballots (per group, a scan filtered by its
    number: a round has few groups, and a sort of every ballot by group costs more).
    """
    connection = session.connection()
    marks = Ballot.marks
    counted = Ballot.status == "valid"
    if spoiled_by_marks:
        counted = and_(counted, ~marks.contains("-"), ~marks.contains("X"))
    kept = case((counted, marks))
    joined = (
        func.string_agg(kept, "")
        if connection.dialect.name == "postgresql"
        else func.group_concat(kept, "")
    )
    where: list[Any] = [Ballot.round_id == round_id]
    if group is not None:
        where.append(Ballot.group_number == group)
    row = session.execute(
        select(
            func.count(),
            func.count(kept),
            func.min(func.length(marks)),
            func.max(func.length(marks)),
            joined,
        ).where(*where)
    ).one()
    ballots, counted_ballots, shortest, longest, text = row
    return PackedBox(ballots, counted_ballots, shortest, longest, text or "")


def combined_box(boxes: list[PackedBox]) -> PackedBox:
    """Put the boxes of several voter groups together, as one read of them all would give."""
    full = [box for box in boxes if box.ballots]
    if not full:
        return EMPTY_BOX
    return PackedBox(
        ballots=sum(box.ballots for box in full),
        counted=sum(box.counted for box in full),
        shortest=min(box.shortest for box in full if box.shortest is not None),
        longest=max(box.longest for box in full if box.longest is not None),
        joined="".join(box.joined for box in full),
    )


def receipts_count(session: Session, round_id: int) -> int:
    """Count the receipts of a round: random ones (before sealing) and those of sealed ballots."""
    return (session.scalar(select(func.count()).where(Receipt.round_id == round_id)) or 0) + (
        sealed_count(session, round_id)
    )


def receipts(session: Session, round_id: int) -> list[str]:
    """Return the receipts of a round, sorted (an order that says nothing).

    A sealed ballot's receipt is its tracker's (credentials.tracker_receipt).
    """
    return sorted(
        [
            *session.scalars(select(Receipt.receipt).where(Receipt.round_id == round_id)),
            *(tracker_receipt(tracker) for tracker in trackers(session, round_id)),
        ]
    )


def insert_ballots(
    session: Session, round_id: int, ballots: list[tuple[str, str]], *, group: int = 1
) -> None:
    """Insert ballots with one executemany of the driver.

    Through SQLAlchemy every row costs about 10 µs of parameter handling, more than SQLite
    takes to store it; the statement is still compiled by SQLAlchemy for the database in use.
    Each ballot gets a fresh random key, as a cast one does.
    """
    connection = session.connection()
    keys = ["round_id", "id", "group_number", "status", "marks"]
    compiled = INSERT_BALLOT.compile(dialect=connection.dialect, column_keys=keys)
    rows: list[tuple[object, ...]] = [
        (round_id, random_id(), group, status, marks) for status, marks in ballots
    ]
    if compiled.positional:
        order = [keys.index(name) for name in compiled.positiontup or ()]
        if order != list(range(len(keys))):
            rows = [tuple(row[n] for n in order) for row in rows]
        connection.exec_driver_sql(compiled.string, rows)
    else:
        connection.exec_driver_sql(
            compiled.string, [dict(zip(keys, row, strict=True)) for row in rows]
        )


def check_counts(members: int | None, summoned: int | None, present: int | None) -> None:
    """Refuse attendance figures that cannot all be true (DOMAIN.md §2)."""
    for name, value in (("members", members), ("summoned", summoned), ("present", present)):
        if value is not None and value < 0:
            raise CountError(N_("The number {name} cannot be negative."), name=name)
        check_count(value, name)
    if members == 0:
        raise CountError(
            N_("Impossible counts: a body of 0 members; give its number of members (at least 1).")
        )
    if present is not None and summoned is not None and present > summoned:
        raise CountError(
            N_("Impossible counts: {present} present but only {summoned} summoned."),
            present=present,
            summoned=summoned,
        )


def check_paper_issued(issued: int | None, present: int | None) -> None:
    """Refuse more paper ballots handed out than persons present (DOMAIN.md §2)."""
    check_count(issued, "paper_issued")
    if issued is not None and present is not None and issued > present:
        raise CountError(
            N_("Impossible counts: {issued} paper ballots issued but only {present} present."),
            issued=issued,
            present=present,
        )


def check_within_members(
    basis: str, members: int | None, *, issued: int = 0, collected: int = 0
) -> None:
    """Refuse more ballots than members where D counts all members (DOMAIN.md §2).

    Percentages over all members cannot exceed 100 %: collected ≤ members. Since every
    ballot collected was issued, ballots and codes issued may not exceed the members either,
    or an online round could collect more ballots than there are members.
    """
    if basis != "members" or members is None:
        return
    if collected > members:
        raise CountError(
            N_(
                "Impossible counts: {collected} ballots collected but only {members} members, "
                "and percentages are of all members."
            ),
            collected=collected,
            members=members,
        )
    if issued > members:
        raise CountError(
            N_(
                "Impossible counts: {issued} ballots and codes issued but only {members} "
                "members, and percentages are of all members."
            ),
            issued=issued,
            members=members,
        )
