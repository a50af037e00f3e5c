"""Sealing pads made before the hall votes: which rounds need them, and how many, per process.

A burst of a hall's voters right after the chair opens the round would find each worker's
pads (votes/sealing.py) nearly empty, and sealing with fresh randomness costs a cast about
forty milliseconds of CPU where pads make it a few. The committee's key exists before the
round opens, so the pads can be made earlier: each server process looks, every
`VOTES_PADS_WATCH_SECONDS` (10 s), at the rounds whose key is complete and that are open or
still drafts, and keeps ready pads for its share of their unused codes (the codes divided among
the server's processes, with a margin because a process may get more than its share), up to
`VOTES_SEALING_PADS` option pads a key. As codes are used the share shrinks (each cast takes
one ballot off its process's plan, and each look plans again from the unused codes); when a
round stops voting its pads are dropped. The look is one small query; pads stay in the
process's memory only, as before.

gunicorn starts the watch in each worker (votes/gunicorn_config.py, `post_worker_init`, which
knows the number of workers); without it, a worker's pads start when a voter is shown the
ballot (votes/web/common.py).
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from . import sealing
from .models import BallotItem, CountingKey, Credential, Round, RoundStatus
from .vocabulary import letters

LOG = logging.getLogger(__name__)

# Seconds between two looks at the rounds (0: no watch).
WATCH_SECONDS = float(os.environ.get("VOTES_PADS_WATCH_SECONDS", "10"))
# A process plans for this share of the unused codes divided by the processes, plus a few:
# requests do not spread evenly over the workers of a burst.
MARGIN = 1.5
EXTRA_BALLOTS = 4


@dataclass(frozen=True)
class PadPlan:
    """A round whose ballots will be sealed: its key, its ballot's shape, its unused codes."""

    public_key: str
    items: int
    levels: int
    unused_codes: int

    def ballots(self, processes: int) -> int:
        """Return the ballots one of `processes` server processes keeps pads for."""
        if self.unused_codes <= 0 or self.items <= 0:
            return 0
        share = math.ceil(self.unused_codes * MARGIN / max(1, processes))
        return min(self.unused_codes, share + EXTRA_BALLOTS)


def pad_plans(session: Session, limit: int = sealing.PADS_KEYS) -> list[PadPlan]:
    """Return the rounds that will seal ballots soon: open ones first, then drafts whose
    committee's key is complete; at most `limit` (a process keeps pads for that many keys).
    One statement: each round's items and unused codes are counted beside it."""
    items = (
        select(func.count())
        .where(BallotItem.round_id == Round.id)
        .correlate(Round)
        .scalar_subquery()
    )
    # Counting stops where pads would stop anyway: a process never keeps more than PADS_CAP
    # option pads a key.
    unused = (
        select(func.count())
        .select_from(
            select(Credential.id)
            .where(Credential.round_id == Round.id, Credential.used.is_(False))
            .correlate(Round)
            .limit(max(1, sealing.PADS_CAP))
            .subquery()
        )
        .correlate(Round)
        .scalar_subquery()
    )
    open_first = case((Round.status == RoundStatus.OPEN.value, 0), else_=1)
    rows = session.execute(
        select(CountingKey.public_key, Round.scale, items, unused)
        .join(Round, CountingKey.round_id == Round.id)
        .where(
            Round.status.in_([RoundStatus.DRAFT.value, RoundStatus.OPEN.value]),
            CountingKey.public_key.is_not(None),
        )
        .order_by(open_first, Round.id.desc())
        .limit(limit)
    ).all()
    return [
        PadPlan(str(public_key), items or 0, len(letters(scale)), codes or 0)
        for public_key, scale, items, codes in rows
    ]


def plan_once(sessions: Callable[[], Session], processes: int) -> list[PadPlan]:
    """Look at the rounds once and plan this process's pads: start or resize each round's,
    drop those of rounds that no longer vote. Return the plans."""
    with sessions() as session:
        plans = pad_plans(session)
    keep = set()
    for plan in plans:
        ballots = plan.ballots(processes)
        if ballots:
            sealing.plan_pads(plan.public_key, plan.items, plan.levels, ballots)
            keep.add(plan.public_key)
    for public_key in sealing.planned_keys() - keep:
        sealing.drop_sealing_pads(public_key)
    return plans


# This process's watch, by process id (a forked child starts its own): its stop flag.
_watch: dict[int, threading.Event] = {}
_watch_lock = threading.Lock()


def watch(
    sessions: Callable[[], Session], processes: int, every: float | None = None
) -> threading.Event | None:
    """Start this process's watch of the rounds (once per process); return its stop flag.

    None when there is nothing to watch for: pads switched off, or `every` ≤ 0.
    """
    every = WATCH_SECONDS if every is None else every
    if every <= 0 or sealing.PADS_CAP <= 0:
        return None
    with _watch_lock:
        stop = _watch.get(os.getpid())
        if stop is not None:
            return stop
        _watch.clear()  # a parent's, inherited through fork: its thread is not here
        stop = _watch[os.getpid()] = threading.Event()
    thread = threading.Thread(
        target=_run, args=(sessions, processes, every, stop), name="sealing-plan", daemon=True
    )
    thread.start()
    return stop


def _run(
    sessions: Callable[[], Session], processes: int, every: float, stop: threading.Event
) -> None:
    while not stop.is_set():
        try:
            plan_once(sessions, processes)
        except Exception:  # the database away for a moment: casts still work without pads
            LOG.warning("sealing pads: could not look at the rounds", exc_info=True)
        stop.wait(every)
    with _watch_lock:
        if _watch.get(os.getpid()) is stop:
            del _watch[os.getpid()]
