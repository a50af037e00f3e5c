"""Deterministic randomness for the test vectors of docs/CRYPTO.md (never for real rounds).

Inside `with deterministic(seed):` every scalar the package draws comes from SHA-512 over a
fixed label, the seed and a counter, so the vectors in the specification can be recomputed.
Key-file salts and nonces still come from the operating system.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from votes.sealed import group
from votes.sealed.sodium import L


@contextmanager
def deterministic(seed: bytes) -> Iterator[None]:
    """Draw scalars from a seeded generator for the duration of the block."""
    counter = 0

    def draw() -> int:
        nonlocal counter
        while True:
            counter += 1
            block = hashlib.sha512(
                b"votes-sealed/1 test vectors\x00" + seed + counter.to_bytes(8, "big")
            ).digest()
            value = int.from_bytes(block, "little") % L
            if value:
                return value

    previous = group.set_random_source(draw)
    try:
        yield
    finally:
        group.set_random_source(previous)
