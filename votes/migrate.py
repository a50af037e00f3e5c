"""Run Alembic migrations from code (`votes db upgrade`) and check them against the models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic configuration bound to an engine."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's configuration interpolates '%' (ConfigParser): a URL with escaped characters,
    # such as `options=-c%20statement_timeout%3D10s`, must reach it with each '%' doubled.
    url = engine.url.render_as_string(hide_password=False)
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database schema up to a revision (the newest by default)."""
    _migrate(engine, command.upgrade, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database schema back to a revision (developers and tests)."""
    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    """Run an Alembic step in one transaction.

    On SQLite, Alembic's batch mode rebuilds a table by copying it and dropping the old one:
    with foreign keys enforced, dropping a table others refer to (the bodies, now that they
    have a parent) would cascade or fail. Foreign keys are therefore off while migrating —
    SQLite only changes that setting outside a transaction — and every reference is checked
    before the migration commits: a broken one refuses the whole step.
    """
    config = alembic_config(engine)
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)
        return
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                step(config, revision)
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left broken references: {broken[:5]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


def revision(engine: Engine, message: str) -> None:
    """Write a new migration from the difference between models and database (developers)."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
