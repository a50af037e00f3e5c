"""Close wins cleanly: a paper import and a close are ordered by one lock, on both databases,
and a close that committed is never reported as an error.

Issue 12, "Why" 2: on PostgreSQL a paper import started before `votes round close` landed in
the closed round (1 500 000 ballots in the box, 0 collected). "Why" 4: with a
statement_timeout and a concurrent reader, close printed "Round 1 is closed." and then
"Unexpected error (InvalidRequestError)", exit 2.

The races are made deterministic as in tests/test_concurrency.py: one side is held at a
chosen point (a patched function waits for an event) until the other is seen waiting for the
lock (PostgreSQL: pg_locks; SQLite: its single writer makes the order certain anyway).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import VotesRunner
from tests.factories import add_test_body, paper_csv, person
from votes import operations, rounds, voting
from votes.ballotbox import ballots_collected
from votes.db import make_engine
from votes.errors import WrongState
from votes.models import Ballot, Credential, Receipt, Round
from votes.verify import verify_round

pytestmark = pytest.mark.slow

FIRST = paper_csv(["HC"])  # one ballot, imported before the race
RACED = paper_csv(["HH", "CC", "LL", "HL", "CH"])  # five ballots, imported during it


def _open_round(sessions: sessionmaker[Session]) -> int:
    """An open round with 10 paper ballots handed out and one already in the box."""
    with sessions() as session:
        body = add_test_body(session)
        task = operations.Work(session, "setup")
        round_id = operations.create_round(
            task,
            body_code=body.code,
            year=2025,
            profile_id="nq96-2023",
            title="Lấy phiếu",
            roster=[person("A"), person("B")],
            members=10,
            summoned=10,
            present=10,
        ).id
        operations.open_round(task, round_id)
        operations.import_paper_ballots(task, round_id, FIRST, issued=10)
        session.commit()
    return round_id


def _import(sessions: sessionmaker[Session], round_id: int) -> str:
    """Import the raced file (the number issued is already recorded: no change to the round)."""
    try:
        with operations.work(sessions, "clerk") as work:
            operations.import_paper_ballots(work, round_id, RACED)
    except WrongState as refused:
        return refused.msgid
    return "imported"


def _close(sessions: sessionmaker[Session], round_id: int) -> None:
    with operations.work(sessions, "chair") as work:
        operations.close_round(work, round_id)


class Hold:
    """Patch a function so that its first call waits (holding whatever its caller holds)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()
        original = getattr(owner, name)

        def held(*args: Any, **kwargs: Any) -> Any:
            if not self.reached.is_set():
                self.reached.set()
                assert self.release.wait(timeout=60)
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, held)


def _waiting_for_a_lock(session: Session) -> Callable[[], bool]:
    """Return a probe: is another session of this database waiting for a lock?"""
    if session.get_bind().dialect.name != "postgresql":
        # SQLite: a second writer waits in BEGIN IMMEDIATE, invisible from here; give it time.
        started = time.monotonic()
        return lambda: time.monotonic() - started > 0.5
    query = text(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid IN "
        "(SELECT pid FROM pg_stat_activity WHERE datname = current_database())"
    )

    def probe() -> bool:
        session.rollback()
        return bool(session.scalar(query))

    return probe


def _wait(condition: Callable[[], bool], *, also: Future[Any] | None = None) -> None:
    for _ in range(1000):
        if condition() or (also is not None and also.done()):
            return
        time.sleep(0.01)
    raise AssertionError("timed out")


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


def _box_agrees(sessions: sessionmaker[Session], round_id: int) -> tuple[int, int]:
    with sessions() as session:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        assert round_.status == "closed"
        report = verify_round(session, round_)
        assert report.ok, [str(p) for p in report.problems]
        return ballots_collected(session, round_id), round_.collected or 0


def test_an_import_holding_the_round_is_counted_by_the_close(
    sessions: sessionmaker[Session],
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    pool: ThreadPoolExecutor,
) -> None:
    """The import took the round first: the close waits for it and counts its ballots."""
    round_id = _open_round(sessions)
    hold = Hold(monkeypatch, voting, "insert_ballots")  # the import holds the round here
    imported = pool.submit(_import, sessions, round_id)
    assert hold.reached.wait(timeout=60)
    closed = pool.submit(_close, sessions, round_id)
    _wait(_waiting_for_a_lock(session), also=closed)
    assert not closed.done(), "the close did not wait for the import in progress"
    hold.release.set()
    assert imported.result(timeout=60) == "imported"
    closed.result(timeout=60)
    assert _box_agrees(sessions, round_id) == (6, 6)


def test_an_import_that_meets_a_close_is_refused_or_counted(
    sessions: sessionmaker[Session],
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    pool: ThreadPoolExecutor,
) -> None:
    """The import was still reading its file when the close came: never half of each.

    PostgreSQL: the file is read before the round is locked, so the close goes first and the
    import then finds the round closed. SQLite: the import's write transaction began first,
    so the close waits and counts it. Either way the box and the count agree.
    """
    round_id = _open_round(sessions)
    hold = Hold(monkeypatch, voting, "parse_paper_ballots")  # the import is reading its file
    imported = pool.submit(_import, sessions, round_id)
    assert hold.reached.wait(timeout=60)
    closed = pool.submit(_close, sessions, round_id)
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        closed.result(timeout=60)  # nothing holds the round: the close commits
    else:
        _wait(_waiting_for_a_lock(session))
    hold.release.set()
    outcome = imported.result(timeout=60)
    closed.result(timeout=60)
    in_box, collected = _box_agrees(sessions, round_id)
    if postgresql:
        assert outcome.startswith("Paper ballots can only be entered while the round is open")
        assert (in_box, collected) == (1, 1)
    else:
        assert outcome == "imported"
        assert (in_box, collected) == (6, 6)


# ---------------------------------------------------------------------------- after the commit


def _fail_compaction(engine: Any) -> Callable[[], None]:
    """Make the engine refuse the compaction statements; return how to stop."""

    def refuse(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "wal_checkpoint" in statement or "VACUUM" in statement:
            raise OperationalError(statement, {}, Exception("canceling statement due to timeout"))

    event.listen(engine, "before_cursor_execute", refuse)
    return lambda: event.remove(engine, "before_cursor_execute", refuse)


def _assert_closed_without_error(out: Any, round_id: int) -> None:
    assert out.exit_code == 0, out.stdout + out.stderr
    assert f"Đợt {round_id} đã kết thúc" in out.stdout
    for word in ("Unexpected", "bất ngờ", "không lường trước", "Lỗi", "Traceback"):
        assert word not in out.stderr


def test_a_failed_compaction_after_the_close_is_logged_not_raised(
    app: Flask,
    sessions: sessionmaker[Session],
    votes: VotesRunner,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The close committed: whatever the compaction meets afterwards is a warning in the log.

    Only a round whose online ballots were cast before sealing is compacted at close (a sealed
    box has nothing to hide from the engine's files): one such cast is written here as the old
    cast wrote it, a code marked used, a ballot in the clear and a random receipt.
    """
    stop = _fail_compaction(app.extensions["votes.engine"])
    round_id = _open_round(sessions)
    with sessions() as session:
        session.add(Credential(round_id=round_id, digest=secrets.token_bytes(32), used=True))
        session.add(Ballot(round_id=round_id, status="valid", marks="HC"))
        session.add(Receipt(round_id=round_id, receipt="ACDE-FGHJ-KMNP"))
        operations.Work(session, "setup").log(
            "codes_issued", round_id=round_id, details={"count": 1}
        )
        session.commit()
    with caplog.at_level(logging.WARNING, logger="votes.rounds"):
        out = votes("round", "close", round_id)
    _assert_closed_without_error(out, round_id)
    assert "votes db compact" in caplog.text
    with sessions() as session:
        assert rounds.get_round(session, round_id).status == "closed"
    assert votes("verify", round_id).exit_code == 0
    out = votes("db", "compact")
    assert out.exit_code == 1
    assert "Lỗi" in out.stderr
    stop()
    assert votes("db", "compact").exit_code == 0


def test_close_with_a_statement_timeout_and_a_reader_reports_success(
    app: Flask,
    sessions: sessionmaker[Session],
    database_url: str,
    votes: VotesRunner,
) -> None:
    """docs/DEPLOY.md's statement_timeout, and a reader holding the ballot table open."""
    round_id = _open_round(sessions)
    engine = app.extensions["votes.engine"]
    postgresql = engine.dialect.name == "postgresql"
    if postgresql:
        admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(
                f"ALTER DATABASE \"{engine.url.database}\" SET statement_timeout = '1s'"
            )
        admin.dispose()
        engine.dispose()  # new connections take the setting
    reader = make_engine(database_url)
    try:
        with reader.connect() as connection:
            connection.execute(text("SELECT count(*) FROM ballot"))  # held until the end
            out = votes("round", "close", round_id)
    finally:
        reader.dispose()
    _assert_closed_without_error(out, round_id)
    assert votes("verify", round_id).exit_code == 0
