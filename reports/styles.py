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
    "Styles",
    "build_pdf",
    "get_styles",
    "para",
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


def para(text: object, style: ParagraphStyle) -> Paragraph:
    """Make a Paragraph of plain text: NFC-normalised and escaped (no markup)."""
    return Paragraph(esc(text), style)


def grid_style(header_rows: int = 1, *, font: str, bold: str, size: float = 8.5) -> TableStyle:
    """Return the table style used by every data table: ruled grid, shaded header."""
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), size),
            ("LEADING", (0, 0), (-1, -1), size * 1.2),
            ("FONTNAME", (0, 0), (-1, header_rows - 1), bold),
            ("BACKGROUND", (0, 0), (-1, header_rows - 1), COLOURS.header_bg),
            ("GRID", (0, 0), (-1, -1), 0.5, COLOURS.rule),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("ALIGN", (0, 0), (-1, header_rows - 1), "CENTER"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
    )


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
