"""Auditors' pages: read-only views, verification, downloads logged, embargo, receipts."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field

import pytest
from flask import Flask
from sqlalchemy import select, text

from tests.factories import add_committee, decrypt_round, opened_ballots
from tests.web_fixtures import PASSWORD, World, build_world, csrf_token, login
from votes import audit, operations
from votes.db import write_session
from votes.meeting import parse_committee
from votes.models import AuditEvent, Person
from votes.roster import parse_roster
from votes.verify import sealed_record
from votes.voting import cast_ballot

AUDIT_GETS = (
    "/audit/",
    "/audit/log",
    "/audit/bodies/A",
    "/audit/rounds/{closed}",
    "/audit/rounds/{closed}/results",
    "/audit/persons/{p2}",
)


@dataclass
class AuditWorld:
    """The web World plus a published round of 2024 with a finding, and its receipts."""

    world: World
    receipts: list[str] = field(default_factory=list)

    @property
    def ids(self) -> dict[str, int]:
        """Round, body and person ids by name."""
        return self.world.ids

    def client(self, role: str | None = None):  # type: ignore[no-untyped-def]
        """A test client, logged in as a role's account."""
        return self.world.client(role)

    def path(self, template: str) -> str:
        """Fill a path template with the ids."""
        return template.format(**self.world.ids)


def build_audit_world(app: Flask) -> AuditWorld:
    """Build the web World, then a published 2024 round where p2 has 6 of 10 low (a finding)."""
    world = build_world(app)
    secret = app.config["SECRET_KEY"]
    entries = parse_roster(
        b"name,position,person_key\n"
        b"Nguy\xe1\xbb\x85n V\xc4\x83n An,B\xc3\xad th\xc6\xb0,p1\n"
        b"Tr\xe1\xba\xa7n Th\xe1\xbb\x8b B\xc3\xacnh,Ph\xc3\xb3 B\xc3\xad th\xc6\xb0,p2\n"
        b"L\xc3\xaa V\xc4\x83n C\xc6\xb0\xe1\xbb\x9dng,\xe1\xbb\xa6y vi\xc3\xaan,p3\n"
    )
    with operations.work(world.sessions, "setup") as work:
        body = work.body("A")
        round_ = operations.create_round(
            work,
            body_code="A",
            year=2013,
            profile_id="nq35-2012",
            title="Đợt 2024",
            roster=entries,
            members=10,
            summoned=10,
            present=10,
        )
        world.ids["published"] = round_.id
        add_committee(work.session, round_.id)
        codes = operations.issue_codes(work, round_.id, 8, secret)
        operations.open_round(work, round_.id)
    audit_world = AuditWorld(world)
    with world.sessions() as session:
        for n, code in enumerate(codes[:7]):
            marks = ["H", "L", "C"] if n < 6 else ["H", "H", "H"]
            audit_world.receipts.append(
                cast_ballot(session, secret, code, marks, round_id=world.ids["published"])
            )
    with operations.work(world.sessions, "setup") as work:
        operations.close_round(work, world.ids["published"])
        decrypt_round(work.session, world.ids["published"])
        operations.record_meeting(
            work,
            world.ids["published"],
            held_on=dt.date(2013, 12, 10),
            committee=parse_committee("Hà Thị Mai (Trưởng ban); Vương Đình Khoa"),
        )
        operations.publish_round(work, world.ids["published"])
        session = work.session
        for key in ("p1", "p2"):
            person = session.scalar(
                select(Person).where(Person.person_key == key, Person.body_id == body.id)
            )
            assert person is not None
            world.ids[key] = person.id
    return audit_world


@pytest.fixture
def aw(app: Flask) -> AuditWorld:
    """The audit world."""
    return build_audit_world(app)


def _events(aw: AuditWorld, kind: str | None = None) -> list[AuditEvent]:
    with aw.world.sessions() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if kind:
            query = query.where(AuditEvent.kind == kind)
        return list(session.scalars(query))


# ------------------------------------------------------------------------------ pages


def test_index_lists_every_body_and_round_with_its_state(aw: AuditWorld) -> None:
    html = aw.client("auditor").get("/audit/").get_data(as_text=True)
    for name in ("Hội đồng nhân dân xã A", "Hội đồng nhân dân xã B"):
        assert name in html
    for state in ("draft", "open", "closed", "published"):
        assert f"badge-{state}" in html
    # Links to results only for counted rounds.
    assert f"/audit/rounds/{aw.ids['closed']}/results" in html
    assert f"/audit/rounds/{aw.ids['open']}/results" not in html


def test_results_show_chart_seal_findings_and_a_green_verification(aw: AuditWorld) -> None:
    client = aw.client("auditor")
    html = client.get(aw.path("/audit/rounds/{published}/results")).get_data(as_text=True)
    assert 'data-testid="bar-chart"' in html  # the stacked-bar chart
    assert "flash verify verify-ok" in html
    with aw.world.sessions() as session:
        # The meeting was recorded after the close: it re-sealed the round (its details).
        sealed = sealed_record(audit.round_events(session, aw.ids["published"]))
        assert sealed is not None
        seal = sealed["seal"]
    assert seal in html.replace("<wbr>", "")
    assert 'data-testid="findings"' in html
    assert "Trần Thị Bình" in html.split('data-testid="findings"')[1]
    assert 'data-testid="small-round"' not in html  # 7 ballots, 10 members


def test_tampering_turns_the_verification_red(aw: AuditWorld) -> None:
    client = aw.client("auditor")
    with write_session(aw.world.sessions) as session:
        # The online ballots are sealed: one of them deleted.
        tracker = session.scalar(
            text("SELECT tracker FROM sealed_ballot WHERE round_id = :r"),
            {"r": aw.ids["published"]},
        )
        session.execute(text("DELETE FROM sealed_ballot WHERE tracker = :t"), {"t": tracker})
    html = client.get(aw.path("/audit/rounds/{published}/results")).get_data(as_text=True)
    assert "verify-failed" in html
    assert "sau khi đợt được niêm phong" in html  # the problem, in the page's language
    assert "các phiếu" in html  # the part that differs
    with write_session(aw.world.sessions) as session:
        session.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE id = 2"))
    log = client.get("/audit/log").get_data(as_text=True)
    assert "verify-failed" in log
    assert "sự kiện 2" in log


def test_open_round_shows_no_numbers_to_the_auditor(aw: AuditWorld) -> None:
    client = aw.client("auditor")
    for template in ("{open}", "{draft}"):
        assert client.get(aw.path(f"/audit/rounds/{template}/results")).status_code == 409
        assert client.get(aw.path(f"/audit/rounds/{template}/bundle.zip")).status_code == 409
        assert client.get(aw.path(f"/audit/rounds/{template}/minutes.pdf")).status_code == 409
        assert client.get(aw.path(f"/audit/rounds/{template}/summary.pdf")).status_code == 409
        page = client.get(aw.path(f"/audit/rounds/{template}"))
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Tín nhiệm cao" not in html
        assert 'class="bars"' not in html
    assert client.get("/api/v1/rounds/{}/results".format(aw.ids["open"])).status_code == 409


def test_only_auditors_and_admins_see_the_audit_pages(aw: AuditWorld) -> None:
    for role, expected in (("organizer", 403), ("other", 403), (None, 302)):
        client = aw.client(role)
        for template in AUDIT_GETS:
            assert client.get(aw.path(template)).status_code == expected, (role, template)
    for role in ("auditor", "admin"):
        client = aw.client(role)
        for template in AUDIT_GETS:
            assert client.get(aw.path(template)).status_code == 200, (role, template)
        # The navigation link to these pages.
        assert 'href="/audit/"' in client.get("/admin/").get_data(as_text=True)
    assert 'href="/audit/"' not in aw.client("organizer").get("/admin/").get_data(as_text=True)


def test_body_page_lists_findings_and_persons(aw: AuditWorld) -> None:
    html = aw.client("auditor").get("/audit/bodies/A").get_data(as_text=True)
    table = html.split('data-testid="findings"')[1].split("</table>")[0]
    assert "Trần Thị Bình" in table
    # The finding in words, never as a band id (issue 14).
    assert "số phiếu tín nhiệm thấp chiếm quá nửa tổng số đại biểu" in table
    assert "over_half" not in table
    assert "band:" not in table
    assert aw.path("/audit/persons/{p1}") in html
    assert aw.client("auditor").get("/audit/bodies/ZZ").status_code == 404


def test_person_history_has_a_line_chart_with_thresholds(aw: AuditWorld) -> None:
    html = aw.client("auditor").get(aw.path("/audit/persons/{p2}")).get_data(as_text=True)
    svg = html.split('class="bars line-chart"')[1].split("</svg>")[0]
    assert svg.count("<circle") == 2  # 2024 and 2025
    assert "60,00 %" in svg  # 6 of 10 low in 2024
    assert ">0,00 %</text>" in svg  # none of 10 low in 2025
    assert svg.count('class="threshold') == 2
    assert svg.count('class="low-line"') == 1  # consecutive years are joined
    assert "1/2" in svg
    assert "2/3" in svg
    assert aw.client("auditor").get("/audit/persons/99999").status_code == 404


def test_log_is_paginated_and_newest_first(aw: AuditWorld, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from votes.web import audit as audit_views

    monkeypatch.setattr(audit_views, "PAGE_SIZE", 5)
    client = aw.client("auditor")
    total = len(_events(aw))
    first = client.get("/audit/log").get_data(as_text=True)
    assert "flash verify verify-ok" in first
    ids = [int(n) for n in re.findall(r"<tr><td>(\d+)</td>", first)]
    assert ids == list(range(total, total - 5, -1))
    last_page = -(-total // 5)
    assert client.get(f"/audit/log?page={last_page}").status_code == 200
    assert client.get(f"/audit/log?page={last_page + 1}").status_code == 404
    assert client.get("/audit/log?page=x").status_code == 404


# ------------------------------------------------------------------------------ downloads


def test_every_download_is_logged_with_the_user_name(aw: AuditWorld) -> None:
    client = aw.client("auditor")
    # The installation's signing key is made (and logged on its own) before the first bundle.
    with operations.work(aw.world.sessions, "setup") as work:
        operations.installation_key(work)
    downloads = {
        "/audit/rounds/{published}/bundle.zip": ("bundle_exported", None),
        "/audit/rounds/{published}/minutes.pdf": ("report_downloaded", "minutes"),
        "/audit/rounds/{published}/summary.pdf": ("report_downloaded", "summary"),
        "/audit/persons/{p2}/history.pdf": ("report_downloaded", "history"),
        "/audit/bodies/A/findings.pdf": ("report_downloaded", "findings"),
    }
    for template, (kind, report) in downloads.items():
        before = len(_events(aw))
        response = client.get(aw.path(template))
        assert response.status_code == 200, template
        assert "attachment" in response.headers["Content-Disposition"]
        data = response.get_data()
        events = _events(aw)
        assert len(events) == before + 1
        event = events[-1]
        assert (event.kind, event.actor) == (kind, "auditor")
        details = json.loads(event.details)
        assert details["sha256"] == hashlib.sha256(data).hexdigest()
        assert details.get("kind") == report
        if template.endswith(".pdf"):
            assert data.startswith(b"%PDF")
    zip_data = client.get(aw.path("/audit/rounds/{published}/bundle.zip")).get_data()
    with zipfile.ZipFile(io.BytesIO(zip_data)) as archive:
        names = archive.namelist()
    assert f"round-{aw.ids['published']}/verify.py" in names


def test_organizer_downloads_are_logged_too(aw: AuditWorld) -> None:
    client = aw.client("organizer")
    for suffix, kind in (
        ("minutes.pdf", "minutes"),
        ("results.json", "results.json"),
        ("results.csv", "results.csv"),
    ):
        response = client.get(aw.path("/admin/rounds/{closed}/") + suffix)
        assert response.status_code == 200
        event = _events(aw)[-1]
        assert (event.kind, event.actor, event.round_id) == (
            "report_downloaded",
            "organizer",
            aw.ids["closed"],
        )
        assert json.loads(event.details)["kind"] == kind


# ------------------------------------------------------------------------------ logins


def test_logins_and_failed_logins_are_logged_without_the_password(aw: AuditWorld) -> None:
    client = aw.world.app.test_client()
    # A login refused for its CSRF token never reaches the view: nothing is written.
    assert client.post("/auth/login", data={"username": "x", "password": "y"}).status_code == 400
    assert _events(aw, "staff_login_failed") == []
    wrong = "this is the wrong one"
    assert login(client, "organizer", wrong).status_code == 401
    assert login(client, "Nobody-" + "x" * 300, wrong).status_code == 200  # too long a name
    assert login(client, "organizer").status_code == 302
    failed = _events(aw, "staff_login_failed")
    assert [json.loads(e.details)["username"] for e in failed] == [
        "organizer",
        ("nobody-" + "x" * 300)[:100],
    ]
    assert all(e.actor == "anonymous" for e in failed)
    logged_in = _events(aw, "staff_login")[-1]
    assert (logged_in.actor, json.loads(logged_in.details)) == (
        "organizer",
        {"username": "organizer"},
    )
    everything = " ".join(e.details + e.actor for e in _events(aw))
    assert wrong not in everything
    assert PASSWORD not in everything


# ------------------------------------------------------------------------------ embargo


def test_public_results_only_after_publication(aw: AuditWorld) -> None:
    anonymous = aw.client()
    page = anonymous.get(aw.path("/r/{published}"))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Trần Thị Bình" in html
    assert "60,00 %" in html
    for name in ("closed", "open", "draft"):
        assert anonymous.get(aw.path(f"/r/{{{name}}}")).status_code == 404
    assert anonymous.get("/r/99999").status_code == 404
    listing = anonymous.get("/r/").get_data(as_text=True)
    assert aw.path("/r/{published}") in listing
    assert aw.path("/r/{closed}") not in listing
    # Closed but unpublished: visible to the body's organizer and to auditors only.
    closed = aw.path("/admin/rounds/{closed}/results")
    assert aw.client("organizer").get(closed).status_code == 200
    assert aw.client("auditor").get(closed).status_code == 200
    assert aw.client("other").get(closed).status_code == 403
    assert anonymous.get(aw.path("/api/v1/rounds/{closed}/results")).status_code == 401


def test_no_numbers_of_an_open_round_anywhere(aw: AuditWorld) -> None:
    """Every GET route that takes a round id, for every role: no tally of the open round."""
    secret = aw.world.app.config["SECRET_KEY"]
    with aw.world.sessions() as session:
        for code in aw.world.codes["open"][:2]:
            cast_ballot(session, secret, code, ["L", "L", "L"])  # 2 of D = 10: 20,00 %
    # Pages that exist while a round is open: its state and turnout, the blank paper ballot,
    # the paper-entry form and the close confirmation. None of them counts marks.
    may_show = {
        "admin.round_page",
        "audit.round_page",
        "admin.ballot_pdf",
        "admin.paper",
        "admin.transition",
        "tree.roster_file",  # the roster as .xlsx: names and positions, no count
        # The sealed ballots' trackers (auditors) and the public list's "not yet" page: an
        # encrypted ballot shows no mark.
        "audit.trackers",
        "trackers.receipts",
    }
    rules_ = [
        rule
        for rule in aw.world.app.url_map.iter_rules()
        if "<int:round_id>" in rule.rule and "GET" in rule.methods
    ]
    for role in (None, "organizer", "other", "auditor", "admin"):
        client = aw.client(role)
        for rule in rules_:
            path = (
                rule.rule.replace("<int:round_id>", str(aw.ids["open"]))
                .replace("<any(minutes, summary):kind>", "minutes")
                .replace("<any(json, csv):fmt>", "json")
                .replace("<any(open, close, publish):action>", "close")
            )
            response = client.get(path)
            if rule.endpoint not in may_show:
                assert response.status_code in (302, 401, 403, 404, 409), (role, path)
                continue
            body = response.get_data(as_text=not path.endswith((".pdf", ".xlsx")))
            if isinstance(body, str):
                assert "20,00" not in body, (role, path)
                assert 'class="bars' not in body, (role, path)
                assert 'class="results"' not in body, (role, path)


# ------------------------------------------------------------------------------ receipts


def test_receipt_check_after_close(aw: AuditWorld) -> None:
    client = aw.client()
    page = client.get("/receipt")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'value="{aw.ids["published"]}"' in html
    assert f'value="{aw.ids["open"]}"' not in html  # only closed or published rounds
    token = csrf_token(html)

    def check(round_id: int, receipt: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/receipt", data={"csrf_token": token, "round": str(round_id), "receipt": receipt}
        )

    counted = check(aw.ids["published"], aw.receipts[0].lower().replace("-", " "))
    assert counted.status_code == 200
    assert "Đã được kiểm" in counted.get_data(as_text=True)
    missing = check(aw.ids["published"], "ACDE-FGHJ-KMNP")
    assert "Không tìm thấy" in missing.get_data(as_text=True)
    # A receipt of another round is not among this round's ballots.
    assert "Không tìm thấy" in check(aw.ids["closed"], aw.receipts[0]).get_data(as_text=True)
    assert check(aw.ids["open"], aw.receipts[0]).status_code == 422  # not a counted round


def test_receipt_guessing_is_throttled(app: Flask, aw: AuditWorld) -> None:
    app.config["RECEIPT_RATE_LIMIT"] = "3/minute"
    client = aw.client()
    token = csrf_token(client.get("/receipt").get_data(as_text=True))
    data = {"csrf_token": token, "round": str(aw.ids["published"])}
    # Real receipts never count against the limit …
    for receipt in aw.receipts:
        assert client.post("/receipt", data={**data, "receipt": receipt}).status_code == 200
    # … guesses do.
    statuses = [
        client.post("/receipt", data={**data, "receipt": f"ACDE-FGHJ-KMN{c}"}).status_code
        for c in "PQRT"
    ]
    assert statuses == [200, 200, 200, 429]


# ------------------------------------------------------------------------------ small rounds


def test_small_round_warning(app: Flask, aw: AuditWorld) -> None:
    closed = aw.path("/admin/rounds/{closed}/results")  # 1 ballot: below the minimum of 5
    assert 'data-testid="small-round"' in aw.client("organizer").get(closed).get_data(as_text=True)
    audit_page = aw.client("auditor").get(aw.path("/audit/rounds/{closed}/results"))
    assert 'data-testid="small-round"' in audit_page.get_data(as_text=True)
    published = aw.path("/admin/rounds/{published}/results")
    assert 'data-testid="small-round"' not in aw.client("organizer").get(published).get_data(
        as_text=True
    )
    app.config["SMALL_ROUND_MINIMUM"] = 11  # more than the 10 members
    assert 'data-testid="small-round"' in aw.client().get(aw.path("/r/{published}")).get_data(
        as_text=True
    )


def test_no_page_lists_individual_ballots(aw: AuditWorld) -> None:
    """Crawl every GET page (not the downloads) as every role: no packed marks, no ballot line."""
    with aw.world.sessions() as session:
        # Sealed: the test opens the ballots with the committee's key to know what to look for.
        packed = {
            *opened_ballots(session, aw.ids["published"]),
            *opened_ballots(session, aw.ids["closed"]),
        }
    assert packed == {"HLC", "HHH", "HCL"}
    lines = {"valid," + ",".join(m) for m in packed}
    fill = {
        "<int:round_id>": str(aw.ids["published"]),
        "<int:person_id>": str(aw.ids["p2"]),
        "<code>": "A",
        "<language>": "vi",
    }
    pages = []
    for rule in aw.world.app.url_map.iter_rules():
        if (
            "GET" not in rule.methods
            or rule.endpoint == "static"
            or "." in rule.rule.rsplit("/", 1)[-1]
        ):
            continue  # downloads (.pdf, .zip, .json, .csv) are documents, not pages
        path = rule.rule
        for placeholder, value in fill.items():
            path = path.replace(placeholder, value)
        pages.append(path)
    for role in (None, "organizer", "auditor", "admin"):
        client = aw.client(role)
        for path in pages:
            html = client.get(path).get_data(as_text=True)
            for marks in packed:
                assert re.search(rf"\b{marks}\b", html) is None, (role, path, marks)
            for line in lines:
                assert line not in html, (role, path)
