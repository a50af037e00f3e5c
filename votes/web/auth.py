"""Staff login: argon2id passwords, a growing delay per account and address, session expiry."""

from __future__ import annotations

import datetime as dt
import functools
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
from . import throttle
from .common import _, reading, safe_next
from .common import lazy as lazy_gettext
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


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Log a staff member in; failures slow the next attempt down (web/throttle.py)."""
    form = LoginForm()
    counts: list[throttle.Counter] = []
    if request.method == "POST":
        typed = staff.normalise_username(request.form.get("username", ""))[:200]
        counts = throttle.counters(typed, request.remote_addr or "-")
        waiting = throttle.wait(counts)
        if waiting:
            # Not checked, not counted, not logged: only a wait, however many are sent.
            flash(_too_many(waiting), "error")
            page = render_template("auth/login.html", form=form)
            return page, 429, {"Retry-After": str(waiting)}
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
            throttle.succeeded(counts)
            _log_login(login.username, login.username, succeeded=True)
            session.clear()
            session.permanent = True
            session["login_at"] = dt.datetime.now(dt.UTC).timestamp()
            login_user(login)
            # An auditor's work is the audit pages: land there, not on the organizers' list.
            home = url_for("audit.index" if login.role == "auditor" else "admin.dashboard")
            return redirect(safe_next(request.args.get("next"), home))
        _log_login(ANONYMOUS, form.username.data or "", succeeded=False)
        delay = throttle.failed(counts)
        flash(LOGIN_FAILED, "error")
        if delay:
            flash(_too_many(delay), "error")
        return render_template("auth/login.html", form=form), 401
    if request.method == "POST":
        # A refused form (empty or over-long fields) is a failed attempt too. CSRF refusals
        # never get here: CSRFProtect answers 400 before the view runs.
        _log_login(ANONYMOUS, request.form.get("username", ""), succeeded=False)
        throttle.failed(counts)
    return render_template("auth/login.html", form=form)


def _too_many(seconds: int) -> str:
    return _(
        "Too many failed attempts for this account or from this address: wait {seconds} "
        "seconds before trying again.",
        seconds=seconds,
    )


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
