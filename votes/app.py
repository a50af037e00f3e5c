"""The web application: configuration layers, database, blueprints."""

from __future__ import annotations

import contextlib
import functools
import importlib
from pathlib import Path
from typing import Any

from flask import Flask, g
from sqlalchemy.exc import DBAPIError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import pads
from .config import check_secret_key, from_environment
from .db import make_engine, make_sessionmaker
from .logfilter import install_code_filter
from .web import init_web

# The templates travel as a package (in the wheel and in an editable install alike).
TEMPLATES = Path(importlib.import_module("votes.templates").__file__ or "").parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Create the application: configuration layers, database, blueprints, commands."""
    app = Flask(
        "votes",
        instance_relative_config=True,
        template_folder=str(TEMPLATES),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(from_environment(app.instance_path))
    if config:
        app.config.update(config)
    check_secret_key(app.config)

    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["votes.engine"] = engine
    app.extensions["votes.sessions"] = make_sessionmaker(engine)
    # Started by the server in each of its processes, which knows how many there are
    # (votes/gunicorn_config.py): the sealing pads of the rounds about to vote (votes/pads.py).
    app.extensions["votes.watch_pads"] = functools.partial(
        pads.watch, app.extensions["votes.sessions"]
    )

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            # A connection the database dropped (restart, failover) cannot roll back; the pool
            # has discarded it. The response is already made: do not turn it into a 500.
            with contextlib.suppress(DBAPIError):
                session.close()

    init_web(app)
    # No log line may carry a voter code, whoever serves the application (votes/logfilter.py).
    install_code_filter()
    if app.config["TRUSTED_PROXIES"] > 0:
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    return app
