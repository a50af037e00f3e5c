"""Double entry of paper ballots: two clerks type the same stack; the batch goes in when both agree.

Each entry is kept in the database as it is typed (`PaperEntry`), so the two clerks can work at
two computers, neither sees the other's typing, and a closed browser loses nothing. Only when
both entries are finished and agree ballot for ballot is the batch put into the ballot box, in
one transaction with the deletion of both entries. Nothing here uses Flask.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .counting import digits
from .errors import N_, InvalidInput, WrongState
from .groups import get_group, require_group_open
from .models import PaperEntry, Round, VoterGroup
from .vocabulary import INVALID_MARKS, NO_MARK
from .vocabulary import letters as scale_letters
from .voting import ImportResult, import_paper_ballots, require_open_for_paper

ENTRIES = (1, 2)
VALID, INVALID = "V", "I"


def letters(scale: str) -> list[str]:
    """Return the marks a typed row may hold: the levels, then X (several boxes), - (none)."""
    return [*scale_letters(scale), *INVALID_MARKS[::-1]]


def keys(scale: str) -> list[str]:
    """Return what a clerk types for each mark: the printed columns' digits, X, and 0 (none).

    Digits, not letters: a Vietnamese clerk reads C as "cao" (high), so two clerks could make
    the same slip with letters and the double entry would agree on a wrong count.
    """
    return [*digits(scale), *INVALID_MARKS[::-1][:-1], "0"]


def typed_marks(scale: str) -> dict[str, str]:
    """Return every key a typed row may hold → the stored mark (digits, letters, X, 0 or -)."""
    return {
        **{mark: mark for mark in letters(scale)},
        **digits(scale),
        "0": NO_MARK,
    }


def in_digits(line: str, scale: str) -> str:
    """Write a stored line ("V HCL") as the clerk types it ("V 123"), for the compare page."""
    status, _sep, marks = line.partition(" ")
    by_letter = {letter: digit for digit, letter in digits(scale).items()}
    return f"{status} " + "".join(by_letter.get(mark, mark) for mark in marks)


def ballot_line(marks: list[str], spoiled: bool) -> str:
    """Write one typed ballot as a line: V or I, a space, one mark per item."""
    return ("I " if spoiled else "V ") + "".join(marks)


def split_lines(text: str) -> list[str]:
    """Return the non-empty lines of an entry."""
    return [line for line in text.split("\n") if line.strip()]


def parse_batch(
    text: str,
    count: int,
    allowed: list[str],
    marks_of: dict[str, str] | None = None,
    shown: list[str] | None = None,
) -> tuple[list[str], list[InvalidInput]]:
    """Read a typed batch: one ballot a line, "V 123…" or "V HCL…" (valid), "I …" (invalid).

    `marks_of` maps what may be typed (the columns' digits, 0) to the stored marks; `shown` is
    what a refusal tells the clerk to type. Return the normalised lines (stored marks) and the
    problems, each naming its line.
    """
    marks_of = marks_of or {mark: mark for mark in allowed}
    shown = shown or list(marks_of)
    lines: list[str] = []
    problems: list[InvalidInput] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().upper()
        if not line:
            continue
        status, _sep, typed = line.partition(" ")
        typed = typed.replace(" ", "")
        marks = "".join(marks_of.get(m, "?") for m in typed)
        if (
            status not in (VALID, INVALID)
            or len(marks) != count
            or any(m not in allowed for m in marks)
        ):
            problems.append(
                InvalidInput(
                    N_("Line {line}: write V or I, a space, then {count} marks ({letters})."),
                    line=number,
                    count=count,
                    letters=", ".join(shown),
                )
            )
            continue
        lines.append(f"{status} {marks}")
    return lines, problems


def differences(batch_a: list[str], batch_b: list[str]) -> list[tuple[int, str, str]]:
    """Return every ballot (1-based) where the two entries differ, with both versions."""
    size = max(len(batch_a), len(batch_b))
    return [
        (n + 1, batch_a[n] if n < len(batch_a) else "", batch_b[n] if n < len(batch_b) else "")
        for n in range(size)
        if (batch_a[n] if n < len(batch_a) else None) != (batch_b[n] if n < len(batch_b) else None)
    ]


def batch_csv(batch: list[str], count: int) -> bytes:
    """Turn an agreed batch into the paper-ballot CSV that voting.import_paper_ballots reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["status", *range(1, count + 1)])
    for line in batch:
        status, marks = line.split(" ", 1)
        writer.writerow(
            ["valid" if status == VALID else "invalid", *["" if m == "-" else m for m in marks]]
        )
    return out.getvalue().encode("utf-8")


# ------------------------------------------------------------------------------ the two entries


@dataclass(frozen=True)
class EntryState:
    """What the overview shows of one entry: who started it, how many ballots, finished."""

    entry: int
    clerk: str | None
    count: int
    finished: bool
    last: str | None  # the last ballot typed

    @property
    def started(self) -> bool:
        return self.clerk is not None


def _check_entry(entry: int) -> None:
    if entry not in ENTRIES:
        raise InvalidInput(N_("There are two entries, 1 and 2."))


def _open_group(session: Session, round_: Round, group: int | None) -> VoterGroup:
    """Hold the round open for paper ballots and return the voter group typed for, open.

    A round of several groups types each group's stack apart (each group meets and counts on
    its own): `group` names it; a round of one group needs none.
    """
    require_open_for_paper(session, round_)
    target = get_group(round_, group)
    session.refresh(target)  # a close of the group that committed meanwhile is seen here
    require_group_open(round_, target)
    return target


def _of(round_: Round, group: int) -> list[Any]:
    return [PaperEntry.round_id == round_.id, PaperEntry.group_number == group]


def _locked(session: Session, round_: Round, group: int, entry: int) -> PaperEntry | None:
    """Return an entry locked for change (PostgreSQL: FOR UPDATE; SQLite: the write lock)."""
    _check_entry(entry)
    return session.scalar(
        select(PaperEntry).where(*_of(round_, group), PaperEntry.entry == entry).with_for_update()
    )


def _rows(
    session: Session, round_: Round, group: int, *, lock: bool = False
) -> dict[int, PaperEntry]:
    query = select(PaperEntry).where(*_of(round_, group))
    return {row.entry: row for row in session.scalars(query.with_for_update() if lock else query)}


def _state(entry: int, row: PaperEntry | None) -> EntryState:
    if row is None:
        return EntryState(entry, None, 0, False, None)
    lines = split_lines(row.lines)
    return EntryState(entry, row.clerk, len(lines), row.finished, lines[-1] if lines else None)


def states(session: Session, round_: Round, group: int | None = None) -> list[EntryState]:
    """Return both entries of a round (of one voter group), started or not."""
    rows = _rows(session, round_, get_group(round_, group).number)
    return [_state(n, rows.get(n)) for n in ENTRIES]


def add_ballot(
    session: Session,
    round_: Round,
    entry: int,
    line: str,
    *,
    number: int,
    clerk: str,
    group: int | None = None,
) -> bool:
    """Append ballot `number` (1-based) to an entry; False if it is there already.

    The number is the one the clerk's page showed: a form sent twice (a double click, a reload)
    finds the ballot already added and adds nothing. A number further on than the next one
    means the page is out of date (another tab typed meanwhile) and is refused.
    The caller commits.
    """
    target = _open_group(session, round_, group)
    allowed = letters(round_.scale)
    parsed, problems = parse_batch(line, len(round_.items), allowed, typed_marks(round_.scale))
    if problems or len(parsed) != 1:
        raise InvalidInput(
            N_("A ballot is V or I, a space, then {count} marks ({letters})."),
            count=len(round_.items),
            letters=", ".join(keys(round_.scale)),
        )
    row = _locked(session, round_, target.number, entry) or _start(
        session, round_, target.number, entry, clerk
    )
    if row.finished:
        raise WrongState(
            N_("Entry {entry} is finished; reopen it on the paper ballots page to type more."),
            entry=entry,
        )
    lines = split_lines(row.lines)
    if number <= len(lines):
        return False
    if number != len(lines) + 1:
        raise InvalidInput(
            N_(
                "This page is out of date: entry {entry} holds {count} ballots. "
                "Reload the page and go on."
            ),
            entry=entry,
            count=len(lines),
        )
    row.lines = "\n".join([*lines, parsed[0]])
    session.flush()
    return True


def _start(session: Session, round_: Round, group: int, entry: int, clerk: str) -> PaperEntry:
    """Create an entry, or find the one another clerk created at the same moment, locked."""
    new = {
        "round_id": round_.id,
        "group_number": group,
        "entry": entry,
        "clerk": clerk,
        "lines": "",
        "finished": False,
    }
    # INSERT … ON CONFLICT DO NOTHING: on PostgreSQL a second clerk starting the same entry
    # waits for the first one's insert and then finds it, instead of failing on the key.
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(upsert(PaperEntry).values(**new).on_conflict_do_nothing())
    row = _locked(session, round_, group, entry)
    if row is None:  # only if the group's entries were deleted in between (a close)
        raise WrongState(N_("The paper entries of round {id} were closed meanwhile."), id=round_.id)
    return row


def remove_last(
    session: Session, round_: Round, entry: int, *, number: int, group: int | None = None
) -> bool:
    """Remove ballot `number` if it is the last of an unfinished entry; False if it is gone."""
    target = _open_group(session, round_, group)
    row = _locked(session, round_, target.number, entry)
    if row is None or row.finished:
        return False
    lines = split_lines(row.lines)
    if number != len(lines) or not lines:
        return False
    row.lines = "\n".join(lines[:-1])
    return True


def finish(session: Session, round_: Round, entry: int, group: int | None = None) -> None:
    """Mark an entry finished: nothing more is typed into it until it is reopened."""
    target = _open_group(session, round_, group)
    row = _locked(session, round_, target.number, entry)
    if row is None or not split_lines(row.lines):
        raise InvalidInput(N_("Entry {entry} has no ballots yet."), entry=entry)
    row.finished = True


def reopen(session: Session, round_: Round, entry: int, group: int | None = None) -> None:
    """Let a finished entry be typed into again (ballots forgotten at the end of a stack)."""
    target = _open_group(session, round_, group)
    row = _locked(session, round_, target.number, entry)
    if row is None:
        raise InvalidInput(N_("Entry {entry} has not been started."), entry=entry)
    row.finished = False


def discard(session: Session, round_: Round, entry: int, group: int | None = None) -> None:
    """Throw an entry away, to start it again from the first ballot."""
    target = _open_group(session, round_, group)
    _check_entry(entry)
    session.execute(
        delete(PaperEntry).where(*_of(round_, target.number), PaperEntry.entry == entry)
    )


@dataclass(frozen=True)
class Difference:
    """One ballot on which the two entries differ: whole-ballot status and each differing row.

    A status is "V" or "I", or None when that entry has no such ballot; `rows` holds
    (order, marks of entry 1, of entry 2) for each item typed differently (stored marks).
    """

    number: int
    statuses: tuple[str | None, str | None]
    rows: tuple[tuple[int, str | None, str | None], ...]


def explain(diff: list[tuple[int, str, str]]) -> list[Difference]:
    """Say where each differing ballot differs: its status, and which rows."""
    explained = []
    for number, first, second in diff:
        status_a, _s, marks_a = first.partition(" ") if first else (None, "", "")
        status_b, _s, marks_b = second.partition(" ") if second else (None, "", "")
        size = max(len(marks_a), len(marks_b))
        rows = tuple(
            (
                order + 1,
                marks_a[order] if order < len(marks_a) else None,
                marks_b[order] if order < len(marks_b) else None,
            )
            for order in range(size)
            if (marks_a[order : order + 1] or None) != (marks_b[order : order + 1] or None)
        )
        explained.append(Difference(number, (status_a or None, status_b or None), rows))
    return explained


@dataclass(frozen=True)
class Comparison:
    """Both finished entries side by side."""

    entries: tuple[EntryState, EntryState]
    batches: tuple[list[str], list[str]]
    diff: list[tuple[int, str, str]]

    @property
    def ready(self) -> bool:
        """Both entries are finished."""
        return all(state.finished for state in self.entries)

    @property
    def agree(self) -> bool:
        """Both entries are finished and agree ballot for ballot."""
        return self.ready and bool(self.batches[0]) and not self.diff


def compare(
    session: Session, round_: Round, group: int | None = None, *, lock: bool = False
) -> Comparison:
    """Compare the two entries of a round (of one voter group; locked for change with lock)."""
    rows = _rows(session, round_, get_group(round_, group).number, lock=lock)
    first, second = (split_lines(rows[n].lines) if n in rows else [] for n in ENTRIES)
    return Comparison(
        (_state(1, rows.get(1)), _state(2, rows.get(2))),
        (first, second),
        differences(first, second),
    )


def correct(
    session: Session, round_: Round, texts: tuple[str, str], group: int | None = None
) -> None:
    """Replace both finished entries by corrected text; nothing is saved if a line is wrong.

    A wrong line is refused with every problem listed (each naming the entry and the line);
    the caller commits.
    """
    target = _open_group(session, round_, group)
    allowed = letters(round_.scale)
    count = len(round_.items)
    parsed = [
        parse_batch(text, count, allowed, typed_marks(round_.scale), keys(round_.scale))
        for text in texts
    ]
    problems = [
        InvalidInput(N_("Entry {entry}: {problem}"), entry=entry, problem=problem)
        for entry, (_lines, found) in zip(ENTRIES, parsed, strict=True)
        for problem in found
    ]
    if problems:
        raise InvalidInput.of(problems)
    for entry, (lines, _found) in zip(ENTRIES, parsed, strict=True):
        row = _locked(session, round_, target.number, entry)
        if row is None or not row.finished:
            raise InvalidInput(N_("Both entries must be finished before they are compared."))
        row.lines = "\n".join(lines)
    session.flush()


def accept(
    session: Session, round_: Round, *, issued: int | None, group: int | None = None
) -> tuple[ImportResult, list[str]]:
    """Put an agreed batch into the ballot box and delete both entries; the caller commits.

    The batch goes into the voter group it was typed for. Return what was stored and the two
    clerks who typed it (for the log).
    """
    target = _open_group(session, round_, group)
    comparison = compare(session, round_, target.number, lock=True)
    if not comparison.agree:
        raise InvalidInput(
            N_("The two entries do not agree (or are not both finished); nothing was stored.")
        )
    # Each agreed batch goes in once (its entries are deleted below); two stacks may well
    # give the same text, so the same file is no reason to refuse it.
    result = import_paper_ballots(
        session,
        round_,
        batch_csv(comparison.batches[0], len(round_.items)),
        issued=issued,
        another_stack=True,
        group=target.number,
    )
    session.execute(delete(PaperEntry).where(*_of(round_, target.number)))
    return result, [state.clerk or "" for state in comparison.entries]


def pending(session: Session, round_id: int, group: int | None = None) -> list[int]:
    """Return the number of ballots typed into each paper entry not yet accepted.

    Every entry of the round (group by group), or those of one voter group.
    """
    query = select(PaperEntry.lines).where(PaperEntry.round_id == round_id)
    if group is not None:
        query = query.where(PaperEntry.group_number == group)
    texts = session.scalars(query.order_by(PaperEntry.group_number, PaperEntry.entry))
    return [len(split_lines(text)) for text in texts]


def pending_by_group(session: Session, round_id: int) -> dict[int, list[int]]:
    """Return, for each voter group with entries not yet accepted, the ballots of each entry."""
    found: dict[int, list[int]] = {}
    for number, text in session.execute(
        select(PaperEntry.group_number, PaperEntry.lines)
        .where(PaperEntry.round_id == round_id)
        .order_by(PaperEntry.group_number, PaperEntry.entry)
    ):
        found.setdefault(number, []).append(len(split_lines(text)))
    return found


def discard_pending(session: Session, round_id: int, group: int | None = None) -> list[int]:
    """Delete the paper entries a closing round (or voter group) leaves unaccepted.

    Return what was dropped: a group's entries close with the group.
    """
    dropped = pending(session, round_id, group)
    if dropped:
        query = delete(PaperEntry).where(PaperEntry.round_id == round_id)
        if group is not None:
            query = query.where(PaperEntry.group_number == group)
        session.execute(query)
    return dropped
