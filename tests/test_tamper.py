"""Tampering an insider with SQL access could do, and what catches each (issue 12, "Why" 1).

Every change listed in the issue made `votes verify`, `verify --all`, `verify --bundle` and the
bundle's verify.py say "Everything holds". Now:

- what the seal over the whole round covers (item names and persons, the round's year, title
  and place, the body's name, the receipts) is caught by `votes verify` alone, which names
  the part of the seal that changed;
- what rewrites the database whole — events cut off the end with the state set back, marks
  changed with the seal, counts and findings recomputed and the log hashed again, a round
  deleted and the log renumbered — agrees with itself, so nothing inside the database can
  catch it: it is caught against the seal and the head of the log printed on paper (the
  minutes, a results page), with --expect-seal / --expect-head. The tests read those values
  off the printed PDF and the published page, as a person would.
- a bundle whose files were edited and whose SHA256SUMS were recomputed is caught by its
  verify.py against the same printed values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import SECRET, VotesRunner
from tests.factories import add_committee, decrypt_round
from votes import audit, operations
from votes.meeting import parse_committee
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
    SealedBallot,
)
from votes.recount import content_digest, event_hash_v2, parse_head
from votes.roster import parse_roster
from votes.rounds import closing_record

ROSTER = (
    "name,position,person_key,kind,exempt_reason\n"
    "Người Một,Chủ tịch,p1,,\nNgười Hai,Phó Chủ tịch,p2,,\nNgười Ba,Ủy viên,p3,,\n"
    "Người Bốn,Ủy viên,p4,,Đã có thông báo nghỉ hưu\n"
)
# Person 3 is low on 5 of 9 collected: more than one half, a finding (nq35: D = members = 9).
# Online ballots are sealed; the tampering with marks below is done on the paper ballots,
# the only ones kept in the clear (test_sealed.py tampers with the sealed box).
ONLINE = ["HCL", "CCL", "HHH", "LHL"]
PAPER = "status,1,2,3\nvalid,H,,L\nvalid,C,C,H\ninvalid,,,\nvalid,H,H,L\nvalid,H,C,C\n"


def _round(sessions: sessionmaker[Session], body: str, *, publish: bool = True) -> int:
    """A round with online and paper ballots, an exemption, closed (and published)."""
    with operations.work(sessions, "tester") as work:
        if body == "HDND-T":
            operations.add_body(work, body, "Hội đồng nhân dân tỉnh T", "council")
        round_id = operations.create_round(
            work,
            body_code="HDND-T",
            # nq35-2012 (annual; in force 2013–2014): one poll a year, D = members.
            year=2013 if body == "HDND-T" else 2014,
            profile_id="nq35-2012",
            title=f"Lấy phiếu ({body})",
            roster=parse_roster(ROSTER.encode()),
            members=9,
            summoned=9,
            present=9,
            place="Hội trường tỉnh",
        ).id
        operations.record_meeting(
            work,
            round_id,
            held_on=dt.date(2013 if body == "HDND-T" else 2014, 12, 5),
            committee=parse_committee("Người Năm (Trưởng ban); Người Sáu"),
        )
        add_committee(work.session, round_id)
        operations.open_round(work, round_id)
        codes = operations.issue_codes(work, round_id, 4, SECRET)
        operations.import_paper_ballots(work, round_id, PAPER.encode(), issued=5)
    with sessions() as session:
        for code, marks in zip(codes, ONLINE, strict=True):
            operations.cast_ballot(session, SECRET, code, list(marks), round_id=round_id)
    with operations.work(sessions, "tester") as work:
        operations.close_round(work, round_id)
        decrypt_round(work.session, round_id)
    if publish:
        with operations.work(sessions, "tester") as work:
            operations.publish_round(work, round_id)
    return round_id


@pytest.fixture
def round_id(sessions: sessionmaker[Session]) -> int:
    return _round(sessions, "HDND-T")


# ------------------------------------------------------------------------------ paper


def printed_minutes(votes: VotesRunner, round_id: int, folder: Path) -> tuple[str, str]:
    """Print the minutes, then read the seal and the head off the PDF as a person would."""
    path = folder / f"minutes-{round_id}.pdf"
    out = votes("report", round_id, "--kind", "minutes", "--out", path)
    assert out.exit_code == 0, out.stderr
    page_text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    groups = re.findall(r"\b[0-9a-f]{8}(?: [0-9a-f]{8}){3}\b", page_text)
    # The seal first, the head of the log last; between them the online box's digest, when
    # the round has sealed online ballots.
    assert len(groups) in (4, 6), page_text
    seal = "".join(groups[:2]).replace(" ", "")
    head_hash = "".join(groups[-2:]).replace(" ", "")
    number = re.search(r"sự kiện số (\d+)", page_text)
    assert number
    return seal, f"{number.group(1)}:{head_hash}"


def published_head(app: Any, round_id: int) -> str:
    """Read the head of the log off the published results page."""
    html = app.test_client().get(f"/r/{round_id}").get_data(as_text=True)
    found = re.search(r'data-testid="head">(.*?)</code>', html)
    assert found, "the published page shows no head of the log"
    return found.group(1).replace("<wbr>", "")


def verify(votes: VotesRunner, *args: object) -> tuple[int, str]:
    out = votes("verify", *args)
    return out.exit_code, out.stdout + out.stderr


def holds(votes: VotesRunner, *args: object) -> None:
    code, output = verify(votes, *args)
    assert code == 0, output


def caught(votes: VotesRunner, *args: object, saying: str) -> str:
    code, output = verify(votes, *args)
    assert code == 1, output
    assert saying in output, output
    return output


def tamper(sessions: sessionmaker[Session], *statements: Any) -> None:
    with sessions() as session:
        for statement in statements:
            session.execute(statement)
        session.commit()


# ------------------------------------------------------------------------------ caught alone


def test_swapped_item_names_are_caught(
    sessions: sessionmaker[Session], votes: VotesRunner, round_id: int
) -> None:
    """The finding of person 3 would move to person 1: the items part of the seal changed."""
    with sessions() as session:
        items = {i.order: i.id for i in session.scalars(select(BallotItem))}
    tamper(
        sessions,
        update(BallotItem).where(BallotItem.id == items[1]).values(name="Người Ba"),
        update(BallotItem).where(BallotItem.id == items[3]).values(name="Người Một"),
    )
    output = caught(votes, round_id, saying="danh sách trên phiếu")
    assert "(phần niêm phong items)" in output
    caught(votes, "--all", saying="items")


def test_swapped_persons_are_caught(
    sessions: sessionmaker[Session], votes: VotesRunner, round_id: int
) -> None:
    with sessions() as session:
        items = {i.order: (i.id, i.person_id) for i in session.scalars(select(BallotItem))}
        body_id = session.scalars(select(Body.id)).one()
        spare = Person(body_id=body_id, person_key="spare", name="Spare")
        session.add(spare)
        session.commit()
        spare_id = spare.id
    (one, p1), (two, p2) = items[1], items[2]
    tamper(
        sessions,
        update(BallotItem).where(BallotItem.id == one).values(person_id=spare_id),
        update(BallotItem).where(BallotItem.id == two).values(person_id=p1),
        update(BallotItem).where(BallotItem.id == one).values(person_id=p2),
        delete(Person).where(Person.id == spare_id),
    )
    caught(votes, round_id, saying="(phần niêm phong items)")


@pytest.mark.parametrize(
    ("model", "values", "part"),
    [
        (Round, {"year": 2024}, "round"),
        (Round, {"title": "Lấy phiếu khác"}, "round"),
        (Round, {"place": "Nơi khác"}, "round"),
        (Body, {"name": "Hội đồng nhân dân tỉnh khác"}, "body"),
        (Exemption, {"reason": "Lý do khác"}, "exemptions"),
    ],
)
def test_changed_round_details_are_caught(
    sessions: sessionmaker[Session],
    votes: VotesRunner,
    round_id: int,
    model: Any,
    values: dict[str, Any],
    part: str,
) -> None:
    tamper(sessions, update(model).values(**values))
    caught(votes, round_id, saying=f"(phần niêm phong {part})")


def test_deleted_receipts_are_caught(
    sessions: sessionmaker[Session], votes: VotesRunner, round_id: int
) -> None:
    # A sealed ballot's receipt is its tracker's: deleting the sealed ballots deletes them.
    tamper(sessions, delete(SealedBallot))
    output = caught(votes, round_id, saying="4 biên nhận đã bị xóa")
    assert "(phần niêm phong receipts)" in output


def test_an_invented_receipt_is_caught(
    sessions: sessionmaker[Session], votes: VotesRunner, round_id: int
) -> None:
    tamper(sessions, Receipt.__table__.insert().values(round_id=round_id, receipt="ACDE-FGHJ-KMNP"))
    output = caught(votes, round_id, saying="1 biên nhận không ứng với lượt bỏ phiếu nào")
    assert "(phần niêm phong receipts)" in output


def test_receipts_are_accounted_while_the_round_is_open(
    sessions: sessionmaker[Session], votes: VotesRunner
) -> None:
    """Before close there is no seal yet: online ballots = receipts = codes used still holds."""
    with operations.work(sessions, "tester") as work:
        operations.add_body(work, "HDND-O", "HĐND O", "council")
        round_id = operations.create_round(
            work,
            body_code="HDND-O",
            year=2025,
            profile_id="nq96-2023",
            title="Đợt mở",
            roster=parse_roster(ROSTER.encode()),
            members=9,
        ).id
        add_committee(work.session, round_id)
        operations.open_round(work, round_id)
        codes = operations.issue_codes(work, round_id, 2, SECRET)
    with sessions() as session:
        operations.cast_ballot(session, SECRET, codes[0], ["H", "C", "L"], round_id=round_id)
    holds(votes, round_id)
    tamper(sessions, delete(SealedBallot))
    caught(votes, round_id, saying="1 biên nhận đã bị xóa")


# ------------------------------------------------------------------------------ anchors


def test_events_cut_off_the_end_are_caught_only_against_a_later_head(
    app: Any, sessions: sessionmaker[Session], votes: VotesRunner, tmp_path: Path
) -> None:
    """The last two events (the minutes' download and the publication) deleted and the round
    set back to closed: consistent in itself."""
    round_id = _round(sessions, "HDND-T", publish=False)
    seal, head_at_minutes = printed_minutes(votes, round_id, tmp_path)
    assert votes("round", "publish", round_id).exit_code == 0
    head_published = published_head(app, round_id)
    holds(votes, round_id, "--expect-seal", seal, "--expect-head", head_published)
    with sessions() as session:
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(2)).all()
        assert [e.kind for e in last] == ["round_published", "report_downloaded"]
    tamper(
        sessions,
        delete(AuditEvent).where(AuditEvent.kind == "round_published"),
        delete(AuditEvent).where(AuditEvent.id == last[1].id),
        update(Round).where(Round.id == round_id).values(status="closed"),
    )
    # Inside the database nothing is wrong: that is the point of the anchors.
    holds(votes, round_id)
    holds(votes, "--all")
    # The head printed on the minutes came before the cut: it still holds, as it should.
    holds(votes, round_id, "--expect-seal", seal, "--expect-head", head_at_minutes)
    # The head shown on the published page came after it: the cut is caught.
    caught(votes, round_id, "--expect-head", head_published, saying="không có mã đầu nhật ký")
    caught(votes, "--all", "--expect-head", head_published.split(":")[1], saying="bị cắt bớt")


def _rehash_from(sessions: sessionmaker[Session], first: int) -> None:
    """Hash the log again from an event on, as an insider who knows the format would."""
    with sessions() as session:
        previous = session.scalar(select(AuditEvent.hash).where(AuditEvent.id == first - 1))
        previous = previous or "0" * 64
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.id >= first).order_by(AuditEvent.id)
        ).all()
        for event in events:
            content = audit.content_of(event)
            event.prev_hash = previous
            event.hash = previous = event_hash_v2(event.id, previous, content)
        for event in events:
            session.execute(
                update(AuditEvent)
                .where(AuditEvent.id == event.id)
                .values(prev_hash=event.prev_hash, hash=event.hash)
            )
        session.commit()


def test_marks_changed_and_everything_recomputed_is_caught_against_paper(
    sessions: sessionmaker[Session], votes: VotesRunner, round_id: int, tmp_path: Path
) -> None:
    """Six marks changed; the seal, counts and findings of the close event recomputed; the log
    hashed again from there on. Only the seal and the head printed on the minutes catch it."""
    seal, head = printed_minutes(votes, round_id, tmp_path)
    tamper(
        sessions,
        update(Ballot).where(Ballot.marks.in_(["HHL", "HCL", "CCL", "LHL"])).values(marks="HHH"),
    )
    with sessions() as session:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        close = session.scalars(select(AuditEvent).where(AuditEvent.kind == "round_closed")).one()
        close.details = json.dumps(closing_record(session, round_), sort_keys=True)
        session.commit()
        close_id = close.id
    _rehash_from(sessions, close_id)
    holds(votes, round_id)  # consistent in itself: the findings moved, the seal was redone
    holds(votes, "--all")
    caught(votes, round_id, "--expect-seal", seal, saying="trên bản giấy không phải")
    caught(votes, round_id, "--expect-head", head, saying="không có mã đầu nhật ký")


def test_a_deleted_round_with_the_log_renumbered_is_caught_against_a_head(
    sessions: sessionmaker[Session], votes: VotesRunner, tmp_path: Path
) -> None:
    """A whole round and its events deleted, the later events renumbered and hashed again."""
    first = _round(sessions, "HDND-T")
    second = _round(sessions, "HDND-T2")
    _seal, head = printed_minutes(votes, second, tmp_path)
    holds(votes, "--all", "--expect-head", head)
    with sessions() as session:
        gone = [
            e.id for e in session.scalars(select(AuditEvent).where(AuditEvent.round_id == first))
        ]
    tamper(
        sessions,
        delete(AuditEvent).where(AuditEvent.round_id == first),
        delete(Ballot).where(Ballot.round_id == first),
        delete(Receipt).where(Receipt.round_id == first),
        delete(Credential).where(Credential.round_id == first),
        delete(BallotItem).where(BallotItem.round_id == first),
        delete(Exemption).where(Exemption.round_id == first),
        delete(Round).where(Round.id == first),
    )
    with sessions() as session:  # close the gaps: every later event moves down
        for new_id, event in enumerate(
            session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all(), start=1
        ):
            session.execute(
                update(AuditEvent).where(AuditEvent.id == event.id).values(id=new_id + 100_000)
            )
        session.execute(text("UPDATE audit_event SET id = id - 100000"))
        session.commit()
    _rehash_from(sessions, 1)
    assert gone
    holds(votes, "--all")  # nothing missing, nothing broken: the deletion left no trace inside
    caught(votes, "--all", "--expect-head", head, saying="không có mã đầu nhật ký")
    caught(votes, second, "--expect-head", head.split(":")[1], saying="bị viết lại")


# ------------------------------------------------------------------------------ bundles


def _export(votes: VotesRunner, round_id: int, folder: Path) -> Path:
    path = folder / f"round-{round_id}.zip"
    out = votes("export", round_id, "--out", path)
    assert out.exit_code == 0, out.stderr
    with zipfile.ZipFile(path) as archive:
        archive.extractall(folder / "unpacked")
    return folder / "unpacked" / f"round-{round_id}"


def _run(folder: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """Run the bundle's own verify.py with nothing but the standard library."""
    return subprocess.run(
        [sys.executable, "-I", "-S", str(folder / "verify.py"), *options],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )


def _edit_bundle(folder: Path) -> None:
    """Rewrite the ballots so that every item keeps its totals (results.json and the counts at
    close stay true) but who marked whom together changes; then redo the seal, the events,
    the log's links and SHA256SUMS, as an insider with verify.py's source would."""
    ballots = (folder / "ballots.csv").read_text().splitlines()
    header, rows = ballots[0], ballots[1:]
    a, b = rows.index("valid,H,H,L"), rows.index("valid,H,C,C")
    rows[a], rows[b] = "valid,H,H,C", "valid,H,C,L"  # item 3: L and C change places
    (folder / "ballots.csv").write_text("\n".join([header, *sorted(rows)]) + "\n")
    sys.path.insert(0, str(folder))
    try:
        import verify as bundled  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("verify", None)
    definition = json.loads((folder / "round.json").read_text())
    parts = bundled.seal_parts(
        definition,
        (folder / "receipts.txt").read_bytes(),
        (folder / "ballots.csv").read_bytes(),
        bundled.record_parts(json.loads((folder / "sealed_record.json").read_text())),
    )
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    chain = [json.loads(line) for line in (folder / "chain.jsonl").read_text().splitlines()]
    for event in events:
        if event["kind"] == "round_closed":
            event["details"]["seal_parts"] = parts
            event["details"]["seal"] = bundled.round_seal(parts)
    own = {event["id"]: event for event in events}
    previous = chain[0]["prev_hash"]
    for link in chain:
        event = own.get(link["id"])
        if event is not None:
            fields = (event["at"], event["actor"], event["kind"], event["round"], event["details"])
            link["content"] = content_digest(*fields)
            event["prev_hash"] = previous
        link["prev_hash"] = previous
        link["hash"] = previous = event_hash_v2(link["id"], previous, link["content"])
        if event is not None:
            event["hash"] = link["hash"]
    lines = [json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events]
    (folder / "events.jsonl").write_text("".join(lines))
    lines = [json.dumps(c, ensure_ascii=False, sort_keys=True) + "\n" for c in chain]
    (folder / "chain.jsonl").write_text("".join(lines))
    results = json.loads((folder / "results.json").read_text())
    results["seal"], results["seal_parts"] = bundled.round_seal(parts), parts
    (folder / "results.json").write_text(json.dumps(results, ensure_ascii=False))
    anchors = {"seal": results["seal"], "seal_parts": parts, "head": chain[-1]}
    (folder / "anchors.json").write_text(json.dumps(anchors))
    sums = "".join(
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
        for path in sorted(folder.iterdir())
        if path.name != "SHA256SUMS" and path.is_file()
    )
    (folder / "SHA256SUMS").write_text(sums)


def test_an_edited_bundle_with_new_sums_is_caught_against_paper(
    votes: VotesRunner, round_id: int, tmp_path: Path
) -> None:
    seal, head = printed_minutes(votes, round_id, tmp_path)
    folder = _export(votes, round_id, tmp_path)
    run = _run(folder, "--expect-seal", seal, "--expect-head", head)
    assert run.returncode == 0, run.stdout
    _edit_bundle(folder)
    run = _run(folder)
    assert run.returncode == 0, run.stdout  # it agrees with itself: the point of the anchors
    assert "NOTE: without --expect-seal" in run.stdout
    run = _run(folder, "--expect-seal", seal)
    assert run.returncode == 1
    assert "read off paper is not this round's seal" in run.stdout
    run = _run(folder, "--expect-head", head)
    assert run.returncode == 1
    assert f"The head {head} is not in this bundle's log" in run.stdout
    out = votes("verify", "--bundle", folder, "--expect-seal", seal, "--expect-head", head)
    assert out.exit_code == 1
    assert "trên bản giấy không phải mã niêm phong" in out.stdout


def test_a_bundle_checks_its_parts_receipts_and_log(
    votes: VotesRunner, round_id: int, tmp_path: Path
) -> None:
    """Edits that leave SHA256SUMS stale, or the seal alone, are named without anchors."""
    seal, head = printed_minutes(votes, round_id, tmp_path)
    folder = _export(votes, round_id, tmp_path)
    assert parse_head(head)[0] is not None
    anchors = json.loads((folder / "anchors.json").read_text())
    assert anchors["seal"] == seal
    run = _run(folder, "--expect-seal", "not a seal", "--expect-head", "57:xyz")
    assert run.returncode == 1
    assert "Not a seal" in run.stdout
    assert "Not a head of the log" in run.stdout
    out = votes("verify", round_id, "--expect-head", "57:xyz")
    assert out.exit_code == 1
    assert "Không phải mã đầu nhật ký" in out.stderr
    receipts = folder / "receipts.txt"
    original = receipts.read_text()
    receipts.write_text(original + "ACDE-FGHJ-KMNP\n")
    run = _run(folder)
    assert run.returncode == 1
    assert "receipts.txt does not match its SHA-256" in run.stdout
    assert "Seal part receipts" in run.stdout
    assert "5 receipts, 4 online ballots" in run.stdout
    receipts.write_text(original)
    chain = folder / "chain.jsonl"
    links = chain.read_text().splitlines()
    chain.write_text("\n".join(links[:1] + links[2:]) + "\n")  # an event left out
    run = _run(folder)
    assert run.returncode == 1
    assert "the log from this round's first event on does not hold" in run.stdout


def test_a_meeting_recorded_after_the_close_reseals_and_an_edit_after_it_is_caught(
    sessions: sessionmaker[Session], votes: VotesRunner
) -> None:
    """The meeting may be recorded until publication: it re-seals the round's details."""
    closed = _round(sessions, "HDND-T", publish=False)
    with operations.work(sessions, "tester") as work:
        operations.record_meeting(
            work,
            closed,
            held_on=dt.date(2013, 12, 6),
            committee=parse_committee("Người Năm (Trưởng ban); Người Bảy"),
            place="Hội trường mới",
        )
    done = votes("verify", closed)
    assert done.exit_code == 0, done.stdout + done.stderr
    tamper(sessions, update(Round).values(place="Nơi khác"))
    caught(votes, closed, saying="(phần niêm phong round)")
