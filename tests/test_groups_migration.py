"""Migration 0007: a database written by the code before voter groups keeps every count and seal.

The database is built by the previous version of the application itself (the commit before
voter groups, taken from git and run as a separate process), with a closed round (paper) and
a published one (paper and online codes). After the migration, `votes verify --all` passes
and `votes results` gives the same counts, seals and findings. SQLite, and PostgreSQL with
VOTES_TEST_DATABASE_URL.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from tests.factories import pack, paper_csv, rated

REPOSITORY = Path(__file__).resolve().parent.parent
SECRET = "test-secret-key-0123456789abcdef"


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(REPOSITORY), *args],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _before_groups() -> str | None:
    """Return the commit before voter groups (the parent of the one adding migration 0007)."""
    try:
        added = _git(
            "log",
            "--diff-filter=A",
            "--format=%H",
            "--",
            "votes/migrations/versions/0007_groups.py",
        ).splitlines()
        return _git("rev-parse", f"{added[-1]}^") if added else None
    except (OSError, subprocess.CalledProcessError):
        return None


@pytest.fixture(scope="module")
def old_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Unpack the application as it was before voter groups."""
    commit = _before_groups()
    if commit is None:
        pytest.skip("needs the git history (the commit before voter groups)")
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", commit, "votes", "reports"],
        check=True,
        capture_output=True,
    ).stdout
    target = tmp_path_factory.mktemp("before-groups")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    assert not (target / "votes/migrations/versions/0007_groups.py").exists()
    return target


# One process per code version runs every command of the test: each line on its stdin is a
# JSON list of arguments, run as `votes` would run them (votes.cli.run, its exit status, its
# stdout and stderr, a traceback on stderr if one escapes); each answer is one JSON line. The
# import of a version (argon2, Flask, SQLAlchemy, ReportLab…) is paid once, not per command.
DRIVER = """
import contextlib, io, json, sys, traceback
from votes.cli import run
answers = sys.stdout
for line in sys.stdin:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = run(json.loads(line))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except BaseException:
            traceback.print_exc()
            code = 1
    answers.write(json.dumps([code, out.getvalue(), err.getvalue()]) + "\\n")
    answers.flush()
"""


class Votes:
    """`votes` of one source tree (`code`), or this checkout's (None), on one database."""

    def __init__(self, code: Path | None, url: str) -> None:
        environment = {
            **os.environ,
            "VOTES_DATABASE_URL": url,
            "VOTES_SECRET_KEY": SECRET,
            "VOTES_LANG": "en",
            "PYTHONPATH": str(code) if code else str(REPOSITORY),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", DRIVER],
            cwd=code or REPOSITORY,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def __call__(self, *args: object) -> subprocess.CompletedProcess[str]:
        words = [str(a) for a in args]
        assert self.process.stdin
        assert self.process.stdout
        self.process.stdin.write(json.dumps(words) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"the driver died on {words}"
        code, stdout, stderr = json.loads(answer)
        return subprocess.CompletedProcess(words, code, stdout, stderr)

    def __enter__(self) -> Votes:
        return self

    def __exit__(self, *_: object) -> None:
        """End the process: its database connections close before the next version starts."""
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=120)
        assert self.process.stdout
        self.process.stdout.close()


def ok(outcome: subprocess.CompletedProcess[str]) -> str:
    assert outcome.returncode == 0, outcome.stderr + outcome.stdout
    return outcome.stdout


def results(votes: Votes, round_id: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(votes("results", round_id, "--format", "json")))
    return data


def test_rounds_written_before_groups_verify_after_the_migration(
    old_code: Path, empty_database_url: str, tmp_path: Path
) -> None:
    url = empty_database_url
    with Votes(old_code, url) as old:
        ok(old("db", "upgrade"))
        ok(old("body", "add", "TU-M", "Tỉnh ủy Thái Nguyên", "--kind", "party"))
        roster = tmp_path / "roster.csv"
        roster.write_text(
            "name,position,person_key\nNguyễn Văn An,Bí thư,a\nTrần Thị Bình,Phó Bí thư,b\n",
            encoding="utf-8",
        )
        ids = []
        for year, members in ((2023, 10), (2024, 12)):
            out = ok(
                old(
                    "round",
                    "create",
                    "--body",
                    "TU-M",
                    "--year",
                    year,
                    "--profile",
                    "tn-16kh-2012",
                    "--title",
                    f"Lấy phiếu tín nhiệm năm {year}",
                    "--members",
                    members,
                    "--summoned",
                    members,
                    "--present",
                    members,
                    "--roster",
                    roster,
                )
            )
            ids.append(int(out.strip().splitlines()[-1]))
        closed, published = ids
        # Round 1: 10 paper ballots, B low on 6 (over half).
        ok(old("round", "open", closed))
        paper = tmp_path / "paper-1.csv"
        paper.write_bytes(paper_csv(pack([rated(1, 10), rated(6, 10)])))
        ok(old("ballots", "import", closed, paper, "--issued", 10))
        ok(old("round", "close", closed))
        # Round 2: 3 online codes (two cast) and 8 paper ballots; B low again: two years.
        codes = ok(old("codes", "issue", published, "--count", 3)).split()
        ok(old("round", "open", published))
        for code in codes[:2]:
            ok(old("cast", published, "--code", code, "--marks", "H,L"))
        paper = tmp_path / "paper-2.csv"
        paper.write_bytes(paper_csv(pack([rated(0, 8), rated(7, 8)])))
        ok(old("ballots", "import", published, paper, "--issued", 8))
        ok(old("round", "close", published))
        ok(old("round", "publish", published))
        ok(old("verify", "--all"))
        before = {round_id: results(old, round_id) for round_id in ids}

    with Votes(None, url) as new:
        ok(new("db", "upgrade"))
        verified = new("verify", "--all")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        for round_id in ids:
            after = results(new, round_id)
            for key, value in before[round_id].items():
                if key != "head":  # the head of the log moves on
                    assert after[key] == value, key
            assert [g["number"] for g in after["groups"]] == [1]
            assert after["groups"][0]["name"] == "Ban Chấp hành"
            seal = before[round_id]["seal"]
            ok(new("verify", round_id, "--expect-seal", seal))
        # B: 6 of 10 and 9 of 10 low: the two-years chain is still found.
        last = results(new, published)
        assert {f["rule"] for f in last["items"][1]["findings"]} == {"band", "consecutive_years"}
        # The migrated round takes a second group only as a new round would: it is published.
        refused = new("group", "add", published, "Cán bộ hưu trí", "--members", 12)
        assert refused.returncode != 0
        assert "Traceback" not in refused.stderr
