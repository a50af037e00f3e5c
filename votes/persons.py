"""Persons known across the whole tree of bodies: one identity, several places.

Each body keeps its own key for a person (what its sealed rounds name); the identity is the
person's key tree-wide. A roster line with a key (a cadre's code) is the person of that key in
every body; a line without a key is known by its name in its own body only: a person of the
same name in another body is pointed out (a warning), never merged silently (DOMAIN.md §2).

QĐ 96-QĐ/TW lets a person be polled in at most two places in a year; a roster that would make
a third is loaded with a warning naming the places.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import N_, InvalidInput, Message, message
from .models import BallotItem, Body, Person, Round, Scale
from .text import same_name

# QĐ 96-QĐ/TW: at most two places.
MAX_PLACES = 2


class Line(Protocol):
    """What this module reads of a roster line (votes.roster.RosterEntry)."""

    @property
    def line(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def person_key(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def exempt_reason(self) -> str: ...


def _elsewhere(session: Session, body: Body, identity: str) -> list[Person]:
    return list(
        session.scalars(
            select(Person).where(Person.identity == identity, Person.body_id != body.id)
        )
    )


def new_identity(session: Session, body: Body, line: Line) -> str:
    """Return the identity of a person new to a body (refused when a key meets another name)."""
    if line.person_key:
        known = _elsewhere(session, body, line.person_key)
        other = next((p for p in known if not same_name(p.name, line.name)), None)
        if other is not None:
            raise InvalidInput(
                N_(
                    "Line {line}: the key {key} belongs to {known} in {body}, but the roster "
                    "names {name}. Correct the name, or give {name} a key of their own."
                ),
                line=line.line,
                key=line.person_key,
                known=other.name,
                body=_body_code(session, other.body_id),
                name=line.name,
            )
        return line.person_key
    if not _elsewhere(session, body, line.name):
        return line.name
    return f"{body.code}/{line.name}"


def check_keys(session: Session, body: Body, lines: Sequence[Line]) -> None:
    """Refuse a roster whose keys belong to persons of other names elsewhere in the tree."""
    problems = []
    for line in lines:
        if line.kind != "person" or _local(session, body, line) is not None:
            continue
        try:
            new_identity(session, body, line)
        except InvalidInput as refused:
            problems.append(refused)
    if problems:
        raise InvalidInput.of(problems)


def _local(session: Session, body: Body, line: Line) -> Person | None:
    return session.scalar(
        select(Person).where(
            Person.body_id == body.id, Person.person_key == (line.person_key or line.name)
        )
    )


def _body_code(session: Session, body_id: int) -> str:
    body = session.get(Body, body_id)
    return body.code if body is not None else str(body_id)


def identity_of(session: Session, body: Body, line: Line) -> str | None:
    """Return the identity a roster line will have, or None for a person new to the tree."""
    local = _local(session, body, line)
    if local is not None:
        return local.identity
    if line.person_key and _elsewhere(session, body, line.person_key):
        return line.person_key
    return None


def places(
    session: Session, identity: str, year: int, *, leave_out: int | None = None
) -> list[Body]:
    """Return the bodies whose polls of a year rate a person (by identity), by code."""
    query = (
        select(Body)
        .join(Round, Round.body_id == Body.id)
        .join(BallotItem, BallotItem.round_id == Round.id)
        .join(Person, Person.id == BallotItem.person_id)
        .where(Person.identity == identity, Round.year == year, Round.scale == Scale.POLL.value)
        .distinct()
        .order_by(Body.code)
    )
    if leave_out is not None:
        query = query.where(Round.id != leave_out)
    return list(session.scalars(query))


def tree_warnings(
    session: Session,
    body: Body,
    year: int,
    lines: Sequence[Line],
    *,
    scale: str = Scale.POLL.value,
    leave_out: int | None = None,
) -> list[Message]:
    """Return what a roster should show about the tree: places over QĐ 96's limit, namesakes."""
    warnings: list[Message] = []
    for line in lines:
        if line.kind != "person" or line.exempt_reason:
            continue
        identity = identity_of(session, body, line)
        if identity is not None and scale == Scale.POLL.value:
            found = [b for b in places(session, identity, year, leave_out=leave_out)]
            if body.id not in {b.id for b in found}:
                found.append(body)
            if len(found) > MAX_PLACES:
                warnings.append(
                    message(
                        N_(
                            "Line {line}: {name} would be polled in {count} places in {year} "
                            "({places}); QĐ 96-QĐ/TW allows at most {limit}."
                        ),
                        line=line.line,
                        name=line.name,
                        count=len(found),
                        year=year,
                        places=", ".join(f"{b.name} ({b.code})" for b in found),
                        limit=MAX_PLACES,
                    )
                )
        if identity is None and not line.person_key:
            namesakes = [
                p
                for p in session.scalars(select(Person).where(Person.body_id != body.id))
                if same_name(p.name, line.name)
            ]
            if namesakes:
                warnings.append(
                    message(
                        N_(
                            "Line {line}: {name} is also the name of a person of {known}. If it "
                            "is the same person, give the key {key} on this line so that both "
                            "places share one history."
                        ),
                        line=line.line,
                        name=line.name,
                        known=", ".join(
                            sorted({_body_code(session, p.body_id) for p in namesakes})
                        ),
                        key=namesakes[0].identity,
                    )
                )
    return warnings


def identity_persons(session: Session, identity: str) -> list[Person]:
    """Return the person of an identity in every body that knows them."""
    return list(
        session.scalars(select(Person).where(Person.identity == identity).order_by(Person.body_id))
    )


def identity_summary(session: Session, identity: str) -> dict[str, Any]:
    """Describe an identity: its name and the bodies that know it, with their keys."""
    persons = identity_persons(session, identity)
    return {
        "identity": identity,
        "name": persons[0].name if persons else None,
        "bodies": [
            {"body": _body_code(session, p.body_id), "person_key": p.person_key} for p in persons
        ],
    }
