"""Small helpers shared by the blueprints: sessions, language, access to rounds."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from flask import abort, current_app, g
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import db_session, staff
from ..credentials import CodeFormatError, digest
from ..db import autocommit_reads, write_session
from ..errors import VotesError
from ..models import Credential, Round, RoundStatus, StaffUser


def language() -> str:
    """Return the language of the current request ("vi" or "en")."""
    return "en" if str(get_locale()) == "en" else "vi"


def message(error: VotesError) -> str:
    """Return a refusal's message in the language of the request."""
    return error.message(language())


@contextlib.contextmanager
def writing() -> Iterator[Session]:
    """Yield a session that holds the write lock from its first statement and commits."""
    # End the request's read transaction first: on SQLite an open read would hold back the
    # WAL checkpoint that follows closing a round (rounds.compact).
    if "db_session" in g:
        g.db_session.rollback()
    with write_session(current_app.extensions["votes.sessions"]) as session:
        yield session


def staff_user(session: Session) -> StaffUser:
    """Return the logged-in staff account as a row of `session`."""
    user = session.get(StaffUser, current_user.user_id)
    if user is None:
        abort(403)
    return user


def round_for(session: Session, round_id: int, *, manage: bool) -> Round:
    """Return a round the logged-in user may see (or change, with manage=True), else 404/403."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        abort(404)
    user = staff_user(session)
    allowed = (staff.can_manage if manage else staff.can_view)(session, user, round_.body_id)
    if not allowed:
        abort(403)
    return round_


def reading() -> Session:
    """Return the request's session (reads only; writes go through `writing`)."""
    return db_session()


@dataclass(frozen=True)
class ItemView:
    """One line of an open ballot, as the voter sees it."""

    order: int
    kind: str
    name: str
    position: str


@dataclass(frozen=True)
class BallotView:
    """What a voter's pages need of an open round; frozen like the ballot itself."""

    id: int
    title: str
    body_name: str
    year: int
    scale: str
    items: tuple[ItemView, ...]


def ballot_view(session: Session, round_id: int) -> BallotView:
    """Return the voter's view of an OPEN round, kept per application after the first request.

    The items of a round are frozen when it opens and a round never reopens, so the view of an
    open round never changes; whether the round is still open is checked on every request by
    the code look-up. This saves two queries a voter, which matters on PostgreSQL.
    """
    cache: dict[int, BallotView] = current_app.extensions.setdefault("votes.open_ballots", {})
    view = cache.get(round_id)
    if view is None:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        view = BallotView(
            round_.id,
            round_.title,
            round_.body.name,
            round_.year,
            round_.scale,
            tuple(ItemView(i.order, i.kind, i.name, i.position) for i in round_.items),
        )
        if len(cache) > 1000:
            cache.clear()
        cache[round_id] = view
    return view


def find_code(session: Session, code: str) -> tuple[str, BallotView | None]:
    """Look a voter code up in every round; return (state, ballot) without changing anything.

    state is "malformed", "unknown", "used", "not_open" or "ok". The code is looked up by its
    HMAC digest, with one query whatever the answer, so the time taken does not depend on
    whether the code exists. The caller decides what to tell (see ballot.REFUSALS).
    """
    try:
        code_digest = digest(current_app.config["SECRET_KEY"], code)
    except CodeFormatError:
        return "malformed", None
    autocommit_reads(session)  # one SELECT: one round trip on PostgreSQL, not three
    found = session.execute(
        select(Credential.used, Credential.round_id, Round.status)
        .join(Round, Round.id == Credential.round_id)
        .where(Credential.digest == code_digest)
    ).first()
    if found is None:
        return "unknown", None
    used, round_id, status = found
    if status != RoundStatus.OPEN.value:
        return "not_open", None
    if used:
        return "used", None
    return "ok", ballot_view(session, round_id)
