"""Sealing pads made before the hall votes (votes/pads.py): each server process keeps pads for
its share of the unused codes of the rounds about to vote, so that a burst right after the
round opens seals with pads instead of fresh randomness."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import add_committee, add_test_body, person, work
from tests.test_sealed import SECRET, sealed_round
from votes import gunicorn_config, operations, pads, rounds, sealing
from votes.committee import get_key
from votes.voting import cast_ballot


@pytest.fixture(autouse=True)
def _nothing_left_running() -> Iterator[None]:
    yield
    for stop in pads._watch.values():
        stop.set()
    pads._watch.clear()
    for pool in list(sealing._pools.values()):
        pool.stop()


def _round(
    session: Session, body: str, *, codes: int, committee: bool = True
) -> tuple[int, list[str]]:
    """A round of three persons in a body of its own, with codes and (by default) a key."""
    round_ = operations.create_round(
        work(session),
        body_code=add_test_body(session, body).code,
        year=2014,
        profile_id="nq35-2012",
        title="Lấy phiếu tín nhiệm",
        roster=[person("Nguyễn Văn An"), person("Trần Thị Bình"), person("Lê Văn Cường")],
        members=max(10, codes),
        summoned=max(10, codes),
        present=max(10, codes),
    )
    if committee:
        add_committee(session, round_.id)
    issued = operations.issue_codes(work(session), round_.id, codes, SECRET)
    session.commit()
    return round_.id, issued


def _key(session: Session, round_id: int) -> str:
    key = get_key(session, round_id)
    assert key is not None
    assert key.public_key is not None
    return key.public_key


def _opened(session: Session, *, codes: int) -> tuple[int, list[str], str]:
    """An open sealed round with codes: its id, the codes, its key (hexadecimal)."""
    round_, issued = sealed_round(session, codes=codes)
    operations.open_round(work(session), round_.id)
    session.commit()
    return round_.id, issued, _key(session, round_.id)


def _wait(condition, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("not reached in time")


def test_a_process_plans_for_its_share_of_the_unused_codes() -> None:
    plan = pads.PadPlan("00" * 32, items=20, levels=3, unused_codes=500)
    # 500 codes over 4 workers: 125 each on average; 1.5 × that, rounded up, and 4 more.
    assert plan.ballots(4) == math.ceil(500 * 3 / 2 / 4) + 4 == 192
    assert plan.ballots(1) == 500  # one process: never more than the codes left
    assert pads.PadPlan("00" * 32, 20, 3, 0).ballots(4) == 0
    assert pads.PadPlan("00" * 32, 0, 3, 10).ballots(4) == 0


def test_rounds_about_to_vote_are_planned_open_ones_first(session: Session) -> None:
    draft, _codes = _round(session, "HDND-A", codes=6)  # key complete, still a draft
    opened, codes = _round(session, "HDND-B", codes=5)
    operations.open_round(work(session), opened)
    session.commit()
    cast_ballot(session, SECRET, codes[0], ["H", "C", "L"])
    cast_ballot(session, SECRET, codes[1], ["L", "L", "L"])
    _round(session, "HDND-C", codes=3, committee=False)  # no key: nothing to seal with
    plans = pads.pad_plans(session)
    assert [(p.public_key, p.items, p.levels, p.unused_codes) for p in plans] == [
        (_key(session, opened), 3, 3, 3),  # 5 codes, 2 used
        (_key(session, draft), 3, 3, 6),
    ]
    operations.close_round(work(session), opened)
    session.commit()
    assert [p.public_key for p in pads.pad_plans(session)] == [_key(session, draft)]


def test_planned_pads_are_made_kept_and_dropped_when_the_round_stops_voting(
    session: Session, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sealing, "PADS_IDLE_SECONDS", 0.3)
    round_id, _codes, key = _opened(session, codes=10)
    public_key = bytes.fromhex(key)
    pads.plan_once(sessions, processes=2)
    # 10 codes over 2 processes: min(10, ceil(7.5) + 4) = 10 ballots of 3 persons × 3 levels.
    pool = sealing._pools[public_key]
    _wait(lambda: pool.pads.available() == (90, 30))
    time.sleep(1.0)  # longer than the idle limit: a planned buffer is kept without casts
    assert sealing._pools.get(public_key) is pool
    assert pool.thread.is_alive()
    assert pool.pads.available() == (90, 30)  # and it made no more than planned
    operations.close_round(work(session), round_id)
    session.commit()
    assert public_key not in sealing._pools  # the close dropped them in this process
    pads.plan_once(sessions, processes=2)
    assert public_key not in sealing._pools  # and the next look does not plan them again


def test_the_next_look_drops_the_pads_of_a_round_closed_by_another_process(
    session: Session, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    round_id, _codes, key = _opened(session, codes=4)
    public_key = key
    pads.plan_once(sessions, processes=1)
    assert public_key in sealing.planned_keys()
    # Another process closes the round: this one learns of it at its next look.
    monkeypatch.setattr(rounds, "drop_sealing_pads", lambda _key: None)
    operations.close_round(work(session), round_id)
    session.commit()
    monkeypatch.undo()
    assert public_key in sealing.planned_keys()
    pads.plan_once(sessions, processes=1)
    assert public_key not in sealing.planned_keys()
    assert bytes.fromhex(public_key) not in sealing._pools


def test_the_share_shrinks_as_codes_are_used(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    _round_id, codes, key = _opened(session, codes=6)
    public_key = bytes.fromhex(key)
    pads.plan_once(sessions, processes=1)
    assert sealing._pools[public_key].planned == 6
    for code in codes[:4]:
        cast_ballot(session, SECRET, code, ["H", "C", "L"])
    pads.plan_once(sessions, processes=1)
    assert sealing._pools[public_key].planned == 2


def test_a_cast_spends_one_planned_ballot_and_sets_no_refill_going(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    # The plan counts the ballots this process is still expected to seal: a cast takes one
    # ballot's pads and one ballot off the plan, so a burst does not make the casts' pads again
    # at once (the next look plans from the codes still unused, as in the test above).
    _round_id, codes, key = _opened(session, codes=10)
    public_key = bytes.fromhex(key)
    pads.plan_once(sessions, processes=1)
    pool = sealing._pools[public_key]
    _wait(lambda: pool.pads.available() == (10 * 9, 10 * 3))
    for code in codes[:4]:
        cast_ballot(session, SECRET, code, ["H", "C", "L"])
    assert pool.planned == 6
    time.sleep(0.5)  # time enough for the thread to make a ballot's pads, had it been asked to
    assert pool.pads.available() == (6 * 9, 6 * 3)
    # A ballot page shown is not a cast: it leaves the plan as it is.
    sealing.prepare_pads(key, 3, 3)
    assert pool.planned == 6


def test_the_next_look_drops_pads_whose_plan_the_casts_used_up(
    session: Session, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every code of the round used in this process: its plan is down to nothing, and the pads
    # of the margin are left. Another process closes the round; this one's next look drops them.
    round_id, codes, key = _opened(session, codes=4)
    pads.plan_once(sessions, processes=1)
    pool = sealing._pools[bytes.fromhex(key)]
    for code in codes:
        cast_ballot(session, SECRET, code, ["H", "C", "L"])
    assert pool.planned == 0
    monkeypatch.setattr(rounds, "drop_sealing_pads", lambda _key: None)
    operations.close_round(work(session), round_id)
    session.commit()
    pads.plan_once(sessions, processes=1)
    assert bytes.fromhex(key) not in sealing._pools
    assert pool.stopped
    assert pool.pads.available() == (0, 0)


def test_pads_switched_off_plan_nothing(
    session: Session, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sealing, "PADS_CAP", 0)
    _opened(session, codes=4)
    assert pads.watch(sessions, 2) is None
    pads.plan_once(sessions, processes=1)
    assert not sealing._pools


def test_gunicorn_starts_the_watch_in_each_worker_with_the_number_of_workers(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = app.extensions["votes.sessions"]
    with sessions() as session:
        round_id, _codes = _round(session, "HDND-G", codes=40)
        operations.open_round(work(session), round_id)
        session.commit()
        public_key = bytes.fromhex(_key(session, round_id))
    worker = SimpleNamespace(wsgi=app, cfg=SimpleNamespace(workers=4))
    gunicorn_config.post_worker_init(worker)
    # 40 codes over 4 workers: ceil(15) + 4 = 19 ballots, made without any request.
    _wait(lambda: public_key in sealing._pools and sealing._pools[public_key].planned == 19)
    pool = sealing._pools[public_key]
    _wait(lambda: pool.pads.available()[0] == 19 * 9)
    assert pads.watch(sessions, 4) is pads._watch[os.getpid()]  # once per process


def test_a_database_away_does_not_stop_the_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    looks: list[int] = []

    def away() -> Session:
        looks.append(1)
        raise OSError("database away")

    stop = pads.watch(away, 1, every=0.05)  # type: ignore[arg-type]
    assert stop is not None
    _wait(lambda: len(looks) >= 3)
    stop.set()
