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
    assert votes("body add", ).exit_code != 0  # a missing argument is refused
    out = votes("body", "add", "HDND-X", "Hội đồng nhân dân tỉnh X", "--kind", "council")
    assert out.exit_code == 0, out.stderr
    roster = write(tmp_path / "roster.csv", "name,position\nNgười A,Chủ tịch\nNgười B,Phó Chủ tịch\n")
    out = votes("round", "create", "--body", "HDND-X", "--year", 2025, "--profile", "nq35-2012",
                "--title", "Lấy phiếu tín nhiệm 2025", "--members", 32, "--summoned", 32,
                "--present", 30, "--roster", roster)
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
