"""The append-only, hash-chained audit log, the seal at close, and verification.

Each event's hash covers a canonical JSON serialisation of its id, time, actor, kind, round,
details and the previous event's hash, so changing, deleting, inserting or reordering any event
breaks the chain from that point on. See docs/AUDIT.md.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from .errors import N_, InvalidInput, Message, message
from .models import AuditEvent
from .recount import canonical, content_digest, event_hash, event_hash_v2, parse_head

GENESIS = "0" * 64
# An arbitrary constant: the PostgreSQL advisory lock that serialises appends to the chain.
CHAIN_LOCK = 7_406_311


def _time_text(moment: dt.datetime) -> str:
    if moment.tzinfo is None:  # SQLite returns naive datetimes; they were stored in UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(
    session: Session,
    actor: str,
    kind: str,
    *,
    round_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction, naming who did it."""
    if not actor:
        raise ValueError("an audit event needs the actor who did it")
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    event_id = (last.id + 1) if last else 1
    prev_hash = last.hash if last else GENESIS
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
    detail_text = canonical(details or {})
    content = content_digest(_time_text(moment), actor, kind, round_id, detail_text)
    event = AuditEvent(
        id=event_id,
        at=moment,
        actor=actor,
        kind=kind,
        round_id=round_id,
        details=detail_text,
        prev_hash=prev_hash,
        hash=event_hash_v2(event_id, prev_hash, content),
    )
    session.add(event)
    session.flush()
    return event


def content_of(event: AuditEvent) -> str:
    """Return the digest of what an event says (its time, actor, kind, round, details)."""
    return content_digest(
        _time_text(event.at), event.actor, event.kind, event.round_id, event.details
    )


def hash_holds(event: AuditEvent) -> bool:
    """Tell whether an event's stored hash is the hash of its fields (version 2, or 1)."""
    if event_hash_v2(event.id, event.prev_hash, content_of(event)) == event.hash:
        return True
    return bool(
        event_hash(
            event.id,
            _time_text(event.at),
            event.actor,
            event.kind,
            event.round_id,
            event.details,
            event.prev_hash,
        )
        == event.hash
    )


@dataclass(frozen=True)
class Head:
    """The head of the log: its last event's id and hash, the anchor printed on paper."""

    id: int
    hash: str

    def __str__(self) -> str:
        return f"{self.id}:{self.hash}"


def head(session: Session) -> Head | None:
    """Return the head of the log now (None while the log is empty)."""
    last = session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return Head(last.id, last.hash) if last else None


def event_dict(event: AuditEvent) -> dict[str, Any]:
    """Return an event as JSON-ready data (the form exported in bundles)."""
    return {
        "id": event.id,
        "at": _time_text(event.at),
        "actor": event.actor,
        "kind": event.kind,
        "round": event.round_id,
        "details": json.loads(event.details),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


@dataclass
class Report:
    """The outcome of a verification: every discrepancy and every check, as messages."""

    problems: list[Message] = field(default_factory=list)
    checked: list[Message] = field(default_factory=list)

    def problem(self, msgid: str, **params: Any) -> None:
        """Add a discrepancy."""
        self.problems.append(message(msgid, **params))

    def check(self, msgid: str, **params: Any) -> None:
        """Add what was checked and held."""
        self.checked.append(message(msgid, **params))

    def extend(self, other: Report) -> None:
        """Add another report's problems and checks."""
        self.problems += other.problems
        self.checked += other.checked

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


def verify_chain(session: Session) -> Report:
    """Check every event's hash and its link to the one before."""
    report = Report()
    previous = GENESIS
    expected_id = 1
    count = 0
    for event in session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        count += 1
        if event.id != expected_id:
            report.problem(
                N_("Audit log: event {expected} is missing (the next one is {id})."),
                expected=expected_id,
                id=event.id,
            )
        if event.prev_hash != previous:
            report.problem(
                N_("Audit log: event {id} ({kind}) does not follow the event before it."),
                id=event.id,
                kind=event.kind,
            )
        if not hash_holds(event):
            report.problem(
                N_("Audit log: event {id} ({kind}) was changed after it was written."),
                id=event.id,
                kind=event.kind,
            )
        previous = event.hash
        expected_id = event.id + 1
    report.check(
        N_(
            "Audit log: {count} events checked, each against the one before it; the head is {head}."
        ),
        count=count,
        head=f"{expected_id - 1}:{previous}" if count else "—",
    )
    return report


def verify_head(session: Session, expected: str) -> Report:
    """Find a head read off paper (or kept by the upper level) in the log.

    A log cut after that head no longer has it; a log rewritten and hashed again (an event
    changed, deleted or inserted, rounds renumbered) cannot contain it, since each hash
    covers every event before it. `expected` is "57:ab12…" or the hash alone.
    """
    report = Report()
    try:
        number, digest = parse_head(expected)
    except ValueError as exc:
        raise InvalidInput(
            N_("Not a head of the log: {value!r} ({reason})."), value=expected, reason=str(exc)
        ) from exc
    found = session.execute(
        select(AuditEvent.id).where(AuditEvent.hash == digest)
    ).scalar_one_or_none()
    if found is None or (number is not None and found != number):
        report.problem(
            N_(
                "Audit log: the head {expected} is not in the log: the log was cut or "
                "rewritten after that head was taken."
            ),
            expected=expected.strip(),
        )
    else:
        report.check(
            N_("Audit log: the expected head is event {id}, and the log reaches it unchanged."),
            id=found,
        )
    return report


def round_events(session: Session, round_id: int) -> list[AuditEvent]:
    """Return the events of one round in order."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.round_id == round_id).order_by(AuditEvent.id)
        )
    )
