"""The seal over a whole round, computed from the database in the canonical form of the bundle.

The canonical form is defined once, in votes/recount.py (the standalone verifier copied into
every export bundle): the application describes the round as the bundle's round.json does and
hands it over with the receipts and the ballots, so the seal recorded at close, the one
`votes verify` recomputes and the one the bundle's verify.py recomputes are the same. See
docs/AUDIT.md, "The seal".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from . import sealing
from .ballotbox import ballot_box, receipts, sealed_box, sealed_count, trackers
from .committee import by_group, committee_of, get_key, round_parameters
from .credentials import codes_issued, codes_used
from .groups import codes_issued_in, codes_used_in, deciding_label
from .models import Ballot, Receipt, Round, SealedBallot
from .recount import (
    ballot_line,
    canonical,
    canonical_csv,
    csv_header,
    group_ballots_csv,
    receipts_text,
    record_parts,
    round_seal,
    seal_parts_of_digests,
    sealed_box_text,
)
from .roster import roster_details
from .sealing import SealingError

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
        "deciding": deciding_label(round_),
        "groups": [
            {
                "number": group.number,
                "name": group.name,
                "status": group.status,
                "members": group.members,
                "summoned": group.summoned,
                "present": group.present,
                "paper_issued": group.paper_issued,
                "issued": group.issued,
                "collected": group.collected,
                "codes_issued": codes_issued_in(session, round_.id, group.number),
                "codes_used": codes_used_in(session, round_.id, group.number),
                "box_digest": box_digest(session, round_.id, group.number),
                "place": group.place,
                "held_on": group.held_on.isoformat() if group.held_on else None,
            }
            for group in round_.groups
        ],
    }


def group_ballots_file(session: Session, round_: Round) -> bytes:
    """Return every ballot of a round with its voter group (the seal's part "group_ballots")."""
    return group_ballots_csv(
        len(round_.items),
        [
            (number, status, marks)
            for number, status, marks in session.execute(
                select(Ballot.group_number, Ballot.status, Ballot.marks).where(
                    Ballot.round_id == round_.id
                )
            )
        ],
    )


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
    """Return the SHA-256 of the round's receipts.txt, reading the receipts in order.

    A round with sealed ballots has their receipts too (derived from the trackers): those are
    merged in memory, one short line per online ballot, as receipts_file does.
    """
    if sealed_count(session, round_.id):
        return hashlib.sha256(receipts_file(session, round_)).hexdigest()
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


def sealed_box_file(session: Session, round_id: int) -> bytes:
    """Return the list of a round's sealed ballots (tracker and digest of each, sorted)."""
    return sealed_box_text(
        (tracker.hex(), content) for tracker, content in sealed_box(session, round_id)
    )


def box_digest(session: Session, round_id: int, group: int | None = None) -> str | None:
    """Return the digest of a round's (or one voter group's) box of sealed ballots.

    None before the round opened (or without a committee key). Shown to auditors while the
    round is open, recorded when voting ends, printed on the minutes: its count and its
    trackers, sorted (docs/CRYPTO.md §7).
    """
    key = get_key(session, round_id)
    if key is None or key.parameters is None:
        return None
    return sealing.box_digest(round_parameters(key), trackers(session, round_id, group))


def public_record(
    session: Session, round_: Round, group: int | None = None
) -> dict[str, Any] | None:
    """Return the public record of a round's (or a group's) sealed ballots once decrypted.

    The library's record (votes/sealed/record.py): the round's parameters, the committee's
    public values and proofs, every sealed ballot, the encrypted totals, the partial
    decryptions with their proofs, and the totals; `verify_record` checks all of it. A round
    of several voter groups has one record per group (public_records); without `group`, a
    round of one group gives its group's record.
    """
    key = get_key(session, round_.id)
    if key is None or key.parameters is None:
        return None
    if group is None:
        if len(round_.groups) > 1:
            return None
        group = round_.groups[0].number if round_.groups else 1
    if str(group) not in by_group(key.totals):
        return None
    return sealing.record(
        round_parameters(key),
        committee_of(round_, key),
        [content for _tracker, content in sealed_box(session, round_.id, group)],
        [by_group(h.partial)[str(group)] for h in key.holders if str(group) in by_group(h.partial)],
        by_group(key.encrypted_totals).get(str(group)),
    )


def public_records(
    session: Session, round_: Round, hidden: frozenset[int] = frozenset()
) -> dict[str, Any] | None:
    """Return the public record of a round's sealed ballots as the bundle ships it.

    A round of one group: its record. Several groups: {"groups": [{number, hidden_small,
    record}]} for every group with sealed ballots; a group hidden as too small keeps its
    ballots, trackers, box digest and encrypted totals, but not its partial decryptions nor
    its totals (they would show its result alone).
    """
    if len(round_.groups) <= 1:
        return public_record(session, round_)
    key = get_key(session, round_.id)
    if key is None or key.parameters is None:
        return None
    entries = []
    for group in round_.groups:
        if not sealed_count(session, round_.id, group.number):
            continue
        record = public_record(session, round_, group.number)
        if record is None:
            return None
        if group.number in hidden:
            record = {
                name: value
                for name, value in record.items()
                if name not in ("partial_decryptions", "totals")
            }
        entries.append(
            {"number": group.number, "hidden_small": group.number in hidden, "record": record}
        )
    return {"groups": entries}


def sealed_files(session: Session, round_: Round) -> dict[str, bytes] | None:
    """Return the parts a round with a committee key adds to its seal, in canonical form.

    `sealed_box`: the sealed ballots, one "TRACKER SHA256" line each, sorted (in a round of
    several voter groups, "GROUP TRACKER SHA256"); `sealed_tally`: the public record without
    its ballots (those are the other part), one per group in a round of several.
    """
    key = get_key(session, round_.id)
    if key is None:
        return None
    widened = len(round_.groups) > 1
    try:
        record = public_records(session, round_)
    except SealingError as error:
        # The box no longer agrees with its decryption (a ballot deleted, say): the part is
        # recomputed as what it now is, and differs from the one sealed at close.
        record = {"broken": str(error)}
    if widened:
        box = sealed_box_text(
            (f"{number} {tracker.hex()}", content)
            for number, tracker, content in session.execute(
                select(SealedBallot.group_number, SealedBallot.tracker, SealedBallot.content)
                .where(SealedBallot.round_id == round_.id)
                .order_by(SealedBallot.tracker)
            )
        )
        if record is not None and "groups" in record:
            return {**record_parts(record), "sealed_box": box}
        tally: dict[str, Any] = record or {
            "public_key": key.public_key,
            "parameters": _json(key.parameters),
            "ballots": 0,
        }
        return {"sealed_box": box, "sealed_tally": canonical(tally).encode("utf-8")}
    tally = (
        {name: value for name, value in record.items() if name != "ballots"}
        if record is not None
        else {"public_key": key.public_key, "parameters": _json(key.parameters), "ballots": 0}
    )
    return {
        "sealed_box": sealed_box_file(session, round_.id),
        "sealed_tally": canonical(tally).encode("utf-8"),
    }


def _json(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def current_parts(session: Session, round_: Round) -> dict[str, str]:
    """Return the digest of each part of the round's seal, from the database as it is now.

    The receipts and the ballots are hashed as the database hands them over, sorted: closing
    or verifying a round of a million ballots holds a batch of them at a time, not all.
    """
    return seal_parts_of_digests(
        round_definition(session, round_),
        receipts_digest(session, round_),
        ballots_digest(session, round_),
        sealed_files(session, round_),
        group_ballots_file(session, round_) if len(round_.groups) > 1 else None,
    )


def current_seal(session: Session, round_: Round) -> tuple[str, dict[str, str]]:
    """Return the round's seal as the database gives it now, and the digests of its parts."""
    parts = current_parts(session, round_)
    return round_seal(parts), parts
