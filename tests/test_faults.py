"""Faults: a process killed in the middle of an import leaves all of it or nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import SECRET
from votes import operations
from votes.models import Ballot, Round
from votes.roster import parse_roster
from votes.verify import verify_round

ITEMS = 20
COUNT = 20_000


def _open_round(sessions: sessionmaker[Session], code: str) -> int:
    roster = "name,position\n" + "".join(f"Người {n},Ủy viên\n" for n in range(1, ITEMS + 1))
    with operations.work(sessions, "tester") as work:
        operations.add_body(work, code, f"Đơn vị {code}")
        round_id = operations.create_round(
            work,
            body_code=code,
            year=2020,
            profile_id="qd262-2014",
            title="Đợt",
            roster=parse_roster(roster.encode()),
            members=None,
        ).id
        operations.open_round(work, round_id)
        return round_id


def _import(
    database_url: str, round_id: int, path: Path, kill_after: float | None
) -> tuple[int, float]:
    """Run `votes ballots import` in its own process; SIGKILL it after `kill_after` seconds."""
    env = dict(os.environ, VOTES_DATABASE_URL=database_url, VOTES_SECRET_KEY=SECRET)
    started = time.monotonic()
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "votes.cli",
            "ballots",
            "import",
            str(round_id),
            str(path),
            "--issued",
            str(COUNT * 2),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as process:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
            process.wait()
    return process.returncode, time.monotonic() - started


def _stored(sessions: sessionmaker[Session], round_id: int) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).where(Ballot.round_id == round_id)) or 0


@pytest.mark.slow
def test_killed_import_is_complete_or_absent(
    sessions: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    line = "valid," + ",".join("HCL"[n % 3] for n in range(ITEMS)) + "\n"
    csv_file = tmp_path / "ballots.csv"
    csv_file.write_text("status," + ",".join(map(str, range(1, ITEMS + 1))) + "\n" + line * COUNT)

    # Measure how long a whole import takes, on a round of its own.
    timing_round = _open_round(sessions, "T")
    code, whole = _import(database_url, timing_round, csv_file, None)
    assert code == 0
    assert _stored(sessions, timing_round) == COUNT

    # Kill the import at several moments, late ones inside the database transaction.
    round_id = _open_round(sessions, "K")
    for fraction in (0.3, 0.6, 0.8, 0.9, 0.97):
        code, _ = _import(database_url, round_id, csv_file, whole * fraction)
        stored = _stored(sessions, round_id)
        assert stored in (0, COUNT), f"killed at {fraction:.0%}: {stored} ballots half-written"
        if code == 0 or stored == COUNT:  # a kill after the commit leaves the whole file in
            break
    # Then the committee runs it again: the file is in exactly once.
    if _stored(sessions, round_id) == 0:
        code, _ = _import(database_url, round_id, csv_file, None)
        assert code == 0
    assert _stored(sessions, round_id) == COUNT
    with sessions() as session:
        report = verify_round(session, session.get(Round, round_id))
        assert report.ok, report.problems
