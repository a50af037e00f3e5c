"""The audit log, the seal, receipts, verification and export bundles — and tampering caught."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import SECRET, VotesRunner
from tests.factories import add_committee, decrypt_round
from votes import audit, operations, rounds
from votes.ballotbox import receipts as stored_receipts
from votes.bundle import export_round, receipt_counted
from votes.models import AuditEvent, Ballot, Credential, Round, SealedBallot
from votes.roster import parse_roster
from votes.seal import public_record
from votes.verify import verify_all, verify_round

ROSTER = (
    "name,position,person_key\n"
    "Người Một,Chủ tịch,p1\nNgười Hai,Phó Chủ tịch,p2\nNgười Ba,Ủy viên,p3\n"
)
ONLINE = ["HHL", "HCL", "CCL", "HHH", "LLL", "HCC"]
PAPER = "status,1,2,3\nvalid,H,,L\nvalid,X,C,L\ninvalid,,,\nvalid,C,C,C\n"


@pytest.fixture
def closed_round(sessions: sessionmaker[Session]) -> tuple[int, list[str]]:
    """A round with online and paper ballots, closed: returns its id and the receipts."""
    with operations.work(sessions, "tester") as work:
        operations.add_body(work, "HDND-T", "Hội đồng nhân dân tỉnh T", "council")
        round_id = operations.create_round(
            work,
            body_code="HDND-T",
            year=2014,
            profile_id="nq35-2012",
            title="Lấy phiếu 2025",
            roster=parse_roster(ROSTER.encode()),
            members=12,
            summoned=12,
            present=11,
        ).id
        add_committee(work.session, round_id)
        operations.open_round(work, round_id)
        codes = operations.issue_codes(work, round_id, 7, SECRET)
        operations.import_paper_ballots(work, round_id, PAPER.encode(), issued=4)
    with sessions() as session:
        receipts = [
            operations.cast_ballot(session, SECRET, code, list(marks), round_id=round_id)
            for code, marks in zip(codes, ONLINE, strict=False)
        ]
    with operations.work(sessions, "tester") as work:
        operations.close_round(work, round_id)
        decrypt_round(work.session, round_id)
    return round_id, receipts


def problems(sessions: sessionmaker[Session], round_id: int) -> list[str]:
    with sessions() as session:
        found = verify_round(session, session.get(Round, round_id)).problems
        return [str(problem) for problem in found]


def test_untouched_round_verifies(sessions: sessionmaker[Session], closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    assert problems(sessions, round_id) == []
    with sessions() as session:
        kinds = [e.kind for e in audit.round_events(session, round_id)]
        assert kinds == [
            "round_created",
            "committee_created",
            "committee_file_received",
            "committee_key_made",
            "round_opened",
            "codes_issued",
            "ballots_imported",
            "voting_closed",
            "committee_file_received",
            "totals_decrypted",
            "round_closed",
        ]
        closing = json.loads(audit.round_events(session, round_id)[-1].details)
        assert closing["collected"] == 10
        assert closing["issued"] == 11
        # The ballots part is the SHA-256 of the canonical CSV of the ballots kept in the
        # clear: the paper ones (the online ones are sealed), computed here independently.
        lines = sorted(["valid,H,,L", "valid,X,C,L", "invalid,,,", "valid,C,C,C"])
        expected = hashlib.sha256(("status,1,2,3\n" + "\n".join(lines) + "\n").encode()).hexdigest()
        assert closing["seal_parts"]["ballots"] == expected
        assert closing["seal"] == documented_seal(session, round_id)


def documented_seal(session: Session, round_id: int) -> str:
    """The seal over the whole round, computed here as docs/AUDIT.md writes it out."""

    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()

    def part(value: object) -> str:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return digest(text.encode("utf-8"))

    round_ = session.get(Round, round_id)
    assert round_ is not None
    box = sorted(
        ",".join([status, *("" if m == "-" else m for m in marks)])
        for status, marks in session.execute(
            select(Ballot.status, Ballot.marks).where(Ballot.round_id == round_id)
        )
    )
    header = ",".join(["status", *(str(n) for n in range(1, len(round_.items) + 1))])
    # A sealed ballot's receipt: BN and the first 8 bytes of its tracker, as a number mod 10^16.
    sealed_box = sorted(
        session.execute(
            select(SealedBallot.tracker, SealedBallot.content).where(
                SealedBallot.round_id == round_id
            )
        ).all()
    )
    numbers = [f"{int.from_bytes(t[:8], 'big') % 10**16:016d}" for t, _ in sealed_box]
    receipts = sorted("BN " + " ".join(n[i : i + 4] for i in range(0, 16, 4)) for n in numbers)
    used = [
        c.used for c in session.scalars(select(Credential).where(Credential.round_id == round_id))
    ]
    parts = {
        "body": part(
            {"code": round_.body.code, "name": round_.body.name, "kind": round_.body.kind}
        ),
        "round": part(
            {
                "id": round_.id,
                "year": round_.year,
                "title": round_.title,
                "scale": round_.scale,
                "profile": {"id": round_.profile_id, "version": round_.profile_version},
                "place": round_.place,
                "held_on": None,
                "followup_of": None,
            }
        ),
        "items": part(
            [
                {
                    "order": i.order,
                    "kind": i.kind,
                    "person_key": i.person.person_key if i.person else None,
                    "name": i.name,
                    "position": i.position,
                }
                for i in round_.items
            ]
        ),
        "exemptions": part([]),
        "counts": part(
            {
                "members": round_.members,
                "summoned": round_.summoned,
                "present": round_.present,
                "paper_issued": round_.paper_issued,
                "issued": round_.issued,
                "collected": round_.collected,
                "codes_issued": len(used),
                "codes_used": sum(used),
            }
        ),
        "receipts": digest("".join(r + "\n" for r in receipts).encode()),
        "ballots": digest(("\n".join([header, *box]) + "\n").encode()),
        # The sealed box: "TRACKER SHA256" a line, sorted; the sealed tally: the library's
        # public record without its ballots (checked by verify_record in test_sealed.py).
        "sealed_box": digest(
            "".join(f"{t.hex()} {digest(c)}\n" for t, c in sealed_box).encode("ascii")
        ),
        "sealed_tally": part(
            {k: v for k, v in (public_record(session, round_) or {}).items() if k != "ballots"}
        ),
    }
    names = (
        "body",
        "round",
        "items",
        "exemptions",
        "counts",
        "receipts",
        "ballots",
        "sealed_box",
        "sealed_tally",
    )
    listing = "phieu-tin-nhiem round seal 1\n" + "".join(f"{n} {parts[n]}\n" for n in names)
    return digest(listing.encode())


def test_casting_writes_no_event(sessions: sessionmaker[Session], closed_round) -> None:  # type: ignore[no-untyped-def]
    _round_id, receipts = closed_round
    with sessions() as session:
        events = session.scalars(select(AuditEvent)).all()
        text = " ".join(e.details for e in events)
        assert len(receipts) == 6
        assert not any(r in text for r in receipts)
        assert [e.kind for e in events].count("round_closed") == 1
        assert not any("cast" in e.kind for e in events)


def tamper(sessions: sessionmaker[Session], statement) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        session.execute(statement)
        session.commit()


def test_changed_mark_is_detected(sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    with sessions() as session:
        victim = session.scalars(select(Ballot).where(Ballot.marks == "CCC")).one()
        victim_id = victim.id
    tamper(sessions, update(Ballot).where(Ballot.id == victim_id).values(marks="CCL"))
    found = problems(sessions, round_id)
    assert any("seal" in p for p in found)
    assert any("item 3" in p for p in found)


def test_deleted_ballot_is_detected(sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    with sessions() as session:
        victim_id = session.scalars(select(Ballot.id).where(Ballot.marks == "CCC")).one()
    tamper(sessions, delete(Ballot).where(Ballot.id == victim_id))
    found = problems(sessions, round_id)
    assert any("seal" in p for p in found)
    assert any("recorded as collected" in p for p in found)


def test_inserted_ballot_is_detected(sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    tamper(
        sessions,
        insert(Ballot).values(round_id=round_id, id=b"x" * 16, status="valid", marks="HHH"),
    )
    found = problems(sessions, round_id)
    assert any("seal" in p for p in found)
    assert any("11 ballots in the box" in p for p in found)


def test_changed_event_is_detected(sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    with sessions() as session:
        opened = session.scalars(select(AuditEvent).where(AuditEvent.kind == "round_opened")).one()
        opened_id = opened.id
    tamper(
        sessions, update(AuditEvent).where(AuditEvent.id == opened_id).values(actor="someone else")
    )
    assert any("was changed" in p for p in problems(sessions, round_id))


def test_deleted_event_is_detected(sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    with sessions() as session:
        codes = session.scalars(select(AuditEvent).where(AuditEvent.kind == "codes_issued")).one()
        codes_id = codes.id
    tamper(sessions, delete(AuditEvent).where(AuditEvent.id == codes_id))
    found = problems(sessions, round_id)
    assert any("is missing" in p for p in found)
    assert any("codes exist but the log shows 0" in p for p in found)


def test_reordered_events_are_detected(sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    fields = ("at", "actor", "kind", "round_id", "details", "prev_hash", "hash")
    with sessions() as session:
        first, second = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.round_id == round_id)
            .order_by(AuditEvent.id)
            .limit(2)
        ).all()
        a = {f: getattr(first, f) for f in fields}
        b = {f: getattr(second, f) for f in fields}
        ids = (first.id, second.id)
    # Swap the two events whole, hashes included: each is intact, but the order changed.
    tamper(sessions, update(AuditEvent).where(AuditEvent.id == ids[0]).values(hash="f" * 64))
    tamper(sessions, update(AuditEvent).where(AuditEvent.id == ids[1]).values(**a))
    tamper(sessions, update(AuditEvent).where(AuditEvent.id == ids[0]).values(**b))
    found = problems(sessions, round_id)
    assert any("does not follow" in p for p in found)


def test_changed_count_is_detected(sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    tamper(sessions, update(Round).where(Round.id == round_id).values(members=20))
    found = problems(sessions, round_id)
    assert any("members" in p for p in found)
    assert any("denominator" in p for p in found)


def test_changed_collected_is_detected(sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    tamper(sessions, update(Round).where(Round.id == round_id).values(collected=9))
    assert any("collected" in p for p in problems(sessions, round_id))


def test_used_code_without_ballot_is_detected(sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    tamper(sessions, update(Credential).where(Credential.round_id == round_id).values(used=True))
    assert any("codes were used" in p for p in problems(sessions, round_id))


def test_receipts_can_be_checked_after_close(sessions, closed_round, votes: VotesRunner) -> None:  # type: ignore[no-untyped-def]
    round_id, receipts = closed_round
    with sessions() as session:
        round_ = session.get(Round, round_id)
        assert all(receipt_counted(session, round_, r) for r in receipts)
        assert all(receipt_counted(session, round_, r.lower().replace("-", " ")) for r in receipts)
        assert not receipt_counted(session, round_, "AAAA-AAAA-AAAA")
        assert set(stored_receipts(session, round_id)) == set(receipts)
    out = votes("receipts", round_id, "--check", receipts[0])
    assert out.exit_code == 0
    assert receipts[0] in out.stdout
    out = votes("receipts", round_id, "--check", "AAAA-AAAA-AAAA")
    assert out.exit_code == 1
    listed = votes("receipts", round_id).stdout.splitlines()
    assert listed == sorted(receipts)


def test_receipts_refused_while_open(sessions: sessionmaker[Session], votes: VotesRunner) -> None:
    with sessions() as session:
        body = rounds.add_body(session, "B", "Đơn vị B")
        round_ = rounds.create_round(
            session,
            body,
            year=2020,
            profile_id="qd262-2014",
            title="Đợt",
            roster=parse_roster(ROSTER.encode()),
        )
        rounds.open_round(session, round_)
        session.commit()
        round_id = round_.id
    out = votes("receipts", round_id)
    assert out.exit_code == 1
    assert "Traceback" not in out.stderr


def test_verify_command_exit_status(votes: VotesRunner, sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    round_id, _ = closed_round
    out = votes("verify", round_id)
    assert out.exit_code == 0, out.stdout + out.stderr
    assert votes("verify", "--all").exit_code == 0
    tamper(sessions, update(Ballot).where(Ballot.marks == "CCC").values(marks="HHH"))
    out = votes("verify", round_id)
    assert out.exit_code == 1
    assert "SAI LỆCH" in out.stdout
    assert votes("verify", "--all").exit_code == 1


def test_bundle_recounts_with_the_standard_library_alone(
    sessions,
    closed_round,
    tmp_path: Path,
    votes: VotesRunner,  # type: ignore[no-untyped-def]
) -> None:
    round_id, receipts = closed_round
    out = votes("export", round_id, "--out", tmp_path / "bundle.zip")
    assert out.exit_code == 0, out.stderr
    with zipfile.ZipFile(tmp_path / "bundle.zip") as archive:
        names = {Path(n).name for n in archive.namelist()}
        archive.extractall(tmp_path / "unpacked")
        results = json.loads(archive.read(f"round-{round_id}/results.json"))
        receipts_txt = archive.read(f"round-{round_id}/receipts.txt").decode().splitlines()
    assert {
        "round.json",
        "profile.toml",
        "ballots.csv",
        "events.jsonl",
        "receipts.txt",
        "results.json",
        "findings.json",
        "verify.py",
        "sealed_record.json",
        "sealed-library.zip",
        "SHA256SUMS",
    } <= names
    assert receipts_txt == sorted(receipts)
    # Item 3: online L,L,L,H,L,C and paper L,L,C (one spoiled ballot): 1 H, 2 C, 6 L.
    assert results["items"][2]["counts"] == {"high": 1, "confidence": 2, "low": 6, "invalid": 0}
    folder = tmp_path / "unpacked" / f"round-{round_id}"
    # A clean interpreter, no site-packages: nothing but the standard library.
    run = subprocess.run(
        [sys.executable, "-I", "-S", str(folder / "verify.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK" in run.stdout
    assert votes("verify", "--bundle", tmp_path / "bundle.zip").exit_code == 0

    # Tamper with the unpacked ballots: the standalone script catches it.
    ballots = folder / "ballots.csv"
    original = ballots.read_text()
    ballots.write_text(original.replace("valid,C,C,C", "valid,H,H,H"))
    run = subprocess.run(
        [sys.executable, "-I", "-S", str(folder / "verify.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "seal" in run.stdout
    assert "SHA256SUMS" in run.stdout
    ballots.write_text(original)
    # The sealed record: a total changed is caught by the library's proofs, shipped inside.
    record_path = folder / "sealed_record.json"
    record = json.loads(record_path.read_text())
    record["totals"][2] = [3, 1, 2]
    record_path.write_text(json.dumps(record))
    run = subprocess.run(
        [sys.executable, "-I", "-S", str(folder / "verify.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 1
    assert "Sealed ballots: totals" in run.stdout


def test_bundle_refused_for_open_round(sessions: sessionmaker[Session]) -> None:
    from votes.errors import WrongState

    with sessions() as session:
        body = rounds.add_body(session, "B", "Đơn vị B")
        round_ = rounds.create_round(
            session,
            body,
            year=2020,
            profile_id="qd262-2014",
            title="Đợt",
            roster=parse_roster(ROSTER.encode()),
        )
        rounds.open_round(session, round_)
        with pytest.raises(WrongState):
            export_round(session, round_)


def test_chain_links_every_event(sessions, closed_round) -> None:  # type: ignore[no-untyped-def]
    with sessions() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert events[0].prev_hash == "0" * 64
        for before, after in itertools.pairwise(events):
            assert after.prev_hash == before.hash
        assert verify_all(session).ok
        # The organizer's, and the committee member's in the tests ("test").
        assert {e.actor for e in events} == {"tester", "test"}
    assert io  # keep the import list honest


def test_backup_is_a_consistent_copy_that_verifies(
    app,
    closed_round,
    tmp_path: Path,
    votes: VotesRunner,  # type: ignore[no-untyped-def]
) -> None:
    """The restore drill: back up, open the copy as the database, verify everything."""
    from tests.conftest import PG_URL

    if PG_URL:
        out = votes("backup", tmp_path / "copy.sqlite3")
        assert out.exit_code == 1
        assert "pg_dump" in out.stderr
        return
    out = votes("backup", tmp_path / "copy.sqlite3")
    assert out.exit_code == 0, out.stderr
    assert votes("backup", tmp_path / "copy.sqlite3").exit_code == 1  # never overwrites
    from votes import create_app

    restored = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'copy.sqlite3'}",
        }
    )
    with restored.extensions["votes.sessions"]() as session:
        report = verify_all(session)
        assert report.ok, report.problems
        assert session.scalar(select(Round.collected)) == 10
    restored.extensions["votes.engine"].dispose()


def test_postgresql_restore_drill(app, closed_round, database_url: str) -> None:  # type: ignore[no-untyped-def]
    """docs/DEPLOY.md §7: pg_dump, pg_restore into a new database, votes verify --all holds."""
    import shutil
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from votes import create_app

    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (the SQLite drill is test_backup_is_a_consistent_copy…)")
    if not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        pytest.skip("pg_dump / pg_restore are not installed")
    url = make_url(database_url)
    dump = subprocess.run(
        [
            "pg_dump",
            "--format=custom",
            "-h",
            url.host or "127.0.0.1",
            "-p",
            str(url.port or 5432),
            "-U",
            url.username or "postgres",
            url.database or "",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout
    target = f"votes_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{target}"'))
    try:
        subprocess.run(
            [
                "pg_restore",
                "-h",
                url.host or "127.0.0.1",
                "-p",
                str(url.port or 5432),
                "-U",
                url.username or "postgres",
                "-d",
                target,
            ],
            input=dump,
            capture_output=True,
            check=True,
            timeout=60,
        )
        restored = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": SECRET,
                "DATABASE_URL": url.set(database=target).render_as_string(False),
            }
        )
        with restored.extensions["votes.sessions"]() as session:
            report = verify_all(session)
            assert report.ok, report.problems
            assert session.scalar(select(Round.collected)) == 10
        restored.extensions["votes.engine"].dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)'))
        admin.dispose()
