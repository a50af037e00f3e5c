"""Load through gunicorn: a burst of voters is counted exactly once; bench/load.py checks itself.

Small and bounded versions of bench/load.py, on the test database (SQLite, or PostgreSQL
when VOTES_TEST_DATABASE_URL is set). The figures themselves are not asserted: a shared
machine makes them noisy; docs/PERFORMANCE-load.md records them.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from bench._harness import (
    ROOT,
    SECRET,
    Vote,
    census,
    close_and_verify,
    open_loop,
    prepare,
    serve,
)
from tests.conftest import PG_URL

# Persons on the ballot: the burst's question (each voter counted once) does not depend on how
# many; each sealed row costs the server and `votes verify` their proofs, so three, not eight.
ITEMS = 3

pytestmark = pytest.mark.slow


def test_burst_of_voters_is_counted_exactly_once(database_url: str) -> None:
    round_id, codes = prepare(database_url, 300, ITEMS)
    env = {
        "VOTES_DATABASE_URL": database_url,
        "VOTES_SECRET_KEY": SECRET,
        "VOTES_CODE_RATE_LIMIT": "100000/minute",
        "VOTES_REDIS_URL": "memory://",
    }
    with serve(env, workers=2, worker_timeout=30) as server:

        async def hall() -> list[Vote]:
            # Half the hall votes on the page, half through the API, all within 3 seconds.
            on_page, on_api = await asyncio.gather(
                open_loop(server.port, codes[:150], ITEMS, 3.0, "form"),
                open_loop(server.port, codes[150:], ITEMS, 3.0, "api"),
            )
            return on_page + on_api

        votes = asyncio.run(hall())
    failed = [(v.step, v.status, v.error) for v in votes if not v.ok]
    assert failed == []
    receipts = [v.receipt for v in votes]
    assert len(set(receipts)) == len(codes)
    counted = census(database_url, round_id)
    assert counted.ballots == counted.receipts == counted.codes_used == len(codes)
    assert set(receipts) == counted.receipt_values
    ok, output = close_and_verify(database_url, round_id)
    assert ok, output


def test_load_script_runs_its_checks() -> None:
    database = ["--db", "postgresql", "--pg", PG_URL] if PG_URL else ["--db", "sqlite"]
    done = subprocess.run(
        [
            sys.executable,
            "bench/load.py",
            *database,
            "--voters",
            "40",
            "--window",
            "1",
            "--seconds",
            "2",
            "--step",
            "1",
            "--ramp",
            "1",
            "4",
            "--items",
            "5",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "checks: all passed" in done.stdout
    assert "| burst | open loop | 40 |" in done.stdout
    assert "| sustained |" in done.stdout
