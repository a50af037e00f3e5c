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

from .csvinput import in_cells, rows
from .errors import N_, InvalidInput, Message, message
from .limits import FIELD_WORDS, check_text, mixed_scripts
from .models import Body, Person, Round
from .persons import check_keys, new_identity
from .text import clean_name, nfc, same_name

ROSTER_COLUMNS = ("name", "position", "person_key", "kind", "exempt_reason", "exempt_decision")
# The headings a Vietnamese office writes (compared after NFC, case-folding and spacing).
VIETNAMESE_COLUMNS = {
    "họ và tên": "name",
    "họ tên": "name",
    "chức vụ": "position",
    "mã cá nhân": "person_key",
    "loại": "kind",
    "lý do không lấy phiếu": "exempt_reason",
    "lí do không lấy phiếu": "exempt_reason",
    "số quyết định": "exempt_decision",
    "quyết định": "exempt_decision",
}
# The kinds of line in words: "cá nhân" (a person), "tập thể" (the collective).
VIETNAMESE_KINDS = {"cá nhân": "person", "tập thể": "collective"}


def _column(heading: str) -> str:
    """Return the column a heading names: an English name as it is, or a Vietnamese heading."""
    words = " ".join(nfc(heading).casefold().split())
    return VIETNAMESE_COLUMNS.get(words, words)


ITEM_KINDS = ("person", "collective")
# The organizer's answer to "same person?" that says: no, somebody else (DOMAIN.md §2).
NEW_PERSON = "new"


@dataclass(frozen=True)
class RosterEntry:
    """One line of a roster: a person or the collective, on the ballot or exempt."""

    line: int
    name: str
    position: str
    person_key: str | None = None
    kind: str = "person"
    exempt_reason: str = ""
    # The number of the decision that allows an exemption the profile does not list.
    exempt_decision: str = ""
    # On a vote of confidence: "finding" or "proposal" (why the person is on it).
    referral: str | None = None

    @property
    def identity(self) -> str:
        """Return the key that identifies the person in the body."""
        return self.person_key or self.name


# Which column a refusal of a roster line is about (an .xlsx names the cell).
_PROBLEM_COLUMNS = {
    "Line {line}: the name is empty.": "name",
    "Line {line}: the position is empty.": "position",
    "Line {line}: unknown kind {kind!r}; use person or collective.": "kind",
    "Line {line}: the collective cannot be exempt.": "exempt_reason",
    "Line {line}: {name} is already listed on line {first}.": "name",
}
_FIELD_COLUMNS = {
    FIELD_WORDS["name"]: "name",
    FIELD_WORDS["position"]: "position",
    FIELD_WORDS["person_key"]: "person_key",
    FIELD_WORDS["reason"]: "exempt_reason",
}


def parse_roster(data: bytes) -> list[RosterEntry]:
    """Read a roster (CSV, or the first sheet of an .xlsx); refuse it listing every bad line."""
    return in_cells(data, lambda: _parse_roster(data), lambda p: _roster_column(data, p))


def _roster_column(data: bytes, problem: InvalidInput) -> int | None:
    """Return the column (1 = A) of the roster a refusal is about, if it is about one cell."""
    name = _PROBLEM_COLUMNS.get(problem.msgid)
    inner = problem.params.get("problem")
    if name is None and isinstance(inner, InvalidInput):
        name = _FIELD_COLUMNS.get(str(inner.params.get("field_word")))
    header = next((cells for _line, cells in rows(data)), [])
    names = [nfc(cell).lower() for cell in header]
    return names.index(name) + 1 if name in names else None


def _parse_roster(data: bytes) -> list[RosterEntry]:
    problems: list[InvalidInput] = []
    entries: list[RosterEntry] = []
    header: list[str] | None = None
    seen: dict[str, int] = {}
    for line, cells in rows(data):
        if header is None:
            header = [_column(cell) for cell in cells]
            missing = [c for c in ("name", "position") if c not in header]
            unknown = [c for c in header if c not in ROSTER_COLUMNS]
            if missing or unknown:
                raise InvalidInput(
                    N_(
                        "Line 1: the header must have the columns name,position (or “Họ và "
                        "tên”, “Chức vụ”) and may add person_key, kind, exempt_reason, "
                        "exempt_decision (or “Mã cá nhân”, “Loại”, “Lý do không lấy phiếu”, "
                        "“Số quyết định”) (missing: {missing}; unknown: {unknown})."
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
        kind = " ".join(nfc(record.get("kind", "") or "person").casefold().split())
        kind = VIETNAMESE_KINDS.get(kind, kind)
        entry = RosterEntry(
            line=line,
            name=clean_name(record["name"]),
            position=clean_name(record["position"]),
            person_key=nfc(record.get("person_key", "")) or None,
            kind=kind,
            exempt_reason=clean_name(record.get("exempt_reason", "")),
            exempt_decision=clean_name(record.get("exempt_decision", "")),
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
            exempt_decision=exemption.decision or "",
        )
        for n, exemption in enumerate(round_.exemptions, start=1)
    ]
    return entries


def _external_key(person: Person | None) -> str | None:
    """Return the key a roster gave for a person (None when the name served as the key)."""
    if person is None or person.person_key == person.name:
        return None
    return person.person_key


def with_exemption(
    entries: list[RosterEntry], person_key: str, reason: str, decision: str = ""
) -> list[RosterEntry]:
    """Return the roster with one person exempt (a reason) or back on the ballot ("")."""
    return [
        replace(entry, exempt_reason=reason, exempt_decision=decision if reason else "")
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
            [
                entry.name,
                entry.position,
                entry.person_key or "",
                entry.kind,
                entry.exempt_reason,
                entry.exempt_decision,
            ]
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
                "reason_id": e.reason_id,
                "decision": e.decision,
            }
            for e in round_.exemptions
        ],
    }


@dataclass(frozen=True)
class IdentityQuestion:
    """A roster line that may or may not be a person already known: the organizer decides.

    `kind` is "key_other_name" (the line's key belongs to a person with another name) or
    "name_other_key" (the line's name is that of a person known under another key).
    `candidates` are the (person_key, name) of the persons it may be.
    """

    line: int
    name: str
    person_key: str | None
    kind: str
    candidates: tuple[tuple[str, str], ...]

    def message(self) -> Message:
        """Say what the question is, and how to answer it."""
        known = ", ".join(f"{name} ({key})" for key, name in self.candidates)
        if self.kind == "key_other_name":
            return message(
                N_(
                    "Line {line}: the key {key} belongs to {known}, but the roster names {name}. "
                    "The same person? Confirm it, or give {name} a key of their own."
                ),
                line=self.line,
                key=self.person_key,
                known=known,
                name=self.name,
            )
        return message(
            N_(
                "Line {line}: {name} has the name of {known}. The same person? Confirm it, or "
                "say it is somebody else (who then needs a key of their own)."
            ),
            line=self.line,
            name=self.name,
            known=known,
        )


class _Persons:
    """The persons of a body, looked up by key or by name after NFC and case-folding."""

    def __init__(self, session: Session, body: Body) -> None:
        self.all = list(session.scalars(select(Person).where(Person.body_id == body.id)))

    def by_key(self, key: str) -> Person | None:
        exact = next((p for p in self.all if p.person_key == key), None)
        if exact is not None:
            return exact
        return next((p for p in self.all if same_name(p.person_key, key)), None)

    def named(self, name: str) -> list[Person]:
        return [p for p in self.all if same_name(p.name, name)]


def _question(
    persons: _Persons, entry: RosterEntry
) -> tuple[Person | None, IdentityQuestion | None]:
    """Return the person a line is, or the question to ask about it."""
    if entry.person_key:
        known = persons.by_key(entry.person_key)
        if known is not None:
            if same_name(known.name, entry.name):
                return known, None
            kind, candidates = "key_other_name", [known]
        else:
            candidates = persons.named(entry.name)
            if not candidates:
                return None, None
            kind = "name_other_key"
    else:
        known = persons.by_key(entry.name)
        if known is not None:
            return known, None
        candidates = persons.named(entry.name)
        if not candidates:
            return None, None
        kind = "name_other_key"
    return None, IdentityQuestion(
        entry.line,
        entry.name,
        entry.person_key,
        kind,
        tuple((p.person_key, p.name) for p in candidates),
    )


def identity_questions(
    session: Session, body: Body, entries: list[RosterEntry]
) -> list[IdentityQuestion]:
    """Return every "same person?" question a roster raises in a body (DOMAIN.md §2)."""
    persons = _Persons(session, body)
    found = []
    for entry in entries:
        if entry.kind != "person":
            continue
        _person, question = _question(persons, entry)
        if question is not None:
            found.append(question)
    return found


def homonyms(entries: list[RosterEntry]) -> dict[int, int]:
    """Return, for each line whose name another line of the roster also has, that other line."""
    first: dict[str, int] = {}
    found: dict[int, int] = {}
    for entry in entries:
        if entry.kind != "person":
            continue
        name = clean_name(entry.name).casefold()
        if name in first:
            found[entry.line] = first[name]
            found.setdefault(first[name], entry.line)
        else:
            first[name] = entry.line
    return found


def resolve_persons(
    session: Session,
    body: Body,
    entries: list[RosterEntry],
    identity: dict[int, str] | None = None,
) -> tuple[list[Person | None], list[dict[str, object]]]:
    """Return the person of every entry, in order (None for the collective), and the decisions.

    Persons are created the first time. A question without an answer in `identity` (roster
    line → the key of the person it is, or NEW_PERSON) refuses the whole roster, every
    question listed; nothing is merged or split silently.
    """
    identity = identity or {}
    persons = _Persons(session, body)
    problems: list[InvalidInput] = []
    chosen: list[Person | None] = []
    decisions: list[dict[str, object]] = []
    for entry in entries:
        chosen.append(None)
        if entry.kind != "person":
            continue
        known, question = _question(persons, entry)
        if question is None:
            chosen[-1] = known
            continue
        answer = identity.get(entry.line)
        keys = [key for key, _name in question.candidates]
        if answer is None:
            asked = question.message()
            problems.append(InvalidInput(asked.msgid, **asked.params))
            continue
        if answer != NEW_PERSON:
            match = next((p for p in persons.all if p.person_key == answer), None)
            if match is None or answer not in keys:
                problems.append(
                    InvalidInput(
                        N_("Line {line}: {key} is not one of the persons asked about ({keys})."),
                        line=entry.line,
                        key=answer,
                        keys=", ".join(keys),
                    )
                )
                continue
            chosen[-1] = match
        elif question.kind == "key_other_name" or not entry.person_key:
            problems.append(
                InvalidInput(
                    N_(
                        "Line {line}: {name} is somebody else than {known}: give {name} a "
                        "person_key of their own (two different people need distinct keys)."
                    ),
                    line=entry.line,
                    name=entry.name,
                    known=", ".join(f"{n} ({k})" for k, n in question.candidates),
                )
            )
            continue
        decisions.append(
            {"line": entry.line, "name": entry.name, "answer": answer, "candidates": keys}
        )
    if problems:
        raise InvalidInput.of(problems)
    check_keys(session, body, [e for i, e in enumerate(entries) if chosen[i] is None])
    for index, entry in enumerate(entries):
        if entry.kind != "person" or chosen[index] is not None:
            continue
        # A new person, unless an earlier line of this roster created them already.
        person = persons.by_key(entry.identity)
        if person is None:
            person = Person(
                body_id=body.id,
                person_key=entry.identity,
                name=entry.name,
                identity=new_identity(session, body, entry),
            )
            session.add(person)
            session.flush()
            persons.all.append(person)
        chosen[index] = person
    return chosen, decisions
