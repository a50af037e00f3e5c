"""Sealed ballots: what encryption adds to a cast, and what the count costs (issue 13).

    python bench/sealed_integration.py [--ballots 500] [--items 60] [--cast-items 20]

Prints, on this machine:
- sealing one ballot of `--cast-items` persons (three levels each: the ciphertexts and every
  proof), the work a cast now does before its transaction, median of 50;
- a whole cast through `votes.voting.cast_ballot` on a SQLite file, sealed with the process's
  sealing pads, median of 50: back to back (the pads run short) and 0.3 s apart (refilled);
- the count of `--ballots` sealed ballots of `--items` persons (unless --no-count): checking
  every ballot's proofs and adding them up (the encrypted totals, in two processes), one
  member's partial decryption with its proofs, checking it and combining it into the totals
  (a committee of one: k = 1), and the same with k = 2 of 3;
- checking the whole public record (every ballot's proofs), in two processes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from votes import sealed


def load() -> str:
    """Return the load averages as text."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _timed(work, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _parameters(items: int) -> sealed.RoundParameters:
    return sealed.RoundParameters(
        "bench", "1", tuple(f"Người {n}" for n in range(items)), (3,) * items
    )


def seal_one(items: int) -> float:
    """Median seconds to seal one ballot of `items` persons."""
    committee, _key = sealed.single_member(sealed.ceremony_context("bench", "seal", 1, 1))
    context = _parameters(items).context
    return _timed(
        lambda: sealed.seal_ballot(
            committee.public_key, context, [n % 3 for n in range(items)], (3,) * items
        ),
        50,
    )


def cast_through_the_application(items: int, pause: float = 0.0) -> float:
    """Median seconds of a whole sealed cast on a SQLite file (seal, claim, store, commit).

    The casts use this process's sealing pads (votes/sealing.py); with a pause between casts
    the background thread refills them, without one they run short and casts draw fresh.
    """
    from sqlalchemy.orm import Session

    from tests.factories import add_committee
    from votes import create_app, operations
    from votes.migrate import upgrade
    from votes.roster import RosterEntry
    from votes.voting import cast_ballot

    folder = Path(tempfile.mkdtemp())
    secret = "bench-secret-0123456789abcdef"
    app = create_app(
        {"SECRET_KEY": secret, "DATABASE_URL": f"sqlite:///{folder / 'v.sqlite3'}", "TESTING": True}
    )
    upgrade(app.extensions["votes.engine"])
    sessions = app.extensions["votes.sessions"]
    with sessions() as session:
        work = operations.Work(session, "bench")
        operations.add_body(work, "B", "Đơn vị", "council")
        round_ = operations.create_round(
            work,
            body_code="B",
            year=2025,
            profile_id="nq96-2023",
            title="Đo",
            roster=[
                RosterEntry(line=n + 2, name=f"Người {n}", position="Ủy viên") for n in range(items)
            ],
            members=60,
            summoned=60,
            present=60,
        )
        add_committee(session, round_.id)
        codes = operations.issue_codes(work, round_.id, 50, secret)
        operations.open_round(work, round_.id)
        session.commit()
        round_id = round_.id
    marks = ["H", "C", "L"] * items
    times = []
    with sessions() as session:
        assert isinstance(session, Session)
        for code in codes:
            start = time.perf_counter()
            cast_ballot(session, secret, code, marks[:items], round_id=round_id)
            times.append(time.perf_counter() - start)
            time.sleep(pause)
    app.extensions["votes.engine"].dispose()
    return statistics.median(times)


def count(ballots: int, items: int, threshold: int, size: int) -> dict[str, float]:
    """Seconds to multiply, partially decrypt (k members), check and combine."""
    ceremony = sealed.ceremony_context("bench", "count", threshold, size)
    if size == 1:
        committee, key = sealed.single_member(ceremony)
        keys = [key]
    else:
        members = [sealed.new_member(ceremony, n, threshold, size) for n in range(1, size + 1)]
        committee = sealed.make_committee(ceremony, [public for public, _ in members])
        shares = [s for _, secret in members for s in sealed.make_shares(secret, committee)]
        keys = [sealed.receive_shares(secret, committee, shares) for _, secret in members]
    parameters = _parameters(items)
    context = parameters.context
    encoded = [
        sealed.seal_ballot(
            committee.public_key, context, [(b + n) % 3 for n in range(items)], parameters.options
        ).to_bytes()
        for b in range(ballots)
    ]
    figures: dict[str, float] = {}
    start = time.perf_counter()
    tally = sealed.aggregate(committee.public_key, context, encoded, parameters.options)
    figures["check every ballot's proofs and add up (2 processes)"] = time.perf_counter() - start
    start = time.perf_counter()
    partials = [sealed.partial_decrypt(key, committee, context, tally) for key in keys[:threshold]]
    figures["partial decryptions (each member on their machine, summed)"] = (
        time.perf_counter() - start
    )
    start = time.perf_counter()
    totals = sealed.combine(committee, context, tally, partials)
    figures["check the partials and combine"] = time.perf_counter() - start
    assert all(sum(row) == ballots for row in totals)
    figures["total (server: the check and the combination)"] = (
        figures["check every ballot's proofs and add up (2 processes)"]
        + figures["check the partials and combine"]
    )
    if size == 1:
        record = sealed.make_record(parameters, committee, encoded, partials, tally=tally)
        start = time.perf_counter()
        problems = sealed.verify_record(record)
        figures["verify the whole record (2 processes)"] = time.perf_counter() - start
        assert problems == []
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=500)
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--cast-items", type=int, default=20)
    parser.add_argument("--no-count", action="store_true", help="only the casting figures")
    options = parser.parse_args()
    sealing = seal_one(options.cast_items) * 1000
    print(f"seal one ballot of {options.cast_items} persons, no pads: {sealing:.1f} ms; {load()}")
    print(
        f"whole sealed cast, SQLite, {options.cast_items} persons, back to back: "
        f"{cast_through_the_application(options.cast_items) * 1000:.1f} ms; {load()}"
    )
    print(
        f"whole sealed cast, SQLite, {options.cast_items} persons, 0.3 s apart (pads refilled): "
        f"{cast_through_the_application(options.cast_items, 0.3) * 1000:.1f} ms; {load()}"
    )
    for threshold, size in () if options.no_count else ((1, 1), (2, 3)):
        figures = count(options.ballots, options.items, threshold, size)
        print(
            f"count of {options.ballots} ballots × {options.items} persons, {threshold} of {size}:"
        )
        for name, seconds in figures.items():
            print(f"  {name}: {seconds:.2f} s")
        print(f"  {load()}")


if __name__ == "__main__":
    main()
