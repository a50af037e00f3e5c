"""Database glue: declarative base with a naming convention, engine and sessions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# A connection flagged with this execution option starts its transaction with BEGIN IMMEDIATE
# on SQLite, so that a write transaction holds the write lock from its first statement and never
# fails with SQLITE_BUSY_SNAPSHOT when another writer committed in between.
WRITE = {"votes_write": True}


def autocommit_reads(session: Session) -> None:
    """Let a session that has not begun yet read without a transaction, on PostgreSQL.

    A voter's look-up is one SELECT: wrapped in a transaction it costs three round trips
    (BEGIN, SELECT, ROLLBACK), and on PostgreSQL every round trip counts under a burst.
    Each statement then sees the latest committed data, which is all a single look-up needs;
    the connection goes back to the pool with its usual isolation level. SQLite has no round
    trips to save and keeps its explicit transactions. A session already in a transaction,
    or one that writes, must not use this.
    """
    if session.in_transaction():
        return
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


class Base(DeclarativeBase):
    """Declarative base for every model."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, a busy timeout and explicit transactions."""
    url = normalise_url(url)
    # Never write statement parameters (a ballot's marks, a code's digest) into error logs.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)
        _configure_sqlite(engine)
        return engine
    # No pre-ping: it costs a round trip on every checkout (a voter's request checks out once or
    # twice). After a server restart the first use of a stale connection fails, the voter gets
    # the "try again" page (votes/web/outage.py) and SQLAlchemy discards the whole stale pool.
    kwargs.setdefault("pool_pre_ping", False)
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy (not the sqlite3 module) decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a ballot whose receipt was shown survives a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        # Overwrite deleted content so that freed pages keep no trace of rewritten ballots.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get("votes_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the session factory for an engine."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextlib.contextmanager
def write_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session whose transaction takes the write lock at once (SQLite) and commits."""
    with factory() as session:
        session.connection(execution_options=WRITE)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
