"""What the blueprints share: the request's language and words, sessions, the actor, access."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Response, abort, current_app, g
from flask_babel import LazyString, get_locale
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import operations, sealing, staff
from ..credentials import CodeFormatError, digest
from ..db import autocommit_reads
from ..errors import Message, VotesError
from ..i18n import translate
from ..limits import file_name_part
from ..models import Body, CountingKey, Credential, Round, RoundStatus, StaffUser
from ..vocabulary import letters


def language() -> str:
    """Return the language of the current request ("vi" or "en")."""
    return "en" if str(get_locale()) == "en" else "vi"


def _(msgid: str, **params: Any) -> str:
    """Translate a message into the request's language and fill its {fields}."""
    return translate(msgid, language()).format(**params)


def lazy(msgid: str) -> LazyString:
    """Return a message translated only when shown (form labels, module-level texts)."""
    return LazyString(_, msgid)


def template_gettext(msgid: str, **params: Any) -> Markup:
    """Translate a message in a template; the values filled in are escaped."""
    # The translation is escaped before it becomes markup; Markup.format escapes the values.
    return Markup(escape(translate(msgid, language()))).format(**params)  # noqa: S704


def message(error: VotesError | Message) -> str:
    """Return a refusal (or a message of the core) in the language of the request."""
    return error.message(language()) if isinstance(error, VotesError) else error.text(language())


def download(data: bytes, filename: str, content_type: str) -> Response:
    """Send a file as an attachment (the content type is given whole, charset included)."""
    response = Response(data, content_type=content_type)
    # The documents build their names from safe parts; whatever reaches here is reduced to
    # them again, so that no quote or line break can end the header's value early.
    stem, dot, extension = filename.rpartition(".")
    safe = f"{file_name_part(stem)}.{file_name_part(extension)}"
    if not dot:
        safe = file_name_part(filename)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    return response


def send(document: operations.Document) -> Response:
    """Send a document built by the core."""
    return download(document.data, document.filename, document.mimetype)


def actor() -> str:
    """Return who acts through the pages: the signed-in account's username."""
    username: str = current_user.username
    return username


@contextlib.contextmanager
def working() -> Iterator[operations.Work]:
    """Yield a unit of work of the signed-in account: it commits, or writes nothing if refused."""
    # End the request's read transaction first: on SQLite an open read would hold back the
    # WAL checkpoint that follows closing a round (rounds.compact).
    if "db_session" in g:
        g.db_session.rollback()
    with operations.work(current_app.extensions["votes.sessions"], actor()) as work:
        yield work


def staff_user(session: Session) -> StaffUser:
    """Return the logged-in staff account as a row of `session`."""
    user = session.get(StaffUser, current_user.user_id)
    if user is None:
        abort(403)
    return user


def can_manage(round_: Round) -> bool:
    """Tell whether the signed-in account may change this round."""
    session = reading()
    return staff.can_manage(session, staff_user(session), round_.body_id)


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


def body_for(session: Session, code: str, *, manage: bool) -> Body:
    """Return a body the logged-in user may see (or change, with manage=True), else 404/403."""
    body = session.scalar(select(Body).where(Body.code == code))
    if body is None:
        abort(404)
    user = staff_user(session)
    if not (staff.can_manage if manage else staff.can_view)(session, user, body.id):
        abort(403)
    found: Body = body
    return found


def reading() -> Session:
    """Return the request's session (reads only; writes go through `working`).

    One session per application context, closed when the context ends (votes/app.py).
    """
    if "db_session" not in g:
        g.db_session = current_app.extensions["votes.sessions"]()
    session: Session = g.db_session
    return session


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
    body_kind: str = "party"  # how the pages address the voter (web/words.py, voter_address)
    public_key: str | None = None  # the counting committee's joint key its ballots are sealed to


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
        if round_ is None:
            abort(404)
        view = BallotView(
            round_.id,
            round_.title,
            round_.body.name,
            round_.year,
            round_.scale,
            tuple(ItemView(i.order, i.kind, i.name, i.position) for i in round_.items),
            round_.body.kind,
            session.scalar(select(CountingKey.public_key).where(CountingKey.round_id == round_id)),
        )
        if len(cache) > 1000:
            cache.clear()
        cache[round_id] = view
    return view


def prepare_sealing(round_: BallotView) -> None:
    """Start this process's sealing pads for a round's key: a voter who sees the ballot casts
    soon, and the cast then finds its precomputed randomness ready (votes/sealing.py)."""
    if round_.public_key is not None:
        sealing.prepare_pads(round_.public_key, len(round_.items), len(letters(round_.scale)))


def find_code(session: Session, code: str) -> tuple[str, BallotView | None]:
    """Look a voter code up in every round; return (state, ballot) without changing anything.

    state is "malformed", "unknown", "not_open" or "ok". The code is looked up by its HMAC
    digest, with one query whatever the answer, so the time taken does not depend on whether
    the code exists. The caller decides what to tell (see ballot.REFUSALS).

    A used code is "ok" here: opening a ballot never tells whether its code was used, so the
    printed list of codes does not show who has voted; casting with it is refused (and that
    refusal changes nothing).
    """
    try:
        code_digest = digest(current_app.config["SECRET_KEY"], code)
    except CodeFormatError:
        return "malformed", None
    autocommit_reads(session)  # one SELECT: one round trip on PostgreSQL, not three
    found = session.execute(
        select(Credential.round_id, Round.status)
        .join(Round, Round.id == Credential.round_id)
        .where(Credential.digest == code_digest)
    ).first()
    if found is None:
        return "unknown", None
    round_id, status = found
    if status != RoundStatus.OPEN.value:
        return "not_open", None
    return "ok", ballot_view(session, round_id)


def safe_next(target: str | None, fallback: str) -> str:
    """Return a same-site relative path to go back to, else the fallback."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
