"""The application's one door to the sealed-ballot primitives (votes/sealed/, docs/CRYPTO.md).

Everything the application asks of the cryptography goes through here, in the application's
terms: a ballot as the index of the level chosen on each item, the committee's files as JSON
values (the library's record forms), keys and contexts as hexadecimal text. The library
defines the group, the encodings and the proofs; a failed check becomes a SealingError (a
refusal with a clear message, nothing stored).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from . import sealed
from .errors import N_, InvalidInput, Message, message

# Bound into every context: which system the ceremony and the ballots belong to.
SCOPE = "phieu-tin-nhiem"


class SealingError(InvalidInput):
    """A file or a value of the sealed record failed its check (a proof, a point, a format)."""


# What a refusal names, in the words of the pages (the call sites name it by these keys). The
# reason after it is the library's own technical text.
CHECKED_WORDS = {
    "public part": N_("public part of the key"),
    "committee": N_("the committee's joint key"),
    "shares": N_("shares for the other members"),
    "confirmation": N_("check of the shares received"),
    "partial decryption": N_("partial decryption"),
    "decryption": N_("decryption of the totals"),
    "sealed record": N_("public record of the sealed ballots"),
    "sealed ballot box": N_("box of sealed ballots"),
}


def _refused(what: str, reason: object) -> SealingError:
    return SealingError(
        N_("{what} does not check: {reason}."),
        what=message(CHECKED_WORDS.get(what, what)),
        reason=reason if isinstance(reason, Message) else str(reason),
    )


# ------------------------------------------------------------------------- the ceremony


def ceremony(label: str, threshold: int, size: int) -> bytes:
    """Return the ceremony context of a committee (its label is the round's context digest)."""
    return sealed.ceremony_context(SCOPE, label, threshold, size)


def member_public(payload: Any, what: str = "public part") -> sealed.MemberPublic:
    """Read a member's public part from its record form, or refuse."""
    try:
        return sealed.MemberPublic.from_dict(payload)
    except sealed.SealedError as error:
        raise _refused(what, error) from error


def check_public_part(
    ceremony_bytes: bytes, threshold: int, size: int, number: int, payload: Any
) -> None:
    """Check a member's public part: its number, k and n, and every proof of knowledge."""
    public = member_public(payload)
    if (public.index, public.k, public.n) != (number, threshold, size):
        raise _refused(
            "public part",
            message(
                N_(
                    "it is member {index}'s for {k} of {n}, not member {number}'s for "
                    "{threshold} of {size}"
                ),
                index=public.index,
                k=public.k,
                n=public.n,
                number=number,
                threshold=threshold,
                size=size,
            ),
        )
    problems = sealed.committee.member_problems(ceremony_bytes, public)
    if problems:
        raise _refused("public part", "; ".join(problems))


def make_committee(ceremony_bytes: bytes, public_parts: Sequence[Any]) -> sealed.Committee:
    """Check every public part and derive the joint key and each member's verification key."""
    try:
        return sealed.make_committee(ceremony_bytes, [member_public(p) for p in public_parts])
    except sealed.SealedError as error:
        raise _refused("committee", error) from error


def check_shares(number: int, payload: Any, numbers: Sequence[int]) -> None:
    """Check the form of the shares a member made: one for every other member, from them."""
    if not isinstance(payload, dict) or not isinstance(payload.get("shares"), list):
        raise _refused("shares", "expected {shares: [...]}")
    try:
        shares = [sealed.EncryptedShare.from_dict(s) for s in payload["shares"]]
    except sealed.SealedError as error:
        raise _refused("shares", error) from error
    if any(share.sender != number for share in shares):
        raise _refused("shares", message(N_("a share is not from member {number}"), number=number))
    recipients = sorted(share.recipient for share in shares)
    if recipients != sorted(n for n in numbers if n != number):
        raise _refused("shares", message(N_("not exactly one share for every other member")))


def shares_for(number: int, all_shares: Sequence[Any]) -> list[sealed.EncryptedShare]:
    """Return the shares addressed to one member among every member's shares payload."""
    found = []
    for payload in all_shares:
        for share in payload["shares"]:
            read = sealed.EncryptedShare.from_dict(share)
            if read.recipient == number:
                found.append(read)
    return found


def check_confirmation(committee: sealed.Committee, number: int, payload: Any) -> None:
    """Check a member's confirmation: the joint key and their verification key, as derived."""
    if not isinstance(payload, dict):
        raise _refused("confirmation", message(N_("the file holds no check")))
    if payload.get("public_key") != committee.public_key.hex():
        raise _refused("confirmation", message(N_("the member made another joint key")))
    if payload.get("verification_key") != committee.verification_key(number).hex():
        raise _refused(
            "confirmation", message(N_("the member's key does not match the commitments"))
        )


# ------------------------------------------------------------------------- the round


def parameters(round_id: int, items: Sequence[str], levels: int) -> sealed.RoundParameters:
    """Return what a round's ballots are bound to: its items, each with `levels` options."""
    return sealed.RoundParameters(SCOPE, str(round_id), tuple(items), (levels,) * len(items))


def read_parameters(text: str) -> sealed.RoundParameters:
    """Read a round's stored parameters (the record's form)."""
    return sealed.RoundParameters.from_dict(json.loads(text))


# ------------------------------------------------------------------------- sealing pads
#
# Sealing a ballot is mostly scalar multiplications that do not depend on the choices
# (docs/CRYPTO.md §5.3). Each process keeps, per joint key it has sealed for, a buffer of that
# precomputed randomness (SealingPads) and a daemon thread that refills it while the process
# waits for requests, so that a cast only adds points and hashes. Pads are as secret as the
# ballots they will seal: they live only in this process's memory (never stored, logged or
# sent), each is taken once (SealingPads: an atomic popleft), a forked child drops its parent's
# buffers before it could use one (os.register_at_fork), and an empty buffer never blocks a
# cast: the cast draws fresh randomness as without pads.

# Ballots' worth of pads kept ahead per key at first; doubled each time casts empty the buffer.
PADS_FIRST = 4
# At most this many option pads per key in one process (≈ 0.9 kB each in memory): 24 000 is
# 400 ballots of 20 persons × 3 levels, ≈ 21 MB.
PADS_CAP = int(os.environ.get("VOTES_SEALING_PADS", "24000"))
# Keys with a buffer at once in one process (rounds open at the same time); the oldest goes.
PADS_KEYS = 4
# A buffer that no cast has used for this long is dropped and its thread ends (a closed round),
# unless the watch plans it (plan_pads: its round is about to vote or voting).
PADS_IDLE_SECONDS = 300.0
# Pads computed between two looks at the clock and the stop flag.
_PADS_STEP = 32


class _PadPool:
    """The sealing pads of one joint key in this process, and the thread that refills them."""

    def __init__(self, public_key: bytes, options: int, rows: int) -> None:
        self.pads = sealed.SealingPads(public_key)
        self.options, self.rows = options, rows
        self.ballots = PADS_FIRST
        # Ballots this process is expected to seal (plan_pads), kept ready while it waits;
        # each cast takes one off. `watched`: planned by the watch, which drops the buffer when
        # its round stops voting (even once the casts have used the plan up).
        self.planned = 0
        self.watched = False
        self.used = time.monotonic()
        self.wanted = threading.Event()
        self.stopped = False
        self.thread = threading.Thread(target=self._refill, name="sealing-pads", daemon=True)

    def take(self, options: int, rows: int, cast: bool = True) -> sealed.SealingPads:
        """Note a cast of that shape (growing the target when the buffer ran short), or with
        `cast` False a ballot about to be cast (its page shown).

        A cast spends one of the planned ballots: the plan is what this process is still
        expected to seal, so the pads a burst takes are not made again during the burst (the
        watch's next look plans from the codes still unused)."""
        self.used = time.monotonic()
        self.options, self.rows = max(self.options, options), max(self.rows, rows)
        if cast and self.planned:
            self.planned -= 1
        if self.pads.available()[0] < options:
            self.ballots = min(self.ballots * 2, self._most())
        self.wanted.set()
        return self.pads

    def plan(self, options: int, rows: int, ballots: int) -> None:
        """Keep pads for `ballots` ballots of that shape ready (0: back to what casts ask)."""
        self.options, self.rows = options, rows
        self.planned = max(0, ballots)
        self.watched = True
        self.wanted.set()

    def _most(self) -> int:
        return max(1, PADS_CAP // max(1, self.options))

    def _missing(self) -> tuple[int, int]:
        have_options, have_rows = self.pads.available()
        ballots = min(max(self.ballots, self.planned), self._most())
        return (
            max(0, ballots * self.options - have_options),
            max(0, ballots * self.rows - have_rows),
        )

    def _refill(self) -> None:
        _lower_priority()
        while not self.stopped:
            self.wanted.clear()
            options, rows = self._missing()
            if options or rows:
                step = min(options, _PADS_STEP)
                self.pads.fill(step, min(rows, max(1, step * self.rows // self.options)))
            elif (
                not self.wanted.wait(timeout=PADS_IDLE_SECONDS / 10)
                and not self.watched
                and time.monotonic() - self.used > PADS_IDLE_SECONDS
            ):
                break
        self.stop()

    def stop_soon(self) -> None:
        """Ask the thread to stop (it then drops the pads); for callers holding _pools_lock."""
        self.stopped = True
        self.wanted.set()

    def stop(self) -> None:
        """Stop refilling and drop every pad not yet taken."""
        self.stopped = True
        self.wanted.set()
        self.pads.clear()
        with _pools_lock:
            if _pools.get(self.pads.public_key) is self:
                del _pools[self.pads.public_key]


_pools: OrderedDict[bytes, _PadPool] = OrderedDict()
_pools_lock = threading.Lock()


def _lower_priority() -> None:
    """Give the refilling thread the lowest CPU priority (Linux threads have their own nice)."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


def _forget_pools_in_child() -> None:
    """In a forked child: drop the parent's pads (the parent may use them) and their threads."""
    global _pools_lock  # a lock held by a thread that does not exist in the child
    _pools_lock = threading.Lock()
    for pool in _pools.values():
        pool.stopped = True
        pool.pads.clear()
    _pools.clear()


os.register_at_fork(after_in_child=_forget_pools_in_child)


def _pool(public_key: bytes, options: int, rows: int) -> _PadPool:
    """Return this process's pool for a key, starting its refilling thread on first use."""
    with _pools_lock:
        pool = _pools.get(public_key)
        started = None
        if pool is None or pool.stopped:
            pool = started = _PadPool(public_key, options, rows)
            _pools[public_key] = pool
            while len(_pools) > PADS_KEYS:
                _pools.popitem(last=False)[1].stop_soon()
        _pools.move_to_end(public_key)
    if started is not None:
        started.thread.start()
    return pool


def sealing_pads(
    public_key: bytes, options: int, rows: int, cast: bool = True
) -> sealed.SealingPads | None:
    """Return this process's pads for a key, starting their refilling thread on first use.

    None when pads are switched off (VOTES_SEALING_PADS=0). The first cast for a key seals
    with fresh randomness while the thread starts; later casts find pads ready. `cast` False:
    a ballot about to be cast (its page shown), which takes nothing off the plan.
    """
    if PADS_CAP <= 0:
        return None
    return _pool(public_key, options, rows).take(options, rows, cast)


def prepare_pads(public_key: str, items: int, levels: int) -> None:
    """Start filling this process's pads for a round's key before its first cast (for example
    when a voter's ballot page is shown), so that the first casts find pads ready."""
    sealing_pads(bytes.fromhex(public_key), items * levels, items, cast=False)


def plan_pads(public_key: str, items: int, levels: int, ballots: int) -> None:
    """Keep this process's pads for `ballots` ballots of a round's key ready, made while the
    process waits for requests: the share of the round's unused codes this process is expected
    to seal (votes/pads.py plans it before and while the round votes). At most PADS_CAP."""
    if PADS_CAP > 0:
        _pool(bytes.fromhex(public_key), items * levels, items).plan(items * levels, items, ballots)


def planned_keys() -> set[str]:
    """Return the keys (hexadecimal) this process keeps planned pads for."""
    with _pools_lock:
        return {key.hex() for key, pool in _pools.items() if pool.watched and not pool.stopped}


def drop_sealing_pads(public_key: str) -> None:
    """Stop refilling a key's pads in this process and drop them (its round's voting ended)."""
    with _pools_lock:
        pool = _pools.get(bytes.fromhex(public_key))
    if pool is not None:
        pool.stop()


def encrypt_ballot(
    public_key: str, context: str, choices: Sequence[int], levels: int
) -> tuple[bytes, bytes]:
    """Encrypt one online ballot to the joint key, with its proofs: (tracker, content).

    The secret randomness comes from this process's sealing pads for the key when some are
    ready (computed ahead by a background thread), else it is drawn now.
    """
    key = bytes.fromhex(public_key)
    shape = (levels,) * len(choices)
    pads = sealing_pads(key, levels * len(choices), len(choices))
    ballot = sealed.seal_ballot(key, bytes.fromhex(context), choices, shape, pads=pads)
    content = ballot.to_bytes()
    return sealed.tracker(content), content


def bad_ballots(
    public_key: str,
    round_parameters: sealed.RoundParameters,
    box: Sequence[tuple[bytes, bytes]],
    *,
    proofs: bool = True,
) -> int:
    """Count the stored sealed ballots (tracker, content) that do not hold: a tracker that is
    not the hash of its content or, with proofs, a ballot whose proofs fail (checked in two
    processes for a large box)."""
    bad = sum(1 for tracker, content in box if sealed.tracker(content) != tracker)
    if proofs and box:
        _problems, _trackers, tally = sealed.check_box(
            bytes.fromhex(public_key),
            round_parameters.context,
            [content for _tracker, content in box],
            round_parameters.options,
        )
        bad = max(bad, len(box) - tally.count)
    return bad


def box_digest(round_parameters: sealed.RoundParameters, trackers: Sequence[bytes]) -> str:
    """Return the digest of a box of sealed ballots (its count and sorted trackers)."""
    return sealed.box_digest(round_parameters.context, trackers).hex()


def encrypted_totals(
    public_key: str, round_parameters: sealed.RoundParameters, contents: Sequence[bytes]
) -> dict[str, object]:
    """Add up a group's sealed ballots option by option: the encrypted totals (record form;
    every option of a row but the last, docs/CRYPTO.md §9).

    The close adds up the ballots the server sealed itself, each decoded (a ballot that does
    not decode is refused, naming it: the box was changed), without checking their proofs
    again: that is the verifier's work (`votes verify`, the bundle's verify.py), which checks
    every proof of every ballot. Checking 500 ballots × 60 persons here would hold the close,
    and the table lock that keeps casts out of it, for about a minute on two cores.
    """
    try:
        tally = sealed.add_up(
            bytes.fromhex(public_key), round_parameters.context, contents, round_parameters.options
        )
    except sealed.SealedError as error:
        raise _refused("sealed ballot box", error) from error
    return tally.to_dict()


def _tally(round_parameters: sealed.RoundParameters, totals: Any) -> sealed.EncryptedTally:
    """Read stored encrypted totals: one ciphertext for every option of a row but the last.

    Totals made before the last option was left out (record format 1: m a row) are refused,
    never decrypted as if they were of this shape.
    """
    tally = sealed.EncryptedTally.from_dict(totals)
    if tally.options != round_parameters.options:
        raise sealed.SealedError(
            f"the encrypted totals have rows of {[len(r) for r in tally.rows]} ciphertexts; "
            f"this round's need {[m - 1 for m in round_parameters.options]}"
        )
    return tally


def check_partial(
    committee: sealed.Committee,
    round_parameters: sealed.RoundParameters,
    totals: Any,
    number: int,
    payload: Any,
) -> None:
    """Check a member's partial decryption of the totals against every proof in it."""
    try:
        partial = sealed.PartialDecryption.from_dict(payload)
        tally = _tally(round_parameters, totals)
    except sealed.SealedError as error:
        raise _refused("partial decryption", error) from error
    if partial.member != number:
        raise _refused(
            "partial decryption",
            message(N_("it is member {member}'s"), member=partial.member),
        )
    problems = sealed.partial_problems(committee, round_parameters.context, tally, partial)
    if problems:
        raise _refused("partial decryption", "; ".join(problems[:3]))


def combine(
    committee: sealed.Committee,
    round_parameters: sealed.RoundParameters,
    totals: Any,
    partials: Sequence[Any],
) -> list[list[int]]:
    """Combine k checked partial decryptions and find the totals: per item, one count per level."""
    try:
        return sealed.combine(
            committee,
            round_parameters.context,
            _tally(round_parameters, totals),
            [sealed.PartialDecryption.from_dict(p) for p in partials],
        )
    except sealed.SealedError as error:
        raise _refused("decryption", error) from error


def record(
    round_parameters: sealed.RoundParameters,
    committee: sealed.Committee,
    contents: Sequence[bytes],
    partials: Sequence[Any],
    totals: Any = None,
) -> dict[str, object]:
    """Return the public record of a counted round (the library's verify_record reads it).

    totals: the encrypted totals made at the close (record form), which the partial
    decryptions decrypt; the record's verification recomputes them from the ballots.
    """
    try:
        return sealed.make_record(
            round_parameters,
            committee,
            list(contents),
            [sealed.PartialDecryption.from_dict(p) for p in partials],
            None if totals is None else _tally(round_parameters, totals),
        )
    except sealed.SealedError as error:
        raise _refused("sealed record", error) from error


def record_problems(document: Mapping[str, object]) -> list[str]:
    """Check a whole public record; return each problem found (none: it holds)."""
    return sealed.verify_record(document)


def encoded(content: bytes) -> str:
    """Return a sealed ballot as the record writes it (base64)."""
    return base64.b64encode(content).decode("ascii")
