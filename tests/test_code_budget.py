"""The budgets of refused voter codes (votes/web/code_budget.py): counted on refusals only, per
address and per code typed, tested before anything is looked up, outside Flask-Limiter's
per-request machinery, and in each worker's memory while Redis does not answer."""

from __future__ import annotations

from flask import Flask, abort
from sqlalchemy import select

from tests import web_fixtures
from tests.web_fixtures import World, open_ballot, voter_token
from votes import create_app
from votes.models import Credential
from votes.web import code_budget
from votes.web.code_budget import code_limit
from votes.web.extensions import csrf, limiter

world = web_fixtures.world  # the fixture, under its own name

WRONG = "ACDE-FGHJ-KMNP"


def _app(database_url: str, limit: str, storage: str = "memory://") -> Flask:
    """A fresh application with its own limiter storage and a budget of `limit` an address."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-0123456789abcdef",
            "DATABASE_URL": database_url,
            "RATELIMIT_STORAGE_URI": storage,
            "CODE_RATE_LIMIT": limit,
        }
    )


def _used(world: World) -> int:
    with world.sessions() as session:
        return len(session.scalars(select(Credential).where(Credential.used)).all())


def test_a_right_code_from_an_address_over_its_budget_is_refused_too(
    app: Flask, world: World
) -> None:
    """Else the answer would tell a guesser over his budget which guess was right."""
    app.config["CODE_RATE_LIMIT"] = "2/minute"
    client = world.app.test_client()
    assert [open_ballot(client, WRONG).status_code for _ in range(2)] == [403, 403]
    used = _used(world)
    right = open_ballot(client, world.codes["open"][0])
    assert right.status_code == 429
    assert "receipt-code" not in right.get_data(as_text=True)
    api = client.post("/api/v1/ballot", json={"code": world.codes["open"][0]})
    assert api.status_code == 429
    assert api.get_json()["status"] == 429
    assert _used(world) == used
    # Another address is not affected.
    other = world.app.test_client()
    environ = {"REMOTE_ADDR": "192.0.2.77"}
    page = other.get("/", environ_base=environ).get_data(as_text=True)
    data = {"csrf_token": voter_token(page), "code": world.codes["open"][0]}
    assert other.post("/", data=data, environ_base=environ).status_code == 200


def test_a_refusal_returned_or_raised_by_the_view_spends_the_budget(
    app: Flask, world: World, database_url: str
) -> None:
    """A cast with a token of nobody's (400) counts as a try; so does an error the view raises."""
    app.config["CODE_RATE_LIMIT"] = "2/minute"
    client = world.app.test_client()
    client.get("/")
    data = {"csrf_token": "forged", "code": WRONG, "action": "cast", "round": "1"}
    assert [client.post("/ballot", data=data).status_code for _ in range(2)] == [400, 400]
    assert open_ballot(client, world.codes["open"][1]).status_code == 429
    # A view that raises its refusal (abort) instead of returning it.
    raising = _app(database_url, "2/minute")

    def refuses() -> None:
        abort(403)

    raising.add_url_rule(
        "/raises", "raises", csrf.exempt(code_limit(refuses)), methods=["GET", "POST"]
    )
    tries = raising.test_client()
    statuses = [tries.post("/raises", data={"code": WRONG}).status_code for _ in range(3)]
    assert statuses == [403, 403, 429]
    assert tries.get("/raises").status_code == 403  # a GET carries no code: never limited
    raising.extensions["votes.engine"].dispose()


def test_the_web_form_and_the_api_share_one_budget(app: Flask, world: World) -> None:
    app.config["CODE_RATE_LIMIT"] = "3/minute"
    client = world.app.test_client()
    assert open_ballot(client, WRONG).status_code == 403
    assert client.post("/api/v1/ballot", json={"code": WRONG}).status_code == 403
    assert client.post("/api/v1/ballots", json={"code": WRONG, "marks": {}}).status_code in (
        403,
        422,
    )
    assert open_ballot(client, WRONG).status_code == 429


def test_the_voters_views_are_left_out_of_flask_limiters_machinery(world: World) -> None:
    own = {
        endpoint
        for endpoint, view in world.app.view_functions.items()
        if getattr(view, code_budget.OWN_BUDGETS, False)
    }
    assert own == {"ballot.enter_code", "ballot.ballot", "ballot.slip_without_code"} | {
        "api.ballot",
        "api.cast",
    }
    with world.app.test_request_context("/", method="POST"):
        assert code_budget.counts_its_own()
    with world.app.test_request_context("/auth/login", method="POST"):
        assert not code_budget.counts_its_own()  # staff logins keep Flask-Limiter's limits
    assert code_budget.counts_its_own in limiter._request_filters  # Flask-Limiter asks it


def test_refusals_are_still_counted_when_redis_does_not_answer(database_url: str) -> None:
    app = _app(database_url, "2/minute", storage="redis://127.0.0.1:1/0")  # nothing listens
    client = app.test_client()
    statuses = [open_ballot(client, WRONG).status_code for _ in range(3)]
    assert statuses == [403, 403, 429]  # counted in this worker's memory
    app.extensions["votes.engine"].dispose()
