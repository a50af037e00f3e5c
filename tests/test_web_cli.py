"""`votes user add` / `votes user passwd` and the demo's accounts."""

from __future__ import annotations

from flask import Flask

import tests.web_fixtures  # noqa: F401 - cheap argon2 parameters
from tests.conftest import VotesRunner
from votes import staff


def test_user_add_reads_the_password_from_stdin(votes: VotesRunner, sessions) -> None:  # type: ignore[no-untyped-def]
    assert votes("body", "add", "A", "Đảng ủy A").exit_code == 0
    out = votes(
        "user", "add", "Lan", "--role", "organizer", "--body", "A", stdin="a long password\n"
    )
    assert out.exit_code == 0, out.stderr
    assert "lan" in out.stdout
    with sessions() as session:
        user = staff.get_user(session, "lan")
        assert user.password_hash.startswith("$argon2id$")
        assert "a long password" not in user.password_hash
        assert staff.authenticate(session, "LAN", "a long password") is not None
        assert staff.body_ids(session, user)
    out = votes("user", "passwd", "lan", stdin="another password\n")
    assert out.exit_code == 0, out.stderr
    with sessions() as session:
        assert staff.authenticate(session, "lan", "a long password") is None
        assert staff.authenticate(session, "lan", "another password") is not None


def test_user_add_refusals(votes: VotesRunner) -> None:
    out = votes("user", "add", "x", "--role", "organizer", stdin="short\n")
    assert out.exit_code == 1
    assert "ít nhất 10 ký tự" in out.stderr
    out = votes(
        "user", "add", "x", "--role", "organizer", "--body", "NOPE", stdin="long enough password\n"
    )
    assert out.exit_code == 1
    out = votes("user", "add", "x", "--role", "king", stdin="long enough password\n")
    assert out.exit_code != 0
    assert votes("user", "passwd", "ghost", stdin="long enough password\n").exit_code == 1


def test_demo_accounts(app: Flask) -> None:
    from votes.cli_web import demo_accounts
    from votes.db import write_session
    from votes.demo import seed_demo

    with write_session(app.extensions["votes.sessions"]) as session:
        seed_demo(session, app.config["SECRET_KEY"])
    username, password, codes = demo_accounts(app)
    assert len(codes) == 5
    client = app.test_client()
    from tests.web_fixtures import login

    assert login(client, username, password).status_code == 302
    assert client.get(f"/b/{codes[0]}").status_code == 200
    # Run twice (a second `votes demo`): a new password, the same open round.
    _u, _p, more = demo_accounts(app)
    assert len(more) == 5
