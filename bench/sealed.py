"""Benchmark the sealed-ballot primitives (votes/sealed); print figures with the load (not a test).

    python bench/sealed.py                        # 20-person casting, 500 ballots × 60 persons
    python bench/sealed.py --ballots 100 --persons 20   # a quick run

(a) Casting: seal_ballot of one 20-person ballot (encryption and every proof) without pads,
    and the server's path, votes.sealing.encrypt_ballot with this process's sealing pads ready
    (filled by its background thread); verify_ballot of it. Target: ≤ 30 ms at casting.
(b) Counting, the server's work at close and count: every ballot decoded (points checked) and
    added up (m − 1 options a row, add_up: the server does not check again the proofs of the
    ballots it sealed — the verifier does, (c)); the two members' partial decryptions checked,
    combined, and the discrete logarithms. Target: ≤ 5 s for 500 ballots × 60 persons. The
    partial decryptions themselves (members' machines) are shown apart.
(c) The record: verify_record of the same round from its JSON (every proof, every
    recomputation), in --verify-workers processes (2). Target: ≤ 60 s.

Options are 3 per person (tín nhiệm cao / tín nhiệm / tín nhiệm thấp). The decrypted totals are
checked against the plain count of the random choices, so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from votes import sealing  # noqa: E402 - after the path set-up
from votes.sealed import (  # noqa: E402 - after the path set-up
    RoundParameters,
    add_up,
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
    verify_record,
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
    parser.add_argument(
        "--verify-workers", type=int, nargs="+", default=[2], help="processes for (c)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of (b) and (c)")
    parser.add_argument("--skip", choices=["b", "c", "bc"], default="")
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
    # The server's path: votes.sealing.encrypt_ballot with this process's pads for the key,
    # filled by the background thread (here filled for all the casts before timing them).
    key_hex, context_hex = committee.public_key.hex(), small.context.hex()
    per_ballot = 3 * args.casting_persons
    pads = sealing.sealing_pads(committee.public_key, per_ballot, args.casting_persons)
    pool = sealing._pools[committee.public_key]
    pool.ballots = args.repeat
    pool.wanted.set()
    start = time.perf_counter()
    while pads is not None and pads.available()[0] < per_ballot * args.repeat:
        time.sleep(0.05)
    filling = (time.perf_counter() - start) / args.repeat
    padded_times = []
    for _ in range(args.repeat):
        choices = [rng.randrange(3) for _ in small.items]
        start = time.perf_counter()
        sealing.encrypt_ballot(key_hex, context_hex, choices, 3)
        padded_times.append(time.perf_counter() - start)
    pool.stop()
    print(
        f"(a) server path (votes.sealing.encrypt_ballot, pads ready): median "
        f"{statistics.median(padded_times) * 1000:.1f} ms (min {min(padded_times) * 1000:.1f}) "
        f"at casting, tracker and encoding included; the background thread took "
        f"{filling * 1000:.0f} ms a ballot to fill them, off the request path; {load()}"
    )
    print(
        f"(a) {args.casting_persons}-person ballot without pads: seal median "
        f"{statistics.median(seal_times) * 1000:.1f} ms (min {min(seal_times) * 1000:.1f}), "
        f"verify median {statistics.median(verify_times) * 1000:.1f} ms, "
        f"{size} bytes; target seal ≤ 30 ms; {load()}"
    )

    if "b" in args.skip:
        return
    # (b) counting
    parameters = RoundParameters(
        "bench", "count", tuple(f"P{i}" for i in range(args.persons)), (3,) * args.persons
    )
    context = parameters.context
    expected = [[0, 0, 0] for _ in range(args.persons)]
    all_choices = [[rng.randrange(3) for _ in range(args.persons)] for _ in range(args.ballots)]
    for choices in all_choices:
        for row, choice in enumerate(choices):
            expected[row][choice] += 1
    start = time.perf_counter()
    # The box is sealed in processes too (not measured: it is the voters' casts).
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        encoded = list(
            pool.map(
                _sealed,
                [committee.public_key] * args.ballots,
                [context] * args.ballots,
                all_choices,
                chunksize=25,
            )
        )
    print(
        f"    (sealing {args.ballots} ballots × {args.persons} persons took "
        f"{time.perf_counter() - start:.1f} s)"
    )

    # From the stored encodings, as the server reads them at close: every ballot decoded
    # (points checked) and added up (m − 1 options a row); the proofs are the verifier's, (c).
    counts, combines = [], []
    for _ in range(args.runs):
        start, cpu = time.perf_counter(), _cpu()
        tally = add_up(committee.public_key, context, encoded, parameters.options)
        aggregated, aggregated_cpu = time.perf_counter() - start, _cpu() - cpu
        start = time.perf_counter()
        partials = [partial_decrypt(key, committee, context, tally) for key in keys[:2]]
        decrypted = time.perf_counter() - start
        start = time.perf_counter()
        totals = combine(committee, context, tally, partials)  # checks every partial's proofs
        combined = time.perf_counter() - start
        assert totals == expected, "the decrypted totals differ from the plain count"
        counts.append(aggregated)
        combines.append(combined)
        print(
            f"(b) {args.ballots} ballots × {args.persons} persons: decode and add up "
            f"{aggregated:.2f} s (CPU {aggregated_cpu:.1f} s), checks of the 2 partial "
            f"decryptions + combine + discrete logs {combined:.2f} s: server total "
            f"{aggregated + combined:.2f} s (target ≤ 5 s); the 2 partial decryptions (on the "
            f"members' machines) {decrypted:.2f} s; {load()}"
        )
    print(
        f"(b) median of {args.runs}: {statistics.median(counts):.2f} s + "
        f"{statistics.median(combines):.2f} s; {load()}"
    )

    if "c" in args.skip:
        return
    # (c) the record
    record = json.loads(
        json.dumps(make_record(parameters, committee, encoded, partials, tally=tally))
    )
    size = len(json.dumps(record))
    for workers in args.verify_workers:
        times = []
        for _ in range(args.runs):
            start, cpu = time.perf_counter(), _cpu()
            problems = verify_record(record, workers=workers)
            times.append(time.perf_counter() - start)
            assert problems == [], problems
            print(
                f"(c) record of {size / 1e6:.1f} MB verified with {workers} process(es) "
                f"in {times[-1]:.1f} s (CPU {_cpu() - cpu:.1f} s); target ≤ 60 s; {load()}"
            )
        print(f"(c) median of {args.runs}: {statistics.median(times):.1f} s; {load()}")


def _cpu() -> float:
    """Return the CPU seconds of this process and of its finished child processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _sealed(public_key: bytes, context: bytes, choices: list[int]) -> bytes:
    return seal_ballot(public_key, context, choices, [3] * len(choices)).to_bytes()


if __name__ == "__main__":
    main()
