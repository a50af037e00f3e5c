"""Fixtures: an app and a database per test, on SQLite or PostgreSQL (VOTES_TEST_DATABASE_URL)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from votes import create_app
from votes.db import normalise_url
from votes.migrate import upgrade

SECRET = "test-secret-key-0123456789abcdef"
PG_URL = os.environ.get("VOTES_TEST_DATABASE_URL")


def _postgres_database() -> Iterator[str]:
    """Create a throw-away PostgreSQL database for one test and drop it afterwards."""
    assert PG_URL
    admin_url = normalise_url(PG_URL)
    name = f"votes_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = admin_url.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: SQLite in tmp_path, or a new PostgreSQL database."""
    if PG_URL:
        yield from _postgres_database()
    else:
        yield f"sqlite:///{tmp_path / 'votes.sqlite3'}"


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An application on a migrated, empty database."""
    application = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": True,
        }
    )
    upgrade(application.extensions["votes.engine"])
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
