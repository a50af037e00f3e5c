"""The web application: voters (ballot), organizers (admin), staff login (auth), JSON API (api)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers.response import Response as BaseResponse

from ..i18n import LANGUAGES
from ..rules import finding_message
from ..text import decimal_comma, in_vietnam, integer_text
from . import admin, api, audit, auth, ballot, outage
from .auth import load_user
from .common import message, safe_next, template_gettext
from .extensions import babel, csrf, limiter, login_manager
from .words import WORDS

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    # Voter codes travel in /b/CODE links: never send the address to another site.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _defaults(app: Flask) -> None:
    relaxed = bool(
        app.config.get("DEBUG")
        or app.config.get("TESTING")
        or app.config.get("DEMO")
        or app.config.get("INSECURE_COOKIES")  # plain-HTTP loopback (the benchmark)
    )
    # Flask's own defaults are replaced unless the configuration already changed them.
    flask_defaults = Flask.default_config
    ours = {
        # Secure cookies except on plain-HTTP development, test and demo servers.
        "SESSION_COOKIE_SECURE": not relaxed,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "votes_session",
        # Staff logins expire (checked on every request in auth.load_user).
        "PERMANENT_SESSION_LIFETIME": dt.timedelta(hours=8),
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    }
    for key, value in ours.items():
        if app.config.get(key) == flask_defaults.get(key):
            app.config[key] = value
    # A voter may keep the ballot open through a long conference session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", 6 * 3600)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "vi")
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Ho_Chi_Minh")
    # Only refused code entries count (see ballot.py): a hall full of voters behind one NAT
    # address is never slowed down, while guessing is.
    app.config.setdefault("CODE_RATE_LIMIT", os.environ.get("VOTES_CODE_RATE_LIMIT", "20/minute"))
    app.config.setdefault("LOGIN_RATE_LIMIT", "10/minute")
    app.config.setdefault("LOGIN_USER_RATE_LIMIT", "5/minute;20/hour")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # Redis unreachable must not stop a vote (every limited page would answer 500): count in
    # each worker's memory until Redis answers again (tests/test_outage.py).
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)


def select_locale() -> str:
    """Choose the language: the one the user picked, else Vietnamese."""
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else "vi"


def _set_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        # Ballots, codes, receipts and results must not stay in a shared browser's cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def _error(error: HTTPException) -> tuple[Any, int]:
    code = error.code or 500
    if request.path.startswith("/api/"):
        return jsonify({"error": error.name.lower().replace(" ", "_"), "status": code}), code
    # A 409 carries the core's reason (already in the user's language), e.g. why the minutes
    # of a round cannot be printed yet.
    reason = (
        error.description if code == 409 and error.description != type(error).description else None
    )
    return render_template("errors/error.html", code=code, reason=reason), code


def _csrf_error(error: CSRFError) -> tuple[Any, int]:
    if request.path.startswith("/api/"):
        return jsonify({"error": "csrf", "status": 400}), 400
    return render_template("errors/error.html", code=400, csrf=True), 400


def _internal(error: Exception) -> tuple[Any, int]:
    # Never show internals: the traceback goes to the server log only.
    if request.path.startswith("/api/"):
        return jsonify({"error": "internal_server_error", "status": 500}), 500
    return render_template("errors/error.html", code=500), 500


def init_web(app: Flask) -> None:
    """Wire the extensions, blueprints, headers and error pages into an application."""
    _defaults(app)
    app.static_folder = str(Path(__file__).resolve().parent.parent / "static")
    app.static_url_path = "/static"

    csrf.init_app(app)
    # Flask-Babel chooses the language; the words come from votes.i18n, the one catalogue.
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext, **WORDS)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(auth.unauthorized)

    app.register_blueprint(ballot.bp)
    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(audit.bp, url_prefix="/audit")
    csrf.exempt(api.bp)
    outage.init_outage(app)

    app.after_request(_set_headers)
    for code in (400, 403, 404, 405, 409, 413, 429):
        app.register_error_handler(code, _error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(500, _internal)

    @app.route("/lang/<language>")
    def set_language(language: str) -> BaseResponse:
        """Switch the language of the pages (Vietnamese or English)."""
        if language in LANGUAGES:
            session["lang"] = language
        return redirect(safe_next(request.args.get("next"), url_for("ballot.enter_code")))

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"locale": str(get_locale() or "vi"), "languages": LANGUAGES}

    def percent_filter(value: str | None) -> str:
        """Show a percentage string ("3.13") as "3,13 %" in Vietnamese, "3.13%" in English."""
        if value is None:
            return "—"
        if str(get_locale()) == "en":
            return f"{value}%"
        return f"{decimal_comma(value)} %"

    def integer_filter(value: int | None) -> str:
        """Show an integer with the thousands separator of the language."""
        if value is None:
            return "—"
        return f"{value:,}" if str(get_locale()) == "en" else integer_text(value)

    def date_filter(value: dt.date | str | None) -> str:
        """Show a date as dd/mm/yyyy; a stored moment (UTC) is shown on Vietnam's calendar."""
        if value is None:
            return "—"
        if isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        if isinstance(value, dt.datetime):
            value = in_vietnam(value).date()
        return value.strftime("%d/%m/%Y")

    def moment_filter(value: dt.datetime | None) -> str:
        """Show a stored moment (UTC) as dd/mm/yyyy HH:MM on Vietnam's clock."""
        if value is None:
            return "—"
        return in_vietnam(value).strftime("%d/%m/%Y %H:%M")

    def finding_filter(finding: dict[str, Any], body_kind: str | None = None) -> str:
        """Say a finding in words ("low confidence votes are more than one half of …")."""
        return message(finding_message(finding, body_kind))

    app.jinja_env.filters["percent"] = percent_filter
    app.jinja_env.filters["integer"] = integer_filter
    app.jinja_env.filters["ddmmyyyy"] = date_filter
    app.jinja_env.filters["hhmm_ddmmyyyy"] = moment_filter
    app.jinja_env.filters["hhmm"] = lambda value: (
        "—" if value is None else in_vietnam(value).strftime("%H:%M")
    )
    app.jinja_env.filters["finding_words"] = finding_filter
    app.jinja_env.filters["message"] = message
