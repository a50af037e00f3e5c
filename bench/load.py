"""Load: a 500-voter burst and the highest sustained ballot rate, then exactly-once checks.

    python bench/load.py                                   # SQLite and PostgreSQL, 2 workers
    python bench/load.py --db sqlite --workers 4 --seconds 20
    python bench/load.py --db postgresql --pg postgresql://postgres@127.0.0.1:5432/postgres

For each database (a fresh SQLite file, or a fresh PostgreSQL database) it starts gunicorn
with sync workers on 127.0.0.1, seeds one open round with voter codes, and then:

(a) burst: `--voters` voters (500) arrive evenly over `--window` seconds (10), open loop,
    once the workers are idle (each made the sealing pads of its share of the round's unused
    codes, votes/pads.py, as when a hall's round is ready before the chair opens it;
    `--cold`: at once);
    each fetches the ballot and submits it (`--via form`: GET /b/CODE + POST /ballot as a
    phone does; `--via api`: POST /api/v1/ballot + POST /api/v1/ballots);
(b) sustained: a closed-loop ramp (1, 2, 4, … voters in flight, `--step` seconds each) finds
    the concurrency with the most ballots/s, no errors and a submit p99 under `--p99`; that
    concurrency then runs for `--seconds` (60).

It prints ballots/s, latency p50/p95/p99 and errors per phase, then checks that stored ballots
= stored receipts = codes used = receipts the voters received, that no receipt was handed out
twice, and closes the round and runs `votes verify` on it. The exit status is non-zero when a
check fails. Loopback only; every request has a timeout and every phase a time bound.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    DEFAULT_PG,
    SECRET,
    Vote,
    census,
    close_and_verify,
    closed_loop,
    open_loop,
    percentile,
    postgres_database,
    postgres_reachable,
    prepare,
    serve,
    sqlite_database,
    wait_until_idle,
)
from bench._measure import load_average


@dataclass
class Phase:
    """The outcome of one phase: its votes and how long it took."""

    name: str
    votes: list[Vote]
    seconds: float
    concurrency: int = 0

    @property
    def receipts(self) -> list[str]:
        return [v.receipt for v in self.votes if v.receipt]

    @property
    def errors(self) -> list[Vote]:
        return [v for v in self.votes if not v.ok]

    @property
    def rate(self) -> float:
        return len(self.receipts) / self.seconds if self.seconds else 0.0

    def latencies(self, step: int | None = None) -> list[float]:
        """Request latencies (seconds): every request, or only fetches (0) or submits (1)."""
        if step is None:
            return [t for v in self.votes for t in v.latencies]
        return [v.latencies[step] for v in self.votes if len(v.latencies) > step]

    def row(self) -> dict[str, object]:
        """The figures of the phase, latencies in milliseconds."""
        every, submit = self.latencies(), self.latencies(1)
        kinds = Counter(f"{v.step} {v.status or v.error.split(':')[0]}" for v in self.errors)
        return {
            "phase": self.name,
            "concurrency": self.concurrency or "open loop",
            "voters": len(self.votes),
            "seconds": round(self.seconds, 2),
            "ballots_per_s": round(self.rate, 1),
            "p50_ms": ms(statistics.median(every)) if every else 0,
            "p95_ms": ms(percentile(every, 0.95)),
            "p99_ms": ms(percentile(every, 0.99)),
            "submit_p99_ms": ms(percentile(submit, 0.99)),
            "errors": len(self.errors),
            "error_kinds": dict(kinds),
        }


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


class CodePool:
    """Voter codes of the open round, issued in batches as the phases need them."""

    def __init__(self, database_url: str, round_id: int, codes: list[str]) -> None:
        self.database_url, self.round_id, self.codes = database_url, round_id, list(codes)

    def take(self, count: int) -> list[str]:
        if count > len(self.codes):
            self.codes += issue_more(self.database_url, self.round_id, count - len(self.codes))
        taken, self.codes = self.codes[:count], self.codes[count:]
        return taken


def issue_more(database_url: str, round_id: int, count: int) -> list[str]:
    """Issue more codes for the open round (as an organizer may while it is open)."""
    from votes import create_app, operations

    app = create_app({"SECRET_KEY": SECRET, "DATABASE_URL": database_url, "TESTING": True})
    with operations.work(app.extensions["votes.sessions"], "bench") as work:
        codes = operations.issue_codes(work, round_id, count, SECRET)
    app.extensions["votes.engine"].dispose()
    return codes


def ramp(port: int, pool: CodePool, args: argparse.Namespace) -> tuple[int, list[Phase]]:
    """Find the concurrency with the most ballots/s that keeps errors at 0 and p99 in bounds."""
    steps: list[Phase] = []
    best: Phase | None = None
    flat = 0
    expected = 100.0
    for concurrency in args.ramp:
        codes = pool.take(int(max(200, expected * args.step * 3)))
        votes, seconds = asyncio.run(
            closed_loop(port, codes, args.items, concurrency, args.step, args.via)
        )
        phase = Phase(f"ramp c={concurrency}", votes, seconds, concurrency)
        steps.append(phase)
        print(phase.row(), flush=True)
        expected = max(expected, phase.rate)
        good = not phase.errors and percentile(phase.latencies(1), 0.99) <= args.p99 / 1000
        if not good:
            break
        if best is None or phase.rate > best.rate * 1.05:
            best, flat = phase, 0
        else:
            flat += 1
            if flat >= 2:  # two steps without a gain: the server is saturated
                break
    return (best.concurrency if best else args.ramp[0]), steps


@dataclass
class Result:
    """Everything measured and checked on one database."""

    database: str
    phases: list[Phase] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def check(self, what: str, ok: bool, detail: str = "") -> None:
        self.checks.append((what, ok, detail))
        print(f"  {'ok  ' if ok else 'FAIL'} {what} {detail}", flush=True)


def run(
    database: str, make_url: Callable[[], AbstractContextManager[str]], args: argparse.Namespace
) -> Result:
    """Burst, ramp and sustained phases on a fresh database, then the checks."""
    result = Result(database)
    with make_url() as database_url:
        round_id, codes = prepare(database_url, args.voters, args.items, summoned=1_000_000)
        pool = CodePool(database_url, round_id, codes)
        env = {
            "VOTES_DATABASE_URL": database_url,
            "VOTES_SECRET_KEY": SECRET,
            # Only refused codes count against the limit; none are refused here.
            "VOTES_CODE_RATE_LIMIT": "100000/minute",
        }
        with serve(env, args.workers) as server:
            print(
                f"\n== {database}: gunicorn {args.workers} sync workers at {server.url}", flush=True
            )
            if not args.cold:
                waited = wait_until_idle([server])
                print(
                    f"  workers idle after {waited:.0f} s (the sealing pads of the round's "
                    f"{args.voters} codes made ahead, as before a hall votes); {load_average()}",
                    flush=True,
                )
            burst_codes = pool.take(args.voters)
            start = time.perf_counter()
            votes = asyncio.run(
                open_loop(server.port, burst_codes, args.items, args.window, args.via)
            )
            burst = Phase("burst", votes, time.perf_counter() - start)
            result.phases.append(burst)
            print(burst.row(), flush=True)

            concurrency, steps = ramp(server.port, pool, args)
            result.phases += steps
            expected = max(p.rate for p in steps) if steps else 100.0
            sustained_codes = pool.take(int(max(1000, expected * args.seconds * 1.5)))
            votes, seconds = asyncio.run(
                closed_loop(
                    server.port, sustained_codes, args.items, concurrency, args.seconds, args.via
                )
            )
            sustained = Phase("sustained", votes, seconds, concurrency)
            result.phases.append(sustained)
            print(sustained.row(), flush=True)
        check(result, database_url, round_id, args)
    return result


def check(result: Result, database_url: str, round_id: int, args: argparse.Namespace) -> None:
    """Stored ballots = receipts = codes used = receipts received; no duplicates; verify."""
    print(f"== {result.database}: checks", flush=True)
    received = [r for p in result.phases for r in p.receipts]
    unanswered = sum(1 for p in result.phases for v in p.errors if v.status == 0)
    counted = census(database_url, round_id)
    result.check(
        "stored ballots = stored receipts = codes used",
        counted.ballots == counted.receipts == counted.codes_used,
        f"({counted.ballots} = {counted.receipts} = {counted.codes_used})",
    )
    result.check(
        "no receipt handed out twice",
        len(received) == len(set(received)),
        f"({len(received)} received, {len(set(received))} distinct)",
    )
    result.check(
        "every receipt handed out is stored",
        set(received) <= counted.receipt_values,
        f"({len(set(received) - counted.receipt_values)} missing)",
    )
    # A request that got no answer may have committed: its ballot is stored, its voter
    # would see "already used" on a retry. Only those may make the store larger.
    result.check(
        "stored receipts = received (+ requests that got no answer)",
        len(received) <= counted.receipts <= len(received) + unanswered,
        f"({counted.receipts} stored, {len(received)} received, {unanswered} unanswered)",
    )
    burst = result.phases[0]
    result.check(
        f"burst: {args.voters} voters, no errors",
        len(burst.receipts) == args.voters and not burst.errors,
        f"({len(burst.receipts)} receipts, {len(burst.errors)} errors, {burst.seconds:.1f} s)",
    )
    # Not a correctness check: whether the server kept pace with the arrivals.
    late = burst.seconds - args.window
    print(
        f"  note burst done {burst.seconds:.1f} s after the first arrival "
        f"(window {args.window:g} s)"
        + (": the server kept pace" if late < 1 else f": it fell {late:.1f} s behind"),
        flush=True,
    )
    sustained = result.phases[-1]
    result.check("sustained: no errors", not sustained.errors, f"({len(sustained.errors)} errors)")
    ok, output = close_and_verify(database_url, round_id)
    result.check(
        "votes verify on the closed round", ok, f"({output.splitlines()[-1] if output else ''})"
    )


def report(results: list[Result], args: argparse.Namespace) -> None:
    """Print the table of figures in Markdown."""
    print(
        f"\n{args.workers} sync workers, {args.items}-item ballot, via {args.via}; latencies per "
        "request (fetch and submit), milliseconds\n"
    )
    print(
        "| database | phase | in flight | voters | s | ballots/s | p50 | p95 | p99 "
        "| submit p99 | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for result in results:
        for phase in result.phases:
            if phase.name.startswith("ramp") and not args.show_ramp:
                continue
            r = phase.row()
            print(
                f"| {result.database} | {r['phase']} | {r['concurrency']} | {r['voters']} | "
                f"{r['seconds']} | {r['ballots_per_s']} | {r['p50_ms']} | {r['p95_ms']} | "
                f"{r['p99_ms']} | {r['submit_p99_ms']} | {r['errors']} |"
            )
    failed = [(r.database, what) for r in results for what, ok, _ in r.checks if not ok]
    print("\nchecks: " + ("all passed" if not failed else f"FAILED {failed}"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"]
    )
    parser.add_argument(
        "--pg", default=DEFAULT_PG, help="PostgreSQL admin URL (a database is created)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="burst as soon as the workers answer, without waiting for them to be idle (the "
        "sealing pads not made ahead: a round opened the moment the server starts)",
    )
    parser.add_argument("--via", choices=["form", "api"], default="form")
    parser.add_argument("--items", type=int, default=20, help="persons on the ballot")
    parser.add_argument("--voters", type=int, default=500, help="voters in the burst")
    parser.add_argument(
        "--window", type=float, default=10.0, help="seconds the burst's voters arrive over"
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the sustained phase")
    parser.add_argument("--step", type=float, default=5.0, help="seconds per ramp step")
    parser.add_argument(
        "--ramp", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32], help="concurrencies tried"
    )
    parser.add_argument(
        "--p99", type=float, default=250.0, help="submit p99 bound (ms) for the ramp"
    )
    parser.add_argument("--show-ramp", action="store_true", help="list the ramp steps in the table")
    args = parser.parse_args()

    results: list[Result] = []
    failed_setup = False
    for db in args.db:
        if db == "sqlite":
            results.append(run("SQLite", sqlite_database, args))
            continue
        reason = postgres_reachable(args.pg)
        if reason:
            print(f"PostgreSQL at {args.pg} unreachable: {reason}", file=sys.stderr)
            failed_setup = True
            continue

        def pg_url(url: str = args.pg) -> AbstractContextManager[str]:
            return postgres_database(url)

        results.append(run("PostgreSQL", pg_url, args))
    report(results, args)
    failed = failed_setup or any(not ok for r in results for _, ok, _ in r.checks)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
