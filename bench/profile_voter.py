"""Profile the voter path in-process: where a voter's CPU time goes, grouped by library.

    python bench/profile_voter.py                 # 100 voters on SQLite
    python bench/profile_voter.py --voters 300 --pg postgresql://postgres@127.0.0.1:5432/postgres
    python bench/profile_voter.py --top 40        # also the 40 functions with most own time
    python bench/profile_voter.py --unsealed      # the encryption stubbed: the path's own cost

Each voter makes a phone's three requests through Flask's test client (the code page, the
code, the cast of a 20-item ballot) against the real application on a fresh database; the
first 20 voters warm up and are not profiled; the round's sealing pads are then planned and
made, as the server's hook makes them (votes/pads.py), before the profiled voters arrive.
cProfile, timed by CPU time (waits for the disk are left out), gives each function's own time,
summed here per library. The test client's work (building requests) is shown apart: gunicorn
does its part of that in production.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import os
import pstats
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    ROUND,
    SECRET,
    TOKEN,
    postgres_database,
    prepare,
    sqlite_database,
    wait_for_pads,
)
from bench._measure import load_average

# The first match wins: more specific places first.
GROUPS = (
    ("/werkzeug/test.py", "test client (not in production)"),
    ("/flask/testing.py", "test client (not in production)"),
    ("profile_voter.py", "test client (not in production)"),
    ("/templates/", "Jinja templates (compiled)"),
    ("/jinja2/", "Jinja runtime"),
    ("/babel/", "Babel / Flask-Babel"),
    ("/flask_babel/", "Babel / Flask-Babel"),
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/psycopg/", "psycopg (PostgreSQL's driver, its Python part)"),
    ("/flask_limiter/", "Flask-Limiter / limits"),
    ("/limits/", "Flask-Limiter / limits"),
    ("/wtforms/", "WTForms / Flask-WTF / signing"),
    ("/flask_wtf/", "WTForms / Flask-WTF / signing"),
    ("/itsdangerous/", "WTForms / Flask-WTF / signing"),
    ("/markupsafe/", "markupsafe (escaping)"),
    ("/werkzeug/", "Werkzeug"),
    ("/flask_login/", "Flask-Login"),
    ("/flask/", "Flask"),
    ("/votes/sealed/", "sealing (votes/sealed: ElGamal, proofs, libsodium calls)"),
    ("/ctypes/", "sealing (votes/sealed: ElGamal, proofs, libsodium calls)"),
    ("/votes/", "votes (our code)"),
)


def group(filename: str) -> str:
    """Name the library a function belongs to."""
    if filename == "~":
        return "C functions (sqlite3, hashing, str, dict…)"
    for part, name in GROUPS:
        if part in filename:
            return name
    return "Python's standard library"


@contextlib.contextmanager
def database(pg: str | None) -> Iterator[str]:
    """A fresh SQLite file or PostgreSQL database."""
    if pg:
        with postgres_database(pg) as url:
            yield url
    else:
        with sqlite_database() as url:
            yield url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--pg", help="profile on PostgreSQL (admin URL)")
    parser.add_argument("--top", type=int, default=0)
    parser.add_argument("--dump", help="also write the profile to this file (pstats)")
    parser.add_argument(
        "--unsealed",
        action="store_true",
        help="the encryption stubbed (bench/web.py's 'unsealed' side): the path's own cost",
    )
    args = parser.parse_args()
    with database(args.pg) as url:
        _round_id, codes = prepare(url, args.voters + 20, args.items)
        os.environ.update(VOTES_DATABASE_URL=url, VOTES_SECRET_KEY=SECRET)
        from bench.web import full_app

        app = full_app(unsealed=args.unsealed)
        marks = {f"item_{n}": "HCL"[n % 3] for n in range(1, args.items + 1)}

        def vote(code: str) -> None:
            client = app.test_client()
            page = client.get("/b")
            token = TOKEN.search(page.text)
            assert token is not None, page.text[:300]
            page = client.post("/", data={"csrf_token": token.group(1), "code": code})
            token, round_id = TOKEN.search(page.text), ROUND.search(page.text)
            assert token is not None and round_id is not None, page.text[:300]  # noqa: PT018
            data = {"csrf_token": token.group(1), "code": code, "action": "cast"}
            cast = client.post("/ballot", data={**data, "round": round_id.group(1), **marks})
            assert cast.status_code == 200 and "receipt-code" in cast.text  # noqa: PT018

        for code in codes[:20]:
            vote(code)
        ready = ""
        if not args.unsealed:
            # As the server's hook does (votes/pads.py): this process keeps the pads of the
            # round's unused codes ready, made before the profiled voters arrive.
            from votes import pads

            plans = pads.plan_once(app.extensions["votes.sessions"], processes=1)
            wait_for_pads(sum(p.ballots(1) * p.items * p.levels for p in plans))
            ready = f"; pads made beforehand for {sum(p.ballots(1) for p in plans)} ballots"
        profile = cProfile.Profile(time.process_time)  # CPU time: waiting (fsync) is not work
        start = time.process_time()
        profile.enable()
        for code in codes[20:]:
            vote(code)
        profile.disable()
        cpu = time.process_time() - start
        app.extensions["votes.engine"].dispose()
    stats = pstats.Stats(profile)
    if args.dump:
        stats.dump_stats(args.dump)
    totals: collections.Counter[str] = collections.Counter()
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        totals[group(filename)] += own
    whole = sum(totals.values())
    print(
        f"{args.voters} voters, {'PostgreSQL' if args.pg else 'SQLite'}: "
        f"{cpu / args.voters * 1000:.1f} ms CPU a voter under the profiler{ready}; "
        f"{load_average()}"
    )
    print("| where | ms a voter (under cProfile) | share |")
    print("|---|---|---|")
    for name, own in totals.most_common():
        print(f"| {name} | {own / args.voters * 1000:.2f} | {own / whole:.0%} |")
    if args.top:
        stats.sort_stats("tottime").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
