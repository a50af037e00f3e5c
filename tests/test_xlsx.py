"""Excel in and out: rosters and paper ballots from .xlsx with the cell named in each refusal."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session

from tests.conftest import VotesRunner
from tests.factories import counted_round, person, rated, work
from votes import operations
from votes.counting import parse_paper_ballots
from votes.errors import InvalidInput
from votes.operations import documents
from votes.roster import parse_roster


def workbook(rows: list[list[object]], title: str = "Danh sách") -> bytes:
    """Write rows into the first sheet of a new workbook (what an office saves from Excel)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.create_sheet("Ghi chú").append(["not read: only the first sheet is"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ROSTER = [
    ["name", "position", "person_key", "kind", "exempt_reason"],
    ["Nguyễn Văn Thắng", "Bí thư Tỉnh ủy", "sl-001", None, None],
    ["Ngô Quang Định", "Ủy viên BTV", "sl-010", None, "Đã có thông báo nghỉ hưu"],
    ["Tập thể Ban Thường vụ Tỉnh ủy", None, None, "collective", None],
]


def test_an_xlsx_roster_reads_as_the_csv() -> None:
    entries = parse_roster(workbook(ROSTER))
    assert [(e.name, e.position, e.person_key, e.kind) for e in entries] == [
        ("Nguyễn Văn Thắng", "Bí thư Tỉnh ủy", "sl-001", "person"),
        ("Ngô Quang Định", "Ủy viên BTV", "sl-010", "person"),
        ("Tập thể Ban Thường vụ Tỉnh ủy", "", None, "collective"),
    ]
    assert entries[1].exempt_reason == "Đã có thông báo nghỉ hưu"
    # A key typed as a number is the same key as the text.
    numbered = parse_roster(workbook([["name", "position", "person_key"], ["A B", "C", 12]]))
    assert numbered[0].person_key == "12"


@pytest.mark.parametrize(
    ("row", "cell"),
    [
        (["Nguyễn Văn A", None, "k1", None, None], "B7"),  # no position
        ([None, "Phó Bí thư", "k1", None, None], "A7"),  # no name
        (["Nguyễn Văn A", "Ủy viên", "k1", "nhóm", None], "D7"),  # unknown kind
        (["Nguyễn Văn A", "Ủy viên", "k1", None, "x" * 600], "E7"),  # reason too long
    ],
)
def test_a_wrong_roster_cell_is_named(row: list[object], cell: str) -> None:
    rows = ROSTER[:3] + [["Lê Văn C", "Ủy viên", f"k{n}", None, None] for n in range(3)] + [row]
    with pytest.raises(InvalidInput) as refused:
        parse_roster(workbook(rows))
    assert refused.value.message("en").startswith(f"Sheet Danh sách, cell {cell}: Line 7")
    assert f"Ô {cell}" in refused.value.message("vi")


def test_paper_ballots_from_xlsx_and_their_cells() -> None:
    good = workbook(
        [["status", 1, 2], ["valid", "H", "L"], ["valid", 1, 3], ["invalid", None, "X"]]
    )
    assert parse_paper_ballots(good, 2, "poll") == [
        ("valid", "HL"),
        ("valid", "HL"),
        ("invalid", "-X"),
    ]
    bad = workbook([["status", 1, 2], ["valid", "H", "L"], ["valid", "H", "Q"]], title="Phiếu")
    with pytest.raises(InvalidInput) as refused:
        parse_paper_ballots(bad, 2, "poll")
    assert refused.value.message("en").startswith("Sheet Phiếu, cell C3:")
    status = workbook([["status", 1, 2], ["hợp lệ", "H", "L"]], title="Phiếu")
    with pytest.raises(InvalidInput) as refused:
        parse_paper_ballots(status, 2, "poll")
    assert refused.value.message("en").startswith("Sheet Phiếu, cell A2:")


def test_cli_reads_xlsx_roster_and_ballots(votes: VotesRunner, tmp_path: Path) -> None:
    roster = tmp_path / "roster.xlsx"
    roster.write_bytes(workbook(ROSTER))
    assert votes("body", "add", "HDND-X", "HĐND xã X", "--kind", "council").exit_code == 0
    made = votes(
        "round",
        "create",
        "--body",
        "HDND-X",
        "--year",
        2024,
        "--profile",
        "nq96-2023",
        "--title",
        "Lấy phiếu",
        "--members",
        3,
        "--roster",
        roster,
    )
    assert made.exit_code == 0, made.stderr
    round_id = made.last_line
    assert votes("round", "open", round_id).exit_code == 0
    ballots = tmp_path / "ballots.xlsx"
    ballots.write_bytes(workbook([["status", 1, 2], ["valid", 1, 2], ["valid", 3, "Z"]]))
    refused = votes("ballots", "import", round_id, ballots, "--issued", 2)
    assert refused.exit_code != 0
    assert "Ô C3" in refused.stderr
    ballots.write_bytes(workbook([["status", 1, 2], ["valid", 1, 2], ["valid", 3, 3]]))
    done = votes("ballots", "import", round_id, ballots, "--issued", 2)
    assert done.exit_code == 0, done.stderr


def _council_round(session: Session, **facts: Any) -> int:
    """Count a round of a People's Council under NQ 35/2012 (D = members)."""
    operations.add_body(work(session), "HDND-X", "HĐND X", "council")
    return counted_round(
        session, work(session).body("HDND-X"), year=2013, profile_id="nq35-2012", **facts
    ).id


def test_results_and_findings_as_xlsx(session: Session) -> None:
    round_id = _council_round(
        session,
        roster=[person("Người A"), person("Người B")],
        members=32,
        columns=[["H"] * 20 + ["C"] * 8 + ["L"] + ["X"], ["H"] * 5 + ["C"] * 8 + ["L"] * 17],
    )
    book = load_workbook(io.BytesIO(documents.results_xlsx(session, round_id).data))
    sheet = book["Kết quả"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(2)]
    # DOMAIN.md §8: 20, 8, 1 of 32 → 62.50, 25.00, 3.13; B: 17 of 32 → 53.13.
    assert rows[0]["Tín nhiệm cao"] == 20
    assert Decimal(str(rows[0]["Tỷ lệ tín nhiệm cao (%)"])) == Decimal("62.5")
    assert Decimal(str(rows[0]["Tỷ lệ tín nhiệm thấp (%)"])) == Decimal("3.13")
    assert Decimal(str(rows[1]["Tỷ lệ tín nhiệm thấp (%)"])) == Decimal("53.13")
    assert rows[1]["Mẫu số"] == 32
    share = header.index("Tỷ lệ tín nhiệm thấp (%)") + 1
    assert sheet.cell(row=2, column=share).number_format == "0.00"
    findings = load_workbook(io.BytesIO(documents.findings_xlsx(session, "HDND-X").data))
    assert findings["Kết luận"].cell(row=2, column=2).value == "Người B"


def test_a_formula_in_a_name_is_written_as_text(session: Session) -> None:
    round_id = _council_round(
        session, roster=[person('=HYPERLINK("http://x")', key="k1")], columns=[rated(1, 5)]
    )
    book = load_workbook(io.BytesIO(documents.results_xlsx(session, round_id).data))
    cell = book["Kết quả"].cell(row=2, column=2)
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://x")'


def test_a_roster_downloaded_as_xlsx_loads_back(session: Session) -> None:
    operations.add_body(work(session), "HDND-X", "HĐND X", "council")
    round_ = operations.create_round(
        work(session),
        body_code="HDND-X",
        year=2024,
        profile_id="nq96-2023",
        title="Lấy phiếu",
        roster=parse_roster(workbook(ROSTER)),
        members=3,
    )
    data = documents.roster_xlsx(session, round_.id).data
    again = parse_roster(data)
    assert [(e.name, e.position, e.person_key, e.kind, e.exempt_reason) for e in again] == [
        ("Nguyễn Văn Thắng", "Bí thư Tỉnh ủy", "sl-001", "person", ""),
        ("Tập thể Ban Thường vụ Tỉnh ủy", "", None, "collective", ""),
        ("Ngô Quang Định", "Ủy viên BTV", "sl-010", "person", "Đã có thông báo nghỉ hưu"),
    ]


def test_an_xlsx_roster_with_vietnamese_headings() -> None:
    # The headings an office types in Vietnamese (issue 16) work in a workbook as in a CSV.
    data = workbook(
        [
            ["Họ và tên", "Chức vụ", "Mã cá nhân"],
            ["Nguyễn Văn An", "Bí thư", "an"],
            ["Trần Thị Bình", "Phó Bí thư", None],
        ]
    )
    entries = parse_roster(data)
    assert [(e.name, e.position, e.person_key) for e in entries] == [
        ("Nguyễn Văn An", "Bí thư", "an"),
        ("Trần Thị Bình", "Phó Bí thư", None),
    ]
