"""The attack of issue 13, repeated: read the engine's write-ahead log after casting.

Before sealing, a database administrator reading PostgreSQL's WAL (with `pg_walinspect`, or the
raw files under `pg_wal`) rebuilt every cast: code → marks. Here ballots are cast through the web
on a round of twelve persons, each with its own pattern of marks, and the WAL written meanwhile
is searched for those patterns, in every form a stored ballot would take (the packed marks, the
paper CSV's cells). None is there; the sealed ballots' ciphertexts are. A paper ballot imported
in the same stretch of WAL, with a pattern of its own, *is* found by the same search: the search
can see a plaintext ballot when one exists.

On SQLite the same is done with the `-wal` file and the database file itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import add_committee, opened_ballots, paper_csv, work
from tests.web_fixtures import csrf_token, open_ballot
from votes import operations
from votes.models import SealedBallot
from votes.roster import RosterEntry

SECRET = "test-secret-key-0123456789abcdef"
ITEMS = 12
# One pattern per voter, twelve marks each: any of them found in the log would be a ballot read.
CAST = ["HCLLCHHCLLCH", "LLLHHHCCCLHC", "CHCHCHLLHHCC", "HHHHLLLLCCCC"]
# The paper ballot of the control: typed in the clear, it must be found.
PAPER = "LCHCLHLCHCLH"


def _round(sessions: sessionmaker[Session]) -> tuple[int, list[str]]:
    with sessions() as session:
        task = work(session)
        operations.add_body(task, "HDND-W", "Hội đồng nhân dân W", "council")
        round_ = operations.create_round(
            task,
            body_code="HDND-W",
            year=2014,
            profile_id="nq35-2012",
            title="Lấy phiếu tín nhiệm (WAL)",
            roster=[
                RosterEntry(line=n + 2, name=f"Người số {n + 1}", position="Ủy viên")
                for n in range(ITEMS)
            ],
            members=10,
            summoned=10,
            present=10,
        )
        add_committee(session, round_.id)
        codes = operations.issue_codes(task, round_.id, len(CAST), SECRET)
        operations.open_round(task, round_.id)
        session.commit()
        return round_.id, codes


def _cast_on_the_web(app: Flask, code: str, marks: str) -> None:
    client = app.test_client()
    html = open_ballot(client, code).get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "code": code, "action": "cast"}
    form.update({f"item_{n + 1}": mark for n, mark in enumerate(marks)})
    done = client.post("/ballot", data=form)
    assert done.status_code == 200, done.get_data(as_text=True)[:500]
    assert "BN " in done.get_data(as_text=True)


def _forms(marks: str) -> list[bytes]:
    """Every form a stored plaintext ballot would take: packed, CSV cells, UTF-16."""
    return [
        marks.encode("ascii"),
        ",".join(marks).encode("ascii"),
        marks.encode("utf-16-le"),
    ]


def _found(haystack: bytes, marks: str) -> bool:
    return any(form in haystack for form in _forms(marks))


def _attack(app: Flask, sessions: sessionmaker[Session], read_log: object) -> None:
    """Cast, import the control paper ballot, then search what `read_log()` returns."""
    round_id, codes = _round(sessions)
    for code, marks in zip(codes, CAST, strict=True):
        _cast_on_the_web(app, code, marks)
    with sessions() as session:
        operations.import_paper_ballots(work(session), round_id, paper_csv([PAPER]), issued=1)
        session.commit()
        # The cast ballots are what the voters chose (the test holds the committee's key).
        assert opened_ballots(session, round_id) == sorted(CAST)
        contents = list(
            session.scalars(select(SealedBallot.content).where(SealedBallot.round_id == round_id))
        )
    log = read_log()  # type: ignore[operator]
    assert isinstance(log, bytes)
    assert len(log) > 0
    # The control: the paper ballot, stored in the clear, is there for anyone to read.
    assert _found(log, PAPER), "the search cannot even find the paper ballot"
    # No cast ballot, in any form.
    leaked = [marks for marks in CAST if _found(log, marks)]
    assert leaked == []
    # What the log holds of the online ballots is their ciphertexts (at least a part of each:
    # a large row may be compressed or split by the engine).
    assert all(content[6:70] in log for content in contents)


def test_the_postgresql_wal_holds_no_choice(app: Flask, sessions: sessionmaker[Session]) -> None:
    """pg_walinspect's view of every record written while casting, and the raw pg_wal files."""
    engine = app.extensions["votes.engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's WAL (SQLite's -wal file: the test below)")
    with engine.connect() as connection:
        available = connection.scalar(
            text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_walinspect'")
        )
        if not available:
            if os.environ.get("CI"):
                pytest.fail("pg_walinspect is missing on the CI's PostgreSQL")
            pytest.skip("pg_walinspect is not installed with this PostgreSQL")
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pg_walinspect"))
        connection.commit()
        start = connection.scalar(text("SELECT pg_current_wal_lsn()"))
        data_directory = connection.scalar(text("SHOW data_directory"))

    def read_log() -> bytes:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_switch_wal()"))
            end = connection.scalar(text("SELECT pg_current_wal_lsn()"))
            blocks = []
            if connection.dialect.server_version_info >= (16,):
                # PostgreSQL 16 shows the data of every block a record touched.
                blocks = connection.execute(
                    text(
                        "SELECT block_data, block_fpi_data FROM pg_get_wal_block_info("
                        "CAST(:start AS pg_lsn), CAST(:end AS pg_lsn))"
                    ),
                    {"start": start, "end": end},
                ).all()
            records = connection.execute(
                text(
                    "SELECT description FROM pg_get_wal_records_info("
                    "CAST(:start AS pg_lsn), CAST(:end AS pg_lsn))"
                ),
                {"start": start, "end": end},
            ).all()
            files = connection.execute(
                text(
                    "SELECT name FROM pg_ls_waldir() "
                    "WHERE name >= pg_walfile_name(CAST(:start AS pg_lsn)) "
                    "AND name <= pg_walfile_name(CAST(:end AS pg_lsn)) ORDER BY name"
                ),
                {"start": start, "end": end},
            ).all()
        seen = b"".join(bytes(a or b"") + bytes(b or b"") for a, b in blocks)
        seen += "\n".join(r.description or "" for r in records).encode()
        # The raw segment files, as a reader of the disk (or of an archive) has them.
        wal = Path(data_directory) / "pg_wal"
        for (name,) in files:
            path = wal / name
            if path.exists() and os.access(path, os.R_OK):
                seen += path.read_bytes()
        return seen

    _attack(app, sessions, read_log)


def test_the_sqlite_wal_and_file_hold_no_choice(
    app: Flask, sessions: sessionmaker[Session]
) -> None:
    """The -wal file (before any checkpoint) and the database file itself."""
    engine = app.extensions["votes.engine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's -wal file (PostgreSQL's WAL: the test above)")
    database = Path(engine.url.database)

    def read_log() -> bytes:
        wal = database.with_name(database.name + "-wal")
        return (wal.read_bytes() if wal.exists() else b"") + database.read_bytes()

    _attack(app, sessions, read_log)
