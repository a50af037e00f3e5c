"""Idempotent uploads: the same paper file for the same round is imported once, on every door.

Issue 12, "Why" 3: the same paper upload posted twice (same file, same form) was counted
twice (collected 40 of 20 ballots, and `verify` said everything holds). Now a file already
imported (by SHA-256) is refused with the time of the first import, on the web, the command
line and the API, unless the organizer says it is another stack; a form (or an API request
with the same Idempotency-Key) sent twice is refused even then.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests import web_fixtures
from tests.conftest import VotesRunner
from tests.web_fixtures import World, csrf_token
from votes import operations, voting
from votes.ballotbox import ballots_collected
from votes.models import AuditEvent, Round
from votes.verify import verify_round
from votes.voting import AlreadyImported

world = web_fixtures.world  # the fixture, under its own name

# Ten paper ballots of the three-item ballot of the web world's rounds.
STACK = ("status,1,2,3\n" + "valid,H,C,L\n" * 6 + "valid,C,C,C\n" * 3 + "invalid,,,\n").encode()
TIME = re.compile(r"\d\d:\d\d:\d\d \d\d/\d\d/\d{4}")


def _box(world: World) -> int:
    with world.sessions() as session:
        return ballots_collected(session, world.ids["open"])


def _imports(world: World) -> list[dict[str, Any]]:
    with world.sessions() as session:
        events = session.scalars(
            select(AuditEvent.details).where(
                AuditEvent.kind == "ballots_imported", AuditEvent.round_id == world.ids["open"]
            )
        )
        return [json.loads(details) for details in events]


def _raise_issued(world: World) -> None:
    """Room for two stacks of paper ballots: 30 members, summoned and present."""
    with operations.work(world.sessions, "setup") as work:
        operations.record_attendance(work, world.ids["open"], members=30, summoned=30, present=30)


def test_the_command_line_imports_a_file_once(
    world: World, votes: VotesRunner, tmp_path: Path
) -> None:
    _raise_issued(world)
    path = tmp_path / "stack.csv"
    path.write_bytes(STACK)
    round_id = world.ids["open"]
    assert votes("ballots", "import", round_id, path, "--issued", 20).exit_code == 0
    again = votes("ballots", "import", round_id, path, "--issued", 20)
    assert again.exit_code == 1
    assert "đã được nhập" in again.stderr
    assert TIME.search(again.stderr), again.stderr
    assert _box(world) == 10
    other = votes("ballots", "import", round_id, path, "--another-stack")
    assert other.exit_code == 0, other.stderr
    assert _box(world) == 20
    assert [d.get("another_stack", False) for d in _imports(world)] == [False, True]
    assert votes("round", "close", round_id).exit_code == 0
    assert votes("verify", round_id).exit_code == 0


def _upload(client: FlaskClient, world: World, form: dict[str, Any]) -> str:
    data = {**form, "ballots_file": (io.BytesIO(STACK), "stack.csv")}
    response = client.post(
        f"/admin/rounds/{world.ids['open']}/paper/upload",
        data=data,
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return page


def _fresh_form(client: FlaskClient, world: World) -> dict[str, Any]:
    """The upload form as the round page renders it: a CSRF token and a one-time token."""
    html = client.get(f"/admin/rounds/{world.ids['open']}").get_data(as_text=True)
    token = re.search(r'name="submission" type="hidden" value="([^"]+)"', html)
    assert token, "the upload form carries no one-time token"
    return {"csrf_token": csrf_token(html), "submission": token.group(1), "issued": "20"}


def test_the_same_form_posted_twice_imports_once(world: World) -> None:
    _raise_issued(world)
    client = world.client("organizer")
    form = _fresh_form(client, world)
    assert "10 phiếu giấy" in _upload(client, world, form)
    resent = _upload(client, world, form)  # a double click, a reload, a resent form
    assert "đã được gửi" in resent
    assert _box(world) == 10
    # Even saying it is another stack: the same form is one upload.
    resent = _upload(client, world, {**form, "another_stack": "y"})
    assert "đã được gửi" in resent
    assert _box(world) == 10
    # A new form with the same file: refused, with the time of the first import.
    page = _upload(client, world, _fresh_form(client, world))
    assert "đã được nhập" in page
    assert TIME.search(page)
    assert _box(world) == 10
    # Said to be another stack, from a new form: imported once more.
    form = {**_fresh_form(client, world), "another_stack": "y"}
    assert "10 phiếu giấy" in _upload(client, world, form)
    assert _box(world) == 20
    assert "đã được gửi" in _upload(client, world, form)
    assert _box(world) == 20
    # The token itself is never written to the log, only a digest of it.
    assert all(d.get("submission") != form["submission"] for d in _imports(world))


def test_the_api_imports_a_file_once(world: World) -> None:
    _raise_issued(world)
    path = f"/api/v1/rounds/{world.ids['open']}/paper-ballots"
    client = world.client("organizer")

    def post(query: str = "", key: str | None = None, who: FlaskClient = client) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return who.post(path + query, data=STACK, content_type="text/csv", headers=headers)

    assert post(who=world.app.test_client()).status_code == 401
    assert post(who=world.client("other")).status_code == 403
    assert post(who=world.client("auditor")).status_code == 403
    assert client.post(path, data={"x": "y"}).status_code == 415
    first = post("?issued=20", key="k-1")
    assert first.status_code == 201, first.json
    assert first.json["count"] == 10
    again = post()
    assert again.status_code == 409
    assert again.json["error"] == "already_imported"
    assert dt.datetime.fromisoformat(again.json["first_imported_at"]).year >= 2025
    assert TIME.search(again.json["message"])
    assert post("?another_stack=true", key="k-1").status_code == 409  # the same request again
    assert _box(world) == 10
    assert post("?another_stack=true", key="k-2").status_code == 201
    assert _box(world) == 20
    assert post("?issued=99999999999").status_code == 422
    assert (
        client.post(
            f"/api/v1/rounds/{world.ids['closed']}/paper-ballots",
            data=STACK,
            content_type="text/csv",
        ).status_code
        == 409
    )


def test_two_uploads_of_one_file_at_the_same_moment_import_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check reads the log under the round's lock: the second upload sees the first."""
    _raise_issued(world)
    reached, release = threading.Event(), threading.Event()
    original = voting.insert_ballots

    def held(*args: Any, **kwargs: Any) -> Any:
        if not reached.is_set():
            reached.set()
            assert release.wait(timeout=60)
        return original(*args, **kwargs)

    monkeypatch.setattr(voting, "insert_ballots", held)

    def upload() -> str:
        try:
            with operations.work(world.sessions, "clerk") as work:
                operations.import_paper_ballots(work, world.ids["open"], STACK, issued=20)
        except AlreadyImported:
            return "refused"
        return "imported"

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(upload)
        assert reached.wait(timeout=60)
        second = pool.submit(upload)
        threading.Timer(0.5, release.set).start()
        outcomes = sorted([first.result(timeout=60), second.result(timeout=60)])
    assert outcomes == ["imported", "refused"]
    assert _box(world) == 10
    with operations.work(world.sessions, "chair") as work:
        operations.close_round(work, world.ids["open"])
    with world.sessions() as session:
        round_ = session.get(Round, world.ids["open"])
        assert round_ is not None
        assert round_.collected == 10
        assert verify_round(session, round_).ok
