"""The web application: voters (ballot), organizers (admin), staff login (auth), JSON API (api)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import segno
from flask import Flask, Response, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers.response import Response as BaseResponse

from ..i18n import LANGUAGES
from ..limits import ID_MAX
from ..profiles import UnknownProfile, get_profile, short_name
from ..rules import finding_message
from ..text import decimal_comma, in_vietnam, integer_text
from . import admin, api, audit, auth, ballot, outage, trackers, tree
from .auth import load_user
from .common import message, reading, safe_next, template_gettext
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
    # Only refused code entries count (see ballot.py), per address and per code typed. A hall
    # of 500 voters behind one NAT address with 5 % typos refuses some 25-75 entries in its
    # burst: far below 200 a minute (tests/test_limits.py runs exactly that hall), while a
    # guesser at 2 000 an hour needs millions of years to find one live code (2^54 values).
    env = os.environ.get
    app.config.setdefault("CODE_RATE_LIMIT", env("VOTES_CODE_RATE_LIMIT", "200/minute;2000/hour"))
    app.config.setdefault(
        "CODE_RATE_LIMIT_PER_CODE", env("VOTES_CODE_RATE_LIMIT_PER_CODE", "10/minute;50/day")
    )
    # Failed logins slow the next attempt down, never lock anybody out (web/throttle.py).
    for key, default in (
        ("LOGIN_ACCOUNT_FREE_FAILURES", "5"),
        ("LOGIN_ACCOUNT_DELAY_MAX", "60"),
        ("LOGIN_ADDRESS_FREE_FAILURES", "10"),
        ("LOGIN_ADDRESS_DELAY_MAX", "600"),
        ("LOGIN_FAILURE_WINDOW", "3600"),
    ):
        app.config.setdefault(key, int(env(f"VOTES_{key}", default)))
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


class IdConverter(IntegerConverter):
    """`<int:…>` in every route: a number beyond a database id is a 404, not a query error."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", ID_MAX)
        super().__init__(url_map, *args, **kwargs)


def _refuse_nul_bytes() -> None:
    """Refuse a request carrying a NUL byte in its address or its form: no text holds one.

    PostgreSQL refuses NUL in text, so such a value would otherwise end as an internal
    error wherever it reached a query; nothing typed by a person contains one.
    """
    values = [request.path, *(v for _k, vs in request.args.lists() for v in vs)]
    if request.method == "POST" and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        values += [v for _k, vs in request.form.lists() for v in vs]
    if any("\x00" in value for value in values):
        raise BadRequest()


def init_web(app: Flask) -> None:
    """Wire the extensions, blueprints, headers and error pages into an application."""
    _defaults(app)
    app.url_map.converters["int"] = IdConverter
    app.before_request(_refuse_nul_bytes)
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
    app.register_blueprint(trackers.bp)
    app.register_blueprint(auth.bp, url_prefix="/auth")
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(tree.bp, url_prefix="/admin")
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(audit.bp, url_prefix="/audit")
    csrf.exempt(api.bp)
    # The voter's forms carry a token bound to a cookie of their own (web/voter_csrf.py), checked
    # by the forms and by ballot.ballot itself, without a server session.
    csrf.exempt(ballot.enter_code)
    csrf.exempt(ballot.ballot)
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

    def qr_svg(value: str, title: str = "") -> Markup:
        """Draw a value as an inline QR code (SVG, no style attribute: the CSP allows it)."""
        symbol = segno.make(str(value).upper(), error="m", micro=False)
        return Markup(symbol.svg_inline(scale=2, title=str(title) or None))  # noqa: S704

    def moment_filter(value: dt.datetime | None) -> str:
        """Show a stored moment (UTC) as dd/mm/yyyy HH:MM on Vietnam's clock."""
        if value is None:
            return "—"
        return in_vietnam(value).strftime("%d/%m/%Y %H:%M")

    def finding_filter(finding: dict[str, Any], body_kind: str | None = None) -> str:
        """Say a finding in words ("low confidence votes are more than one half of …")."""
        return message(finding_message(finding, body_kind))

    def profile_filter(profile_id: str | None, version: int | None = None) -> str:
        """Name a rule profile as people cite it ("QĐ 96-QĐ/TW (2023)"), not by its id."""
        if not profile_id:
            return "—"
        try:
            profile = get_profile(reading(), profile_id, version)
        except UnknownProfile:
            return f"{profile_id} v{version}" if version else profile_id
        name = profile.name.en if str(get_locale()) == "en" else profile.name.vi
        return short_name(name)

    app.jinja_env.filters["profile_name"] = profile_filter
    app.jinja_env.filters["percent"] = percent_filter
    app.jinja_env.filters["qr_svg"] = qr_svg
    app.jinja_env.filters["integer"] = integer_filter
    app.jinja_env.filters["ddmmyyyy"] = date_filter
    app.jinja_env.filters["hhmm_ddmmyyyy"] = moment_filter
    app.jinja_env.filters["hhmm"] = lambda value: (
        "—" if value is None else in_vietnam(value).strftime("%H:%M")
    )
    app.jinja_env.filters["finding_words"] = finding_filter
    app.jinja_env.filters["message"] = message
