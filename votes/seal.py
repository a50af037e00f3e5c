"""The seal over a whole round, computed from the database in the canonical form of the bundle.

The canonical form is defined once, in votes/recount.py (the standalone verifier copied into
every export bundle): the application describes the round as the bundle's round.json does and
hands it over with the receipts and the ballots, so the seal recorded at close, the one
`votes verify` recomputes and the one the bundle's verify.py recomputes are the same. See
docs/AUDIT.md, "The seal".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from .ballotbox import ballot_box, receipts
from .credentials import codes_issued, codes_used
from .models import Ballot, Receipt, Round
from .recount import (
    ballot_line,
    canonical_csv,
    csv_header,
    receipts_text,
    round_seal,
    seal_parts_of_digests,
)
from .roster import roster_details

# Rows fetched at a time when a part of the seal is hashed as it is read.
BATCH = 20_000


def round_definition(session: Session, round_: Round) -> dict[str, Any]:
    """Describe a round as recorded: what a recount and the seal need besides the ballots."""
    return {
        "id": round_.id,
        "body": round_.body.code,
        "body_name": round_.body.name,
        "body_kind": round_.body.kind,
        "year": round_.year,
        "title": round_.title,
        "scale": round_.scale,
        "status": round_.status,
        "profile": {"id": round_.profile_id, "version": round_.profile_version},
        "place": round_.place,
        "held_on": round_.held_on.isoformat() if round_.held_on else None,
        "followup_of": round_.followup_of,
        "members": round_.members,
        "summoned": round_.summoned,
        "present": round_.present,
        "paper_issued": round_.paper_issued,
        "issued": round_.issued,
        "collected": round_.collected,
        "codes_issued": codes_issued(session, round_.id),
        "codes_used": codes_used(session, round_.id),
        **roster_details(round_),
    }


def receipts_file(session: Session, round_: Round) -> bytes:
    """Return the receipts of a round as the bundle's receipts.txt (sorted, one a line)."""
    return receipts_text(receipts(session, round_.id))


def ballots_file(session: Session, round_: Round) -> bytes:
    """Return the ballots of a round as the bundle's ballots.csv (canonical)."""
    return canonical_csv(len(round_.items), ballot_box(session, round_.id))


def _binary(column: Any, session: Session) -> ColumnElement[Any]:
    """Order a text column by its code points, as Python sorts (PostgreSQL: the C collation)."""
    if session.get_bind().dialect.name == "postgresql":
        return column.collate("C")  # type: ignore[no-any-return]
    return column  # type: ignore[no-any-return]  # SQLite's default collation is BINARY


def _streamed(session: Session, statement: Any) -> Iterator[Any]:
    """Run a SELECT and yield its rows a batch at a time (a server-side cursor on PostgreSQL)."""
    result = session.execute(statement, execution_options={"yield_per": BATCH})
    for partition in result.partitions():
        yield from partition


def _hash_sorted_lines(hasher: Any, lines: Iterable[str], fallback: Any) -> str:
    """Hash lines the database gave in order, checking that order as they come.

    The database sorts (ORDER BY in binary collation), so memory stays bounded; the order is
    checked line by line against Python's, and if a line ever came out of order (a mark no
    ballot should hold, say), the digest is made again the old way, all lines sorted in memory:
    the seal is the seal of canonical_csv whatever the database does.
    """
    previous = ""
    batch: list[str] = []
    for line in lines:
        if line < previous:
            return str(fallback())
        previous = line
        batch.append(line)
        if len(batch) >= BATCH:
            hasher.update(("\n".join(batch) + "\n").encode("utf-8"))
            batch.clear()
    if batch:
        hasher.update(("\n".join(batch) + "\n").encode("utf-8"))
    return str(hasher.hexdigest())


def ballots_digest(session: Session, round_: Round) -> str:
    """Return the SHA-256 of the round's ballots.csv (canonical_csv), reading the box in order.

    A line of the CSV orders as its ballot's (status, marks) does: "invalid" < "valid", and in
    the marks "-" (written as an empty cell) sorts below every letter, as the empty cell's
    "," (or the end of the line) does. So the database sorts by (status, marks).
    """
    statement = (
        select(Ballot.status, Ballot.marks)
        .where(Ballot.round_id == round_.id)
        .order_by(_binary(Ballot.status, session), _binary(Ballot.marks, session))
    )
    hasher = hashlib.sha256((csv_header(len(round_.items)) + "\n").encode("utf-8"))
    lines = (ballot_line(status, marks) for status, marks in _streamed(session, statement))
    return _hash_sorted_lines(
        hasher, lines, lambda: hashlib.sha256(ballots_file(session, round_)).hexdigest()
    )


def receipts_digest(session: Session, round_: Round) -> str:
    """Return the SHA-256 of the round's receipts.txt, reading the receipts in order."""
    statement = (
        select(Receipt.receipt)
        .where(Receipt.round_id == round_.id)
        .order_by(_binary(Receipt.receipt, session))
    )
    lines = (receipt for (receipt,) in _streamed(session, statement))
    return _hash_sorted_lines(
        hashlib.sha256(),
        lines,
        lambda: hashlib.sha256(receipts_file(session, round_)).hexdigest(),
    )


def current_parts(session: Session, round_: Round) -> dict[str, str]:
    """Return the digest of each part of the round's seal, from the database as it is now.

    The receipts and the ballots are hashed as the database hands them over, sorted: closing
    or verifying a round of a million ballots holds a batch of them at a time, not all.
    """
    return seal_parts_of_digests(
        round_definition(session, round_),
        receipts_digest(session, round_),
        ballots_digest(session, round_),
    )


def current_seal(session: Session, round_: Round) -> tuple[str, dict[str, str]]:
    """Return the round's seal as the database gives it now, and the digests of its parts."""
    parts = current_parts(session, round_)
    return round_seal(parts), parts
