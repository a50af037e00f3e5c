"""Starting the `votes` command does no work a command does not need (issue 18).

No timing here (bench/startup.py measures): a fresh interpreter imports the command line and
prints its help, then says which heavy libraries it loaded. Each of them costs a tenth of a
second or more and tens of megabytes: argon2 (and a dummy hash), ReportLab and segno (fonts,
documents), Alembic (migrations), the web application (Flask-WTF, Flask-Login, the limiter) and
Babel's catalogue reader. Nor does it execute the domain: the database mapping (votes.models and
SQLAlchemy's ORM), the profiles, the rounds, the sealed-ballot library; together they cost more
than Flask, SQLAlchemy's core and Click themselves.
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
    "sqlalchemy.orm",
)
# The domain modules a command loads when it runs (votes/lazy.py), never to print help.
DOMAIN = (
    "votes.models",
    "votes.profiles",
    "votes.rounds",
    "votes.sealed",
    "votes.committee",
    "votes.tree",
    "votes.operations",
    "votes.staff",
    "votes.app",
    "votes.web",
    "votes.migrate",
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


def python(code: str) -> str:
    """Run `code` in a fresh interpreter of this environment; return what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
        env={**os.environ, "VOTES_LANG": "vi"},
    )
    return done.stdout


def loaded(args: list[str]) -> dict[str, list[str]]:
    """Run the command line with `args` in a fresh interpreter; return what it loaded."""
    return dict(json.loads(python(PROBE.format(args=args, heavy=HEAVY)).strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["round", "--help"], ["verify", "--help"]])
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    found = loaded(args)
    assert found["heavy"] == []
    # The modules that pull those libraries in are not executed either.
    for name in DOMAIN:
        assert name not in found["executed"], name


def test_importing_the_command_line_executes_no_domain_module() -> None:
    printed = python(
        "import json, sys, types; import votes.cli; print(json.dumps(["
        "sorted(n for n, m in sys.modules.items() if type(m) is types.ModuleType), "
        "sorted(sys.modules)]))"
    )
    executed, named = json.loads(printed)
    assert [name for name in DOMAIN if name in executed] == []
    # Only named for later use, at most: the ORM is not even named (annotations only).
    assert "sqlalchemy.orm" not in named
    assert "votes.models" in named  # named by votes.cli, executed by the first command


def test_a_module_named_by_the_command_line_is_executed_on_first_use() -> None:
    """The checks above can fail: reading the rounds module loads the mapping and the ORM."""
    printed = python(
        "import sys, types; from votes.cli import rounds; rounds.get_round; "
        "print(type(sys.modules['votes.models']) is types.ModuleType, "
        "'sqlalchemy.orm' in sys.modules)"
    )
    assert printed.split() == ["True", "True"]


def test_the_probe_sees_a_heavy_library_when_one_is_loaded() -> None:
    """The check above can fail: a command that builds a document loads ReportLab."""
    printed = python(
        "import sys; from votes.cli import operations; operations.documents; "
        "print('reportlab' in sys.modules, 'argon2' in sys.modules)"
    )
    assert printed.split() == ["True", "True"]


def test_no_password_is_hashed_when_the_accounts_module_is_imported() -> None:
    printed = python("from votes import staff; print(staff._dummy_hash.cache_info().currsize)")
    assert printed.strip() == "0"
