"""Shared parts of the load benchmarks and of the load, fault and two-server tests.

A throw-away database (SQLite file or PostgreSQL database), an open round seeded with codes,
gunicorn with sync workers on a free loopback port, a small asyncio HTTP/1.1 client bounded
in time, the two voter flows (the form a phone uses, the JSON API), and the census that
checks "stored ballots = receipts = codes used" afterwards. Loopback only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._measure import process_cpu

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-key-0123456789abcdef-not-for-production"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
ROUND = re.compile(r'name="round" value="(\d+)"')
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT = re.compile(r'class="receipt-code"[^>]*>([^<]+)<')
REQUEST_TIMEOUT = 15.0  # seconds for one HTTP request, connection included


# ---------------------------------------------------------------------------- the application


def app():  # type: ignore[no-untyped-def]
    """The real application from the VOTES_* environment, on plain-HTTP loopback (gunicorn).

    The same as `wsgi:app` except that cookies are not marked Secure (no TLS on loopback) and
    the rate-limit keys may get a prefix of their own (BENCH_LIMIT_PREFIX), so that test runs
    sharing one Redis database never count each other's refusals.
    """
    from votes import create_app

    config: dict[str, Any] = {"INSECURE_COOKIES": True}
    if os.environ.get("BENCH_LIMIT_PREFIX"):
        config["RATELIMIT_KEY_PREFIX"] = os.environ["BENCH_LIMIT_PREFIX"]
    application = create_app(config)
    every = int(os.environ.get("BENCH_KILL_AFTER_COMMIT", "0"))
    if every:
        application.wsgi_app = _dies_after_commit(application.wsgi_app, every)  # type: ignore[method-assign]
    return application


def _dies_after_commit(wsgi_app: Any, every: int) -> Any:
    """Fault injection for the tests: the worker SIGKILLs itself after every `every`-th cast
    that committed, before a byte of the receipt leaves — the worst moment to die."""
    casts = 0

    def middleware(environ: dict[str, Any], start_response: Any) -> Any:
        nonlocal casts
        seen: dict[str, str] = {}

        def capture(status: str, headers: Any, exc_info: Any = None) -> Any:
            seen["status"] = status
            return start_response(status, headers, exc_info)

        body = wsgi_app(environ, capture)
        # The test voters post only action=cast: a 200 there is a receipt page.
        cast = environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] in (
            "/ballot",
            "/api/v1/ballots",
        )
        if cast and seen.get("status", "").startswith(("200", "201")):
            casts += 1
            if casts % every == 0:
                os.kill(os.getpid(), signal.SIGKILL)
        return body

    return middleware


# ---------------------------------------------------------------------------- databases


# The key files of the committees `prepare` made, by (database, round).
KEY_FILES: dict[tuple[str, int], bytes] = {}


def prepare(
    database_url: str,
    voters: int,
    items: int,
    secret: str = SECRET,
    *,
    summoned: int | None = None,
) -> tuple[int, list[str]]:
    """Create a migrated database with one open round of `items` persons and `voters` codes.

    `summoned` (default: `voters`) bounds how many codes may ever be issued for the round.
    """
    from votes import create_app, operations
    from votes.demo import demo_committee
    from votes.migrate import upgrade
    from votes.roster import parse_roster

    application = create_app({"SECRET_KEY": secret, "DATABASE_URL": database_url, "TESTING": True})
    engine = application.extensions["votes.engine"]
    upgrade(engine)
    roster = "name,position\n" + "".join(f"Người {n:02d},Ủy viên\n" for n in range(1, items + 1))
    with operations.work(application.extensions["votes.sessions"], "bench") as work:
        body = operations.add_body(work, f"B{secrets.token_hex(3)}", "Đơn vị đo tải", "council")
        round_ = operations.create_round(
            work,
            body_code=body.code,
            year=2025,
            profile_id="nq96-2023",
            title="Đo tải",
            roster=parse_roster(roster.encode()),
            members=summoned or voters,
            summoned=summoned or voters,
            present=summoned or voters,
        )
        # Online ballots are sealed: a committee of one, made as `votes demo` makes it; its key
        # file is kept here for close_and_verify (which decrypts as the member would).
        KEY_FILES[(database_url, round_.id)] = demo_committee(work, round_.id, None)
        operations.open_round(work, round_.id)
        codes = operations.issue_codes(work, round_.id, voters, secret)
        round_id = round_.id
    engine.dispose()
    return round_id, codes


@dataclass
class Census:
    """What the database holds for a round."""

    ballots: int
    receipts: int
    codes_used: int
    codes_issued: int
    receipt_values: set[str]


def census(database_url: str, round_id: int) -> Census:
    """Count the ballots, receipts and used codes of a round; read the receipts."""
    from sqlalchemy import func, select

    from votes.ballotbox import ballots_collected
    from votes.ballotbox import receipts as stored_receipts
    from votes.db import make_engine, make_sessionmaker
    from votes.models import Credential

    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            # Sealed ballots (and paper ones), and their receipts, taken from the trackers.
            ballots = ballots_collected(session, round_id)
            receipts = stored_receipts(session, round_id)
            used = session.scalar(
                select(func.count()).where(Credential.round_id == round_id, Credential.used)
            )
            issued = session.scalar(select(func.count()).where(Credential.round_id == round_id))
    finally:
        engine.dispose()
    return Census(ballots or 0, len(receipts), used or 0, issued or 0, set(receipts))


def code_used(database_url: str, secret: str, codes: list[str]) -> dict[str, bool]:
    """Tell for each code whether the database has it marked used."""
    from sqlalchemy import select

    from votes.credentials import digest
    from votes.db import make_engine, make_sessionmaker
    from votes.models import Credential

    engine = make_engine(database_url)
    try:
        with make_sessionmaker(engine)() as session:
            by_digest = {digest(secret, code): code for code in codes}
            rows = session.execute(
                select(Credential.digest, Credential.used).where(
                    Credential.digest.in_(list(by_digest))
                )
            ).all()
    finally:
        engine.dispose()
    return {by_digest[row.digest]: bool(row.used) for row in rows}


def close_and_verify(database_url: str, round_id: int, secret: str = SECRET) -> tuple[bool, str]:
    """Close the round, then run `votes verify ROUND` in a process of its own."""
    from votes import create_app, operations
    from votes.demo import demo_decrypt
    from votes.models import RoundStatus

    application = create_app({"SECRET_KEY": secret, "DATABASE_URL": database_url, "TESTING": True})
    with operations.work(application.extensions["votes.sessions"], "bench") as work:
        round_ = operations.close_round(work, round_id)
        if round_.status == RoundStatus.DECRYPTING.value:
            demo_decrypt(work, round_id, KEY_FILES[(database_url, round_id)])
    application.extensions["votes.engine"].dispose()
    done = subprocess.run(
        [sys.executable, "-m", "votes.cli", "verify", str(round_id)],
        env={**os.environ, "VOTES_DATABASE_URL": database_url, "VOTES_SECRET_KEY": secret},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    return done.returncode == 0, (done.stdout + done.stderr).strip()


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A throw-away PostgreSQL database."""
    from sqlalchemy import create_engine, text

    from votes.db import normalise_url

    admin_url = normalise_url(admin_url)
    name = f"votes_bench_{secrets.token_hex(6)}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rpartition("/")[0] + "/" + name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    """A throw-away SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.sqlite3"


def postgres_reachable(admin_url: str) -> str | None:
    """Return None when PostgreSQL answers at admin_url, else the reason why not."""
    try:
        with postgres_database(admin_url):
            return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


# ---------------------------------------------------------------------------- gunicorn


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children(pid: int) -> list[int]:
    """Return the ids of a process's children (gunicorn's workers, for its master)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


@dataclass
class Server:
    """A running gunicorn master."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    workers: int
    log: Path

    def worker_pids(self) -> list[int]:
        """Return the ids of the live workers."""
        return children(self.process.pid)

    def log_text(self) -> str:
        """Return what gunicorn wrote to stderr so far."""
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


def _answers(port: int, path: str) -> bool:
    """Tell whether a worker answers at all (any status: the application is loaded)."""
    try:
        with socket.create_connection(("127.0.0.1", port), 1.0) as sock:
            sock.settimeout(5.0)
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            head = sock.recv(64)
        return head.startswith(b"HTTP/1.")
    except OSError:
        return False


@contextlib.contextmanager
def serve(
    env: dict[str, str],
    workers: int = 2,
    target: str = "bench._harness:app()",
    *,
    worker_timeout: int = 60,
    start_timeout: float = 40.0,
    options: Sequence[str] = (),
) -> Iterator[Server]:
    """Run gunicorn with sync workers on a free loopback port until the block ends.

    Waits until every worker is up and the application answers; always stops the whole
    process group (master and workers) afterwards, with SIGKILL if SIGTERM is not enough.
    `options` are more gunicorn options (its error log stays on the Server's log file).
    """
    port = free_port()
    log = Path(tempfile.mkstemp(prefix="gunicorn-", suffix=".log")[1])
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                str(worker_timeout),
                "--graceful-timeout",
                "5",
                "--chdir",
                str(ROOT),
                # The production settings: the code-free logs, and each worker's watch that
                # makes the sealing pads of the rounds about to vote (votes/pads.py).
                "--config",
                "python:votes.gunicorn_config",
                *options,
                target,
            ],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            start_new_session=True,
        )
    server = Server(f"http://127.0.0.1:{port}", port, process, workers, log)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {process.returncode}:\n{server.log_text()[-3000:]}"
                )
            if len(server.worker_pids()) >= workers and _answers(port, "/api/v1/openapi.json"):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn did not start in {start_timeout} s:\n{server.log_text()[-3000:]}"
                )
            time.sleep(0.1)
        # Every worker imports the application itself (no --preload): wait until each answered
        # once, or the first requests of a burst would queue behind the imports.
        booted = 0
        while booted < workers and time.monotonic() < deadline:
            booted = server.log_text().count("Booting worker")
            time.sleep(0.1)
        time.sleep(0.3 * workers)
        yield server
    finally:
        stop(process)
        log.unlink(missing_ok=True)


def wait_for_pads(option_pads: int, timeout: float = 600.0) -> None:
    """Wait until this process's sealing pads (every key's, votes/sealing.py) hold at least
    `option_pads` option pads: those a benchmark planned before its timed part."""
    from votes import sealing

    deadline = time.monotonic() + timeout
    while sum(pool.pads.available()[0] for pool in list(sealing._pools.values())) < option_pads:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the sealing pads did not reach {option_pads} in {timeout:.0f} s")
        time.sleep(0.05)


def wait_until_idle(
    servers: Sequence[Server], *, quiet: float = 0.05, timeout: float = 240.0
) -> float:
    """Wait until the servers' workers stay idle (under `quiet` of a core for 2 s running):
    their sealing pads for the rounds about to vote made (votes/pads.py), as when a hall's
    round has been ready for a while before the chair opens it. Return the seconds waited."""
    start = time.monotonic()
    calm = 0
    before = sum(process_cpu(pid) for server in servers for pid in server.worker_pids())
    while calm < 2 and time.monotonic() - start < timeout:
        time.sleep(1.0)
        now = sum(process_cpu(pid) for server in servers for pid in server.worker_pids())
        calm = calm + 1 if now - before < quiet else 0
        before = now
    return time.monotonic() - start


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process group started with start_new_session: SIGTERM, then SIGKILL."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
    # Workers left behind by a killed master: end the whole group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


# ---------------------------------------------------------------------------- the HTTP client


@dataclass
class Response:
    """One HTTP response (status 0: the connection failed or broke before an answer)."""

    status: int
    body: str = ""
    cookie: str = ""
    error: str = ""


async def request(
    port: int,
    method: str,
    path: str,
    *,
    cookie: str = "",
    body: bytes = b"",
    content_type: str = "application/x-www-form-urlencoded",
    source: str | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> Response:
    """One HTTP/1.1 request on a fresh loopback connection; never raises, never hangs.

    `source` binds the client side to another loopback address (127.0.0.x): a different
    voter's device as the rate limiter sees it.
    """
    writer = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(
                "127.0.0.1", port, local_addr=(source, 0) if source else None
            )
            head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
            if cookie:
                head += f"Cookie: {cookie}\r\n"
            if body or method == "POST":
                head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
            writer.write(head.encode() + b"\r\n" + body)
            await writer.drain()
            raw = await reader.read()
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
        return Response(0, error=f"{type(exc).__name__}: {str(exc)[:80]}")
    finally:
        if writer is not None:
            writer.close()
    header, _, content = raw.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return Response(0, error=f"broken response: {raw[:60]!r}")
    # A worker killed while sending leaves the body short of its Content-Length: no answer.
    length = next(
        (
            line.split(":", 1)[1].strip()
            for line in lines[1:]
            if line.lower().startswith("content-length:")
        ),
        None,
    )
    if length is not None and length.isdigit() and len(content) < int(length):
        return Response(0, error=f"broken response: {len(content)} of {length} bytes")
    cookies = [
        line.split(":", 1)[1].strip().split(";")[0]
        for line in lines[1:]
        if line.lower().startswith("set-cookie:")
    ]
    return Response(status, content.decode("utf-8", "replace"), "; ".join(cookies))


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which `fraction` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


# ---------------------------------------------------------------------------- one voter


@dataclass
class Vote:
    """What happened to one voter: the receipt, or the status that ended the attempt."""

    code: str
    receipt: str | None = None
    status: int = 0  # of the request that decided (0: no answer)
    step: str = ""  # "fetch" or "cast": where it ended
    error: str = ""
    latencies: list[float] = field(default_factory=list)  # fetch, cast (seconds)
    body: str = ""
    started: float = field(default_factory=time.monotonic)
    ended: float = 0.0

    @property
    def ok(self) -> bool:
        return self.receipt is not None


def marks_for(items: int) -> dict[str, str]:
    """A complete ballot: one level for every item."""
    return {str(n): "HCL"[n % 3] for n in range(1, items + 1)}


async def open_ballot(port: int, code: str, *, timeout: float = REQUEST_TIMEOUT) -> Response:
    """Open a code's ballot as a phone does: the code page (/b#CODE), then the code by POST.

    The code never travels in an address (docs/SECURITY.md): the slip's link carries it after
    '#', and the page's script posts it with the form's CSRF token.
    """
    first = await request(port, "GET", "/b", timeout=timeout)
    token = TOKEN.search(first.body)
    if first.status != 200 or token is None:
        return first
    data = urllib.parse.urlencode({"csrf_token": token.group(1), "code": code}).encode()
    page = await request(port, "POST", "/", cookie=first.cookie, body=data, timeout=timeout)
    page.cookie = page.cookie or first.cookie
    return page


async def vote_form(
    port: int, code: str, items: int, *, timeout: float = REQUEST_TIMEOUT, think: float = 0.0
) -> Vote:
    """Vote as a phone does: the code page, the code (POST /), then POST /ballot action=cast.

    `think`: seconds between seeing the ballot and casting it (a voter filling it in).
    """
    vote = Vote(code)
    start = time.perf_counter()
    page = await open_ballot(port, code, timeout=timeout)
    vote.latencies.append(time.perf_counter() - start)
    token, round_id = TOKEN.search(page.body), ROUND.search(page.body)
    if page.status != 200 or token is None or round_id is None:
        vote.status, vote.step, vote.error, vote.body = page.status, "fetch", page.error, page.body
        vote.ended = time.monotonic()
        return vote
    data = urllib.parse.urlencode(
        {
            "csrf_token": token.group(1),
            "code": code,
            "action": "cast",
            "round": round_id.group(1),
            **{f"item_{n}": mark for n, mark in marks_for(items).items()},
        }
    ).encode()
    if think:
        await asyncio.sleep(think)
    start = time.perf_counter()
    cast = await request(port, "POST", "/ballot", cookie=page.cookie, body=data, timeout=timeout)
    vote.latencies.append(time.perf_counter() - start)
    vote.status, vote.step, vote.error, vote.body = cast.status, "cast", cast.error, cast.body
    receipt = RECEIPT.search(cast.body)
    if cast.status == 200 and receipt:
        vote.receipt = receipt.group(1).strip()
    vote.ended = time.monotonic()
    return vote


async def vote_api(port: int, code: str, items: int, *, timeout: float = REQUEST_TIMEOUT) -> Vote:
    """Vote through the JSON API: POST /api/v1/ballot, then POST /api/v1/ballots."""
    vote = Vote(code)
    start = time.perf_counter()
    fetched = await request(
        port,
        "POST",
        "/api/v1/ballot",
        body=json.dumps({"code": code}).encode(),
        content_type="application/json",
        timeout=timeout,
    )
    vote.latencies.append(time.perf_counter() - start)
    if fetched.status != 200:
        vote.status, vote.step, vote.error, vote.body = (
            fetched.status,
            "fetch",
            fetched.error,
            fetched.body,
        )
        vote.ended = time.monotonic()
        return vote
    start = time.perf_counter()
    cast = await request(
        port,
        "POST",
        "/api/v1/ballots",
        body=json.dumps({"code": code, "marks": marks_for(items)}).encode(),
        content_type="application/json",
        timeout=timeout,
    )
    vote.latencies.append(time.perf_counter() - start)
    vote.status, vote.step, vote.error, vote.body = cast.status, "cast", cast.error, cast.body
    if cast.status == 201:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            vote.receipt = json.loads(cast.body)["receipt"]
    vote.ended = time.monotonic()
    return vote


VOTERS = {"form": vote_form, "api": vote_api}


async def cast_only(
    port: int, code: str, items: int, *, timeout: float = REQUEST_TIMEOUT, source: str | None = None
) -> Vote:
    """Cast straight away through the API (no fetch): a retry, or a race on one code.

    `source` is the loopback address the request comes from (see `request`).
    """
    vote = Vote(code, step="cast")
    start = time.perf_counter()
    cast = await request(
        port,
        "POST",
        "/api/v1/ballots",
        body=json.dumps({"code": code, "marks": marks_for(items)}).encode(),
        content_type="application/json",
        timeout=timeout,
        source=source,
    )
    vote.latencies.append(time.perf_counter() - start)
    vote.status, vote.error, vote.body = cast.status, cast.error, cast.body
    if cast.status == 201:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            vote.receipt = json.loads(cast.body)["receipt"]
    vote.ended = time.monotonic()
    return vote


# ---------------------------------------------------------------------------- many voters


async def open_loop(
    port: int, codes: list[str], items: int, window: float, via: str = "form"
) -> list[Vote]:
    """Voter i arrives at i * window / n seconds, whatever the server does (a hall)."""
    voter = VOTERS[via]

    async def one(index: int, code: str) -> Vote:
        await asyncio.sleep(index * window / max(1, len(codes)))
        return await voter(port, code, items)

    return list(await asyncio.gather(*(one(i, c) for i, c in enumerate(codes))))


async def closed_loop(
    port: int,
    codes: list[str],
    items: int,
    concurrency: int,
    seconds: float | None = None,
    via: str = "form",
) -> tuple[list[Vote], float]:
    """`concurrency` voters in flight, each starting when one finishes, until the codes run out
    or `seconds` pass; return the votes and the elapsed time."""
    voter = VOTERS[via]
    pending = iter(codes)
    votes: list[Vote] = []
    start = time.perf_counter()
    stop_at = start + seconds if seconds else None

    async def lane() -> None:
        for code in pending:
            if stop_at is not None and time.perf_counter() >= stop_at:
                return
            votes.append(await voter(port, code, items))

    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return votes, time.perf_counter() - start
