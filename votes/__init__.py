"""Phiếu tín nhiệm: anonymous, exactly counted Vietnamese confidence votes."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from flask import Flask, g
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .config import check_secret_key, from_environment
from .db import make_engine, make_sessionmaker

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the application: configuration layers, database, blueprints, commands."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(from_environment(app.instance_path))
    if config:
        app.config.update(config)
    check_secret_key(app.config)

    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["votes.engine"] = engine
    app.extensions["votes.sessions"] = make_sessionmaker(engine)

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            # A connection the database dropped (restart, failover) cannot roll back; the pool
            # has discarded it. The response is already made: do not turn it into a 500.
            with contextlib.suppress(DBAPIError):
                session.close()

    from .web import init_web

    init_web(app)
    if app.config["TRUSTED_PROXIES"] > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app


def db_session() -> Session:
    """Return the session of the current application context."""
    from flask import current_app

    if "db_session" not in g:
        g.db_session = current_app.extensions["votes.sessions"]()
    session: Session = g.db_session
    return session
