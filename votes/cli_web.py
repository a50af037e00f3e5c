"""Commands for the web side: staff accounts and serving the demo."""

from __future__ import annotations

import logging
import os
import re
import secrets
import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from . import rounds, staff
from .db import write_session
from .errors import NotFound
from .i18n import translate

DEMO_ORGANIZER = "demo"
DEMO_HOST = "127.0.0.1"
DEMO_PORT = 5000


def _(msgid: str, **params: object) -> str:
    return translate(msgid, os.environ.get("VOTES_LANG", "vi")).format(**params)


def _read_password() -> str:
    """Read a new password from a prompt (twice) or, when stdin is not a terminal, one line."""
    if sys.stdin is not None and sys.stdin.isatty():
        value: str = click.prompt(
            _("Password"), hide_input=True, confirmation_prompt=_("Repeat the password")
        )
        return value
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def register(cli: FlaskGroup) -> None:
    """Add the web-side commands to the `votes` command."""

    @cli.group("user")
    def user_group() -> None:
        """Staff accounts (organizers, auditors, administrators)."""

    @user_group.command("add")
    @click.argument("username")
    @click.option("--role", type=click.Choice(staff.ROLES), required=True)
    @click.option("--body", "bodies", multiple=True, help="code of a body the user works on")
    def user_add(username: str, role: str, bodies: tuple[str, ...]) -> None:
        """Add a staff account; the password is read from a prompt or standard input."""
        password = _read_password()
        with write_session(current_app.extensions["votes.sessions"]) as session:
            user = staff.add_user(session, username, password, role, list(bodies))
            click.echo(
                _(
                    "User {username} added with the role {role}.",
                    username=user.username,
                    role=user.role,
                )
            )

    @user_group.command("passwd")
    @click.argument("username")
    def user_passwd(username: str) -> None:
        """Set a staff account's password (from a prompt or standard input)."""
        with write_session(current_app.extensions["votes.sessions"]) as session:
            user = staff.get_user(session, username)
            staff.set_password(session, user, _read_password())
            click.echo(_("The password of {username} is changed.", username=user.username))


class _NoCodesInLog(logging.Filter):
    """Blank out voter codes in request lines: the slip link /b/CODE carries one."""

    pattern = re.compile(r"/b/[^ \"?]+")

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.pattern.sub("/b/…", str(record.msg))
        if record.args:
            record.args = tuple(
                self.pattern.sub("/b/…", a) if isinstance(a, str) else a for a in record.args
            )
        return True


DEMO_OPEN_BODY = ("SL-HDND", "Hội đồng nhân dân tỉnh Sơn Lâm (dữ liệu minh họa)")


def demo_accounts(app: Flask) -> tuple[str, str, list[str]]:
    """Create (or reset) the demo organizer and an open round; return login, password, codes.

    The open round belongs to a second demo body: `votes demo` prints the results of every
    round of the seeded body, which an open round would make fail on the next run.
    """
    from sqlalchemy import select

    from .demo import BODY_CODE, roster
    from .models import Body, Round, RoundStatus

    password = secrets.token_urlsafe(9)
    secret = app.config["SECRET_KEY"]
    with write_session(app.extensions["votes.sessions"]) as session:
        body = session.scalar(select(Body).where(Body.code == DEMO_OPEN_BODY[0]))
        if body is None:
            body = rounds.add_body(session, *DEMO_OPEN_BODY, "council")
        try:
            user = staff.get_user(session, DEMO_ORGANIZER)
            staff.set_password(session, user, password)
        except NotFound:
            user = staff.add_user(
                session, DEMO_ORGANIZER, password, "organizer", [BODY_CODE, body.code]
            )
        round_ = session.scalar(
            select(Round).where(Round.body_id == body.id, Round.status == RoundStatus.OPEN.value)
        )
        if round_ is None:
            entries = [e for e in roster(2025) if e.kind == "person"][:6]
            round_ = rounds.create_round(
                session,
                body,
                year=2026,
                profile_id="nq96-2023",
                title="Lấy phiếu tín nhiệm Thường trực HĐND tỉnh năm 2026 (thử)",
                roster=entries,
                members=40,
                place="Sơn Lâm",
            )
            rounds.open_round(session, round_)
        codes = rounds.issue_round_codes(session, round_, 5, secret)
    return DEMO_ORGANIZER, password, codes


def serve_demo(app: Flask) -> None:
    """Serve the demo site on http://127.0.0.1:5000 with an organizer login and voter codes."""
    username, password, codes = demo_accounts(app)
    base = f"http://{DEMO_HOST}:{DEMO_PORT}"
    click.echo(_("The demo site: {url}", url=base))
    click.echo(
        _(
            "Organizer login: {url}/auth/login user {username} password {password}",
            url=base,
            username=username,
            password=password,
        )
    )
    click.echo(_("Voter codes of the open demo round (each works once):"))
    for code in codes:
        click.echo(f"  {code}   {base}/b/{code}")
    click.echo(_("Press Ctrl+C to stop."))
    logging.getLogger("werkzeug").addFilter(_NoCodesInLog())
    # werkzeug directly: Flask's app.run() refuses to run inside a `flask`-style command.
    from werkzeug.serving import run_simple

    run_simple(DEMO_HOST, DEMO_PORT, app, use_reloader=False, use_debugger=False, threaded=True)
