"""One core, two doors: what the pages do is logged under the account; documents are the same.

Every audit event made through the pages names the signed-in account (the log said `system`
before the operations layer); each document comes out the same through the command line, the
organizer pages and the auditor pages, since one builder makes its input.
"""

from __future__ import annotations

import base64
import io
import re
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests import web_fixtures
from tests.conftest import VotesRunner
from tests.web_fixtures import World, csrf_token
from votes import trustee
from votes.models import AuditEvent, Person

world = web_fixtures.world  # the fixture, under its own name


def _events_after(world: World, last: int) -> list[AuditEvent]:
    with world.sessions() as session:
        return list(
            session.scalars(select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id))
        )


def _last_event(world: World) -> int:
    with world.sessions() as session:
        return session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) or 0


def test_every_event_made_through_the_pages_names_the_account(world: World) -> None:
    client = world.client("organizer")
    last = _last_event(world)
    page = client.get("/admin/bodies/A/rounds/new").get_data(as_text=True)
    token = csrf_token(page)
    roster = (
        "name,position,person_key\n"
        "Nguyễn Văn An,Bí thư,p1\nTrần Thị Bình,Phó Bí thư,p2\nLê Văn Cường,Ủy viên,p3\n"
    )
    form = {
        "csrf_token": token,
        "title": "Đợt thử",
        "year": "2025",
        "profile": "nq96-2023",
        "members": "9",
        "summoned": "9",
        "present": "8",
        "place": "",
        "roster_data": base64.b64encode(roster.encode()).decode(),
        "action": "confirm",
    }
    created = client.post("/admin/bodies/A/rounds/new", data=form)
    assert created.status_code == 302, created.get_data(as_text=True)
    round_id = int(created.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    base = f"/admin/rounds/{round_id}"
    token = csrf_token(client.get(base).get_data(as_text=True))
    steps = [
        (f"{base}/exempt", {"person": "p3", "reason": "Đã có thông báo nghỉ hưu"}),
        (f"{base}/restore", {"person": "p3"}),
        (f"{base}/attendance", {"members": "9", "summoned": "9", "present": "9"}),
        (f"{base}/meeting", {"held_on": "2025-06-20", "committee": "Hà Thị Mai (Trưởng ban)"}),
        (f"{base}/committee", {"members": "Hà Thị Mai (Trưởng ban)", "threshold": "1"}),
    ]
    for path, data in steps:
        assert client.post(path, data={"csrf_token": token, **data}).status_code in (200, 302)
    # The committee's only member makes the key on her machine; the organizer uploads it.
    _key_file, public = trustee.new_member(
        client.get(f"{base}/committee.json").get_data(), 1, "mật khẩu của chị Mai", "interactive"
    )
    sent = client.post(
        f"{base}/committee/upload",
        data={"csrf_token": token, "committee_file": (io.BytesIO(public), "public-1.json")},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    for path, data in [(f"{base}/codes", {"count": "2", "fmt": "txt"}), (f"{base}/open", {})]:
        assert client.post(path, data={"csrf_token": token, **data}).status_code in (200, 302)
    paper = "status,1,2,3\nvalid,H,C,L\nvalid,L,L,L\n"
    uploaded = client.post(
        f"{base}/paper/upload",
        data={
            "csrf_token": token,
            "ballots_file": (io.BytesIO(paper.encode()), "p.csv"),
            "issued": "2",
        },
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    for action in ("close", "publish"):
        assert client.post(f"{base}/{action}", data={"csrf_token": token}).status_code == 302
    assert client.get(f"{base}/minutes.pdf").status_code == 200
    assert client.get(f"{base}/ballot.pdf").status_code == 200
    events = _events_after(world, last)
    kinds = [e.kind for e in events]
    for kind in (
        "round_created",
        "meeting_recorded",
        "roster_changed",
        "attendance_changed",
        "codes_issued",
        "round_opened",
        "ballots_imported",
        "round_closed",
        "round_published",
        "report_downloaded",
    ):
        assert kind in kinds
    assert {e.actor for e in events} == {"organizer"}


# ------------------------------------------------------------------------------ documents


def text_of(pdf: bytes) -> str:
    """Return a PDF's text, NFC, with whitespace folded: what a reader sees, not its bytes."""
    reader = PdfReader(io.BytesIO(pdf))
    raw = " ".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", raw)).strip()


# The head of the log printed on a counted round's documents: the log as it stood when the
# document was made (each download is logged, so the head moves between two downloads).
HEAD = re.compile(r"sự kiện số \d+ (?:[0-9a-f]{8} ?){8}")


def without_head(text: str) -> str:
    """Return a document's text with the head of the log it printed blanked out."""
    return HEAD.sub("sự kiện số … …", text)


def _cli_pdf(votes: VotesRunner, tmp_path: Path, *args: object) -> bytes:
    out = tmp_path / "out.pdf"
    done = votes(*args, out)
    assert done.exit_code == 0, done.stderr
    return out.read_bytes()


@pytest.mark.parametrize("kind", ["minutes", "summary", "ballot"])
def test_a_round_document_is_the_same_through_every_door(
    world: World, votes: VotesRunner, tmp_path: Path, kind: str
) -> None:
    round_id = world.ids["closed"]
    by_cli = _cli_pdf(votes, tmp_path, "report", round_id, "--kind", kind, "--out")
    name = "ballot.pdf" if kind == "ballot" else f"{kind}.pdf"
    by_organizer = world.client("organizer").get(f"/admin/rounds/{round_id}/{name}")
    assert by_organizer.status_code == 200
    texts = {without_head(text_of(by_cli)), without_head(text_of(by_organizer.get_data()))}
    if kind != "ballot":  # the auditor pages offer the counted documents
        by_auditor = world.client("auditor").get(f"/audit/rounds/{round_id}/{name}")
        assert by_auditor.status_code == 200
        texts.add(without_head(text_of(by_auditor.get_data())))
    assert len(texts) == 1, "\n".join(texts)
    (text,) = texts
    assert "Nguyễn Văn An" in text
    if kind != "ballot":  # the counted documents carry the anchors (issue 12)
        assert "sự kiện số … …" in text
    if kind == "ballot":
        # The rule for invalid marks of the round's profile: on the paper ballot of every door.
        assert "không hợp lệ" in text


def test_findings_and_history_are_the_same_through_every_door(
    world: World, votes: VotesRunner, tmp_path: Path
) -> None:
    by_cli = _cli_pdf(votes, tmp_path, "findings", "--body", "A", "--pdf")
    by_auditor = world.client("auditor").get("/audit/bodies/A/findings.pdf")
    assert text_of(by_cli) == text_of(by_auditor.get_data())
    history = _cli_pdf(votes, tmp_path, "history", "--body", "A", "--person", "p1", "--pdf")
    with world.sessions() as session:
        person = session.scalar(select(Person).where(Person.person_key == "p1"))
        assert person is not None
        person_id = person.id
    by_page = world.client("auditor").get(f"/audit/persons/{person_id}/history.pdf")
    assert text_of(history) == text_of(by_page.get_data())


def test_downloads_say_their_charset_once(world: World) -> None:
    client = world.client("organizer")
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    codes = client.post(
        f"/admin/rounds/{world.ids['draft']}/codes",
        data={"csrf_token": token, "count": "1", "fmt": "txt"},
    )
    assert codes.headers["Content-Type"] == "text/plain; charset=utf-8"
    csv_file = client.get(f"/admin/rounds/{world.ids['closed']}/results.csv")
    assert csv_file.headers["Content-Type"] == "text/csv; charset=utf-8"
