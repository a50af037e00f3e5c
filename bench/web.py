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
import secrets
import statistics
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    DEFAULT_PG,
    ROUND,
    SECRET,
    TOKEN,
    census,
    open_ballot,
    percentile,
    postgres_database,
    prepare,
    request,
    serve,
    sqlite_database,
)

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


def stored(database_url: str, round_id: int) -> tuple[int, int]:
    """Count the ballots and receipts of a round."""
    counted = census(database_url, round_id)
    return counted.ballots, counted.receipts


@contextlib.contextmanager
def gunicorn(factory: str, workers: int, env: dict[str, str]) -> Iterator[str]:
    """Run gunicorn with sync workers on a free loopback port; yield its base URL."""
    with serve(env, workers, f"bench.web:{factory}()") as server:
        yield server.url


# ---------------------------------------------------------------------------- the burst


@dataclass
class Burst:
    """Latencies and outcomes of one burst."""

    latencies: list[float] = field(default_factory=list)
    ballots: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


async def _voter(port: int, code: str, items: int, bare: bool, burst: Burst) -> None:
    marks = {f"item_{n}": "HCL"[n % 3] for n in range(1, items + 1)}
    try:
        start = time.perf_counter()
        # The application takes the code by POST (the code page, then the code); the bare
        # baseline still opens its ballot with one GET.
        page = (
            await request(port, "GET", f"/bare/{code}") if bare else await open_ballot(port, code)
        )
        burst.latencies.append(time.perf_counter() - start)
        token = TOKEN.search(page.body)
        if page.status != 200 or token is None:
            burst.errors.append(f"GET {page.status} {page.error}".strip())
            return
        round_id = ROUND.search(page.body)
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
        cast = await request(
            port, "POST", "/bare" if bare else "/ballot", cookie=page.cookie, body=data
        )
        burst.latencies.append(time.perf_counter() - start)
        if cast.status == 200 and (bare or "receipt-code" in cast.body):
            burst.ballots += 1
        else:
            burst.errors.append(f"POST {cast.status} {cast.error}".strip())
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
        rows += run("SQLite", sqlite_database, args)
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
