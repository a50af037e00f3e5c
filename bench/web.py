"""Benchmark: a burst of voters against gunicorn (sync workers), full path vs a bare Flask insert.

    python bench/web.py                     # SQLite, and PostgreSQL when 127.0.0.1:5432 answers
    python bench/web.py --voters 500 --workers 2 4 --items 20 --pg URL

Each voter fetches the ballot (GET /b/CODE: code look-up, form, CSRF token) and submits it
(POST /ballot action=cast: CSRF, form validation, cast_ballot in one write transaction). The
baseline is a bare Flask app on the same database that serves a page and inserts the same rows
(a ballot and a receipt) with no validation. Loopback only; every run is bounded in time.
It prints ballots/s, p50/p99 latency, errors, and checks stored ballots == receipts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-key-0123456789abcdef-not-for-production"
ROUND = re.compile(r'name="round" value="(\d+)"')
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


# ---------------------------------------------------------------------------- the two servers


def full_app():  # type: ignore[no-untyped-def]
    """The real application, configured for plain-HTTP loopback (gunicorn factory)."""
    from votes import create_app

    return create_app(
        {
            "SECRET_KEY": SECRET,
            "INSECURE_COOKIES": True,
            "CODE_RATE_LIMIT": "100000/minute",
        }
    )


def bare_app():  # type: ignore[no-untyped-def]
    """A bare Flask app on the same database: a page, then an insert of the same rows."""
    from flask import Flask, request
    from sqlalchemy import insert

    from votes.credentials import new_receipt
    from votes.db import make_engine, make_sessionmaker, write_session
    from votes.models import Ballot, Receipt

    app = Flask("bare")
    engine = make_engine(os.environ["VOTES_DATABASE_URL"])
    factory = make_sessionmaker(engine)
    round_id = int(os.environ["BENCH_ROUND_ID"])

    @app.get("/bare/<code>")
    def page(code: str) -> str:
        return f'<form><input name="csrf_token" type="hidden" value="{code}"></form>'

    @app.post("/bare")
    def cast() -> str:
        marks = "".join(
            request.form.get(f"item_{n}", "H")
            for n in range(1, 1000)
            if f"item_{n}" in request.form
        )
        receipt = new_receipt()
        with write_session(factory) as session:
            session.execute(
                insert(Ballot).values(
                    round_id=round_id, id=secrets.token_bytes(16), status="valid", marks=marks
                )
            )
            session.execute(insert(Receipt).values(round_id=round_id, receipt=receipt))
        return receipt

    return app


# ---------------------------------------------------------------------------- setup


def prepare(database_url: str, voters: int, items: int) -> tuple[int, list[str]]:
    """Create a migrated database with one open round of `items` persons and `voters` codes."""
    from votes import create_app, rounds
    from votes.db import write_session
    from votes.migrate import upgrade

    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": database_url, "TESTING": True})
    upgrade(app.extensions["votes.engine"])
    roster = "name,position\n" + "".join(f"Người {n:02d},Ủy viên\n" for n in range(1, items + 1))
    with write_session(app.extensions["votes.sessions"]) as session:
        body = rounds.add_body(session, "BENCH", "Đơn vị đo tải", "council")
        round_ = rounds.create_round(
            session,
            body,
            year=2025,
            profile_id="nq96-2023",
            title="Đo tải",
            roster=rounds.parse_roster(roster.encode()),
            members=voters,
            summoned=voters,
            present=voters,
        )
        rounds.open_round(session, round_)
        codes = rounds.issue_round_codes(session, round_, voters, SECRET)
        round_id = round_.id
    app.extensions["votes.engine"].dispose()
    return round_id, codes


def stored(database_url: str, round_id: int) -> tuple[int, int]:
    """Count the ballots and receipts of a round."""
    from sqlalchemy import func, select

    from votes.db import make_engine, make_sessionmaker
    from votes.models import Ballot, Receipt

    engine = make_engine(database_url)
    with make_sessionmaker(engine)() as session:
        ballots = session.scalar(select(func.count()).where(Ballot.round_id == round_id)) or 0
        receipts = session.scalar(select(func.count()).where(Receipt.round_id == round_id)) or 0
    engine.dispose()
    return ballots, receipts


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def gunicorn(factory: str, workers: int, env: dict[str, str]) -> Iterator[str]:
    """Run gunicorn with sync workers on a free loopback port; yield its base URL."""
    port = free_port()
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
            "60",
            "--chdir",
            str(ROOT),
            f"bench.web:{factory}()",
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode() if process.stderr else "")
            time.sleep(0.1)
        time.sleep(0.5 * workers)  # let every worker boot (the app factory runs per worker)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# ---------------------------------------------------------------------------- the burst


@dataclass
class Burst:
    """Latencies and outcomes of one burst."""

    latencies: list[float] = field(default_factory=list)
    ballots: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def _request(
    port: int, method: str, path: str, cookie: str = "", body: bytes = b""
) -> tuple[int, str, str]:
    """One HTTP/1.1 request on a fresh loopback connection (gunicorn sync workers close it)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    if cookie:
        head += f"Cookie: {cookie}\r\n"
    if body:
        head += (
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        )
    writer.write(head.encode() + b"\r\n" + body)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    header, _, content = raw.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    cookies = [
        line.split(":", 1)[1].strip().split(";")[0]
        for line in lines[1:]
        if line.lower().startswith("set-cookie:")
    ]
    return status, content.decode("utf-8", "replace"), "; ".join(cookies)


async def _voter(port: int, code: str, items: int, bare: bool, burst: Burst) -> None:
    marks = {f"item_{n}": "HCL"[n % 3] for n in range(1, items + 1)}
    try:
        start = time.perf_counter()
        status, html, cookie = await _request(
            port, "GET", f"/bare/{code}" if bare else f"/b/{code}"
        )
        burst.latencies.append(time.perf_counter() - start)
        token = TOKEN.search(html)
        if status != 200 or token is None:
            burst.errors.append(f"GET {status}")
            return
        round_id = ROUND.search(html)
        data = urllib.parse.urlencode(
            {
                "csrf_token": token.group(1),
                "code": code,
                "action": "cast",
                "round": round_id.group(1) if round_id else "",
                **marks,
            }
        ).encode()
        start = time.perf_counter()
        status, body, _ = await _request(port, "POST", "/bare" if bare else "/ballot", cookie, data)
        burst.latencies.append(time.perf_counter() - start)
        if status == 200 and (bare or "receipt-code" in body):
            burst.ballots += 1
        else:
            burst.errors.append(f"POST {status}")
    except OSError as exc:
        burst.errors.append(type(exc).__name__ + ": " + str(exc)[:80])


async def _burst(
    port: int, codes: list[str], items: int, bare: bool, spread: float, concurrency: int
) -> Burst:
    result = Burst()
    gate = asyncio.Semaphore(concurrency) if concurrency else None

    async def one(index: int, code: str) -> None:
        # Open loop: voter i arrives at i * spread / n seconds, whatever the server does.
        await asyncio.sleep(index * spread / len(codes))
        if gate is None:
            await _voter(port, code, items, bare, result)
        else:
            async with gate:
                await _voter(port, code, items, bare, result)

    start = time.perf_counter()
    await asyncio.gather(*(one(i, c) for i, c in enumerate(codes)))
    result.seconds = time.perf_counter() - start
    return result


def burst(
    base: str, codes: list[str], items: int, bare: bool, spread: float, concurrency: int = 0
) -> Burst:
    """Send the voters: spread over `spread` seconds (0: all at once, `concurrency` at a time)."""
    port = int(base.rsplit(":", 1)[1])
    return asyncio.run(_burst(port, codes, items, bare, spread, concurrency))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def _row(
    database: str,
    workers: int,
    kind: str,
    saturated: Burst,
    spread: Burst,
    stored_rows: tuple[int, int],
    extra: int = 0,
) -> dict[str, object]:
    ballots, receipts = stored_rows
    return {
        "database": database,
        "workers": workers,
        "path": kind,
        # Throughput: every voter at once, a fixed number in flight (closed loop).
        "ballots_per_s": round(saturated.ballots / saturated.seconds, 1),
        "requests_per_s": round(len(saturated.latencies) / saturated.seconds, 1),
        # The burst: the voters arrive spread over the window (open loop), as in a hall.
        "burst_voters": spread.ballots + len(spread.errors),
        "burst_s": round(spread.seconds, 2),
        "p50_ms": round(statistics.median(spread.latencies) * 1000, 1) if spread.latencies else 0,
        "p99_ms": round(percentile(spread.latencies, 0.99) * 1000, 1),
        "errors": len(saturated.errors) + len(spread.errors),
        "first_error": (saturated.errors + spread.errors)[:1],
        "stored": ballots,
        "receipts": receipts,
        "consistent": ballots == receipts == saturated.ballots + spread.ballots + extra,
    }


def run(database: str, url_maker, args: argparse.Namespace) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    """Measure the bare and the full path for each number of workers, on fresh databases."""
    rows = []
    for workers in args.workers:
        for kind in ("bare", "full"):
            with url_maker() as database_url:
                round_id, codes = prepare(database_url, (args.repeat + 1) * args.voters, args.items)
                env = {
                    "VOTES_DATABASE_URL": database_url,
                    "VOTES_SECRET_KEY": SECRET,
                    "BENCH_ROUND_ID": str(round_id),
                }
                factory = "bare_app" if kind == "bare" else "full_app"
                with gunicorn(factory, workers, env) as base:
                    # Throughput is measured `repeat` times; the median run is kept (the
                    # machine may be shared: one quiet or busy second must not decide).
                    runs = [
                        burst(
                            base,
                            codes[n * args.voters : (n + 1) * args.voters],
                            args.items,
                            kind == "bare",
                            0,
                            args.concurrency,
                        )
                        for n in range(args.repeat)
                    ]
                    runs.sort(key=lambda b: b.ballots / b.seconds)
                    saturated = runs[len(runs) // 2]
                    saturated.errors = [e for b in runs for e in b.errors]
                    extra = sum(b.ballots for b in runs) - saturated.ballots
                    spread = burst(
                        base,
                        codes[args.repeat * args.voters :],
                        args.items,
                        kind == "bare",
                        args.window,
                    )
                row = _row(
                    database,
                    workers,
                    kind,
                    saturated,
                    spread,
                    stored(database_url, round_id),
                    extra,
                )
            rows.append(row)
            print(row, flush=True)
    return rows


def report(rows: list[dict[str, object]]) -> None:
    """Print the table and the full/bare ratios."""
    print(
        "\n| database | workers | path | ballots/s (saturated) | requests/s | burst: voters "
        "in s | p50 ms | p99 ms | errors | stored = receipts |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['database']} | {r['workers']} | {r['path']} | {r['ballots_per_s']} | "
            f"{r['requests_per_s']} | {r['burst_voters']} in {r['burst_s']} | {r['p50_ms']} | "
            f"{r['p99_ms']} | {r['errors']} | {r['stored']} = {r['receipts']} "
            f"({'ok' if r['consistent'] else 'MISMATCH'}) |"
        )
    print()
    for r in rows:
        if r["path"] != "full":
            continue
        bare = next(
            b
            for b in rows
            if b["path"] == "bare"
            and b["database"] == r["database"]
            and b["workers"] == r["workers"]
        )
        ratio = float(r["ballots_per_s"]) / float(bare["ballots_per_s"])  # type: ignore[arg-type]
        good = ratio >= 0.6 and float(r["p99_ms"]) < 250 and not r["errors"]  # type: ignore[arg-type]
        print(
            f"{r['database']}, {r['workers']} workers: full/bare = {ratio:.0%} "
            f"(target ≥ 60 %), burst p99 {r['p99_ms']} ms (target < 250 ms), "
            f"errors {r['errors']} — {'ok' if good else 'BELOW TARGET'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=500)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument(
        "--concurrency", type=int, default=16, help="voters in flight when measuring throughput"
    )
    parser.add_argument("--repeat", type=int, default=3, help="throughput runs (median kept)")
    parser.add_argument(
        "--window", type=float, default=10.0, help="seconds over which the burst's voters arrive"
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("VOTES_BENCH_PG_URL", DEFAULT_PG),
        help="PostgreSQL admin URL ('' to skip)",
    )
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    rows: list[dict[str, object]] = []
    if not args.no_sqlite:

        @contextlib.contextmanager
        def sqlite_url() -> Iterator[str]:
            with tempfile.TemporaryDirectory() as folder:
                yield f"sqlite:///{folder}/bench.sqlite3"

        rows += run("SQLite", sqlite_url, args)
    if args.pg:
        try:
            with postgres_database(args.pg):
                pass
        except Exception as exc:
            print(f"PostgreSQL skipped: {exc}")
        else:
            rows += run("PostgreSQL", lambda: postgres_database(args.pg), args)
    report(rows)


if __name__ == "__main__":
    main()
