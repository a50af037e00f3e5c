"""The drawing shortcuts of the PDF documents give what ReportLab and segno would give.

QR symbols: the data mask is chosen by our own scoring of the eight candidates, so the
symbol must be segno's own, module for module, and the score segno's score. Text: the
plain-text flowable must lay out the lines a Paragraph would, split across pages
without losing a word; a table with a merged header repeats it on every page.
"""

from __future__ import annotations

import io
import random
import re
import string
import unicodedata

import pytest
import segno
from pypdf import PdfReader
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle
from segno import encoder as segno_encoder

from reports.qr import penalty, qr_matrix
from reports.styles import (
    GRID_PADDING,
    GridHead,
    HeadCell,
    HeadedTable,
    PlainText,
    build_pdf,
    get_styles,
    para,
    wrap_text,
)

ALPHABETS = {
    "hex": "0123456789ABCDEF",
    "code": "ABCDEFGHJKMNPQRSTVWXYZ23456789-",
    "digits": "0123456789",
    "text": string.printable,
    "vietnamese": "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậ ",
}


def sample_payloads(count: int, seed: int) -> list[tuple[str, str]]:
    """Payloads of every mode, short to version 10 and beyond, with an error level each."""
    rng = random.Random(seed)
    payloads = []
    for n in range(count):
        alphabet = list(ALPHABETS.values())[n % len(ALPHABETS)]
        length = rng.choice([1, 7, 20, 64, rng.randint(1, 320)])
        data = "".join(rng.choice(alphabet) for _ in range(length))
        payloads.append((data, "lmqh"[n % 4]))
    payloads.append(("AB" * 32, "m"))  # the seal of the minutes
    payloads.append(("http://127.0.0.1:5000/b/K7Q2-M9XD-00001", "m"))  # a slip
    return payloads


def as_rows(matrix: list[bytearray] | tuple[bytearray, ...]) -> list[bytes]:
    return [bytes(row) for row in matrix]


@pytest.mark.parametrize(("data", "error"), sample_payloads(60, seed=18004))
def test_qr_matrix_is_segnos_own_symbol(data: str, error: str) -> None:
    expected = segno.make(data, error=error, micro=False)
    assert as_rows(qr_matrix(data, error=error)) == as_rows(expected.matrix)


def test_qr_matrix_picks_every_mask_somewhere() -> None:
    # Agreement on a payload where segno keeps the probe's mask proves little: make sure
    # the sample reaches symbols whose best mask is each of the eight.
    masks = {segno.make(d, error=e, micro=False).mask for d, e in sample_payloads(120, seed=7)}
    assert masks == set(range(8))


def unmasked_matrix(data: str, error: str) -> tuple[int, list[bytearray]]:
    """A matrix as segno evaluates it: function patterns, data, no format information."""
    code = segno.make(data, error=error, micro=False)
    width = len(code.matrix)
    matrix = [bytearray(row) for row in code.matrix]
    reserved = segno_encoder.make_matrix(width, width)
    for i in range(width):
        for j in range(width):
            if reserved[i][j] == 0 and (i == 8 or j == 8 or width - 11 < i or width - 11 < j):
                matrix[i][j] = 0  # the format and version areas, light as segno leaves them
    return width, matrix


@pytest.mark.parametrize("seed", range(12))
def test_penalty_is_segnos_score(seed: int) -> None:
    rng = random.Random(seed)
    width = 21 + 4 * rng.randint(0, 12)
    # Random modules, and rows with long runs and finder-like patterns, which score N1/N3.
    matrix = []
    for _ in range(width):
        if rng.random() < 0.3:
            start = rng.randint(0, width - 11)
            row = [0] * width
            row[start : start + 11] = [0, 0, 1, 0, 1, 1, 1, 0, 1, 0, 0]
        else:
            row = [rng.randint(0, 1) for _ in range(width)]
        matrix.append(bytearray(row))
    rows = [int("".join(map(str, row)), 2) for row in matrix]
    assert penalty(rows, width) == segno_encoder.evaluate_mask(tuple(matrix), width, width)


def test_penalty_of_a_real_symbol() -> None:
    width, matrix = unmasked_matrix("Biên bản kiểm phiếu", "m")
    rows = [int("".join(map(str, row)), 2) for row in matrix]
    assert penalty(rows, width) == segno_encoder.evaluate_mask(tuple(matrix), width, width)


# --- plain text ----------------------------------------------------------------------------


def pdf_lines(pdf: bytes) -> list[list[str]]:
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        text = unicodedata.normalize("NFC", page.extract_text() or "")
        pages.append([line.strip() for line in text.splitlines() if line.strip()])
    return pages


@pytest.fixture(scope="module")
def styles():  # type: ignore[no-untyped-def]
    return get_styles()


def test_para_is_plain_text_unless_justified(styles) -> None:  # type: ignore[no-untyped-def]
    assert isinstance(para("Không có.", styles.body), PlainText)
    assert isinstance(para("Hôm nay, Ban kiểm phiếu…", styles.body_justify), Paragraph)


@pytest.mark.parametrize("alignment", [TA_LEFT, TA_CENTER, TA_RIGHT])
def test_plain_text_fills_each_line_and_never_overflows(styles, alignment: int) -> None:  # type: ignore[no-untyped-def]
    style = ParagraphStyle("t", parent=styles.body, alignment=alignment)
    text = " ".join(["Phó Chủ tịch Ủy ban nhân dân tỉnh Thái Nguyên"] * 6)
    plain = PlainText(text, style)
    width, height = plain.wrap(200, 1000)
    assert (width, height) == (200, len(plain.lines) * style.leading)
    assert " ".join(plain.lines).split() == text.split()
    font, size = style.fontName, style.fontSize
    for line, following in zip(plain.lines, plain.lines[1:], strict=False):
        assert stringWidth(line, font, size) <= 200
        # Greedy: the next line's first word would not have fitted on this one.
        assert stringWidth(f"{line} {following.split()[0]}", font, size) > 200
    # A Paragraph lets a line overrun by 5 % of a space per word; never more lines.
    paragraph = Paragraph(text, style)
    paragraph.wrap(200, 1000)
    assert len(paragraph.blPara.lines) <= len(plain.lines) <= len(paragraph.blPara.lines) + 1


def test_plain_text_splits_across_pages_without_losing_a_word(styles) -> None:  # type: ignore[no-untyped-def]
    words = [f"Nguyễn{n}" for n in range(1500)]
    pdf = build_pdf([para(" ".join(words), styles.body)], title="thử")
    pages = pdf_lines(pdf)
    assert len(pages) >= 2
    drawn = [w for page in pages for line in page for w in line.split() if w.startswith("Ngu")]
    assert drawn == words


def test_wrap_text_keeps_words_whole_and_composes(styles) -> None:  # type: ignore[no-untyped-def]
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Ánh Tuyết")
    lines = wrap_text(decomposed, styles.fonts.bold, 11, 60).split("\n")
    assert " ".join(lines) == "Nguyễn Thị Ánh Tuyết"
    assert len(lines) > 1


def test_headed_table_repeats_its_header_on_every_page(styles) -> None:  # type: ignore[no-untyped-def]
    font = [("FONTNAME", (0, 0), (-1, -1), styles.fonts.regular)]
    header = Table([["Họ và tên", "Tín nhiệm cao"], ["", "Số phiếu"]], colWidths=[200, 100])
    header.setStyle([*font, ("SPAN", (0, 0), (0, 1))])
    rows = [[f"Người số {n}", str(n)] for n in range(1, 151)]
    body = Table(rows, colWidths=[200, 100], style=font)
    pdf = build_pdf([Spacer(1, 100), HeadedTable(header, body)], title="thử")
    pages = pdf_lines(pdf)
    assert len(pages) >= 3
    seen = []
    for page in pages:
        assert any("Họ và tên" in line for line in page)
        assert any("Số phiếu" in line for line in page)
        seen += [int(line.split()[2]) for line in page if line.startswith("Người số")]
    assert seen == list(range(1, 151))


# --- the result table's header ---------------------------------------------------------------


def drawn(flowable: Flowable) -> tuple[list[tuple[str, str, str]], set[tuple[str, ...]]]:
    """The strings a flowable draws (x, y, text) in order, and its rules (either direction)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pageCompression=0)
    flowable.wrap(1000, 1000)
    flowable.drawOn(canvas, 0, 0)
    canvas.showPage()
    canvas.save()
    content = buffer.getvalue().decode("latin-1")
    strings = re.findall(r"1 0 0 1 (\S+) (\S+) Tm(?: /\S+ \S+ Tf \S+ TL)? \((.*?)\) Tj", content)
    rules = set()
    for x1, y1, x2, y2 in re.findall(r"(\S+) (\S+) m (\S+) (\S+) l", content):
        rules.add(min((x1, y1, x2, y2), (x2, y2, x1, y1)))
    return strings, rules


@pytest.mark.parametrize("levels", [2, 3])
def test_grid_head_draws_what_a_table_with_spans_draws(styles, levels: int) -> None:  # type: ignore[no-untyped-def]
    """GridHead, the minutes' merged header: the strings where ReportLab's Table puts them (row
    heights, a merged cell's extra height shared, centring) and the rules around each cell."""
    bold = styles.fonts.bold
    last = 3 + 2 * levels
    cells = [
        HeadCell(text, column, 0, rows=2) for column, text in enumerate(["STT", "Họ", "Chức vụ"])
    ]
    cells += [HeadCell(f"Mức {n}", 3 + 2 * n, 0, columns=2) for n in range(levels)]
    cells.append(HeadCell("Phiếu\nkhông\nhợp lệ", last, 0, rows=2))
    for n in range(levels):
        cells += [HeadCell("Số phiếu", 3 + 2 * n, 1), HeadCell("Tỷ lệ %", 4 + 2 * n, 1)]
    widths = [22.0, 100.0, 90.0] + [34.0] * (2 * levels) + [37.0]
    head = GridHead(cells, widths, rows=[(bold, 8, 9.5), (bold, 7, 10.2)], padding=GRID_PADDING)

    data = [[""] * len(widths) for _ in range(2)]
    top, bottom, left, right = GRID_PADDING
    style = TableStyle(
        [
            ("FONT", (0, 0), (-1, 0), bold, 8, 9.5),
            ("FONT", (0, 1), (-1, 1), bold, 7, 10.2),
            ("GRID", (0, 0), (-1, -1), 0.5, "grey"),
            ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), top),
            ("BOTTOMPADDING", (0, 0), (-1, -1), bottom),
            ("LEFTPADDING", (0, 0), (-1, -1), left),
            ("RIGHTPADDING", (0, 0), (-1, -1), right),
        ]
    )
    for cell in cells:
        data[cell.row][cell.column] = cell.text
        end = (cell.column + cell.columns - 1, cell.row + cell.rows - 1)
        if end != (cell.column, cell.row):
            style.add("SPAN", (cell.column, cell.row), end)
    table = Table(data, colWidths=widths, style=style)

    assert head.wrap(1000, 1000) == pytest.approx(table.wrap(1000, 1000))
    assert head.heights == pytest.approx(table._rowHeights)
    assert drawn(head) == drawn(table)
