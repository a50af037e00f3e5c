"""Rosters: the persons (and the collective) of a round's ballot, and those left off it.

A roster is typed or uploaded as CSV (name, position, person_key, kind, exempt_reason); it is
read here, checked line by line, and written back from a round for editing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from .csvinput import rows
from .errors import N_, InvalidInput, Message, message
from .limits import check_text, mixed_scripts
from .models import Body, Person, Round
from .text import clean_name, nfc

ROSTER_COLUMNS = ("name", "position", "person_key", "kind", "exempt_reason")
ITEM_KINDS = ("person", "collective")


@dataclass(frozen=True)
class RosterEntry:
    """One line of a roster: a person or the collective, on the ballot or exempt."""

    line: int
    name: str
    position: str
    person_key: str | None = None
    kind: str = "person"
    exempt_reason: str = ""

    @property
    def identity(self) -> str:
        """Return the key that identifies the person in the body."""
        return self.person_key or self.name


def parse_roster(data: bytes) -> list[RosterEntry]:
    """Read a roster CSV; raise InvalidInput listing every bad line when anything is wrong."""
    problems: list[InvalidInput] = []
    entries: list[RosterEntry] = []
    header: list[str] | None = None
    seen: dict[str, int] = {}
    for line, cells in rows(data):
        if header is None:
            header = [nfc(cell).lower() for cell in cells]
            missing = [c for c in ("name", "position") if c not in header]
            unknown = [c for c in header if c not in ROSTER_COLUMNS]
            if missing or unknown:
                raise InvalidInput(
                    N_(
                        "Line 1: the header must have the columns name,position and may add "
                        "person_key, kind, exempt_reason (missing: {missing}; unknown: {unknown})."
                    ),
                    missing=", ".join(missing) or "-",
                    unknown=", ".join(unknown) or "-",
                )
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(
                InvalidInput(
                    N_("Line {line}: {found} cells where the header has {expected}."),
                    line=line,
                    found=len(cells),
                    expected=len(header),
                )
            )
            continue
        record = dict(zip(header, cells, strict=True))
        kind = nfc(record.get("kind", "") or "person").lower()
        entry = RosterEntry(
            line=line,
            name=clean_name(record["name"]),
            position=clean_name(record["position"]),
            person_key=nfc(record.get("person_key", "")) or None,
            kind=kind,
            exempt_reason=clean_name(record.get("exempt_reason", "")),
        )
        try:
            entry = checked_entry(entry)
        except InvalidInput as refused:
            problems.append(InvalidInput(N_("Line {line}: {problem}"), line=line, problem=refused))
            continue
        if kind not in ("person", "collective"):
            problems.append(
                InvalidInput(
                    N_("Line {line}: unknown kind {kind!r}; use person or collective."),
                    line=line,
                    kind=kind,
                )
            )
            continue
        if not entry.name:
            problems.append(InvalidInput(N_("Line {line}: the name is empty."), line=line))
            continue
        if kind == "person" and not entry.position:
            problems.append(InvalidInput(N_("Line {line}: the position is empty."), line=line))
            continue
        if kind == "collective" and entry.exempt_reason:
            problems.append(
                InvalidInput(N_("Line {line}: the collective cannot be exempt."), line=line)
            )
            continue
        key = f"{kind}:{entry.identity.casefold()}"
        if key in seen:
            problems.append(
                InvalidInput(
                    N_("Line {line}: {name} is already listed on line {first}."),
                    line=line,
                    name=entry.name,
                    first=seen[key],
                )
            )
            continue
        seen[key] = line
        entries.append(entry)
    if header is None:
        raise InvalidInput(N_("The roster is empty."))
    if problems:
        first = problems[0]
        raise InvalidInput(first.msgid, problems=problems, **first.params)
    if not any(e.exempt_reason == "" for e in entries):
        raise InvalidInput(N_("The roster has nobody on the ballot."))
    return entries


def checked_entry(entry: RosterEntry) -> RosterEntry:
    """Return a roster entry with every text checked: characters, lengths (votes.limits)."""
    return replace(
        entry,
        name=check_text(entry.name, "name"),
        position=check_text(entry.position, "position"),
        person_key=(
            check_text(entry.person_key, "person_key", fold=False) or None
            if entry.person_key
            else None
        ),
        exempt_reason=check_text(entry.exempt_reason, "reason"),
    )


def roster_warnings(entries: list[RosterEntry]) -> list[Message]:
    """Return what the organizer should look at before saving a roster (shown in the preview).

    A name that mixes writing systems (a Cyrillic 'а' among Latin letters) looks like
    another person's name but is a different person to the system: almost always a paste
    from elsewhere, sometimes a trick.
    """
    warnings = []
    for entry in entries:
        for value in (entry.name, entry.position):
            found = mixed_scripts(value)
            if found:
                warnings.append(
                    message(
                        N_(
                            "Line {line}: {text!r} mixes writing systems ({scripts}); letters "
                            "that look alike may be from another alphabet. Retype it if in "
                            "doubt."
                        ),
                        line=entry.line,
                        text=value,
                        scripts=", ".join(sorted(found)),
                    )
                )
    return warnings


def roster_entries(round_: Round) -> list[RosterEntry]:
    """Return the roster a round was made from: its items in order, then its exemptions."""
    entries = [
        RosterEntry(
            line=item.order,
            name=item.name,
            position=item.position,
            person_key=_external_key(item.person),
            kind=item.kind,
        )
        for item in round_.items
    ]
    entries += [
        RosterEntry(
            line=len(entries) + n,
            name=exemption.person.name,
            position=exemption.position,
            person_key=_external_key(exemption.person),
            exempt_reason=exemption.reason,
        )
        for n, exemption in enumerate(round_.exemptions, start=1)
    ]
    return entries


def _external_key(person: Person | None) -> str | None:
    """Return the key a roster gave for a person (None when the name served as the key)."""
    if person is None or person.person_key == person.name:
        return None
    return person.person_key


def with_exemption(entries: list[RosterEntry], person_key: str, reason: str) -> list[RosterEntry]:
    """Return the roster with one person exempt (a reason) or back on the ballot ("")."""
    return [
        replace(entry, exempt_reason=reason)
        if entry.kind == "person" and entry.identity == person_key
        else entry
        for entry in entries
    ]


def roster_csv(entries: list[RosterEntry]) -> str:
    """Write roster entries as roster CSV (for editing)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROSTER_COLUMNS)
    for entry in entries:
        writer.writerow(
            [entry.name, entry.position, entry.person_key or "", entry.kind, entry.exempt_reason]
        )
    return out.getvalue()


def roster_details(round_: Round) -> dict[str, object]:
    """Describe a round's ballot items and exemptions for the audit log."""
    return {
        "items": [
            {
                "order": i.order,
                "kind": i.kind,
                "name": i.name,
                "position": i.position,
                "person_key": i.person.person_key if i.person else None,
            }
            for i in round_.items
        ],
        "exempt": [
            {
                "name": e.person.name,
                "person_key": e.person.person_key,
                "position": e.position,
                "reason": e.reason,
            }
            for e in round_.exemptions
        ],
    }


def person_for(session: Session, body: Body, entry: RosterEntry) -> Person:
    """Return the person of a body a roster entry names, creating them the first time."""
    key = entry.identity
    person = session.scalar(
        select(Person).where(Person.body_id == body.id, Person.person_key == key)
    )
    if person is None:
        person = Person(body_id=body.id, person_key=key, name=entry.name)
        session.add(person)
        session.flush()
    return person
