"""Benchmark the ballot box on SQLite against bare sqlite3; print ratios (not a test).

    python bench/tally.py                          # 100 000 paper ballots of 20 items, 2 000 casts
    python bench/tally.py --ballots 20000 --casts 500   # a quick run

(a) Paper import: `voting.import_paper_ballots` of a CSV file (parse, check every cell, insert,
    commit) against bare sqlite3 reading the same file with the csv module and inserting it with
    executemany into an equivalent table (one row per ballot, marks packed, WITHOUT ROWID).
    Target: >= 50 % of the baseline's throughput.
(b) Tally: `tally.tally_round` (everything a result needs: the profile, the items, the
    accounting, the quorum) against the fastest bare method: `SELECT status, marks` on the raw
    sqlite3 cursor of the same database file, then `str.count` over each item's column of the
    joined valid ballots. At 10 000, 100 000 and 1 000 000 ballots (`--sizes`). Target: >= 75 %.
(c) Casting: `voting.cast_ballot` through the Python API, one ballot per transaction, against bare
    sqlite3 doing the same in one transaction each (HMAC of the code, mark the credential used
    where it is unused, insert the ballot, insert the receipt). Online ballots are sealed: both
    sides call the same `votes.sealing.encrypt_ballot` (each with its own round's committee key,
    a committee of one made as `votes demo` makes it), and before each timed run the process's
    sealing pads for that side's casts are planned and made, as the server's watch makes them
    (votes/pads.py), so both seal with pads ready. Target: >= 10 %.

Both sides use the same pragmas: WAL, synchronous=FULL, foreign_keys=ON, secure_delete=ON.
The counts are checked against each other, so a fast wrong answer cannot pass. Each part runs
its two sides in turn `--runs` times (at least 3) and compares the medians; the load average
is printed with every figure (the machine may be shared: the ratio is the figure to read).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import hmac
import io
import json
import random
import secrets
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session, sessionmaker

from bench._harness import wait_for_pads
from bench._measure import load_average, median
from votes import credentials, operations, rounds, sealing, tally, voting
from votes.committee import get_key
from votes.db import make_engine, make_sessionmaker, write_session
from votes.demo import demo_committee
from votes.migrate import upgrade
from votes.roster import RosterEntry

SECRET = "bench-secret-0123456789abcdef"
PROFILE = "tn-16kh-2012"  # row scope, D = collected
TARGETS = {"import": 0.50, "tally": 0.75, "cast": 0.10}
# Levels of the profile's scale (H, C, L): a sealed ballot's options per person.
LEVELS = 3
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA secure_delete=ON",
)


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
    """Create an open round of `items` persons (and `codes` voter codes); return id and codes.

    A round with codes gets a committee of one and its key first (online ballots are sealed)."""
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
        round_id = round_.id
    with operations.work(factory, "bench") as work:
        if codes:
            demo_committee(work, round_id, None)
        operations.open_round(work, round_id)
    return round_id, issued


def round_key(factory: sessionmaker[Session], round_id: int) -> tuple[str, str]:
    """Return a sealed round's joint key and context (hexadecimal), as cast_ballot reads them."""
    with factory() as session:
        key = get_key(session, round_id)
        assert key is not None
        assert key.public_key is not None
        assert key.parameters is not None
        return key.public_key, json.loads(key.parameters)["context"]


def make_pads(public_key: str, items: int, ballots: int) -> None:
    """Plan and make this process's sealing pads for `ballots` casts under a key (as the
    server's watch does before a round votes) and wait until they are ready. The cap is raised
    to fit them, as a server's would be for a hall of that size (VOTES_SEALING_PADS)."""
    sealing.PADS_CAP = max(sealing.PADS_CAP, ballots * items * LEVELS)
    sealing.plan_pads(public_key, items, LEVELS, ballots)
    wait_for_pads(ballots * items * LEVELS)


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
CREATE TABLE sealed (
    round_id INTEGER NOT NULL REFERENCES round(id), tracker BLOB NOT NULL, content BLOB NOT NULL,
    PRIMARY KEY (round_id, tracker)) WITHOUT ROWID;
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


LEVEL_NAMES = {"H": "high", "C": "confidence", "L": "low"}


def bare_tally_cursor(path: Path, round_id: int, items: int) -> tuple[int, list[dict[str, int]]]:
    """The fastest bare count: (status, marks) on the raw cursor, str.count per item's column.

    A fresh connection each time, as ours opens a session: both pay for reading the file.
    """
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT status, marks FROM ballot WHERE round_id = ?", (round_id,)
        ).fetchall()
    finally:
        connection.close()
    valid = [marks for status, marks in rows if status == "valid"]
    joined = "".join(valid)
    counts = []
    for item in range(items):
        column = joined[item::items]
        counted = {name: column.count(letter) for letter, name in LEVEL_NAMES.items()}
        counted["invalid"] = column.count("-") + column.count("X")
        counts.append(counted)
    return len(rows) - len(valid), counts


def seed_ballots(
    factory: sessionmaker[Session], round_id: int, ballots: int, items: int, seed: int
) -> tuple[int, list[dict[str, int]]]:
    """Store `ballots` paper ballots in a round directly; return their counts (row scope)."""
    from votes.ballotbox import insert_ballots

    rng = random.Random(seed)
    cells = "H" * 50 + "C" * 30 + "L" * 17 + "--X"
    pool = [
        ("invalid" if rng.random() < 0.01 else "valid", "".join(rng.choices(cells, k=items)))
        for _ in range(2000)
    ]
    chosen = rng.choices(pool, k=ballots)
    counts = [{"high": 0, "confidence": 0, "low": 0, "invalid": 0} for _ in range(items)]
    names = {"H": "high", "C": "confidence", "L": "low", "-": "invalid", "X": "invalid"}
    per_pattern: dict[tuple[str, str], int] = {}
    for ballot in chosen:
        per_pattern[ballot] = per_pattern.get(ballot, 0) + 1
    invalid = 0
    for (status, marks), times in per_pattern.items():
        if status != "valid":
            invalid += times
            continue
        for n, mark in enumerate(marks):
            counts[n][names[mark]] += times
    with write_session(factory) as session:
        rounds.get_round(session, round_id).paper_issued = ballots
        for start in range(0, ballots, 100_000):
            insert_ballots(session, round_id, chosen[start : start + 100_000])
    return invalid, counts


def bare_cast(
    connection: sqlite3.Connection,
    codes: list[str],
    marks: list[list[str]],
    key: tuple[str, str],
) -> list[str]:
    """One transaction per ballot: mark the credential used, insert the sealed ballot and the
    receipt; the ballot sealed first by the same call cast_ballot makes."""
    secret = SECRET.encode()
    public_key, context = key
    receipts = []
    for code, ballot in zip(codes, marks, strict=True):
        digest = hmac.new(secret, code.replace("-", "").upper().encode(), hashlib.sha256).digest()
        tracker, content = sealing.encrypt_ballot(
            public_key, context, ["HCL".index(m) for m in ballot], LEVELS
        )
        receipt = credentials.tracker_receipt(tracker)
        connection.execute("BEGIN IMMEDIATE")
        marked = connection.execute(
            "UPDATE credential SET used = 1 WHERE digest = ? AND used = 0", (digest,)
        ).rowcount
        if marked != 1:
            connection.execute("ROLLBACK")
            raise RuntimeError("code refused")
        connection.execute("INSERT INTO sealed VALUES (0, ?, ?)", (tracker, content))
        connection.execute("INSERT INTO receipt VALUES (0, ?)", (receipt,))
        connection.execute("COMMIT")
        receipts.append(receipt)
    return receipts


# ---------------------------------------------------------------------------- the run


def report(name: str, ours: list[float], bare: list[float], unit: str, amount: int) -> float:
    """Print the medians of both sides, their ratio and the load average; return the ratio."""
    ours_median, bare_median = median(ours), median(bare)
    ratio = bare_median / ours_median  # throughput ratio: (amount / ours) / (amount / bare)
    verdict = "ok" if ratio >= TARGETS[name] else "MISSED"
    print(
        f"{name:>7} {amount:>9,}: ours {ours_median:8.3f} s ({amount / ours_median:>10,.0f} "
        f"{unit}/s)   bare {bare_median:8.3f} s ({amount / bare_median:>10,.0f} {unit}/s)   "
        f"ratio {ratio:6.1%}  target {TARGETS[name]:.0%}  {verdict}   "
        f"(medians of {len(ours)}; {load_average()})",
        flush=True,
    )
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=100_000, help="ballots of the import")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="tally sizes"
    )
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--casts", type=int, default=2_000)
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each part (≥ 3)")
    parser.add_argument(
        "--parts", nargs="+", default=["import", "tally", "cast"], choices=list(TARGETS)
    )
    parser.add_argument("--dir", help="where to put the databases (default: a temporary folder)")
    args = parser.parse_args()
    ratios: dict[str, float] = {}

    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        where = Path(folder)
        ours_path = where / "ours.sqlite3"
        engine = make_engine(f"sqlite:///{ours_path}")
        upgrade(engine)
        factory = make_sessionmaker(engine)
        bare = bare_connect(where / "bare.sqlite3")
        bare.executescript(BARE_SCHEMA)
        print(f"SQLite {sqlite3.sqlite_version}; {load_average()} at the start", flush=True)

        if "import" in args.parts:
            data = paper_file(args.ballots, args.items)
            print(
                f"import: {args.ballots:,} paper ballots of {args.items} items "
                f"({len(data) / 1e6:.1f} MB)"
            )
            # A small untimed import first, so that no side pays for first-time compilation.
            warm_up = paper_file(100, args.items)
            ours_import(factory, new_round(factory, args.items)[0], warm_up, 100)
            bare.execute("INSERT INTO round VALUES (-1, 'open')")
            bare_import(bare, warm_up, -1)
            ours_times, bare_times = [], []
            for run in range(1, args.runs + 1):
                round_id, _ = new_round(factory, args.items)
                start = time.perf_counter()
                ours_import(factory, round_id, data, args.ballots)
                ours_times.append(time.perf_counter() - start)
                bare.execute("INSERT INTO round VALUES (?, 'open')", (run,))
                start = time.perf_counter()
                assert bare_import(bare, data, run) == args.ballots
                bare_times.append(time.perf_counter() - start)
            ratios["import"] = report("import", ours_times, bare_times, "ballots", args.ballots)

        if "tally" in args.parts:
            # Ours and the bare count read the same ballots from the same file, in turn.
            worst = 1.0
            for size in args.sizes:
                round_id, _ = new_round(factory, args.items)
                want = seed_ballots(factory, round_id, size, args.items, seed=size)
                ours_times, bare_times = [], []
                for _ in range(max(args.runs, 3)):
                    start = time.perf_counter()
                    counted = ours_tally(factory, round_id)
                    ours_times.append(time.perf_counter() - start)
                    assert counted == want, "our tally disagrees with the ballots stored"
                    start = time.perf_counter()
                    counted = bare_tally_cursor(ours_path, round_id, args.items)
                    bare_times.append(time.perf_counter() - start)
                    assert counted == want, "the bare count disagrees with the ballots stored"
                worst = min(worst, report("tally", ours_times, bare_times, "ballots", size))
            ratios["tally"] = worst

        if "cast" in args.parts:
            # Ours and bare in turn, a fresh set of codes each run.
            rng = random.Random(7)
            marks = [rng.choices("HCL", k=args.items) for _ in range(args.casts)]
            bare.execute("INSERT INTO round VALUES (0, 'open')")
            ours_times, bare_times = [], []
            for _ in range(args.runs):
                cast_round, codes = new_round(factory, args.items, codes=args.casts)
                ours_key = round_key(factory, cast_round)[0]
                make_pads(ours_key, args.items, args.casts)
                start = time.perf_counter()
                receipts = ours_cast(factory, cast_round, codes, marks)
                ours_times.append(time.perf_counter() - start)
                assert len(set(receipts)) == args.casts
                sealing.drop_sealing_pads(ours_key)
                # The bare side seals under a key of its own, its pads made alike.
                key = round_key(factory, new_round(factory, args.items, codes=1)[0])
                make_pads(key[0], args.items, args.casts)
                bare_codes = [credentials.new_code() for _ in range(args.casts)]
                bare.execute("BEGIN")
                bare.executemany(
                    "INSERT INTO credential (round_id, digest) VALUES (0, ?)",
                    [(credentials.digest(SECRET, code),) for code in bare_codes],
                )
                bare.execute("COMMIT")
                start = time.perf_counter()
                receipts = bare_cast(bare, bare_codes, marks, key)
                bare_times.append(time.perf_counter() - start)
                assert len(set(receipts)) == args.casts
                sealing.drop_sealing_pads(key[0])
            ratios["cast"] = report("cast", ours_times, bare_times, "ballots", args.casts)

        bare.close()
        engine.dispose()
    missed = [name for name, ratio in ratios.items() if ratio < TARGETS[name]]
    print("all targets met" if not missed else f"targets missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
