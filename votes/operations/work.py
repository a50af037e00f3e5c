"""One unit of work: a write transaction and the actor who does it.

Every door opens its writes with `work(sessions, actor)`: the command line as "cli:<user>",
the pages as the signed-in account, the API as its client. The transaction commits when the
block ends and rolls back when anything in it is refused, so a refusal writes nothing. Each
operation records its audit event through `Work.log`, which names the actor.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from .. import audit
from ..db import write_session
from ..errors import N_, WrongState
from ..models import AuditEvent, Body, Round
from ..rounds import get_body, get_round


@dataclass(frozen=True)
class Work:
    """A write transaction (`session`) done by someone (`actor`)."""

    session: Session
    actor: str

    def log(
        self, kind: str, *, round_id: int | None = None, details: dict[str, Any] | None = None
    ) -> AuditEvent:
        """Append an event to the audit log in this transaction, naming the actor."""
        return audit.record(self.session, self.actor, kind, round_id=round_id, details=details)

    def round(self, round_id: int) -> Round:
        """Return a round of this transaction by id (refused if unknown or read-only here)."""
        round_ = get_round(self.session, round_id)
        if round_.reported_from is not None:
            # Reported by a lower installation in a signed package: its figures are theirs.
            raise WrongState(
                N_("Round {id} was reported by a lower level: it is read-only here."),
                id=round_id,
            )
        return round_

    def body(self, code: str) -> Body:
        """Return a body of this transaction by code (refused if unknown)."""
        return get_body(self.session, code)


@contextlib.contextmanager
def work(sessions: sessionmaker[Session], actor: str) -> Iterator[Work]:
    """Yield a unit of work that commits at the end and writes nothing when refused."""
    if not actor:
        raise ValueError("a unit of work needs the actor who does it")
    with write_session(sessions) as session:
        yield Work(session, actor)
