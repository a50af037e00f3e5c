"""The budgets of refused voter codes: per address and per code typed, counted on refusals only.

Every way of trying a code (the code form, the ballot form, the JSON API) shares one budget
per address, and one per code typed (keyed by the code's HMAC digest, never the code): a
guesser is stopped whichever door, or however many addresses, he uses, while a hall of
voters behind one address, who mostly type their codes right, never is (docs/DEPLOY.md
"Limits"). Before a limited view runs, both budgets are tested; a request that finds one spent
gets 429 and nothing is looked up; a request the view refuses (any status ≥ 400, an error
raised included) spends one unit of each. A correct code from an address over its budget is
refused too: the answer never tells a guesser which of his guesses was right.

The counts are Flask-Limiter's (the same storage: Redis with VOTES_REDIS_URL, shared by every
worker and server; the same fixed windows and keys), taken directly: Flask-Limiter's own
machinery around each request cost the voter about 2 ms of the 8 its three requests take
(bench/profile_voter.py), so the voter's views are left out of it. When Redis does not answer,
each worker counts in its own memory for a while, as Flask-Limiter falls back.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, make_response, request
from flask.typing import ResponseReturnValue
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import HTTPException

from .. import credentials
from .extensions import limiter

logger = logging.getLogger(__name__)

# Flask-Limiter's scopes for these budgets: the keys stay those it wrote before.
ADDRESS_SCOPE = "voter-code"
CODE_SCOPE = "voter-code-each"
# How long a worker counts in its own memory after the shared storage failed.
FALLBACK_SECONDS = 30.0
# The mark of a view that counts its own budgets (Flask-Limiter leaves it alone).
OWN_BUDGETS = "_votes_own_budgets"

_state: dict[str, Any] = {}


@functools.lru_cache(maxsize=32)
def _limits(text: str) -> tuple[RateLimitItem, ...]:
    return tuple(parse_many(text))


def _counters() -> tuple[FixedWindowRateLimiter, FixedWindowRateLimiter]:
    """The fixed-window counters on Flask-Limiter's storage and in this worker's memory (both
    made again, and the shared one trusted again, when the application's storage changed)."""
    storage = limiter.storage
    if _state.get("storage") is not storage:
        _state.update(
            storage=storage,
            shared=FixedWindowRateLimiter(storage),
            fallback=FixedWindowRateLimiter(MemoryStorage()),
            dead_until=0.0,
        )
    return _state["shared"], _state["fallback"]


def _run(operation: str, item: RateLimitItem, identifiers: tuple[str, ...]) -> bool:
    """Test or spend a budget on the shared storage, or in this worker's memory if it fails."""
    shared, fallback = _counters()
    if time.monotonic() >= _state["dead_until"]:
        try:
            return bool(getattr(shared, operation)(item, *identifiers))
        except Exception:  # Redis unreachable: never stop a vote because of the limit
            logger.warning("voter code limits: the shared storage failed; counting in memory")
            _state["dead_until"] = time.monotonic() + FALLBACK_SECONDS
    return bool(getattr(fallback, operation)(item, *identifiers))


def typed_code() -> str:
    """Key the per-code budget by the code typed: its HMAC digest, never the code itself."""
    data = request.get_json(silent=True) if request.is_json else None
    typed = data.get("code") if isinstance(data, dict) else request.form.get("code")
    text = str(typed or "")[:64]
    try:
        typed_digest = credentials.digest(current_app.config["SECRET_KEY"], text)
    except credentials.CodeFormatError:
        key = current_app.config["SECRET_KEY"]
        typed_digest = hmac.new(str(key).encode(), text.encode(), hashlib.sha256).digest()
    return "code:" + typed_digest.hex()[:32]


def budgets() -> list[tuple[RateLimitItem, tuple[str, ...]]]:
    """Return each budget of this request: the limit and the identifiers of its count."""
    config = current_app.config
    prefix = config.get("RATELIMIT_KEY_PREFIX") or ""
    head = (prefix,) if prefix else ()
    address = (*head, get_remote_address(), ADDRESS_SCOPE)
    code = (*head, typed_code(), CODE_SCOPE)
    return [(item, address) for item in _limits(config["CODE_RATE_LIMIT"])] + [
        (item, code) for item in _limits(config["CODE_RATE_LIMIT_PER_CODE"])
    ]


def code_limit(view: Callable[..., ResponseReturnValue]) -> Callable[..., Any]:
    """Limit the refused code entries of a view (POST only), per address and per code typed."""

    @functools.wraps(view)
    def limited(*args: Any, **kwargs: Any) -> Any:
        if request.method != "POST" or not limiter.enabled:
            return view(*args, **kwargs)
        counts = budgets()
        if not all(_run("test", item, identifiers) for item, identifiers in counts):
            abort(429)
        try:
            response = make_response(view(*args, **kwargs))
        except HTTPException:
            _spend(counts)
            raise
        if response.status_code >= 400:
            _spend(counts)
        return response

    return own_budgets(limited)


def _spend(counts: list[tuple[RateLimitItem, tuple[str, ...]]]) -> None:
    for item, identifiers in counts:
        _run("hit", item, identifiers)


def own_budgets(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a voter's view that has no budget of Flask-Limiter's (the code page, GET only)."""
    setattr(view, OWN_BUDGETS, True)
    return view


@limiter.request_filter
def counts_its_own() -> bool:
    """Flask-Limiter's request filter: True for a view that counts its own budgets."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, OWN_BUDGETS, False))
