"""The tree of bodies, persons known tree-wide, QĐ 96's two places, subtree access (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from tests.conftest import VotesRunner
from tests.factories import counted_round, person, rated, work
from votes import operations, staff
from votes.db import make_engine, make_sessionmaker
from votes.errors import InvalidInput
from votes.migrate import downgrade, upgrade
from votes.models import Person, Round
from votes.persons import tree_warnings
from votes.roster import RosterEntry
from votes.tree import subtree_ids, tree_lines
from votes.verify import verify_round


def _tree(session: Session) -> None:
    """A province with its executive and council, two communes and an agency."""
    task = work(session)
    operations.add_body(task, "TW", "Trung ương", "party", level="central")
    operations.add_body(task, "T-SL", "Tỉnh ủy Sơn La", "party", level="province", parent="TW")
    operations.add_body(task, "HDND-SL", "HĐND tỉnh Sơn La", "council", level="province")
    operations.add_body(task, "X-MH", "Đảng ủy xã Mường Hung", level="commune", parent="T-SL")
    operations.add_body(task, "X-CM", "Đảng ủy xã Chiềng Mai", level="commune", parent="T-SL")
    operations.add_body(task, "S-GD", "Đảng ủy Sở Giáo dục", level="agency", parent="T-SL")


def test_levels_must_follow_each_other(session: Session) -> None:
    _tree(session)
    task = work(session)
    # A commune under a commune, a province under a commune, a commune at the top: refused.
    with pytest.raises(InvalidInput, match="cannot be placed under"):
        operations.add_body(task, "X-1", "Xã 1", level="commune", parent="X-MH")
    with pytest.raises(InvalidInput, match="cannot be placed under"):
        operations.add_body(task, "T-2", "Tỉnh 2", level="province", parent="X-MH")
    with pytest.raises(InvalidInput, match="needs a parent"):
        operations.add_body(task, "X-2", "Xã 2", level="commune")
    with pytest.raises(InvalidInput, match="cannot be placed under"):
        operations.add_body(task, "X-3", "Xã 3", level="commune", parent="S-GD")
    # An agency under an agency is fine.
    operations.add_body(task, "P-GD", "Chi bộ Phòng", level="agency", parent="S-GD")


def test_no_cycles_and_no_orphaned_levels(session: Session) -> None:
    _tree(session)
    task = work(session)
    operations.add_body(task, "A-1", "Cơ quan 1", level="agency", parent="S-GD")
    with pytest.raises(InvalidInput, match="under itself"):
        operations.place_body(task, "S-GD", parent="A-1")
    with pytest.raises(InvalidInput, match="under itself"):
        operations.place_body(task, "S-GD", parent="S-GD")
    # The province cannot become a commune while communes sit under it.
    with pytest.raises(InvalidInput, match="cannot become"):
        operations.place_body(task, "T-SL", level="commune", parent="HDND-SL")
    body = operations.place_body(task, "X-MH", parent="T-SL")
    assert body.level == "commune"


def test_subtree_and_tree_order(session: Session) -> None:
    _tree(session)
    ids = {b.body.code: b.body.id for b in tree_lines(session)}
    below = subtree_ids(session, [ids["T-SL"]])
    assert below == {ids[c] for c in ("T-SL", "X-MH", "X-CM", "S-GD")}
    lines = [(line.depth, line.body.code) for line in tree_lines(session)]
    # Communes in Vietnamese order (Chiềng before Mường), the agency after them.
    assert lines == [
        (0, "TW"),
        (1, "T-SL"),
        (2, "X-CM"),
        (2, "X-MH"),
        (2, "S-GD"),
        (0, "HDND-SL"),
    ]


def test_cli_body_tree_and_rounds_under(votes: VotesRunner) -> None:
    assert votes("body", "add", "T-SL", "Tỉnh ủy Sơn La", "--level", "province").exit_code == 0
    out = votes("body", "add", "X-MH", "Xã Mường Hung", "--level", "commune", "--parent", "T-SL")
    assert out.exit_code == 0, out.stderr
    assert votes("body", "add", "X-CM", "Xã Chiềng Mai", "--level", "commune").exit_code != 0
    listing = votes("body", "list").stdout.splitlines()
    assert listing[0].startswith("T-SL\t")
    assert listing[1].startswith("    X-MH\t")
    wrong = votes("body", "add", "X-9", "Xã 9", "--level", "commune", "--parent", "X-MH")
    assert wrong.exit_code == 1
    assert "X-MH" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_staff_see_a_granted_body_and_everything_under_it(session: Session) -> None:
    _tree(session)
    province = staff.add_user(session, "tinh", "mat-khau-dai-1", "organizer", ["T-SL"])
    commune = staff.add_user(session, "xa", "mat-khau-dai-2", "organizer", ["X-MH"])
    ids = {b.body.code: b.body.id for b in tree_lines(session)}
    assert staff.can_manage(session, province, ids["X-CM"])
    assert staff.can_view(session, province, ids["S-GD"])
    assert not staff.can_view(session, province, ids["HDND-SL"])
    assert staff.can_manage(session, commune, ids["X-MH"])
    assert not staff.can_view(session, commune, ids["X-CM"])
    assert not staff.can_view(session, commune, ids["T-SL"])


def test_one_person_by_key_in_two_bodies(session: Session) -> None:
    _tree(session)
    a = RosterEntry(line=2, name="Lò Văn Minh", position="Bí thư", person_key="cb-001")
    for code, profile in (("T-SL", "qd96-2023"), ("HDND-SL", "nq96-2023")):
        operations.create_round(
            work(session),
            body_code=code,
            year=2025,
            profile_id=profile,
            title="Lấy phiếu",
            roster=[a],
            members=10,
            summoned=10,
            present=10,
        )
    found = session.scalars(select(Person).where(Person.person_key == "cb-001")).all()
    assert len(found) == 2
    assert {p.identity for p in found} == {"cb-001"}


def test_a_key_met_with_another_name_elsewhere_is_refused(session: Session) -> None:
    _tree(session)
    first = RosterEntry(line=2, name="Lò Văn Minh", position="Bí thư", person_key="cb-001")
    other = RosterEntry(line=3, name="Cầm Thị Hoa", position="Phó Bí thư", person_key="cb-001")
    common = {"year": 2025, "profile_id": "qd96-2023", "title": "Lấy phiếu", "members": 9}
    operations.create_round(work(session), body_code="T-SL", roster=[first], **common)
    with pytest.raises(InvalidInput, match="belongs to Lò Văn Minh in T-SL") as refused:
        operations.create_round(work(session), body_code="X-MH", roster=[other], **common)
    assert "Line 3" in str(refused.value) or refused.value.params["line"] == 3


def test_a_name_without_a_key_is_never_merged_but_pointed_out(session: Session) -> None:
    _tree(session)
    line = RosterEntry(line=2, name="Quàng Văn Bình", position="Chủ tịch")
    common = {"year": 2025, "profile_id": "qd96-2023", "title": "Lấy phiếu", "members": 9}
    operations.create_round(work(session), body_code="T-SL", roster=[line], **common)
    body = operations.add_body(
        work(session), "X-TN", "Xã Tân Nghiệp", level="commune", parent="T-SL"
    )
    warnings = tree_warnings(session, body, 2025, [line])
    assert len(warnings) == 1
    assert "T-SL" in warnings[0].text("en")
    operations.create_round(work(session), body_code="X-TN", roster=[line], **common)
    identities = sorted(
        session.scalars(select(Person.identity).where(Person.name == "Quàng Văn Bình"))
    )
    assert identities == ["Quàng Văn Bình", "X-TN/Quàng Văn Bình"]


def test_qd96_two_places_is_checked_when_a_roster_is_loaded(session: Session) -> None:
    _tree(session)
    line = RosterEntry(line=4, name="Lò Văn Minh", position="Bí thư", person_key="cb-001")
    common = {"year": 2025, "profile_id": "qd96-2023", "title": "Lấy phiếu", "members": 9}
    for code, profile in (("T-SL", "qd96-2023"), ("HDND-SL", "nq96-2023")):
        assert tree_warnings(session, work(session).body(code), 2025, [line]) == []
        common["profile_id"] = profile
        operations.create_round(work(session), body_code=code, roster=[line], **common)
    third = work(session).body("S-GD")
    warnings = tree_warnings(session, third, 2025, [line])
    assert len(warnings) == 1
    words = warnings[0].text("en")
    assert "Line 4" in words
    assert "3 places in 2025" in words
    for code in ("T-SL", "HDND-SL", "S-GD"):
        assert f"({code})" in words
    # Another year, or the person exempt there, is no third place.
    assert tree_warnings(session, third, 2026, [line]) == []
    exempt = RosterEntry(
        line=4,
        name="Lò Văn Minh",
        position="Bí thư",
        person_key="cb-001",
        exempt_reason="Đã có thông báo nghỉ hưu",
    )
    assert tree_warnings(session, third, 2025, [exempt]) == []
    # Vietnamese: the places named and the rule quoted.
    assert "96-QĐ/TW" in warnings[0].text("vi")


def test_two_places_warning_on_the_command_line(votes: VotesRunner, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("name,position,person_key\nLò Văn Minh,Bí thư,cb-001\n", encoding="utf-8")
    for code, kind in (("T-SL", "party"), ("HDND-SL", "council"), ("S-GD", "party")):
        assert votes("body", "add", code, f"Đơn vị {code}", "--kind", kind).exit_code == 0
    outcomes = [
        votes(
            "round",
            "create",
            "--body",
            code,
            "--year",
            2025,
            "--profile",
            "qd96-2023" if code != "HDND-SL" else "nq96-2023",
            "--title",
            "Lấy phiếu",
            "--members",
            9,
            "--summoned",
            9,
            "--present",
            9,
            "--roster",
            roster,
        )
        for code in ("T-SL", "HDND-SL", "S-GD")
    ]
    assert all(o.exit_code == 0 for o in outcomes), [o.stderr for o in outcomes]
    assert "96-QĐ/TW" not in outcomes[1].stderr
    assert "96-QĐ/TW" in outcomes[2].stderr
    assert "S-GD" in outcomes[2].stderr
    assert "HDND-SL" in outcomes[2].stderr


def test_migration_keeps_every_sealed_round_verifiable(empty_database_url: str) -> None:
    """A database of the schema before the tree (0007) with closed, sealed rounds verifies after.

    The rounds are made by today's code, then the schema is taken back to 0007 (the identity
    column, levels and parents dropped) and migrated forward again.
    """
    engine = make_engine(empty_database_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        operations.add_body(work(session), "HDND-A", "HĐND A", "council")
        operations.add_body(work(session), "HDND-B", "HĐND B", "council")
        for code in ("HDND-A", "HDND-B"):
            counted_round(
                session,
                work(session).body(code),
                year=2014,
                profile_id="nq35-2012",
                roster=[person("Nguyễn Văn An"), person("Trần Thị Bình", key="k-2")],
                columns=[rated(1, 5), rated(3, 5)],
            )
        session.commit()
    downgrade(engine, "0007")
    assert "identity" not in {c["name"] for c in inspect(engine).get_columns("person")}
    upgrade(engine)
    with sessions() as session:
        rounds = session.scalars(select(Round)).all()
        assert len(rounds) == 2
        for round_ in rounds:
            report = verify_round(session, round_)
            assert report.problems == [], [p.text("en") for p in report.problems]
        identities = {
            row[0]: row[1]
            for row in session.execute(
                text("SELECT person_key || '@' || body_id, identity FROM person")
            )
        }
    # A name serving as a key in two bodies stays two persons; an explicit key with one name
    # is one person.
    assert sorted(identities.values()) == [
        "HDND-A/Nguyễn Văn An",
        "HDND-B/Nguyễn Văn An",
        "k-2",
        "k-2",
    ]
    engine.dispose()


def test_one_history_across_places(session: Session, votes: VotesRunner, tmp_path: Path) -> None:
    _tree(session)
    minh = person("Lò Văn Minh", "Bí thư Tỉnh ủy", key="cb-001")
    for code, profile, low in (("T-SL", "qd96-2023", 6), ("HDND-SL", "nq96-2023", 2)):
        counted_round(
            session,
            work(session).body(code),
            year=2025,
            profile_id=profile,
            roster=[minh],
            columns=[rated(low, 10)],
        )
    session.commit()
    shown = votes("history", "--person", "cb-001", "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    places = {h["body"]["code"]: h["rounds"][0]["counts"]["low"] for h in json.loads(shown.stdout)}
    assert places == {"T-SL": 6, "HDND-SL": 2}
    out = tmp_path / "history.xlsx"
    assert votes("history", "--person", "cb-001", "--xlsx", out).exit_code == 0
    sheet = load_workbook(out)["Quá trình"]
    assert sorted((r[1].value, r[5].value) for r in sheet.iter_rows(2)) == [
        ("HĐND tỉnh Sơn La", 2),
        ("Tỉnh ủy Sơn La", 6),
    ]
    unknown = votes("history", "--person", "nobody")
    assert unknown.exit_code != 0
    assert "nobody" in unknown.stderr
