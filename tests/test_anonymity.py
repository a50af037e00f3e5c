"""Anonymity: nothing stored recovers the order of casting or links a code to its ballot.

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
from sqlalchemy import DateTime, Engine, event, inspect, select, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import Date, Time

from tests.factories import add_committee
from votes import rounds
from votes.db import write_session
from votes.models import Ballot, Credential, Receipt
from votes.roster import RosterEntry
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
    # No other table points at a ballot or a receipt either.
    for table in inspector.get_table_names():
        for fk in inspector.get_foreign_keys(table):
            assert fk["referred_table"] not in ("ballot", "receipt", "credential"), (table, fk)


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
    for table in ("ballot", "receipt"):
        with pytest.raises(OperationalError, match="rowid"):
            session.execute(text(f"SELECT rowid FROM {table}"))
        session.rollback()
        sql = session.scalar(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table})
        assert "WITHOUT ROWID" in sql.upper()


# ---------------------------------------------------------------------------- the order of casting


@pytest.mark.parametrize("close", [False, True], ids=["open", "closed"])
def test_no_column_order_gives_the_order_of_casting(
    app: Flask, sessions: sessionmaker[Session], session: Session, votes: VotesRunner, close: bool
) -> None:
    if not close and engine_of(app).dialect.name == "postgresql":
        # While a round is open PostgreSQL's heap keeps rows in the order they were written,
        # so a scan (and a tie in ORDER BY) may follow the casting order: closing removes it
        # (test_postgresql_ctid_and_xmin_reveal_nothing_after_close). SQLite's WITHOUT ROWID
        # table is ordered by the random key from the first ballot on.
        pytest.skip("SQLite only while the round is open")
    cast = cast_in_order(sessions, votes if close else None)
    where = "WHERE round_id = :r"
    assert_not_cast_order(
        list(session.scalars(text(f"SELECT marks FROM ballot {where}"), {"r": cast.round_id})),
        "the table's natural order",
    )
    for column in sorted(BALLOT_COLUMNS):
        for direction in ("ASC", "DESC"):
            found = list(
                session.scalars(
                    text(f"SELECT marks FROM ballot {where} ORDER BY {column} {direction}"),
                    {"r": cast.round_id},
                )
            )
            assert_not_cast_order(found, f"ORDER BY {column} {direction}")
    # Every ballot is valid: `status` cannot give any order of its own, only the engine's.
    statuses = session.scalars(select(Ballot.status).where(Ballot.round_id == cast.round_id))
    assert set(statuses) == {"valid"}


def test_receipts_do_not_keep_the_order_of_casting(
    app: Flask, sessions: sessionmaker[Session], session: Session, votes: VotesRunner
) -> None:
    cast = cast_in_order(sessions, votes)
    position = {receipt: n for n, receipt in enumerate(cast.receipts)}
    queries = [
        "SELECT receipt FROM receipt WHERE round_id = :r",
        "SELECT receipt FROM receipt WHERE round_id = :r ORDER BY receipt",
    ]
    if engine_of(app).dialect.name == "postgresql":
        queries.append("SELECT receipt FROM receipt WHERE round_id = :r ORDER BY ctid")
    for query in queries:
        found = [position[r] for r in session.scalars(text(query), {"r": cast.round_id})]
        assert sorted(found) == list(range(BALLOTS)), query
        assert found not in (list(range(BALLOTS)), list(range(BALLOTS))[::-1]), query


def test_postgresql_ctid_and_xmin_reveal_nothing_after_close(
    app: Flask, sessions: sessionmaker[Session], session: Session, votes: VotesRunner
) -> None:
    if engine_of(app).dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    cast = cast_in_order(sessions)
    by_ctid = f"SELECT marks FROM ballot WHERE round_id = {cast.round_id} ORDER BY ctid"
    by_xmin = (
        f"SELECT marks FROM ballot WHERE round_id = {cast.round_id} "
        "ORDER BY CAST(CAST(xmin AS text) AS bigint), ctid"
    )
    # The control: while the round is open the engine's bookkeeping does follow the casting
    # order. This is the leak that closing the round must remove.
    assert list(session.scalars(text(by_ctid))) == CAST
    assert list(session.scalars(text(by_xmin))) == CAST
    session.rollback()

    close_round(votes, cast.round_id)
    assert_not_cast_order(list(session.scalars(text(by_ctid))), "ORDER BY ctid")
    assert_not_cast_order(list(session.scalars(text(by_xmin))), "ORDER BY xmin")
    # One transaction wrote every ballot, receipt and credential of the round: xmin cannot join
    # a credential to the ballot cast with it.
    xmins = {
        table: set(
            session.scalars(
                text(f"SELECT CAST(xmin AS text) FROM {table} WHERE round_id = :r"),
                {"r": cast.round_id},
            )
        )
        for table in ("ballot", "receipt", "credential")
    }
    assert len(xmins["ballot"]) == 1
    assert xmins["receipt"] == xmins["ballot"]
    assert xmins["credential"] == xmins["ballot"]


def test_sqlite_has_no_rowid_to_order_by(
    app: Flask, sessions: sessionmaker[Session], session: Session
) -> None:
    if engine_of(app).dialect.name != "sqlite":
        pytest.skip("SQLite only")
    cast = cast_in_order(sessions)
    for name in ("rowid", "_rowid_", "oid"):
        with pytest.raises((OperationalError, ProgrammingError)):
            session.execute(text(f"SELECT marks FROM ballot ORDER BY {name}"))
        session.rollback()
    assert session.scalar(select(Ballot.marks).where(Ballot.round_id == cast.round_id))


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
    # Nothing in a credential row appears in any ballot or receipt row.
    ballot_bytes = b"".join(
        bytes(value) if isinstance(value, bytes) else str(value).encode()
        for row in session.execute(select(Ballot.__table__)).all()
        for value in row
    )
    for digest in session.scalars(select(Credential.digest)):
        assert digest not in ballot_bytes
    for code in cast.codes:
        assert code.encode() not in ballot_bytes
        assert code.replace("-", "").encode() not in ballot_bytes


def test_the_receipt_is_random_and_not_stored_with_the_ballot(
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
    receipts = [cast_ballot(session, SECRET, code, ["H"], round_id=round_id) for code in codes]
    # Six identical ballots, six different receipts: the receipt is not a function of the vote.
    assert len(set(receipts)) == 6
    for code, receipt in zip(codes, receipts, strict=True):
        assert receipt.replace("-", "") != code.replace("-", "")
    stored = " ".join(
        str(value) for row in session.execute(select(Ballot.__table__)).all() for value in row
    )
    for receipt in receipts:
        assert receipt not in stored
        assert receipt.replace("-", "") not in stored
    assert sorted(session.scalars(select(Receipt.receipt))) == sorted(receipts)


# ---------------------------------------------------------------------------- the SQLite files


def file_order(data: bytes, ballots: list[str] = CAST) -> tuple[list[str], int]:
    """Return the ballots found in raw bytes by offset, and the number of copies found."""
    offsets: dict[str, int] = {}
    copies = 0
    for marks in ballots:
        needle = marks.encode()
        at = data.find(needle)
        if at >= 0:
            offsets[marks] = at
        while at >= 0:
            copies += 1
            at = data.find(needle, at + 1)
    return sorted(offsets, key=offsets.__getitem__), copies


@pytest.mark.parametrize("autocheckpoint", [1000, 4], ids=["default", "frequent-checkpoints"])
def test_sqlite_files_do_not_keep_the_order_of_casting(
    app: Flask,
    sessions: sessionmaker[Session],
    votes: VotesRunner,
    database_url: str,
    autocheckpoint: int,
) -> None:
    """After close, the database file, its WAL and its shared memory hold one copy of each ballot,
    in an order that is not the order of casting.

    While the round is open the WAL holds one page image per cast, in order, each beside the
    credential it marked; with frequent checkpoints those pages also reach the database file.
    """
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    engine = engine_of(app)
    engine.dispose()

    @event.listens_for(engine, "connect")
    def _checkpoint_often(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")

    path = Path(database_url.removeprefix("sqlite:///"))
    cast = cast_in_order(sessions)
    # The control: while the round is open the files do give the order away. With the default
    # setting the WAL holds every cast in order; with frequent checkpoints the WAL is reused and
    # the ballots reach the database file itself.
    during = {f.name: file_order(f.read_bytes())[0] for f in path.parent.glob(path.name + "*")}
    if autocheckpoint == 1000:
        assert during[path.name + "-wal"] == CAST
    else:
        assert len(during[path.name]) > BALLOTS // 2
    close_round(votes, cast.round_id)
    copies = 0
    for file in sorted(path.parent.glob(path.name + "*")):
        found, count = file_order(file.read_bytes())
        copies += count
        if found:
            assert_not_cast_order(found, f"the bytes of {file.name}")
    assert copies == BALLOTS


def test_postgresql_pages_do_not_keep_the_order_of_casting(
    app: Flask, sessions: sessionmaker[Session], votes: VotesRunner
) -> None:
    """After close, the heap pages of the ballot table hold one copy of each ballot, shuffled.

    Read with pageinspect (what someone with the table files sees). 300 ballots fill a few pages,
    so the pages written while the round was open are not all reused by the rewrite.
    """
    engine = engine_of(app)
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    with engine.connect() as connection:
        try:
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            connection.commit()
        except (OperationalError, ProgrammingError):
            pytest.skip("the pageinspect extension is not available")
    many = [marks_of((n * 7919 + 1234) % 3**ITEMS) for n in range(300)]
    cast = cast_in_order(sessions, votes, ballots=many)
    with engine.connect() as connection:
        pages = connection.scalar(text("SELECT pg_relation_size('ballot') / 8192"))
        data = b"".join(
            bytes(connection.scalar(text("SELECT get_raw_page('ballot', :n)"), {"n": n}))
            for n in range(pages)
        )
    found, copies = file_order(data, many)
    assert sorted(found) == sorted(many)
    assert found not in (many, many[::-1])
    assert copies == len(many), "old copies of the ballots are still in the table's pages"
    assert cast.round_id
