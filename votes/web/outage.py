"""What voters see when the database is unreachable for a moment: a clear "try again" page.

When PostgreSQL restarts, fails over or is stopped, or SQLite stays locked past its busy
timeout, SQLAlchemy raises OperationalError or InterfaceError (or another DBAPIError with
`connection_invalidated`). Nothing was stored by the request that met it — a cast is one
transaction, and a receipt is shown only after its commit — so the honest answer is
"503, try again in a moment", in the voter's language, without internals. The pool drops the
dead connections when one of them fails, so voting resumes by itself as soon as the database
answers again.

Any other database error (an IntegrityError, a ProgrammingError…) is a bug, not an outage:
it goes on to the ordinary 500 page and the log.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

RETRY_AFTER_SECONDS = 30


def is_outage(error: BaseException) -> bool:
    """Tell whether a database error means "unreachable or busy for now" rather than a bug."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def unavailable(error: DBAPIError) -> tuple[Any, int, dict[str, str]]:
    """Answer 503 with a "try again" page (HTML) or {"error": "unavailable"} (API)."""
    if not is_outage(error):
        raise error  # a bug: let the 500 handler and the error log have it
    # Log the kind of failure only: the exception's text carries the SQL statement and its
    # parameters (a code's digest, a ballot's marks), which must not reach a log file.
    original = getattr(error, "orig", None)
    current_app.logger.warning(
        "database unavailable: %s (%s) on %s %s",
        type(error).__name__,
        type(original).__name__ if original is not None else "-",
        request.method,
        request.endpoint or "-",
    )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        return jsonify({"error": "unavailable", "status": 503}), 503, headers
    # A page of its own, not base.html: the site header asks the database who is logged in,
    # and the database is exactly what is missing.
    again = request.full_path.rstrip("?") if request.method == "GET" else None
    # A code sent by POST (the code form, the ballot) is offered back in a form of the page,
    # never in an address: "try again" sends it again the same way.
    code = request.form.get("code", "")[:64] if request.method == "POST" else ""
    return render_template("errors/unavailable.html", again=again, code=code), 503, headers


def init_outage(app: Flask) -> None:
    """Register the handler for database outages."""
    app.register_error_handler(DBAPIError, unavailable)
