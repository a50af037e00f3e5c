"""Reading the CSV files people type: UTF-8 only, a BOM tolerated, every error with its line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from .errors import N_, InvalidInput

BOM = "\ufeff"


def decode(data: bytes) -> str:
    """Decode a CSV file as UTF-8, or refuse it with a message that says how to fix it."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            N_(
                "The file is not UTF-8 (the first bad byte is at position {position}). "
                "In Excel choose File > Save As > 'CSV UTF-8 (Comma delimited)'; in LibreOffice "
                "tick 'Edit filter settings' and choose the character set Unicode (UTF-8)."
            ),
            position=exc.start + 1,
        ) from exc
    return text.removeprefix(BOM)


def rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, cells) of a CSV file, the header included as line 1."""
    text = decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            yield reader.line_num, cells
    except csv.Error as exc:
        raise InvalidInput(
            N_("Line {line}: the CSV cannot be read ({reason})."),
            line=reader.line_num,
            reason=str(exc),
        ) from exc
