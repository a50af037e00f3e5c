"""Phiếu ghi mã bỏ phiếu: A4 sheets of voter-code slips to cut apart and hand out by lot.

Drawn straight on the canvas (no platypus): 500 pages of slips are a few thousand QR
codes, and the page layout is a fixed grid.
"""

from __future__ import annotations

import io
import math
import secrets
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from .fonts import FontFamily
from .qr import draw_runs, qr_runs
from .styles import COLOURS, get_styles
from .text import nfc, upper

__all__ = ["DEFAULT_BASE_URL", "ballot_url", "slips"]

DEFAULT_BASE_URL = "http://127.0.0.1:5000"

PAGE_MARGIN = 10 * mm
PADDING = 4 * mm
QR_SIDE = 24 * mm
GRIDS = {8: (2, 4), 10: (2, 5)}


def ballot_url(base_url: str, code: str) -> str:
    """Return the ballot link carried by a slip's QR code: ``{base_url}/b#{code}``.

    The code is after '#', the part of an address a browser never sends: the page posts it
    (votes/static/slip.js), so no request line, proxy or server log ever holds it.
    """
    return f"{base_url.rstrip('/')}/b#{quote(code, safe='-')}"


def _fit_size(text: str, font: str, width: float, largest: float, smallest: float) -> float:
    size = largest
    while size > smallest and stringWidth(text, font, size) > width:
        size -= 0.25
    return size


def _wrap(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """Break ``text`` into at most ``max_lines`` lines; shorten the last one with "…"."""
    lines: list[str] = []
    current = ""
    words = text.split()
    for index, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if stringWidth(candidate, font, size) <= width or not current:
            current = candidate
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines:
            current = " ".join([lines.pop(), *words[index:]])
            break
    if current:
        lines.append(current)
    if len(lines) > max_lines or stringWidth(lines[-1], font, size) > width:
        last = lines[max_lines - 1] if len(lines) >= max_lines else lines[-1]
        while last and stringWidth(last + "…", font, size) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "…"]
    return lines[:max_lines]


class _SlipLayout:
    """Precomputed text and positions shared by every slip of one round."""

    def __init__(
        self, fonts: FontFamily, round_: Mapping[str, Any], base_url: str, width: float
    ) -> None:
        self.fonts = fonts
        inner = width - 2 * PADDING
        text_width = inner - QR_SIDE - 4 * mm
        self.body = upper(round_.get("body_name") or round_.get("body"))
        # A long body name goes on two lines beside the QR code, never under it.
        self.body_size = _fit_size(self.body, fonts.bold, text_width, 8.5, 7.5)
        self.body_lines = _wrap(self.body, fonts.bold, self.body_size, text_width, 2)
        self.title_lines = _wrap(
            nfc(round_.get("title")), fonts.regular, 8, text_width, 4 - len(self.body_lines)
        )
        self.instructions = [
            f"Quét mã QR hoặc mở địa chỉ {base_url.rstrip('/')}/b và nhập mã bỏ phiếu.",
            "Mỗi mã chỉ dùng được một lần. Không ghi tên lên phiếu.",
        ]
        self.instruction_size = min(
            _fit_size(line, fonts.regular, inner, 7.5, 5.0) for line in self.instructions
        )
        self.inner = inner


def _draw_slip(
    canvas: Canvas,
    layout: _SlipLayout,
    code: str,
    url: str,
    x: float,
    y: float,
    width: float,
    height: float,
) -> None:
    fonts = layout.fonts
    left = x + PADDING
    top = y + height - PADDING
    canvas.setFillColor(COLOURS.ink)
    canvas.setFont(fonts.bold, layout.body_size)
    line_y = top - layout.body_size
    for line in layout.body_lines:
        canvas.drawString(left, line_y, line)
        line_y -= layout.body_size + 1.5
    line_y -= 9.5 - layout.body_size
    canvas.setFont(fonts.regular, 8)
    for line in layout.title_lines:
        canvas.drawString(left, line_y, line)
        line_y -= 10

    draw_runs(canvas, qr_runs(url), x + width - PADDING - QR_SIDE, top - QR_SIDE, QR_SIDE)

    code_size = _fit_size(code, fonts.mono, layout.inner, 20, 9)
    code_base = top - QR_SIDE - 4 * mm - code_size * 0.75
    canvas.setFillColor(COLOURS.muted)
    canvas.setFont(fonts.regular, 7)
    canvas.drawString(left, top - QR_SIDE - 2.5 * mm + 12, "Mã bỏ phiếu:")
    canvas.setFillColor(COLOURS.ink)
    canvas.setFont(fonts.mono, code_size)
    canvas.drawString(left, code_base, code)

    canvas.setFont(fonts.regular, layout.instruction_size)
    canvas.setFillColor(COLOURS.muted)
    base = y + PADDING + layout.instruction_size * 1.35
    for line in layout.instructions:
        canvas.drawString(left, base, line)
        base -= layout.instruction_size * 1.35


def _cut_marks(canvas: Canvas, columns: int, rows: int, width: float, height: float) -> None:
    page_width, page_height = A4
    canvas.saveState()
    canvas.setStrokeColor(COLOURS.rule)
    canvas.setLineWidth(0.4)
    canvas.setDash(4, 3)
    for column in range(columns + 1):
        x = PAGE_MARGIN + column * width
        canvas.line(x, 0, x, page_height)
    for row in range(rows + 1):
        y = PAGE_MARGIN + row * height
        canvas.line(0, y, page_width, y)
    canvas.restoreState()


def slips(
    round: Mapping[str, Any],
    codes: Sequence[str],
    base_url: str = DEFAULT_BASE_URL,
    *,
    per_page: int = 10,
) -> bytes:
    """Render voter-code slips (8 or 10 an A4 page, dashed cut marks) as PDF bytes.

    The slips are printed in a random order (``secrets.SystemRandom``): handed out by
    lot, a slip's position on the sheets says nothing about who was issued which code.
    """
    if per_page not in GRIDS:
        raise ValueError(f"per_page must be one of {sorted(GRIDS)}, not {per_page}")
    fonts = get_styles().fonts
    columns, rows = GRIDS[per_page]
    page_width, page_height = A4
    width = (page_width - 2 * PAGE_MARGIN) / columns
    height = (page_height - 2 * PAGE_MARGIN) / rows
    layout = _SlipLayout(fonts, round, base_url, width)

    shuffled = [str(code).strip() for code in codes]
    secrets.SystemRandom().shuffle(shuffled)
    pages = max(1, math.ceil(len(shuffled) / per_page))

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, lang="vi", initialFontName=fonts.regular)
    canvas.setTitle(nfc(f"Phiếu ghi mã bỏ phiếu — {nfc(round.get('title'))}"))
    canvas.setAuthor("votes — phiếu tín nhiệm")
    canvas.setCreator("votes (ReportLab)")
    for page in range(pages):
        batch = shuffled[page * per_page : (page + 1) * per_page]
        _cut_marks(canvas, columns, rows, width, height)
        for index, code in enumerate(batch):
            column, row = index % columns, index // columns
            x = PAGE_MARGIN + column * width
            y = page_height - PAGE_MARGIN - (row + 1) * height
            _draw_slip(canvas, layout, code, ballot_url(base_url, code), x, y, width, height)
        if not batch:
            canvas.setFont(fonts.regular, 11)
            canvas.drawString(PAGE_MARGIN + PADDING, page_height - 25 * mm, "Không có mã bỏ phiếu.")
        canvas.setFont(fonts.regular, 7)
        canvas.setFillColor(COLOURS.muted)
        canvas.drawRightString(
            page_width - PAGE_MARGIN - 3 * mm, 4 * mm, f"Trang {page + 1}/{pages}"
        )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
