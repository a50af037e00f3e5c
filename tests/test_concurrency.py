"""Casting under contention, with real threads and real processes, on SQLite and PostgreSQL.

Each thread has its own session from the application's factory; each process builds its own
engine on the same database URL, as gunicorn workers do.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import add_committee, opened_ballots
from votes import credentials, rounds, voting
from votes.ballotbox import receipts as stored_receipts
from votes.db import WRITE, make_engine, make_sessionmaker, write_session
from votes.models import Ballot, Credential, Round
from votes.roster import RosterEntry
from votes.voting import CastRefused, cast_ballot

SECRET = "test-secret-key-0123456789abcdef"
THREADS = 16
PROCESSES = 4
LEVELS = "HCL"

pytestmark = pytest.mark.slow


def make_round(session: Session, codes: int, items: int = 4) -> tuple[int, list[str]]:
    """Create an open round with `codes` voter codes; commit and return its id and the codes."""
    body = rounds.add_body(session, "TU-C", "Tỉnh ủy C")
    roster = [
        RosterEntry(line=n + 2, name=f"Phạm Văn {chr(65 + n)}", position="Ủy viên BTV")
        for n in range(items)
    ]
    round_ = rounds.create_round(
        session,
        body,
        year=2025,
        profile_id="tn-16kh-2012",
        title="Lấy phiếu",
        roster=roster,
        members=codes,
    )
    add_committee(session, round_.id)
    issued = rounds.issue_round_codes(session, round_, codes, SECRET)
    rounds.open_round(session, round_)
    session.commit()
    return round_.id, issued


def attempt(
    factory: Callable[[], Session], code: str, marks: str, round_id: int
) -> tuple[str, str]:
    """Cast once in a session of its own; return ("receipt", r) or ("refused", reason)."""
    with factory() as session:
        try:
            return "receipt", cast_ballot(session, SECRET, code, list(marks), round_id=round_id)
        except CastRefused as refused:
            return "refused", refused.reason


def in_threads(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run jobs on real threads that all start together; return their results in order."""
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], Any]) -> Any:
        start.wait(timeout=30)
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = [pool.submit(run, job) for job in jobs]
        return [future.result(timeout=120) for future in futures]


def box(session: Session, round_id: int) -> tuple[list[str], list[str], int]:
    """Return the marks in the box, the stored receipts and the number of codes used."""
    session.rollback()
    # The ballots are sealed: the test opens each with its committee's key; nothing readable
    # is stored.
    assert not session.scalar(select(func.count()).where(Ballot.round_id == round_id))
    ballots = opened_ballots(session, round_id)
    receipts = stored_receipts(session, round_id)
    used = session.scalar(
        select(func.count()).where(Credential.round_id == round_id, Credential.used)
    )
    session.rollback()
    return ballots, receipts, used or 0


# ---------------------------------------------------------------------------- processes


def _process_caster(
    url: str, jobs: list[tuple[str, str]], round_id: int, start: Any, results: Any
) -> None:
    """Child process: build an engine of its own, wait for the others, cast every job."""
    engine = make_engine(url)
    try:
        factory = make_sessionmaker(engine)
        start.wait(timeout=60)
        for code, marks in jobs:
            try:
                results.put((code, attempt(factory, code, marks, round_id)))
            except Exception as exc:
                results.put((code, ("error", f"{type(exc).__name__}: {exc}")))
    finally:
        engine.dispose()


def in_processes(url: str, round_id: int, jobs_per_process: list[list[tuple[str, str]]]) -> list:
    """Run casters in spawned processes that start together; return every (code, outcome)."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(len(jobs_per_process))
    results = context.Queue()
    children = [
        context.Process(target=_process_caster, args=(url, jobs, round_id, start, results))
        for jobs in jobs_per_process
    ]
    for child in children:
        child.start()
    expected = sum(len(jobs) for jobs in jobs_per_process)
    outcomes = [results.get(timeout=120) for _ in range(expected)]
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    return outcomes


# ---------------------------------------------------------------------------- one code, many casts


def test_one_code_cast_from_many_threads_is_counted_once(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    round_id, codes = make_round(session, codes=3)
    # Every thread casts a different ballot, so the stored one tells which thread won.
    marks = [f"{LEVELS[n % 3]}{LEVELS[n // 3 % 3]}{LEVELS[n // 9 % 3]}H" for n in range(THREADS)]
    outcomes = in_threads([lambda m=m: attempt(sessions, codes[0], m, round_id) for m in marks])
    kinds = Counter(kind for kind, _ in outcomes)
    assert kinds == {"receipt": 1, "refused": THREADS - 1}
    assert {value for kind, value in outcomes if kind == "refused"} == {"used"}
    winner = next(n for n, (kind, _) in enumerate(outcomes) if kind == "receipt")
    ballots, receipts, used = box(session, round_id)
    assert ballots == [marks[winner]]
    assert receipts == [outcomes[winner][1]]
    assert used == 1


# ---------------------------------------------------------------------------- many codes at once


def test_many_codes_cast_from_threads_are_each_counted_once(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    per_thread = 8
    round_id, codes = make_round(session, codes=THREADS * per_thread)
    # Code n votes LEVELS[n % 3] on every item: the tally of the box is known in advance.
    plan = [(code, LEVELS[n % 3] * 4) for n, code in enumerate(codes)]
    batches = [plan[t::THREADS] for t in range(THREADS)]
    outcomes = [
        outcome
        for batch in in_threads(
            [
                lambda batch=batch: [attempt(sessions, code, m, round_id) for code, m in batch]
                for batch in batches
            ]
        )
        for outcome in batch
    ]
    assert all(kind == "receipt" for kind, _ in outcomes), outcomes
    returned = [value for _, value in outcomes]
    ballots, receipts, used = box(session, round_id)
    assert len(set(returned)) == len(codes)
    assert sorted(receipts) == sorted(returned)
    assert used == len(ballots) == len(codes)
    assert Counter(ballots) == Counter(m for _, m in plan)


def test_codes_cast_from_many_processes_are_each_counted_once(
    session: Session, database_url: str
) -> None:
    """Spawned processes first all cast the same code at once, then each casts codes of its own."""
    per_process = 10
    round_id, codes = make_round(session, codes=1 + PROCESSES * per_process)
    shared, own = codes[0], codes[1:]
    contested = ["HHHH", "CCCC", "LLLL", "HCLH", "LCHC", "CHLL", "HLCC", "LHCH"][:PROCESSES]
    plan = [(code, LEVELS[n % 3] + LEVELS[(n + 1) % 3] * 3) for n, code in enumerate(own)]
    jobs = [[(shared, contested[p]), *plan[p::PROCESSES]] for p in range(PROCESSES)]
    outcomes = in_processes(database_url, round_id, jobs)
    assert not [outcome for outcome in outcomes if outcome[1][0] == "error"], outcomes

    # The shared code: exactly one ballot and one receipt, every other attempt refused as used.
    race = [outcome for code, outcome in outcomes if code == shared]
    assert Counter(kind for kind, _ in race) == {"receipt": 1, "refused": PROCESSES - 1}, race
    assert {value for kind, value in race if kind == "refused"} == {"used"}
    # Every other code: counted once.
    rest = [outcome for code, outcome in outcomes if code != shared]
    assert len(rest) == len(own)
    assert all(kind == "receipt" for kind, _ in rest), rest

    returned = [value for _, (kind, value) in outcomes if kind == "receipt"]
    ballots, receipts, used = box(session, round_id)
    assert len(set(returned)) == len(codes)
    assert sorted(receipts) == sorted(returned)
    assert used == len(ballots) == len(codes)
    won = Counter(ballots) - Counter(m for _, m in plan)
    assert sum(won.values()) == 1
    assert next(iter(won)) in contested


def test_every_code_raced_by_two_threads_is_counted_once(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    """Pairs of threads fight over each code: one ballot per code, never two, never none."""
    round_id, codes = make_round(session, codes=40)
    jobs = [
        lambda batch=batch: [attempt(sessions, code, "HCLH", round_id) for code in batch]
        for batch in (codes, codes[::-1], codes[1::2] + codes[::2], codes)
    ]
    outcomes = [outcome for batch in in_threads(jobs) for outcome in batch]
    assert Counter(kind for kind, _ in outcomes) == {"receipt": 40, "refused": 120}
    assert {value for kind, value in outcomes if kind == "refused"} == {"used"}
    ballots, receipts, used = box(session, round_id)
    assert len(ballots) == used == 40
    assert sorted(receipts) == sorted(value for kind, value in outcomes if kind == "receipt")


# ---------------------------------------------------------------------------- close while casting


def test_closing_while_ballots_are_cast_counts_every_receipt(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    """Every cast that returned a receipt is in the box; the frozen count equals the box."""
    casters = 8
    # Enough codes that casting outlasts the close, which on PostgreSQL waits for a moment when
    # no cast holds its share lock on the round.
    round_id, codes = make_round(session, codes=casters * 100)
    receipts_so_far = threading.Semaphore(0)

    def cast_all(batch: list[str]) -> list[tuple[str, str]]:
        outcomes = []
        for code in batch:
            outcome = attempt(sessions, code, "LLCH", round_id)
            outcomes.append(outcome)
            if outcome[0] == "receipt":
                receipts_so_far.release()
        return outcomes

    def close_midway() -> list[tuple[str, str]]:
        # Close once some ballots are in, while the other threads keep casting.
        for _ in range(30):
            assert receipts_so_far.acquire(timeout=60)
        with write_session(sessions) as closing:
            rounds.close_round(closing, rounds.get_round(closing, round_id))
        return []

    jobs: list[Callable[[], list[tuple[str, str]]]] = [
        lambda batch=batch: cast_all(batch) for batch in (codes[c::casters] for c in range(casters))
    ]
    outcomes = [outcome for batch in in_threads([*jobs, close_midway]) for outcome in batch]
    kinds = Counter(kind for kind, _ in outcomes)
    assert {value for kind, value in outcomes if kind == "refused"} <= {"not_open"}
    # The race really happened: some ballots before the close, some refused after it.
    assert kinds["receipt"] >= 30
    assert kinds["refused"] > 0
    returned = sorted(value for kind, value in outcomes if kind == "receipt")
    ballots, receipts, used = box(session, round_id)
    round_ = session.get(Round, round_id)
    assert round_ is not None
    # Voting has ended; the sealed ballots await decryption by the committee.
    assert round_.status == "decrypting"
    assert sorted(receipts) == returned
    assert round_.collected == len(ballots) == used == len(returned)
    assert round_.issued == len(codes)


def test_a_close_waiting_for_casts_is_not_overtaken_by_later_casts(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    """PostgreSQL: a cast that starts while a close waits queues behind the close.

    Casts share-lock the round, so they do not wait for each other; a close waits until no cast
    holds that lock. Without a queue, casts that keep overlapping would hold the close off for as
    long as voting goes on (seen in CI: 800 ballots went in while one close waited).
    """
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has one writer at a time and no lock queue")
    round_id, codes = make_round(session, codes=3)
    # Sessions of this test's database waiting for a lock (any kind: row, table, transaction).
    waiting = text(
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid IN "
        "(SELECT pid FROM pg_stat_activity WHERE datname = current_database())"
    )

    def wait_for(condition: Callable[[], bool]) -> None:
        for _ in range(500):
            if condition():
                return
            time.sleep(0.01)
        raise AssertionError("timed out")

    def waiters() -> int:
        session.rollback()
        return session.scalar(waiting) or 0

    with sessions() as in_progress:
        # A cast in progress: the code claimed, not yet committed.
        connection = in_progress.connection(execution_options=WRITE)
        claimed = connection.execute(
            voting._CLAIM_CODE,
            {
                "code_digest": credentials.digest(SECRET, codes[0]),
                "named_round": round_id,
                "named_group": None,
            },
        ).first()
        assert claimed is not None

        def close() -> None:
            with write_session(sessions) as closing:
                rounds.close_round(closing, rounds.get_round(closing, round_id))

        with ThreadPoolExecutor(max_workers=2) as pool:
            closed = pool.submit(close)
            wait_for(lambda: waiters() >= 1)
            late = pool.submit(attempt, sessions, codes[1], "LLCH", round_id)
            # The late cast either went past the waiting close (the fault) or waits behind it.
            wait_for(lambda: late.done() or waiters() >= 2)
            in_progress.rollback()
            closed.result(timeout=60)
            assert late.result(timeout=60) == ("refused", "not_open")
    ballots, receipts, used = box(session, round_id)
    assert (ballots, receipts, used) == ([], [], 0)
