"""Security: CSRF, headers, cookies, error pages, login throttling, no user enumeration."""

from __future__ import annotations

import time

import pytest
from flask import Flask

from tests import web_fixtures
from tests.factories import opened_ballots
from tests.web_fixtures import PASSWORD, World, csrf_token, login
from votes import create_app

world = web_fixtures.world  # the fixture, under its own name

CSP = (
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)


@pytest.mark.parametrize(
    "path", ["/", "/auth/login", "/api/v1/openapi.json", "/nowhere", "/static/style.css"]
)
def test_security_headers(world: World, path: str) -> None:
    response = world.app.test_client().get(path)
    response.close()
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_inline_script_or_style(world: World) -> None:
    client = world.client("organizer")
    for path in (
        "/",
        f"/admin/rounds/{world.ids['open']}/paper",
        f"/admin/rounds/{world.ids['closed']}/results",
        "/admin/bodies/A/rounds/new",
    ):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html
        assert " style=" not in html
        assert "onclick" not in html


def test_csrf_is_required_on_every_form(world: World) -> None:
    client = world.client("organizer")
    anonymous = world.app.test_client()
    assert anonymous.post("/", data={"code": world.codes["open"][0]}).status_code == 400
    assert (
        anonymous.post(
            "/ballot",
            data={
                "code": world.codes["open"][0],
                "item_1": "H",
                "item_2": "H",
                "item_3": "H",
                "action": "cast",
            },
        ).status_code
        == 400
    )
    assert (
        anonymous.post(
            "/auth/login", data={"username": "organizer", "password": PASSWORD}
        ).status_code
        == 400
    )
    response = client.post(f"/admin/rounds/{world.ids['draft']}/open", data={})
    assert response.status_code == 400
    assert "hết hạn" in response.get_data(as_text=True)
    assert "badge-draft" in client.get(f"/admin/rounds/{world.ids['draft']}").get_data(as_text=True)


def _voter_page(client) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/")
    assert page.status_code == 200
    return csrf_token(page.get_data(as_text=True))


def _cast_form(world: World, token: str | None, code: str) -> dict[str, str]:
    form = {"code": code, "item_1": "H", "item_2": "C", "item_3": "L", "action": "cast"}
    form["round"] = str(world.ids["open"])  # the review page's straight cast
    if token is not None:
        form["csrf_token"] = token
    return form


def test_a_voter_post_without_or_with_a_wrong_token_is_refused(world: World) -> None:
    # Each refusal counts against the code limits: lift them, the test is about the token.
    world.app.config["CODE_RATE_LIMIT"] = world.app.config["CODE_RATE_LIMIT_PER_CODE"] = (
        "999/minute"
    )
    code = world.codes["open"][0]
    voter = world.app.test_client()
    token = _voter_page(voter)
    other = world.app.test_client()
    others_token = _voter_page(other)  # a real token, of another browser's cookie
    issued, _dot, signature = token.partition(".")
    wrong = [None, "", "x", others_token, f"{issued}.{'0' * len(signature)}", f"1.{signature}"]
    for sent in wrong:
        data = {"code": code} if sent is None else {"code": code, "csrf_token": sent}
        assert voter.post("/", data=data).status_code == 400, sent
        refused = voter.post("/ballot", data=_cast_form(world, sent, code))
        assert refused.status_code == 400, sent
        assert "hết hạn" in refused.get_data(as_text=True)
    # The right token without the cookie it was issued for (a forged POST from another site
    # that copied a token) is refused too.
    bare = world.app.test_client()
    assert bare.post("/ballot", data=_cast_form(world, token, code)).status_code == 400
    with world.sessions() as session:
        assert opened_ballots(session, world.ids["open"]) == []
    # Nothing was cast: the code is still unused and the voter's own token works.
    assert voter.post("/", data={"code": code, "csrf_token": token}).status_code == 200
    done = voter.post("/ballot", data=_cast_form(world, token, code))
    assert done.status_code == 200
    assert "receipt-code" in done.get_data(as_text=True)


def test_a_voter_token_expires(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    voter = world.app.test_client()
    token = _voter_page(voter)
    code = world.codes["open"][0]
    limit = world.app.config["WTF_CSRF_TIME_LIMIT"]
    later = time.time() + limit + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert voter.post("/", data={"code": code, "csrf_token": token}).status_code == 400


def test_a_voter_is_given_no_server_session(world: World) -> None:
    """The voter's token is bound to a cookie of its own: no session is written or read."""
    voter = world.app.test_client()
    token = _voter_page(voter)
    code = world.codes["open"][0]
    opened = voter.post("/", data={"code": code, "csrf_token": token})
    assert opened.status_code == 200
    ballot_token = csrf_token(opened.get_data(as_text=True))
    done = voter.post("/ballot", data=_cast_form(world, ballot_token, code))
    assert done.status_code == 200
    assert voter.get_cookie("votes_session") is None
    cookie = voter.get_cookie("votes_voter")
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert code.replace("-", "") not in cookie.value.upper()


def test_error_pages_show_no_internals(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        {
            "TESTING": False,
            "SECRET_KEY": "s" * 32,
            "DEMO": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "PROPAGATE_EXCEPTIONS": False,
        }
    )

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "secret internals" not in html
    assert "Traceback" not in html
    assert "Máy chủ gặp sự cố" in html
    assert client.get("/nowhere").status_code == 404
    assert client.delete("/").status_code == 405
    assert "Trang này không tồn tại" in client.get("/nowhere").get_data(as_text=True)


def test_cookies_are_secure_outside_testing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(
        {"SECRET_KEY": "s" * 32, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/")
    cookie = response.headers.get("Set-Cookie", "")
    assert "Secure" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_login_does_not_tell_which_usernames_exist(world: World) -> None:
    client = world.app.test_client()
    wrong_password = login(client, "organizer", "wrong password!")
    no_such_user = login(client, "nobody", "wrong password!")
    assert wrong_password.status_code == no_such_user.status_code == 401

    def body(response) -> str:  # type: ignore[no-untyped-def]
        return response.get_data(as_text=True).split('name="csrf_token"')[0]

    assert body(wrong_password) == body(no_such_user)
    assert login(client, "organizer").status_code == 302


def test_login_is_throttled(app: Flask, world: World) -> None:
    app.config["LOGIN_ACCOUNT_FREE_FAILURES"] = 3
    client = world.app.test_client()
    statuses = [login(client, "organizer", "wrong password!").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 429]  # the 4th failure imposes a wait
    # The right password waits too, but only a moment (tests/test_limits.py).
    waiting = login(client, "organizer")
    assert waiting.status_code == 429
    assert int(waiting.headers["Retry-After"]) <= 2


def test_password_change_ends_sessions(world: World) -> None:
    from votes import staff
    from votes.db import write_session

    client = world.client("organizer")
    assert client.get("/admin/").status_code == 200
    with write_session(world.sessions) as session:
        staff.set_password(session, staff.get_user(session, "organizer"), "another password 1")
    assert client.get("/admin/").status_code == 302


def test_session_expires(app: Flask, world: World) -> None:
    import datetime as dt

    client = world.client("organizer")
    assert client.get("/admin/").status_code == 200
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(seconds=0)
    assert client.get("/admin/").status_code == 302


def test_logout_needs_post(world: World) -> None:
    client = world.client("organizer")
    assert client.get("/auth/logout").status_code == 405
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    assert client.post("/auth/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/").status_code == 302


def test_rate_limits_can_live_in_redis(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """With VOTES_REDIS_URL the limits are shared by every worker (memory:// counts per worker)."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.3).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    import redis

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "s" * 32,
            "CODE_RATE_LIMIT": "2/minute",
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        }
    )
    from votes.migrate import upgrade

    upgrade(app.extensions["votes.engine"])
    redis.Redis(db=15).flushdb()
    try:
        other_worker = create_app({**app.config, "DATABASE_URL": app.config["DATABASE_URL"]})
        guess = {"code": "ACDE-FGHJ-KMNP"}
        assert app.test_client().post("/api/v1/ballot", json=guess).status_code == 403
        assert other_worker.test_client().post("/api/v1/ballot", json=guess).status_code == 403
        assert app.test_client().post("/api/v1/ballot", json=guess).status_code == 429
    finally:
        redis.Redis(db=15).flushdb()
        app.extensions["votes.engine"].dispose()
