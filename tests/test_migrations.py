"""The Alembic migrations build exactly the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Engine, inspect, text

from votes import models  # noqa: F401 - registers every table on the metadata
from votes.db import Base, make_engine
from votes.migrate import alembic_config, upgrade


def engine_of(app: Flask) -> Engine:
    engine: Engine = app.extensions["votes.engine"]
    return engine


def drift(engine: Engine) -> list[object]:
    """Return what autogenerate would write to bring the database to the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_head_builds_exactly_the_models(app: Flask) -> None:
    """The `app` fixture's database was migrated from empty: nothing may differ."""
    assert drift(engine_of(app)) == []


def test_an_empty_database_is_migrated_to_the_models(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    try:
        assert inspect(engine).get_table_names() == []
        upgrade(engine)
        assert drift(engine) == []
    finally:
        engine.dispose()


def test_the_database_is_at_the_single_head(app: Flask) -> None:
    engine = engine_of(app)
    heads = ScriptDirectory.from_config(alembic_config(engine)).get_heads()
    assert len(heads) == 1
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_heads() == tuple(heads)


def test_every_model_table_exists(app: Flask) -> None:
    tables = set(inspect(engine_of(app)).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_downgrade_to_base_and_up_again(app: Flask) -> None:
    engine = engine_of(app)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert drift(engine) == []


def test_upgrade_twice_changes_nothing(app: Flask) -> None:
    upgrade(engine_of(app))
    assert drift(engine_of(app)) == []


def test_sqlite_ballot_tables_are_without_rowid(app: Flask) -> None:
    engine = engine_of(app)
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as connection:
        for table in ("ballot", "receipt"):
            sql = connection.scalar(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
                {"name": table},
            )
            assert sql is not None
            assert sql.rstrip().upper().endswith("WITHOUT ROWID"), sql
        # A table with a rowid answers this; a WITHOUT ROWID table cannot.
        connection.execute(text("SELECT rowid FROM credential LIMIT 1"))


def test_sqlite_pragmas_are_set_on_every_connection(app: Flask) -> None:
    engine = engine_of(app)
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
