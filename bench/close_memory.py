"""Benchmark: peak memory of closing, sealing and verifying a round of a million ballots.

    python bench/close_memory.py                         # 1 000 000 ballots, SQLite and PostgreSQL
    python bench/close_memory.py --ballots 200000 --no-pg

Each step runs in a process of its own, and its peak resident memory is the kernel's
(ru_maxrss from wait4), so nothing the benchmark itself holds is counted:
- idle: the application built, its database opened, nothing done (the floor);
- close: `operations.close_round` (rewrite of the box in random order, the count, the seal,
  the log), committed;
- seal: the seal of the closed round computed again (`seal.current_seal`);
- verify: `votes verify ROUND`, the command an auditor runs.
The box is filled beforehand by another process: paper ballots of `--items` items, 1 % spoilt.
Target (issue 18): every step under 300 MB on both databases.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import DEFAULT_PG, SECRET, postgres_database, sqlite_database
from bench._measure import load_average

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 300


def _application(url: str):  # type: ignore[no-untyped-def]
    from votes import create_app

    return create_app({"SECRET_KEY": SECRET, "DATABASE_URL": url, "TESTING": True})


def child_setup(url: str, ballots: int, items: int) -> None:
    """Create the round and fill its box; print the round's id."""
    from votes import operations
    from votes.migrate import upgrade
    from votes.roster import parse_roster

    app = _application(url)
    upgrade(app.extensions["votes.engine"])
    sessions = app.extensions["votes.sessions"]
    roster = "name,position\n" + "".join(f"Người {n:02d},Ủy viên\n" for n in range(1, items + 1))
    with operations.work(sessions, "bench") as work:
        body = operations.add_body(work, "BENCH-MEM", "Đơn vị đo bộ nhớ", "party")
        round_ = operations.create_round(
            work,
            body_code=body.code,
            year=2025,
            profile_id="tn-16kh-2012",
            title="Đo bộ nhớ",
            roster=parse_roster(roster.encode()),
            members=ballots,
        )
        operations.open_round(work, round_.id)
        round_id = round_.id
    rng = random.Random(1)
    pool = [
        ("invalid" if rng.random() < 0.01 else "valid")
        + ","
        + ",".join(rng.choices("HCL", k=items))
        for _ in range(5000)
    ]
    header = "status," + ",".join(str(n) for n in range(1, items + 1)) + "\n"
    # Through the import, in files of 100 000 ballots: the log then accounts for every ballot.
    for start in range(0, ballots, 100_000):
        lines = rng.choices(pool, k=min(100_000, ballots - start))
        with operations.work(sessions, "bench") as work:
            operations.import_paper_ballots(
                work,
                round_id,
                (header + "\n".join(lines) + "\n").encode(),
                issued=ballots,
                another_stack=True,
            )
    print(round_id)


def child_step(step: str, url: str, round_id: int) -> None:
    """Run one step in this process (its peak memory is measured by the parent)."""
    from votes import operations, seal
    from votes.rounds import get_round

    app = _application(url)
    sessions = app.extensions["votes.sessions"]
    if step == "close":
        with operations.work(sessions, "bench") as work:
            operations.close_round(work, round_id)
    elif step == "seal":
        with sessions() as session:
            print(seal.current_seal(session, get_round(session, round_id))[0])
    # "idle": nothing beyond building the application


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Start this script as a child with `args`, measuring its peak memory with wait4."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=errors, env={**os.environ, **env}, cwd=ROOT
        )
        out = process.stdout.read() if process.stdout else b""
        _pid, status, usage = os.wait4(process.pid, 0)
        errors.seek(0)
        err = errors.read()
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{err.decode()[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024, out.decode()


def run(database: str, url: str, args: argparse.Namespace) -> list[tuple[str, float, float, str]]:
    """Fill a round, then measure each step; return (step, seconds, peak MB, load average)."""
    me = [sys.executable, str(Path(__file__).resolve())]
    env = {"VOTES_DATABASE_URL": url, "VOTES_SECRET_KEY": SECRET}
    elapsed, _peak, out = run_child(
        [*me, "--child", "setup", url, str(args.ballots), str(args.items)], env
    )
    round_id = int(out.split()[-1])
    print(f"{database}: {args.ballots:,} ballots stored in {elapsed:.0f} s", flush=True)
    rows = []
    for step in ("idle", "close", "seal", "verify"):
        if step == "verify":
            command = [sys.executable, "-m", "votes.cli", "verify", str(round_id)]
        else:
            command = [*me, "--child", step, url, str(round_id)]
        elapsed, peak, _out = run_child(command, env)
        verdict = "ok" if peak < TARGET_MB else "OVER"
        print(
            f"  {database} {step:>6}: {elapsed:7.1f} s, peak {peak:7.1f} MB "
            f"(target < {TARGET_MB} MB: {verdict}); {load_average()}",
            flush=True,
        )
        rows.append((step, elapsed, peak, load_average()))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--pg", default=os.environ.get("VOTES_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        step, url, *rest = args.child
        if step == "setup":
            child_setup(url, int(rest[0]), int(rest[1]))
        else:
            child_step(step, url, int(rest[0]))
        return 0
    results: dict[str, list[tuple[str, float, float, str]]] = {}
    if not args.no_sqlite:
        with sqlite_database() as url:
            results["SQLite"] = run("SQLite", url, args)
    if not args.no_pg:
        with postgres_database(args.pg) as url:
            results["PostgreSQL"] = run("PostgreSQL", url, args)
    print("\n| database | step | time (s) | peak memory (MB) | target | load |")
    print("|---|---|---|---|---|---|")
    over = False
    for database, rows in results.items():
        for step, elapsed, peak, load in rows:
            over |= peak >= TARGET_MB
            print(
                f"| {database} | {step} | {elapsed:.1f} | {peak:.0f} | < {TARGET_MB} MB "
                f"{'ok' if peak < TARGET_MB else 'OVER'} | {load} |"
            )
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
