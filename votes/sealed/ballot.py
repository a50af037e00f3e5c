"""Sealed ballots: exponential ElGamal, 0/1 proofs, row-sum proofs (docs/CRYPTO.md §4–§7).

A ballot has one row per rated person; a row has m options (2 or 3 in the profiles in use) and
exactly one of them is chosen. Each option is an encryption of 0 or 1 under the committee's joint
key K with a disjunctive Chaum–Pedersen proof that it is 0 or 1; each row carries a Chaum–Pedersen
proof that the product of its ciphertexts encrypts exactly 1. Every challenge hashes the round
context, the joint key, the position (row, option) and the ciphertexts, so a proof made for one
round, key or position does not verify anywhere else.
"""

from __future__ import annotations

import base64
import os
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from votes.lazy import lazy_module
from votes.sealed import group
from votes.sealed.group import GENERATOR, SealedError, base_mult, challenge, mult, sub, u32
from votes.sealed.sodium import IDENTITY, L

# Processes are started only to check or add up a large box: most users of the library (a cast,
# `votes --help`) never start one, and importing multiprocessing costs a tenth of a second.
if TYPE_CHECKING:
    import multiprocessing
    from concurrent import futures
else:
    futures = lazy_module("concurrent.futures")
    multiprocessing = lazy_module("multiprocessing")

MAGIC: Final = b"VSB1"
MAX_ROWS: Final = 1000
MIN_OPTIONS: Final = 2
MAX_OPTIONS: Final = 8
OPTION_BYTES: Final = 6 * 32  # alpha, beta, c0, c1, v0, v1
SUM_BYTES: Final = 2 * 32  # c, v


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """An exponential ElGamal ciphertext (alpha, beta) = (r·G, m·G + r·K)."""

    alpha: bytes
    beta: bytes

    def __add__(self, other: Ciphertext) -> Ciphertext:
        """Return the ciphertext of the sum of the two plaintexts."""
        return Ciphertext(group.add(self.alpha, other.alpha), group.add(self.beta, other.beta))

    def to_list(self) -> list[str]:
        """Return [alpha, beta] as lowercase hex (the record's form)."""
        return [self.alpha.hex(), self.beta.hex()]

    @classmethod
    def from_list(cls, value: object, what: str) -> Ciphertext:
        """Read [alpha, beta] hex from a record; the identity is allowed (a sum may be zero)."""
        if not isinstance(value, list) or len(value) != 2:
            raise SealedError(f"{what}: expected [alpha, beta]")
        return cls(
            group.point_from_hex(value[0], f"{what} alpha", allow_identity=True),
            group.point_from_hex(value[1], f"{what} beta", allow_identity=True),
        )


ZERO: Final = Ciphertext(IDENTITY, IDENTITY)


@dataclass(frozen=True, slots=True)
class ZeroOneProof:
    """Disjunctive Chaum–Pedersen proof that a ciphertext encrypts 0 or 1: (c0, c1, v0, v1)."""

    c0: int
    c1: int
    v0: int
    v1: int


@dataclass(frozen=True, slots=True)
class SumProof:
    """Chaum–Pedersen proof that the product of a row's ciphertexts encrypts 1: (c, v)."""

    c: int
    v: int


@dataclass(frozen=True, slots=True)
class SealedRow:
    """One rated person: a ciphertext and a 0/1 proof per option, and the row's sum proof."""

    ciphertexts: tuple[Ciphertext, ...]
    proofs: tuple[ZeroOneProof, ...]
    sum_proof: SumProof


@dataclass(frozen=True, slots=True)
class SealedBallot:
    """A sealed ballot: one SealedRow per rated person, in ballot order."""

    rows: tuple[SealedRow, ...]

    @property
    def options(self) -> tuple[int, ...]:
        """Return the number of options of each row."""
        return tuple(len(row.ciphertexts) for row in self.rows)

    def to_bytes(self) -> bytes:
        """Return the canonical encoding (docs/CRYPTO.md §6)."""
        chunks = [MAGIC, len(self.rows).to_bytes(2, "big"), bytes(self.options)]
        for row in self.rows:
            for ciphertext, proof in zip(row.ciphertexts, row.proofs, strict=True):
                chunks += [ciphertext.alpha, ciphertext.beta]
                chunks += [group.scalar(x) for x in (proof.c0, proof.c1, proof.v0, proof.v1)]
            chunks += [group.scalar(row.sum_proof.c), group.scalar(row.sum_proof.v)]
        return b"".join(chunks)

    @classmethod
    def from_bytes(cls, data: bytes, *, max_rows: int = MAX_ROWS) -> SealedBallot:
        """Decode a canonical encoding, refusing anything malformed, oversized or non-canonical."""
        if not isinstance(data, bytes) or len(data) < 6 or data[:4] != MAGIC:
            raise SealedError("ballot: not a sealed ballot encoding")
        count = int.from_bytes(data[4:6], "big")
        if not 1 <= count <= max_rows:
            raise SealedError(f"ballot: {count} rows (1 to {max_rows} allowed)")
        shape = data[6 : 6 + count]
        if len(shape) != count or any(not MIN_OPTIONS <= m <= MAX_OPTIONS for m in shape):
            raise SealedError("ballot: bad number of options in a row")
        expected = 6 + count + sum(m * OPTION_BYTES + SUM_BYTES for m in shape)
        if len(data) != expected:
            raise SealedError(f"ballot: {len(data)} bytes, expected {expected}")
        offset = 6 + count
        rows = []
        for index, m in enumerate(shape):
            ciphertexts, proofs = [], []
            for option in range(m):
                what = f"ballot row {index + 1} option {option + 1}"
                chunk = [data[offset + 32 * i : offset + 32 * (i + 1)] for i in range(6)]
                offset += OPTION_BYTES
                ciphertexts.append(
                    Ciphertext(
                        group.check_point(chunk[0], f"{what} alpha"),
                        group.check_point(chunk[1], f"{what} beta"),
                    )
                )
                c0, c1, v0, v1 = (group.read_scalar(x, f"{what} proof") for x in chunk[2:])
                proofs.append(ZeroOneProof(c0, c1, v0, v1))
            c = group.read_scalar(data[offset : offset + 32], f"ballot row {index + 1} sum proof")
            v = group.read_scalar(
                data[offset + 32 : offset + 64], f"ballot row {index + 1} sum proof"
            )
            offset += SUM_BYTES
            rows.append(SealedRow(tuple(ciphertexts), tuple(proofs), SumProof(c, v)))
        return cls(tuple(rows))


def _zero_one_challenge(
    public_key: bytes,
    context: bytes,
    row: int,
    option: int,
    ciphertext: Ciphertext,
    *commitments: bytes,
) -> int:
    return challenge(
        "zero-one",
        [
            context,
            public_key,
            u32(row),
            u32(option),
            ciphertext.alpha,
            ciphertext.beta,
            *commitments,
        ],
    )


def _sum_challenge(
    public_key: bytes, context: bytes, row: int, product: Ciphertext, a: bytes, b: bytes
) -> int:
    return challenge("row-sum", [context, public_key, u32(row), product.alpha, product.beta, a, b])


def _check_context(public_key: bytes, context: bytes) -> None:
    group.check_point(public_key, "joint public key")
    if not isinstance(context, bytes) or not 1 <= len(context) <= 1024:
        raise SealedError("round context: 1 to 1024 bytes expected")


@dataclass(frozen=True, slots=True)
class _OptionPad:
    """Everything of one option's encryption and 0/1 proof that does not depend on the bit."""

    r: int
    alpha: bytes
    r_key: bytes  # r·K
    w: int
    w_base: bytes  # w·G
    w_key: bytes  # w·K
    c_fake: int
    v_fake: int
    t_base: bytes  # t·G, t = v_fake − c_fake·r
    t_key: bytes  # t·K
    c_base: bytes  # c_fake·G


@dataclass(frozen=True, slots=True)
class _RowPad:
    w: int
    w_base: bytes
    w_key: bytes


def _option_pad(public_key: bytes) -> _OptionPad:
    r = group.random_scalar()
    w = group.random_scalar()
    c_fake, v_fake = group.random_scalar(), group.random_scalar()
    t = (v_fake - c_fake * r) % L
    return _OptionPad(
        r,
        base_mult(r),
        mult(r, public_key),
        w,
        base_mult(w),
        mult(w, public_key),
        c_fake,
        v_fake,
        base_mult(t),
        mult(t, public_key),
        base_mult(c_fake),
    )


def _row_pad(public_key: bytes) -> _RowPad:
    w = group.random_scalar()
    return _RowPad(w, base_mult(w), mult(w, public_key))


class SealingPads:
    """Secret randomness precomputed for sealing under one key (docs/CRYPTO.md §5.3).

    Each pad holds an option's ElGamal randomness: whoever reads it can read that option. Pads
    live only in this object's memory (never written anywhere), each is taken once, and an
    empty buffer falls back to computing fresh randomness, so the buffer changes the server's
    time at casting, never the ballot. Taking is safe from several threads at once: each pad
    leaves the buffer by one deque.popleft, which is atomic, so no two callers get the same pad
    (votes/sealing.py refills a buffer from a background thread while requests take from it).
    """

    def __init__(self, public_key: bytes) -> None:
        """Start an empty buffer for the joint key."""
        self.public_key = group.check_point(public_key, "joint public key")
        self._options: deque[_OptionPad] = deque()
        self._rows: deque[_RowPad] = deque()

    def fill(self, options: int, rows: int) -> None:
        """Precompute pads for that many options and rows (the slow part of sealing)."""
        for _ in range(options):
            self._options.append(_option_pad(self.public_key))
        for _ in range(rows):
            self._rows.append(_row_pad(self.public_key))

    def clear(self) -> None:
        """Drop every pad not yet taken (the buffer's secrets leave this object)."""
        self._options.clear()
        self._rows.clear()

    def available(self) -> tuple[int, int]:
        """Return the numbers of option pads and row pads ready."""
        return len(self._options), len(self._rows)

    def option(self) -> _OptionPad:
        """Take an option pad (a fresh one when the buffer is empty)."""
        try:
            return self._options.popleft()
        except IndexError:
            return _option_pad(self.public_key)

    def row(self) -> _RowPad:
        """Take a row pad (a fresh one when the buffer is empty)."""
        try:
            return self._rows.popleft()
        except IndexError:
            return _row_pad(self.public_key)


def _seal_option(
    public_key: bytes,
    context: bytes,
    row: int,
    option: int,
    bit: int,
    pad: _OptionPad | None = None,
) -> tuple[Ciphertext, ZeroOneProof, int]:
    if pad is None:
        pad = _option_pad(public_key)
    beta = group.add(pad.r_key, GENERATOR) if bit else pad.r_key
    ciphertext = Ciphertext(pad.alpha, beta)
    # Real branch `bit`: commitments w·G, w·K. Simulated branch j = 1 − bit: random (c_j, v_j);
    # its commitments v_j·G − c_j·alpha and v_j·K − c_j·(beta − j·G) are computed from the known
    # r as t·G and t·K − c_j·(bit − j)·G with t = v_j − c_j·r (same points, fewer operations).
    a_fake = pad.t_base
    b_fake = sub(pad.t_key, pad.c_base) if bit else group.add(pad.t_key, pad.c_base)
    a_real, b_real = pad.w_base, pad.w_key
    commitments = (a_fake, b_fake, a_real, b_real) if bit else (a_real, b_real, a_fake, b_fake)
    c = _zero_one_challenge(public_key, context, row, option, ciphertext, *commitments)
    c_real = (c - pad.c_fake) % L
    v_real = (pad.w + c_real * pad.r) % L
    if bit:
        proof = ZeroOneProof(pad.c_fake, c_real, pad.v_fake, v_real)
    else:
        proof = ZeroOneProof(c_real, pad.c_fake, v_real, pad.v_fake)
    return ciphertext, proof, pad.r


def seal_ballot(
    public_key: bytes,
    context: bytes,
    choices: Sequence[int],
    options: Sequence[int],
    pads: SealingPads | None = None,
) -> SealedBallot:
    """Encrypt one ballot (choices[i] = index of the option chosen in row i) with all its proofs.

    options[i] is the number of options of row i. The plaintext choices and the randomness stay
    in this function's frames; the result holds nothing secret. pads, when given, supplies
    precomputed randomness for this key (SealingPads).
    """
    _check_context(public_key, context)
    if pads is not None and pads.public_key != public_key:
        raise SealedError("sealing pads made for another key")
    if len(choices) != len(options) or not 1 <= len(options) <= MAX_ROWS:
        raise SealedError("ballot: one choice per row is needed")
    rows = []
    for row, (choice, m) in enumerate(zip(choices, options, strict=True)):
        if not MIN_OPTIONS <= m <= MAX_OPTIONS or not 0 <= choice < m:
            raise SealedError(f"ballot row {row + 1}: choice out of range")
        sealed = [
            _seal_option(
                public_key,
                context,
                row,
                option,
                int(option == choice),
                None if pads is None else pads.option(),
            )
            for option in range(m)
        ]
        ciphertexts = tuple(item[0] for item in sealed)
        randomness = sum(item[2] for item in sealed) % L
        product = _product(ciphertexts)
        row_pad = _row_pad(public_key) if pads is None else pads.row()
        c = _sum_challenge(public_key, context, row, product, row_pad.w_base, row_pad.w_key)
        rows.append(
            SealedRow(
                ciphertexts,
                tuple(item[1] for item in sealed),
                SumProof(c, (row_pad.w + c * randomness) % L),
            )
        )
    return SealedBallot(tuple(rows))


def _product(ciphertexts: Iterable[Ciphertext]) -> Ciphertext:
    result = ZERO
    for ciphertext in ciphertexts:
        result = result + ciphertext
    return result


def zero_one_valid(
    public_key: bytes,
    context: bytes,
    row: int,
    option: int,
    ciphertext: Ciphertext,
    proof: ZeroOneProof,
) -> bool:
    """Check a disjunctive 0/1 proof (docs/CRYPTO.md §5.1)."""
    alpha, beta = ciphertext.alpha, ciphertext.beta
    a0 = sub(base_mult(proof.v0), mult(proof.c0, alpha))
    b0 = sub(mult(proof.v0, public_key), mult(proof.c0, beta))
    a1 = sub(base_mult(proof.v1), mult(proof.c1, alpha))
    b1 = sub(mult(proof.v1, public_key), mult(proof.c1, sub(beta, GENERATOR)))
    expected = _zero_one_challenge(public_key, context, row, option, ciphertext, a0, b0, a1, b1)
    return (proof.c0 + proof.c1) % L == expected


def sum_valid(
    public_key: bytes, context: bytes, row: int, product: Ciphertext, proof: SumProof
) -> bool:
    """Check that a row's product ciphertext encrypts exactly 1 (docs/CRYPTO.md §5.2)."""
    a = sub(base_mult(proof.v), mult(proof.c, product.alpha))
    b = sub(mult(proof.v, public_key), mult(proof.c, sub(product.beta, GENERATOR)))
    return proof.c == _sum_challenge(public_key, context, row, product, a, b)


def ballot_problems(
    public_key: bytes, context: bytes, ballot: SealedBallot, options: Sequence[int]
) -> list[str]:
    """Return what is wrong with a ballot (empty when every proof verifies)."""
    _check_context(public_key, context)
    return _problems(public_key, context, ballot, options, decoded=False)


def _problems(
    public_key: bytes,
    context: bytes,
    ballot: SealedBallot,
    options: Sequence[int],
    *,
    decoded: bool,
) -> list[str]:
    """ballot_problems for a checked context; decoded: the ballot comes from from_bytes, which
    has checked every point already (they are not decoded a second time)."""
    if ballot.options != tuple(options):
        return [f"ballot: rows {list(ballot.options)} do not match the round {list(options)}"]
    problems = []
    for row, sealed in enumerate(ballot.rows):
        for option, (ciphertext, proof) in enumerate(
            zip(sealed.ciphertexts, sealed.proofs, strict=True)
        ):
            if not decoded:
                for point, name in ((ciphertext.alpha, "alpha"), (ciphertext.beta, "beta")):
                    group.check_point(point, f"ballot row {row + 1} option {option + 1} {name}")
            if not zero_one_valid(public_key, context, row, option, ciphertext, proof):
                problems.append(f"ballot row {row + 1} option {option + 1}: 0/1 proof fails")
        product = _product(sealed.ciphertexts)
        if not sum_valid(public_key, context, row, product, sealed.sum_proof):
            problems.append(f"ballot row {row + 1}: the row does not provably sum to 1")
    return problems


def verify_ballot(
    public_key: bytes, context: bytes, ballot: SealedBallot, options: Sequence[int]
) -> None:
    """Raise SealedError unless the ballot has the round's shape and every proof verifies."""
    problems = ballot_problems(public_key, context, ballot, options)
    if problems:
        raise SealedError("; ".join(problems))


def tracker(ballot: SealedBallot | bytes) -> bytes:
    """Return the ballot's tracker: SHA-256 over its canonical encoding (docs/CRYPTO.md §7)."""
    encoding = ballot.to_bytes() if isinstance(ballot, SealedBallot) else ballot
    return group.digest("tracker", [encoding])


def tracker_text(value: bytes) -> str:
    """Return a tracker as the voter reads it: base32, lowercase, groups of four."""
    text = base64.b32encode(value).decode("ascii").rstrip("=").lower()
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def box_digest(context: bytes, trackers: Iterable[bytes]) -> bytes:
    """Return the digest of the ballot box: its count and its trackers in sorted order.

    Sorting makes the digest a function of the set of ballots, not of the order in which they
    were cast or stored (which must reveal nothing); a repeated tracker is refused.
    """
    ordered = sorted(trackers)
    if any(len(item) != 32 for item in ordered):
        raise SealedError("box digest: trackers are 32 bytes")
    if any(ordered[i] == ordered[i + 1] for i in range(len(ordered) - 1)):
        raise SealedError("box digest: a tracker appears twice")
    return group.digest("ballot-box", [context, u32(len(ordered)), *ordered])


@dataclass(frozen=True, slots=True)
class EncryptedTally:
    """The encrypted totals of `count` verified ballots (docs/CRYPTO.md §9).

    Per row, the products of the ciphertexts of every option but the last: the last option's
    total is `count` minus the others' (every counted ballot's row proof and 0/1 proofs were
    checked, so each row of each ballot holds exactly one 1). A row of m options has m − 1
    ciphertexts here.
    """

    rows: tuple[tuple[Ciphertext, ...], ...]
    count: int

    @property
    def options(self) -> tuple[int, ...]:
        """Return the number of options of each row (one more than the ciphertexts kept)."""
        return tuple(len(row) + 1 for row in self.rows)

    def to_dict(self) -> dict[str, object]:
        """Return the record's form."""
        return {"count": self.count, "rows": [[c.to_list() for c in row] for row in self.rows]}

    @classmethod
    def from_dict(cls, value: object) -> EncryptedTally:
        """Read the record's form or raise SealedError."""
        if not isinstance(value, dict) or not isinstance(value.get("rows"), list):
            raise SealedError("tally: expected {count, rows}")
        count = value.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise SealedError("tally: count must be a non-negative integer")
        rows = []
        for index, row in enumerate(value["rows"]):
            if not isinstance(row, list) or not MIN_OPTIONS - 1 <= len(row) <= MAX_OPTIONS - 1:
                raise SealedError(f"tally row {index + 1}: expected a list of 1 to 7 ciphertexts")
            rows.append(
                tuple(
                    Ciphertext.from_list(item, f"tally row {index + 1} option {option + 1}")
                    for option, item in enumerate(row)
                )
            )
        return cls(tuple(rows), count)


# Processes are started for a box of at least this many option proofs (about a second of work):
# a smaller one is checked faster than two processes start.
PARALLEL_FROM: Final = 1500
# Processes used by default for a large box: VOTES_SEALED_WORKERS, else 2 (the server of the
# deployment guide has 2 cores); 1 checks every box in the calling process.
DEFAULT_WORKERS: Final = max(1, int(os.environ.get("VOTES_SEALED_WORKERS", "2") or 2))


def _add_into(sums: list[list[Ciphertext]], ballot: SealedBallot) -> None:
    """Add a ballot's ciphertexts to the running sums: every option but the last (§9)."""
    for row, sealed in zip(sums, ballot.rows, strict=True):
        for option in range(len(row)):
            row[option] = row[option] + sealed.ciphertexts[option]


def _check_slice(
    public_key: bytes,
    context: bytes,
    options: tuple[int, ...],
    first: int,
    ballots: Sequence[SealedBallot | bytes],
) -> tuple[list[str], list[bytes], EncryptedTally]:
    """Decode, check and add up a slice of ballots (also the body of each worker process).

    Return the problems (each naming its ballot, counted from first + 1), the trackers of the
    ballots that decode, and the encrypted tally of the ballots whose proofs all hold. Each
    encoding is decoded once (every point checked there) and its points are used as decoded.
    """
    problems: list[str] = []
    trackers: list[bytes] = []
    sums = [[ZERO] * (m - 1) for m in options]
    count = 0
    for number, item in enumerate(ballots, start=first + 1):
        try:
            if isinstance(item, bytes):
                ballot = SealedBallot.from_bytes(item)
                trackers.append(tracker(item))
                found = _problems(public_key, context, ballot, options, decoded=True)
            else:
                ballot = item
                trackers.append(tracker(item))
                found = _problems(public_key, context, ballot, options, decoded=False)
        except SealedError as error:
            problems.append(f"ballot {number}: {error}")
            continue
        if found:
            problems.extend(f"ballot {number}: {problem}" for problem in found)
            continue
        _add_into(sums, ballot)
        count += 1
    return problems, trackers, EncryptedTally(tuple(tuple(row) for row in sums), count)


_Part = TypeVar("_Part")


def _over_box(
    work: Callable[[bytes, bytes, tuple[int, ...], int, Sequence[Any]], _Part],
    public_key: bytes,
    context: bytes,
    ballots: Iterable[Any],
    shape: tuple[int, ...],
    workers: int | None,
    parallel_from: int,
    *,
    slices: int = 1,
) -> list[_Part]:
    """Run `work` over a box: in this process (one part), or over slices in fresh processes.

    workers > 1 uses that many processes, `slices` slices each, the parts in slice order;
    None uses DEFAULT_WORKERS for a box of at least `parallel_from` options, this process for
    a smaller one (starting processes costs more than it saves).
    """
    _check_context(public_key, context)
    items = list(ballots)
    if workers is None:
        workers = DEFAULT_WORKERS if len(items) * sum(shape) >= parallel_from else 1
    if workers <= 1 or len(items) < 2:
        return [work(public_key, context, shape, 0, items)]
    size = -(-len(items) // (workers * slices))
    with futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn")
    ) as pool:
        submitted = [
            pool.submit(work, public_key, context, shape, i, items[i : i + size])
            for i in range(0, len(items), size)
        ]
        return [one.result() for one in submitted]


def check_box(
    public_key: bytes,
    context: bytes,
    ballots: Iterable[SealedBallot | bytes],
    options: Sequence[int],
    workers: int | None = None,
) -> tuple[list[str], list[bytes], EncryptedTally]:
    """Check every ballot's proofs and add up the valid ones: (problems, trackers, tally).

    Ballots may be given decoded or as their encodings. workers > 1 checks slices of the box
    in that many processes (the same checks, in another order; the group is commutative, so
    the slices' tallies add up to the same points); None uses DEFAULT_WORKERS for a box of at
    least PARALLEL_FROM option proofs and this process for a smaller one.
    """
    # A few slices per process, so that one slow process does not leave the other idle.
    shape = tuple(options)
    results = _over_box(
        _check_slice, public_key, context, ballots, shape, workers, PARALLEL_FROM, slices=4
    )
    if len(results) == 1:
        return results[0]
    problems = [problem for found, _, _ in results for problem in found]
    trackers = [item for _, found, _ in results for item in found]
    return problems, trackers, sum_tallies([part for _, _, part in results], shape)


def aggregate(
    public_key: bytes,
    context: bytes,
    ballots: Iterable[SealedBallot | bytes],
    options: Sequence[int],
    workers: int | None = None,
) -> EncryptedTally:
    """Check every ballot's proofs and return the encrypted totals (check_box), or raise.

    Any ballot that does not decode or whose proofs fail raises SealedError naming it: the
    totals of a box are only sound when every ballot in it holds (docs/CRYPTO.md §9).
    """
    problems, _trackers, tally = check_box(public_key, context, ballots, options, workers)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise SealedError("; ".join(problems[:3]) + more)
    return tally


# A box is added up in processes from this many options (about a second of additions).
ADD_PARALLEL_FROM: Final = 30_000


def _add_slice(
    public_key: bytes,
    context: bytes,
    options: tuple[int, ...],
    first: int,
    ballots: Sequence[bytes],
) -> EncryptedTally:
    """Decode and add up a slice of encoded ballots (also the body of each worker process)."""
    sums = [[ZERO] * (m - 1) for m in options]
    for number, item in enumerate(ballots, start=first + 1):
        try:
            ballot = SealedBallot.from_bytes(item)
        except SealedError as error:
            raise SealedError(f"ballot {number}: {error}") from error
        if tuple(len(row.ciphertexts) for row in ballot.rows) != options:
            raise SealedError(f"ballot {number}: its rows are not the round's")
        _add_into(sums, ballot)
    return EncryptedTally(tuple(tuple(row) for row in sums), len(ballots))


def add_up(
    public_key: bytes,
    context: bytes,
    ballots: Iterable[bytes],
    options: Sequence[int],
    workers: int | None = None,
) -> EncryptedTally:
    """Add up a box of encoded ballots as they are, without checking their proofs.

    Every encoding is decoded (§6: canonical, every point valid) and its first m − 1 options
    of each row are added (§9); a ballot that does not decode raises SealedError naming it.
    The totals are sound only for a box whose every ballot's proofs hold: the caller has
    them checked elsewhere (the record verifier, `votes verify`), or made them itself.
    workers > 1 adds slices in that many processes (the group is commutative: the same
    points); None uses DEFAULT_WORKERS from ADD_PARALLEL_FROM options, this process below.
    """
    shape = tuple(options)
    parts = _over_box(_add_slice, public_key, context, ballots, shape, workers, ADD_PARALLEL_FROM)
    return parts[0] if len(parts) == 1 else sum_tallies(parts, shape)


def sum_tallies(parts: Sequence[EncryptedTally], options: Sequence[int]) -> EncryptedTally:
    """Add encrypted tallies of disjoint sets of ballots (slices, or shards kept while casting)."""
    shape = tuple(options)
    if any(part.options != shape for part in parts):
        raise SealedError("tally: a part does not have the round's rows")
    rows = tuple(
        tuple(_product(part.rows[row][option] for part in parts) for option in range(m - 1))
        for row, m in enumerate(shape)
    )
    return EncryptedTally(rows, sum(part.count for part in parts))
