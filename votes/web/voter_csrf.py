"""CSRF protection of the voter's pages without a server session: a signed double-submit token.

The code page gives the browser a random value in a cookie of its own (HttpOnly, SameSite=Lax,
Secure as the session cookie) and puts into each form a token signed with the application's
secret over that value and the time it was issued. A POST is accepted only with a token that
is signed over the cookie the same browser sent and younger than WTF_CSRF_TIME_LIMIT: another
site can make the browser send the cookie but can neither read it nor sign a token for it.

Flask-WTF keeps its token in the signed session cookie, which is read, re-signed, compressed
and written on every voter request; the voter's pages have nothing else in a session, so they
are exempt from CSRFProtect (votes/web/__init__.py) and checked here instead. Staff pages keep
Flask-WTF's session token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from typing import Any

from flask import current_app, g, request
from werkzeug.wrappers.response import Response as BaseResponse
from wtforms import ValidationError
from wtforms.csrf.core import CSRF

COOKIE = "votes_voter"
FIELD = "csrf_token"
_VALUE = re.compile(r"[A-Za-z0-9_-]{22}")
# A token issued this far in the future (another worker's clock) is still accepted.
_CLOCK_SKEW = 60


def _browser_value() -> str:
    """Return this browser's cookie value; a new one (set on the response) when it has none."""
    value: str | None = g.get("voter_value")
    if value is None:
        value = request.cookies.get(COOKIE, "")
        if not _VALUE.fullmatch(value):
            value = secrets.token_urlsafe(16)
            g.voter_value_new = True
        g.voter_value = value
    return value


def _signature(value: str, issued: str) -> str:
    secret = current_app.config["SECRET_KEY"]
    key = secret if isinstance(secret, bytes) else str(secret).encode()
    message = f"voter-csrf\x00{value}\x00{issued}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def token() -> str:
    """Return a token for the forms of this page, bound to this browser's cookie."""
    issued = str(int(time.time()))
    return f"{issued}.{_signature(_browser_value(), issued)}"


def valid(sent: object) -> bool:
    """Tell whether a posted token was issued for the cookie this browser sent, and is fresh."""
    value = request.cookies.get(COOKIE, "")
    if not isinstance(sent, str) or not _VALUE.fullmatch(value):
        return False
    issued, _dot, signature = sent.partition(".")
    if not issued.isdigit() or len(issued) > 12:
        return False
    age = time.time() - int(issued)
    if age < -_CLOCK_SKEW or age > current_app.config.get("WTF_CSRF_TIME_LIMIT", 3600):
        return False
    return hmac.compare_digest(signature, _signature(value, issued))


def checked() -> bool:
    """Tell whether this POST carries a valid voter token (always, when CSRF is switched off)."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    return valid(request.form.get(FIELD))


def set_cookie(response: BaseResponse) -> BaseResponse:
    """Give the browser its cookie when this request made one (after_request of the pages)."""
    if g.get("voter_value_new"):
        response.set_cookie(
            COOKIE,
            g.voter_value,
            httponly=True,
            samesite="Lax",
            secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        )
    return response


class VoterCSRF(CSRF):  # type: ignore[misc]  # WTForms ships no types
    """The voter forms' CSRF field: the signed double-submit token above."""

    def generate_csrf_token(self, csrf_token_field: Any) -> str:
        return token()

    def validate_csrf_token(self, form: Any, field: Any) -> None:
        if not valid(field.data):
            raise ValidationError(field.gettext("The CSRF token is invalid."))
