"""Benchmark the ballot box on SQLite against bare sqlite3; print ratios (not a test).

    python bench/tally.py                          # 100 000 paper ballots of 20 items, 2 000 casts
    python bench/tally.py --ballots 20000 --casts 500   # a quick run

(a) Paper import: `voting.import_paper_ballots` of a CSV file (parse, check every cell, insert,
    commit) against bare sqlite3 reading the same file with the csv module and inserting it with
    executemany into an equivalent table (one row per ballot, marks packed, WITHOUT ROWID).
    Target: >= 50 % of the baseline's throughput.
(b) Tally: `tally.tally_round` against the fastest bare sqlite3 count of the same ballots:
    GROUP BY on a one-row-per-mark table with a covering index, or GROUP BY substr() on the
    packed table. Target: >= 50 %.
(c) Casting: `voting.cast_ballot` through the Python API, one ballot per transaction, against bare
    sqlite3 doing the same in one transaction each (HMAC of the code, mark the credential used
    where it is unused, insert the ballot, insert the receipt). Target: >= 10 %.

Both sides use the same pragmas: WAL, synchronous=FULL, foreign_keys=ON, secure_delete=ON.
The counts are checked against each other, so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import io
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session, sessionmaker

from votes import credentials, rounds, tally, voting
from votes.db import make_engine, make_sessionmaker, write_session
from votes.migrate import upgrade
from votes.roster import RosterEntry

SECRET = "bench-secret-0123456789abcdef"
PROFILE = "tn-16kh-2012"  # row scope, D = collected
TARGETS = {"import": 0.50, "tally": 0.50, "cast": 0.10}
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
)


def best_of(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    """Return the fastest wall time of `runs` runs and the last result."""
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return min(times), result


# ---------------------------------------------------------------------------- the data


def paper_file(ballots: int, items: int, seed: int = 2025) -> bytes:
    """A CSV of paper ballots: mostly valid, a few spoiled, some empty and X cells."""
    rng = random.Random(seed)
    cells = ["H"] * 50 + ["C"] * 30 + ["L"] * 17 + [""] * 2 + ["X"]
    out = io.StringIO()
    out.write("status," + ",".join(str(n) for n in range(1, items + 1)) + "\n")
    for _ in range(ballots):
        status = "invalid" if rng.random() < 0.01 else "valid"
        out.write(status + "," + ",".join(rng.choices(cells, k=items)) + "\n")
    return out.getvalue().encode()


def expected_counts(data: bytes, items: int) -> tuple[int, list[dict[str, int]]]:
    """Count the file the obvious way (row scope), to check both sides' answers."""
    rows = list(csv.reader(io.StringIO(data.decode())))[1:]
    invalid = sum(1 for row in rows if row[0] == "invalid")
    counts = [{"high": 0, "confidence": 0, "low": 0, "invalid": 0} for _ in range(items)]
    names = {"H": "high", "C": "confidence", "L": "low", "": "invalid", "X": "invalid"}
    for row in rows:
        if row[0] == "valid":
            for n, cell in enumerate(row[1:]):
                counts[n][names[cell]] += 1
    return invalid, counts


# ---------------------------------------------------------------------------- ours


def new_round(factory: sessionmaker[Session], items: int, codes: int = 0) -> tuple[int, list[str]]:
    """Create an open round of `items` persons (and `codes` voter codes); return id and codes."""
    with write_session(factory) as session:
        code = f"BENCH-{secrets.token_hex(3)}"
        body = rounds.add_body(session, code, "Ban Chấp hành (thử tải)")
        roster = [
            RosterEntry(line=n + 2, name=f"Người thứ {n + 1}", position="Ủy viên BTV")
            for n in range(items)
        ]
        round_ = rounds.create_round(
            session,
            body,
            year=2025,
            profile_id=PROFILE,
            title="Thử tải",
            roster=roster,
            members=max(codes, 1),
        )
        issued = rounds.issue_round_codes(session, round_, codes, SECRET) if codes else []
        rounds.open_round(session, round_)
        return round_.id, issued


def ours_import(factory: sessionmaker[Session], round_id: int, data: bytes, ballots: int) -> None:
    with write_session(factory) as session:
        round_ = rounds.get_round(session, round_id)
        result = voting.import_paper_ballots(session, round_, data, issued=ballots)
        assert result.count == ballots


def ours_tally(factory: sessionmaker[Session], round_id: int) -> tuple[int, list[dict[str, int]]]:
    with factory() as session:
        counted = tally.tally_round(session, rounds.get_round(session, round_id))
        return counted.invalid, [dict(item.counts) for item in counted.items]


def ours_cast(
    factory: sessionmaker[Session], round_id: int, codes: list[str], marks: list[list[str]]
) -> list[str]:
    with factory() as session:
        return [
            voting.cast_ballot(session, SECRET, code, ballot, round_id=round_id)
            for code, ballot in zip(codes, marks, strict=True)
        ]


# ---------------------------------------------------------------------------- bare sqlite3

BARE_SCHEMA = """
CREATE TABLE round (id INTEGER PRIMARY KEY, status TEXT NOT NULL);
CREATE TABLE credential (
    id INTEGER PRIMARY KEY, round_id INTEGER NOT NULL REFERENCES round(id),
    digest BLOB NOT NULL UNIQUE, used INTEGER NOT NULL DEFAULT 0);
CREATE INDEX ix_credential_round_id ON credential(round_id);
CREATE TABLE ballot (
    round_id INTEGER NOT NULL REFERENCES round(id), id BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('valid', 'invalid')), marks TEXT NOT NULL,
    PRIMARY KEY (round_id, id)) WITHOUT ROWID;
CREATE TABLE receipt (
    round_id INTEGER NOT NULL REFERENCES round(id), receipt TEXT NOT NULL,
    PRIMARY KEY (round_id, receipt)) WITHOUT ROWID;
CREATE TABLE mark (
    round_id INTEGER NOT NULL, ballot INTEGER NOT NULL, valid INTEGER NOT NULL,
    item INTEGER NOT NULL, level TEXT NOT NULL);
"""


def bare_connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in PRAGMAS:
        connection.execute(pragma)
    return connection


def bare_import(connection: sqlite3.Connection, data: bytes, round_id: int) -> int:
    """Read the CSV with the csv module, pack the marks, insert with executemany."""
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    next(reader)
    rows = [
        (round_id, secrets.token_bytes(16), row[0], "".join(cell or "-" for cell in row[1:]))
        for row in reader
    ]
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany("INSERT INTO ballot VALUES (?, ?, ?, ?)", rows)
    connection.execute("COMMIT")
    return len(rows)


def bare_marks(connection: sqlite3.Connection, items: int) -> None:
    """Fill the one-row-per-mark table (not timed) and its covering index."""
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("DELETE FROM mark")
    ballots = connection.execute("SELECT status, marks FROM ballot WHERE round_id = 1")
    connection.executemany(
        "INSERT INTO mark VALUES (1, ?, ?, ?, ?)",
        (
            (number, status == "valid", item, marks[item])
            for number, (status, marks) in enumerate(ballots)
            for item in range(items)
        ),
    )
    connection.execute("CREATE INDEX IF NOT EXISTS ix_mark ON mark (round_id, valid, item, level)")
    connection.execute("COMMIT")
    connection.execute("ANALYZE")


LEVEL_NAMES = {"H": "high", "C": "confidence", "L": "low", "-": "invalid", "X": "invalid"}


def bare_tally_per_mark(connection: sqlite3.Connection, items: int) -> tuple[int, list[dict]]:
    counts = [{"high": 0, "confidence": 0, "low": 0, "invalid": 0} for _ in range(items)]
    for item, level, count in connection.execute(
        "SELECT item, level, count(*) FROM mark WHERE round_id = 1 AND valid = 1 "
        "GROUP BY item, level"
    ):
        counts[item][LEVEL_NAMES[level]] += count
    invalid = connection.execute(
        "SELECT count(*) FROM ballot WHERE round_id = 1 AND status = 'invalid'"
    ).fetchone()[0]
    return invalid, counts


def bare_tally_packed(connection: sqlite3.Connection, items: int) -> tuple[int, list[dict]]:
    counts = [{"high": 0, "confidence": 0, "low": 0, "invalid": 0} for _ in range(items)]
    # One GROUP BY per item: grouping by all 20 letters at once would group whole ballots.
    for item in range(items):
        for level, count in connection.execute(
            f"SELECT substr(marks, {item + 1}, 1), count(*) FROM ballot "
            "WHERE round_id = 1 AND status = 'valid' GROUP BY 1"
        ):
            counts[item][LEVEL_NAMES[level]] += count
    invalid = connection.execute(
        "SELECT count(*) FROM ballot WHERE round_id = 1 AND status = 'invalid'"
    ).fetchone()[0]
    return invalid, counts


def bare_cast(
    connection: sqlite3.Connection, codes: list[str], marks: list[list[str]]
) -> list[str]:
    """One transaction per ballot: mark the credential used, insert the ballot and the receipt."""
    key = SECRET.encode()
    receipts = []
    for code, ballot in zip(codes, marks, strict=True):
        digest = hmac.new(key, code.replace("-", "").upper().encode(), hashlib.sha256).digest()
        receipt = credentials.new_receipt()
        connection.execute("BEGIN IMMEDIATE")
        marked = connection.execute(
            "UPDATE credential SET used = 1 WHERE digest = ? AND used = 0", (digest,)
        ).rowcount
        if marked != 1:
            connection.execute("ROLLBACK")
            raise RuntimeError("code refused")
        connection.execute(
            "INSERT INTO ballot VALUES (0, ?, 'valid', ?)",
            (secrets.token_bytes(16), "".join(ballot)),
        )
        connection.execute("INSERT INTO receipt VALUES (0, ?)", (receipt,))
        connection.execute("COMMIT")
        receipts.append(receipt)
    return receipts


# ---------------------------------------------------------------------------- the run


def report(name: str, ours: float, bare: float, unit: str, amount: int) -> float:
    ratio = bare / ours  # throughput ratio: (amount / ours) / (amount / bare)
    verdict = "ok" if ratio >= TARGETS[name] else "MISSED"
    print(
        f"{name:>7}: ours {ours:8.3f} s ({amount / ours:>10,.0f} {unit}/s)   "
        f"bare {bare:8.3f} s ({amount / bare:>10,.0f} {unit}/s)   "
        f"ratio {ratio:6.1%}  target {TARGETS[name]:.0%}  {verdict}"
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--casts", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of each part; the best counts")
    parser.add_argument("--dir", help="where to put the databases (default: a temporary folder)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        where = Path(folder)
        engine = make_engine(f"sqlite:///{where / 'ours.sqlite3'}")
        upgrade(engine)
        factory = make_sessionmaker(engine)
        bare = bare_connect(where / "bare.sqlite3")
        bare.executescript(BARE_SCHEMA)

        data = paper_file(args.ballots, args.items)
        want = expected_counts(data, args.items)
        print(
            f"{args.ballots:,} paper ballots of {args.items} items ({len(data) / 1e6:.1f} MB), "
            f"{args.casts:,} online ballots; SQLite {sqlite3.sqlite_version}"
        )

        # (a) import: each run into a fresh round, ours and bare in turn (the load is shared).
        # A small untimed import first, so that no side pays for first-time compilation.
        warm_up = paper_file(100, args.items)
        ours_import(factory, new_round(factory, args.items)[0], warm_up, 100)
        bare.execute("INSERT INTO round VALUES (-1, 'open')")
        bare_import(bare, warm_up, -1)
        ours_times, bare_times = [], []
        round_ids = []
        for run in range(1, args.runs + 1):
            round_id, _ = new_round(factory, args.items)
            round_ids.append(round_id)
            elapsed, _ = best_of(1, lambda: ours_import(factory, round_id, data, args.ballots))  # noqa: B023
            ours_times.append(elapsed)
            bare.execute("INSERT INTO round VALUES (?, 'open')", (run,))
            elapsed, stored = best_of(1, lambda: bare_import(bare, data, run))  # noqa: B023
            assert stored == args.ballots
            bare_times.append(elapsed)
        ratios = {
            "import": report("import", min(ours_times), min(bare_times), "ballots", args.ballots)
        }

        # (b) tally of the first round (the table holds `runs` rounds on both sides)
        ours_time, counted = best_of(args.runs, lambda: ours_tally(factory, round_ids[0]))
        assert counted == want, "our tally disagrees with the file"
        bare_marks(bare, args.items)
        per_mark_time, counted = best_of(args.runs, lambda: bare_tally_per_mark(bare, args.items))
        assert counted == want, "the per-mark GROUP BY disagrees with the file"
        packed_time, counted = best_of(args.runs, lambda: bare_tally_packed(bare, args.items))
        assert counted == want, "the packed GROUP BY disagrees with the file"
        print(
            f"         bare tally: per-mark GROUP BY {per_mark_time:.3f} s, "
            f"packed substr GROUP BY {packed_time:.3f} s (the faster is the baseline)"
        )
        ratios["tally"] = report(
            "tally", ours_time, min(per_mark_time, packed_time), "ballots", args.ballots
        )

        # (c) casting: ours and bare in turn, a fresh set of codes each run
        rng = random.Random(7)
        marks = [rng.choices("HCL", k=args.items) for _ in range(args.casts)]
        bare.execute("INSERT INTO round VALUES (0, 'open')")
        ours_times, bare_times = [], []
        for _ in range(args.runs):
            cast_round, codes = new_round(factory, args.items, codes=args.casts)
            elapsed, receipts = best_of(1, lambda: ours_cast(factory, cast_round, codes, marks))  # noqa: B023
            assert len(set(receipts)) == args.casts
            ours_times.append(elapsed)
            bare_codes = [credentials.new_code() for _ in range(args.casts)]
            bare.execute("BEGIN")
            bare.executemany(
                "INSERT INTO credential (round_id, digest) VALUES (0, ?)",
                [(credentials.digest(SECRET, code),) for code in bare_codes],
            )
            bare.execute("COMMIT")
            elapsed, receipts = best_of(1, lambda: bare_cast(bare, bare_codes, marks))  # noqa: B023
            assert len(set(receipts)) == args.casts
            bare_times.append(elapsed)
        ratios["cast"] = report("cast", min(ours_times), min(bare_times), "ballots", args.casts)

        bare.close()
        engine.dispose()
    missed = [name for name, ratio in ratios.items() if ratio < TARGETS[name]]
    print("all targets met" if not missed else f"targets missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
