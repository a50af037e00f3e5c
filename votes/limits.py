"""The bounds of every input: numbers, lengths and characters, checked before the database.

Every door (the command line, the pages, the API, the CSV files) reaches the core through the
operations, and the core checks here what it is given, so that nothing out of range gets as
far as a database error (PostgreSQL's `integer out of range`, `value too long`, a NUL byte;
SQLite's `Python int too large`), which would reach the user as an internal error instead of
a refusal that says what to change.
"""

from __future__ import annotations

import re
import unicodedata

from .errors import N_, InvalidInput
from .text import clean_name, nfc

# No body holds a million persons; the columns hold 2^31 - 1 (PostgreSQL `integer`).
COUNT_MAX = 1_000_000
# Database ids and numbers typed where an id is expected (round 7, event 57).
ID_MAX = 2**31 - 1
# The items of one ballot (persons and the collective): the packed marks of a ballot have
# one letter each, in a column of 2000 characters.
ITEMS_MAX = 1000

# The longest text of each kind, as the columns of votes/models.py hold it.
LENGTHS = {
    "body_code": 64,
    "body_name": 300,
    "title": 500,
    "place": 200,
    "name": 300,
    "position": 300,
    "person_key": 300,
    "reason": 500,
    "username": 100,
}
# What each kind of text is called in a refusal (translated with the message).
FIELD_WORDS = {
    "body_code": N_("the body's code"),
    "body_name": N_("the body's name"),
    "title": N_("the title"),
    "place": N_("the place"),
    "name": N_("the name"),
    "position": N_("the position"),
    "person_key": N_("the person's key"),
    "reason": N_("the reason"),
    "username": N_("the username"),
}

# A body's code is part of addresses and file names: letters, digits, '.', '-', '_'.
_CODE_PUNCTUATION = "._-"


def check_count(value: int | None, name: str) -> int | None:
    """Refuse a number of persons or ballots that is negative or beyond any body."""
    if value is None:
        return None
    if value < 0:
        raise InvalidInput(N_("The number {name} cannot be negative."), name=name)
    if value > COUNT_MAX:
        raise InvalidInput(
            N_("The number {name} is too large: {value}; at most {limit}."),
            name=name,
            value=value,
            limit=COUNT_MAX,
        )
    return value


def in_id_range(value: int) -> bool:
    """Tell whether a number can be the id of a stored row."""
    return 1 <= value <= ID_MAX


def refused_character(value: str) -> str | None:
    """Return the first character that may not appear in a name or a title, else None.

    Control characters (NUL, escape…), invisible format characters (right-to-left
    overrides, zero-width spaces, soft hyphens) and lone surrogates: none can be printed on
    a ballot or the minutes, and the invisible ones make two names look alike that the
    system would count as different persons.
    """
    for character in value:
        if unicodedata.category(character) in ("Cc", "Cf", "Cs", "Co"):
            return character
    return None


def character_name(character: str) -> str:
    """Name a character for a refusal: U+202E RIGHT-TO-LEFT OVERRIDE."""
    name = unicodedata.name(character, "")
    return f"U+{ord(character):04X}" + (f" {name}" if name else "")


def check_text(value: str, field: str, *, required: bool = False, fold: bool = True) -> str:
    """Return a name, title or reason cleaned (NFC, one space); refuse one out of bounds.

    `fold=False` keeps inner spaces as typed (a key), only NFC and the ends are cleaned.
    """
    cleaned = clean_name(value) if fold else nfc(value)
    character = refused_character(cleaned)
    if character is not None:
        raise InvalidInput(
            N_(
                "A character that cannot be printed ({character}) in {field_word}: "
                "remove it and type the text again."
            ),
            character=character_name(character),
            field_word=FIELD_WORDS[field],
        )
    limit = LENGTHS[field]
    if len(cleaned) > limit:
        raise InvalidInput(
            N_("Too long ({length} characters, at most {limit}): {field_word}."),
            length=len(cleaned),
            limit=limit,
            field_word=FIELD_WORDS[field],
        )
    if required and not cleaned:
        raise InvalidInput(N_("Missing: {field_word}."), field_word=FIELD_WORDS[field])
    return cleaned


def searchable(value: str, field: str) -> bool:
    """Tell whether a text can be looked up at all (a code or key typed to find a row).

    A text no row can hold (too long, a NUL byte) is reported as unknown by the caller
    rather than sent to the database, which would refuse the query itself.
    """
    return refused_character(value) is None and len(value) <= LENGTHS[field]


def check_body_code(value: str) -> str:
    """Return a body's code checked: letters, digits, '.', '-' and '_' only."""
    code = check_text(value, "body_code", required=True)
    if not all(ch.isalnum() or ch in _CODE_PUNCTUATION for ch in code):
        raise InvalidInput(
            N_(
                "The code {code!r} may hold only letters, digits, '.', '-' and '_' (it is "
                "part of addresses and file names)."
            ),
            code=code,
        )
    return code


def scripts(value: str) -> set[str]:
    """Return the writing systems of a text's letters (LATIN, CYRILLIC, GREEK…)."""
    found = set()
    for character in value:
        if unicodedata.category(character).startswith("L"):
            found.add(unicodedata.name(character, "UNKNOWN").split(" ")[0])
    return found


def mixed_scripts(value: str) -> set[str]:
    """Return the scripts of a text that mixes several (a Cyrillic 'а' in a Latin name)."""
    found = scripts(value)
    return found if len(found) > 1 else set()


_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def file_name_part(value: str, fallback: str = "x") -> str:
    """Return a part of a download's file name built from safe characters only.

    Accents are dropped (Đ becomes D) and anything else becomes '-', so that no quote, slash
    or line break of a stored text can change the name or the header it is sent in.
    """
    folded = unicodedata.normalize("NFKD", value.replace("Đ", "D").replace("đ", "d"))
    ascii_text = folded.encode("ascii", "ignore").decode("ascii")
    part = _UNSAFE_IN_FILE_NAME.sub("-", ascii_text).strip(".-")[:60]
    return part or fallback


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """Return a text cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
