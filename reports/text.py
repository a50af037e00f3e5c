"""Text helpers for the PDF documents: NFC normalisation and Vietnamese number formats.

Kept local on purpose: ``reports`` must not import ``votes`` (nor Flask), so the few
formatting rules the documents need live here.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal, InvalidOperation
from xml.sax.saxutils import escape

__all__ = [
    "DASH",
    "esc",
    "fmt_date_line",
    "fmt_int",
    "fmt_percent",
    "nfc",
    "upper",
]

#: Printed for a value that is not known (None in the result).
DASH = "—"


def nfc(value: object) -> str:
    """Return ``value`` as an NFC-normalised string ("" for None).

    ReportLab draws one glyph per code point with no mark positioning: a decomposed
    "ễ" (e + circumflex + tilde) would put both accents beside the vowel.
    """
    if value is None:
        return ""
    return unicodedata.normalize("NFC", str(value))


def esc(value: object) -> str:
    """Return ``value`` normalised and escaped for a ReportLab Paragraph."""
    return escape(nfc(value))


def upper(value: object) -> str:
    """Return ``value`` in upper case, NFC ("Tỉnh ủy" -> "TỈNH ỦY")."""
    return nfc(nfc(value).upper())


def fmt_int(value: object) -> str:
    """Format a count with "." as thousands separator (1234 -> "1.234"); None -> "—"."""
    if value is None:
        return DASH
    number = int(value)  # type: ignore[call-overload]
    sign = "-" if number < 0 else ""
    return sign + f"{abs(number):,}".replace(",", ".")


def fmt_percent(value: object, *, suffix: str = "") -> str:
    """Format a percentage string from the core ("3.13") with a decimal comma ("3,13").

    The core already rounded half-up to two places; nothing is recomputed here, the
    digits are printed as given. A float is refused: shares are never floats.
    """
    if value is None or value == "":
        return DASH
    if isinstance(value, float):
        raise TypeError("percentages must be strings or Decimal, not float")
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a percentage: {value!r}") from exc
    text = f"{number:f}"
    if "." not in text:
        text += ".00"
    integer, fraction = text.split(".", 1)
    return f"{integer},{fraction}{suffix}"


def fmt_date_line(place: object, date: dt.date | str | None) -> str:
    """Return the place-and-date line: "Thái Nguyên, ngày 27 tháng 11 năm 2026".

    A missing place or date leaves dotted blanks to fill in by hand.
    """
    where = nfc(place).strip() or "……………"
    if date is None:
        return f"{where}, ngày …… tháng …… năm ……"
    if isinstance(date, str):
        date = dt.date.fromisoformat(date[:10])
    # Nghị định 30/2020/NĐ-CP: days below 10 and the months 1 and 2 take a leading
    # zero ("ngày 05 tháng 02"), other months do not ("tháng 11", "tháng 3").
    day = f"{date.day:02d}" if date.day < 10 else str(date.day)
    month = f"{date.month:02d}" if date.month < 3 else str(date.month)
    return f"{where}, ngày {day} tháng {month} năm {date.year}"
