"""Benchmark the sealed-ballot primitives (votes/sealed); print figures with the load (not a test).

    python bench/sealed.py                        # 20-person casting, 500 ballots × 60 persons
    python bench/sealed.py --ballots 100 --persons 20   # a quick run

(a) Casting: seal_ballot of one 20-person ballot (encryption and every proof), the server's
    work per online ballot; and verify_ballot of it. Target: ≤ 30 ms to seal.
(b) Counting: aggregate the ballots option by option, two members' partial decryptions with
    proofs, the server's check of both and the combination with the discrete logarithms.
    Target: ≤ 5 s for 500 ballots × 60 persons.
(c) The record: verify_record of the same round from its JSON (every proof, every recomputation),
    in one process and spread over the machine's cores. Target: ≤ 60 s.

Options are 3 per person (tín nhiệm cao / tín nhiệm / tín nhiệm thấp). The decrypted totals are
checked against the plain count of the random choices, so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from votes.sealed import (  # noqa: E402 - after the path set-up
    RoundParameters,
    SealingPads,
    aggregate,
    ceremony_context,
    combine,
    make_committee,
    make_record,
    make_shares,
    new_member,
    partial_decrypt,
    receive_shares,
    seal_ballot,
    sodium,
    verify_ballot,
    verify_partial,
    verify_record,
    worker_count,
)


def load() -> str:
    """Return the load averages as text."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    """Run the three measurements."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ballots", type=int, default=500)
    parser.add_argument("--persons", type=int, default=60)
    parser.add_argument("--casting-persons", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(2026)

    ceremony = ceremony_context("bench", "Ban kiểm phiếu", 2, 3)
    made = [new_member(ceremony, i, 2, 3) for i in (1, 2, 3)]
    committee = make_committee(ceremony, [p for p, _ in made])
    shares = [s for _, secret in made for s in make_shares(secret, committee)]
    keys = [receive_shares(secret, committee, shares) for _, secret in made]
    print(f"libsodium {sodium.version()}, 2-of-3 committee; {load()}")

    # (a) casting
    small = RoundParameters(
        "bench",
        "casting",
        tuple(f"P{i}" for i in range(args.casting_persons)),
        (3,) * args.casting_persons,
    )
    seal_times, verify_times = [], []
    for _ in range(args.repeat):
        choices = [rng.randrange(3) for _ in small.items]
        start = time.perf_counter()
        ballot = seal_ballot(committee.public_key, small.context, choices, list(small.options))
        seal_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        verify_ballot(committee.public_key, small.context, ballot, small.options)
        verify_times.append(time.perf_counter() - start)
    size = len(ballot.to_bytes())
    pads = SealingPads(committee.public_key)
    per_ballot = 3 * args.casting_persons
    start = time.perf_counter()
    pads.fill(per_ballot * args.repeat, args.casting_persons * args.repeat)
    filling = (time.perf_counter() - start) / args.repeat
    padded_times = []
    for _ in range(args.repeat):
        choices = [rng.randrange(3) for _ in small.items]
        start = time.perf_counter()
        seal_ballot(committee.public_key, small.context, choices, list(small.options), pads=pads)
        padded_times.append(time.perf_counter() - start)
    print(
        f"(a) with precomputed pads: seal median {statistics.median(padded_times) * 1000:.1f} ms "
        f"at casting; precomputation {filling * 1000:.1f} ms a ballot, off the request path"
    )
    print(
        f"(a) {args.casting_persons}-person ballot: seal median "
        f"{statistics.median(seal_times) * 1000:.1f} ms (min {min(seal_times) * 1000:.1f}), "
        f"verify median {statistics.median(verify_times) * 1000:.1f} ms, "
        f"{size} bytes; target seal ≤ 30 ms; {load()}"
    )

    # (b) counting
    parameters = RoundParameters(
        "bench", "count", tuple(f"P{i}" for i in range(args.persons)), (3,) * args.persons
    )
    context = parameters.context
    expected = [[0, 0, 0] for _ in range(args.persons)]
    start = time.perf_counter()
    encoded = []
    for _ in range(args.ballots):
        choices = [rng.randrange(3) for _ in range(args.persons)]
        for row, choice in enumerate(choices):
            expected[row][choice] += 1
        encoded.append(
            seal_ballot(committee.public_key, context, choices, list(parameters.options)).to_bytes()
        )
    print(
        f"    (sealing {args.ballots} ballots × {args.persons} persons took "
        f"{time.perf_counter() - start:.1f} s)"
    )

    # From the stored encodings, as the server reads them: decoding (every point checked) included.
    start = time.perf_counter()
    tally = aggregate(encoded, parameters.options)
    aggregated = time.perf_counter() - start
    start = time.perf_counter()
    assert aggregate(encoded, parameters.options, workers=worker_count()) == tally
    print(
        f"    (aggregation from the encodings in one process {aggregated:.2f} s, in "
        f"{worker_count()} processes {time.perf_counter() - start:.2f} s; {load()})"
    )
    start = time.perf_counter()
    partials = [partial_decrypt(key, committee, context, tally) for key in keys[:2]]
    decrypted = time.perf_counter() - start
    start = time.perf_counter()
    for partial in partials:
        verify_partial(committee, context, tally, partial)
    totals = combine(committee, context, tally, partials)
    combined = time.perf_counter() - start
    assert totals == expected, "the decrypted totals differ from the plain count"
    total = aggregated + decrypted + combined
    print(
        f"(b) {args.ballots} ballots × {args.persons} persons: aggregate {aggregated:.2f} s, "
        f"2 partial decryptions {decrypted:.2f} s, checks + combine {combined:.2f} s "
        f"(the partials are checked twice: verify_partial and combine), total {total:.2f} s; "
        f"target ≤ 5 s; {load()}"
    )

    # (c) the record
    record = json.loads(json.dumps(make_record(parameters, committee, encoded, partials)))
    size = len(json.dumps(record))
    for workers in sorted({1, worker_count()}):
        start = time.perf_counter()
        problems = verify_record(record, workers=workers)
        elapsed = time.perf_counter() - start
        assert problems == [], problems
        print(
            f"(c) record of {size / 1e6:.1f} MB verified with {workers} process(es) "
            f"in {elapsed:.1f} s; "
            f"target ≤ 60 s; {load()}"
        )


if __name__ == "__main__":
    main()
