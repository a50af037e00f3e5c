"""Faults while voters vote: a gunicorn worker killed with SIGKILL, PostgreSQL stopped.

What must hold whatever happens: every voter who got a receipt is counted exactly once
(stored ballots = stored receipts = codes used), a code whose request died is either used
with its ballot stored or unused — never used without a ballot — and a voter whose request
failed can try again and is told "receipt" or "already used" as the database says. During a
database outage voters get a plain Vietnamese "try again" page (HTTP 503), never internals.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError, OperationalError

from bench._harness import (
    SECRET,
    Vote,
    census,
    close_and_verify,
    closed_loop,
    code_used,
    free_port,
    prepare,
    serve,
    vote_api,
    vote_form,
)
from tests.conftest import PG_URL
from tests.web_fixtures import open_ballot
from votes import create_app
from votes.web.outage import is_outage

ITEMS = 5
IN_CI = os.environ.get("CI") == "true"
INTERNALS = ("Traceback", "psycopg", "sqlalchemy", "OperationalError", "sqlite", "SELECT ")
TRY_AGAIN = "Vui lòng thử lại sau ít phút"

pytestmark = pytest.mark.slow


def server_env(database_url: str) -> dict[str, str]:
    """The environment of a gunicorn serving the test database."""
    return {
        "VOTES_DATABASE_URL": database_url,
        "VOTES_SECRET_KEY": SECRET,
        "VOTES_CODE_RATE_LIMIT": "100000/minute",
        "VOTES_REDIS_URL": "memory://",
    }


def settle(port: int, database_url: str, failed: list[Vote]) -> tuple[int, list[str]]:
    """Let every voter whose attempt failed try again; check the answer against the database.

    Return how many failed codes the database already had marked used (their ballots were
    stored although the voter saw no receipt) and the receipts the retries handed out.
    """
    codes = [vote.code for vote in failed]
    used_before = code_used(database_url, SECRET, codes)
    retries = asyncio.run(_retry(port, codes))
    receipts = []
    for retry in retries:
        if used_before[retry.code]:
            assert not retry.ok, retry.code
            assert retry.status == 409, (retry.code, retry.status, retry.error)
            assert "đã được sử dụng" in retry.body
        else:
            assert retry.ok, (retry.code, retry.status, retry.error, retry.body[:300])
            receipts.append(retry.receipt or "")
    return sum(used_before.values()), receipts


async def _retry(port: int, codes: list[str]) -> list[Vote]:
    return [await vote_form(port, code, ITEMS) for code in codes]


def check_exactly_once(
    database_url: str, round_id: int, receipts: list[str], extra_used: int
) -> None:
    """Stored ballots = stored receipts = codes used = receipts handed out (+ extra_used)."""
    counted = census(database_url, round_id)
    assert len(receipts) == len(set(receipts)), "a receipt was handed out twice"
    assert set(receipts) <= counted.receipt_values, "a receipt handed out is not stored"
    assert counted.ballots == counted.receipts == counted.codes_used, counted
    assert counted.ballots == len(receipts) + extra_used, (counted, len(receipts), extra_used)
    ok, output = close_and_verify(database_url, round_id)
    assert ok, output


# ---------------------------------------------------------------------------- the page itself


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_unreachable_database_gives_a_plain_try_again_page(engine: str, tmp_path: Path) -> None:
    # Nothing listens on port 1; a SQLite file in a missing folder cannot be opened.
    url = (
        "postgresql://postgres@127.0.0.1:1/votes?connect_timeout=2"
        if engine == "postgresql"
        else f"sqlite:///{tmp_path}/missing/votes.sqlite3"
    )
    app: Flask = create_app({"TESTING": True, "SECRET_KEY": SECRET, "DATABASE_URL": url})
    client = app.test_client()
    assert client.get("/").status_code == 200  # the code page needs no database

    page = open_ballot(client, "ACDE-FGHJ-KMNP")
    html = page.get_data(as_text=True)
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "30"
    assert page.headers["Cache-Control"] == "no-store"
    assert TRY_AGAIN in html
    assert 'lang="vi"' in html
    # "Try again" sends the same code again by POST, never in an address.
    assert 'name="code" value="ACDE-FGHJ-KMNP"' in html
    assert 'href="/b/ACDE' not in html
    for word in (*INTERNALS, "127.0.0.1", "missing"):
        assert word not in html

    client.get("/lang/en")
    english = open_ballot(client, "ACDE-FGHJ-KMNP").get_data(as_text=True)
    assert "Please try again in a moment" in english

    api = client.post("/api/v1/ballots", json={"code": "ACDE-FGHJ-KMNP", "marks": {"1": "H"}})
    assert api.status_code == 503
    assert api.get_json() == {"error": "unavailable", "status": 503}
    assert api.headers["Retry-After"] == "30"
    # The API's own description says so for every operation that needs the database.
    document = client.get("/api/v1/openapi.json").get_json()
    for path, method in [
        ("/ballot", "post"),
        ("/ballots", "post"),
        ("/rounds/{round_id}/results", "get"),
    ]:
        answer = document["paths"][path][method]["responses"]["503"]
        assert "Retry-After" in answer["headers"]
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert set(document["components"]["schemas"]["Error"]["required"]) <= set(api.get_json())
    app.extensions["votes.engine"].dispose()


def test_only_outages_are_503() -> None:
    lost = OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    bug = IntegrityError("INSERT", {}, Exception("duplicate key"))
    assert is_outage(lost)
    assert not is_outage(bug)
    bug.connection_invalidated = True
    assert is_outage(bug)


def test_voting_goes_on_when_redis_is_unreachable(database_url: str) -> None:
    round_id, codes = prepare(database_url, 2, ITEMS)
    app: Flask = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database_url,
            # Nothing listens on port 1: the rate limits fall back to each worker's memory.
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",
        }
    )
    client = app.test_client()
    marks = {str(n): "H" for n in range(1, ITEMS + 1)}
    assert open_ballot(client, codes[0]).status_code == 200
    assert (
        client.post("/api/v1/ballots", json={"code": codes[1], "marks": marks}).status_code == 201
    )
    assert open_ballot(client, "ACDE-FGHJ-KMNP").status_code == 403  # refused, still counted
    app.extensions["votes.engine"].dispose()
    assert census(database_url, round_id).ballots == 1


# ---------------------------------------------------------------------------- a killed worker


@pytest.mark.parametrize("moment", ["mid-burst", "after-commit"])
def test_killed_worker_loses_and_doubles_nothing(database_url: str, moment: str) -> None:
    """SIGKILL a worker from outside four times in a burst ("mid-burst": wherever it is),
    or let workers SIGKILL themselves right after a cast committed, before the receipt is sent
    ("after-commit": the case where the ballot is in but the voter saw nothing)."""
    round_id, codes = prepare(database_url, 1500, ITEMS)
    env = server_env(database_url)
    if moment == "after-commit":
        # Often enough that each worker dies a few times even on a slow, shared machine.
        env["BENCH_KILL_AFTER_COMMIT"] = "15"
    with serve(env, workers=2, worker_timeout=30) as server:
        first = server.worker_pids()

        async def burst_with_kills() -> tuple[list[Vote], list[int]]:
            voting = asyncio.create_task(
                # Bounded in time, not in codes: the voters keep coming past the second kill.
                closed_loop(server.port, codes, ITEMS, concurrency=8, seconds=4.5)
            )
            killed: list[int] = []
            serving = set(first)
            # Four kills, 0.7 s apart: a kill can find its worker between two requests (the
            # client shares the cores) and break nothing; four all doing so is unlikely.
            for _ in range(4):
                await asyncio.sleep(0.7)
                now = server.worker_pids()
                # A worker seen at the last look, so serving: not a replacement still starting.
                victim = next((p for p in now if p in serving and p not in killed), None)
                serving = set(now)
                if moment == "mid-burst" and victim is not None and not voting.done():
                    os.kill(victim, signal.SIGKILL)
                    killed.append(victim)
            votes, _ = await voting
            return votes, killed

        votes, killed = asyncio.run(burst_with_kills())
        if moment == "mid-burst":
            assert len(killed) >= 2, "the burst ended before the workers could be killed"
        # gunicorn replaces each killed worker.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pids = server.worker_pids()
            if len(pids) == 2 and not set(killed) & set(pids) and set(pids) != set(first):
                break
            time.sleep(0.2)
        assert server.process.poll() is None
        assert len(server.worker_pids()) == 2
        assert set(server.worker_pids()) != set(first), "no worker was replaced"

        failed = [v for v in votes if not v.ok]
        # A killed worker's requests break off (no answer); nothing else may go wrong.
        assert all(v.status == 0 for v in failed), [(v.step, v.status, v.error) for v in failed]
        receipts = [v.receipt for v in votes if v.receipt]
        if moment == "mid-burst":
            used_without_receipt, retried = settle(server.port, database_url, failed)
    if moment == "after-commit":
        # The voters try again on a server that does not kill itself (as behind nginx).
        with serve(server_env(database_url), workers=1, worker_timeout=30) as clean:
            used_without_receipt, retried = settle(clean.port, database_url, failed)
    print(
        f"{moment}: {len(votes)} voters, {len(failed)} requests broken by the kills, "
        f"{used_without_receipt} of them committed before the kill"
    )
    assert failed, "no request was broken: the test tested nothing"
    if moment == "after-commit":
        assert used_without_receipt >= 1
    check_exactly_once(database_url, round_id, receipts + retried, used_without_receipt)


# ---------------------------------------------------------------------------- PostgreSQL stopped


def _postgres_binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    if found:
        return found[0].parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
        ).stdout.strip()
        if (Path(bindir) / "pg_ctl").exists():
            return Path(bindir)
    return None


def _outage_skip_reason() -> str | None:
    if not PG_URL:
        return "PostgreSQL only: runs when VOTES_TEST_DATABASE_URL is set"
    if os.geteuid() != 0:
        return "needs root, to run a private PostgreSQL server as the postgres user"
    if _postgres_binaries() is None or shutil.which("runuser") is None:
        return "PostgreSQL server binaries (pg_ctl, initdb) or runuser are missing"
    return None


class PrivateCluster:
    """A throw-away PostgreSQL server of our own, on a free port, that may be stopped.

    Not the shared server of the test run: other suites use that one at the same time, and
    stopping it would fail their tests. Same binaries, same protocol, same failure.
    """

    def __init__(self, root: Path) -> None:
        self.bindir = _postgres_binaries()
        assert self.bindir is not None
        self.root = root
        self.data = root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def create(self) -> None:
        shutil.chown(self.root, "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        self.start()

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=50"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop"
        )

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """Create, start and always remove a private PostgreSQL server."""
    root = Path(tempfile.mkdtemp(prefix="votes-pg-"))
    cluster = PrivateCluster(root)
    try:
        cluster.create()
        yield cluster
    finally:
        if cluster.running():
            with contextlib.suppress(subprocess.SubprocessError):
                cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_stopped_during_voting() -> None:
    reason = _outage_skip_reason()
    if reason:
        if IN_CI and PG_URL:
            pytest.fail(f"CI=true: the PostgreSQL outage test must run ({reason})")
        pytest.skip(reason)
    with private_cluster() as cluster:
        round_id, codes = prepare(cluster.url, 800, ITEMS)
        with serve(server_env(cluster.url), workers=2, worker_timeout=30) as server:
            votes, stopped_at, restarted_at = asyncio.run(
                _vote_through_an_outage(server.port, cluster, codes)
            )
            try:
                # Voters who met the outage come back and try again.
                failed = [v for v in votes if not v.ok]
                used_without_receipt, retried = settle(server.port, cluster.url, failed)
            finally:
                if not cluster.running():
                    cluster.start()
            log = server.log_text()  # to explain a failure below
        receipts = [v.receipt for v in votes if v.receipt]

        refused = [v for v in votes if not v.ok]
        assert refused, "no voter met the outage: it was too short to test anything"
        for vote in refused:
            # A clear "try again", never a 500 or a broken connection.
            assert vote.status == 503, (vote.step, vote.status, vote.error, log[-4000:])
            for word in (*INTERNALS, str(cluster.port)):
                assert word not in vote.body
            if vote.body.lstrip().startswith("{"):
                assert json.loads(vote.body)["error"] == "unavailable"
            else:
                assert TRY_AGAIN in vote.body
        assert {v.body.lstrip()[:1] for v in refused} == {"{", "<"}, "both the API and the page"
        # Everything before the stop and well after the restart went through.
        assert all(v.ok for v in votes if v.ended < stopped_at)
        after = [v for v in votes if v.started > restarted_at + 1.0]
        assert len(after) >= 10, len(after)
        assert all(v.ok for v in after), [v.status for v in after if not v.ok]
        print(
            f"{len(votes)} voters, {len(refused)} told to try again, "
            f"{used_without_receipt} of them had been counted already"
        )
        check_exactly_once(cluster.url, round_id, receipts + retried, used_without_receipt)


async def _vote_through_an_outage(
    port: int, cluster: PrivateCluster, codes: list[str]
) -> tuple[list[Vote], float, float]:
    """Voters vote (form and API) while PostgreSQL is stopped for 3 s, then started again."""
    pending = iter(codes)
    votes: list[Vote] = []
    end = time.monotonic() + 7.5

    async def lane(voter) -> None:  # type: ignore[no-untyped-def]
        for code in pending:
            if time.monotonic() > end:
                return
            vote = await voter(port, code, ITEMS)
            votes.append(vote)
            if not vote.ok:
                await asyncio.sleep(0.2)  # a voter reads the page before trying again

    lanes = [asyncio.create_task(lane(v)) for v in (vote_form, vote_form, vote_api, vote_api)]
    try:
        await asyncio.sleep(1.5)
        stopped_at = time.monotonic()
        await asyncio.to_thread(cluster.stop, "fast")
        await asyncio.sleep(3.0)
        await asyncio.to_thread(cluster.start)
        restarted_at = time.monotonic()
        await asyncio.gather(*lanes)
    finally:
        if not cluster.running():  # whatever failed above, PostgreSQL comes back
            await asyncio.to_thread(cluster.start)
        for task in lanes:
            task.cancel()
    return votes, stopped_at, restarted_at
