"""Voter codes out of every log, and a code's page that does not tell who has voted.

Issue 12, "Why" 5: gunicorn's access log, configured as docs/DEPLOY.md said, recorded
`GET /b/<voter code>` with the address and the time. Now voter pages take codes by POST, the
slip's QR code carries its code after '#' (never sent to a server), an old /b/CODE link is
sent on without being looked up, and a filter blanks whatever code-shaped text still reaches
a log — tested by reading the logs of a real gunicorn run.

"Why" 7: while a round was open, whoever held the printed list of codes could look each one
up and learn which slips had voted (`/b/CODE` answered 409 for a used code). Now opening a
ballot looks the same for a used and an unused code; casting with a used code is refused,
and that refusal changes nothing.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench._harness import SECRET, prepare, serve, vote_api, vote_form
from tests import web_fixtures
from tests.web_fixtures import World, csrf_token, open_ballot, voter_token
from votes.credentials import normalise_code
from votes.logfilter import NoCodesInLog, scrub
from votes.models import AuditEvent, Ballot, Credential, Receipt

world = web_fixtures.world  # the fixture, under its own name


def _counts(world: World) -> dict[str, int]:
    with world.sessions() as session:
        return {
            "ballots": session.scalar(select(func.count()).select_from(Ballot)) or 0,
            "receipts": session.scalar(select(func.count()).select_from(Receipt)) or 0,
            "used": session.scalar(
                select(func.count()).select_from(Credential).where(Credential.used.is_(True))
            )
            or 0,
            "events": session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        }


def _without_tokens(html: str, code: str) -> str:
    """A page with its one-time parts (the CSRF token, the code itself) taken out."""
    html = re.sub(r'name="csrf_token"( type="hidden")? value="[^"]+"', "", html)
    return html.replace(code, "CODE")


# ------------------------------------------------------------------------------ item 8


def test_opening_a_used_code_looks_like_an_unused_one(world: World) -> None:
    """Whoever holds the printed list learns nothing by opening the codes one by one."""
    used, unused = world.codes["open"][0], world.codes["open"][1]
    client = world.app.test_client()
    html = open_ballot(client, used).get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "code": used, "action": "cast"}
    form |= {"round": str(world.ids["open"]), "item_1": "H", "item_2": "C", "item_3": "L"}
    assert "receipt-code" in client.post("/ballot", data=form).get_data(as_text=True)

    pages = {}
    for code in (used, unused):
        prying = world.client("organizer")  # an organizer with the printed list
        opened = open_ballot(prying, code)
        assert opened.status_code == 200
        token = voter_token(opened.get_data(as_text=True))
        review = prying.post(
            "/ballot",
            data={"csrf_token": token, "code": code, "item_1": "H", "item_2": "H", "item_3": "H"},
        )
        assert review.status_code == 200
        fetched = prying.post("/api/v1/ballot", json={"code": code})
        assert fetched.status_code == 200
        pages[code] = (
            _without_tokens(opened.get_data(as_text=True), code),
            _without_tokens(review.get_data(as_text=True), code),
            fetched.get_json(),
        )
    assert pages[used] == pages[unused]

    # The voter whose code was used learns it when sending the ballot; nothing changes.
    before = _counts(world)
    voter = world.app.test_client()
    html = open_ballot(voter, used).get_data(as_text=True)
    refused = voter.post("/ballot", data={**form, "csrf_token": csrf_token(html)})
    assert refused.status_code == 409
    assert "đã được sử dụng" in refused.get_data(as_text=True)
    api = voter.post(
        "/api/v1/ballots", json={"code": used, "marks": {"1": "H", "2": "H", "3": "H"}}
    )
    assert api.status_code == 409
    assert api.get_json()["error"] == "code_used"
    assert _counts(world) == before


# ------------------------------------------------------------------------------ item 6


def test_no_voter_page_puts_a_code_in_an_address(world: World) -> None:
    """Every page a voter opens takes the code by POST; the slip's link carries it after '#'."""
    from reports.slip_sheets import ballot_url

    code = world.codes["open"][2]
    assert ballot_url("https://phieu.example.gov.vn/", code) == (
        f"https://phieu.example.gov.vn/b#{code}"
    )
    client = world.app.test_client()
    seen: list[str] = []

    @world.app.before_request
    def _record() -> None:
        from flask import request

        seen.append(request.full_path)

    html = client.get("/b").get_data(as_text=True)
    html = open_ballot(client, code).get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "code": code, "item_1": "H", "item_2": "C"}
    form |= {"item_3": "L", "round": str(world.ids["open"])}
    client.post("/ballot", data=form)  # review
    client.post("/ballot", data={**form, "action": "edit"})
    client.post("/ballot", data={**form, "action": "cast"})
    client.post("/api/v1/ballot", json={"code": code})
    raw = normalise_code(code)
    assert seen
    assert not [path for path in seen if raw in path.upper().replace("-", "")]
    # Every link and every form action of those pages is free of the code too.
    assert code not in re.findall(r'(?:href|action|src)="([^"]*)"', html)


def test_the_filter_blanks_codes_in_every_shape_of_log_record() -> None:
    from gunicorn.glogging import SafeAtoms

    code = "ACDE-FGHJ-KMNP"
    records = {
        "tuple": ('%s - "%s" %s', ("127.0.0.1", f"GET /b/{code} HTTP/1.1", 303)),
        "gunicorn": (
            '%(h)s "%(r)s" %(s)s "%(f)s" %(U)s %(q)s %({x-code}i)s',
            SafeAtoms(
                {
                    "h": "127.0.0.1",
                    "r": f"GET /b/{code.lower()} HTTP/1.1",
                    "s": "303",
                    "f": f"http://x/b/{code}",
                    "U": f"/b/{code}",
                    "q": f"code={code.replace('-', '')}",
                    "{x-code}i": code,
                }
            ),
        ),
        "message": (f"Exception on /b/{code} [GET]", ()),
    }
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.codes")
    logger.propagate = False
    logger.addHandler(handler)
    logger.addFilter(NoCodesInLog())
    try:
        for message, args in records.values():
            if isinstance(args, SafeAtoms):
                logger.warning(message, args)
            else:
                logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    written = stream.getvalue()
    assert written.count("\n") == 3
    for shape in (code, code.replace("-", "")):
        assert shape not in written.upper(), written
    assert "/b/…" in written
    digest = "sha256 3a4cdef03a4cdef0aa3a4cdef03a4cdef0"
    assert scrub(digest) == digest


@pytest.mark.slow
def test_a_real_gunicorn_writes_no_code_to_its_logs(database_url: str, tmp_path: Path) -> None:
    """gunicorn as docs/DEPLOY.md runs it: access log with the full request line, path,
    query and referer; voters voting by the form and the API, an old slip link, a code typed
    into an address. Neither log holds a code afterwards."""
    round_id, codes = prepare(database_url, 6, 3)
    access = tmp_path / "access.log"
    options = [
        "--config",
        "python:votes.gunicorn_config",
        "--access-logfile",
        str(access),
        "--access-logformat",
        '%(h)s %(t)s "%(r)s" %(s)s "%(f)s" "%(a)s" path=%(U)s query=%(q)s',
        "--log-level",
        "debug",
    ]
    env = {
        "VOTES_DATABASE_URL": database_url,
        "VOTES_SECRET_KEY": SECRET,
        "VOTES_CODE_RATE_LIMIT": "1000/minute",
        "VOTES_REDIS_URL": "memory://",
    }
    with serve(env, 2, options=options) as server:
        votes_cast = [
            asyncio.run(vote_form(server.port, codes[0], 3)),
            asyncio.run(vote_api(server.port, codes[1], 3)),
        ]
        for method, path, headers in (
            ("GET", f"/b/{codes[2]}", {}),  # an old slip link
            ("GET", f"/b/{codes[3].lower().replace('-', '')}", {}),
            ("GET", f"/?code={codes[4]}", {}),  # typed into the address by hand
            ("GET", "/b", {"Referer": f"http://phone/b/{codes[5]}"}),
            ("GET", f"/nowhere/{codes[5]}", {}),  # a 404 with a code in its path
        ):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            connection.request(method, path, headers=headers)
            connection.getresponse().read()
            connection.close()
        error_log = server.log_text()
    access_log = access.read_text()
    for code in codes:
        for shape in (code, code.replace("-", ""), code.lower(), code.lower().replace("-", "")):
            assert shape not in access_log, (shape, access_log)
            assert shape not in error_log, (shape, error_log)
    assert all(vote.receipt for vote in votes_cast), [v.status for v in votes_cast]
    assert '"GET /b/… HTTP/1.1" 303' in access_log  # the old link was logged, blanked
    assert '"POST /ballot HTTP/1.1" 200' in access_log
    assert "Booting worker" in error_log
    assert round_id
