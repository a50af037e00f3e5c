"""Hostile input: hypothesis against the CSV parsers, the ballot form and the JSON API, and
schemathesis against /api/v1/openapi.json — never a 5xx, never a partial write.

After every refused request the database is exactly as before (ballots, used codes, receipts,
audit events); after an accepted one, exactly one ballot, one used code and one receipt were
added, and no audit event (casting never writes to the log: see docs/ANONYMITY.md).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from sqlalchemy import func, select

from tests.conftest import PG_URL, _postgres_database
from tests.web_fixtures import World, build_world, csrf_token
from votes import create_app, rounds
from votes.counting import parse_paper_ballots
from votes.db import write_session
from votes.errors import InvalidInput
from votes.migrate import upgrade
from votes.models import AuditEvent, Ballot, Credential, Receipt, SealedBallot
from votes.roster import parse_roster

ACCEPTED = {"api": 0, "runs": 0}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# ------------------------------------------------------------------------------ CSV parsers

ROSTER_CELLS = st.sampled_from(
    [
        "name",
        "position",
        "person_key",
        "kind",
        "exempt_reason",
        "person",
        "collective",
        "Nguyễn Văn An",
        "Bí thư",
        "p1",
        "",
        " ",
        '"',
        '""',
        "\ufeff",
        "x" * 400,
        "Ủy viên",
        "Nghỉ hưu",
        "\x00",
        "\r",
        "=cmd()",
        "Trần\u0301",
    ]
)
PAPER_CELLS = st.sampled_from(
    [
        "status",
        "valid",
        "invalid",
        "1",
        "2",
        "3",
        "H",
        "C",
        "L",
        "T",
        "K",
        "X",
        "-",
        "",
        "h",
        "HC",
        " ",
        "\ufeff",
        "0",
        "99",
        '"',
        "\x00",
        "VALID",
        "l",
    ]
)


def _csv(cells: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """Either arbitrary bytes or CSV-shaped text made of meaningful and hostile cells."""
    line = st.lists(cells, max_size=7).map(",".join)
    text = st.lists(line, max_size=12).map(lambda lines: "\n".join(lines))
    encoded = st.tuples(text, st.sampled_from(["utf-8", "utf-16", "latin-1", "utf-8-sig"])).map(
        lambda pair: pair[0].encode(pair[1], errors="replace")
    )
    return st.one_of(st.binary(max_size=600), encoded)


@FUZZ
@given(_csv(ROSTER_CELLS))
def test_roster_parser_returns_entries_or_invalid_input(data: bytes) -> None:
    try:
        entries = parse_roster(data)
    except InvalidInput:
        return
    assert entries
    for entry in entries:
        assert entry.name == entry.name.strip()
        assert entry.kind in ("person", "collective")


@FUZZ
@given(
    _csv(PAPER_CELLS),
    st.integers(min_value=1, max_value=4),
    st.sampled_from(["poll", "confidence_vote"]),
)
def test_paper_ballot_parser_returns_ballots_or_invalid_input(
    data: bytes, count: int, scale: str
) -> None:
    try:
        ballots = parse_paper_ballots(data, count, scale)
    except InvalidInput:
        return
    allowed = set("HCLX-") if scale == "poll" else set("TKX-")
    for status, marks in ballots:
        assert status in ("valid", "invalid")
        assert len(marks) == count
        assert set(marks) <= allowed


# ------------------------------------------------------------------------------ web


@dataclass
class FuzzWorld:
    """One application and database for the whole module (hypothesis runs many examples)."""

    world: World
    codes: list[str]

    @property
    def app(self) -> Flask:
        """The application."""
        return self.world.app


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzWorld]:
    """The web World with many more codes for the open round; rate limits out of the way."""
    pg = _postgres_database() if PG_URL else None
    url = next(pg) if pg else f"sqlite:///{Path(tmp_path_factory.mktemp('fuzz')) / 'v.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "fuzz-secret-key-0123456789abcdef",
            "DATABASE_URL": url,
            "WTF_CSRF_ENABLED": True,
            "CODE_RATE_LIMIT": "1000000/minute",
            "RECEIPT_RATE_LIMIT": "1000000/minute",
        }
    )
    upgrade(app.extensions["votes.engine"])
    world = build_world(app)
    with write_session(world.sessions) as session:
        round_ = rounds.get_round(session, world.ids["open"])
        # Room for more codes than 10 persons (D counts all members: 1 000 of them).
        round_.summoned = round_.present = None
        round_.members = 1000
        codes = rounds.issue_round_codes(session, round_, 200, app.config["SECRET_KEY"])
    try:
        yield FuzzWorld(world, codes)
    finally:
        app.extensions["votes.engine"].dispose()
        if pg:
            next(pg, None)


def snapshot(world: World) -> dict[str, int]:
    """Count what a request could change: ballots, used codes, receipts, audit events."""
    with world.sessions() as session:
        return {
            # An online ballot is sealed (and its receipt is its tracker's): both count.
            "ballots": (session.scalar(select(func.count()).select_from(Ballot)) or 0)
            + (session.scalar(select(func.count()).select_from(SealedBallot)) or 0),
            "used": session.scalar(
                select(func.count()).select_from(Credential).where(Credential.used.is_(True))
            )
            or 0,
            "receipts": (session.scalar(select(func.count()).select_from(Receipt)) or 0)
            + (session.scalar(select(func.count()).select_from(SealedBallot)) or 0),
            "events": session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        }


def check_write(before: dict[str, int], after: dict[str, int], accepted: bool) -> None:
    """Refused: nothing changed. Accepted: one ballot, one used code, one receipt, no event."""
    if accepted:
        expected = {
            **before,
            "ballots": before["ballots"] + 1,
            "used": before["used"] + 1,
            "receipts": before["receipts"] + 1,
        }
        assert after == expected
    else:
        assert after == before


def _code(fuzz: FuzzWorld) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(fuzz.codes),  # unused or used up by earlier examples
        st.sampled_from(fuzz.world.codes["closed"] + fuzz.world.codes["draft"]),
        st.text(max_size=30),
        st.text(alphabet="ACDEFGHJKMNPQRTWXY34679-", min_size=12, max_size=16),
    )


MARK = st.one_of(st.sampled_from(["H", "C", "L", "T", "K", "X", "-", "", "h"]), st.text(max_size=5))


@pytest.fixture(scope="module")
def voter(fuzz: FuzzWorld) -> tuple[FlaskClient, str]:
    """A voter's client and its CSRF token."""
    client = fuzz.app.test_client()
    return client, csrf_token(client.get("/").get_data(as_text=True))


@FUZZ
@given(data=st.data())
def test_ballot_form_never_fails_and_never_writes_half(
    fuzz: FuzzWorld, voter: tuple[FlaskClient, str], data: st.DataObject
) -> None:
    client, token = voter
    form: dict[str, Any] = {"csrf_token": token, "code": data.draw(_code(fuzz))}
    form["action"] = data.draw(st.sampled_from(["review", "cast", "edit", "", "delete"]))
    if data.draw(st.booleans()):
        form["round"] = data.draw(
            st.one_of(
                st.sampled_from([str(i) for i in fuzz.world.ids.values()]), st.text(max_size=8)
            )
        )
    for order in data.draw(st.lists(st.sampled_from(["1", "2", "3", "4", "0", "x"]), max_size=5)):
        form[f"item_{order}"] = data.draw(MARK)
    extra = data.draw(
        st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=10), max_size=3)
    )
    form = {**extra, **form}
    before = snapshot(fuzz.world)
    response = client.post("/ballot", data=form)
    assert response.status_code < 500, form
    html = response.get_data(as_text=True)
    check_write(before, snapshot(fuzz.world), 'class="receipt-code"' in html)


# A complete, valid ballot of the three-item poll: with an unused code it is accepted.
VALID_MARKS = st.fixed_dictionaries({str(n): st.sampled_from("HCL") for n in (1, 2, 3)})
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(data=st.data())
def test_json_api_never_fails_and_never_writes_half(fuzz: FuzzWorld, data: st.DataObject) -> None:
    client = fuzz.app.test_client()
    path = data.draw(st.sampled_from(["/api/v1/ballot", "/api/v1/ballots"]))
    kind = data.draw(st.sampled_from(["shaped", "any", "raw"]))
    before = snapshot(fuzz.world)
    if kind == "raw":
        response = client.post(
            path,
            data=data.draw(st.binary(max_size=200)),
            content_type=data.draw(st.sampled_from(["application/json", "text/plain", ""])),
        )
    else:
        if kind == "shaped":
            marks = data.draw(
                st.one_of(
                    VALID_MARKS,
                    st.dictionaries(st.sampled_from(["1", "2", "3", "4", "0", "-1", "x"]), MARK),
                    st.lists(MARK, max_size=4),
                    JSON,
                )
            )
            body: Any = {"code": data.draw(st.one_of(_code(fuzz), JSON)), "marks": marks}
        else:
            body = data.draw(JSON)
        response = client.post(path, json=body)
    assert response.status_code < 500
    assert response.is_json
    check_write(before, snapshot(fuzz.world), response.status_code == 201)
    ACCEPTED["api"] += response.status_code == 201
    ACCEPTED["runs"] += 1


def test_a_fresh_code_and_a_full_ballot_are_accepted(fuzz: FuzzWorld) -> None:
    """The accepted branch of check_write, on the form and on the API (and the fuzzers hit it)."""
    client = fuzz.app.test_client()
    before = snapshot(fuzz.world)
    response = client.post(
        "/api/v1/ballots", json={"code": fuzz.codes[-1], "marks": {"1": "H", "2": "C", "3": "L"}}
    )
    assert response.status_code == 201
    check_write(before, snapshot(fuzz.world), accepted=True)
    token = csrf_token(client.get("/").get_data(as_text=True))
    before = snapshot(fuzz.world)
    form = {
        "csrf_token": token,
        "code": fuzz.codes[-2],
        "action": "cast",
        "round": str(fuzz.world.ids["open"]),
        "item_1": "L",
        "item_2": "L",
        "item_3": "H",
    }
    assert 'class="receipt-code"' in client.post("/ballot", data=form).get_data(as_text=True)
    check_write(before, snapshot(fuzz.world), accepted=True)
    if ACCEPTED["runs"]:  # the fuzzer ran before (not with -k)
        assert ACCEPTED["api"] > 0, "the JSON fuzzer never cast a ballot: widen its strategies"


# ------------------------------------------------------------------------------ schemathesis


def test_api_with_schemathesis(fuzz: FuzzWorld) -> None:
    """Every operation of /api/v1/openapi.json, in-process (WSGI): no 5xx, no partial write.

    The operations are walked by hand rather than with `schema.parametrize()`: schemathesis
    4.32's pytest plugin reads a private attribute that pytest 9 removed.
    """
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz.app)
    labels = []
    for result in api.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            before = snapshot(fuzz.world)
            response = case.call_and_validate(checks=[not_a_server_error])
            check_write(before, snapshot(fuzz.world), response.status_code == 201)

        run()
    # schemathesis leaves out the document's own path (/openapi.json).
    assert sorted(labels) == [
        "GET /rounds/{round_id}/results",
        "POST /ballot",
        "POST /ballots",
        "POST /rounds/{round_id}/paper-ballots",
    ]


# ------------------------------------------------------------------------------ staff doors

# Numbers as typed into a form: ordinary, negative, beyond every column, not numbers at all.
NUMBER_TEXT = st.one_of(
    st.integers(min_value=-5, max_value=40).map(str),
    st.sampled_from(["3000000000", "99999999999999999999", "1e9", "", " 7 ", "٣", "0x10"]),
    st.integers().map(str),
    st.text(max_size=8),
)
# Texts as pasted into a form: names, and what must never reach the database as it is.
HOSTILE_TEXT = st.one_of(
    st.sampled_from(
        [
            "Nguyễn Văn An",
            "x" * 400,
            "Đ" * 600,
            "A\x00B",
            "Trần \u202eVăn",
            "V\u0430n",
            "\u200bAn",
            '=HYPERLINK("x")',
            "@SUM(A1)",
            "'; DROP TABLE round; --",
            "\x1b[31m",
            "",
        ]
    ),
    st.text(max_size=40),
)


@pytest.fixture(scope="module")
def organizer(fuzz: FuzzWorld) -> tuple[FlaskClient, str]:
    """An organizer of body A, logged in once for the module, and a CSRF token."""
    from tests.web_fixtures import login

    client = fuzz.app.test_client()
    assert login(client, "organizer").status_code == 302
    return client, csrf_token(client.get("/admin/").get_data(as_text=True))


def _roster_file(data: st.DataObject) -> bytes:
    lines = data.draw(
        st.lists(
            st.tuples(HOSTILE_TEXT, HOSTILE_TEXT, st.one_of(st.just(""), HOSTILE_TEXT)),
            max_size=4,
        )
    )
    rows = ["name,position,person_key"] + [
        ",".join('"' + cell.replace('"', '""') + '"' for cell in line) for line in lines
    ]
    return "\n".join(rows).encode("utf-8", "surrogatepass")


@FUZZ
@given(data=st.data())
def test_staff_forms_never_fail(
    fuzz: FuzzWorld, organizer: tuple[FlaskClient, str], data: st.DataObject
) -> None:
    """Every staff form with hostile texts and numbers: a refusal or a change, never a 5xx."""
    client, token = organizer
    ids = fuzz.world.ids
    form = data.draw(st.sampled_from(["round", "roster", "attendance", "body", "exempt", "codes"]))
    if form == "round":
        response = client.post(
            "/admin/bodies/A/rounds/new",
            data={
                "csrf_token": token,
                "title": data.draw(HOSTILE_TEXT),
                "year": data.draw(NUMBER_TEXT),
                "profile": data.draw(st.sampled_from(["nq35-2012", "qd96-2023", "x"])),
                "members": data.draw(NUMBER_TEXT),
                "summoned": data.draw(NUMBER_TEXT),
                "present": data.draw(NUMBER_TEXT),
                "place": data.draw(HOSTILE_TEXT),
                "roster_file": (io.BytesIO(_roster_file(data)), "roster.csv"),
            },
            content_type="multipart/form-data",
        )
    elif form == "roster":
        response = client.post(
            f"/admin/rounds/{ids['draft']}/roster",
            data={
                "csrf_token": token,
                "roster_text": _roster_file(data).decode("utf-8", "replace"),
                "action": data.draw(st.sampled_from(["preview", "confirm"])),
            },
        )
    elif form == "attendance":
        response = client.post(
            f"/admin/rounds/{ids['draft']}/attendance",
            data={
                "csrf_token": token,
                "members": data.draw(NUMBER_TEXT),
                "summoned": data.draw(NUMBER_TEXT),
                "present": data.draw(NUMBER_TEXT),
            },
        )
    elif form == "body":
        admin = fuzz.world.client("admin")
        response = admin.post(
            "/admin/bodies",
            data={
                "csrf_token": csrf_token(admin.get("/admin/").get_data(as_text=True)),
                "code": data.draw(HOSTILE_TEXT),
                "name": data.draw(HOSTILE_TEXT),
                "kind": data.draw(st.sampled_from(["party", "council", "x"])),
            },
        )
    elif form == "exempt":
        response = client.post(
            f"/admin/rounds/{ids['draft']}/exempt",
            data={
                "csrf_token": token,
                "person": data.draw(HOSTILE_TEXT),
                "reason": data.draw(HOSTILE_TEXT),
            },
        )
    else:
        response = client.post(
            f"/admin/rounds/{ids['draft']}/codes",
            data={"csrf_token": token, "count": data.draw(NUMBER_TEXT), "fmt": "txt"},
        )
    assert response.status_code < 500, (form, response.status_code)


# Header values are Latin-1 text: what a client can send.
IDEMPOTENCY_KEYS = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=300
)


@FUZZ
@given(data=st.data())
def test_paper_imports_never_fail_and_never_write_half(
    fuzz: FuzzWorld, organizer: tuple[FlaskClient, str], data: st.DataObject
) -> None:
    """The upload form and the staff API with hostile files and numbers."""
    client, token = organizer
    body = data.draw(_csv(PAPER_CELLS))
    round_id = data.draw(st.sampled_from([fuzz.world.ids["open"], fuzz.world.ids["closed"]]))
    before = snapshot(fuzz.world)
    if data.draw(st.booleans()):
        response = client.post(
            f"/admin/rounds/{round_id}/paper/upload",
            data={
                "csrf_token": token,
                "issued": data.draw(NUMBER_TEXT),
                "submission": data.draw(HOSTILE_TEXT),
                "ballots_file": (io.BytesIO(body), "paper.csv"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code < 500
        changed = snapshot(fuzz.world)["ballots"] - before["ballots"]
        assert changed >= 0
        return
    query = data.draw(
        st.sampled_from(["", "?issued=3", "?issued=99999999999", "?issued=-1", "?another_stack=1"])
    )
    response = client.post(
        f"/api/v1/rounds/{round_id}/paper-ballots{query}",
        data=body,
        content_type=data.draw(st.sampled_from(["text/csv", "text/csv; charset=utf-8"])),
        headers={"Idempotency-Key": data.draw(IDEMPOTENCY_KEYS)},
    )
    assert response.status_code < 500
    assert response.is_json
    after = snapshot(fuzz.world)
    if response.status_code == 201:
        assert after["ballots"] == before["ballots"] + response.json["count"]
    else:
        assert after["ballots"] == before["ballots"]


@FUZZ
@given(seal=HOSTILE_TEXT, head=HOSTILE_TEXT)
def test_anchor_checks_never_fail(fuzz: FuzzWorld, seal: str, head: str) -> None:
    auditor = fuzz.world.client("auditor")
    for round_id in (fuzz.world.ids["open"], fuzz.world.ids["closed"]):
        response = auditor.get(
            f"/audit/rounds/{round_id}", query_string={"expect_seal": seal, "expect_head": head}
        )
        assert response.status_code in (200, 400), response.status_code
