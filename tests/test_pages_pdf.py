"""The PDF details a committee notices (issue 16): one page for a 25-person ballot with
readable headings, the body name beside the slip's QR code, signatures that stay with the
minutes, and "%" always after a space. Read back with pypdf, the printed page as a person
sees it.
"""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

import reports
from reports.blocks import TEXT_WIDTH, signature_block
from reports.styles import get_styles
from reports.text import upper
from tests.test_reports import make_results, make_round, pages_text

LONG_BODY = "Ban Chấp hành Đảng bộ tỉnh Thái Nguyên khóa XX"


def runs(pdf: bytes, page: int = 0) -> list[tuple[str, float, float, float]]:
    """Return (text, x, y, font size) of every text run drawn on a page."""
    found: list[tuple[str, float, float, float]] = []

    def visit(text: str, cm: Any, tm: Any, _font: Any, size: float) -> None:
        if text.strip():
            scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
            found.append((text, tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5], size * scale))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return found


def ballot_round(count: int) -> dict[str, Any]:
    round_ = make_round()
    round_["body_name"] = LONG_BODY
    round_["items"] = [
        {"order": n, "name": f"Nguyễn Văn Người {n:02d}", "position": "Ủy viên", "kind": "person"}
        for n in range(1, count + 1)
    ]
    return round_


def test_a_ballot_of_25_persons_is_one_page_with_headings_as_large_as_the_others() -> None:
    pdf = reports.ballot_form(ballot_round(25))
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    sizes = {text.strip(): size for text, _x, _y, size in runs(pdf)}
    assert sizes["Tín nhiệm"] >= 10  # the level headings (two lines each)
    assert sizes["Tín nhiệm"] == sizes["Họ và tên"]


def test_a_ballot_of_60_persons_leaves_no_lonely_last_page() -> None:
    pages = pages_text(reports.ballot_form(ballot_round(60)))
    last = re.findall(r"Người (\d\d)", pages[-1])
    assert len(last) >= 10


def test_the_slip_prints_the_whole_body_name_beside_the_qr_code() -> None:
    round_ = make_round()
    round_["body_name"] = LONG_BODY
    pdf = reports.slips(round_, ["ACDE-FGHJ-KMNP"] * 10, "https://phieu.example.vn")
    text = " ".join(pages_text(pdf))
    assert "BAN CHẤP HÀNH ĐẢNG BỘ TỈNH THÁI NGUYÊN KHÓA XX" in " ".join(text.split())
    # Two columns of slips between 10 mm margins; each QR code 24 mm wide, 4 mm inside.
    slip = (A4[0] - 20 * mm) / 2
    body = upper(LONG_BODY)
    checked = 0
    for text, x, _y, size in runs(pdf):
        if text.strip() not in body or len(text.strip()) < 6:
            continue
        checked += 1
        text = text.strip()
        column = int((x - 10 * mm) // slip)
        qr_left = 10 * mm + (column + 1) * slip - 4 * mm - 24 * mm
        assert x + stringWidth(text, "BeVietnamPro-Bold", size) <= qr_left, text
    assert checked >= 20  # two lines on each of ten slips


def test_the_signatures_stay_with_the_minutes() -> None:
    # A KeepTogether inside the minutes' KeepTogether reported a height of 0xffffff and sent
    # the signatures to a page of their own, whatever room was left.
    styles = get_styles()
    block = signature_block(styles, [{"name": "Hà Thị Mai", "role": "Trưởng ban"}])
    _width, height = block.wrap(TEXT_WIDTH, A4[1])
    assert height < A4[1] / 3
    results = make_results(seal="ab" * 32)
    results["items"] = results["items"][:3]
    results["exempt"] = []
    results["head"] = {"id": 9, "hash": "cd" * 32}
    assert len(pages_text(reports.minutes(results))) <= 2


def test_a_percentage_is_always_followed_by_a_space_and_the_sign() -> None:
    for pdf in (reports.summary(make_results()), reports.minutes(make_results())):
        text = " ".join(pages_text(pdf))
        shares = re.findall(r"\d+,\d\d(?:\s?%)?", text)
        assert shares
        assert not [s for s in shares if s.endswith("%") and not s.endswith(" %")]
    summary_text = " ".join(pages_text(reports.summary(make_results())))
    assert summary_text.count("53,13 %") == 2  # at the end of the bar and in the table
