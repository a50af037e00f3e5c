"""Two application servers on one database and one Redis: the same guarantees as one.

Two gunicorn instances (two sync workers each) on different ports share the test database
(PostgreSQL in the PostgreSQL pass, one SQLite file otherwise) and a Redis database for the
rate limits. The same code cast on both at once gives exactly one ballot; voters spread
over both are all counted once; refused codes sent alternately to both servers hit the
code-entry limit at the configured number in total, not per server.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench._harness import (
    SECRET,
    Server,
    Vote,
    cast_only,
    census,
    close_and_verify,
    open_loop,
    prepare,
    request,
    serve,
)
from tests.conftest import PG_URL, _postgres_database
from votes.credentials import new_code

ITEMS = 4
REDIS_URL = os.environ.get("VOTES_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
CODE_LIMIT = 8  # refused codes a minute, per address

pytestmark = pytest.mark.slow


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        reason = f"Redis unreachable at {REDIS_URL}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: two-server tests need Redis ({reason})")
        pytest.skip(reason)


@dataclass
class Pair:
    """Two servers on one database and one Redis, and the open round they serve."""

    a: Server
    b: Server
    database_url: str
    round_id: int
    codes: list[str]

    def take(self, count: int) -> list[str]:
        taken, self.codes = self.codes[:count], self.codes[count:]
        return taken


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Start the two servers once for the module; stop them and clean Redis afterwards."""
    _redis_or_skip()
    import redis

    if PG_URL:
        databases = _postgres_database()
        database_url = next(databases)
    else:
        databases = None
        folder: Path = tmp_path_factory.mktemp("two-servers")
        database_url = f"sqlite:///{folder / 'votes.sqlite3'}"
    # Keys of this run only: other test runs may share the Redis database at the same time,
    # so instead of flushing it the limiter gets a prefix of its own, deleted at the end.
    prefix = f"votes-test-{secrets.token_hex(6)}"
    store = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    env = {
        "VOTES_DATABASE_URL": database_url,
        "VOTES_SECRET_KEY": SECRET,
        "VOTES_REDIS_URL": REDIS_URL,
        "VOTES_CODE_RATE_LIMIT": f"{CODE_LIMIT}/minute",
        "BENCH_LIMIT_PREFIX": prefix,
    }
    try:
        round_id, codes = prepare(database_url, 400, ITEMS)
        with (
            serve(env, workers=2, worker_timeout=30) as a,
            serve(env, workers=2, worker_timeout=30) as b,
        ):
            yield Pair(a, b, database_url, round_id, codes)
    finally:
        for key in store.scan_iter(f"{prefix}*"):
            store.delete(key)
        store.close()
        if databases is not None:
            databases.close()  # drops the PostgreSQL database


def test_same_code_on_both_servers_gives_one_ballot(pair: Pair) -> None:
    codes = pair.take(40)
    before = census(pair.database_url, pair.round_id)

    async def all_races() -> list[tuple[Vote, Vote]]:
        # Ten codes at a time, each sent to both servers at the same moment by one device
        # (its own loopback address: the refused twin counts against that device only).
        outcomes: list[tuple[Vote, Vote]] = []
        for start in range(0, len(codes), 10):
            batch = list(enumerate(codes[start : start + 10], start=start + 1))
            results = await asyncio.gather(
                *(
                    asyncio.gather(
                        cast_only(pair.a.port, code, ITEMS, source=f"127.0.1.{n}"),
                        cast_only(pair.b.port, code, ITEMS, source=f"127.0.1.{n}"),
                    )
                    for n, code in batch
                )
            )
            outcomes += [tuple(r) for r in results]  # type: ignore[misc]
        return outcomes

    outcomes = asyncio.run(all_races())
    receipts = []
    for first, second in outcomes:
        statuses = sorted([first.status, second.status])
        assert statuses == [201, 409], (first.code, statuses, first.body[:200], second.body[:200])
        receipts.append(first.receipt or second.receipt)
    after = census(pair.database_url, pair.round_id)
    assert after.ballots - before.ballots == len(codes)
    assert after.ballots == after.receipts == after.codes_used
    assert set(receipts) <= after.receipt_values


def test_voters_spread_over_both_servers_are_counted_once(pair: Pair) -> None:
    codes = pair.take(200)
    before = census(pair.database_url, pair.round_id)

    async def both() -> list[Vote]:
        # Even voters go to server A, odd ones to B; each group arrives over 3 seconds.
        on_a, on_b = await asyncio.gather(
            open_loop(pair.a.port, codes[0::2], ITEMS, 3.0, "form"),
            open_loop(pair.b.port, codes[1::2], ITEMS, 3.0, "api"),
        )
        return on_a + on_b

    votes = asyncio.run(both())
    assert all(v.ok for v in votes), [(v.step, v.status, v.error) for v in votes if not v.ok][:5]
    receipts = [v.receipt for v in votes]
    assert len(set(receipts)) == len(codes)
    after = census(pair.database_url, pair.round_id)
    assert after.ballots - before.ballots == len(codes)
    assert after.ballots == after.receipts == after.codes_used
    assert set(receipts) <= after.receipt_values


def test_code_entry_limit_is_shared_by_both_servers(pair: Pair) -> None:
    # One device (its own loopback address, so that other tests' refusals do not count)
    # types wrong codes, alternately on server A and server B.
    device = f"127.0.{secrets.randbelow(200) + 20}.{secrets.randbelow(200) + 20}"

    async def guesses() -> list[int]:
        statuses = []
        for n in range(CODE_LIMIT + 4):
            server = pair.a if n % 2 == 0 else pair.b
            answer = await request(
                server.port,
                "POST",
                "/api/v1/ballot",
                body=json.dumps({"code": new_code()}).encode(),
                content_type="application/json",
                source=device,
            )
            statuses.append(answer.status)
        return statuses

    statuses = asyncio.run(guesses())
    # Memory storage would count per worker process (four here): the first 429 would come
    # after 4 × CODE_LIMIT refusals. Shared in Redis, it comes right after CODE_LIMIT.
    assert statuses == [403] * CODE_LIMIT + [429] * 4, statuses
    # A voter with a real code on another device is not affected.
    voter = asyncio.run(cast_only(pair.b.port, pair.take(1)[0], ITEMS))
    assert voter.status == 201


def test_the_round_verifies_after_both_servers_voted(pair: Pair) -> None:
    counted = census(pair.database_url, pair.round_id)
    assert counted.ballots == counted.receipts == counted.codes_used > 0
    ok, output = close_and_verify(pair.database_url, pair.round_id)
    assert ok, output
