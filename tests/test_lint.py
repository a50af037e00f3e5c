"""The habits of STYLE.md, checked in every test run: ruff (lint and format), mypy strict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The code is the same whatever the database: checked once, in the SQLite run.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("VOTES_TEST_DATABASE_URL")), reason="lint runs once, with SQLite"
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_formatted() -> None:
    result = run("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_type_checks_strictly() -> None:
    """mypy strict on every module of votes/ and reports/ (setup.cfg says where it bends)."""
    result = run("mypy", "--no-incremental", "votes", "reports")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues found in" in result.stdout
