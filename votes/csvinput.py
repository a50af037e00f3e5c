"""Reading the CSV files people type: UTF-8 only, a BOM tolerated, every error with its line.

An Excel workbook (.xlsx) is read the same way: its first sheet, row by row, with the same
columns and checks; a refusal then names the sheet and the cell ("Ô C7") instead of the line.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

from .errors import N_, InvalidInput
from .lazy import lazy_module

# openpyxl is read only when a workbook is (votes --help does not pay for it).
if TYPE_CHECKING:
    import openpyxl
    import openpyxl.utils
    import openpyxl.utils.exceptions
else:
    openpyxl = lazy_module("openpyxl")

T = TypeVar("T")
# An .xlsx is a zip file: it starts as every zip file does.
ZIP_MAGIC = b"PK\x03\x04"

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


def is_xlsx(data: bytes) -> bool:
    """Tell whether a file is an Excel workbook (.xlsx) rather than CSV."""
    return data.startswith(ZIP_MAGIC)


def _cell_text(value: object) -> str:
    """Return a cell as the text a CSV would hold (12.0 typed as a number is "12")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _workbook(data: bytes) -> tuple[str, list[list[str]]]:
    """Return the first sheet of a workbook: its title and its rows as text."""
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (
        openpyxl.utils.exceptions.InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        OSError,
    ) as exc:
        raise InvalidInput(
            N_("The file cannot be read as an Excel workbook (.xlsx): {reason}."), reason=str(exc)
        ) from exc
    try:
        sheet = book.worksheets[0]
        cells = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        title = sheet.title
    finally:
        book.close()
    # Trailing empty cells of a row (formatting only) are not columns.
    for row in cells:
        while row and row[-1] == "":
            row.pop()
    return title, cells


def rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, cells) of a CSV file, the header included as line 1.

    An .xlsx yields the rows of its first sheet, numbered as Excel numbers them.
    """
    if is_xlsx(data):
        _title, table = _workbook(data)
        width = max((len(r) for r in table[:1]), default=0)
        for number, cells in enumerate(table, start=1):
            # Cells past the header's last column only count when they hold something.
            yield number, cells + [""] * (width - len(cells)) if len(cells) < width else cells
        return
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


def in_cells(
    data: bytes, parse: Callable[[], T], column: Callable[[InvalidInput], int | None]
) -> T:
    """Run a parse; on an .xlsx, each refusal names the sheet and the cell (or the row).

    `column` tells the column (1 = A) a refusal is about, from its message and parameters.
    """
    try:
        return parse()
    except InvalidInput as refusal:
        if not is_xlsx(data):
            raise
        sheet, _table = _workbook(data)
        problems = refusal.problems or [refusal]
        raise InvalidInput.of([_named(sheet, p, column(p)) for p in problems]) from refusal


def _named(sheet: str, problem: InvalidInput, column: int | None) -> InvalidInput:
    row = problem.params.get("line")
    if not isinstance(row, int):
        return InvalidInput(N_("Sheet {sheet}: {problem}"), sheet=sheet, problem=problem)
    if column is None:
        return InvalidInput(
            N_("Sheet {sheet}, row {row}: {problem}"), sheet=sheet, row=row, problem=problem
        )
    return InvalidInput(
        N_("Sheet {sheet}, cell {cell}: {problem}"),
        sheet=sheet,
        cell=f"{openpyxl.utils.get_column_letter(column)}{row}",
        problem=problem,
    )
