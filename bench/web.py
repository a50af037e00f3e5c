"""Benchmark: the voter path against a bare app doing the same durable work (gunicorn).

    python bench/web.py                # SQLite, and PostgreSQL when 127.0.0.1:5432 answers
    python bench/web.py --voters 300 --runs 3 --workers 2 4 --items 20
    python bench/web.py --no-pg --workers 2 --voters 200     # a quick look

Full path: a voter opens the code page (GET /b), sends the code (POST /: code look-up, the
ballot page, CSRF token, session cookie) and casts (POST /ballot action=cast: CSRF, form
validation, the rate limiter, cast_ballot in one write transaction, the receipt page).

Bare baseline, written to do the same durable work and nothing else: Flask and a WTForms form
with the code and one radio field per item, on the raw driver (sqlite3 / psycopg) with the same
pragmas (WAL, synchronous=FULL, foreign_keys, secure_delete). Opening: the code's HMAC digest
looked up (used? round open?) and the form's widgets (written out once) sent. Casting: the form
validated, then in one transaction the code claimed by its HMAC digest (only if unused and its
round open; PostgreSQL share-locks the round as ours does), the ballot inserted with a random
key, a random receipt inserted, commit. No CSRF, no session, no template, no limiter, no ORM.
Sealed ballots: both sides pay for the same encryption; `_sealing()` is the place for the bare
side's call. Both seal with the process's sealing pads (votes/sealing.py: precomputed randomness
refilled by a background thread in each worker), planned alike on both sides: gunicorn runs
with the production settings (votes/gunicorn_config.py), whose hook starts in each worker the
watch that keeps pads for its share of the unused codes of the rounds about to vote
(votes/pads.py); the first measured burst waits until every worker of both sides is idle (its
pads made, as before a hall votes). Each cast notes whether a whole ballot's pads were ready
("pads ready" in the output, both sides): back to back (the default) the later runs may use
up a worker's share; `--gap SECONDS` lets every server idle before each burst, `--think
SECONDS` spaces each voter's ballot page and cast, and then the throughput is the voters' pace:
compare the time of a voter's requests and the server CPU instead. The workers' CPU counts the
refilling thread too, but only while a burst runs: pads made between bursts are not counted on
either side.

Both servers run at once on databases of their own; the client sends them the same kind of
burst in turn (bare, full, bare, full, …, `--runs` times) and the medians are compared, so the
load of a shared machine falls on both. Each figure comes with the load average, the client's
CPU time (the client is pinned to a core of its own when there are ≥ 3 CPUs, or with
`--pin yes`), and the server's CPU time per ballot (the workers' user + system time: the figure
least moved by other jobs). Throughput: `--voters` voters, `--concurrency` in flight (closed
loop). Then the burst: `--voters` voters arriving evenly over `--window` seconds (open loop),
p50/p99 of every request. Afterwards stored ballots = receipts = codes used is checked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import hashlib
import hmac
import importlib
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._harness import (
    DEFAULT_PG,
    SECRET,
    census,
    percentile,
    postgres_database,
    prepare,
    request,
    serve,
    sqlite_database,
    vote_form,
    wait_until_idle,
)
from bench._measure import (
    load_average,
    median,
    own_cpu,
    pin_client,
    pinning_text,
    process_cpu,
)

# ---------------------------------------------------------------------------- the two servers


def _pin_server() -> None:
    cores = os.environ.get("BENCH_SERVER_CPUS")
    if cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(c) for c in cores.split(",")})


def _counting_pads(
    encrypt: Callable[[str, str, list[int], int], tuple[bytes, bytes]],
) -> Callable[[str, str, list[int], int], tuple[bytes, bytes]]:
    """Wrap the encryption so that each cast notes whether its pads were ready (both sides).

    One byte a cast ("1": a whole ballot's pads were in this process's buffer, "0": the cast
    drew some fresh randomness) appended to a file of the worker in BENCH_PADS_DIR.
    """
    from votes import sealing

    folder = os.environ.get("BENCH_PADS_DIR")
    if not folder:
        return encrypt
    state: dict[str, Any] = {}

    def counted(
        public_key: str, context: str, choices: list[int], levels: int
    ) -> tuple[bytes, bytes]:
        pool = sealing._pools.get(bytes.fromhex(public_key))
        ready = pool is not None and pool.pads.available()[0] >= levels * len(choices)
        if state.get("pid") != os.getpid():
            state["pid"] = os.getpid()
            state["file"] = open(  # noqa: SIM115 - kept open for the worker's life
                os.path.join(folder, f"{os.getpid()}.pads"), "ab", buffering=0
            )
        state["file"].write(b"1" if ready else b"0")
        return encrypt(public_key, context, choices, levels)

    return counted


def pads_ready(folder: str) -> tuple[int, int]:
    """Return (casts that found their pads ready, casts) noted so far in a server's folder."""
    ready = total = 0
    for path in Path(folder).glob("*.pads"):
        data = path.read_bytes()
        ready += data.count(b"1")
        total += len(data)
    return ready, total


def full_app(unsealed: bool = False):  # type: ignore[no-untyped-def]
    """The real application, configured for plain-HTTP loopback (gunicorn factory).

    `unsealed`: the encryption replaced by a stub (the marks stored as they are, under a
    tracker that is their digest): the application's own cost of an unsealed round.
    """
    _pin_server()
    from votes import create_app

    if unsealed:
        from votes import sealing

        def stub(
            public_key: str, context: str, choices: list[int], levels: int
        ) -> tuple[bytes, bytes]:
            content = bytes(choices) + secrets.token_bytes(16)
            return hashlib.sha256(content).digest(), content

        sealing.encrypt_ballot = stub
    else:
        from votes import sealing

        sealing.encrypt_ballot = _counting_pads(sealing.encrypt_ballot)

    return create_app(
        {
            "SECRET_KEY": SECRET,
            "INSECURE_COOKIES": True,
            "CODE_RATE_LIMIT": "100000/minute",
            "RATELIMIT_KEY_PREFIX": os.environ.get("BENCH_LIMIT_PREFIX", "bench-web"),
        }
    )


def _sealing() -> tuple[Callable[[str, str, list[int], int], tuple[bytes, bytes]] | None, str]:
    """Return the encryption a sealed ballot costs, and what the output says.

    The bare "sealed" side calls the very function `cast_ballot` calls
    (`votes.sealing.encrypt_ballot(public_key, context, choices, levels)`, the round's key and
    context read from the database once per worker) and stores what it stores (the sealed
    ballot under its tracker; the receipt is the tracker's). If the server seals with
    precomputed pads (issue 18's wt-sealspeed), the bare side gets them through the same call.
    """
    try:
        sealing = importlib.import_module("votes.sealing")
    except ImportError:
        return None, "sealed ballots: not in this code (votes.sealing absent): no encryption"
    encrypt = getattr(sealing, "encrypt_ballot", None)
    if not callable(encrypt):
        return None, "sealed ballots: votes.sealing has no encrypt_ballot: no encryption"
    return encrypt, (
        "sealed ballots: the full path seals every online ballot; the bare side 'sealed' calls "
        "the same votes.sealing.encrypt_ballot and stores the sealed ballot; the bare side "
        "'bare' stores the marks in the clear with a random receipt, and the side 'unsealed' is "
        "the application with the encryption stubbed (the work of an unsealed round, which the "
        "application no longer has); "
        + (
            "both sides seal with this process's precomputed pads (votes.sealing.sealing_pads, "
            "refilled by a background thread in each worker and planned alike on both sides for "
            "each worker's share of the round's unused codes, votes/pads.py; the first burst "
            "waits until every worker is idle): 'pads ready' says how many casts found a whole "
            "ballot's pads ready"
            if hasattr(sealing, "sealing_pads")
            else "the server does not seal with precomputed pads in this code"
        )
    )


def bare_app():  # type: ignore[no-untyped-def]
    """Flask + WTForms + the raw driver doing the cast's durable work, nothing more."""
    _pin_server()
    from flask import Flask, abort, request
    from wtforms import Form, RadioField, StringField
    from wtforms.fields.choices import SelectChoice
    from wtforms.validators import InputRequired, Length

    items = int(os.environ["BENCH_ITEMS"])
    url = os.environ["VOTES_DATABASE_URL"]
    key = os.environ["VOTES_SECRET_KEY"].encode()
    encrypt = _sealing()[0] if os.environ.get("BENCH_BARE_SEALED") == "1" else None
    if encrypt is not None:
        encrypt = _counting_pads(encrypt)
    alphabet = "ACDEFGHJKMNPQRTWXY34679"

    class BallotForm(Form):
        code = StringField(validators=[InputRequired(), Length(min=12, max=40)])

    levels = [SelectChoice("H", "high"), SelectChoice("C", "confidence"), SelectChoice("L", "low")]
    for n in range(1, items + 1):
        setattr(BallotForm, f"item_{n}", RadioField(choices=levels, validators=[InputRequired()]))
    fields = [f"item_{n}" for n in range(1, items + 1)]

    postgres = url.startswith("postgres")
    state: dict[str, Any] = {}

    def connection() -> Any:
        # One connection per worker, opened after the fork.
        if "db" not in state:
            if postgres:
                import psycopg

                state["db"] = psycopg.connect(
                    url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
                )
            else:
                import sqlite3

                db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
                db.execute("PRAGMA busy_timeout=60000")
                for pragma in (
                    "PRAGMA foreign_keys=ON",
                    "PRAGMA journal_mode=WAL",
                    "PRAGMA synchronous=FULL",
                    "PRAGMA secure_delete=ON",
                ):
                    db.execute(pragma)
                state["db"] = db
        return state["db"]

    mark = "%s" if postgres else "?"
    find = (
        "SELECT credential.used, round.status FROM credential JOIN round "
        f"ON round.id = credential.round_id WHERE credential.digest = {mark}"
    )
    claim = (
        "UPDATE credential SET used = true WHERE digest = {m} AND used = false AND EXISTS "
        "(SELECT 1 FROM round WHERE round.id = credential.round_id AND round.status = 'open'"
        "{lock}) RETURNING round_id"
    ).format(m=mark, lock=" FOR SHARE" if postgres else "")
    add_ballot = (
        f"INSERT INTO ballot (round_id, id, status, marks) VALUES ({mark}, {mark}, 'valid', {mark})"
    )
    add_receipt = f"INSERT INTO receipt (round_id, receipt) VALUES ({mark}, {mark})"
    # Sealed: the code's round (to know the key) before the transaction, as cast_ballot does;
    # the claim returns its group; the sealed ballot is stored under its tracker.
    claim_sealed = claim.replace("RETURNING round_id", "RETURNING round_id, group_number")
    round_key = (
        "SELECT credential.round_id, counting_key.public_key, counting_key.parameters "
        "FROM credential JOIN counting_key ON counting_key.round_id = credential.round_id "
        f"WHERE credential.digest = {mark}"
    )
    add_sealed = (
        "INSERT INTO sealed_ballot (round_id, tracker, group_number, content) "
        f"VALUES ({mark}, {mark}, {mark}, {mark})"
    )
    keys: dict[int, tuple[str, str]] = {}

    def seal(digest: bytes, marks: str) -> tuple[int, bytes, bytes] | None:
        assert encrypt is not None
        found = connection().execute(round_key, (digest,)).fetchone()
        if found is None:
            return None
        round_id, public_key, parameters = found
        if round_id not in keys:
            keys[round_id] = (public_key, json.loads(parameters)["context"])
        public_key, context = keys[round_id]
        tracker, content = encrypt(public_key, context, ["HCL".index(m) for m in marks], 3)
        return round_id, tracker, content

    def tracker_receipt(tracker: bytes) -> str:  # as votes.recount.tracker_receipt
        digits = f"{int.from_bytes(tracker[:8], 'big') % 10**16:016d}"
        return " ".join(["BN", *(digits[i : i + 4] for i in range(0, 16, 4))])

    def code_digest(code: str) -> bytes:
        return hmac.new(key, code.replace("-", "").upper().encode(), hashlib.sha256).digest()

    app = Flask("bare")
    if encrypt is not None:
        # The same pads as the application's, made the same way: each gunicorn worker keeps
        # ready its share of the unused codes of the rounds about to vote (votes/pads.py,
        # started by votes/gunicorn_config.py). Off the request path, as in the application.
        from votes import db as votes_db
        from votes import pads

        app.extensions["votes.watch_pads"] = functools.partial(
            pads.watch, votes_db.make_sessionmaker(votes_db.make_engine(url))
        )

    @app.post("/bare/open")
    def open_ballot() -> str:
        form = BallotForm(request.form)
        if not form.code.validate(form):
            abort(400)
        found = connection().execute(find, (code_digest(form.code.data),)).fetchone()
        if found is None or found[0] or found[1] != "open":
            abort(403)
        return page

    # The form's widgets are written out once (no template): the page is the same for everyone.
    blank = BallotForm()
    page = "<form>" + "".join(str(blank[name]) for name in fields) + "</form>"

    @app.post("/bare/cast")
    def cast() -> str:
        form = BallotForm(request.form)
        if not form.validate():
            abort(400)
        marks = "".join(form[name].data for name in fields)
        digest = code_digest(form.code.data)
        db = connection()
        if encrypt is not None:
            sealed = seal(digest, marks)
            if sealed is None:
                abort(403)
            _round, tracker, content = sealed
            statements = [claim_sealed, add_sealed]
            receipt = tracker_receipt(tracker)
        else:
            statements = [claim, add_ballot, add_receipt]
            receipt = "".join(secrets.choice(alphabet) for _ in range(12))

        def write() -> None:
            claimed = db.execute(statements[0], (digest,)).fetchone()
            if claimed is None:
                abort(403)
            if encrypt is not None:
                db.execute(statements[1], (claimed[0], tracker, claimed[1], content))
            else:
                db.execute(statements[1], (claimed[0], secrets.token_bytes(16), marks))
                db.execute(statements[2], (claimed[0], receipt))

        if postgres:
            with db.transaction():
                write()
        else:
            db.execute("BEGIN IMMEDIATE")
            try:
                write()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return f'<p class="receipt-code">{receipt}</p>'

    @app.get("/api/v1/openapi.json")
    def ready() -> str:  # what the harness polls to know the server is up
        return "{}"

    return app


# ---------------------------------------------------------------------------- one voter


async def vote_bare(
    port: int, code: str, items: int, think: float = 0.0
) -> tuple[list[float], str]:
    """Open and cast on the bare app; return the latencies and '' or what went wrong."""
    latencies = []
    start = time.perf_counter()
    page = await request(
        port, "POST", "/bare/open", body=urllib.parse.urlencode({"code": code}).encode()
    )
    latencies.append(time.perf_counter() - start)
    if page.status != 200 or 'name="item_1"' not in page.body:
        return latencies, f"open {page.status} {page.error}".strip()
    data = urllib.parse.urlencode(
        {"code": code, **{f"item_{n}": "HCL"[n % 3] for n in range(1, items + 1)}}
    ).encode()
    if think:
        await asyncio.sleep(think)
    start = time.perf_counter()
    cast = await request(port, "POST", "/bare/cast", body=data)
    latencies.append(time.perf_counter() - start)
    if cast.status != 200 or "receipt-code" not in cast.body:
        return latencies, f"cast {cast.status} {cast.error}".strip()
    return latencies, ""


async def vote_full(
    port: int, code: str, items: int, think: float = 0.0
) -> tuple[list[float], str]:
    """Vote as a phone does on the full app (code page, code, cast)."""
    vote = await vote_form(port, code, items, think=think)
    if vote.ok:
        return vote.latencies, ""
    return vote.latencies, f"{vote.step} {vote.status} {vote.error}".strip()


VOTERS = {"bare": vote_bare, "sealed": vote_bare, "full": vote_full, "unsealed": vote_full}
# The sides: "bare" (plain: an unsealed round's durable work), "sealed" (bare + the same
# encryption, the sealed ballot stored), "full" (the application), "unsealed" (the application
# with the encryption replaced by a stub that stores the marks as they are: what an unsealed
# round would cost it, which it no longer has). Compared: full / sealed (a sealed round),
# unsealed / bare (an unsealed round), full / bare (the full path against the plain bare app).
SIDES = ("bare", "sealed", "full", "unsealed")
PAIRS = (
    ("sealed round", "full", "sealed"),
    ("unsealed round", "unsealed", "bare"),
    ("full path against the plain bare app", "full", "bare"),
)
# Issue 18's target (≥ 60 %) is the sealed round's pair: the cost of sealing counted on both
# sides. The other pairs are shown for what they say (the application's own cost without the
# encryption; the whole path against plain storage) and do not decide the exit status.
TARGET_PAIR = "sealed round"
WARM_UP = 40  # voters sent to each server before anything is measured


# ---------------------------------------------------------------------------- a burst


@dataclass
class Burst:
    """What one burst did and what it cost."""

    latencies: list[float] = field(default_factory=list)
    ballots: int = 0
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    load: str = ""
    voter_ms: list[float] = field(default_factory=list)  # each voter's requests, summed
    pads: tuple[int, int] = (0, 0)  # casts that found their pads ready, casts noted

    @property
    def pads_text(self) -> str:
        ready, total = self.pads
        return f"pads ready {ready}/{total}" if total else "no pads noted"

    @property
    def rate(self) -> float:
        return self.ballots / self.seconds if self.seconds else 0.0

    @property
    def server_ms(self) -> float:
        """Server CPU milliseconds per ballot."""
        return 1000 * self.server_cpu / self.ballots if self.ballots else 0.0


async def _send(
    port: int,
    kind: str,
    codes: list[str],
    items: int,
    spread: float,
    concurrency: int,
    think: float = 0.0,
) -> Burst:
    result = Burst()
    voter = VOTERS[kind]
    pending = iter(enumerate(codes))

    async def one(index: int, code: str) -> None:
        latencies, error = await voter(port, code, items, think)
        result.latencies += latencies
        result.voter_ms.append(1000 * sum(latencies))
        if error:
            result.errors.append(error)
        else:
            result.ballots += 1

    async def lane() -> None:  # closed loop: the next voter when one is done
        for index, code in pending:
            await one(index, code)

    async def arrival(index: int, code: str) -> None:  # open loop: voter i at i * spread / n
        await asyncio.sleep(index * spread / len(codes))
        await one(index, code)

    start = time.perf_counter()
    if spread:
        await asyncio.gather(*(arrival(i, c) for i, c in enumerate(codes)))
    else:
        await asyncio.gather(*(lane() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    return result


def burst(
    server: Any,
    kind: str,
    codes: list[str],
    items: int,
    spread: float,
    concurrency: int,
    think: float = 0.0,
    pads_dir: str = "",
) -> Burst:
    """Send one burst and measure it, with the CPU of the client and of the server's workers."""
    workers = server.worker_pids()
    server_before = sum(process_cpu(pid) for pid in workers)
    pads_before = pads_ready(pads_dir) if pads_dir else (0, 0)
    client_before = own_cpu()
    result = asyncio.run(_send(server.port, kind, codes, items, spread, concurrency, think))
    result.client_cpu = own_cpu() - client_before
    result.server_cpu = sum(process_cpu(pid) for pid in workers) - server_before
    if pads_dir:
        pads_after = pads_ready(pads_dir)
        result.pads = (pads_after[0] - pads_before[0], pads_after[1] - pads_before[1])
    result.load = load_average()
    return result


# ---------------------------------------------------------------------------- a configuration


@contextlib.contextmanager
def server_for(
    kind: str, url_maker: Callable[[], Any], args: argparse.Namespace, cpus: str
) -> Iterator[tuple[Any, str, int, list[str]]]:
    """A fresh database with an open round and its codes, and gunicorn serving one side."""
    with url_maker() as database_url:
        count = (args.runs + 1) * args.voters + WARM_UP
        round_id, codes = prepare(database_url, count, args.items)
        pads_dir = tempfile.mkdtemp(prefix=f"bench-pads-{kind}-")
        env = {
            "BENCH_PADS_DIR": pads_dir,
            "VOTES_DATABASE_URL": database_url,
            "VOTES_SECRET_KEY": SECRET,
            "BENCH_ITEMS": str(args.items),
            "BENCH_LIMIT_PREFIX": f"bench-web-{secrets.token_hex(4)}",
            "BENCH_BARE_SEALED": "1" if kind == "sealed" else "0",
            # The benchmark's hall is its whole pool of codes: every worker of either side may
            # keep the pads of its share of them (votes/pads.py), as a real hall's server keeps
            # those of its round when they fit the default cap (500 codes of 20 persons do).
            # With the default cap the share of these 1 240 codes does not fit, and each side's
            # workers refill during the other sides' bursts.
            "VOTES_SEALING_PADS": str(count * args.items * 3),
        }
        if cpus:
            env["BENCH_SERVER_CPUS"] = cpus
        target = {
            "bare": "bench.web:bare_app()",
            "sealed": "bench.web:bare_app()",
            "full": "bench.web:full_app()",
            "unsealed": "bench.web:full_app(unsealed=True)",
        }[kind]
        try:
            with serve(env, args.workers_now, target) as server:
                yield server, database_url, round_id, codes, pads_dir
        finally:
            shutil.rmtree(pads_dir, ignore_errors=True)


def measure(
    database: str, url_maker: Callable[[], Any], workers: int, args: argparse.Namespace, cpus: str
) -> dict[str, Any]:
    """Both sides, interleaved: `runs` throughput bursts each, then one open-loop burst each."""
    args.workers_now = workers
    with contextlib.ExitStack() as stack:
        sides = {
            kind: stack.enter_context(server_for(kind, url_maker, args, cpus))
            for kind in args.sides
        }
        warm = {}
        for kind, (server, _url, _round, codes, _pads) in sides.items():
            # Every worker's first requests import and compile what it needs: not measured.
            warm[kind] = burst(server, kind, codes[-WARM_UP:], args.items, 0, 2 * workers)
        # Every worker made the sealing pads of its share of the round's unused codes
        # (votes/pads.py: both sides alike) before the first measured burst, as before a
        # hall votes; not measured on either side.
        waited = wait_until_idle([side[0] for side in sides.values()])
        print(f"  {database} {workers}w: workers idle after {waited:.0f} s", flush=True)
        saturated: dict[str, list[Burst]] = {kind: [] for kind in args.sides}
        for run in range(args.runs):
            for kind, (server, _url, _round, codes, pads) in sides.items():
                if args.gap:
                    time.sleep(args.gap)  # every side's pads refill alike before its burst
                batch = codes[run * args.voters : (run + 1) * args.voters]
                got = burst(server, kind, batch, args.items, 0, args.concurrency, args.think, pads)
                saturated[kind].append(got)
                print(
                    f"  {database} {workers}w run {run + 1} {kind}: {got.rate:.1f} ballots/s, "
                    f"server {got.server_ms:.2f} ms CPU/ballot, voter's requests median "
                    f"{statistics.median(got.voter_ms):.1f} ms, {got.pads_text}, client CPU "
                    f"{got.client_cpu:.2f} s in {got.seconds:.2f} s, errors {len(got.errors)}; "
                    f"{got.load}",
                    flush=True,
                )
        spread: dict[str, Burst] = {}
        for kind, (server, _url, _round, codes, pads) in sides.items():
            batch = codes[args.runs * args.voters : (args.runs + 1) * args.voters]
            spread[kind] = burst(server, kind, batch, args.items, args.window, 0, 0.0, pads)
            print(
                f"  {database} {workers}w burst {kind}: {len(batch)} voters over {args.window} s, "
                f"p50 {statistics.median(spread[kind].latencies) * 1000:.1f} ms, "
                f"p99 {percentile(spread[kind].latencies, 0.99) * 1000:.1f} ms, "
                f"{spread[kind].pads_text}, errors {len(spread[kind].errors)}; "
                f"{spread[kind].load}",
                flush=True,
            )
        checks = {}
        for kind, (_server, url, round_id, _codes, _pads) in sides.items():
            counted = census(url, round_id)
            sent = sum(b.ballots for b in saturated[kind]) + spread[kind].ballots
            sent += warm[kind].ballots
            checks[kind] = counted.ballots == counted.receipts == counted.codes_used == sent
    row: dict[str, Any] = {"database": database, "workers": workers}
    row["sides"] = list(args.sides)
    for kind in args.sides:
        runs = saturated[kind]
        row[kind] = {
            "rate": median([b.rate for b in runs]),
            "server_ms": median([b.server_ms for b in runs]),
            "voter_ms": median([statistics.median(b.voter_ms) for b in runs]),
            "pads": (sum(b.pads[0] for b in runs), sum(b.pads[1] for b in runs)),
            "client_cpu_share": median([b.client_cpu / b.seconds for b in runs]),
            "p50": statistics.median(spread[kind].latencies) * 1000,
            "p99": percentile(spread[kind].latencies, 0.99) * 1000,
            "errors": sum(len(b.errors) for b in runs) + len(spread[kind].errors),
            "consistent": checks[kind],
            "load": spread[kind].load,
        }
    # The ratio of each pair measured back to back, then the median of those ratios.
    row["pairs"] = []
    for label, ours, base in PAIRS:
        if ours not in saturated or base not in saturated:
            continue
        pairs = list(zip(saturated[base], saturated[ours], strict=True))
        row["pairs"].append(
            {
                "label": label,
                "ours": ours,
                "ratio": median([f.rate / b.rate for b, f in pairs if b.rate]),
                "cpu_ratio": median([b.server_ms / f.server_ms for b, f in pairs if f.server_ms]),
                # How fast a voter is served: the median voter's requests, bare / ours.
                "speed_ratio": median(
                    [
                        statistics.median(b.voter_ms) / statistics.median(f.voter_ms)
                        for b, f in pairs
                        if f.voter_ms and b.voter_ms
                    ]
                ),
            }
        )
    return row


def report(rows: list[dict[str, Any]], sealing: str, pinning: str) -> int:
    """Print the table of figures; return 1 when a target is missed."""
    print(f"\n{sealing}\n{pinning}\n")
    print(
        "| database | workers | side | ballots/s (median) | server CPU ms/ballot | voter's "
        "requests ms (median) | pads ready | client CPU share | burst p50 ms | burst p99 ms | "
        "errors | stored = receipts = used | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        for kind in r["sides"]:
            s = r[kind]
            print(
                f"| {r['database']} | {r['workers']} | {kind} | {s['rate']:.1f} | "
                f"{s['server_ms']:.2f} | {s['voter_ms']:.1f} | {s['pads'][0]}/{s['pads'][1]} | "
                f"{s['client_cpu_share']:.0%} | {s['p50']:.1f} | "
                f"{s['p99']:.1f} | {s['errors']} | {'ok' if s['consistent'] else 'MISMATCH'} | "
                f"{s['load']} |"
            )
    print()
    missed = 0
    for r in rows:
        for pair in r["pairs"]:
            side = r[pair["ours"]]
            target = pair["label"] == TARGET_PAIR
            sound = not side["errors"] and side["consistent"]  # on every side, target or not
            good = sound and pair["ratio"] >= 0.6 and side["p99"] < 250
            missed += not sound or (target and not good)
            if not sound:
                verdict = "ERRORS OR A MISMATCH"
            else:
                verdict = ("ok" if good else "BELOW TARGET") if target else "not a target"
            print(
                f"{r['database']}, {r['workers']} workers, {pair['label']}: throughput "
                f"{pair['ratio']:.0%} (median of paired runs"
                f"{'; target ≥ 60 %' if target else ''}), server CPU per "
                f"ballot bare/ours = {pair['cpu_ratio']:.0%}, a voter's requests bare/ours = "
                f"{pair['speed_ratio']:.0%}; burst p99 {side['p99']:.0f} ms "
                f"(target < 250 ms on a quiet machine) — {verdict}"
            )
    return 1 if missed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=300, help="voters per burst")
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--runs", type=int, default=3, help="interleaved throughput runs (≥ 3)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="voters in flight when measuring throughput"
    )
    parser.add_argument(
        "--window", type=float, default=10.0, help="seconds over which the burst's voters arrive"
    )
    parser.add_argument("--pin", choices=("auto", "yes", "no"), default="auto")
    parser.add_argument(
        "--pg",
        default=os.environ.get("VOTES_BENCH_PG_URL", DEFAULT_PG),
        help="PostgreSQL admin URL",
    )
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument(
        "--sides", nargs="+", choices=SIDES, default=["bare", "sealed", "full"], help="servers"
    )
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="seconds each voter takes between the ballot page and the cast (0: back to back; "
        "with a few seconds the pads refill between casts, and the throughput is the voters' "
        "pace: compare the voter's requests and the server CPU instead)",
    )
    parser.add_argument(
        "--gap",
        type=float,
        default=0.0,
        help="seconds every server idles before each measured burst, so that each side's pads "
        "refill alike (back to back, a side's buffers otherwise refill only while the other "
        "sides run, and a faster side leaves the next one less time)",
    )
    args = parser.parse_args()
    client, server = pin_client(args.pin)
    cpus = ",".join(str(c) for c in sorted(server)) if server else ""
    pinning = pinning_text(client, server)
    _entry, sealing = _sealing()
    print(f"{sealing}\n{pinning}\n{load_average()} at the start", flush=True)
    databases: list[tuple[str, Callable[[], Any]]] = []
    if not args.no_sqlite:
        databases.append(("SQLite", sqlite_database))
    if not args.no_pg:
        databases.append(("PostgreSQL", lambda: postgres_database(args.pg)))
    rows = [
        measure(name, maker, workers, args, cpus)
        for workers in args.workers
        for name, maker in databases
    ]
    return report(rows, sealing, pinning)


if __name__ == "__main__":
    sys.exit(main())
