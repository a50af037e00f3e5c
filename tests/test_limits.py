"""Limits that stop guessing without stopping people (issue 12, "Why" 6).

Five wrong passwords from one address locked an account out for everyone for about an hour
(the right password from another address got 429), and twenty mistyped codes from one
address blocked every voter behind it — a hall behind one NAT address. Now failed logins slow
the next attempt down (a growing wait per account and per address, with a ceiling), and
refused codes are limited per address and per code with limits that a hall of 500 voters
behind one address, 5 % of whom mistype their code, never reaches.
"""

from __future__ import annotations

import random
import time

import pytest
from flask import Flask

from tests import web_fixtures
from tests.web_fixtures import World, csrf_token, login, open_ballot
from votes import rounds
from votes.credentials import ALPHABET
from votes.db import write_session

world = web_fixtures.world  # the fixture, under its own name

ATTACKER, OWNER = "203.0.113.66", "198.51.100.20"


def test_wrong_passwords_slow_down_but_never_lock_out(app: Flask, world: World) -> None:
    """A guesser makes the owner wait at most the ceiling, never an hour."""
    app.config.update(LOGIN_ACCOUNT_FREE_FAILURES=3, LOGIN_ACCOUNT_DELAY_MAX=2)
    guesser = world.app.test_client()
    statuses, waits = [], []
    for _ in range(8):
        answer = login(guesser, "organizer", "wrong password!", address=ATTACKER)
        statuses.append(answer.status_code)
        waits.append(int(answer.headers.get("Retry-After", 0)))
    # Three free failures, then a wait: attempts sent during it are not even checked.
    assert statuses[:4] == [401, 401, 401, 401]
    assert 429 in statuses[4:]
    assert max(waits) <= 2
    # The owner, from another address, with the right password: at most the ceiling to wait.
    owner = world.app.test_client()
    answer = login(owner, "organizer", address=OWNER)
    if answer.status_code == 429:
        wait = int(answer.headers["Retry-After"])
        assert 1 <= wait <= 2
        assert "giây" in answer.get_data(as_text=True)
        time.sleep(wait + 0.1)
        answer = login(owner, "organizer", address=OWNER)
    assert answer.status_code == 302
    # The success forgets the account's failures: the next mistake costs nothing again.
    assert login(world.app.test_client(), "organizer", "typo!", address=OWNER).status_code == 401


def test_failures_grow_the_wait_up_to_its_ceiling(app: Flask, world: World) -> None:
    app.config.update(LOGIN_ADDRESS_FREE_FAILURES=1, LOGIN_ADDRESS_DELAY_MAX=600)
    app.config.update(LOGIN_ACCOUNT_FREE_FAILURES=1000)
    from votes.web import throttle

    counter = throttle.Counter("x", free=2, ceiling=60)
    assert [counter.delay(n) for n in range(1, 12)] == [0, 0, 1, 2, 4, 8, 16, 32, 60, 60, 60]
    client = world.app.test_client()
    first = login(client, "alice", "wrong password!", address=ATTACKER)
    second = login(client, "bob", "wrong password!", address=ATTACKER)  # another account
    assert (first.status_code, second.status_code) == (401, 401)
    refused = login(client, "carol", "wrong password!", address=ATTACKER)
    assert refused.status_code == 429  # the address waits, whatever account it tries
    # Another address is not slowed by it.
    assert login(world.app.test_client(), "organizer", address=OWNER).status_code == 302


def _typo(code: str, rng: random.Random) -> str:
    """The code with one letter mistyped (another letter of the alphabet)."""
    position = rng.choice([i for i, ch in enumerate(code) if ch != "-"])
    other = rng.choice([ch for ch in ALPHABET if ch != code[position]])
    return code[:position] + other + code[position + 1 :]


@pytest.mark.slow
def test_a_hall_of_500_behind_one_address_is_never_slowed(app: Flask, world: World) -> None:
    """The default limits: 500 voters, one address, 5 % type their code wrong once."""
    hall = 500
    with write_session(world.sessions) as session:
        round_ = rounds.get_round(session, world.ids["open"])
        round_.members = round_.summoned = round_.present = 600
        codes = rounds.issue_round_codes(session, round_, hall, app.config["SECRET_KEY"])
    rng = random.Random(12)
    mistyping = set(rng.sample(range(hall), hall * 5 // 100))
    client = world.app.test_client()  # one address for the whole hall (NAT)
    token = csrf_token(client.get("/").get_data(as_text=True))
    statuses: list[int] = []
    receipts = 0
    for n, code in enumerate(codes):
        if n in mistyping:
            statuses.append(
                client.post("/", data={"csrf_token": token, "code": _typo(code, rng)}).status_code
            )
        opened = client.post("/", data={"csrf_token": token, "code": code})
        statuses.append(opened.status_code)
        cast = client.post(
            "/ballot",
            data={
                "csrf_token": token,
                "code": code,
                "action": "cast",
                "round": str(world.ids["open"]),
                "item_1": "H",
                "item_2": "C",
                "item_3": "L",
            },
        )
        statuses.append(cast.status_code)
        receipts += "receipt-code" in cast.get_data(as_text=True)
    assert 429 not in statuses
    assert statuses.count(403) == len(mistyping)
    assert receipts == hall
    # A guesser behind the same address is stopped by the same limits.
    answers: list[int] = []
    for _ in range(1000):
        guess = _typo(codes[0], rng)
        answers.append(client.post("/", data={"csrf_token": token, "code": guess}).status_code)
        if answers[-1] == 429:
            break  # the guesses after the first 429 change neither assertion below
    assert 429 in answers
    assert answers.index(429) <= 200


def test_one_code_tried_again_and_again_is_stopped_from_any_address(
    app: Flask, world: World
) -> None:
    """The per-code limit: a guess repeated from many addresses (a botnet) is stopped."""
    app.config["CODE_RATE_LIMIT_PER_CODE"] = "3/minute"
    guess = "ACDE-FGHJ-KMNP"
    statuses = []
    for n in range(5):
        client = world.app.test_client()
        environ = {"REMOTE_ADDR": f"192.0.2.{n + 1}"}
        token = csrf_token(client.get("/", environ_base=environ).get_data(as_text=True))
        answer = client.post("/", data={"csrf_token": token, "code": guess}, environ_base=environ)
        statuses.append(answer.status_code)
    assert statuses == [403, 403, 403, 429, 429]
    # Other codes, and the same addresses, are not affected.
    assert open_ballot(world.app.test_client(), world.codes["open"][0]).status_code == 200
