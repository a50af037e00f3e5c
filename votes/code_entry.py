"""Read a voter code as a person types it: forgiving, and specific when it cannot be read.

A phone's Vietnamese keyboard rewrites what it takes for Vietnamese: with Telex, "EX" becomes
"Ẽ", "DD" becomes "Đ" and "W" becomes "Ư"; with VNI, "E4" becomes "Ẽ" and "D9" becomes "Đ".
The letters the keyboard consumed are given back (both ways are tried, Telex first, as it is
the keyboard most phones use). Case, spaces, dashes and dots never matter. A character that
no code contains (O, 0, I, 1, L, S, 5, B, 8, Z, 2, U, V: the alphabet leaves out whatever a
reader could confuse, votes/credentials.py) is named back to the voter rather than guessed,
since each of them could stand for more than one letter of the alphabet.

Nothing here looks a code up: the caller does, with the candidates in order.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .credentials import ALPHABET, CODE_LENGTH

# Combining marks of Vietnamese letters → the key each keyboard types for them.
_TELEX_MARKS = {
    "\u0301": "S",  # sắc
    "\u0300": "F",  # huyền
    "\u0309": "R",  # hỏi
    "\u0303": "X",  # ngã
    "\u0323": "J",  # nặng
    "\u0306": "W",  # ă
    "\u031b": "W",  # ơ, ư
}
_VNI_MARKS = {
    "\u0301": "1",
    "\u0300": "2",
    "\u0309": "3",
    "\u0303": "4",
    "\u0323": "5",
    "\u0302": "6",  # â, ê, ô
    "\u031b": "7",  # ơ, ư
    "\u0306": "8",  # ă
}
_CIRCUMFLEX = "\u0302"  # Telex doubles the vowel: AA → Â, EE → Ê, OO → Ô
_SEPARATORS = {"_", ".", "·", "/", "\\", "+"}


@dataclass(frozen=True)
class CodeReading:
    """What was made of a typed code: the codes to try, or why there is none."""

    candidates: tuple[str, ...]  # canonical codes (12 characters of the alphabet), best first
    problem: str | None  # "empty", "keyboard", "letters", "short", "long"
    length: int  # characters left after tidying (of the first reading)
    strange: str  # the characters no code contains, or the Vietnamese letters, as typed

    @property
    def code(self) -> str | None:
        """Return the first candidate, if any."""
        return self.candidates[0] if self.candidates else None


def _spell(char: str, marks: dict[str, str], *, telex: bool) -> str:
    """Return the keys that made one (upper-case) Vietnamese letter on a keyboard."""
    if char == "Đ":
        return "DD" if telex else "D9"
    if telex and char == "Ư":
        return "W"  # Telex types a lone W as Ư
    decomposed = unicodedata.normalize("NFD", char)
    base, accents = decomposed[0], decomposed[1:]
    keys = base
    for accent in sorted(accents, key=lambda a: a not in (_CIRCUMFLEX, "\u0306", "\u031b")):
        if accent == _CIRCUMFLEX and telex:
            keys += base
        else:
            keys += marks.get(accent, "")
    return keys


def _vietnamese(char: str) -> bool:
    return char in "ĐƯ" or (
        not char.isascii()
        and unicodedata.normalize("NFD", char)[0].isascii()
        and unicodedata.normalize("NFD", char)[0].isalpha()
    )


def read_code(typed: str) -> CodeReading:
    """Tidy a typed code and return the canonical codes it may be, or the problem with it."""
    folded = unicodedata.normalize("NFKC", typed or "").upper()
    kept = "".join(
        ch
        for ch in folded
        if not ch.isspace() and ch not in _SEPARATORS and unicodedata.category(ch) != "Pd"
    )
    if not kept:
        return CodeReading((), "empty", 0, "")
    keyboard = "".join(dict.fromkeys(ch for ch in kept if _vietnamese(ch)))
    readings = []
    for telex, marks in ((True, _TELEX_MARKS), (False, _VNI_MARKS)):
        readings.append(
            "".join(_spell(ch, marks, telex=telex) if ch in keyboard else ch for ch in kept)
        )
    candidates = tuple(
        dict.fromkeys(
            r for r in readings if len(r) == CODE_LENGTH and all(ch in ALPHABET for ch in r)
        )
    )
    first = readings[0]
    if candidates:
        return CodeReading(candidates, None, CODE_LENGTH, "")
    if keyboard:
        return CodeReading((), "keyboard", len(first), keyboard)
    strange = "".join(dict.fromkeys(ch for ch in first if ch not in ALPHABET))
    if strange:
        return CodeReading((), "letters", len(first), strange)
    return CodeReading((), "short" if len(first) < CODE_LENGTH else "long", len(first), "")
