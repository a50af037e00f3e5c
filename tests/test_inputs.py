"""Every input bounded on every door: numbers, lengths, characters, file names, CSV cells, URLs.

Issue 12, "Why" 8: each of these ended in HTTP 500 or "Unexpected error" (or a forged file
name, or a formula run by a spreadsheet) instead of a refusal that says what to change.
Each runs on SQLite and, with VOTES_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from tests import web_fixtures
from tests.conftest import PG_URL, VotesRunner
from tests.factories import decrypt_round
from tests.web_fixtures import World, csrf_token
from votes import operations
from votes.db import make_engine
from votes.errors import InvalidInput, ProfileError
from votes.limits import COUNT_MAX, LENGTHS, file_name_part, spreadsheet_safe
from votes.migrate import upgrade
from votes.models import Body, Round
from votes.profiles import parse_profile
from votes.roster import parse_roster

world = web_fixtures.world  # the fixture, under its own name

# What PostgreSQL's `integer` cannot hold, and what SQLite's driver cannot convert.
HUGE = (3_000_000_000, 99_999_999_999_999_999_999)
ROSTER = "name,position,person_key\nNguyễn Văn An,Bí thư,p1\nTrần Thị Bình,Phó Bí thư,p2\n"


def _roster_file(tmp_path: Path, text_: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text_, encoding="utf-8")
    return path


def _create(votes: VotesRunner, roster: Path, **options: object) -> object:
    args: dict[str, object] = {
        "--body": "B1",
        "--year": 2025,
        "--profile": "tn-16kh-2012",
        "--title": "Lấy phiếu",
        "--members": 10,
        "--roster": roster,
        **options,
    }
    flat = [str(v) for pair in args.items() for v in pair]
    return votes("round", "create", *flat)


def _no_crash(out) -> None:  # type: ignore[no-untyped-def]
    assert out.exit_code == 1, out.stdout + out.stderr
    assert "Unexpected error" not in out.stderr
    assert "Lỗi bất ngờ" not in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("huge", HUGE)
def test_huge_numbers_are_refused_by_the_command_line(
    votes: VotesRunner, tmp_path: Path, huge: int
) -> None:
    assert votes("body", "add", "B1", "Đảng bộ B1").exit_code == 0
    roster = _roster_file(tmp_path, ROSTER)
    out = _create(votes, roster, **{"--members": huge})
    _no_crash(out)
    assert "quá lớn" in out.stderr
    out = _create(votes, roster)
    assert out.exit_code == 0, out.stderr
    round_id = out.last_line  # type: ignore[attr-defined]
    for option in ("--members", "--summoned", "--present"):
        _no_crash(votes("round", "attendance", round_id, option, huge))
    assert votes("round", "open", round_id).exit_code == 0
    ballots = _roster_file(tmp_path, "status,1,2\nvalid,H,C\n", "ballots.csv")
    _no_crash(votes("ballots", "import", round_id, ballots, "--issued", huge))
    for command in (("round", "close"), ("verify",), ("receipts",), ("export",)):
        out = votes(*command, huge, *(("--out", tmp_path / "x.zip") if "export" in command else ()))
        _no_crash(out)
    assert votes("log", "--round", huge).exit_code == 2  # a usage error, not a crash


@pytest.mark.parametrize("huge", HUGE)
def test_huge_numbers_are_refused_by_the_core(sessions: sessionmaker[Session], huge: int) -> None:
    with operations.work(sessions, "tester") as work:
        operations.add_body(work, "B1", "Đảng bộ B1")
        round_id = operations.create_round(
            work,
            body_code="B1",
            year=2025,
            profile_id="tn-16kh-2012",
            title="Lấy phiếu",
            roster=parse_roster(ROSTER.encode()),
            members=10,
        ).id
    for figure in ("members", "summoned", "present"):
        with (
            pytest.raises(InvalidInput, match="too large"),
            operations.work(sessions, "tester") as work,
        ):
            operations.record_attendance(work, round_id, **{figure: huge})
    with pytest.raises(InvalidInput), operations.work(sessions, "tester") as work:
        operations.issue_codes(work, round_id, huge, "secret-0123456789")
    with pytest.raises(ProfileError):
        parse_profile(
            (Path(__file__).parent.parent / "votes/profiles/qd262-2014.toml")
            .read_text(encoding="utf-8")
            .replace("version = 1", f"version = {huge}")
        )


@pytest.mark.parametrize("huge", HUGE)
def test_huge_numbers_in_forms_and_addresses_are_refused(world: World, huge: int) -> None:
    client = world.client("organizer")
    page = client.get(f"/admin/rounds/{world.ids['open']}").get_data(as_text=True)
    response = client.post(
        f"/admin/rounds/{world.ids['open']}/attendance",
        data={"csrf_token": csrf_token(page), "members": str(huge), "summoned": "10"},
    )
    assert response.status_code == 302
    with world.sessions() as session:
        assert session.get(Round, world.ids["open"]).members == 10  # type: ignore[union-attr]
    for path in (
        f"/admin/rounds/{huge}",
        f"/admin/rounds/{huge}/results",
        f"/audit/rounds/{huge}",
        f"/r/{huge}",
        f"/api/v1/rounds/{huge}/results",
        f"/admin/rounds/{world.ids['open']}/paper/{huge}",
    ):
        assert client.get(path).status_code == 404, path


def test_long_texts_and_control_characters_are_refused(votes: VotesRunner, tmp_path: Path) -> None:
    assert votes("body", "add", "B1", "Đảng bộ B1").exit_code == 0
    cases = {
        "400 characters": "x" * 400 + ",Bí thư,p1\n",
        "NUL": "Nguyễn\x00 Văn An,Bí thư,p1\n",
        "right-to-left override": "Nguyễn \u202eVăn An,Bí thư,p1\n",
        "zero-width space": "Nguyễn\u200bVăn An,Bí thư,p1\n",
        "escape": "Nguyễn Văn An,Bí\x1b[31m thư,p1\n",
    }
    for what, line in cases.items():
        roster = _roster_file(tmp_path, "name,position,person_key\n" + line)
        out = _create(votes, roster)
        _no_crash(out)
        assert "Dòng 2" in out.stderr, what
    roster = _roster_file(tmp_path, ROSTER)
    out = _create(votes, roster, **{"--title": "Đ" * 600})
    _no_crash(out)
    assert "500" in out.stderr
    _no_crash(_create(votes, roster, **{"--place": "Hội trường\x07"}))
    _no_crash(votes("body", "add", 'B"2', "Đảng bộ"))
    _no_crash(votes("body", "add", "B3", "Đ" * 400))
    _no_crash(votes("round", "exempt", 1, "--person", "p\x01", "--reason", "Nghỉ hưu"))


def test_a_nul_byte_anywhere_in_a_request_is_a_refusal(world: World) -> None:
    client = world.client("organizer")
    assert client.get("/admin/bodies/A%00").status_code in (400, 404)
    assert client.get("/admin/bodies/A%00/rounds/new").status_code in (400, 404)
    anonymous = world.app.test_client()
    token = csrf_token(anonymous.get("/auth/login").get_data(as_text=True))
    response = anonymous.post(
        "/auth/login", data={"csrf_token": token, "username": "admin\x00", "password": "x" * 12}
    )
    assert response.status_code in (400, 401)
    assert world.app.test_client().get("/r/?next=%00").status_code == 400


def test_mixed_scripts_are_warned_in_the_preview(
    world: World, votes: VotesRunner, tmp_path: Path
) -> None:
    # "Nguyễn Vаn An" with a Cyrillic "а": it looks like the name of another line.
    roster = "name,position,person_key\nNguyễn Văn An,Bí thư,p1\nNguyễn V\u0430n An,Ủy viên,p9\n"
    client = world.client("organizer")
    token = csrf_token(
        client.get(f"/admin/rounds/{world.ids['draft']}/roster").get_data(as_text=True)
    )
    response = client.post(
        f"/admin/rounds/{world.ids['draft']}/roster",
        data={"csrf_token": token, "roster_text": roster},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'data-testid="roster-warnings"' in html
    assert "CYRILLIC" in html
    assert "Dòng 3" in html
    ok = client.post(
        f"/admin/rounds/{world.ids['draft']}/roster",
        data={"csrf_token": token, "roster_text": ROSTER},
    )
    assert 'data-testid="roster-warnings"' not in ok.get_data(as_text=True)
    out = _create(
        votes, _roster_file(tmp_path, roster), **{"--body": "A", "--profile": "nq96-2023"}
    )
    assert out.exit_code == 0, out.stderr
    assert "CYRILLIC" in out.stderr


def test_download_names_are_built_from_safe_parts(world: World) -> None:
    """A body code with a quote (an old database, or SQL) does not steer a file name."""
    code = 'X"; filename="evil.exe'
    with world.sessions() as session:
        session.execute(insert(Body).values(code=code, name="Đơn vị X", kind="council"))
        session.commit()
    client = world.client("auditor")
    response = client.get(f"/audit/bodies/{quote(code)}/findings.pdf")
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.count('"') == 2
    assert "evil.exe" not in disposition.replace("evil.exe-", "")
    assert disposition.startswith('attachment; filename="X-filename-evil.exe-findings.pdf"')
    assert file_name_part('Đảng bộ "tỉnh"\r\n') == "Dang-bo-tinh"
    organizer = world.client("admin")
    token = csrf_token(organizer.get("/admin/").get_data(as_text=True))
    refused = organizer.post(
        "/admin/bodies", data={"csrf_token": token, "code": 'Y"z', "name": "Y", "kind": "party"}
    )
    assert refused.status_code == 422


def test_results_csv_writes_formulas_as_text(
    sessions: sessionmaker[Session], votes: VotesRunner
) -> None:
    names = ['=HYPERLINK("http://evil.example","Bấm")', "@SUM(A1:A9)", "+1", "-Trần Văn C"]
    roster = "name,position,person_key\n" + "".join(
        f'"{name.replace(chr(34), chr(34) * 2)}",Ủy viên,k{n}\n' for n, name in enumerate(names)
    )
    with operations.work(sessions, "tester") as work:
        operations.add_body(work, "B1", "Đảng bộ B1")
        round_id = operations.create_round(
            work,
            body_code="B1",
            year=2025,
            profile_id="tn-16kh-2012",
            title="Lấy phiếu",
            roster=parse_roster(roster.encode()),
            members=1,
        ).id
        operations.open_round(work, round_id)
        operations.import_paper_ballots(
            work, round_id, b"status,1,2,3,4\nvalid,H,C,L,H\n", issued=1
        )
        operations.close_round(work, round_id)
        decrypt_round(work.session, round_id)
    out = votes("results", round_id, "--format", "csv")
    assert out.exit_code == 0, out.stderr
    import csv

    rows = list(csv.reader(io.StringIO(out.stdout)))
    cells = [cell for row in rows[1:] for cell in row[1:4]]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert '\'=HYPERLINK("http://evil.example","Bấm")' in cells
    assert "'@SUM(A1:A9)" in cells
    assert spreadsheet_safe("\tx") == "'\tx"
    assert spreadsheet_safe("Nguyễn") == "Nguyễn"


def test_database_urls_reach_the_migrations_untouched(database_url: str, tmp_path: Path) -> None:
    """DEPLOY.md's `options=-c%20statement_timeout%3D10s` (and any '%') passes through."""
    if PG_URL:
        url = database_url + "?connect_timeout=5&options=-c%20statement_timeout%3D10s"
    else:
        (tmp_path / "100% done").mkdir()
        url = f"sqlite:///{tmp_path / '100%25 done' / 'votes.sqlite3'}"
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as connection:
            assert connection.scalar(select(func.count()).select_from(Body)) == 0
            if PG_URL:
                assert connection.scalar(text("SHOW statement_timeout")) == "10s"
    finally:
        engine.dispose()


def test_every_length_fits_its_column(app: Flask) -> None:
    """The bounds of votes.limits are no longer than the columns that store the texts."""
    from votes.models import BallotItem, Exemption, Person, StaffUser

    columns = {
        "body_code": Body.__table__.c.code,
        "body_name": Body.__table__.c.name,
        "title": Round.__table__.c.title,
        "place": Round.__table__.c.place,
        "name": BallotItem.__table__.c.name,
        "position": Exemption.__table__.c.position,
        "person_key": Person.__table__.c.person_key,
        "reason": Exemption.__table__.c.reason,
        "username": StaffUser.__table__.c.username,
    }
    for field, column in columns.items():
        assert LENGTHS[field] <= column.type.length, field
    assert COUNT_MAX < 2**31 - 1
