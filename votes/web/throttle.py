"""Login throttling that slows guessing down and never locks anybody out.

Each failed login adds to two counts, one for the account typed and one for the address it
came from. A few failures of each are free (people mistype); after that the next attempt on
that account, or from that address, must wait, and the wait doubles with each failure up to
a ceiling: 1 s, 2 s, 4 s … at most LOGIN_ACCOUNT_DELAY_MAX for an account (a minute by
default) and LOGIN_ADDRESS_DELAY_MAX for an address (ten minutes). An attempt made while it
must wait is refused without looking at the password (HTTP 429, with how long to wait), and
does not count. A successful login clears its account's count.

So a guesser gets about one try a minute on an account, from however many addresses, and
one every ten minutes from an address that keeps failing, while the owner of the account,
from anywhere, waits at most a minute — never the hour-long lock-out that a fixed limit gave
(issue 12, "Why" 6). The counts live where the rate limits live (Redis with
VOTES_REDIS_URL, shared by every worker and server; each worker's memory otherwise, and
whenever Redis does not answer).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app
from limits.storage import MemoryStorage, Storage

from .extensions import limiter

logger = logging.getLogger(__name__)

# Used while the shared storage (Redis) does not answer: each worker counts on its own.
_FALLBACK = MemoryStorage()


@dataclass(frozen=True)
class Counter:
    """One count of failures (an account's, an address's) and how it turns into a wait."""

    key: str
    free: int  # failures that cost nothing
    ceiling: int  # the longest wait, in seconds

    def delay(self, failures: int) -> int:
        """Return the wait after `failures` failures: 0, then 1, 2, 4 … up to the ceiling."""
        if failures <= self.free:
            return 0
        doubling: int = 2 ** min(failures - self.free - 1, 30)
        return min(self.ceiling, doubling)


def _storage() -> Storage:
    storage: Storage = limiter.storage
    return storage


def _call(operation: str, *args: Any) -> Any:
    """Run one operation on the shared storage, or on this worker's memory if it fails."""
    try:
        return getattr(_storage(), operation)(*args)
    except Exception:  # Redis unreachable: never stop a login because of the throttle
        logger.warning("login throttle: the shared storage failed; counting in memory")
        return getattr(_FALLBACK, operation)(*args)


def counters(username: str, address: str) -> list[Counter]:
    """Return the counts an attempt adds to: its account's and its address's."""
    config = current_app.config
    prefix = config.get("RATELIMIT_KEY_PREFIX") or ""
    account = hashlib.sha256(username.encode("utf-8", "replace")).hexdigest()[:24]
    return [
        Counter(
            f"{prefix}login-account:{account}",
            int(config["LOGIN_ACCOUNT_FREE_FAILURES"]),
            int(config["LOGIN_ACCOUNT_DELAY_MAX"]),
        ),
        Counter(
            f"{prefix}login-address:{address}",
            int(config["LOGIN_ADDRESS_FREE_FAILURES"]),
            int(config["LOGIN_ADDRESS_DELAY_MAX"]),
        ),
    ]


def wait(counts: list[Counter]) -> int:
    """Return how many seconds to wait before the next attempt may be checked (0: now)."""
    now = time.time()
    longest = 0.0
    for counter in counts:
        if _call("get", counter.key + ":wait"):
            longest = max(longest, float(_call("get_expiry", counter.key + ":wait")) - now)
    return math.ceil(longest) if longest > 0 else 0


def failed(counts: list[Counter]) -> int:
    """Count a failed attempt; return the wait it imposes on the next one."""
    window = int(current_app.config["LOGIN_FAILURE_WINDOW"])
    longest = 0
    for counter in counts:
        failures = int(_call("incr", counter.key, window))
        delay = counter.delay(failures)
        if delay:
            _call("clear", counter.key + ":wait")
            _call("incr", counter.key + ":wait", delay)
            longest = max(longest, delay)
    return longest


def succeeded(counts: list[Counter]) -> None:
    """Forget the failures of the account that just logged in (its address keeps its own)."""
    account = counts[0]
    _call("clear", account.key)
    _call("clear", account.key + ":wait")
