"""The `votes` command end to end, with the worked example of DOMAIN.md §8."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import VotesRunner


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def test_worked_example_through_the_command_line(votes: VotesRunner, tmp_path: Path) -> None:
    """DOMAIN.md §8: 32 members, 30 ballots; A 20/8/1 + 1 invalid mark; B 5/8/17."""
    assert (
        votes(
            "body add",
        ).exit_code
        != 0
    )  # a missing argument is refused
    out = votes("body", "add", "HDND-X", "Hội đồng nhân dân tỉnh X", "--kind", "council")
    assert out.exit_code == 0, out.stderr
    roster = write(
        tmp_path / "roster.csv", "name,position\nNgười A,Chủ tịch\nNgười B,Phó Chủ tịch\n"
    )
    out = votes(
        "round",
        "create",
        "--body",
        "HDND-X",
        "--year",
        2014,
        "--profile",
        "nq35-2012",
        "--title",
        "Lấy phiếu tín nhiệm 2025",
        "--members",
        32,
        "--summoned",
        32,
        "--present",
        30,
        "--roster",
        roster,
    )
    assert out.exit_code == 0, out.stderr
    round_id = int(out.last_line)
    assert votes("round", "open", round_id).exit_code == 0
    rows = ["status,1,2"]
    a = ["H"] * 20 + ["C"] * 8 + ["L"] * 1 + [""] * 1
    b = ["H"] * 5 + ["C"] * 8 + ["L"] * 17
    rows += [f"valid,{x},{y}" for x, y in zip(a, b, strict=True)]
    ballots = write(tmp_path / "ballots.csv", "\n".join(rows) + "\n")
    out = votes("ballots", "import", round_id, ballots, "--issued", 30)
    assert out.exit_code == 0, out.stderr
    assert votes("results", round_id, "--format", "json").exit_code != 0  # still open
    assert votes("round", "close", round_id).exit_code == 0
    out = votes("results", round_id, "--format", "json")
    assert out.exit_code == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["denominator"] == {"basis": "members", "value": 32}
    assert result["ballots"] == {"issued": 30, "collected": 30, "valid": 30, "invalid": 0}
    person_a, person_b = result["items"]
    assert person_a["counts"] == {"high": 20, "confidence": 8, "low": 1, "invalid": 1}
    assert person_a["percent"] == {"high": "62.50", "confidence": "25.00", "low": "3.13"}
    assert person_a["findings"] == []
    assert person_b["percent"]["low"] == "53.13"
    assert [f["band"] for f in person_b["findings"]] == ["over_half"]
    assert "từ chức" in person_b["findings"][0]["consequence"]["vi"]


def test_report_commands_write_pdfs(votes: VotesRunner, tmp_path: Path) -> None:
    from pypdf import PdfReader

    assert votes("body", "add", "TU", "Tỉnh ủy Thử Nghiệm").exit_code == 0
    roster = write(
        tmp_path / "r.csv", "name,position\nNguyễn Thị Ánh,Bí thư\nĐặng Văn Đức,Phó Bí thư\n"
    )
    round_id = int(
        votes(
            "round",
            "create",
            "--body",
            "TU",
            "--year",
            2025,
            "--profile",
            "tn-16kh-2012",
            "--title",
            "Lấy phiếu 2025",
            "--members",
            10,
            "--roster",
            roster,
        ).last_line
    )
    out = votes("report", round_id, "--kind", "ballot", "--out", tmp_path / "ballot.pdf")
    assert out.exit_code == 0, out.stderr
    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "ballot.pdf").pages)
    assert "Nguyễn Thị Ánh" in text
    assert "Đặng Văn Đức" in text
    assert votes("round", "open", round_id).exit_code == 0
    assert votes("report", round_id, "--kind", "slips", "--out", tmp_path / "s.pdf").exit_code == 1
    out = votes("report", round_id, "--kind", "slips", "--count", 3, "--out", tmp_path / "s.pdf")
    assert out.exit_code == 0, out.stderr
    slips_text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "s.pdf").pages)
    codes = [w for w in slips_text.split() if w.count("-") == 2 and len(w) == 14]
    assert len(set(codes)) == 3
    # The printed codes are real: each one casts a ballot once.
    assert votes("cast", round_id, "--code", codes[0], "--marks", "H,L").exit_code == 0
    assert votes("cast", round_id, "--code", codes[0], "--marks", "H,L").exit_code == 1
    # Minutes exist only after close.
    refused = votes("report", round_id, "--kind", "minutes", "--out", tmp_path / "m.pdf")
    assert refused.exit_code == 1
    assert votes("round", "close", round_id).exit_code == 0
    # … and once the meeting is recorded: they are dated by it (issue 14).
    refused = votes("report", round_id, "--kind", "minutes", "--out", tmp_path / "m.pdf")
    assert refused.exit_code == 1
    assert f"votes round meeting {round_id} --held-on" in refused.stderr
    meeting = votes(
        "round",
        "meeting",
        round_id,
        "--held-on",
        "2025-12-19",
        "--committee",
        "Lò Thị Mai (Trưởng ban); Hà Văn Sơn",
    )
    assert meeting.exit_code == 0, meeting.stderr
    out = votes("report", round_id, "--kind", "minutes", "--out", tmp_path / "m.pdf")
    assert out.exit_code == 0, out.stderr
    minutes = " ".join(p.extract_text() for p in PdfReader(tmp_path / "m.pdf").pages)
    assert "BIÊN BẢN KIỂM PHIẾU" in minutes
    assert "ngày 19 tháng 12 năm 2025" in minutes
    summary = votes("report", round_id, "--kind", "summary", "--out", tmp_path / "x.pdf")
    assert summary.exit_code == 0
