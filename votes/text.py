"""Vietnamese text: NFC normalisation, sorting, number formatting."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal
from zoneinfo import ZoneInfo

# Every date and time a user reads or types is Vietnam's (DOMAIN.md §2); the database keeps UTC.
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

# Vietnamese alphabetical order: a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y.
# Tones sort after the base letter: none, huyền, hỏi, ngã, sắc, nặng (the dictionary order).
_BASE_ORDER = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_LETTER_MARKS = {"\u0306", "\u0302", "\u031b"}  # breve, circumflex, horn: part of the letter


def nfc(value: str) -> str:
    """Return the NFC form of a text, with surrounding whitespace removed."""
    return unicodedata.normalize("NFC", value).strip()


def clean_name(value: str) -> str:
    """Return a name in NFC with inner runs of whitespace folded to one space."""
    return " ".join(nfc(value).split())


def same_name(first: str, second: str) -> bool:
    """Tell whether two names are the same after NFC, whitespace folding and case-folding."""
    return clean_name(first).casefold() == clean_name(second).casefold()


def in_vietnam(moment: dt.datetime) -> dt.datetime:
    """Return a stored moment in Vietnam's time (SQLite hands back naive UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VIETNAM)


def from_vietnam(day: dt.date, time: dt.time) -> dt.datetime:
    """Return the UTC moment of a date and time read on a clock in Vietnam."""
    return dt.datetime.combine(day, time, tzinfo=VIETNAM).astimezone(dt.UTC)


def _letter_key(ch: str) -> tuple[int, int]:
    decomposed = unicodedata.normalize("NFD", ch.lower())
    base = decomposed[0]
    tone = 0
    letter = base
    for mark in decomposed[1:]:
        if mark in _TONES:
            tone = _TONES[mark]
        elif mark in _LETTER_MARKS:
            letter += mark
    letter = unicodedata.normalize("NFC", letter)
    if letter == "d" and "đ" in ch.lower():
        letter = "đ"
    pos = _BASE_ORDER.find(letter)
    if pos < 0:
        pos = len(_BASE_ORDER) + ord(letter[0])
    return pos, tone


def sort_key(value: str) -> tuple[tuple[int, ...], ...]:
    """Return a key that sorts Vietnamese text in dictionary order (letters, then tones)."""
    letters = [_letter_key(ch) for ch in nfc(value) if not ch.isspace()]
    return (tuple(p for p, _ in letters), tuple(t for _, t in letters))


def name_sort_key(full_name: str) -> tuple[object, ...]:
    """Sort personal names by given name (last word), then the full name, as Vietnamese lists do."""
    words = clean_name(full_name).split(" ")
    return (sort_key(words[-1]), sort_key(full_name))


TWO_PLACES = Decimal("0.01")


def percent(count: int, denominator: int | None) -> Decimal | None:
    """Return count / D * 100 rounded half-up to 2 places, in integers; None when D is unknown."""
    if denominator is None or denominator <= 0:
        return None
    # Work in hundredths of a percent with integer division so that 1/32 = 3.125 % becomes 3.13.
    hundredths, remainder = divmod(count * 10_000, denominator)
    if remainder * 2 >= denominator:
        hundredths += 1
    return Decimal(hundredths).scaleb(-2).quantize(TWO_PLACES)


def percent_text(value: Decimal | None) -> str | None:
    """Return a percentage as a string with exactly two decimals and a point ("3.13")."""
    return None if value is None else f"{value:.2f}"


def decimal_comma(value: Decimal | str | None, places: int = 2) -> str:
    """Format a number the Vietnamese way: 1.234,56 (point for thousands, comma for decimals)."""
    if value is None:
        return "—"
    number = Decimal(value)
    text = f"{number:,.{places}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def integer_text(value: int | None) -> str:
    """Format an integer with a point as the thousands separator (Vietnamese)."""
    if value is None:
        return "—"
    return f"{value:,}".replace(",", ".")


def local_time_text(moment: dt.datetime) -> str:
    """Write a stored time (UTC) as Vietnam reads it: "14:05:09 02/06/2025"."""
    return in_vietnam(moment).strftime("%H:%M:%S %d/%m/%Y")
