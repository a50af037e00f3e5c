"""Alembic environment: run against the connection handed over by votes.db_upgrade."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from votes import models  # noqa: F401 - register the tables
from votes.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    """Run migrations on the connection given in config.attributes (or the configured URL)."""
    connection = config.attributes.get("connection")
    if connection is None:
        from votes.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
        with engine.connect() as connection:
            _run(connection)
        return
    _run(connection)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
