"""Fixtures for the web tests: staff accounts, a body with rounds, a client that speaks CSRF."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session, sessionmaker

from votes import rounds, staff
from votes.db import write_session

# argon2id with the smallest cost in tests: the same code path, a hundred times faster.
staff._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
staff._DUMMY_HASH = staff._hasher.hash("not a password of anybody")

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


def login(client: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    """Log a client in through the login form."""
    page = client.get("/auth/login")
    return client.post(
        "/auth/login",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "username": username,
            "password": password,
        },
    )


def build_world(app: Flask) -> World:
    """Create bodies A and B, a draft, an open and a closed round of A, and the accounts."""
    factory: sessionmaker[Session] = app.extensions["votes.sessions"]
    world = World(app, factory)
    secret = app.config["SECRET_KEY"]
    entries = rounds.parse_roster(ROSTER.encode())
    with write_session(factory) as session:
        body_a = rounds.add_body(session, "A", "Hội đồng nhân dân xã A", "council")
        body_b = rounds.add_body(session, "B", "Hội đồng nhân dân xã B", "council")
        world.ids["body_a"], world.ids["body_b"] = body_a.id, body_b.id
        staff.add_user(session, "admin", PASSWORD, "admin")
        staff.add_user(session, "organizer", PASSWORD, "organizer", ["A"])
        staff.add_user(session, "other", PASSWORD, "organizer", ["B"])
        staff.add_user(session, "auditor", PASSWORD, "auditor")
        for name in ("draft", "open", "closed"):
            round_ = rounds.create_round(
                session,
                body_a,
                year=2025,
                profile_id="nq35-2012",
                title=f"Đợt {name}",
                roster=entries,
                members=10,
                summoned=10,
                present=10,
            )
            world.ids[name] = round_.id
            world.codes[name] = rounds.issue_round_codes(session, round_, 3, secret)
            if name != "draft":
                rounds.open_round(session, round_)
    # One ballot in the closed round, then close it.
    with factory() as session:
        from votes.voting import cast_ballot

        cast_ballot(session, secret, world.codes["closed"][0], ["H", "C", "L"])
    with write_session(factory) as session:
        rounds.close_round(session, rounds.get_round(session, world.ids["closed"]))
    return world


@pytest.fixture
def world(app: Flask) -> World:
    """Two bodies with rounds in every state and one account per role."""
    return build_world(app)
