"""The `votes` command: its stable interface, and one clear line on stderr for every refusal."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import VotesRunner, copy_database, make_test_app, template_of
from votes.demo import DemoBusy, hold_demo

if TYPE_CHECKING:
    from tests.conftest import Outcome

ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
CODE = re.compile(rf"^[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}$")
ROSTER = (
    "name,position,person_key,kind,exempt_reason\n"
    "Nguyễn Văn An,Chủ tịch HĐND,a-1,,\n"
    "Trần Thị Bình,Phó Chủ tịch HĐND,b-2,,\n"
    "Lê Văn Cường,Trưởng ban Pháp chế,c-3,,Đã có thông báo nghỉ hưu\n"
)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def ok(outcome: Outcome) -> Outcome:
    """Check a command succeeded quietly on stderr."""
    assert outcome.exit_code == 0, outcome.stderr
    return outcome


def refused(outcome: Outcome, *words: str) -> str:
    """Check a refusal: non-zero exit, one line on stderr, no traceback; return the line."""
    assert outcome.exit_code != 0, outcome.stdout
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert "Unexpected error" not in outcome.stderr
    assert "Lỗi không lường trước" not in outcome.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def new_round(
    votes: VotesRunner,
    tmp_path: Path,
    *,
    present: int = 20,
    body: str = "HDND-C",
    year: int = 2014,
) -> int:
    """Create a body (once) and a draft round of two persons through the command line."""
    if body not in votes("body", "list").stdout:
        ok(votes("body", "add", body, "Hội đồng nhân dân C", "--kind", "council"))
    roster = write(tmp_path / "roster.csv", ROSTER)
    outcome = ok(
        votes(
            "round",
            "create",
            "--body",
            body,
            "--year",
            year,
            "--profile",
            "nq35-2012",
            "--title",
            "Lấy phiếu tín nhiệm năm 2025",
            "--members",
            24,
            "--summoned",
            22,
            "--present",
            present,
            "--roster",
            roster,
        )
    )
    return int(outcome.last_line)


def issue(votes: VotesRunner, round_id: int, count: int, tmp_path: Path) -> list[str]:
    """Issue codes through the command line into a file and return them."""
    out = tmp_path / f"codes-{round_id}-{count}.txt"
    ok(votes("codes", "issue", round_id, "--count", count, "--out", out))
    return out.read_text(encoding="utf-8").splitlines()


# ---------------------------------------------------------------------------- the happy path


def test_codes_issue_writes_distinct_well_formed_codes(votes: VotesRunner, tmp_path: Path) -> None:
    round_id = new_round(votes, tmp_path)
    out = tmp_path / "codes.txt"
    outcome = ok(votes("codes", "issue", round_id, "--count", 15, "--out", out))
    codes = out.read_text(encoding="utf-8").splitlines()
    assert len(codes) == len(set(codes)) == 15
    assert all(CODE.match(code) for code in codes)
    assert not any(code in outcome.stdout + outcome.stderr for code in codes)
    # Without --out the codes go to standard output, one per line, and nothing else does.
    printed = ok(votes("codes", "issue", round_id, "--count", 3)).stdout.splitlines()
    assert len(printed) == 3
    assert all(CODE.match(code) for code in printed)
    assert not set(printed) & set(codes)


def test_cast_prints_a_receipt_and_results_follow_the_documented_shape(
    votes: VotesRunner, tmp_path: Path
) -> None:
    round_id = new_round(votes, tmp_path)
    codes = issue(votes, round_id, 4, tmp_path)
    ok(votes("round", "open", round_id))
    receipts = [
        ok(votes("cast", round_id, "--code", code, "--marks", marks)).last_line
        for code, marks in zip(codes, ["H,L", "h,l", "C,L", "L,L"], strict=False)
    ]
    assert all(re.fullmatch(r"BN( [0-9]{4}){4}", receipt) for receipt in receipts)
    assert len(set(receipts)) == 4
    ballots = write(tmp_path / "paper.csv", "status,1,2\nvalid,H,\ninvalid,L,L\nvalid,X,H\n")
    ok(votes("ballots", "import", round_id, ballots, "--issued", 3))
    ok(votes("round", "close", round_id))

    result = json.loads(ok(votes("results", round_id, "--format", "json")).stdout)
    # The keys of the issue, exactly where they are closed sets, at least where `…` allows more.
    assert {
        "round",
        "members",
        "summoned",
        "present",
        "quorum_met",
        "ballots",
        "denominator",
        "items",
        "exempt",
    } <= set(result)
    assert {"id", "body", "year", "title", "status", "profile"} <= set(result["round"])
    assert {"id", "version"} <= set(result["round"]["profile"])
    assert result["round"]["id"] == round_id
    assert result["round"]["body"] == "HDND-C"
    assert result["round"]["year"] == 2014
    assert result["round"]["status"] == "closed"
    assert result["round"]["profile"]["id"] == "nq35-2012"
    assert isinstance(result["round"]["profile"]["version"], int)
    assert (result["members"], result["summoned"], result["present"]) == (24, 22, 20)
    assert result["quorum_met"] is True
    assert result["ballots"] == {"issued": 7, "collected": 7, "valid": 6, "invalid": 1}
    assert result["denominator"] == {"basis": "members", "value": 24}
    assert len(result["items"]) == 2
    for item in result["items"]:
        assert {"order", "person_key", "name", "position", "counts", "percent", "findings"} <= set(
            item
        )
        assert set(item["counts"]) == {"high", "confidence", "low", "invalid"}
        assert set(item["percent"]) == {"high", "confidence", "low"}
        assert all(re.fullmatch(r"\d+\.\d\d", value) for value in item["percent"].values())
    first, second = result["items"]
    assert (first["order"], first["person_key"], first["name"]) == (1, "a-1", "Nguyễn Văn An")
    assert first["position"] == "Chủ tịch HĐND"
    # Item 1: online H, H, C, L and paper H, X (the invalid ballot does not count).
    assert first["counts"] == {"high": 3, "confidence": 1, "low": 1, "invalid": 1}
    assert first["percent"] == {"high": "12.50", "confidence": "4.17", "low": "4.17"}
    # Item 2: online L, L, L, L and paper (empty), H.
    assert second["counts"] == {"high": 1, "confidence": 0, "low": 4, "invalid": 1}
    assert second["percent"] == {"high": "4.17", "confidence": "0.00", "low": "16.67"}
    assert result["exempt"] == [
        {
            "name": "Lê Văn Cường",
            "position": "Trưởng ban Pháp chế",
            "reason": "Đã có thông báo nghỉ hưu",
            "reason_id": "retirement",  # a reason the profile lists: no decision needed
            "decision": None,
        }
    ]

    table = list(csv.reader(io.StringIO(ok(votes("results", round_id, "--format", "csv")).stdout)))
    assert table[0] == [
        "order",
        "person_key",
        "name",
        "position",
        "high",
        "confidence",
        "low",
        "invalid",
        "high_percent",
        "confidence_percent",
        "low_percent",
        "denominator",
        "findings",
        "seal",
        "log_head",
    ]
    # Every line carries the anchors: the round's seal and the head of the log when written.
    result = json.loads(ok(votes("results", round_id, "--format", "json")).stdout)
    head = f"{result['head']['id']}:{result['head']['hash']}"
    assert {tuple(row[-2:]) for row in table[1:]} == {(result["seal"], head)}
    assert [row[:-2] for row in table[1:]] == [
        [
            "1",
            "a-1",
            "Nguyễn Văn An",
            "Chủ tịch HĐND",
            "3",
            "1",
            "1",
            "1",
            "12.50",
            "4.17",
            "4.17",
            "24",
            "",
        ],
        [
            "2",
            "b-2",
            "Trần Thị Bình",
            "Phó Chủ tịch HĐND",
            "1",
            "0",
            "4",
            "1",
            "4.17",
            "0.00",
            "16.67",
            "24",
            "",
        ],
    ]
    text = ok(votes("results", round_id)).stdout
    assert "Nguyễn Văn An" in text
    assert "12,50" in text  # a decimal comma in the Vietnamese table


def test_unknown_numbers_are_null_in_json(votes: VotesRunner, tmp_path: Path) -> None:
    ok(votes("body", "add", "TU-N", "Tỉnh ủy N"))
    roster = write(tmp_path / "roster.csv", "name,position\nHà Văn Một,Bí thư\n")
    round_id = int(
        ok(
            votes(
                "round",
                "create",
                "--body",
                "TU-N",
                "--year",
                2024,
                "--profile",
                "tn-16kh-2012",
                "--title",
                "Lấy phiếu",
                "--members",
                9,
                "--roster",
                roster,
            )
        ).last_line
    )
    codes = issue(votes, round_id, 1, tmp_path)
    ok(votes("round", "open", round_id))
    ok(votes("cast", round_id, "--code", codes[0], "--marks", "L"))
    ok(votes("round", "close", round_id))
    result = json.loads(ok(votes("results", round_id, "--format", "json")).stdout)
    assert (result["summoned"], result["present"]) == (None, None)
    assert result["quorum_met"] is True  # tn-16kh-2012 asks for no quorum
    assert result["denominator"] == {"basis": "collected", "value": 1}
    assert result["items"][0]["percent"] == {"high": "0.00", "confidence": "0.00", "low": "100.00"}


@dataclass
class Demo:
    """A database where `votes demo --no-serve` ran once, and what it printed."""

    template: str  # SQLite: the file; PostgreSQL: the database, copied for each test
    printed: str
    rounds: str  # `votes round list` after it


@pytest.fixture(scope="module")
def demo(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo seeded once for the module (its run costs seconds); each test gets a copy."""
    holder = copy_database(migrated_template, tmp_path_factory.mktemp("demo"))
    url = next(holder)
    application = make_test_app(url)
    votes = VotesRunner(application)
    printed = ok(votes("demo", "--no-serve")).stdout
    rounds = ok(votes("round", "list")).stdout
    application.extensions["votes.engine"].dispose()  # a template is copied unused
    yield Demo(template_of(url), printed, rounds)
    holder.close()  # PostgreSQL: drops it


@pytest.fixture
def demo_votes(demo: Demo, tmp_path: Path) -> Iterator[VotesRunner]:
    """`votes` on a copy of the module's demo database."""
    holder = copy_database(demo.template, tmp_path)
    application = make_test_app(next(holder))
    yield VotesRunner(application)
    application.extensions["votes.engine"].dispose()
    holder.close()


def test_demo_is_idempotent(demo: Demo, demo_votes: VotesRunner) -> None:
    votes = demo_votes
    first = demo  # the module's first run, on an empty database
    rounds_after_first = first.rounds
    second = ok(votes("demo", "--no-serve"))
    assert second.stdout == first.printed
    assert ok(votes("round", "list")).stdout == rounds_after_first
    # Two counted rounds of the Party committee, a counted round of three voter groups (its
    # own body), one open round of the People's Council.
    assert len(rounds_after_first.strip().splitlines()) == 4
    assert ok(votes("body", "list")).stdout.count("\n") == 3
    assert "Nguyễn Văn Thắng" in first.printed


# ---------------------------------------------------------------------------- refusals


def test_unknown_body_and_round_are_refused(votes: VotesRunner, tmp_path: Path) -> None:
    roster = write(tmp_path / "roster.csv", ROSTER)
    refused(
        votes(
            "round",
            "create",
            "--body",
            "KHONG-CO",
            "--year",
            2014,
            "--profile",
            "nq35-2012",
            "--title",
            "T",
            "--members",
            3,
            "--roster",
            roster,
        ),
        "KHONG-CO",
    )
    refused(votes("round", "list", "--body", "KHONG-CO"), "KHONG-CO")
    codes = tmp_path / "codes.txt"
    for args in (
        ("round", "open", 404),
        ("round", "close", 404),
        ("round", "publish", 404),
        ("results", 404),
        ("results", 404, "--format", "json"),
        ("codes", "issue", 404, "--count", 2, "--out", codes),
        ("cast", 404, "--code", "ACDE-FGHJ-KMNP", "--marks", "H"),
        ("ballots", "import", 404, roster),
    ):
        refused(votes(*args), "404")
    assert not codes.exists()


def test_an_unknown_profile_is_refused(votes: VotesRunner, tmp_path: Path) -> None:
    ok(votes("body", "add", "TU-P", "Tỉnh ủy P"))
    roster = write(tmp_path / "roster.csv", ROSTER)
    refused(
        votes(
            "round",
            "create",
            "--body",
            "TU-P",
            "--year",
            2025,
            "--profile",
            "qd-9999",
            "--title",
            "T",
            "--members",
            3,
            "--roster",
            roster,
        ),
        "qd-9999",
    )


def test_a_duplicate_body_is_refused(votes: VotesRunner) -> None:
    ok(votes("body", "add", "TU-D", "Tỉnh ủy D"))
    refused(votes("body", "add", "TU-D", "Tỉnh ủy khác"), "TU-D")


def test_wrong_states_are_refused(votes: VotesRunner, tmp_path: Path) -> None:
    round_id = new_round(votes, tmp_path)
    refused(votes("round", "close", round_id), str(round_id))  # a draft
    refused(votes("results", round_id), str(round_id))  # a draft has no results
    ok(votes("round", "open", round_id))
    refused(votes("round", "open", round_id), str(round_id))
    refused(votes("round", "publish", round_id), str(round_id))
    refused(votes("results", round_id, "--format", "json"), str(round_id))  # never partial
    refused(votes("results", round_id, "--format", "csv"), str(round_id))
    ok(votes("round", "close", round_id))
    refused(votes("round", "close", round_id), str(round_id))
    refused(votes("round", "open", round_id), str(round_id))
    refused(votes("codes", "issue", round_id, "--count", 1), str(round_id))
    ballots = write(tmp_path / "paper.csv", "status,1,2\nvalid,H,H\n")
    refused(votes("ballots", "import", round_id, ballots, "--issued", 1), str(round_id))


def test_used_unknown_and_malformed_codes_are_refused(votes: VotesRunner, tmp_path: Path) -> None:
    round_id = new_round(votes, tmp_path)
    codes = issue(votes, round_id, 2, tmp_path)
    other = new_round(votes, tmp_path, year=2013)  # one poll a year under NQ 35/2012
    other_codes = issue(votes, other, 1, tmp_path)
    ok(votes("round", "open", round_id))
    ok(votes("round", "open", other))
    ok(votes("cast", round_id, "--code", codes[0], "--marks", "H,C"))
    first = refused(votes("cast", round_id, "--code", codes[0], "--marks", "H,C"))
    again = refused(votes("cast", round_id, "--code", codes[0].lower(), "--marks", "L,L"))
    assert first == again
    unknown = refused(votes("cast", round_id, "--code", "ACDE-FGHJ-KMNP", "--marks", "H,C"))
    assert unknown != first
    # A code of another round is simply unknown here.
    assert refused(votes("cast", round_id, "--code", other_codes[0], "--marks", "H,C")) == unknown
    malformed = refused(votes("cast", round_id, "--code", "ACDE-FGHJ", "--marks", "H,C"))
    assert malformed not in (first, unknown)
    refused(votes("cast", round_id, "--code", codes[1], "--marks", "H"))
    refused(votes("cast", round_id, "--code", codes[1], "--marks", "H,C,L"))
    refused(votes("cast", round_id, "--code", codes[1], "--marks", "H,X"))
    # None of the refusals spent the code.
    ok(votes("cast", round_id, "--code", codes[1], "--marks", "L,L"))
    ok(votes("cast", other, "--code", other_codes[0], "--marks", "L,L"))


def test_a_bad_ballot_file_is_refused_with_its_line(votes: VotesRunner, tmp_path: Path) -> None:
    round_id = new_round(votes, tmp_path)
    ok(votes("round", "open", round_id))
    bad = write(tmp_path / "paper.csv", "status,1,2\nvalid,H,C\nvalid,H,C\nvalid,H,Q\nvalid,L,L\n")
    line = refused(votes("ballots", "import", round_id, bad, "--issued", 4), "4", "'Q'")
    assert "Dòng 4" in line  # Vietnamese by default
    cp1258 = tmp_path / "excel.csv"
    cp1258.write_bytes(b"status,1,2\nvalid,H,C\nvalid,H,C,Ghi ch\xfa\n")
    refused(votes("ballots", "import", round_id, cp1258, "--issued", 4), "UTF-8")
    refused(
        votes("ballots", "import", round_id, tmp_path / "missing.csv", "--issued", 4), "missing.csv"
    )
    # Nothing was stored: all four ballots can still be handed out and imported.
    good = write(tmp_path / "good.csv", "status,1,2\n" + "valid,H,C\n" * 4)
    refused(votes("ballots", "import", round_id, good, "--issued", 3), "4", "3")
    ok(votes("ballots", "import", round_id, good, "--issued", 4))
    # The same file again is refused as such (tests/test_uploads.py); said to be another
    # stack, it would make 8 ballots of 4 issued.
    refused(votes("ballots", "import", round_id, good), "đã được nhập")
    refused(votes("ballots", "import", round_id, good, "--another-stack"), "8", "4")
    ok(votes("round", "close", round_id))
    result = json.loads(ok(votes("results", round_id, "--format", "json")).stdout)
    assert result["ballots"] == {"issued": 4, "collected": 4, "valid": 4, "invalid": 0}


def test_impossible_counts_are_refused(votes: VotesRunner, tmp_path: Path) -> None:
    ok(votes("body", "add", "HDND-K", "HĐND K", "--kind", "council"))
    roster = write(tmp_path / "roster.csv", ROSTER)
    create = (
        "round",
        "create",
        "--body",
        "HDND-K",
        "--year",
        2014,
        "--profile",
        "nq35-2012",
        "--title",
        "T",
        "--members",
        30,
        "--roster",
        roster,
    )
    refused(votes(*create, "--summoned", 20, "--present", 21), "21", "20")
    assert ok(votes("round", "list")).stdout.strip() == ""
    round_id = int(ok(votes(*create, "--summoned", 20, "--present", 10)).last_line)
    refused(votes("codes", "issue", round_id, "--count", 21), "21", "20")
    ok(votes("round", "open", round_id))
    paper = write(tmp_path / "paper.csv", "status,1,2\nvalid,H,C\n")
    refused(votes("ballots", "import", round_id, paper, "--issued", 11), "11", "10")


def test_a_bad_roster_is_refused(votes: VotesRunner, tmp_path: Path) -> None:
    ok(votes("body", "add", "HDND-R", "HĐND R", "--kind", "council"))

    def create(text: str | bytes) -> Outcome:
        path = tmp_path / "roster.csv"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            write(path, text)
        return votes(
            "round",
            "create",
            "--body",
            "HDND-R",
            "--year",
            2014,
            "--profile",
            "nq35-2012",
            "--title",
            "T",
            "--members",
            30,
            "--roster",
            path,
        )

    refused(
        create("name,position\nNguyễn Văn An,Bí thư\nTrần Bình,Ủy viên\nNguyễn Văn An,Ủy viên\n"),
        "4",
        "2",
        "Nguyễn Văn An",
    )
    refused(create("name\nNguyễn Văn An\n"), "position")
    refused(create("name,position\n,Bí thư\n"), "2")
    # "Nguyễn Văn An,Bí thư" as Excel on Vietnamese Windows saves it (Windows-1258).
    refused(create(b"name,position\nNguy\xea\xden V\xe3n An,B\xed th\xf0\n"), "UTF-8")
    refused(create(""))
    assert ok(votes("round", "list")).stdout.strip() == ""


def test_messages_can_be_in_english(votes: VotesRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("votes.cli.LANGUAGE", "en")
    assert refused(votes("round", "open", 77)) == "Error: Unknown round 77."


# ---------------------------------------------------------------------------- the console script


def console(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the installed `votes` console script in a subprocess."""
    script = Path(sys.executable).with_name("votes")
    assert script.exists(), script
    return subprocess.run(
        [str(script), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """The environment without any VOTES_* setting, and a SQLite database in tmp_path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOTES_")}
    env["VOTES_DATABASE_URL"] = f"sqlite:///{tmp_path / 'console.sqlite3'}"
    return env


@pytest.mark.slow
def test_the_console_script_works(tmp_path: Path) -> None:
    env = clean_environment(tmp_path) | {"VOTES_SECRET_KEY": "console-secret-0123456789abcdef"}
    done = console(["db", "upgrade"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    done = console(
        ["body", "add", "HDND-S", "Hội đồng nhân dân S", "--kind", "council"], env, tmp_path
    )
    assert done.returncode == 0, done.stderr
    done = console(["body", "add", "HDND-S", "Hội đồng khác"], env, tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert "HDND-S" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("key", [None, "dev-not-secret"])
def test_the_console_script_refuses_to_start_without_a_secret_key(
    tmp_path: Path, key: str | None
) -> None:
    env = clean_environment(tmp_path)
    if key is not None:
        env["VOTES_SECRET_KEY"] = key
    done = console(["body", "list"], env, tmp_path)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "VOTES_SECRET_KEY" in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "console.sqlite3").exists() or done.stdout == ""


@pytest.mark.slow
def test_the_demo_needs_no_secret_key(tmp_path: Path) -> None:
    done = console(["demo", "--no-serve"], clean_environment(tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Nguyễn Văn Thắng" in done.stdout
    assert (tmp_path / "console.sqlite3").exists()


# ------------------------------------------------------------------- a newcomer's first steps


@pytest.mark.slow
def test_help_needs_no_secret_key_and_speaks_vietnamese(tmp_path: Path) -> None:
    done = console(["--help"], clean_environment(tmp_path), tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stderr == ""
    assert "Cách dùng: votes" in done.stdout
    assert "Lệnh:" in done.stdout
    english = console(
        ["round", "--help"], clean_environment(tmp_path) | {"VOTES_LANG": "en"}, tmp_path
    )
    assert "Rounds: create, open, close, publish." in english.stdout
    vietnamese = console(["round", "--help"], clean_environment(tmp_path), tmp_path)
    assert "Đợt lấy phiếu: lập, mở, kết thúc, công bố." in vietnamese.stdout
    assert "Show this message" not in vietnamese.stdout


@pytest.mark.slow
def test_before_the_schema_exists_the_command_says_to_upgrade(tmp_path: Path) -> None:
    env = clean_environment(tmp_path) | {"VOTES_SECRET_KEY": "console-secret-0123456789abcdef"}
    done = console(["body", "list"], env, tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "Cơ sở dữ liệu chưa có bảng, hoặc chưa đủ bảng: hãy chạy `votes db upgrade` trước."
    )


def test_an_unknown_language_is_refused(tmp_path: Path) -> None:
    done = console(["body", "list"], clean_environment(tmp_path) | {"VOTES_LANG": "fr"}, tmp_path)
    assert done.returncode == 2
    assert "VOTES_LANG" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_demo_has_host_and_port_and_one_demo_a_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    with hold_demo(str(tmp_path), url, "http://127.0.0.1:5000"):
        with (
            pytest.raises(DemoBusy) as busy,
            hold_demo(str(tmp_path), url, "http://127.0.0.1:5001"),
        ):
            pass  # never reached: the first demo holds the database
        assert "http://127.0.0.1:5000" in busy.value.message("vi")
        with hold_demo(str(tmp_path), url + "-other", "http://127.0.0.1:5002"):
            pass  # another database: another demo may run
    with hold_demo(str(tmp_path), url, "http://127.0.0.1:5001"):
        pass  # the first one stopped: the lock is free again
    done = console(["demo", "--help"], clean_environment(tmp_path), tmp_path)
    assert "--host" in done.stdout
    assert "--port" in done.stdout


def test_the_demo_leaves_one_round_published(demo_votes: VotesRunner) -> None:
    votes = demo_votes  # `votes demo --no-serve` ran on it (the module's demo)
    states = [line.split("\t")[3] for line in ok(votes("round", "list")).stdout.splitlines()]
    assert states.count("đã công bố") == 1
