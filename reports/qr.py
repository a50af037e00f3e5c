"""QR codes drawn from segno's module matrix as filled rectangles.

ReportLab's own QR widget is far slower (≈ 105 s against ≈ 20 s for 500 pages of
slips): segno computes the matrix, and each horizontal run of dark modules becomes
one rectangle of a single filled path. segno's choice of data mask (eight candidate
symbols scored module by module in Python) is redone here with bit operations, for
the very same symbol in about half the time.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, lru_cache
from itertools import pairwise

import segno
from reportlab.lib import colors
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable
from segno import encoder as segno_encoder

__all__ = ["QUIET_ZONE", "QRFlowable", "draw_qr", "draw_runs", "penalty", "qr_matrix", "qr_runs"]

#: Quiet zone, in modules, that scanners need around the symbol (ISO/IEC 18004).
QUIET_ZONE = 4


#: Data mask pattern the first encoding is made with; any of the eight would do.
_PROBE_MASK = 0
_RUNS = re.compile(r"0{5,}|1{5,}")
_FINDER_LIKE = "1011101"


@cache
def _layout(width: int) -> tuple[list[int], list[int], list[list[int]]]:
    """Describe a QR symbol ``width`` modules wide, one int per row (bit width-1-j = column j).

    Return the dark modules of its function patterns as they stand while masks are
    evaluated, the modules of its encoding region, and for each of the eight data mask
    patterns the region modules it inverts. Built with segno's own layout functions,
    as segno builds the matrix it evaluates.
    """
    matrix = segno_encoder.make_matrix(width, width)
    segno_encoder.add_finder_patterns(matrix, width, width)
    segno_encoder.add_alignment_patterns(matrix, width, width)
    # The dark module is reserved (light) during evaluation and is never data.
    fixed = [_bits(1 if value == 1 else 0 for value in row) for row in matrix]
    matrix[-8][8] = 0x1
    region = [_bits(1 if value > 1 else 0 for value in row) for row in matrix]
    patterns = segno_encoder.get_data_mask_functions(False)
    flips = [
        [_bits(1 if pattern(i, j) else 0 for j in range(width)) & region[i] for i in range(width)]
        for pattern in patterns
    ]
    return fixed, region, flips


def _bits(values: object) -> int:
    number = 0
    for value in values:  # type: ignore[attr-defined]
        number = (number << 1) | value
    return number


def _finder_like(line: str, size: int) -> int:
    """Penalty N3 of one row or column: 40 per 1:1:3:1:1 pattern beside 4 light modules."""
    score = 0
    index = line.find(_FINDER_LIKE)
    while index != -1:
        after = index + 7
        if (
            index in (0, size - 7)
            or "1" not in line[max(index - 4, 0) : index]
            or "1" not in line[after : after + 4]
        ):
            score += 40
        else:
            after = index + 4
        index = line.find(_FINDER_LIKE, after)
    return score


def penalty(rows: Sequence[int], width: int) -> int:
    """Return the penalty score of a masked QR matrix (ISO/IEC 18004:2015, 7.8.3.1).

    Rows are ints (bit width-1-j = column j). The four features, N1 to N4, are
    counted exactly as segno counts them, with string searches and bit operations
    instead of a loop over every module.
    """
    lines = [format(row, f"0{width}b") for row in rows]
    columns = ["".join(column) for column in zip(*lines, strict=True)]
    score = 0
    for line in (*lines, *columns):
        for run in _RUNS.finditer(line):  # N1: five or more alike in a row
            score += len(run.group()) - 2
        score += _finder_like(line, width)  # N3
    pairs = (1 << (width - 1)) - 1
    for above, below in pairwise(rows):  # N2: 2 x 2 blocks alike
        alike = ~(above ^ below) & ~(above ^ (above >> 1)) & ~(below ^ (below >> 1)) & pairs
        score += 3 * alike.bit_count()
    dark = sum(row.bit_count() for row in rows)  # N4: share of dark modules
    share = float(dark) / (width**2)
    score += 10 * int(abs(share * 100 - 50) / 5)
    return score


def qr_matrix(data: str, *, error: str = "m") -> list[bytearray]:
    """Encode ``data`` as a QR code (never Micro QR); return its module matrix.

    The very symbol segno makes, data mask included: segno evaluates the eight masks
    module by module in Python, which took most of the time of a symbol. Here segno
    encodes once with one mask, the data modules are recovered, the eight candidates
    are scored as segno scores them (the lowest penalty, the first on a tie), and the
    chosen mask and its format information replace the probe's.
    """
    probe = segno.make(data, error=error, micro=False, mask=_PROBE_MASK)
    width = len(probe.matrix)
    fixed, region, flips = _layout(width)
    masked = [_bits(line) for line in probe.matrix]
    unmasked = [
        (row & region[i]) ^ flips[_PROBE_MASK][i] | fixed[i] for i, row in enumerate(masked)
    ]
    scores = [
        penalty([row ^ flip for row, flip in zip(unmasked, mask, strict=True)], width)
        for mask in flips
    ]
    best = scores.index(min(scores))
    if best == _PROBE_MASK:
        return [bytearray(line) for line in probe.matrix]
    swap = [a ^ b for a, b in zip(flips[_PROBE_MASK], flips[best], strict=True)]
    matrix = [
        bytearray(map(int, format(row ^ change, f"0{width}b")))
        for row, change in zip(masked, swap, strict=True)
    ]
    segno_encoder.add_format_info(
        matrix, probe.version, segno_encoder.normalize_errorlevel(probe.error), best
    )
    return matrix


@lru_cache(maxsize=64)
def qr_runs(data: str, *, error: str = "m") -> tuple[int, tuple[tuple[int, int, int], ...]]:
    """Encode ``data``; return the symbol width in modules and its dark runs (row, col, len).

    The last symbols are kept: a round's minutes, results and bundle print the same seal and
    head of the log again and again (≈ 10 ms a symbol). Slips, a new code each, gain nothing
    and keep at most 64 symbols (a few hundred kB).
    """
    runs: list[tuple[int, int, int]] = []
    width = 0
    for row, line in enumerate(qr_matrix(data, error=error)):
        width = len(line)
        start = -1
        for col, dark in enumerate(line):
            if dark and start < 0:
                start = col
            elif not dark and start >= 0:
                runs.append((row, start, col - start))
                start = -1
        if start >= 0:
            runs.append((row, start, width - start))
    return width, tuple(runs)


def draw_runs(
    canvas: Canvas,
    symbol: tuple[int, Sequence[tuple[int, int, int]]],
    x: float,
    y: float,
    size: float,
    *,
    colour: colors.Color = colors.black,
) -> None:
    """Draw an encoded symbol (from qr_runs) as one filled path of rectangles."""
    width, runs = symbol
    module = size / width
    # Work in module units, y downwards from the top-left corner: every rectangle is
    # then four small integers, written as literal operators ("c r len 1 re"); going
    # through the path API formats ~1 500 floats per symbol, which dominated the time.
    operators = " ".join(f"{col} {row} {length} 1 re" for row, col, length in runs)
    canvas.saveState()
    canvas.setFillColor(colour)
    canvas.transform(module, 0, 0, -module, x, y + size)
    canvas.addLiteral(f"{operators} f")
    canvas.restoreState()


def draw_qr(
    canvas: Canvas,
    data: str,
    x: float,
    y: float,
    size: float,
    *,
    error: str = "m",
    colour: colors.Color = colors.black,
) -> None:
    """Draw a QR code of ``data`` whose symbol (without quiet zone) fills a square.

    (x, y) is the lower-left corner and ``size`` the side, in points. Leave
    QUIET_ZONE modules of white around it.
    """
    draw_runs(canvas, qr_runs(data, error=error), x, y, size, colour=colour)


class QRFlowable(Flowable):
    """A QR code as a platypus flowable, ``size`` points square including the quiet zone."""

    def __init__(self, data: str, size: float, *, error: str = "m") -> None:
        super().__init__()
        self.data = data
        self.size = size
        self.error = error
        self.width = self.height = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Return the fixed size of the symbol."""
        return self.size, self.size

    def draw(self) -> None:
        """Draw the symbol, centred in its box with the quiet zone as margin."""
        symbol = qr_runs(self.data, error=self.error)
        module = self.size / (symbol[0] + 2 * QUIET_ZONE)
        offset = module * QUIET_ZONE
        draw_runs(self.canv, symbol, offset, offset, module * symbol[0])

    def __repr__(self) -> str:
        return f"QRFlowable({self.data!r}, {self.size!r})"
