"""`votes user add` / `votes user passwd` and the demo's accounts."""

from __future__ import annotations

from flask import Flask

from tests.conftest import VotesRunner
from tests.web_fixtures import login, open_ballot  # also: cheap argon2 parameters
from votes import staff
from votes.demo import demo_access, seed_demo


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
    sessions = app.extensions["votes.sessions"]
    seed_demo(sessions, app.config["SECRET_KEY"])
    access = demo_access(sessions, app.config["SECRET_KEY"])
    assert len(access.codes) == 5
    client = app.test_client()
    assert login(client, access.organizer, access.organizer_password).status_code == 302
    assert open_ballot(client, access.codes[0]).status_code == 200
    auditor = app.test_client()
    assert login(auditor, access.auditor, access.auditor_password).status_code == 302
    assert auditor.get("/audit/").status_code == 200
    # Run twice (a second `votes demo`): a new password, the same open round.
    again = demo_access(sessions, app.config["SECRET_KEY"])
    assert len(again.codes) == 5
    assert again.organizer_password != access.organizer_password
    assert login(app.test_client(), access.organizer, access.organizer_password).status_code != 302
