"""Paragraph and table styles, colours, and the page template ("Trang X/Y")."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    TableStyle,
)

from .fonts import FontFamily, register_fonts
from .text import esc, nfc

__all__ = [
    "COLOURS",
    "GRID_PADDING",
    "Columns",
    "Grid",
    "GridHead",
    "HeadCell",
    "HeadedTable",
    "PlainText",
    "Styles",
    "build_pdf",
    "get_styles",
    "para",
    "wrap_text",
]


class Colours:
    """The palette: sober for print, the three levels distinguishable in grey too."""

    ink = colors.HexColor("#1a1a1a")
    muted = colors.HexColor("#5a5a5a")
    rule = colors.HexColor("#8c8c8c")
    header_bg = colors.HexColor("#e8edf3")
    zebra = colors.HexColor("#f6f7f9")
    flagged_bg = colors.HexColor("#fde8e6")
    high = colors.HexColor("#1f5f99")
    confidence = colors.HexColor("#8fb8de")
    low = colors.HexColor("#c0392b")
    threshold = colors.HexColor("#333333")


COLOURS = Colours()

#: Margins of an administrative document (Nghị định 30/2020/NĐ-CP, Phụ lục I).
MARGINS = {"left": 30 * mm, "right": 15 * mm, "top": 20 * mm, "bottom": 20 * mm}


@dataclass(frozen=True)
class Styles:
    """Paragraph styles of every document, all in the registered family."""

    fonts: FontFamily
    body: ParagraphStyle
    body_justify: ParagraphStyle
    small: ParagraphStyle
    small_italic: ParagraphStyle
    italic_right: ParagraphStyle
    date_line: ParagraphStyle
    centered_italic: ParagraphStyle
    warning: ParagraphStyle
    seal: ParagraphStyle
    small_indented: ParagraphStyle
    heading_left: ParagraphStyle
    heading_left_bold: ParagraphStyle
    heading_right_bold: ParagraphStyle
    title: ParagraphStyle
    subtitle: ParagraphStyle
    section: ParagraphStyle
    cell: ParagraphStyle
    cell_bold: ParagraphStyle
    cell_center: ParagraphStyle
    cell_head: ParagraphStyle
    sign_role: ParagraphStyle
    sign_note: ParagraphStyle
    sign_name: ParagraphStyle
    mono: ParagraphStyle
    ballot_name: ParagraphStyle
    ballot_cell: ParagraphStyle


@lru_cache(maxsize=8)
def _styles_for(font_dir: str | None) -> Styles:
    fonts = register_fonts(font_dir)
    regular, bold, italic = fonts.regular, fonts.bold, fonts.italic

    def style(name: str, **kw: Any) -> ParagraphStyle:
        kw.setdefault("fontName", regular)
        kw.setdefault("fontSize", 11)
        kw.setdefault("leading", kw["fontSize"] * 1.3)
        kw.setdefault("textColor", COLOURS.ink)
        return ParagraphStyle(name, **kw)

    return Styles(
        fonts=fonts,
        body=style("body", spaceAfter=3),
        body_justify=style("body_justify", alignment=TA_JUSTIFY, spaceAfter=3),
        small=style("small", fontSize=8.5),
        small_italic=style("small_italic", fontName=italic, fontSize=8.5),
        italic_right=style("italic_right", fontName=italic, fontSize=11.5, alignment=TA_RIGHT),
        date_line=style("date_line", fontName=italic, fontSize=11.5, alignment=TA_CENTER),
        centered_italic=style("centered_italic", fontName=italic, fontSize=10, alignment=TA_CENTER),
        warning=style(
            "warning",
            fontName=bold,
            fontSize=10.5,
            textColor=COLOURS.low,
            alignment=TA_CENTER,
            spaceAfter=4,
        ),
        # The regular face: embedding a fourth (monospaced) font cost more than the rest of
        # the seal block, and digits in groups of eight read as well.
        seal=style("seal", fontName=fonts.regular, fontSize=10.5, leading=14),
        small_indented=style(
            "small_indented", fontName=italic, fontSize=9, leftIndent=6 * mm, spaceAfter=3
        ),
        heading_left=style("heading_left", fontSize=11.5, alignment=TA_CENTER, leading=14),
        heading_left_bold=style(
            "heading_left_bold", fontName=bold, fontSize=11.5, alignment=TA_CENTER, leading=14
        ),
        heading_right_bold=style(
            "heading_right_bold", fontName=bold, fontSize=11.5, alignment=TA_CENTER, leading=14
        ),
        title=style(
            "title", fontName=bold, fontSize=15, alignment=TA_CENTER, spaceBefore=12, spaceAfter=4
        ),
        subtitle=style("subtitle", fontName=bold, fontSize=12, alignment=TA_CENTER, spaceAfter=2),
        section=style("section", fontName=bold, fontSize=11.5, spaceBefore=9, spaceAfter=4),
        cell=style("cell", fontSize=8.5, leading=10.5),
        cell_bold=style("cell_bold", fontName=bold, fontSize=8.5, leading=10.5),
        cell_center=style("cell_center", fontSize=8.5, leading=10.5, alignment=TA_CENTER),
        cell_head=style("cell_head", fontName=bold, fontSize=8, leading=9.5, alignment=TA_CENTER),
        sign_role=style("sign_role", fontName=bold, fontSize=11, alignment=TA_CENTER),
        sign_note=style("sign_note", fontName=italic, fontSize=9, alignment=TA_CENTER),
        sign_name=style("sign_name", fontName=bold, fontSize=11, alignment=TA_CENTER),
        ballot_name=style("ballot_name", fontName=bold, fontSize=10.5, leading=13),
        ballot_cell=style("ballot_cell", fontSize=10, leading=12.5),
        mono=style("mono", fontName=fonts.mono, fontSize=9, leading=11, alignment=TA_LEFT),
    )


def get_styles() -> Styles:
    """Return the styles, registering the font family on first use."""
    return _styles_for(os.environ.get("VOTES_PDF_FONT_DIR") or None)


def wrap_text(text: object, font: str, size: float, width: float) -> str:
    """Break plain text into lines that fit ``width`` ("\n"-joined, NFC).

    A Table draws such a string cell far faster than a Paragraph: the result table of
    a large round has two wrapped cells per row. A word wider than ``width`` keeps a
    line of its own.
    """
    words = nfc(text).split()
    whole = " ".join(words)
    # ReportLab draws without kerning, so a line's width is the sum of its words and spaces:
    # text that fits whole is one measurement; otherwise each word is measured once instead
    # of every growing candidate line.
    if stringWidth(whole, font, size) <= width:
        return whole
    lines: list[str] = []
    current: list[str] = []
    used = 0.0
    space = stringWidth(" ", font, size)
    for word in words:
        wide = stringWidth(word, font, size)
        if current and used + space + wide > width:
            lines.append(" ".join(current))
            current, used = [word], wide
        else:
            used += (space if current else 0.0) + wide
            current.append(word)
    if current:
        lines.append(" ".join(current))
    return "\n".join(lines)


class PlainText(Flowable):
    """Plain text in one style, broken into lines: what ``para`` makes unless justified.

    A Paragraph parses its text as markup and lays it out in fragments; text in a single
    font needs neither, and is drawn line by line where a Paragraph would put it (first
    baseline one font size below the top, then one leading per line).
    """

    def __init__(
        self,
        text: object,
        style: ParagraphStyle,
        lines: list[str] | None = None,
        *,
        underline: bool = False,
    ) -> None:
        super().__init__()
        self.text = nfc(text)
        self.style = style
        # Lines given (the two halves of a split) keep the width they were broken for: `_room`
        # is set with them; otherwise the first wrap breaks the text.
        self.lines: list[str] = lines or []
        self.underline = underline
        self.spaceBefore = style.spaceBefore
        self.spaceAfter = style.spaceAfter

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Break the text to the width of the frame; return the size it takes."""
        style = self.style
        room = available_width - style.leftIndent - style.rightIndent
        if room != getattr(self, "_room", None):
            wrapped = wrap_text(self.text, style.fontName, style.fontSize, room)
            self.lines = wrapped.split("\n") if wrapped else []
            self._room = room
        self.width = available_width
        self.height = len(self.lines) * style.leading
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        """Split between lines when the text does not fit the rest of the page."""
        self.wrap(available_width, available_height)
        fits = int(available_height // self.style.leading)
        if fits <= 0 or fits >= len(self.lines):
            return []
        head = PlainText(self.text, self.style, self.lines[:fits], underline=self.underline)
        tail = PlainText(self.text, self.style, self.lines[fits:], underline=self.underline)
        head._room = tail._room = self._room
        head.spaceAfter = tail.spaceBefore = 0
        return [head, tail]

    def draw(self) -> None:
        """Draw each line with the style's font, colour and alignment.

        No saveState of its own: ``drawOn`` already keeps the canvas state around ``draw``.
        """
        style = self.style
        canvas = self.canv
        # One text object for every line (canvas.drawString opens one a line).
        text = canvas.beginText()
        text.setFont(style.fontName, style.fontSize, style.leading)
        text.setFillColor(style.textColor)
        left = style.leftIndent
        right = self.width - style.rightIndent
        y = self.height - style.fontSize
        measure = self.underline or style.alignment in (TA_CENTER, TA_RIGHT)
        underlines = []
        for line in self.lines:
            width = stringWidth(line, style.fontName, style.fontSize) if measure else 0.0
            if style.alignment == TA_CENTER:
                x = (left + right - width) / 2
            elif style.alignment == TA_RIGHT:
                x = right - width
            else:
                x = left
            text.setTextOrigin(x, y)
            text.textOut(line)
            if self.underline:
                below = y - style.fontSize / 8
                underlines.append((x, below, x + width, below))
            y -= style.leading
        canvas.drawText(text)
        if underlines:
            canvas.setStrokeColor(style.textColor)
            canvas.setLineWidth(style.fontSize / 20)
            canvas.lines(underlines)


class Columns(Flowable):
    """Stacks of flowables side by side, tops aligned, without borders.

    What a one-row Table of flowable cells draws, without the Table machinery (cell
    styles, spans, splitting): the heading and the signature lines of a document. It
    is never split, so only short stacks belong in it.
    """

    def __init__(
        self,
        columns: Sequence[Sequence[Flowable]],
        widths: Sequence[float],
        *,
        padding: float = 0,
    ) -> None:
        super().__init__()
        self.columns = [list(column) for column in columns]
        self.widths = list(widths)
        self.padding = padding

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Lay out every stack in its column; the tallest gives the height."""
        self.width = sum(self.widths)
        self._placed: list[list[tuple[Flowable, float, float]]] = []
        tallest = 0.0
        for column, width in zip(self.columns, self.widths, strict=True):
            room = width - 2 * self.padding
            y = 0.0
            placed = []
            for index, flowable in enumerate(column):
                if index:
                    y += flowable.getSpaceBefore()
                wide, height = flowable.wrap(room, available_height)
                y += height
                placed.append((flowable, y, room - wide))
                if index < len(column) - 1:
                    y += flowable.getSpaceAfter()
            self._placed.append(placed)
            tallest = max(tallest, y)
        self.height = tallest
        return self.width, self.height

    def draw(self) -> None:
        """Draw each stack from the top of its column."""
        x = 0.0
        for placed, width in zip(self._placed, self.widths, strict=True):
            for flowable, bottom, slack in placed:
                # slack: what the flowable leaves of its column, for its own hAlign.
                flowable.drawOn(self.canv, x + self.padding, self.height - bottom, _sW=slack)
            x += width


@dataclass(frozen=True)
class GridRow:
    """One row of a Grid: its cells, height, background, cells in another face or colour, and
    the rules (width, colour) above or below it, across the grid."""

    cells: Sequence[str]
    height: float
    background: colors.Color | None = None
    # column → (font, colour): e.g. the low level's figures of a flagged person, in bold red.
    emphasis: dict[int, tuple[str, colors.Color]] | None = None
    above: tuple[float, colors.Color] | None = None
    below: tuple[float, colors.Color] | None = None


class Grid(Flowable):
    """Rows of plain-text cells in a ruled grid: what a Table of string cells draws, faster.

    The same geometry as ReportLab's Table with VALIGN MIDDLE (each cell's lines centred
    between its paddings, one leading apart), a background per row and a 0.5 pt grid in the
    colour ``rule`` (none when it is None; a row's own rules above and below it are drawn
    either way), drawn with one text object for every cell. A Table keeps a style object per
    cell, applies each style command to every cell it covers and opens a text object per
    string: for the result table of the minutes that machinery cost more than the text it
    drew. Splits between rows.
    """

    def __init__(
        self,
        rows: Sequence[GridRow],
        widths: Sequence[float],
        *,
        fonts: Sequence[str],
        aligns: Sequence[str],
        size: float,
        leading: float,
        padding: tuple[float, float, float, float] = (2.5, 3.0, 3.0, 3.0),
        rule: colors.Color | None = colors.black,
    ) -> None:
        super().__init__()
        self.rows = list(rows)
        self.widths = list(widths)
        self.fonts = list(fonts)
        self.aligns = list(aligns)
        self.size = size
        self.leading = leading
        self.padding = padding
        self.rule = rule

    def _with_rows(self, rows: Sequence[GridRow]) -> Grid:
        return Grid(
            rows,
            self.widths,
            fonts=self.fonts,
            aligns=self.aligns,
            size=self.size,
            leading=self.leading,
            padding=self.padding,
            rule=self.rule,
        )

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Return the sum of the column widths and of the row heights."""
        self.width = sum(self.widths)
        self.height = sum(row.height for row in self.rows)
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        """Split between the rows that fit and the rest (none when no row or every row fits)."""
        used, fits = 0.0, 0
        for row in self.rows:
            if used + row.height > available_height:
                break
            used += row.height
            fits += 1
        if fits == 0 or fits == len(self.rows):
            return []
        return [self._with_rows(self.rows[:fits]), self._with_rows(self.rows[fits:])]

    def draw(self) -> None:
        """Draw the backgrounds, then every cell's text, then the grid."""
        canvas = self.canv
        top_pad, bottom_pad, left_pad, right_pad = self.padding
        width = sum(self.widths)
        height = sum(row.height for row in self.rows)
        canvas.saveState()
        bottom = height
        for row in self.rows:
            bottom -= row.height
            if row.background is not None:
                canvas.setFillColor(row.background)
                canvas.rect(0, bottom, width, row.height, stroke=0, fill=1)
        text = canvas.beginText()
        shown: tuple[str, colors.Color] | None = None
        size, leading = self.size, self.leading
        bottom = height
        for row in self.rows:
            bottom -= row.height
            left = 0.0
            for column, (cell, cell_width) in enumerate(zip(row.cells, self.widths, strict=True)):
                font = self.fonts[column]
                colour = colors.black
                if row.emphasis and column in row.emphasis:
                    font, colour = row.emphasis[column]
                if shown != (font, colour):
                    text.setFont(font, size, leading)
                    text.setFillColor(colour)
                    shown = (font, colour)
                lines = cell.split("\n")
                y = bottom + (bottom_pad + row.height - top_pad + len(lines) * leading) / 2 - size
                align = self.aligns[column]
                for line in lines:
                    if align == "LEFT":
                        x = left + left_pad
                    else:
                        line_width = stringWidth(line, font, size)
                        if align == "RIGHT":
                            x = left + cell_width - right_pad - line_width
                        else:
                            x = left + (cell_width + left_pad - right_pad - line_width) / 2
                    text.setTextOrigin(x, y)
                    text.textOut(line)
                    y -= leading
                left += cell_width
        canvas.drawText(text)
        canvas.setLineCap(1)
        levels = [height]
        for row in self.rows:
            levels.append(levels[-1] - row.height)
        if self.rule is not None:
            canvas.setStrokeColor(self.rule)
            canvas.setLineWidth(0.5)
            edges = [0.0]
            for cell_width in self.widths:
                edges.append(edges[-1] + cell_width)
            canvas.lines(
                [(0.0, y, width, y) for y in levels] + [(x, 0.0, x, height) for x in edges]
            )
        # The rows' own rules, in the order of their rows, one stroke for each pen.
        pens: dict[tuple[float, colors.Color], list[tuple[float, float, float, float]]] = {}
        for index, row in enumerate(self.rows):
            for pen, y in ((row.above, levels[index]), (row.below, levels[index + 1])):
                if pen is not None:
                    pens.setdefault(pen, []).append((0.0, y, width, y))
        for (line_width, colour), segments in pens.items():
            canvas.setStrokeColor(colour)
            canvas.setLineWidth(line_width)
            canvas.lines(segments)
        canvas.restoreState()


@dataclass(frozen=True)
class HeadCell:
    """A cell of a GridHead: its text ("\n" between lines), its first column and row, and how
    many columns and rows it covers."""

    text: str
    column: int
    row: int
    columns: int = 1
    rows: int = 1


class GridHead(Flowable):
    """Header rows of merged cells over a Grid: shaded, centred, ruled around every cell.

    What a Table with SPAN commands draws, with its geometry (row heights from the lines of
    the cells, a merged cell's extra height shared by the rows it covers, text centred between
    the paddings, rules broken around merged cells), without the Table machinery: ReportLab
    maps every span over every cell and keeps a style per cell, which cost more than the
    header drew. Never split; the text of each row is in one face, size and leading.
    """

    def __init__(
        self,
        cells: Sequence[HeadCell],
        widths: Sequence[float],
        *,
        rows: Sequence[tuple[str, float, float]],
        padding: tuple[float, float, float, float] = (2.5, 3.0, 3.0, 3.0),
        background: colors.Color | None = None,
        rule: colors.Color = colors.black,
    ) -> None:
        super().__init__()
        self.cells = list(cells)
        self.widths = list(widths)
        self.rows = list(rows)
        self.padding = padding
        self.background = background
        self.rule = rule
        top_pad, bottom_pad = padding[0], padding[1]
        # Each row as tall as its tallest cell of one row; a taller merged cell then shares its
        # want equally among the rows it covers (ReportLab's spanFixDim, for one such cell or
        # several of the same rows).
        heights = [0.0] * len(self.rows)
        wants: dict[tuple[int, int], float] = {}
        for cell in self.cells:
            _font, _size, leading = self.rows[cell.row]
            need = leading * len(cell.text.split("\n")) + bottom_pad + top_pad
            if cell.rows == 1:
                heights[cell.row] = max(heights[cell.row], need)
            else:
                span = (cell.row, cell.row + cell.rows - 1)
                wants[span] = max(wants.get(span, need), need)
        extra = [0.0] * len(heights)
        for want, (first, last) in sorted(((w, k) for k, w in wants.items()), reverse=True):
            covered = range(first, last + 1)
            have = sum(heights[r] + extra[r] for r in covered)
            if have < want - 1e-8:
                for r in covered:
                    extra[r] += (want - have) / len(covered)
        self.heights = [h + e for h, e in zip(heights, extra, strict=True)]
        self.width = sum(self.widths)
        self.height = sum(self.heights)

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Return the fixed size of the header."""
        return self.width, self.height

    def draw(self) -> None:
        """Draw the shading, every cell's lines centred, then the rules around the cells."""
        canvas = self.canv
        top_pad, bottom_pad, left_pad, right_pad = self.padding
        width, height = self.width, self.height
        edges = [0.0]
        for cell_width in self.widths:
            edges.append(edges[-1] + cell_width)
        levels = [height]
        for row_height in self.heights:
            levels.append(levels[-1] - row_height)
        canvas.saveState()
        if self.background is not None:
            canvas.setFillColor(self.background)
            canvas.rect(0, height, width, -height, stroke=0, fill=1)
        text = canvas.beginText()
        text.setFillColor(colors.black)
        shown: int | None = None
        for cell in self.cells:
            font, size, leading = self.rows[cell.row]
            if shown != cell.row:
                text.setFont(font, size, leading)
                shown = cell.row
            left, right = edges[cell.column], edges[cell.column + cell.columns]
            bottom, top = levels[cell.row + cell.rows], levels[cell.row]
            lines = cell.text.split("\n")
            y = bottom + (bottom_pad + top - bottom - top_pad + len(lines) * leading) / 2 - size
            for line in lines:
                line_width = stringWidth(line, font, size)
                text.setTextOrigin((left + right + left_pad - right_pad - line_width) / 2, y)
                text.textOut(line)
                y -= leading
        canvas.drawText(text)
        # A rule between two rows (or columns) runs wherever no cell covers both sides of it.
        covers: dict[tuple[int, int], HeadCell] = {}
        for cell in self.cells:
            for row in range(cell.row, cell.row + cell.rows):
                for column in range(cell.column, cell.column + cell.columns):
                    covers[column, row] = cell
        segments = [(0.0, height, width, height), (0.0, 0.0, width, 0.0)]
        segments += [(0.0, 0.0, 0.0, height), (width, 0.0, width, height)]
        for row in range(1, len(self.heights)):
            segments += _runs(
                [_parted(covers, (c, row - 1), (c, row)) for c in range(len(self.widths))],
                edges,
                lambda a, b, y=levels[row]: (a, y, b, y),
            )
        for column in range(1, len(self.widths)):
            segments += _runs(
                [_parted(covers, (column - 1, r), (column, r)) for r in range(len(self.heights))],
                levels,
                lambda a, b, x=edges[column]: (x, b, x, a),
            )
        canvas.setStrokeColor(self.rule)
        canvas.setLineWidth(0.5)
        canvas.setLineCap(1)
        canvas.setLineJoin(1)
        canvas.lines(segments)
        canvas.restoreState()


def _parted(
    covers: dict[tuple[int, int], HeadCell], one: tuple[int, int], other: tuple[int, int]
) -> bool:
    """Whether a rule runs between two places of a header: unless one cell covers both."""
    cell = covers.get(one)
    return cell is None or cell is not covers.get(other)


def _runs(
    ruled: Sequence[bool],
    edges: Sequence[float],
    segment: Any,
) -> list[tuple[float, float, float, float]]:
    """Join the ruled stretches between consecutive edges into segments (``segment(a, b)``)."""
    found = []
    start: int | None = None
    for index, on in enumerate([*ruled, False]):
        if on and start is None:
            start = index
        elif not on and start is not None:
            found.append(segment(edges[start], edges[index]))
            start = None
    return found


class HeadedTable(Flowable):
    """A body (a Grid) below a header (a GridHead) that is repeated on every page the body
    spans.

    What ``repeatRows`` does, for a header of merged cells: ReportLab maps spans over
    every cell of a table, again for each part of it split across pages, so the merged
    cells stay in a header of their own. Both share the column widths.
    """

    def __init__(self, header: Flowable, body: Flowable) -> None:
        super().__init__()
        self.header = header
        self.body = body
        self.hAlign = "CENTER"

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Return the width of the table and the height of header and body together."""
        width, self._header_height = self.header.wrap(available_width, available_height)
        _, self._body_height = self.body.wrap(available_width, available_height)
        self.width = width
        self.height = self._header_height + self._body_height
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        """Split the body between rows; each part gets the header again."""
        _, header_height = self.header.wrap(available_width, available_height)
        parts = self.body.split(available_width, available_height - header_height)
        if len(parts) < 2:
            return []
        return [HeadedTable(self.header, part) for part in parts]

    def draw(self) -> None:
        """Draw the header above the body."""
        self.header.drawOn(self.canv, 0, self._body_height)
        self.body.drawOn(self.canv, 0, 0)


def para(text: object, style: ParagraphStyle) -> Flowable:
    """Make a flowable of plain text: NFC-normalised, no markup.

    Justified text is a Paragraph (ReportLab spreads the words); any other alignment is
    a PlainText, which lays out the same lines without parsing markup.
    """
    if style.alignment == TA_JUSTIFY or style.firstLineIndent:
        return Paragraph(esc(text), style)
    return PlainText(text, style)


#: Cell padding of the data tables (points): top, bottom, left and right.
GRID_PADDING = (2.5, 3.0, 3.0, 3.0)


def grid_style(
    header_rows: int = 1,
    *,
    font: str,
    bold: str,
    size: float = 8.5,
    leading: float | None = None,
) -> TableStyle:
    """Return the table style used by every data table: ruled grid, shaded header.

    ``header_rows`` may be 0, for the body of a HeadedTable. ReportLab applies each
    command to every cell it covers, so "FONT" sets face, size and leading at once.
    """
    top, bottom, left, right = GRID_PADDING
    style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font, size, leading or size * 1.2),
            ("GRID", (0, 0), (-1, -1), 0.5, COLOURS.rule),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), top),
            ("BOTTOMPADDING", (0, 0), (-1, -1), bottom),
            ("LEFTPADDING", (0, 0), (-1, -1), left),
            ("RIGHTPADDING", (0, 0), (-1, -1), right),
        ]
    )
    if header_rows:
        last = header_rows - 1
        style.add("FONT", (0, 0), (-1, last), bold, size, size * 1.2)
        style.add("BACKGROUND", (0, 0), (-1, last), COLOURS.header_bg)
        style.add("ALIGN", (0, 0), (-1, last), "CENTER")
    return style


class _NumberedCanvas(Canvas):
    """A canvas that writes "Trang X/Y" once the total number of pages is known."""

    footer_font = "Helvetica"
    footer_text = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        width, _ = self._pagesize
        right = width - MARGINS["right"]
        number = f"Trang {self._pageNumber}/{total}"
        self.saveState()
        self.setFont(self.footer_font, 8)
        self.setFillColor(COLOURS.muted)
        self.drawRightString(right, 10 * mm, number)
        if self.footer_text:
            room = right - MARGINS["left"] - self.stringWidth(number) - 6 * mm
            text = self.footer_text
            while text and self.stringWidth(text) > room:
                text = text[:-2] + "…"
            self.drawString(MARGINS["left"], 10 * mm, text)
        self.restoreState()


def build_pdf(
    story: Sequence[Flowable],
    *,
    title: str,
    subject: str = "",
    footer: str = "",
    pagesize: tuple[float, float] = A4,
    margins: dict[str, float] | None = None,
) -> bytes:
    """Lay out ``story`` on A4 pages numbered "Trang X/Y" and return the PDF bytes."""
    styles = get_styles()
    margin = {**MARGINS, **(margins or {})}
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin["left"],
        rightMargin=margin["right"],
        topMargin=margin["top"],
        bottomMargin=margin["bottom"],
        title=nfc(title),
        subject=nfc(subject),
        author="votes — phiếu tín nhiệm",
        creator="votes (ReportLab)",
        lang="vi",
        initialFontName=styles.fonts.regular,
    )
    frame = Frame(
        doc.leftMargin,
        doc.bottomMargin,
        doc.width,
        doc.height,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    footer_font = styles.fonts.regular
    footer_line = nfc(footer)

    class _Canvas(_NumberedCanvas):
        pass

    _Canvas.footer_font = footer_font
    _Canvas.footer_text = footer_line
    doc.build(list(story), canvasmaker=_Canvas)
    return buffer.getvalue()
