"""Voters with the Flask client: code page, slip link, ballot, review, receipt, refusals."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests import web_fixtures
from tests.factories import opened_ballots
from tests.web_fixtures import World, csrf_token, open_ballot
from votes.ballotbox import receipts
from votes.models import SealedBallot
from votes.web.ballot import PAGE_CACHE

world = web_fixtures.world  # the fixture, under its own name


def _open_ballot(client, code: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/")
    response = client.post(
        "/", data={"csrf_token": csrf_token(page.get_data(as_text=True)), "code": code}
    )
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_code_page_then_ballot_then_review_then_receipt(world: World) -> None:
    client = world.app.test_client()
    code = world.codes["open"][0]
    # Case, spaces and dashes do not matter.
    html = _open_ballot(client, " " + code.lower().replace("-", " ") + " ")
    assert html.count("<fieldset") == 3
    assert html.count("<legend>") == 3
    assert "Nguyễn Văn An" in html
    assert "Bí thư" in html
    assert html.count('type="radio"') == 9
    token = csrf_token(html)
    # The code travels in a hidden field, never in the session cookie.
    assert f'value="{code.lower().replace("-", " ")}"' in html or "hidden" in html
    cookie = client.get_cookie("votes_session")
    assert cookie is None or code.replace("-", "") not in cookie.value.upper()
    form = {"csrf_token": token, "code": code, "item_1": "H", "item_3": "L", "action": "review"}
    missing = client.post("/ballot", data=form).get_data(as_text=True)
    assert 'id="item-2"' in missing
    assert 'class="item has-error" id="item-2"' in missing
    assert re.search(r'id="item_1-0"[^>]*checked|checked[^>]*id="item_1-0"', missing)
    form["item_2"] = "C"
    review = client.post("/ballot", data=form).get_data(as_text=True)
    assert "Xem lại phiếu" in review
    assert "Tín nhiệm thấp" in review
    edit = client.post("/ballot", data={**form, "action": "edit"}).get_data(as_text=True)
    assert re.search(r'id="item_3-2"[^>]*checked|checked[^>]*id="item_3-2"', edit)
    done = client.post("/ballot", data={**form, "action": "cast"})
    assert done.status_code == 200
    receipt = re.search(r'class="receipt-code"[^>]*>(BN[0-9 ]+)<', done.get_data(as_text=True))
    assert receipt
    assert "không ai" in done.get_data(as_text=True)
    with world.sessions() as session:
        # Sealed: nothing readable stored; the test opens the ballot with the committee's key.
        assert opened_ballots(session, world.ids["open"]) == ["HCL"]
        assert receipts(session, world.ids["open"]) == [receipt.group(1)]
    again = client.post("/ballot", data={**form, "action": "cast"})
    assert again.status_code == 409
    assert "đã được sử dụng" in again.get_data(as_text=True)
    # A voter is addressed as "đại biểu" or "đồng chí", or not at all: never "bạn".
    check = client.get("/receipt").get_data(as_text=True)
    for page in (html, missing, review, done.get_data(as_text=True), again.get_data(True), check):
        assert not re.search(r"\bbạn\b", page, re.IGNORECASE)


def test_slip_link_opens_the_code_page_which_posts_the_code(world: World) -> None:
    """The QR code's link is /b#CODE: the code page with the script that posts the code."""
    client = world.app.test_client()
    page = client.get("/b")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'src="/static/slip.js"' in html
    assert 'action="/"' in html
    assert 'method="post"' in html
    assert client.get("/b/").status_code == 200
    script = client.get("/static/slip.js")
    assert script.status_code == 200
    assert "location.hash" in script.get_data(as_text=True)
    script.close()
    # An old link /b/CODE: the same redirect for every code, the code moved after '#'.
    for code in (world.codes["open"][1], world.codes["closed"][0], "ACDE-FGHJ-KMNP", "x"):
        old = client.get(f"/b/{code}")
        assert old.status_code == 303
        assert old.headers["Location"] == f"/b#{code}"
    response = open_ballot(client, world.codes["open"][1])
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<fieldset") == 3


def test_code_look_up_holds_no_transaction_on_postgresql(world: World) -> None:
    """One SELECT, not BEGIN/SELECT/ROLLBACK; the next request's writes are transactional."""
    from votes.web.common import find_code, reading

    engine = world.app.extensions["votes.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no round trips to save")
    from psycopg.pq import TransactionStatus

    code = world.codes["open"][2]
    with world.app.test_request_context("/", method="POST"):
        session = reading()
        assert find_code(session, code)[0] == "ok"
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi.autocommit
        assert dbapi.info.transaction_status == TransactionStatus.IDLE
    # The connection went back to the pool with its usual isolation: a cast still runs in
    # one transaction, and the ballot is stored.
    client = world.app.test_client()
    html = open_ballot(client, code).get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "code": code, "action": "cast"}
    form |= {"round": str(world.ids["open"]), "item_1": "H", "item_2": "C", "item_3": "L"}
    assert "receipt-code" in client.post("/ballot", data=form).get_data(as_text=True)
    with world.sessions() as other:
        assert not other.connection().connection.dbapi_connection.autocommit
        assert (
            other.scalar(
                select(func.count())
                .select_from(SealedBallot)
                .where(SealedBallot.round_id == world.ids["open"])
            )
            == 1
        )


def test_refusals_do_not_tell_whether_a_code_exists_elsewhere(world: World) -> None:
    client = world.app.test_client()
    closed = open_ballot(client, world.codes["closed"][1])
    draft = open_ballot(client, world.codes["draft"][0])
    unknown = open_ballot(client, "ACDE-FGHJ-KMNP")
    assert closed.status_code == draft.status_code == unknown.status_code == 403

    def text(response) -> str:  # type: ignore[no-untyped-def]
        return re.search(
            r'class="refusal"[^>]*>(.*?)</p>', response.get_data(as_text=True), re.S
        ).group(1)

    assert text(closed) == text(draft) == text(unknown)
    malformed = open_ballot(client, "NOT-A-CODE")
    assert malformed.status_code == 422
    assert "12" in text(malformed)


def test_refused_codes_are_rate_limited_per_address(app: Flask, world: World) -> None:
    app.config["CODE_RATE_LIMIT"] = "3/minute"
    client = world.app.test_client()
    statuses = [open_ballot(client, "ACDE-FGHJ-KMNP").status_code for _ in range(4)]
    assert statuses == [403, 403, 403, 429]
    assert "Quá nhiều lần thử" in open_ballot(client, "ACDE-FGHJ-KMNP").get_data(as_text=True)


def test_good_codes_do_not_count_against_the_limit(app: Flask, world: World) -> None:
    app.config["CODE_RATE_LIMIT"] = "2/minute"
    client = world.app.test_client()
    statuses = [open_ballot(client, world.codes["open"][0]).status_code for _ in range(5)]
    assert statuses == [200] * 5


def test_english_is_switchable(world: World) -> None:
    client = world.app.test_client()
    assert "Mở phiếu của tôi" in client.get("/").get_data(as_text=True)
    client.get("/lang/en?next=/")
    html = client.get("/").get_data(as_text=True)
    assert "Open my ballot" in html
    assert '<html lang="en">' in html
    assert client.get("/lang/en?next=https://evil.example/").headers["Location"] == "/"


def test_cast_checks_everything_again(world: World) -> None:
    """The cast from the review page is checked by cast_ballot itself: round, state, marks."""
    client = world.app.test_client()
    code = world.codes["open"][2]
    html = open_ballot(client, code).get_data(as_text=True)
    token = csrf_token(html)
    assert f'name="round" value="{world.ids["open"]}"' in html
    form = {"csrf_token": token, "code": code, "action": "cast", "item_1": "H", "item_2": "C"}
    # A choice missing: the ballot comes back with the item marked, nothing is cast.
    missing = client.post("/ballot", data={**form, "round": world.ids["open"]})
    assert missing.status_code == 200
    assert 'class="item has-error" id="item-3"' in missing.get_data(as_text=True)
    # The code with another round's id: refused like an unknown code.
    other = client.post("/ballot", data={**form, "item_3": "L", "round": world.ids["closed"]})
    assert other.status_code == 403
    done = client.post("/ballot", data={**form, "item_3": "L", "round": world.ids["open"]})
    assert "receipt-code" in done.get_data(as_text=True)
    assert "Đợt open" in done.get_data(as_text=True)


def test_kept_voter_pages_carry_each_voters_own_token_code_and_receipt(world: World) -> None:
    """The code, ballot and receipt pages are rendered once and filled in per voter."""
    first, second = world.app.test_client(), world.app.test_client()
    codes = world.codes["open"][:2]
    pages = [open_ballot(client, code) for client, code in zip((first, second), codes, strict=True)]
    htmls = [page.get_data(as_text=True) for page in pages]
    tokens = [csrf_token(html) for html in htmls]
    assert tokens[0] != tokens[1]
    for html, token, code in zip(htmls, tokens, codes, strict=True):
        assert html.count(token) == 1
        assert f'name="code" type="hidden" value="{code}"' in html
    # The second page came from the first's skeleton (kept: it is not None).
    kept = world.app.extensions[PAGE_CACHE]
    assert [key[0] for key, page in kept.items() if page] == [
        "ballot/code.html",
        "ballot/ballot.html",
    ]
    # The two pages differ by the token and the code only.
    assert htmls[1].replace(tokens[1], "T").replace(codes[1], "C") == htmls[0].replace(
        tokens[0], "T"
    ).replace(codes[0], "C")
    receipts_shown = []
    for client, token, code in zip((second, first), tokens[::-1], codes[::-1], strict=True):
        marks = {"item_1": "H", "item_2": "C", "item_3": "L"}
        done = client.post(
            "/ballot", data={"csrf_token": token, "code": code, "action": "cast", **marks}
        )
        assert done.status_code == 200  # each voter's token is their own session's
        found = re.search(r'data-testid="receipt">(BN[0-9 ]+)<', done.get_data(as_text=True))
        assert found
        receipts_shown.append(found.group(1))
    assert receipts_shown[0] != receipts_shown[1]
    with world.sessions() as session:
        assert sorted(receipts(session, world.ids["open"])) == sorted(receipts_shown)


def test_a_logged_in_organizer_never_gets_the_voters_kept_page(world: World) -> None:
    world.app.test_client().get("/")  # the anonymous code page, kept
    organizer = world.client("organizer")
    html = organizer.get("/").get_data(as_text=True)
    assert "organizer" in html  # "Đăng xuất organizer": the organizer's own menu
    assert world.app.test_client().get("/").get_data(as_text=True).count("organizer") == 0
