"""Security: the full route × role matrix, an auditor changes nothing, CSRF on every form,
headers on every response, throttled guessing, sessions, error pages without internals.

The matrix is read from `app.url_map`: a route added without a row here fails the suite.
See docs/SECURITY.md for the threat model each test stands for.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import SECRET
from tests.test_web_audit import AuditWorld, build_audit_world
from tests.web_fixtures import PASSWORD, csrf_token, login, open_ballot
from votes import create_app
from votes.models import (
    AuditEvent,
    Ballot,
    BallotItem,
    Body,
    Credential,
    Exemption,
    Person,
    Receipt,
    Round,
    StaffBody,
    StaffUser,
)

ROLES = ("anonymous", "voter", "organizer", "other", "auditor", "admin")
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
CSP = (
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
L = "302"  # a staff page sends an anonymous visitor (or a voter: voters never log in) to login


@dataclass(frozen=True)
class Row:
    """One request and the status each role gets: anonymous voter organizer other auditor admin."""

    endpoint: str
    method: str
    path: str
    statuses: str
    data: dict[str, Any] | None = None
    json: Any = None

    def expected(self) -> dict[str, int]:
        """Return the status of each role."""
        codes = self.statuses.split()
        assert len(codes) == len(ROLES), self
        return {role: int(code.replace("L", L)) for role, code in zip(ROLES, codes, strict=True)}


# "organizer" works on body A (where every round is); "other" is an organizer of body B only.
# {draft} {open} {closed} {published} are rounds of body A; {p2} a person rated in A.
# GETs first; then actions, with a valid CSRF token and data that is refused by the form
# where the action would change the world, so one world per role serves the whole table;
# the state changes come last (open, close, publish, then logout).
MATRIX: tuple[Row, ...] = (
    # --- voters and the public
    Row("ballot.enter_code", "GET", "/", "200 200 200 200 200 200"),
    Row("ballot.slip_without_code", "GET", "/b", "200 200 200 200 200 200"),
    Row("ballot.slip_without_code", "GET", "/b/", "200 200 200 200 200 200"),
    # Old slip links: the same redirect to /b#CODE for a real code and for a guess.
    Row("ballot.from_slip", "GET", "/b/{code}", "303 303 303 303 303 303"),
    Row("ballot.from_slip", "GET", "/b/ACDE-FGHJ-KMNP", "303 303 303 303 303 303"),
    Row("ballot.receipt_check", "GET", "/receipt", "200 200 200 200 200 200"),
    Row("ballot.published", "GET", "/r/", "200 200 200 200 200 200"),
    Row("ballot.public_results", "GET", "/r/{published}", "200 200 200 200 200 200"),
    Row("ballot.public_results", "GET", "/r/{closed}", "404 404 404 404 404 404"),
    Row("ballot.public_results", "GET", "/r/{open}", "404 404 404 404 404 404"),
    Row("trackers.receipts", "GET", "/r/{closed}/receipts", "200 200 200 200 200 200"),
    Row("trackers.receipts", "GET", "/r/{open}/receipts", "200 200 200 200 200 200"),
    Row("trackers.receipts", "GET", "/r/{draft}/receipts", "404 404 404 404 404 404"),
    Row("trackers.receipts_json", "GET", "/r/{closed}/receipts.json", "200 200 200 200 200 200"),
    Row("trackers.receipts_json", "GET", "/r/{open}/receipts.json", "404 404 404 404 404 404"),
    Row("trackers.receipts_csv", "GET", "/r/{published}/receipts.csv", "200 200 200 200 200 200"),
    Row("trackers.receipts_csv", "GET", "/r/{open}/receipts.csv", "404 404 404 404 404 404"),
    Row("static", "GET", "/static/style.css", "200 200 200 200 200 200"),
    Row("auth.login", "GET", "/auth/login", "200 200 200 200 200 200"),
    Row("api.openapi", "GET", "/api/v1/openapi.json", "200 200 200 200 200 200"),
    # --- organizers
    Row("admin.dashboard", "GET", "/admin/", "L L 200 200 200 200"),
    Row("admin.body", "GET", "/admin/bodies/A", "L L 200 403 200 200"),
    Row("admin.body", "GET", "/admin/bodies/ZZ", "L L 404 404 404 404"),
    Row("admin.new_round", "GET", "/admin/bodies/A/rounds/new", "L L 200 403 403 200"),
    Row("admin.round_page", "GET", "/admin/rounds/{open}", "L L 200 403 200 200"),
    Row("admin.round_page", "GET", "/admin/rounds/9999", "L L 404 404 404 404"),
    Row("admin.roster", "GET", "/admin/rounds/{draft}/roster", "L L 200 403 403 200"),
    Row("admin.transition", "GET", "/admin/rounds/{draft}/open", "L L 200 403 403 200"),
    Row("admin.paper", "GET", "/admin/rounds/{open}/paper", "L L 200 403 403 200"),
    Row("admin.paper", "GET", "/admin/rounds/{closed}/paper", "L L 302 403 403 302"),
    Row("admin.paper_entry", "GET", "/admin/rounds/{open}/paper/2", "L L 200 403 403 200"),
    Row("admin.paper_entry", "GET", "/admin/rounds/{open}/paper/3", "L L 404 404 403 404"),
    Row("admin.paper_compare", "GET", "/admin/rounds/{open}/paper/compare", "L L 302 403 403 302"),
    Row("admin.results", "GET", "/admin/rounds/{closed}/results", "L L 200 403 200 200"),
    Row("admin.results", "GET", "/admin/rounds/{open}/results", "L L 409 403 409 409"),
    Row("admin.results_file", "GET", "/admin/rounds/{closed}/results.csv", "L L 200 403 200 200"),
    Row("admin.results_file", "GET", "/admin/rounds/{open}/results.json", "L L 409 403 409 409"),
    Row("admin.results_pdf", "GET", "/admin/rounds/{closed}/minutes.pdf", "L L 200 403 200 200"),
    Row("admin.results_pdf", "GET", "/admin/rounds/{closed}/report.pdf", "L L 200 403 200 200"),
    Row("admin.results_pdf", "GET", "/admin/rounds/{open}/summary.pdf", "L L 409 403 409 409"),
    Row("admin.results_pdf", "GET", "/admin/rounds/{closed}/groups.pdf", "L L 200 403 200 200"),
    Row(
        "admin.group_minutes_pdf",
        "GET",
        "/admin/rounds/{closed}/groups/1/minutes.pdf",
        "L L 200 403 200 200",
    ),
    Row("admin.ballot_pdf", "GET", "/admin/rounds/{draft}/ballot.pdf", "L L 200 403 200 200"),
    Row(
        "admin.committee_download",
        "GET",
        "/admin/rounds/{draft}/committee.json",
        "L L 200 403 200 200",
    ),
    Row("api.results", "GET", "/api/v1/rounds/{closed}/results", "401 401 200 403 200 200"),
    Row("api.results", "GET", "/api/v1/rounds/{open}/results", "401 401 409 403 409 409"),
    Row("api.results", "GET", "/api/v1/rounds/9999/results", "401 401 404 404 404 404"),
    # --- auditors (and administrators)
    Row("audit.index", "GET", "/audit/", "L L 403 403 200 200"),
    Row("audit.log", "GET", "/audit/log", "L L 403 403 200 200"),
    Row("audit.body", "GET", "/audit/bodies/A", "L L 403 403 200 200"),
    Row("audit.findings_pdf", "GET", "/audit/bodies/A/findings.pdf", "L L 403 403 200 200"),
    Row("audit.person", "GET", "/audit/persons/{p2}", "L L 403 403 200 200"),
    Row("audit.history_pdf", "GET", "/audit/persons/{p2}/history.pdf", "L L 403 403 200 200"),
    Row("audit.round_page", "GET", "/audit/rounds/{open}", "L L 403 403 200 200"),
    Row("audit.trackers", "GET", "/audit/rounds/{open}/trackers", "L L 403 403 200 200"),
    Row("audit.results", "GET", "/audit/rounds/{closed}/results", "L L 403 403 200 200"),
    Row("audit.results", "GET", "/audit/rounds/{open}/results", "L L 403 403 409 409"),
    Row("audit.results_pdf", "GET", "/audit/rounds/{closed}/summary.pdf", "L L 403 403 200 200"),
    Row("audit.results_pdf", "GET", "/audit/rounds/{closed}/report.pdf", "L L 403 403 200 200"),
    Row("audit.results_pdf", "GET", "/audit/rounds/{open}/minutes.pdf", "L L 403 403 409 409"),
    Row("audit.bundle", "GET", "/audit/rounds/{published}/bundle.zip", "L L 403 403 200 200"),
    Row("audit.bundle", "GET", "/audit/rounds/{open}/bundle.zip", "L L 403 403 409 409"),
    # --- the tree of bodies (issue 17): reports, Excel files, packages from lower levels
    Row("tree.period", "GET", "/admin/bodies/A/report", "L L 200 403 200 200"),
    Row("tree.period", "GET", "/admin/bodies/B/report", "L L 403 200 200 200"),
    Row(
        "tree.period",
        "GET",
        "/admin/bodies/A/report?from=2014-12-31&to=2014-01-01",
        "L L 422 403 422 422",
    ),
    Row("tree.period_file", "GET", "/admin/bodies/A/report.xlsx", "L L 200 403 200 200"),
    Row(
        "tree.period_file",
        "GET",
        "/admin/bodies/A/report.pdf?from=2014-01-01&to=2014-12-31",
        "L L 200 403 200 200",
    ),
    Row("tree.findings_file", "GET", "/admin/bodies/A/findings.xlsx", "L L 200 403 200 200"),
    Row("tree.results_file", "GET", "/admin/rounds/{closed}/results.xlsx", "L L 200 403 200 200"),
    Row("tree.results_file", "GET", "/admin/rounds/{open}/results.xlsx", "L L 409 403 409 409"),
    Row("tree.roster_file", "GET", "/admin/rounds/{draft}/roster.xlsx", "L L 200 403 200 200"),
    Row("tree.packages", "GET", "/admin/packages", "L L 403 403 403 200"),
    Row("set_language", "GET", "/lang/vi?next=/admin/", "302 302 302 302 302 302"),
    # --- actions open to anyone (voters, the login form, the JSON API of voters)
    Row("ballot.enter_code", "POST", "/", "200 200 200 200 200 200", data={}),
    Row("ballot.ballot", "POST", "/ballot", "422 422 422 422 422 422", data={}),
    Row("ballot.receipt_check", "POST", "/receipt", "422 422 422 422 422 422", data={}),
    Row("auth.login", "POST", "/auth/login", "200 200 200 200 200 200", data={}),
    Row("api.ballot", "POST", "/api/v1/ballot", "422 422 422 422 422 422", json={}),
    Row("api.cast", "POST", "/api/v1/ballots", "422 422 422 422 422 422", json={"marks": {}}),
    # Staff import through the API: only a text/csv body is read (a form is 415 for anyone).
    Row(
        "api.paper_import",
        "POST",
        "/api/v1/rounds/{open}/paper-ballots",
        "415 415 415 415 415 415",
        data={},
    ),
    # --- staff actions
    Row("admin.add_body", "POST", "/admin/bodies", "L L 403 403 403 422", data={}),
    Row("tree.packages", "POST", "/admin/packages", "L L 403 403 403 422", data={}),
    Row("admin.new_round", "POST", "/admin/bodies/A/rounds/new", "L L 200 403 403 200", data={}),
    Row("admin.roster", "POST", "/admin/rounds/{draft}/roster", "L L 422 403 403 422", data={}),
    Row("admin.exempt", "POST", "/admin/rounds/{draft}/exempt", "L L 302 403 403 302", data={}),
    Row(
        "admin.attendance",
        "POST",
        "/admin/rounds/{open}/attendance",
        "L L 302 403 403 302",
        data={},
    ),
    Row("admin.restore", "POST", "/admin/rounds/{draft}/restore", "L L 302 403 403 302", data={}),
    Row("admin.resign", "POST", "/admin/rounds/{draft}/resign", "L L 302 403 403 302", data={}),
    Row("admin.meeting", "POST", "/admin/rounds/{draft}/meeting", "L L 302 403 403 302", data={}),
    Row("admin.proposed_vote", "POST", "/admin/bodies/A/votes", "L L 302 403 403 302", data={}),
    Row("admin.issue_codes", "POST", "/admin/rounds/{draft}/codes", "L L 302 403 403 302", data={}),
    Row("admin.add_group", "POST", "/admin/rounds/{draft}/groups", "L L 302 403 403 302", data={}),
    Row(
        "admin.choose_deciding",
        "POST",
        "/admin/rounds/{draft}/groups/deciding",
        "L L 302 403 403 302",
        data={},
    ),
    # A group the round does not have: refused with a message, nothing changes.
    Row(
        "admin.group_transition",
        "POST",
        "/admin/rounds/{draft}/groups/9/open",
        "L L 302 403 403 302",
        data={},
    ),
    Row(
        "admin.committee_create",
        "POST",
        "/admin/rounds/{draft}/committee",
        "L L 302 403 403 302",
        data={},
    ),
    Row(
        "admin.committee_upload",
        "POST",
        "/admin/rounds/{draft}/committee/upload",
        "L L 302 403 403 302",
        data={},
    ),
    Row(
        "admin.committee_remove",
        "POST",
        "/admin/rounds/{draft}/committee/remove",
        "L L 302 403 403 302",
        data={},
    ),
    Row(
        "admin.paper_entry",
        "POST",
        "/admin/rounds/{open}/paper/1",
        "L L 422 403 403 422",
        data={"action": "add"},
    ),
    Row(
        "admin.paper_entry_state",
        "POST",
        "/admin/rounds/{open}/paper/1/reopen",
        "L L 302 403 403 302",
        data={},
    ),
    Row(
        "admin.paper_compare",
        "POST",
        "/admin/rounds/{open}/paper/compare",
        "L L 302 403 403 302",
        data={},
    ),
    Row(
        "admin.paper_upload",
        "POST",
        "/admin/rounds/{open}/paper/upload",
        "L L 302 403 403 302",
        data={},
    ),
    Row(
        "admin.followup",
        "POST",
        "/admin/rounds/{closed}/followup",
        "L L 302 403 403 302",
        data={},
    ),
    # --- state changes, last
    Row("admin.transition", "POST", "/admin/rounds/{draft}/open", "L L 302 403 403 302", data={}),
    Row("admin.transition", "POST", "/admin/rounds/{open}/close", "L L 302 403 403 302", data={}),
    Row(
        "admin.transition",
        "POST",
        "/admin/rounds/{closed}/publish",
        "L L 302 403 403 302",
        data={},
    ),
    Row("auth.logout", "POST", "/auth/logout", "302 302 302 302 302 302", data={}),
)

# Actions anyone may take: voting (the code is the credential), logging in and out.
PUBLIC_ACTIONS = {
    "ballot.enter_code",
    "ballot.ballot",
    "ballot.receipt_check",
    "auth.login",
    "auth.logout",
    "api.ballot",
    "api.cast",
}


def _routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


@pytest.fixture
def aw(app: Flask) -> AuditWorld:
    """The audit world: bodies A and B, rounds in every state, one account per role."""
    return build_audit_world(app)


def _client(aw: AuditWorld, role: str) -> FlaskClient:
    if role in ("anonymous", "voter"):
        client = aw.world.app.test_client()
        if role == "voter":  # holds a code (and opened the ballot with it); never logs in
            assert open_ballot(client, aw.world.codes["open"][1]).status_code == 200
        return client
    return aw.client(role)


def _path(aw: AuditWorld, template: str) -> str:
    return template.format(code=aw.world.codes["open"][2], **aw.ids)


def _check_headers(response: Any, what: str) -> None:
    headers = response.headers
    assert headers.get("Content-Security-Policy") == CSP, what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("Referrer-Policy") == "no-referrer", what


def test_every_route_has_a_row(app: Flask) -> None:
    """A new route (or method) must be added to MATRIX with the status of every role."""
    covered = {(row.endpoint, row.method) for row in MATRIX}
    missing = _routes(app) - covered
    assert not missing, f"routes without a row in tests/test_security.py MATRIX: {sorted(missing)}"
    assert not covered - _routes(app), "rows for routes that no longer exist"


# The voter's token (web/voter_csrf.py): when it was issued, a dot, its signature.
VOTER_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([0-9]+\.[0-9a-f]+)"')


@pytest.mark.parametrize("role", ROLES)
def test_route_role_matrix(aw: AuditWorld, role: str) -> None:
    """Every route × every role gets exactly the expected status, with the security headers."""
    client = _client(aw, role)
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    # The voter's forms carry a token bound to a cookie of their own (web/voter_csrf.py).
    # (A signed-in page has the logout form's session token first.)
    voter_page = client.get("/").get_data(as_text=True)
    voter_token = VOTER_TOKEN.findall(voter_page)[0]
    got, expected = {}, {}
    for row in MATRIX:
        path = _path(aw, row.path)
        key = f"{row.method} {path}"
        if row.json is not None:
            response = client.open(path, method=row.method, json=row.json)
        elif row.data is not None:
            sent = voter_token if row.endpoint in ("ballot.enter_code", "ballot.ballot") else token
            response = client.open(path, method=row.method, data={"csrf_token": sent, **row.data})
        else:
            response = client.open(path, method=row.method)
        got[key] = response.status_code
        expected[key] = row.expected()[role]
        _check_headers(response, key)
        if row.statuses[0] == "L" and role in ("anonymous", "voter"):
            assert "/auth/login" in response.headers["Location"], key
        response.close()
    assert got == expected


def _snapshot(aw: AuditWorld) -> dict[str, Any]:
    with aw.world.sessions() as session:
        counts = {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (
                AuditEvent,
                Ballot,
                BallotItem,
                Body,
                Credential,
                Exemption,
                Person,
                Receipt,
                Round,
                StaffBody,
                StaffUser,
            )
        }
        states = [
            (r.id, r.status, r.members, r.summoned, r.present, r.paper_issued)
            for r in session.scalars(select(Round).order_by(Round.id))
        ]
        used = session.scalar(
            select(func.count()).select_from(Credential).where(Credential.used.is_(True))
        )
        marks = sorted(session.scalars(select(Ballot.marks)))
    return {"counts": counts, "states": states, "used": used, "marks": marks}


def test_an_auditor_can_change_nothing(aw: AuditWorld) -> None:
    """Every mutating route outside PUBLIC_ACTIONS refuses the auditor (and sends anonymous
    visitors to the login page), with complete and valid-looking data; nothing changes."""
    auditor = aw.client("auditor")
    anonymous = aw.world.app.test_client()
    token = csrf_token(auditor.get("/admin/").get_data(as_text=True))
    anon_token = csrf_token(anonymous.get("/auth/login").get_data(as_text=True))
    before = _snapshot(aw)
    mutating = {(e, m) for e, m in _routes(aw.world.app) if m in MUTATING}
    checked = set()
    for row in MATRIX:
        if (row.endpoint, row.method) not in mutating or row.endpoint in PUBLIC_ACTIONS:
            continue
        path = _path(aw, row.path)
        # Data that would succeed for an organizer: the refusal is the role's, not the form's.
        data = {
            "code": "NEW",
            "name": "Mới",
            "kind": "council",
            "count": "2",
            "fmt": "txt",
            "person": str(aw.ids["p1"]),
            "reason": "nghỉ hưu",
            "roster_text": "A,B\n",
            "action": "confirm",
            **(row.data or {}),
        }
        if row.endpoint.startswith("api."):
            # The staff API takes a CSV body; it answers 401 rather than sending to a page.
            csv = b"status,1,2,3\nvalid,H,C,L\n"
            response = auditor.post(path, data=csv, content_type="text/csv")
            assert response.status_code == 403, path
            response = anonymous.post(path, data=csv, content_type="text/csv")
            assert response.status_code == 401, path
            checked.add((row.endpoint, row.method))
            continue
        response = auditor.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 403, path
        response = anonymous.post(path, data={"csrf_token": anon_token, **data})
        assert response.status_code == 302, path
        assert "/auth/login" in response.headers["Location"]
        checked.add((row.endpoint, row.method))
    assert checked == {(e, m) for e, m in mutating if e not in PUBLIC_ACTIONS}
    assert _snapshot(aw) == before
    # Read-only pages never offer an action to an auditor.
    for page in (
        "/admin/",
        "/admin/bodies/A",
        _path(aw, "/admin/rounds/{draft}"),
        _path(aw, "/admin/rounds/{closed}/results"),
        "/audit/",
    ):
        html = auditor.get(page).get_data(as_text=True)
        forms = html.count("<form")
        assert forms == 1, page  # the log-out button only


def test_csrf_is_refused_on_every_form_route(aw: AuditWorld) -> None:
    """Every POST route outside the JSON API refuses a request without the CSRF token."""
    admin = aw.client("admin")
    anonymous = aw.world.app.test_client()
    before = _snapshot(aw)
    posted = set()
    for row in MATRIX:
        if row.method != "POST":
            continue
        path = _path(aw, row.path)
        if row.endpoint.startswith("api."):
            # The API is exempt from CSRF: it takes only application/json (voters) or text/csv
            # (staff imports), which a cross-site HTML form cannot send; no cookie
            # authenticates the voters' calls (the code does), and the staff session cookie
            # is SameSite=Lax, never sent with a cross-site POST.
            form = anonymous.post(path, data={"code": aw.world.codes["open"][0]})
            assert form.status_code == 415, path
            continue
        for client in (admin, anonymous):
            response = client.post(path, data={"action": "confirm", "code": "x"})
            assert response.status_code == 400, path
            _check_headers(response, path)
        posted.add(row.endpoint)
    assert posted == {
        e for e, m in _routes(aw.world.app) if m == "POST" and not e.startswith("api.")
    }
    assert _snapshot(aw) == before


def test_headers_on_errors_json_and_static(aw: AuditWorld) -> None:
    client = aw.world.app.test_client()
    for method, path in (
        ("GET", "/nowhere"),
        ("DELETE", "/"),
        ("GET", "/api/v1/nowhere"),
        ("POST", "/api/v1/ballot"),
        ("GET", "/static/style.css"),
        ("GET", "/static/nothing.css"),
    ):
        response = client.open(path, method=method)
        _check_headers(response, path)
        response.close()


# ------------------------------------------------------------------------------ throttling


def test_code_guessing_is_throttled(app: Flask, aw: AuditWorld) -> None:
    """The N+1-th refused code from one address gets 429, on the form, the link and the API."""
    app.config["CODE_RATE_LIMIT"] = "5/minute"
    client = aw.world.app.test_client()
    token = csrf_token(client.get("/").get_data(as_text=True))
    # Good codes never count: a hall behind one address is not slowed down.
    for _ in range(8):
        assert open_ballot(client, aw.world.codes["open"][0]).status_code == 200
    guesses = [f"ACDE-FGHJ-KM{a}{b}" for a in "NPQ" for b in "RTW"]
    statuses = [
        client.post("/", data={"csrf_token": token, "code": guess}).status_code
        for guess in guesses[:5]
    ]
    assert statuses == [403] * 5
    assert client.post("/", data={"csrf_token": token, "code": guesses[5]}).status_code == 429
    assert client.post("/ballot", data={"csrf_token": token, "code": guesses[6]}).status_code == 429
    assert client.post("/api/v1/ballot", json={"code": guesses[7]}).status_code == 429
    # Even a real code waits until the minute is over.
    assert open_ballot(client, aw.world.codes["open"][0]).status_code == 429


def test_login_is_throttled_per_address(app: Flask, aw: AuditWorld) -> None:
    app.config["LOGIN_ADDRESS_FREE_FAILURES"] = 3
    client = aw.world.app.test_client()
    statuses = [login(client, name, "wrong password!").status_code for name in "abcde"]
    assert statuses == [401, 401, 401, 401, 429]


def test_login_is_throttled_per_username(app: Flask, aw: AuditWorld) -> None:
    app.config["LOGIN_ACCOUNT_FREE_FAILURES"] = 2
    addresses = [f"198.51.100.{n}" for n in range(1, 5)]  # a botnet: one try per address
    statuses = [
        login(aw.world.app.test_client(), "organizer", "wrong password!", address=a).status_code
        for a in addresses
    ]
    assert statuses == [401, 401, 401, 429]


# ------------------------------------------------------------------------------ sessions


def test_session_expires_and_ends_with_a_new_password(app: Flask, aw: AuditWorld) -> None:
    from votes import staff
    from votes.db import write_session

    client = aw.client("auditor")
    assert client.get("/audit/").status_code == 200
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(seconds=0)
    assert client.get("/audit/").status_code == 302
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=8)
    client = aw.client("auditor")
    assert client.get("/audit/").status_code == 200
    with write_session(aw.world.sessions) as session:
        staff.set_password(session, staff.get_user(session, "auditor"), "another password 1")
    assert client.get("/audit/").status_code == 302
    assert login(aw.world.app.test_client(), "auditor", PASSWORD).status_code == 401


def test_login_session_is_renewed(aw: AuditWorld) -> None:
    """Logging in starts a new session: nothing planted before login survives (fixation)."""
    client = aw.world.app.test_client()
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    assert login(client, "organizer").status_code == 302
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "login_at" in session


# ------------------------------------------------------------------------------ error pages


@pytest.fixture
def failing_app(tmp_path: Any) -> Iterator[Flask]:
    """A production-like app (no testing, no debug) with two test-only routes that fail."""
    app = create_app(
        {
            "TESTING": False,
            "DEBUG": False,
            "DEMO": True,  # allows the throw-away secret key
            "SECRET_KEY": "s" * 32,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
            "PROPAGATE_EXCEPTIONS": False,
        }
    )

    def boom() -> str:
        raise RuntimeError("secret internals at /srv/votes/app.py line 42")

    app.add_url_rule("/test-only/boom", "boom", boom)
    app.add_url_rule("/api/v1/test-only/boom", "api_boom", boom)
    yield app
    app.extensions["votes.engine"].dispose()


def test_error_pages_show_no_internals(failing_app: Flask) -> None:
    client = failing_app.test_client()
    for path in ("/test-only/boom", "/api/v1/test-only/boom"):
        response = client.get(path)
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        for secret in ("secret internals", "Traceback", "RuntimeError", ".py", "/srv/"):
            assert secret not in body, (path, secret)
        _check_headers(response, path)
    assert client.get("/api/v1/test-only/boom").json == {
        "error": "internal_server_error",
        "status": 500,
    }
    assert "Máy chủ gặp sự cố" in client.get("/test-only/boom").get_data(as_text=True)
    # A database error (no tables in this app) is a 500 page, not a stack trace either.
    response = client.get("/audit/")
    assert response.status_code == 302  # login first
    response = client.get("/r/")
    assert response.status_code in (500, 503)
    assert "Traceback" not in response.get_data(as_text=True)
    assert "sqlite" not in response.get_data(as_text=True).lower()


def test_trusted_proxy_count_decides_whose_address_is_limited(database_url: str) -> None:
    """Behind nginx (VOTES_TRUSTED_PROXIES=1) each voter's own address is throttled."""
    from votes import create_app
    from votes.migrate import upgrade as migrate

    seen = []
    for proxies in (0, 1):
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": SECRET,
                "DATABASE_URL": database_url,
                "TRUSTED_PROXIES": proxies,
            }
        )
        migrate(app.extensions["votes.engine"])

        @app.route("/_whoami")
        def whoami() -> str:
            from flask import request

            return request.remote_addr or ""

        client = app.test_client()
        seen.append(
            client.get(
                "/_whoami",
                headers={"X-Forwarded-For": "203.0.113.9"},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
            ).get_data(as_text=True)
        )
        app.extensions["votes.engine"].dispose()
    assert seen == ["127.0.0.1", "203.0.113.9"]
