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

from .errors import N_, Message, message
from .models import AuditEvent
from .recount import canonical, event_hash

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
    event = AuditEvent(
        id=event_id,
        at=moment,
        actor=actor,
        kind=kind,
        round_id=round_id,
        details=detail_text,
        prev_hash=prev_hash,
        hash=event_hash(
            event_id, _time_text(moment), actor, kind, round_id, detail_text, prev_hash
        ),
    )
    session.add(event)
    session.flush()
    return event


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
        recomputed = event_hash(
            event.id,
            _time_text(event.at),
            event.actor,
            event.kind,
            event.round_id,
            event.details,
            event.prev_hash,
        )
        if recomputed != event.hash:
            report.problem(
                N_("Audit log: event {id} ({kind}) was changed after it was written."),
                id=event.id,
                kind=event.kind,
            )
        previous = event.hash
        expected_id = event.id + 1
    report.check(
        N_("Audit log: {count} events checked, each against the one before it."), count=count
    )
    return report


def round_events(session: Session, round_id: int) -> list[AuditEvent]:
    """Return the events of one round in order."""
    return list(
        session.scalars(
            select(AuditEvent).where(AuditEvent.round_id == round_id).order_by(AuditEvent.id)
        )
    )
