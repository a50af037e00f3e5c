"""Anonymity: nothing stored holds a choice, gives the order of casting or ties a code to a ballot.

Ballots are cast in a known order with distinct, recognisable marks. Then every way of reading
the tables back — every column, the engine's own row identifiers, the raw bytes of the SQLite
files — must give an order that is neither the casting order nor its reverse. With 40 ballots a
chance match has probability 2/40! ≈ 2.5e-48.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlalchemy import DateTime, Engine, inspect, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import Date, Time

from tests.factories import MEMBER_KEYS, add_committee
from votes import committee, rounds, sealed
from votes.ballotbox import receipts
from votes.db import write_session
from votes.models import Ballot, Credential, Receipt, Round, SealedBallot
from votes.roster import RosterEntry
from votes.sealed import group
from votes.voting import cast_ballot

if TYPE_CHECKING:
    from tests.conftest import VotesRunner

SECRET = "test-secret-key-0123456789abcdef"
BALLOTS = 40
ITEMS = 12
LEVELS = "HCL"

# Documented in docs/ANONYMITY.md and models.py; anything more needs a reason written down.
# A ballot and a code carry their voter group (issue 15): a small number the organizer chose,
# the same for every ballot of the group, with a constant default (1) for rounds of one group.
BALLOT_COLUMNS = {"round_id", "id", "group_number", "status", "marks"}
RECEIPT_COLUMNS = {"round_id", "receipt"}
CREDENTIAL_COLUMNS = {"id", "round_id", "group_number", "digest", "used"}
# A sealed ballot carries its voter group too, and nothing else new.
SEALED_COLUMNS = {"round_id", "tracker", "group_number", "content"}


def marks_of(n: int) -> str:
    """Return the n-th recognisable ballot: n written in base 3 with the letters H, C, L."""
    letters = []
    for _ in range(ITEMS):
        n, digit = divmod(n, 3)
        letters.append(LEVELS[digit])
    return "".join(letters)


# Distinct, and spread out so that neither the marks nor their sort order follow the cast order.
CAST = [marks_of((n * 7919 + 1234) % 3**ITEMS) for n in range(BALLOTS)]
assert len(set(CAST)) == BALLOTS
assert sorted(CAST) != CAST


class Cast:
    """A round whose ballots were cast in the order of CAST, each with a known code."""

    def __init__(self, round_id: int, codes: list[str], receipts: list[str]) -> None:
        self.round_id = round_id
        self.codes = codes
        self.receipts = receipts


def cast_in_order(
    sessions: sessionmaker[Session], votes: VotesRunner | None = None, ballots: list[str] = CAST
) -> Cast:
    """Create an open round, cast `ballots` in order (codes used out of issue order).

    Given the `votes` runner, close the round with `votes round close` afterwards.
    """
    with write_session(sessions) as session:
        body = rounds.add_body(session, "TU-A", "Tỉnh ủy A")
        roster = [
            RosterEntry(line=n + 2, name=f"Người thứ {n + 1}", position="Ủy viên")
            for n in range(ITEMS)
        ]
        round_ = rounds.create_round(
            session,
            body,
            year=2025,
            profile_id="tn-16kh-2012",
            title="Lấy phiếu",
            roster=roster,
            members=len(ballots),
        )
        add_committee(session, round_.id)
        codes = rounds.issue_round_codes(session, round_, len(ballots), SECRET)
        rounds.open_round(session, round_)
        round_id = round_.id
    codes = codes[1::2] + codes[::2]  # the order of casting is not the order of issue
    with sessions() as session:
        receipts = [
            cast_ballot(session, SECRET, code, list(marks), round_id=round_id)
            for code, marks in zip(codes, ballots, strict=True)
        ]
    if votes is not None:
        close_round(votes, round_id)
    return Cast(round_id, codes, receipts)


def close_round(votes: VotesRunner, round_id: int) -> None:
    """Close a round with `votes round close`, as an organizer does."""
    outcome = votes("round", "close", round_id)
    assert outcome.exit_code == 0, outcome.stderr


def assert_not_cast_order(found: list[str], how: str) -> None:
    """The ballots read back in some order: all of them, and not in the order of casting."""
    assert sorted(found) == sorted(CAST), how
    assert found != CAST, f"{how} gives the order of casting"
    assert found != CAST[::-1], f"{how} gives the reverse order of casting"


def engine_of(app: Flask) -> Engine:
    """Return the application's engine."""
    engine: Engine = app.extensions["votes.engine"]
    return engine


# ---------------------------------------------------------------------------- the schema


def test_ballot_receipt_and_credential_have_only_the_documented_columns(app: Flask) -> None:
    inspector = inspect(engine_of(app))
    for table, documented in (
        ("ballot", BALLOT_COLUMNS),
        ("receipt", RECEIPT_COLUMNS),
        ("credential", CREDENTIAL_COLUMNS),
        ("sealed_ballot", SEALED_COLUMNS),
    ):
        columns = inspector.get_columns(table)
        assert {column["name"] for column in columns} == documented, table
        for column in columns:
            # No time of any kind.
            assert not isinstance(column["type"], DateTime | Date | Time), (table, column)
            if table == "credential":
                continue  # its serial id follows the order of issue, which reveals nothing
            # Nothing the engine fills in by itself: a sequence, a default clock, an identity.
            # The group's constant default (1, a round of one group) says nothing of order.
            if column["name"] == "group_number":
                assert str(column.get("default")).strip("'()") == "1", (table, column)
            else:
                assert column.get("default") is None, (table, column)
            assert not column.get("identity"), (table, column)
        # The only foreign key leads to the round: never to a credential or a person.
        assert [fk["referred_table"] for fk in inspector.get_foreign_keys(table)] == ["round"]
    # The ballot's key is the round and 16 random bytes, not a counter.
    assert inspector.get_pk_constraint("ballot")["constrained_columns"] == ["round_id", "id"]
    assert inspector.get_pk_constraint("receipt")["constrained_columns"] == ["round_id", "receipt"]
    assert inspector.get_pk_constraint("sealed_ballot")["constrained_columns"] == [
        "round_id",
        "tracker",
    ]
    # No other table points at a ballot or a receipt either.
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            assert fk["referred_table"] not in (
                "ballot",
                "receipt",
                "credential",
                "sealed_ballot",
            ), (table, fk)


def test_no_trigger_or_sequence_touches_ballots(app: Flask, session: Session) -> None:
    if engine_of(app).dialect.name == "sqlite":
        triggers = session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
        assert list(triggers) == []
        return
    for table in ("ballot", "receipt", "credential"):
        triggers = session.scalar(
            text(
                "SELECT count(*) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                "AND NOT tgisinternal"
            ),
            {"t": table},
        )
        assert triggers == 0, table
    for table in ("ballot", "receipt"):
        sequences = session.scalar(
            text(
                "SELECT count(*) FROM pg_depend d JOIN pg_class s ON s.oid = d.objid "
                "WHERE s.relkind = 'S' AND d.refobjid = CAST(:t AS regclass)"
            ),
            {"t": table},
        )
        assert sequences == 0, table


def test_sqlite_ballot_tables_have_no_rowid(app: Flask, session: Session) -> None:
    if engine_of(app).dialect.name != "sqlite":
        pytest.skip("SQLite only")
    for table in ("ballot", "receipt", "sealed_ballot"):
        with pytest.raises(OperationalError, match="rowid"):
            session.execute(text(f"SELECT rowid FROM {table}"))
        session.rollback()
        sql = session.scalar(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table})
        assert "WITHOUT ROWID" in sql.upper()


# ---------------------------------------------------------------------------- the order of casting


def opened_in_order(session: Session, query: str, round_id: int) -> list[str]:
    """Read sealed ballots in the order a query gives, and open each with the test's key."""
    trackers = list(session.scalars(text(query), {"r": round_id}))
    opened = dict(
        zip(sorted_trackers(session, round_id), opened_by_tracker(session, round_id), strict=True)
    )
    return [opened[bytes(tracker)] for tracker in trackers]


def sorted_trackers(session: Session, round_id: int) -> list[bytes]:
    return sorted(
        session.scalars(select(SealedBallot.tracker).where(SealedBallot.round_id == round_id))
    )


def opened_by_tracker(session: Session, round_id: int) -> list[str]:
    """The marks of each sealed ballot, in tracker order (the test holds the committee's key)."""
    round_ = session.get(Round, round_id)
    assert round_ is not None
    key = committee.get_key(session, round_id)
    assert key is not None
    (member,) = MEMBER_KEYS[key.ceremony]
    found = []
    for content in session.scalars(
        select(SealedBallot.content)
        .where(SealedBallot.round_id == round_id)
        .order_by(SealedBallot.tracker)
    ):
        ballot = sealed.SealedBallot.from_bytes(content)
        packed = ""
        for row in ballot.rows:
            plain = [group.sub(c.beta, group.mult(member.secret, c.alpha)) for c in row.ciphertexts]
            packed += LEVELS[plain.index(group.GENERATOR)]
        found.append(packed)
    return found


@pytest.mark.parametrize("close", [False, True], ids=["open", "closed"])
def test_no_column_order_gives_the_order_of_casting(
    app: Flask, sessions: sessionmaker[Session], session: Session, votes: VotesRunner, close: bool
) -> None:
    """The sealed box read back in any column's order: never the order of casting.

    (Its content is encrypted anyway: this is about linking a receipt to a moment.) On
    PostgreSQL the heap keeps rows in the order written, which reveals when a ciphertext was
    stored, not what it says (test_postgresql_bookkeeping_reveals_no_choice).
    """
    cast = cast_in_order(sessions, votes if close else None)
    where = "WHERE round_id = :r"
    if engine_of(app).dialect.name == "sqlite":
        # A WITHOUT ROWID table is ordered by its key, the tracker: a hash.
        assert_not_cast_order(
            opened_in_order(session, f"SELECT tracker FROM sealed_ballot {where}", cast.round_id),
            "the table's natural order",
        )
    for column in sorted(SEALED_COLUMNS - {"round_id"}):
        distinct = session.execute(
            text(f"SELECT COUNT(DISTINCT {column}) FROM sealed_ballot {where}"),
            {"r": cast.round_id},
        ).scalar_one()
        if distinct == 1:
            # One value for the whole round (the group of a round of one group): ORDER BY it
            # is the table's natural order, which on PostgreSQL is the heap's (see above).
            continue
        for direction in ("ASC", "DESC"):
            query = f"SELECT tracker FROM sealed_ballot {where} ORDER BY {column} {direction}"
            assert_not_cast_order(
                opened_in_order(session, query, cast.round_id), f"ORDER BY {column} {direction}"
            )
    # Nothing readable was stored: no plaintext ballot at all.
    assert not session.scalar(select(Ballot.marks).where(Ballot.round_id == cast.round_id))


def test_receipts_do_not_keep_the_order_of_casting(
    app: Flask, sessions: sessionmaker[Session], session: Session, votes: VotesRunner
) -> None:
    cast = cast_in_order(sessions, votes)
    position = {receipt: n for n, receipt in enumerate(cast.receipts)}
    found = [position[r] for r in receipts(session, cast.round_id)]
    assert sorted(found) == list(range(BALLOTS))
    assert found not in (list(range(BALLOTS)), list(range(BALLOTS))[::-1])
    # No receipt is stored apart from its sealed ballot.
    assert not list(session.scalars(select(Receipt.receipt)))


def test_postgresql_bookkeeping_reveals_no_choice(
    app: Flask, sessions: sessionmaker[Session], session: Session, votes: VotesRunner
) -> None:
    """PostgreSQL's ctid and xmin follow the casting; what they lead to is a ciphertext.

    Before sealing, the close rewrote the box to hide this order; now the order leads to no
    choice, and the close rewrites nothing (docs/ANONYMITY.md).
    """
    if engine_of(app).dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    cast = cast_in_order(sessions, votes)
    by_ctid = f"SELECT tracker FROM sealed_ballot WHERE round_id = {cast.round_id} ORDER BY ctid"
    # The engine's order is the casting order (the control)...
    assert opened_in_order(session, by_ctid, cast.round_id) == CAST
    # ...and no row of any table holds a ballot's marks.
    for table in ("sealed_ballot", "credential", "ballot", "receipt"):
        rows = session.execute(text(f"SELECT * FROM {table}")).all()
        stored = b"".join(
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
            for row in rows
            for v in row
        )
        assert not any(marks.encode() in stored for marks in CAST), table


def test_sqlite_has_no_rowid_to_order_by(
    app: Flask, sessions: sessionmaker[Session], session: Session
) -> None:
    if engine_of(app).dialect.name != "sqlite":
        pytest.skip("SQLite only")
    cast = cast_in_order(sessions)
    for name in ("rowid", "_rowid_", "oid"):
        with pytest.raises((OperationalError, ProgrammingError)):
            session.execute(text(f"SELECT tracker FROM sealed_ballot ORDER BY {name}"))
        session.rollback()
    assert session.scalar(
        select(SealedBallot.tracker).where(SealedBallot.round_id == cast.round_id)
    )


# ------------------------------------------------------------------------ the code and the receipt


def test_credentials_say_only_used_and_not_which_ballot(
    sessions: sessionmaker[Session], session: Session, votes: VotesRunner
) -> None:
    cast = cast_in_order(sessions, votes)
    rows = session.execute(
        select(Credential.id, Credential.used)
        .where(Credential.round_id == cast.round_id)
        .order_by(Credential.id)
    ).all()
    assert [used for _, used in rows] == [True] * BALLOTS
    # Nothing in a credential row appears in any sealed ballot.
    ballot_bytes = b"".join(
        bytes(value) if isinstance(value, bytes) else str(value).encode()
        for row in session.execute(select(SealedBallot.__table__)).all()
        for value in row
    )
    for digest in session.scalars(select(Credential.digest)):
        assert digest not in ballot_bytes
    for code in cast.codes:
        assert code.encode() not in ballot_bytes
        assert code.replace("-", "").encode() not in ballot_bytes


def test_the_receipt_is_not_a_function_of_the_vote_or_the_code(
    sessions: sessionmaker[Session], session: Session
) -> None:
    with write_session(sessions) as writer:
        body = rounds.add_body(writer, "TU-R", "Tỉnh ủy R")
        round_ = rounds.create_round(
            writer,
            body,
            year=2025,
            profile_id="tn-16kh-2012",
            title="Lấy phiếu",
            members=10,
            roster=[RosterEntry(line=2, name="Ngô Thị Tám", position="Ủy viên")],
        )
        add_committee(writer, round_.id)
        codes = rounds.issue_round_codes(writer, round_, 6, SECRET)
        rounds.open_round(writer, round_)
        round_id = round_.id
    receipts_given = [
        cast_ballot(session, SECRET, code, ["H"], round_id=round_id) for code in codes
    ]
    # Six identical ballots, six different receipts: each encryption draws fresh randomness,
    # so the tracker (and the receipt taken from it) is not a function of the vote.
    assert len(set(receipts_given)) == 6
    for code, receipt in zip(codes, receipts_given, strict=True):
        assert receipt.replace(" ", "") != code.replace("-", "")
    assert sorted(receipts(session, round_id)) == sorted(receipts_given)
    assert not list(session.scalars(select(Receipt.receipt)))


# ---------------------------------------------------------------------------- the files


def copies_in(data: bytes, ballots: list[str] = CAST) -> int:
    """Count the copies of ballots' packed marks in raw bytes."""
    return sum(data.count(marks.encode()) for marks in ballots)


def test_sqlite_files_hold_no_ballot_at_all(
    app: Flask, sessions: sessionmaker[Session], votes: VotesRunner, database_url: str
) -> None:
    """While the round is open and after close: no ballot's marks in the database file, its WAL
    or its shared memory (before sealing the WAL held one page image per cast, in order)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    path = Path(database_url.removeprefix("sqlite:///"))
    cast = cast_in_order(sessions)
    assert sum(copies_in(f.read_bytes()) for f in path.parent.glob(path.name + "*")) == 0
    close_round(votes, cast.round_id)
    assert sum(copies_in(f.read_bytes()) for f in path.parent.glob(path.name + "*")) == 0


def test_postgresql_pages_hold_no_ballot_at_all(
    app: Flask, sessions: sessionmaker[Session], votes: VotesRunner
) -> None:
    """The heap pages of the sealed box, read with pageinspect: ciphertexts, no marks."""
    engine = engine_of(app)
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with engine.connect() as connection:
        try:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            connection.commit()
        except (OperationalError, ProgrammingError):
            pytest.skip("the pageinspect extension is not available")
    cast = cast_in_order(sessions, votes)
    with engine.connect() as connection:
        data = b""
        for table in ("sealed_ballot", "ballot", "credential"):
            pages = connection.scalar(text(f"SELECT pg_relation_size('{table}') / 8192"))
            data += b"".join(
                bytes(connection.scalar(text(f"SELECT get_raw_page('{table}', :n)"), {"n": n}))
                for n in range(pages)
            )
    assert copies_in(data) == 0
    assert cast.round_id
