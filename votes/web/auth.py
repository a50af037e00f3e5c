"""Staff login: argon2id passwords, throttling per address and per username, session expiry."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from werkzeug.wrappers.response import Response as BaseResponse

from .. import operations, staff
from ..models import StaffUser
from .common import lazy as lazy_gettext
from .common import reading, safe_next
from .extensions import limiter
from .forms import ConfirmForm, LoginForm

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])

# Who a failed login is logged as: nobody has signed in.
ANONYMOUS = "anonymous"
# One message for a wrong username and a wrong password: no user enumeration.
LOGIN_FAILED = lazy_gettext("The username or the password is wrong.")


@dataclass
class StaffLogin(UserMixin):  # type: ignore[misc]  # Flask-Login ships no types
    """The logged-in staff member as Flask-Login sees it."""

    user_id: int
    username: str
    role: str
    fingerprint: str

    def get_id(self) -> str:
        """Return the session id: the user id and a digest of the password hash."""
        return f"{self.user_id}:{self.fingerprint}"


def load_user(value: str) -> StaffLogin | None:
    """Load the staff member of a session; a changed password or an expired login ends it."""
    user_id, _, fingerprint = value.partition(":")
    if not user_id.isdigit():
        return None
    started = session.get("login_at")
    lifetime: dt.timedelta = current_app.config["PERMANENT_SESSION_LIFETIME"]
    if not isinstance(started, int | float) or (
        dt.datetime.now(dt.UTC).timestamp() - started > lifetime.total_seconds()
    ):
        return None
    user = reading().get(StaffUser, int(user_id))
    if user is None or not user.active or not staff.same_fingerprint(user, fingerprint):
        return None
    return StaffLogin(user.id, user.username, user.role, staff.fingerprint(user))


def unauthorized() -> Any:
    """Send an anonymous visitor to the login page (the API answers 401 instead)."""
    if request.path.startswith("/api/"):
        return jsonify({"error": "unauthorized", "status": 401}), 401
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def role_required(*roles: str) -> Callable[[F], F]:
    """Let only logged-in staff with one of these roles through (403 for the others)."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        @login_required  # type: ignore[untyped-decorator]
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def _username_key() -> str:
    # Throttle per username too (a botnet changes addresses); the key is a digest, not the name.
    name = staff.normalise_username(request.form.get("username", ""))
    return "login-user:" + hashlib.sha256(name.encode()).hexdigest()[:24]


def _failed(response: BaseResponse) -> bool:
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["POST"],
    deduct_when=_failed,
    scope="login-address",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_USER_RATE_LIMIT"],
    methods=["POST"],
    key_func=_username_key,
    deduct_when=_failed,
    scope="login-user",
)
def login() -> Any:
    """Log a staff member in."""
    form = LoginForm()
    if form.validate_on_submit():
        # Not in a write transaction: argon2 takes ~50 ms and must not hold SQLite's write
        # lock while voters cast ballots. A rare rehash is committed on its own.
        db = reading()
        user = staff.authenticate(db, form.username.data, form.password.data)
        login = (
            None
            if user is None
            else StaffLogin(user.id, user.username, user.role, staff.fingerprint(user))
        )
        db.commit()
        if login is not None:
            _log_login(login.username, login.username, succeeded=True)
            session.clear()
            session.permanent = True
            session["login_at"] = dt.datetime.now(dt.UTC).timestamp()
            login_user(login)
            return redirect(safe_next(request.args.get("next"), url_for("admin.dashboard")))
        _log_login(ANONYMOUS, form.username.data or "", succeeded=False)
        flash(LOGIN_FAILED, "error")
        return render_template("auth/login.html", form=form), 401
    if request.method == "POST":
        # A refused form (empty or over-long fields) is a failed attempt too. CSRF refusals
        # never get here: CSRFProtect answers 400 before the view runs.
        _log_login(ANONYMOUS, request.form.get("username", ""), succeeded=False)
    return render_template("auth/login.html", form=form)


def _log_login(actor: str, username: str, *, succeeded: bool) -> None:
    """Write a staff_login / staff_login_failed event: the username only, never the password.

    The name typed in a failed attempt is cut to 100 characters (the longest username), so
    a flood of long names cannot bloat the log; the rate limits bound how many are written.
    """
    with operations.work(current_app.extensions["votes.sessions"], actor) as work:
        operations.record_login(work, username, succeeded=succeeded)


@bp.route("/logout", methods=["POST"])
def logout() -> BaseResponse:
    """Log out (a POST with the CSRF token, so another site cannot log you out)."""
    ConfirmForm()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
