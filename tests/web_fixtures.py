"""Fixtures for the web tests: staff accounts, a body with rounds, a client that speaks CSRF."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import add_committee, decrypt_round
from votes import operations, staff
from votes.meeting import parse_committee
from votes.roster import parse_roster

# argon2id with the smallest cost in tests: the same code path, a hundred times faster.
staff._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
staff._dummy_hash.cache_clear()  # made again, cheaply, on first use

PASSWORD = "correct horse battery"
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)
ROSTER = (
    "name,position,person_key\n"
    "Nguyễn Văn An,Bí thư,p1\n"
    "Trần Thị Bình,Phó Bí thư,p2\n"
    "Lê Văn Cường,Ủy viên,p3\n"
)


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form of a page."""
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


@dataclass
class World:
    """What the web tests work on: two bodies, their rounds, and one account per role."""

    app: Flask
    sessions: sessionmaker[Session]
    ids: dict[str, int] = field(default_factory=dict)
    codes: dict[str, list[str]] = field(default_factory=dict)

    def client(self, role: str | None = None) -> FlaskClient:
        """Return a test client, logged in as the account of a role ('organizer', 'other'…)."""
        client = self.app.test_client()
        if role is not None:
            login(client, role)
        return client


def open_ballot(client: FlaskClient, code: str) -> Any:
    """Open the ballot of a code as a voter's phone does: the code page, the code by POST.

    (The slip's QR code opens /b#CODE, whose script posts the code the same way.)
    """
    html = client.get("/").get_data(as_text=True)
    return client.post("/", data={"csrf_token": voter_token(html), "code": code})


def voter_token(html: str) -> str:
    """Return the token of a voter's form (the one with the code in it) on a page.

    A logged-in visitor's page has the logout form, with a staff token, above it; the voter's
    forms take the voter's own token (votes/web/voter_csrf.py).
    """
    return csrf_token(html[html.rindex("<form", 0, html.index('name="code"')) :])


def login(
    client: FlaskClient, username: str, password: str = PASSWORD, *, address: str | None = None
) -> Any:
    """Log a client in through the login form (from another address, when given)."""
    environ = {"REMOTE_ADDR": address} if address else {}
    page = client.get("/auth/login", environ_base=environ)
    return client.post(
        "/auth/login",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "username": username,
            "password": password,
        },
        environ_base=environ,
    )


def build_world(app: Flask) -> World:
    """Create bodies A and B, a draft, an open and a closed round of A, and the accounts."""
    factory: sessionmaker[Session] = app.extensions["votes.sessions"]
    world = World(app, factory)
    secret = app.config["SECRET_KEY"]
    entries = parse_roster(ROSTER.encode())
    with operations.work(factory, "setup") as work:
        body_a = operations.add_body(work, "A", "Hội đồng nhân dân xã A", "council")
        body_b = operations.add_body(work, "B", "Hội đồng nhân dân xã B", "council")
        world.ids["body_a"], world.ids["body_b"] = body_a.id, body_b.id
        operations.add_staff(work, "admin", PASSWORD, "admin")
        operations.add_staff(work, "organizer", PASSWORD, "organizer", ["A"])
        operations.add_staff(work, "other", PASSWORD, "organizer", ["B"])
        operations.add_staff(work, "auditor", PASSWORD, "auditor")
        for name in ("draft", "open", "closed"):
            # NQ 35/2012 is in force in 2013 and 2014 and polls once a year: the draft is for
            # 2013, and the second poll of 2014 is held by a decision that allows it.
            round_ = operations.create_round(
                work,
                body_code="A",
                year=2013 if name == "draft" else 2014,
                profile_id="nq35-2012",
                title=f"Đợt {name}",
                roster=entries,
                members=10,
                summoned=10,
                present=10,
                time_exception="05/NQ-HĐND" if name == "closed" else None,
            )
            world.ids[name] = round_.id
            add_committee(work.session, round_.id)
            world.codes[name] = operations.issue_codes(work, round_.id, 3, secret)
            if name != "draft":
                operations.open_round(work, round_.id)
    # One ballot in the closed round, then close it.
    with factory() as session:
        operations.cast_ballot(session, secret, world.codes["closed"][0], ["H", "C", "L"])
    with operations.work(factory, "setup") as work:
        operations.close_round(work, world.ids["closed"])
        decrypt_round(work.session, world.ids["closed"])
        # The minutes are dated by the meeting: the closed round's is recorded.
        operations.record_meeting(
            work,
            world.ids["closed"],
            held_on=dt.date(2014, 6, 20),
            committee=parse_committee("Hà Thị Mai (Trưởng ban); Vương Đình Khoa"),
            place="Hội trường xã A",
        )
    return world


@pytest.fixture
def world(app: Flask) -> World:
    """Two bodies with rounds in every state and one account per role."""
    return build_world(app)
