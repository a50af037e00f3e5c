"""Marks and counts, with no database: online marks checked, paper lines read, columns counted.

A ballot is packed as one character per item in ballot order: a level's letter (H/C/L for a
poll, T/K for a vote of confidence), or on paper "-" for a row with no box marked and "X" for
one with several (DOMAIN.md §3).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .csvinput import in_cells, rows
from .errors import N_, CountError, InvalidInput
from .vocabulary import INVALID_MARKS, MANY_MARKS, NO_MARK, letters, levels

VALID, INVALID = "valid", "invalid"
BALLOT_STATUSES = (VALID, INVALID)


def _letter(scale: str, text: str) -> str | None:
    """Return the letter of a level given by its letter, name or printed column, any case."""
    cleaned = text.strip()
    for level in levels(scale):
        if cleaned.upper() == level.letter or cleaned.lower() == level.name:
            return level.letter
        if cleaned == level.digit:
            return level.letter
    return None


def digits(scale: str) -> dict[str, str]:
    """Return the printed column's digit → letter of each level ("1" → "H")."""
    return {level.digit: level.letter for level in levels(scale)}


def normalise_marks(marks: Sequence[str] | Mapping[int | str, str], count: int, scale: str) -> str:
    """Check an online ballot has exactly one level for every item; return the packed marks.

    Accepts a sequence in ballot order or a mapping {order: level}; a level is its paper code
    (H/C/L or T/K) or its name (high/confidence/low or trust/no_trust), in any case.
    """
    if isinstance(marks, Mapping):
        by_order: dict[int, str] = {}
        for key, value in marks.items():
            try:
                order = int(str(key))
            except ValueError as exc:
                raise InvalidInput(N_("The ballot refers to an item that does not exist.")) from exc
            if order in by_order:  # {1: "H", "1": "L"}: two levels for one item
                raise InvalidInput(N_("Choose one level for item {order}."), order=order)
            by_order[order] = value
        if set(by_order) != set(range(1, count + 1)):
            missing = sorted(set(range(1, count + 1)) - set(by_order))
            if missing:
                raise InvalidInput(N_("Choose one level for item {order}."), order=missing[0])
            raise InvalidInput(N_("The ballot refers to an item that does not exist."))
        ordered = [by_order[order] for order in range(1, count + 1)]
    else:
        ordered = list(marks)
        if len(ordered) != count:
            raise InvalidInput(
                N_(
                    "The ballot has {found} marks; it needs exactly one for each of the "
                    "{count} items."
                ),
                found=len(ordered),
                count=count,
            )
    packed = []
    for order, value in enumerate(ordered, start=1):
        letter = _letter(scale, str(value))
        if letter is None:
            raise InvalidInput(
                N_("Item {order}: {mark!r} is not a level of this ballot ({allowed})."),
                order=order,
                mark=str(value).strip(),
                allowed="/".join(letters(scale)),
            )
        packed.append(letter)
    return "".join(packed)


def parse_paper_ballots(data: bytes, count: int, scale: str) -> list[tuple[str, str]]:
    """Read paper ballots (CSV, or an .xlsx's first sheet) into (status, packed marks).

    The file is refused at its first bad line; an .xlsx names the cell.
    """
    return in_cells(data, lambda: _parse_paper_ballots(data, count, scale), _ballot_column)


def _ballot_column(problem: InvalidInput) -> int | None:
    """Return the column (1 = A) of a ballot a refusal is about: its status or an item's cell."""
    if "order" in problem.params:
        return int(problem.params["order"]) + 1
    if "status" in problem.params:
        return 1
    return None


def _parse_paper_ballots(data: bytes, count: int, scale: str) -> list[tuple[str, str]]:
    allowed = frozenset(letters(scale)) | {MANY_MARKS}
    # What a line typed cleanly packs to: one letter or nothing (NO_MARK) in every cell.
    clean = allowed | {NO_MARK}
    expected = ["status"] + [str(n) for n in range(1, count + 1)]
    ballots: list[tuple[str, str]] = []
    header_seen = False
    for line, cells in rows(data):
        if not header_seen:
            header = [cell.strip().lower() for cell in cells]
            if header != expected:
                raise InvalidInput(
                    N_("Line 1: the header must be {expected} (this round has {count} items)."),
                    expected=",".join(expected) if count <= 6 else f"status,1,2,…,{count}",
                    count=count,
                )
            header_seen = True
            continue
        if len(cells) != count + 1:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            raise InvalidInput(
                N_("Line {line}: {found} cells; a ballot of this round has {expected}."),
                line=line,
                found=len(cells),
                expected=count + 1,
            )
        status = cells[0]
        if status not in BALLOT_STATUSES:
            status = status.strip().lower()
            if status not in BALLOT_STATUSES:
                raise InvalidInput(
                    N_("Line {line}: status {status!r}; use valid or invalid."),
                    line=line,
                    status=cells[0].strip(),
                )
        marks = cells[1:]
        # The usual line is checked with a few operations done in C (about 1 µs); a line with
        # spaces, lower case or a mistake is read cell by cell, which also says what is wrong.
        packed = "".join([cell or NO_MARK for cell in marks])
        if len(packed) != count or NO_MARK in marks or not clean.issuperset(packed):
            packed = _pack_cells(line, marks, allowed, scale)
        ballots.append((status, packed))
    if not header_seen:
        raise InvalidInput(N_("The file is empty."))
    if not ballots:
        raise InvalidInput(N_("The file has a header but no ballots."))
    return ballots


def _pack_cells(line: int, cells: list[str], allowed: frozenset[str], scale: str) -> str:
    by_digit = digits(scale)
    packed = []
    for order, cell in enumerate(cells, start=1):
        mark = cell.strip().upper()
        mark = by_digit.get(mark, mark)  # the printed column's digit, as on the paper
        if not mark:
            packed.append(NO_MARK)
        elif mark in allowed:
            packed.append(mark)
        else:
            raise InvalidInput(
                N_(
                    "Line {line}, item {order}: {mark!r} is not a mark; use {allowed} (or the "
                    "printed columns {digits}), X for several boxes, or leave it empty for none."
                ),
                line=line,
                order=order,
                mark=cell.strip(),
                allowed=", ".join(letters(scale)),
                digits=", ".join(by_digit),
            )
    return "".join(packed)


def count_packed(
    ballots: int,
    counted: int,
    shortest: int | None,
    longest: int | None,
    joined: str,
    item_total: int,
    scale: str,
) -> tuple[int, list[dict[str, int]]]:
    """Count a ballot box read by ballotbox.packed_box; return what `count_marks` returns.

    `joined` is the marks of the `counted` ballots one after the other; each item's column is
    every `item_total`-th character, counted with `str.count`, which needs every ballot to be
    exactly `item_total` marks long: the shortest and the longest of all say so.
    """
    for length in (shortest, longest):
        if ballots and length != item_total:
            raise CountError(
                N_("A stored ballot has {found} marks where the ballot has {count} items."),
                found=length,
                count=item_total,
            )
    if len(joined) != counted * item_total:  # cannot happen when the lengths agree
        raise CountError(
            N_("A stored ballot has {found} marks where the ballot has {count} items."),
            found=len(joined),
            count=counted * item_total,
        )
    return ballots - counted, _count_joined(joined, item_total, scale)


def _count_joined(joined: str, item_total: int, scale: str) -> list[dict[str, int]]:
    # One string, sliced per item: every count is done in C, about 20 ms for 100 000 ballots.
    scale_levels = levels(scale)
    results = []
    for index in range(item_total):
        column = joined[index::item_total]
        counts = {level.name: column.count(level.letter) for level in scale_levels}
        counts["invalid"] = sum(column.count(mark) for mark in INVALID_MARKS)
        results.append(counts)
    return results


def count_marks(
    ballots: list[tuple[str, str]], item_total: int, scale: str, scope: str
) -> tuple[int, list[dict[str, int]]]:
    """Count packed ballots: return the number of invalid ballots and per-item counts.

    `scope` says what an invalid mark spoils (DOMAIN.md §3): the row only, or the whole ballot.
    """
    counted: list[str] = []
    invalid = 0
    for status, marks in ballots:
        if len(marks) != item_total:
            raise CountError(
                N_("A stored ballot has {found} marks where the ballot has {count} items."),
                found=len(marks),
                count=item_total,
            )
        if status != VALID or (scope == "ballot" and any(m in marks for m in INVALID_MARKS)):
            invalid += 1
        else:
            counted.append(marks)
    return invalid, _count_joined("".join(counted), item_total, scale)
