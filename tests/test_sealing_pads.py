"""The server's sealing pads: precomputed secret randomness, per key, refilled in the background.

A pad holds an option's ElGamal randomness r: two ballots sealed with one pad could be
subtracted to read them, so every test here looks for randomness used twice (alpha = r·G is in
every ciphertext: two equal alphas mean one r). Pads must also never reach a forked child
(gunicorn preloads the application and forks its workers), and an empty buffer must never stop
a cast.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import decrypt_round, work
from tests.test_sealed import SECRET, sealed_round
from tests.web_fixtures import build_world, open_ballot
from votes import operations, sealed, sealing
from votes.committee import get_key
from votes.models import Round, SealedBallot
from votes.results import round_results
from votes.voting import cast_ballot


@pytest.fixture(autouse=True)
def _no_pools_left() -> Iterator[None]:
    yield
    for pool in list(sealing._pools.values()):
        pool.stop()


def _wait_for_pads(public_key: bytes, options: int) -> sealed.SealingPads:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pool = sealing._pools.get(public_key)
        if pool is not None and pool.pads.available()[0] >= options:
            return pool.pads
        time.sleep(0.05)
    raise AssertionError("the background thread did not fill the pads")


def _first_alphas(pads: sealed.SealingPads, count: int) -> set[bytes]:
    """The alphas of the next `count` pads (read while the thread may still append more)."""
    while True:
        try:
            return {pad.alpha for pad in list(pads._options)[:count]}
        except RuntimeError:  # the deque grew while it was copied: read again
            continue


def _alphas(content: bytes) -> list[bytes]:
    ballot = sealed.SealedBallot.from_bytes(content)
    return [c.alpha for row in ballot.rows for c in row.ciphertexts]


def test_casts_use_the_pads_and_no_two_casts_share_randomness(session: Session) -> None:
    round_, codes = sealed_round(session, codes=8)
    operations.open_round(work(session), round_.id)
    session.commit()
    key = get_key(session, round_.id)
    assert key is not None
    assert key.public_key is not None
    public_key = bytes.fromhex(key.public_key)
    marks = [["H", "C", "L"], ["L", "L", "L"], ["H", "H", "C"], ["C", "C", "C"]] * 2
    cast_ballot(session, SECRET, codes[0], marks[0])  # the first cast starts the refilling
    pads = _wait_for_pads(public_key, 9 * 3)
    ready = _first_alphas(pads, 27)
    first = set(session.scalars(select(SealedBallot.tracker)).all())
    for code, ballot in zip(codes[1:4], marks[1:4], strict=True):
        cast_ballot(session, SECRET, code, ballot)
    # The next three casts of 3 persons × 3 levels sealed with the 27 pads that were ready.
    sealed_now = session.scalars(
        select(SealedBallot.content).where(SealedBallot.tracker.not_in(first))
    ).all()
    assert {alpha for content in sealed_now for alpha in _alphas(content)} == ready
    for code, ballot in zip(codes[4:], marks[4:], strict=True):
        cast_ballot(session, SECRET, code, ballot)
    contents = session.scalars(select(SealedBallot.content)).all()
    assert len(contents) == 8
    alphas = [alpha for content in contents for alpha in _alphas(content)]
    assert len(alphas) == 8 * 9
    assert len(set(alphas)) == len(alphas), "two ciphertexts share their randomness"
    # The ballots sealed with pads decrypt to what was cast.
    operations.close_round(work(session), round_.id)
    session.commit()
    assert public_key not in sealing._pools  # the close dropped this process's pads
    decrypt_round(session, round_.id)
    session.commit()
    counts = [item["counts"] for item in round_results(session, round_)["items"]]
    assert counts[0] == {"high": 4, "confidence": 2, "low": 2, "invalid": 0}
    assert counts[1] == {"high": 2, "confidence": 4, "low": 2, "invalid": 0}
    assert counts[2] == {"high": 0, "confidence": 4, "low": 4, "invalid": 0}


def test_threads_taking_while_the_buffer_refills_never_get_the_same_pad() -> None:
    committee, _key = sealed.single_member(sealed.ceremony_context("test", "pads", 1, 1))
    pads = sealing.sealing_pads(committee.public_key, 30, 10)
    assert pads is not None
    taken: list[list[int]] = [[] for _ in range(4)]

    def take(into: list[int]) -> None:
        for _ in range(60):
            into.append(pads.option().r)  # an empty buffer gives a fresh pad: never waits

    threads = [threading.Thread(target=take, args=(into,)) for into in taken]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drawn = [r for part in taken for r in part]
    assert len(drawn) == 240
    assert len(set(drawn)) == 240, "a pad was taken twice"


def test_a_forked_child_has_none_of_its_parents_pads() -> None:
    committee, _key = sealed.single_member(sealed.ceremony_context("test", "fork", 1, 1))
    pads = sealing.sealing_pads(committee.public_key, 9, 3)
    assert pads is not None
    _wait_for_pads(committee.public_key, 9)
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            empty = pads.available() == (0, 0) and not sealing._pools
            os.write(writer, b"empty" if empty else b"KEPT")
        finally:
            os._exit(0)
    os.close(writer)
    answer = os.read(reader, 16)
    os.close(reader)
    os.waitpid(child, 0)
    assert answer == b"empty"
    assert pads.available()[0] >= 9  # the parent keeps its own


def test_without_pads_a_cast_seals_with_fresh_randomness(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sealing, "PADS_CAP", 0)
    round_, codes = sealed_round(session, codes=2)
    operations.open_round(work(session), round_.id)
    session.commit()
    cast_ballot(session, SECRET, codes[0], ["H", "C", "L"])
    cast_ballot(session, SECRET, codes[1], ["H", "C", "L"])
    assert not sealing._pools
    contents = session.scalars(select(SealedBallot.content)).all()
    alphas = [alpha for content in contents for alpha in _alphas(content)]
    assert len(set(alphas)) == len(alphas) == 18


def test_an_unused_buffer_stops_and_drops_its_pads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealing, "PADS_IDLE_SECONDS", 0.5)
    committee, _key = sealed.single_member(sealed.ceremony_context("test", "idle", 1, 1))
    pads = sealing.sealing_pads(committee.public_key, 6, 3)
    assert pads is not None
    pool = sealing._pools[committee.public_key]
    pool.thread.join(timeout=30)
    assert not pool.thread.is_alive()
    assert pads.available() == (0, 0)
    assert committee.public_key not in sealing._pools


def test_pads_prepared_before_the_first_cast_are_ready_for_it() -> None:
    committee, _key = sealed.single_member(sealed.ceremony_context("test", "prepare", 1, 1))
    sealing.prepare_pads(committee.public_key.hex(), items=3, levels=3)
    pads = _wait_for_pads(committee.public_key, 9)
    ready = _first_alphas(pads, 9)
    context = sealed.RoundParameters("t", "1", ("A", "B", "C"), (3, 3, 3)).context
    _tracker, content = sealing.encrypt_ballot(
        committee.public_key.hex(), context.hex(), [0, 1, 2], 3
    )
    assert set(_alphas(content)) == ready


def test_a_shown_ballot_page_starts_the_pads_of_its_rounds_key(app: Flask) -> None:
    world = build_world(app)
    with world.sessions() as session:
        key = get_key(session, world.ids["open"])
        assert key is not None
        assert key.public_key is not None
        public_key = bytes.fromhex(key.public_key)
        items = len(session.get(Round, world.ids["open"]).items)
    client = app.test_client()
    client.get("/")  # the code page alone prepares nothing: no round is known yet
    assert public_key not in sealing._pools
    assert open_ballot(client, world.codes["open"][0]).status_code == 200
    # The first cast will find a whole ballot's pads (3 levels an item) ready.
    _wait_for_pads(public_key, items * 3)
    # The API's ballot fetch does the same once the pads were dropped (the round's close).
    sealing.drop_sealing_pads(key.public_key)
    assert public_key not in sealing._pools
    fetched = client.post("/api/v1/ballot", json={"code": world.codes["open"][1]})
    assert fetched.status_code == 200
    _wait_for_pads(public_key, items * 3)
