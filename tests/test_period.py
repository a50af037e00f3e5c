"""The periodic report of a body and its subtree: every number against a count by hand."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import unicodedata
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import VotesRunner
from tests.factories import column, counted_round, person, rated, work
from votes import operations
from votes.models import Round
from votes.period import period_report

YEAR = 2025
START, END = dt.date(2025, 1, 1), dt.date(2025, 12, 31)


def _known(session: Session) -> None:
    """The small data set the expected values below were counted from by hand.

    T-SL (province) 2025: A (cb-001) 6 low of 10, B (cb-002) 1 low of 10 (5 high, 4 confidence).
    X-MH (commune under T-SL) 2025: A again 7 low of 10, D (cb-010) no low of 10.
    X-MH 2024: outside the period. X-CM (commune under T-SL): a draft, not closed.
    HDND-SL (not under T-SL) 2025: outside the subtree.
    """
    task = work(session)
    operations.add_body(task, "T-SL", "Tỉnh ủy Sơn La", level="province")
    operations.add_body(task, "X-MH", "Đảng ủy xã Mường Hung", level="commune", parent="T-SL")
    operations.add_body(task, "X-CM", "Đảng ủy xã Chiềng Mai", level="commune", parent="T-SL")
    operations.add_body(task, "HDND-SL", "HĐND tỉnh Sơn La", "council", level="province")
    a = person("Lò Văn Minh", "Bí thư Tỉnh ủy", key="cb-001")
    counted_round(
        session,
        task.body("T-SL"),
        year=YEAR,
        profile_id="qd96-2023",
        roster=[a, person("Cầm Thị Hoa", "Phó Bí thư", key="cb-002")],
        columns=[rated(6, 10), column(high=5, confidence=4, low=1)],
    )
    counted_round(
        session,
        task.body("X-MH"),
        year=YEAR,
        profile_id="qd96-2023",
        roster=[
            person("Lò Văn Minh", "Bí thư Đảng ủy xã", key="cb-001"),
            person("Quàng Văn Đức", "Chủ tịch UBND xã", key="cb-010"),
        ],
        columns=[rated(7, 10), rated(0, 10)],
    )
    counted_round(
        session,
        task.body("X-MH"),
        year=2024,
        profile_id="qd96-2023",
        roster=[person("Quàng Văn Đức", "Chủ tịch UBND xã", key="cb-010")],
        columns=[rated(9, 10)],
        time_exception="15-QĐ/TU",
    )
    operations.create_round(
        task,
        body_code="X-CM",
        year=YEAR,
        profile_id="qd96-2023",
        title="Lấy phiếu tín nhiệm năm 2025",
        roster=[person("Hà Thị Lan", "Bí thư", key="cb-020")],
        members=9,
    )
    counted_round(
        session,
        task.body("HDND-SL"),
        year=YEAR,
        profile_id="nq96-2023",
        roster=[person("Lò Văn Minh", "Chủ tịch HĐND", key="cb-001")],
        columns=[rated(9, 10)],
    )
    session.commit()


def test_every_number_of_the_period_report(session: Session) -> None:
    _known(session)
    report = period_report(session, work(session).body("T-SL"), START, END)
    assert report["bodies"] == 3
    assert [(r["body"], r["year"]) for r in report["rounds"]] == [("T-SL", 2025), ("X-MH", 2025)]
    assert [r["body"] for r in report["not_closed"]] == ["X-CM"]
    assert report["void"] == []
    (profile,) = report["by_profile"]
    assert profile.startswith("qd96-2023@")
    assert report["by_profile"][profile] == {"rounds": 2, "quorum_met": 2}
    # A is one person in two places: 3 persons polled, not 4.
    assert report["persons_polled"] == 3
    assert report["bands"] == {"over_half_under_two_thirds": 1, "two_thirds_or_more": 1}
    assert [(f["body"], f["identity"], f["band"]) for f in report["findings"]] == [
        ("T-SL", "cb-001", "over_half_under_two_thirds"),
        ("X-MH", "cb-001", "two_thirds_or_more"),
    ]
    assert report["levels"] == {
        "province": {"polled": 2, "low": 1},
        "commune": {"polled": 2, "low": 1},
    }
    rows = [
        (r["body"], r["identity"], r["counts"]["low"], r["denominator"], r["low_share"])
        for r in report["rows"]
    ]
    assert rows == [
        ("T-SL", "cb-001", 6, 10, "60.00"),
        ("T-SL", "cb-002", 1, 10, "10.00"),
        ("X-MH", "cb-001", 7, 10, "70.00"),
        ("X-MH", "cb-010", 0, 10, "0.00"),
    ]
    # A commune alone: its own rounds only.
    commune = period_report(session, work(session).body("X-MH"), START, END)
    assert commune["persons_polled"] == 2
    assert commune["bands"] == {"two_thirds_or_more": 1}


def _write_report(votes: VotesRunner, out: Path) -> None:
    """Write the report of T-SL for 2025 through the command line."""
    done = votes(
        "report", "period", "--body", "T-SL", "--from", "2025-01-01", "--to", "2025-12-31",
        "--out", out,
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr


def test_the_period_report_as_xlsx(session: Session, votes: VotesRunner, tmp_path: Path) -> None:
    _known(session)
    out = tmp_path / "report.xlsx"
    _write_report(votes, out)
    book = load_workbook(io.BytesIO(out.read_bytes()))
    assert book.sheetnames[:2] == ["Tổng hợp", "Kết luận"]
    sheet = book["Tổng hợp"]
    header = [cell.value for cell in sheet[1]]
    for wanted in ("Họ và tên", "Đơn vị", "Năm", "Tín nhiệm thấp", "Tỷ lệ tín nhiệm thấp (%)"):
        assert wanted in header
    rows = [dict(zip(header, [c.value for c in row], strict=True)) for row in sheet.iter_rows(2)]
    assert [(r["Họ và tên"], r["Đơn vị"], r["Năm"], r["Tín nhiệm thấp"]) for r in rows] == [
        ("Lò Văn Minh", "Tỉnh ủy Sơn La", 2025, 6),
        ("Cầm Thị Hoa", "Tỉnh ủy Sơn La", 2025, 1),
        ("Lò Văn Minh", "Đảng ủy xã Mường Hung", 2025, 7),
        ("Quàng Văn Đức", "Đảng ủy xã Mường Hung", 2025, 0),
    ]
    shares = [r["Tỷ lệ tín nhiệm thấp (%)"] for r in rows]
    assert [Decimal(str(s)) for s in shares] == [
        Decimal("60"),
        Decimal("10"),
        Decimal("70"),
        Decimal("0"),
    ]
    column = header.index("Tỷ lệ tín nhiệm thấp (%)") + 1
    assert sheet.cell(row=2, column=column).number_format == "0.00"
    assert all(isinstance(r["Tín nhiệm thấp"], int) for r in rows)
    findings = book["Kết luận"]
    assert findings.max_row == 3  # the header and two findings
    assert findings.cell(row=2, column=2).value == "Lò Văn Minh"


def _text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    words = " ".join(page.extract_text() or "" for page in reader.pages)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", words))


def test_the_period_report_as_pdf(session: Session, votes: VotesRunner, tmp_path: Path) -> None:
    _known(session)
    out = tmp_path / "report.pdf"
    _write_report(votes, out)
    words = _text(out.read_bytes())
    assert "BÁO CÁO KẾT QUẢ LẤY PHIẾU TÍN NHIỆM" in words
    assert "từ ngày 01/01/2025 đến ngày 31/12/2025" in words
    assert "Số người được lấy phiếu 3" in words
    assert "Số đợt chưa kết thúc 1" in words
    assert "Cấp tỉnh" in words
    assert "Cấp xã" in words
    assert "7/10 = 70,00 %" in words
    png = tmp_path / "report"
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(out), str(png)], check=True)
    assert list(tmp_path.glob("report*.png"))


def test_period_report_refusals(session: Session, votes: VotesRunner, tmp_path: Path) -> None:
    _known(session)
    base = ["report", "period", "--body", "T-SL", "--from", "2025-01-01"]
    missing = votes(*base, "--out", tmp_path / "r.pdf")
    assert missing.exit_code != 0
    assert "Traceback" not in missing.stderr
    backwards = votes(*base, "--to", "2024-01-01", "--out", tmp_path / "r.pdf")
    assert backwards.exit_code != 0
    assert "2024-01-01" in backwards.stderr
    wrong = votes(*base, "--to", "2025-12-31", "--out", tmp_path / "r.doc")
    assert wrong.exit_code != 0
    unknown = votes(
        "report",
        "period",
        "--body",
        "NONE",
        "--from",
        "2025-01-01",
        "--to",
        "2025-12-31",
        "--out",
        tmp_path / "r.pdf",
    )
    assert unknown.exit_code != 0
    assert not (tmp_path / "r.pdf").exists()


def test_votes_of_confidence_and_their_outcome(session: Session) -> None:
    _known(session)
    task = work(session)
    poll = session.scalars(select(Round).where(Round.body_id == task.body("T-SL").id)).first()
    assert poll is not None
    vote = operations.follow_up(task, poll.id, members=10, summoned=10, present=10)
    assert [i.name for i in vote.items] == ["Lò Văn Minh"]
    operations.open_round(task, vote.id)
    ballots = "status,1\n" + "valid,K\n" * 6 + "valid,T\n" * 4
    operations.import_paper_ballots(task, vote.id, ballots.encode(), issued=10)
    operations.close_round(task, vote.id)
    session.commit()
    report = period_report(session, task.body("T-SL"), START, END)
    assert [
        (v["body"], v["identity"], v["trust"], v["no_trust"], v["denominator"], v["no_confidence"])
        for v in report["confidence_votes"]
    ] == [("T-SL", "cb-001", 4, 6, 10, True)]
    # The vote is a round held, but no poll: the persons polled and the bands do not move.
    assert report["persons_polled"] == 3
    assert report["bands"] == {"over_half_under_two_thirds": 1, "two_thirds_or_more": 1}
