"""Issue 15: one poll, several voter groups; results per group and combined.

Expected values are computed by hand in the comments (never by the code under test). The
tests run on SQLite, and on PostgreSQL with VOTES_TEST_DATABASE_URL.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import VotesRunner
from tests.factories import (
    add_committee,
    add_test_body,
    column,
    decrypt_round,
    pack,
    paper_csv,
    person,
    rated,
    work,
)
from votes import operations
from votes.bundle import export_round
from votes.demo import seed_demo
from votes.errors import VotesError
from votes.groups import shown_results
from votes.models import Person, Round
from votes.operations import documents
from votes.recount import check_bundle
from votes.results import round_results
from votes.rules import body_findings, person_history
from votes.verify import verify_round
from votes.voting import CastRefused

SECRET = "test-secret-key-for-groups"
ROSTER = [person("Nguyễn Văn An", "Bí thư", "a"), person("Trần Thị Bình", "Phó Bí thư", "b")]


def widened_round(
    session: Session,
    body_code: str,
    *,
    year: int,
    profile_id: str = "tn-16kh-2012",
    groups: Sequence[tuple[str, int, Sequence[Sequence[str]]]],
    deciding: int | None = 1,
    close: bool = True,
) -> Round:
    """Create a round whose group 1 and further groups vote on paper, each its own columns.

    `groups` gives (name, members, columns) for group 1 (the round's first group) and each
    group added; every member is summoned and present and casts one ballot.
    """
    task = work(session)
    _first, first_members, _ = groups[0]
    round_ = operations.create_round(
        task,
        body_code=body_code,
        year=year,
        profile_id=profile_id,
        title=f"Lấy phiếu tín nhiệm mở rộng {year}",
        roster=list(ROSTER),
        members=first_members,
        summoned=first_members,
        present=first_members,
    )
    for name, members, _columns in groups[1:]:
        operations.add_group(
            task, round_.id, name, members=members, summoned=members, present=members
        )
    if deciding != 1:
        operations.choose_deciding(task, round_.id, deciding)
    operations.open_round(task, round_.id)
    for number, (_name, _members, columns) in enumerate(groups, start=1):
        ballots = pack(columns)
        operations.import_paper_ballots(
            task, round_.id, paper_csv(ballots), issued=len(ballots), group=number
        )
    if close:
        operations.close_round(task, round_.id)
    session.commit()
    return round_


def items(part: dict[str, Any]) -> dict[str, tuple[dict[str, int], dict[str, str | None]]]:
    return {i["person_key"]: (i["counts"], i["percent"]) for i in part["items"]}


def bands(part: dict[str, Any]) -> dict[str, list[str]]:
    return {i["person_key"]: [f["band"] for f in i["findings"]] for i in part["items"]}


# Group 1 (the executive committee, 10): A low 6 of 10, B low 2 of 10.
# Group 2 (heads of departments, 8):     A low 1 of 8,  B low 6 of 8.
TWO_GROUPS = [
    ("Ban Chấp hành", 10, [rated(6, 10), rated(2, 10)]),
    ("Trưởng các phòng, ban", 8, [rated(1, 8), rated(6, 8)]),
]


def test_per_group_and_combined_counts(session: Session) -> None:
    add_test_body(session, "TU-G1", kind="party")
    round_ = widened_round(session, "TU-G1", year=2024, groups=TWO_GROUPS)
    result = round_results(session, round_, small_minimum=5)

    one, two = result["groups"]
    assert (one["number"], one["deciding"], one["hidden_small"]) == (1, True, False)
    assert (two["number"], two["deciding"], two["hidden_small"]) == (2, False, False)
    # D = collected per group: 10 and 8; combined 18.
    assert one["denominator"] == {"basis": "collected", "value": 10}
    assert two["denominator"] == {"basis": "collected", "value": 8}
    assert result["combined"]["denominator"] == {"basis": "collected", "value": 18}
    assert one["ballots"] == {"issued": 10, "collected": 10, "valid": 10, "invalid": 0}
    assert result["combined"]["ballots"] == {
        "issued": 18,
        "collected": 18,
        "valid": 18,
        "invalid": 0,
    }
    assert items(one)["a"] == (
        {"high": 4, "confidence": 0, "low": 6, "invalid": 0},
        {"high": "40.00", "confidence": "0.00", "low": "60.00"},
    )
    assert items(two)["b"][1]["low"] == "75.00"  # 6/8
    # Combined: A 7 of 18 = 38.888… → 38.89; B 8 of 18 = 44.444… → 44.44.
    assert items(result["combined"])["a"][0]["low"] == 7
    assert items(result["combined"])["a"][1]["low"] == "38.89"
    assert items(result["combined"])["b"][1]["low"] == "44.44"

    # The top level is the deciding group's result, shaped as before.
    assert result["deciding"] == 1
    assert result["denominator"] == {"basis": "collected", "value": 10}
    assert items(result)["a"][1]["low"] == "60.00"
    # Only the deciding result raises findings: A (6/10 > half) yes; B's 6/8 in group 2 no.
    assert bands(result) == {"a": ["over_half"], "b": []}
    assert bands(one) == {"a": ["over_half"], "b": []}
    assert bands(two) == {"a": [], "b": []}
    assert bands(result["combined"]) == {"a": [], "b": []}

    report = verify_round(session, round_)
    assert report.problems == []


def test_the_combined_result_may_decide(session: Session) -> None:
    add_test_body(session, "TU-G2", kind="party")
    # Group 1: B low 4 of 10 (not over half); group 2: B low 8 of 8. Combined B: 12 of 18,
    # 12 * 2 = 24 > 18: over half. A: 1 + 0 of 18, nothing.
    groups = [
        ("Ban Chấp hành", 10, [rated(1, 10), rated(4, 10)]),
        ("Cán bộ hưu trí", 8, [rated(0, 8), rated(8, 8)]),
    ]
    round_ = widened_round(session, "TU-G2", year=2024, groups=groups, deciding=None)
    result = round_results(session, round_, small_minimum=5)
    assert result["deciding"] == "combined"
    assert result["combined"]["deciding"] is True
    assert bands(result) == {"a": [], "b": ["over_half"]}
    assert bands(result["combined"]) == {"a": [], "b": ["over_half"]}
    assert bands(result["groups"][0]) == {"a": [], "b": []}
    assert result["denominator"]["value"] == 18
    assert verify_round(session, round_).problems == []


def test_two_years_chain_uses_the_deciding_results_only(session: Session) -> None:
    """Two years of three-group rounds: A is low only in a group that does not decide (both
    years), B is low in the deciding group both years: only B's chain fires."""
    add_test_body(session, "TU-G3", kind="party")
    groups = [
        ("Ban Chấp hành", 10, [rated(1, 10), rated(6, 10)]),
        ("Trưởng các phòng", 8, [rated(7, 8), rated(1, 8)]),
        ("Cán bộ hưu trí", 6, [rated(6, 6), rated(0, 6)]),
    ]
    first = widened_round(session, "TU-G3", year=2023, groups=groups)
    second = widened_round(session, "TU-G3", year=2024, groups=groups)
    body = first.body
    findings = body_findings(session, body)
    chains = [(f.person_key, f.years) for f in findings if f.rule != "band"]
    assert chains == [("b", (2023, 2024))]
    assert {(f.person_key, f.years[-1]) for f in findings if f.rule == "band"} == {
        ("b", 2023),
        ("b", 2024),
    }
    result = round_results(session, second, small_minimum=5)
    assert {f["rule"] for f in result["items"][1]["findings"]} >= {"band"}
    assert len(result["items"][1]["findings"]) == 2  # this year's band and the chain
    assert result["items"][0]["findings"] == []


def test_a_small_group_is_never_shown_alone(session: Session) -> None:
    """Groups of 10 (deciding), 8 and 3: the group of 3 is hidden, and so is the group of 8
    (else combined minus the others would give the 3); the combined result holds them."""
    add_test_body(session, "TU-G4", kind="party")
    groups = [
        ("Ban Chấp hành", 10, [rated(6, 10), rated(2, 10)]),
        ("Trưởng các phòng", 8, [rated(1, 8), rated(6, 8)]),
        ("Cán bộ hưu trí", 3, [rated(3, 3), rated(0, 3)]),
    ]
    round_ = widened_round(session, "TU-G4", year=2024, groups=groups)
    result = round_results(session, round_, small_minimum=5)
    one, two, three = result["groups"]
    assert not one["hidden_small"]
    assert (two["hidden_small"], two["hidden_reason"]) == (True, "shields_small")
    assert (three["hidden_small"], three["hidden_reason"]) == (True, "small")
    for hidden in (two, three):
        assert "items" not in hidden
        assert "ballots" not in hidden
    # Combined: A 6 + 1 + 3 = 10 of 21 → 47.62; B 2 + 6 + 0 = 8 of 21 → 38.10.
    assert items(result["combined"])["a"][1]["low"] == "47.62"
    assert items(result["combined"])["b"][1]["low"] == "38.10"

    # The CSV has the deciding group and the combined result, nothing of groups 2 and 3.
    document = documents.results_csv(session, round_.id)
    rows = list(csv.DictReader(io.StringIO(document.data.decode("utf-8-sig"))))
    assert {row["result"] for row in rows} == {"1", "combined"}

    # The bundle: results.json hides them too, no per-group file, and it still verifies.
    data = export_round(session, round_, small_minimum=5)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}
    assert "group_ballots.csv" not in files
    assert b"shields_small" in files["results.json"]
    problems, _checked = check_bundle(files)
    assert problems == []


def test_two_groups_one_small_withholds_the_combined(session: Session) -> None:
    """Deciding group of 10 and a group of 4: combined minus the deciding one would be the
    group of 4, so the combined result is withheld and the group is shown nowhere."""
    add_test_body(session, "TU-G5", kind="party")
    groups = [
        ("Ban Chấp hành", 10, [rated(6, 10), rated(2, 10)]),
        ("Cán bộ hưu trí", 4, [rated(4, 4), rated(0, 4)]),
    ]
    round_ = widened_round(session, "TU-G5", year=2024, groups=groups)
    result = round_results(session, round_, small_minimum=5)
    assert result["groups"][1]["hidden_small"] is True
    assert result["combined"]["withheld"] is True
    assert "items" not in result["combined"]
    assert items(result)["a"][1]["low"] == "60.00"


def test_bundle_of_groups_all_shown_recounts_each_group(session: Session) -> None:
    add_test_body(session, "TU-G6", kind="party")
    round_ = widened_round(session, "TU-G6", year=2024, groups=TWO_GROUPS)
    data = export_round(session, round_, small_minimum=5)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        files = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}
    assert "group_ballots.csv" in files
    problems, checked = check_bundle(files)
    assert problems == []
    assert any("Voter group 2" in line[0].format(**line[1]) for line in checked)
    # A tampered group file is caught (the seal part group_ballots).
    rows = files["group_ballots.csv"].decode().splitlines()
    swapped = [rows[0], *sorted(r.replace("1,valid", "2,valid", 1) for r in rows[1:3]), *rows[3:]]
    files["group_ballots.csv"] = ("\n".join(swapped) + "\n").encode()
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(v).hexdigest()}  {k}\n"
        for k, v in sorted(files.items())
        if k != "SHA256SUMS"
    ).encode()
    problems, _ = check_bundle(files)
    assert problems


def test_quorum_is_per_group(session: Session) -> None:
    """QĐ 96 (two thirds of those summoned): group 2 with 5 of 9 present cannot open."""
    add_test_body(session, "TU-G7", kind="party")
    task = work(session)
    round_ = operations.create_round(
        task,
        body_code="TU-G7",
        year=2024,
        profile_id="qd96-2023",
        title="Lấy phiếu tín nhiệm giữa nhiệm kỳ",
        roster=list(ROSTER),
        members=12,
        summoned=12,
        present=12,
    )
    operations.add_group(task, round_.id, "Trưởng các phòng", members=9, summoned=9, present=5)
    session.commit()
    # 5 * 3 = 15 < 2 * 9 = 18: no quorum for group 2.
    with pytest.raises(VotesError, match="5"):
        operations.open_round(work(session), round_.id, 2)
    session.rollback()
    operations.open_round(work(session), round_.id, 1)
    session.commit()
    round_ = session.get(Round, round_.id)
    assert round_ is not None
    assert [g.status for g in round_.groups] == ["open", "draft"]
    operations.record_attendance(work(session), round_.id, present=6, group=2)
    operations.open_round(work(session), round_.id, 2)
    session.commit()
    # Group 2's present falls to 5 before its close: counted, void; group 1 decides: not void.
    operations.record_attendance(work(session), round_.id, present=5, group=2)
    operations.import_paper_ballots(
        work(session), round_.id, paper_csv(pack([rated(1, 12), rated(12, 12)])), issued=12, group=1
    )
    operations.import_paper_ballots(
        work(session), round_.id, paper_csv(pack([rated(1, 5), rated(5, 5)])), issued=5, group=2
    )
    operations.close_round(work(session), round_.id)
    session.commit()
    result = round_results(session, round_, small_minimum=5)
    one, two = result["groups"]
    assert (one["quorum_met"], one["void"]) == (True, False)
    assert (two["quorum_met"], two["void"]) == (False, True)
    assert result["void"] is False  # group 1 decides
    assert result["combined"]["void"] is True  # a group without quorum is inside it
    # B: 12 of 12 low in group 1: two thirds or more.
    assert "two_thirds_or_more" in bands(result)["b"]


def test_group_states(session: Session) -> None:
    add_test_body(session, "TU-G8", kind="party")
    task = work(session)
    round_ = operations.create_round(
        task,
        body_code="TU-G8",
        year=2024,
        profile_id="tn-16kh-2012",
        title="Lấy phiếu tín nhiệm",
        roster=list(ROSTER),
        members=6,
        summoned=6,
        present=6,
    )
    group = operations.add_group(task, round_.id, "Trưởng các phòng", members=6, summoned=6)
    assert group.number == 2
    session.commit()
    with pytest.raises(VotesError):  # the same name twice
        operations.add_group(task, round_.id, "trưởng các phòng", members=3)
    session.rollback()
    add_committee(session, round_.id)
    session.commit()
    codes_one = operations.issue_codes(work(session), round_.id, 6, SECRET, group=1)
    codes_two = operations.issue_codes(work(session), round_.id, 6, SECRET, group=2)
    session.commit()
    with pytest.raises(VotesError):  # a round of two groups: which one?
        operations.issue_codes(work(session), round_.id, 1, SECRET)
    session.rollback()
    operations.open_round(work(session), round_.id, 1)
    session.commit()
    with pytest.raises(VotesError):  # added once the round is open
        operations.add_group(work(session), round_.id, "Hưu trí", members=9)
    session.rollback()
    with pytest.raises(VotesError):  # the deciding result is chosen before opening
        operations.choose_deciding(work(session), round_.id, None)
    session.rollback()
    # Group 2 is still a draft: its codes do not vote yet.
    with pytest.raises(CastRefused):
        operations.cast_ballot(session, SECRET, codes_two[0], ["H", "L"])
    operations.cast_ballot(session, SECRET, codes_one[0], ["L", "L"])
    # A code of group 1 is refused when another group is named.
    with pytest.raises(CastRefused):
        operations.cast_ballot(session, SECRET, codes_one[1], ["L", "L"], group=2)
    operations.open_round(work(session), round_.id, 2)
    session.commit()
    for code in codes_two[:4]:
        operations.cast_ballot(session, SECRET, code, ["H", "L"])
    operations.close_round(work(session), round_.id, 2)
    session.commit()
    decrypt_round(session, round_.id)  # group 2's sealed ballots, while group 1 still votes
    session.commit()
    round_ = session.get(Round, round_.id)
    assert round_ is not None
    assert round_.status == "open"  # group 1 still votes
    with pytest.raises(VotesError):  # no result while any group votes
        round_results(session, round_)
    with pytest.raises(CastRefused):  # group 2 is closed
        operations.cast_ballot(session, SECRET, codes_two[5], ["H", "L"])
    for code in codes_one[1:5]:
        operations.cast_ballot(session, SECRET, code, ["C", "H"])
    operations.close_round(work(session), round_.id)
    session.commit()
    decrypt_round(session, round_.id)
    session.commit()
    session.refresh(round_)
    assert round_.status == "closed"
    result = round_results(session, round_, small_minimum=1)
    one, two = result["groups"]
    # Group 1: 5 ballots (1 × L,L and 4 × C,H); group 2: 4 × H,L; issued 6 codes each.
    assert one["ballots"] == {"issued": 6, "collected": 5, "valid": 5, "invalid": 0}
    assert items(one)["a"][0] == {"high": 0, "confidence": 4, "low": 1, "invalid": 0}
    assert items(two)["b"][0] == {"high": 0, "confidence": 0, "low": 4, "invalid": 0}
    assert result["combined"]["ballots"]["collected"] == 9
    assert verify_round(session, round_).problems == []


def test_one_group_round_reads_as_before(session: Session) -> None:
    """A round created as before has one group, number 1, deciding; nothing is hidden."""
    add_test_body(session, "TU-G9", kind="party")
    round_ = widened_round(
        session, "TU-G9", year=2024, groups=[("Ban Chấp hành", 3, [rated(2, 3), rated(0, 3)])]
    )
    result = round_results(session, round_, small_minimum=5)
    assert [g["number"] for g in result["groups"]] == [1]
    assert result["groups"][0]["hidden_small"] is False  # a small round warns, as before
    assert items(result["combined"]) == items(result)
    assert result["deciding"] == 1
    assert verify_round(session, round_).problems == []


@pytest.mark.parametrize(
    ("sizes", "deciding", "hidden", "withheld"),
    [
        ([(1, 10, 10), (2, 8, 8)], 1, set(), False),
        ([(1, 10, 10), (2, 8, 8), (3, 3, 3)], 1, {2, 3}, False),
        ([(1, 10, 10), (2, 3, 3), (3, 2, 2)], 1, {2, 3}, False),  # 3 + 2 = 5 ballots
        ([(1, 10, 10), (2, 2, 2), (3, 2, 2), (4, 9, 9)], 1, {2, 3, 4}, False),
        ([(1, 10, 10), (2, 4, 4)], 1, {2}, True),
        ([(1, 10, 10), (2, 6, 4)], None, {1, 2}, False),  # 4 members: small
    ],
)
def test_shown_results(
    sizes: list[tuple[int, int, int]], deciding: int | None, hidden: set[int], withheld: bool
) -> None:
    shown = shown_results(sizes, deciding, 5)
    assert set(shown.hidden) == hidden
    assert shown.combined_withheld is withheld


def test_column_helper_is_independent() -> None:
    """The oracle of these tests: a column of 6 of 10 low holds 4 high and 6 low marks."""
    assert sorted(rated(6, 10)) == ["H"] * 4 + ["L"] * 6
    assert column(high=1, low=2) == ["H", "L", "L"]


def test_demo_widened_round(session: Session, app: Any) -> None:
    """The demo's three groups: 55 (54 present, deciding), 40 (38) and 12 (12), one invalid
    ballot each. Quân: 30 of 54 low in the deciding group (55.56 %: a finding), 40 of 104
    combined (38.46 %); Hà: 25 of 38 and 9 of 12 low in the other groups (65.79 %, 75.00 %:
    no finding), 44 of 104 combined (42.31 %); Tùng: 50 of 104 combined (48.08 %)."""
    ids = seed_demo(app.extensions["votes.sessions"], SECRET)
    round_ = session.get(Round, ids[-1])
    assert round_ is not None
    result = round_results(session, round_, small_minimum=5)
    assert [(g["name"], g["deciding"], g["hidden_small"]) for g in result["groups"]] == [
        ("Ban Chấp hành Đảng bộ Khối", True, False),
        ("Trưởng các phòng, ban chuyên môn", False, False),
        ("Cán bộ lãnh đạo đã nghỉ hưu", False, False),
    ]
    one, two, three = result["groups"]
    assert items(one)["sl-duk-quan"][1]["low"] == "55.56"
    assert items(two)["sl-duk-ha"][1]["low"] == "65.79"
    assert items(three)["sl-duk-ha"][1]["low"] == "75.00"
    combined = items(result["combined"])
    assert combined["sl-duk-quan"][1]["low"] == "38.46"
    assert combined["sl-duk-ha"][1]["low"] == "42.31"
    assert combined["sl-duk-tung"][1]["low"] == "48.08"
    assert bands(result) == {"sl-duk-quan": ["over_half"], "sl-duk-ha": [], "sl-duk-tung": []}
    assert one["ballots"]["invalid"] == 1
    assert result["combined"]["denominator"]["value"] == 104
    assert verify_round(session, round_).problems == []
    # The person's history: each group's low share that year, and combined.
    ha = session.scalar(select(Person).where(Person.person_key == "sl-duk-ha"))
    assert ha is not None
    (entry,) = person_history(session, round_.body, ha)["rounds"]
    assert [g["low_percent"] for g in entry["groups"]] == ["18.52", "65.79", "75.00"]
    assert entry["combined_low_percent"] == "42.31"


def test_command_line_contract(votes: VotesRunner, session: Session, tmp_path: Path) -> None:
    """`votes group add` prints the number last; --group on codes, cast, import, attendance,
    open, close, results and report; results JSON with "groups" and "combined"."""
    assert votes("body", "add", "TU-CLI", "Tỉnh ủy CLI", "--kind", "party").exit_code == 0
    roster = tmp_path / "roster.csv"
    roster.write_text("name,position,person_key\nNguyễn Văn An,Bí thư,a\n", encoding="utf-8")
    created = votes(
        "round",
        "create",
        "--body",
        "TU-CLI",
        "--year",
        2024,
        "--profile",
        "tn-16kh-2012",
        "--title",
        "Lấy phiếu",
        "--members",
        6,
        "--summoned",
        6,
        "--present",
        6,
        "--roster",
        roster,
    )
    round_id = int(created.last_line)
    added = votes("group", "add", round_id, "Cán bộ hưu trí", "--members", 5, "--summoned", 5)
    assert added.exit_code == 0, added.stderr
    assert added.last_line == "2"
    add_committee(session, round_id)  # online ballots are sealed to the committee's key
    session.commit()
    refused = votes("codes", "issue", round_id, "--count", 1)
    assert refused.exit_code != 0
    assert "--group" in refused.stderr
    assert "Traceback" not in refused.stderr
    codes = votes("codes", "issue", round_id, "--count", 5, "--group", 2).stdout.split()
    assert len(codes) == 5
    assert votes("round", "attendance", round_id, "--present", 5, "--group", 2).exit_code == 0
    assert votes("round", "open", round_id).exit_code == 0
    paper = tmp_path / "paper.csv"
    paper.write_bytes(paper_csv(pack([rated(4, 6)])))
    imported = votes("ballots", "import", round_id, paper, "--issued", 6, "--group", 1)
    assert imported.exit_code == 0, imported.stderr
    for code in codes:  # 5 of 5 low in group 2
        cast = votes("cast", round_id, "--code", code, "--marks", "L", "--group", 2)
        assert cast.exit_code == 0, cast.stderr
    assert votes("round", "close", round_id, "--group", 2).exit_code == 0
    decrypt_round(session, round_id)
    session.commit()
    assert votes("results", round_id).exit_code != 0  # group 1 still open
    assert votes("round", "close", round_id).exit_code == 0
    shown = votes("results", round_id, "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    result = json.loads(shown.stdout)
    # Group 1: 4 of 6 low (66.67); group 2: 5 of 5 (100.00); combined 9 of 11 (81.82).
    assert [(g["number"], g["deciding"], g["hidden_small"]) for g in result["groups"]] == [
        (1, True, False),
        (2, False, False),
    ]
    assert result["items"][0]["percent"]["low"] == "66.67"
    assert result["groups"][1]["items"][0]["percent"]["low"] == "100.00"
    assert result["combined"]["items"][0]["percent"]["low"] == "81.82"
    assert result["combined"]["ballots"]["collected"] == 11
    one = json.loads(votes("results", round_id, "--format", "json", "--group", 2).stdout)
    assert one["ballots"]["collected"] == 5
    assert votes("verify", round_id).exit_code == 0
    out = tmp_path / "groups.pdf"
    assert votes("report", round_id, "--kind", "groups", "--out", out).exit_code == 0
    text = " ".join((p.extract_text() or "") for p in PdfReader(out).pages)
    assert "81,82" in " ".join(text.split())


def test_a_vote_of_confidence_follows_the_deciding_group(session: Session) -> None:
    """The follow-up of a widened poll: A's finding (6 of 10 in group 1) refers A; the vote
    is held by the deciding group (10 members), not by the 18 of both groups."""
    add_test_body(session, "TU-G10", kind="party")
    round_ = widened_round(session, "TU-G10", year=2024, profile_id="qd96-2023", groups=TWO_GROUPS)
    vote = operations.follow_up(work(session), round_.id)
    session.commit()
    assert [item.person.person_key for item in vote.items if item.person] == ["a"]
    assert (vote.members, vote.summoned, vote.present) == (10, 10, 10)
    assert [g.number for g in vote.groups] == [1]
