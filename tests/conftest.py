"""Fixtures: an app and a database per test, on SQLite or PostgreSQL (VOTES_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from votes import create_app
from votes.db import make_engine, normalise_url
from votes.migrate import upgrade

SECRET = "test-secret-key-0123456789abcdef"
PG_URL = os.environ.get("VOTES_TEST_DATABASE_URL")


# A test reaches a database through one of these fixtures, or its module names the PostgreSQL
# URL itself (servers started for a module, PostgreSQL-only tests).
DATABASE_FIXTURES = frozenset({"database_url", "empty_database_url", "migrated_template", "live"})
DATABASE_NAMES = ("PG_URL", "VOTES_TEST_DATABASE_URL", "_postgres_database")


def _reaches_database(item: pytest.Item, sources: dict[str, str]) -> bool:
    if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    path = str(item.path)
    if path not in sources:
        sources[path] = item.path.read_text(encoding="utf-8")
    return any(name in sources[path] for name in DATABASE_NAMES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, run the tests that reach a database (the page tests in one view, see
    POSTGRES_VIEW); the others ran on SQLite already.

    A test that touches no database (documents, the crypto library, lint, architecture) gives
    the same answer whatever VOTES_TEST_DATABASE_URL says: running it a second time tests
    nothing and costs CI minutes. VOTES_TEST_EVERYTHING=1 runs them anyway.
    """
    if not PG_URL or os.environ.get("VOTES_TEST_EVERYTHING") == "1":
        return
    sources: dict[str, str] = {}
    kept: list[pytest.Item] = []
    once: list[pytest.Item] = []
    for item in items:
        runs_here = _reaches_database(item, sources) and _view_for_postgres(item)
        (kept if runs_here else once).append(item)
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = kept
        config.stash[_ONCE] = len(once)


_ONCE = pytest.StashKey[int]()

# The browser's page tests (tests/e2e/test_pages.py) run each page in two sizes and two
# languages: how a page looks on a phone or in English is the same whatever the database, so
# PostgreSQL runs each of them once, on a phone in Vietnamese (the voter's usual case).
POSTGRES_VIEW = ("phone", "vi")


def _view_for_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    view = callspec.params.get("view") if callspec is not None else None
    return view is None or tuple(view) == POSTGRES_VIEW


def pytest_report_header(config: pytest.Config) -> str | None:
    if PG_URL:
        return (
            f"database: PostgreSQL ({PG_URL}); tests that reach no database, and the page tests "
            f"in other views than {POSTGRES_VIEW}, are deselected"
        )
    return None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    once = config.stash.get(_ONCE, 0)
    if once:
        terminalreporter.write_line(
            f"{once} tests reach no database, or repeat a page in another size or language, and "
            "are not repeated on PostgreSQL: the SQLite run covers them "
            "(VOTES_TEST_EVERYTHING=1 runs them here too)."
        )


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()


def _postgres_database(template: str | None = None) -> Iterator[str]:
    """Create a throw-away PostgreSQL database for one test and drop it afterwards.

    With a template, the new database is a copy of it (already migrated): cheaper than
    running the migrations again for each test.
    """
    assert PG_URL
    admin_url = normalise_url(PG_URL)
    name = f"votes_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    like = f' TEMPLATE "{template}"' if template else ""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{like}'))
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per test run and copied for each test (SQLite: a file)."""
    if PG_URL:
        holder = _postgres_database()
        url = next(holder)
        _migrate(url)
        yield url.rpartition("/")[2]
        holder.close()  # drops it
    else:
        path = tmp_path_factory.mktemp("template") / "votes.sqlite3"
        _migrate(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh database with no schema: SQLite in tmp_path, or a new PostgreSQL database."""
    if PG_URL:
        yield from _postgres_database()
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


def copy_database(template: str, folder: Path) -> Iterator[str]:
    """Yield the URL of a copy of a template (SQLite: a file, put in folder; PostgreSQL: a
    database name); a PostgreSQL copy is dropped when the generator is closed."""
    if PG_URL:
        yield from _postgres_database(template)
    else:
        path = folder / "votes.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"


def template_of(url: str) -> str:
    """What copy_database takes to copy the database at url (no connection may stay open)."""
    return url.rpartition("/")[2] if PG_URL else url.removeprefix("sqlite:///")


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: str) -> Iterator[str]:
    """A fresh database of its own for one test, its schema at the newest migration."""
    yield from copy_database(migrated_template, tmp_path)


def make_test_app(database_url: str) -> Flask:
    """The tests' application on a database (dispose its engine when done)."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": True,
        }
    )


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An application on a migrated, empty database."""
    application = make_test_app(database_url)
    yield application
    application.extensions["votes.engine"].dispose()


@pytest.fixture
def sessions(app: Flask) -> sessionmaker[Session]:
    """The application's session factory."""
    factory: sessionmaker[Session] = app.extensions["votes.sessions"]
    return factory


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A session on the test database."""
    with sessions() as db:
        yield db


@dataclass
class Outcome:
    """What a `votes` command printed and how it exited."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        """Return the last non-empty line of standard output."""
        return [line for line in self.stdout.splitlines() if line.strip()][-1]


class VotesRunner:
    """Run `votes …` in-process against the test app, through the same entry as the console."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, *args: object, stdin: str | None = None) -> Outcome:
        from votes.cli import run

        words = [str(a) for a in args]
        if words[:2] == ["round", "open"] and len(words) > 2 and words[2].isdigit():
            # Online ballots are sealed: a round is opened with a committee key. A test that
            # did not make one gets the tests' committee of one (tests/factories.py).
            self._committee(int(words[2]))
        outcome = self._run(run, args, stdin)
        if words[:2] == ["round", "close"] and outcome.exit_code == 0 and words[2].isdigit():
            # …and its committee decrypts the totals at once, as `votes trustee decrypt` would.
            self._decrypt(int(words[2]))
        return outcome

    def _committee(self, round_id: int) -> None:
        from tests.factories import add_committee
        from votes.committee import get_key
        from votes.models import Round

        with self.app.extensions["votes.sessions"]() as session:
            round_ = session.get(Round, round_id)
            if round_ is None or round_.status != "draft" or get_key(session, round_id):
                return
            add_committee(session, round_id)
            session.commit()

    def _decrypt(self, round_id: int) -> None:
        from tests.factories import MEMBER_KEYS, decrypt_round
        from votes.committee import get_key

        with self.app.extensions["votes.sessions"]() as session:
            key = get_key(session, round_id)
            if key is None or key.ceremony not in MEMBER_KEYS:
                return  # a committee whose members are the test's own (test_sealed.py)
            decrypt_round(session, round_id)
            session.commit()

    def _run(self, run: Any, args: tuple[object, ...], stdin: str | None) -> Outcome:

        runner = CliRunner()
        with runner.isolation(input=stdin) as (out, err, _mixed):
            code = run([str(a) for a in args], obj=ScriptInfo(create_app=lambda: self.app))
            sys.stdout.flush()
            sys.stderr.flush()
            return Outcome(code, out.getvalue().decode(), err.getvalue().decode())


@pytest.fixture
def votes(app: Flask) -> VotesRunner:
    """Invoke the `votes` command line in-process against the test database."""
    return VotesRunner(app)
