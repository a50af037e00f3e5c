"""Starting the `votes` command does no work a command does not need (issue 18).

No timing here (bench/startup.py measures): a fresh interpreter imports the command line and
prints its help, then says which heavy libraries it loaded. Each of them costs a tenth of a
second or more and tens of megabytes: argon2 (and a dummy hash), ReportLab and segno (fonts,
documents), Alembic (migrations), the web application (Flask-WTF, Flask-Login, the limiter) and
Babel's catalogue reader.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = (
    "argon2",
    "reportlab",
    "segno",
    "alembic",
    "flask_wtf",
    "flask_login",
    "flask_limiter",
    "flask_babel",
    "babel.messages",
    "pypdf",
)
PROBE = """
import json, sys, types
from votes.cli import cli
try:
    cli.main({args}, prog_name="votes", standalone_mode=False)
except SystemExit:
    pass
heavy = sorted(
    name for name in sys.modules
    if any(name == h or name.startswith(h + ".") for h in {heavy})
)
# Modules named by votes.lazy but never used are in sys.modules unexecuted: not loaded.
executed = sorted(
    name for name, module in sys.modules.items()
    if name.startswith(("votes.", "reports"))
    and type(module) is types.ModuleType
)
print(json.dumps({{"heavy": heavy, "executed": executed}}))
"""


def loaded(args: list[str]) -> dict[str, list[str]]:
    """Run the command line with `args` in a fresh interpreter; return what it loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=args, heavy=HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
        env={**os.environ, "VOTES_LANG": "vi"},
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["round", "--help"], ["verify", "--help"]])
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    found = loaded(args)
    assert found["heavy"] == []
    # The modules that pull those libraries in are not executed either.
    for name in ("votes.operations", "votes.staff", "votes.app", "votes.web", "votes.migrate"):
        assert name not in found["executed"], name


def test_the_probe_sees_a_heavy_library_when_one_is_loaded() -> None:
    """The check above can fail: a command that builds a document loads ReportLab."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from votes.cli import operations; operations.documents; "
            "print('reportlab' in sys.modules, 'argon2' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    assert done.stdout.split() == ["True", "True"]


def test_no_password_is_hashed_when_the_accounts_module_is_imported() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from votes import staff; print(staff._dummy_hash.cache_info().currsize)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    assert done.stdout.strip() == "0"
