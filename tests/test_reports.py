"""PDF documents: parsed back with pypdf, names, numbers, fonts, page breaks, slips."""

from __future__ import annotations

import copy
import hashlib
import io
import math
import re
import unicodedata
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab import rl_config
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

import reports
from reports import ballot_form, findings_list, fonts, history, minutes, slips, summary
from reports.fonts import FontError, register_fonts
from reports.qr import qr_runs
from reports.slip_sheets import ballot_url
from reports.styles import Grid, GridRow, build_pdf
from reports.text import fmt_date_line, fmt_int, fmt_percent, nfc

NAMES = ["Nguyễn Thị Ánh Tuyết", "Đặng Quốc Khánh", "Lương Thị Thủy", "Hồ Đức Phớc"]
COLLECTIVE = "Tập thể Ban Thường vụ Tỉnh ủy"
PROFILE = {"id": "tn-16kh-2012", "version": 1, "name": "Kế hoạch 16-KH/TU"}
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


# --- helpers ---------------------------------------------------------------------------


def fold(text: str) -> str:
    """NFC-normalise and fold every run of whitespace to one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def pages_text(pdf: bytes) -> list[str]:
    """Extract each page's text; fail if any text was drawn decomposed.

    A decomposed accent is drawn as its own glyph beside the vowel, so the raw text
    (before folding to NFC) must hold no combining mark at all.
    """
    pages = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        raw = page.extract_text() or ""
        marks = sorted({f"U+{ord(ch):04X}" for ch in raw if unicodedata.combining(ch)})
        assert not marks, f"combining marks drawn as separate glyphs: {marks}"
        pages.append(fold(raw))
    return pages


def all_text(pdf: bytes) -> str:
    return " ".join(pages_text(pdf))


def base_fonts(pdf: bytes) -> set[str]:
    """Return the BaseFont names of every page, without the subset prefix."""
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page["/Resources"].get_object().get("/Font") or {}
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]).lstrip("/").split("+")[-1])
    return names


def decompose(value: Any) -> Any:
    """Return a deep copy with every string in NFD (as some keyboards and files give it)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFD", value)
    if isinstance(value, list):
        return [decompose(v) for v in value]
    if isinstance(value, dict):
        return {k: decompose(v) for k, v in value.items()}
    return value


# --- fixtures: the shapes the core produces ------------------------------------------------


def make_finding(name: str, position: str, *, rule: str = "band") -> dict[str, Any]:
    def evidence(round_id: int, year: int, low: int) -> dict[str, Any]:
        percent = (Decimal(low * 100) / 32).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        return {
            "round": round_id,
            "year": year,
            "low": low,
            "denominator": 32,
            "basis": "collected",
            "percent": str(percent),
            "rule": "low*2 > D",
            "profile": {"id": PROFILE["id"], "version": 1},
        }

    consecutive = rule == "consecutive_years"
    return {
        "rule": rule,
        "person_key": fold(name).lower().replace(" ", "-"),
        "name": name,
        "position": position,
        "years": [2024, 2025] if consecutive else [2025],
        "rounds": [3, 7] if consecutive else [7],
        "band": "over_half",
        "consequence": {"vi": "Xem xét, cho thôi giữ chức vụ", "en": "Consider relieving"},
        "evidence": [evidence(3, 2024, 18), evidence(7, 2025, 17)]
        if consecutive
        else [evidence(7, 2025, 17)],
    }


def make_round(*, scale: str = "poll", kind: str = "party") -> dict[str, Any]:
    return {
        "id": 7,
        "body": "TU-TN",
        "body_name": "Tỉnh ủy Thái Nguyên",
        "body_kind": kind,
        "year": 2025,
        "title": "Lấy phiếu tín nhiệm Ban Thường vụ năm 2025",
        "status": "closed",
        "scale": scale,
        "profile": dict(PROFILE),
    }


def make_results(
    *, basis: str = "collected", kind: str = "party", seal: str | None = None
) -> dict[str, Any]:
    """Four persons and the collective, 32 ballots: the arithmetic of DOMAIN.md §8."""
    items = []
    for order, name in enumerate(NAMES, 1):
        flagged = name == "Đặng Quốc Khánh"
        items.append(
            {
                "order": order,
                "person_key": f"p{order}",
                "name": name,
                "position": "Phó Bí thư Tỉnh ủy" if flagged else "Ủy viên Ban Thường vụ",
                "kind": "person",
                "counts": {"high": 5, "confidence": 10, "low": 17, "invalid": 0}
                if flagged
                else {"high": 20, "confidence": 8, "low": 1, "invalid": 1},
                "percent": {"high": "15.63", "confidence": "31.25", "low": "53.13"}
                if flagged
                else {"high": "62.50", "confidence": "25.00", "low": "3.13"},
                "findings": [make_finding(name, "Phó Bí thư Tỉnh ủy")] if flagged else [],
            }
        )
    items.append(
        {
            "order": 5,
            "person_key": None,
            "name": COLLECTIVE,
            "position": "",
            "kind": "collective",
            "counts": {"high": 25, "confidence": 5, "low": 2, "invalid": 0},
            "percent": {"high": "78.13", "confidence": "15.63", "low": "6.25"},
            "findings": [],
        }
    )
    return {
        "round": make_round(kind=kind),
        "members": 32,
        "summoned": 32,
        "present": 32,
        "quorum_met": True,
        "ballots": {"issued": 32, "collected": 32, "valid": 32, "invalid": 0},
        "denominator": {"basis": basis, "value": 32},
        "thresholds": [
            {"band": "over_half_under_two_thirds", "percent": "50.00", "fraction": "1/2"},
            {"band": "two_thirds_or_more", "percent": "66.67", "fraction": "2/3"},
        ],
        "items": items,
        "exempt": [
            {
                "name": "Trần Thị Bích Ngọc",
                "position": "Ủy viên Ban Thường vụ",
                "reason": "Đã có thông báo nghỉ hưu",
            }
        ],
        "seal": seal,
    }


def make_history() -> dict[str, Any]:
    finding = make_finding("Đặng Quốc Khánh", "Phó Bí thư Tỉnh ủy", rule="consecutive_years")
    rounds = []
    for round_id, year, low, position in [
        (1, 2023, 4, "Trưởng Ban Tổ chức Tỉnh ủy"),
        (3, 2024, 18, "Phó Bí thư Tỉnh ủy"),
        (7, 2025, 17, "Phó Bí thư Tỉnh ủy"),
    ]:
        percent = (Decimal(low * 100) / 32).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        rounds.append(
            {
                "round_id": round_id,
                "year": year,
                "position": position,
                "status": "closed",
                "title": f"Lấy phiếu tín nhiệm Ban Thường vụ năm {year}",
                "denominator": {"basis": "collected", "value": 32},
                "counts": {"high": 32 - low - 6, "confidence": 6, "low": low, "invalid": 0},
                "percent": {"high": "0.00", "confidence": "18.75", "low": str(percent)},
                "findings": [finding] if low > 16 else [],
            }
        )
    return {
        "body": {"code": "TU-TN", "name": "Tỉnh ủy Thái Nguyên", "kind": "party"},
        "person": {"person_key": "dang-quoc-khanh", "name": "Đặng Quốc Khánh"},
        "rounds": rounds,
        "findings": [finding],
        "thresholds": [
            {"band": "over_half", "percent": "50.00"},
            {"band": "two_thirds_or_more", "percent": "66.67"},
        ],
    }


def ballot_round(results: dict[str, Any]) -> dict[str, Any]:
    round_ = dict(results["round"])
    round_["items"] = [
        {k: item[k] for k in ("order", "name", "position", "kind")} for item in results["items"]
    ]
    return round_


@pytest.fixture(params=["nfc", "nfd"])
def form(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def as_input(value: Any, form: str) -> Any:
    if form == "nfc":
        return copy.deepcopy(value)
    decomposed = decompose(value)
    # The fixture must really be decomposed, or the NFD case proves nothing.
    assert unicodedata.normalize("NFD", NAMES[0]) != NAMES[0]
    return decomposed


# --- text helpers ---------------------------------------------------------------------------


def test_percent_uses_decimal_comma() -> None:
    assert fmt_percent("3.13") == "3,13"
    assert fmt_percent("62.50") == "62,50"
    assert fmt_percent("100.00", suffix=" %") == "100,00 %"
    assert fmt_percent(None) == "—"
    with pytest.raises(TypeError):
        fmt_percent(3.13)


def test_counts_use_dot_thousands() -> None:
    assert fmt_int(0) == "0"
    assert fmt_int(999) == "999"
    assert fmt_int(1234) == "1.234"
    assert fmt_int(1234567) == "1.234.567"
    assert fmt_int(None) == "—"


def test_date_line_follows_decree_30() -> None:
    assert fmt_date_line("Thái Nguyên", "2026-11-27") == "Thái Nguyên, ngày 27 tháng 11 năm 2026"
    assert fmt_date_line("Hà Nội", "2026-02-05") == "Hà Nội, ngày 05 tháng 02 năm 2026"
    assert fmt_date_line("Huế", "2026-03-09") == "Huế, ngày 09 tháng 3 năm 2026"


@given(st.decimals(min_value=0, max_value=100, places=2, allow_nan=False))
def test_percent_digits_are_kept(value: Decimal) -> None:
    text = str(value.quantize(Decimal("0.01")))
    assert fmt_percent(text).replace(",", ".") == text


@given(st.integers(min_value=0, max_value=10**9))
def test_count_round_trips(value: int) -> None:
    assert int(fmt_int(value).replace(".", "")) == value


def test_nfc_composes() -> None:
    assert nfc(unicodedata.normalize("NFD", "Phớc")) == "Phớc"


def test_decomposed_text_would_be_caught() -> None:
    """The extraction check above does fail on text drawn without NFC."""
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, initialFontName=register_fonts().regular)
    canvas.drawString(72, 720, unicodedata.normalize("NFD", "Hồ Đức Phớc"))
    canvas.save()
    with pytest.raises(AssertionError, match="combining marks"):
        pages_text(buffer.getvalue())


# --- fonts ----------------------------------------------------------------------------------


def test_font_family_is_registered_once() -> None:
    first = register_fonts()
    assert register_fonts() is first
    assert first.regular == "BeVietnamPro-Regular"
    assert {first.bold, first.italic, first.bold_italic} == {
        "BeVietnamPro-Bold",
        "BeVietnamPro-Italic",
        "BeVietnamPro-BoldItalic",
    }


def test_font_dir_without_family_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no fonts here")
    with pytest.raises(FontError, match="Regular"):
        register_fonts(tmp_path)


def test_font_dir_with_other_names(tmp_path: Path) -> None:
    source = Path(register_fonts().directory)
    for face in ("Regular", "Bold"):
        (tmp_path / f"Other-{face}.ttf").write_bytes(
            (source / f"BeVietnamPro-{face}.ttf").read_bytes()
        )
    family = register_fonts(tmp_path)
    assert family.regular == "Other-Regular"
    assert family.italic == "Other-Regular"  # missing italic falls back to regular
    assert family.bold_italic == "Other-Bold"


@pytest.mark.skipif(not (DEJAVU / "DejaVuSans-Bold.ttf").is_file(), reason="no DejaVu")
def test_env_font_dir_changes_embedded_family(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOTES_PDF_FONT_DIR", str(DEJAVU))
    fonts = base_fonts(minutes(make_results()))
    assert "DejaVuSans" in fonts
    assert not any(name.startswith("BeVietnamPro") for name in fonts)


def assert_registered_family(pdf: bytes) -> None:
    fonts = base_fonts(pdf)
    family = register_fonts()
    allowed = {family.regular, family.bold, family.italic, family.bold_italic}
    # The monospaced face for codes: DejaVu Sans Mono when installed, else Courier.
    allowed |= {"DejaVuSansMono", "Courier"}
    assert fonts, "no fonts found"
    assert fonts <= allowed, f"unexpected fonts: {sorted(fonts - allowed)}"
    assert family.regular in fonts


@pytest.mark.parametrize(
    "document", ["minutes", "summary", "history", "findings", "ballot", "slips"]
)
def test_only_the_registered_family_is_embedded(document: str) -> None:
    results = make_results(seal=hashlib.sha256(b"box").hexdigest())
    hist = make_history()
    pdf = {
        "minutes": lambda: minutes(results),
        "summary": lambda: summary(results),  # chart labels default to Helvetica
        "history": lambda: history(hist),
        "findings": lambda: findings_list(hist["body"], hist["findings"]),
        "ballot": lambda: ballot_form(ballot_round(results)),
        "slips": lambda: slips(ballot_round(results), ["ABCD-EFGH-JKLM"]),
    }[document]()
    assert_registered_family(pdf)
    assert "Helvetica" not in base_fonts(pdf)


# --- minutes --------------------------------------------------------------------------------


def test_minutes_keep_every_diacritic(form: str) -> None:
    results = as_input(make_results(), form)
    meta = as_input(
        {
            "place": "Thái Nguyên",
            "date": "2026-11-27",
            "committee": [
                {"name": "Vũ Thị Ngọc Ánh", "role": "Trưởng ban"},
                {"name": "Phạm Đình Trường", "role": "Thành viên"},
            ],
        },
        form,
    )
    text = all_text(minutes(results, meta))
    for name in [*NAMES, COLLECTIVE, "Vũ Thị Ngọc Ánh", "Phạm Đình Trường"]:
        assert name in text
    assert "BIÊN BẢN KIỂM PHIẾU" in text
    assert "Thái Nguyên, ngày 27 tháng 11 năm 2026" in text
    assert "Tỉnh ủy Thái Nguyên".upper() in text


def test_minutes_numbers_and_denominator() -> None:
    text = all_text(minutes(make_results()))
    assert "62,50" in text
    assert "3,13" in text
    assert "53,13" in text
    assert "3.13" not in text
    assert "Tỷ lệ phần trăm được tính trên tổng số phiếu thu về (32 phiếu)." in text
    for label in (
        "Tổng số phiếu phát ra",
        "Số phiếu thu về",
        "Số phiếu hợp lệ",
        "Số phiếu không hợp lệ",
        "Tín nhiệm cao",
        "Tín nhiệm thấp",
    ):
        assert label in text
    # The consequences go to the report of the results, not to the minutes (issue 14); the
    # exemption and its reason stay.
    assert "Xem xét, cho thôi giữ chức vụ" not in text
    assert "Trần Thị Bích Ngọc" in text
    assert "Đã có thông báo nghỉ hưu" in text


def test_minutes_denominator_members() -> None:
    text = all_text(minutes(make_results(basis="members")))
    assert "Tỷ lệ phần trăm được tính trên tổng số thành viên (32 người)." in text


def test_minutes_unknown_counts_print_a_dash() -> None:
    results = make_results()
    results["members"] = None
    results["quorum_met"] = None
    text = all_text(minutes(results))
    assert "Tổng số thành viên: —" in text


def test_minutes_heading_party_and_state() -> None:
    party = all_text(minutes(make_results(kind="party")))
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in party
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" not in party
    council = all_text(minutes(make_results(kind="council")))
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in council
    assert "Độc lập - Tự do - Hạnh phúc" in council


def test_minutes_blank_signature_lines_without_committee() -> None:
    text = all_text(minutes(make_results()))
    assert "TRƯỞNG BAN" in text
    assert "THÀNH VIÊN" in text
    assert "(Ký, ghi rõ họ tên)" in text


def test_minutes_print_the_seal() -> None:
    seal = hashlib.sha256(b"ballot box").hexdigest()
    text = all_text(minutes(make_results(seal=seal)))
    assert seal in text.replace(" ", "")
    assert "NIÊM PHONG" in text
    assert "NIÊM PHONG" not in all_text(minutes(make_results(seal=None)))


def test_minutes_of_a_vote_of_confidence() -> None:
    results = make_results()
    results["round"]["scale"] = "confidence_vote"
    for item in results["items"]:
        item["counts"] = {"trust": 12, "no_trust": 20, "invalid": 0}
        item["percent"] = {"trust": "37.50", "no_trust": "62.50"}
    text = all_text(minutes(results))
    assert "Không tín nhiệm" in text
    assert "Tín nhiệm cao" not in text
    assert "37,50" in text


def large_results(items: int = 60, voters: int = 500) -> dict[str, Any]:
    results = make_results()
    results.update(members=voters, summoned=voters, present=voters)
    results["ballots"] = {"issued": voters, "collected": voters, "valid": voters, "invalid": 0}
    results["denominator"] = {"basis": "collected", "value": voters}
    rows = []
    for order in range(1, items + 1):
        low = (order * 7) % 260
        high = voters - low - 120
        share = {
            k: str((Decimal(v * 100) / voters).quantize(Decimal("0.01"), "ROUND_HALF_UP"))
            for k, v in (("high", high), ("confidence", 120), ("low", low))
        }
        rows.append(
            {
                "order": order,
                "person_key": f"p{order}",
                "name": f"{NAMES[order % 4]} {order:02d}",
                "position": "Phó Chủ tịch Thường trực Hội đồng nhân dân tỉnh",
                "kind": "person",
                "counts": {"high": high, "confidence": 120, "low": low, "invalid": 0},
                "percent": share,
                "findings": [],
            }
        )
    results["items"] = rows
    return results


@pytest.mark.slow
def test_large_round_repeats_the_table_header() -> None:
    pages = pages_text(minutes(large_results()))
    assert len(pages) >= 3
    header = "Họ và tên Chức vụ Tín nhiệm cao Tín nhiệm Tín nhiệm thấp"
    assert header in pages[0]
    assert header in pages[1]
    assert "Số phiếu Tỷ lệ %" in pages[1]
    # Page 2 continues the table: later rows there, none of them on page 1.
    continued = [n for n in range(1, 61) if f"{NAMES[n % 4]} {n:02d}" in pages[1]]
    assert continued
    assert all(f"{NAMES[n % 4]} {n:02d}" not in pages[0] for n in continued)
    assert "500 phiếu" in pages[0]
    assert all(f"{NAMES[n % 4]} {n:02d}" in " ".join(pages) for n in range(1, 61))


@pytest.mark.slow
def test_large_round_summary_renders() -> None:
    text = all_text(summary(large_results()))
    assert all(f"{NAMES[n % 4]} {n:02d}" in text for n in range(1, 61))


# --- summary, history, findings ----------------------------------------------------------------


def test_summary_chart_and_table(form: str) -> None:
    pages = pages_text(summary(as_input(make_results(), form)))
    assert len(pages) == 1  # one page per round where it fits
    text = pages[0]
    for name in [*NAMES, COLLECTIVE]:
        assert name in text
    # Threshold lines and legend are drawn in the registered family.
    assert "1/2" in text
    assert "2/3" in text
    assert "Tín nhiệm thấp" in text
    assert "17 (53,13 %)" in text
    assert "Tỷ lệ phần trăm được tính trên tổng số phiếu thu về (32 phiếu)." in text


def test_summary_of_several_rounds_starts_each_on_a_page() -> None:
    second = make_results()
    second["round"]["title"] = "Lấy phiếu tín nhiệm Ban Thường vụ năm 2026"
    pages = pages_text(summary([make_results(), second]))
    assert len(pages) == 2
    assert "năm 2026" in pages[1]
    assert "năm 2026" not in pages[0]


def test_history_lists_rounds_and_evidence(form: str) -> None:
    text = all_text(history(as_input(make_history(), form)))
    assert "Đặng Quốc Khánh" in text
    assert "QUÁ TRÌNH LẤY PHIẾU TÍN NHIỆM" in text
    for year in ("2023", "2024", "2025"):
        assert year in text
    assert "Trưởng Ban Tổ chức Tỉnh ủy" in text
    assert "56,25" in text  # 18/32
    assert "53,13" in text  # 17/32
    assert "hai năm liên tiếp (2024, 2025)" in text
    assert "Xem xét, cho thôi giữ chức vụ" in text
    assert "1/2" in text
    assert "2/3" in text


def test_findings_list_names_rule_years_consequence(form: str) -> None:
    hist = make_history()
    findings = [hist["findings"][0], make_finding("Hồ Đức Phớc", "Ủy viên Ban Thường vụ")]
    text = all_text(findings_list(as_input(hist["body"], form), as_input(findings, form)))
    assert "Đặng Quốc Khánh" in text
    assert "Hồ Đức Phớc" in text
    assert "Hai năm liên tiếp" in text
    assert "2024, 2025" in text
    assert "Xem xét, cho thôi giữ chức vụ" in text
    assert "2 trường hợp, 2 người" in text


def test_findings_list_empty() -> None:
    text = all_text(findings_list({"code": "TU-TN", "name": "Tỉnh ủy Thái Nguyên"}, []))
    assert "Không có trường hợp nào" in text


# --- slips and ballots ------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "per_page"), [(1, 10), (10, 10), (23, 10), (17, 8), (0, 10)])
def test_slips_pages_and_each_code_once(count: int, per_page: int) -> None:
    codes = [f"K7Q2-M9XD-{n:04d}" for n in range(count)]
    pdf = slips(ballot_round(make_results()), codes, "https://phieu.example.vn", per_page=per_page)
    pages = pages_text(pdf)
    assert len(pages) == max(1, math.ceil(count / per_page))
    text = " ".join(pages)
    for code in codes:
        assert len(re.findall(re.escape(code), text)) == 1
    if count:
        assert "Mỗi mã chỉ dùng được một lần. Không ghi tên lên phiếu." in text
        assert "https://phieu.example.vn/b" in text
        assert "TỈNH ỦY THÁI NGUYÊN" in text


def test_slips_are_shuffled() -> None:
    codes = [f"CODE-{n:04d}" for n in range(40)]
    text = " ".join(pages_text(slips(ballot_round(make_results()), codes)))
    printed = re.findall(r"CODE-\d{4}", text)
    assert sorted(printed) == codes
    assert printed != codes  # 1 chance in 40! of a false failure


def test_slip_qr_carries_the_ballot_link() -> None:
    url = ballot_url("http://127.0.0.1:5000/", "ABCD-EFGH")
    assert url == "http://127.0.0.1:5000/b#ABCD-EFGH"  # the code after #, never sent
    width, runs = qr_runs(url)
    rebuilt = [[0] * width for _ in range(width)]
    for row, col, length in runs:
        for c in range(col, col + length):
            rebuilt[row][c] = 1
    expected = [
        [1 if dark else 0 for dark in line]
        for line in segno.make(url, error="m", micro=False).matrix
    ]
    assert rebuilt == expected


def test_slips_refuse_other_grids() -> None:
    with pytest.raises(ValueError, match="per_page"):
        slips(ballot_round(make_results()), ["A"], per_page=12)


def test_ballot_form_lists_every_item(form: str) -> None:
    text = all_text(ballot_form(as_input(ballot_round(make_results()), form)))
    assert "PHIẾU LẤY PHIẾU TÍN NHIỆM" in text
    assert "Đánh dấu X vào một ô tương ứng cho mỗi người" in text
    for name in [*NAMES, COLLECTIVE]:
        assert name in text
    for label in ("Tín nhiệm cao", "Tín nhiệm thấp", "Chức vụ"):
        assert label in text


def test_ballot_form_of_a_vote_of_confidence() -> None:
    round_ = ballot_round(make_results())
    round_["scale"] = "confidence_vote"
    text = all_text(ballot_form(round_))
    assert "PHIẾU BỎ PHIẾU TÍN NHIỆM" in text
    assert "Không tín nhiệm" in text
    assert "Tín nhiệm cao" not in text


def test_render_dispatches_by_kind() -> None:
    assert reports.render("ballot", ballot_round(make_results())).startswith(b"%PDF")
    with pytest.raises(ValueError, match="unknown report kind"):
        reports.render("poster")


def test_a_kept_font_subset_is_the_subset_reportlab_makes() -> None:
    """reports.fonts keeps the subsets of earlier documents: the same bytes as made afresh."""
    family = reports.register_fonts()
    kept = pdfmetrics.getFont(family.regular)
    fresh = TTFont("fresh-for-test", kept.face.filename)
    subset = [0, *range(32, 127), *(ord(c) for c in "ạảấầẩẫậắằẳẵặđ")]
    first = kept.face.makeSubset(subset)
    assert first == fresh.face.makeSubset(subset)
    assert kept.face.makeSubset(list(subset)) is first  # kept, not made again
    assert kept.face.makeSubset(subset[:50]) == fresh.face.makeSubset(subset[:50])


def test_a_kept_subset_is_compressed_once_and_as_zlib_does() -> None:
    """A kept subset's compressed bytes are kept too, and are zlib's; other streams as before."""
    family = reports.register_fonts()
    face = pdfmetrics.getFont(family.bold).face
    subset = [0, *range(32, 100), *(ord(c) for c in "ưữựđ")]
    made = face.makeSubset(subset)
    compressed = pdfdoc.PDFZCompress.encode(made)
    assert compressed == zlib.compress(bytes(made))
    assert pdfdoc.PDFZCompress.encode(face.makeSubset(list(subset))) is compressed
    page = b"BT /F1 12 Tf (page) Tj ET" * 40
    assert pdfdoc.PDFZCompress.encode(page) == zlib.compress(page)
    assert pdfdoc.PDFZCompress.encode("chữ") == zlib.compress("chữ".encode())


def test_a_document_with_kept_subsets_embeds_whole_fonts() -> None:
    """The second minutes of a round reuse the first's compressed subsets: each still reads."""
    results = make_results()
    minutes(results)
    reader = PdfReader(io.BytesIO(minutes(results)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = [
        font.get_object()["/FontDescriptor"]["/FontFile2"].get_object()
        for font in fonts.values()
        if "/FontDescriptor" in font.get_object()
    ]
    assert len(embedded) >= 2
    for stream in embedded:
        data = stream.get_data()
        assert data.startswith(b"\x00\x01\x00\x00")  # a TrueType file, inflated whole
        assert len(data) == stream["/Length1"]


def test_the_seal_symbol_is_kept_and_still_segno_s() -> None:
    seal = "ab" * 32
    width, runs = qr_runs(seal)
    assert qr_runs(seal) is qr_runs(seal)
    rebuilt = [[0] * width for _ in range(width)]
    for row, col, length in runs:
        for c in range(col, col + length):
            rebuilt[row][c] = 1
    assert rebuilt == [
        [1 if dark else 0 for dark in line]
        for line in segno.make(seal, error="m", micro=False).matrix
    ]


def test_a_grid_splits_between_rows_and_draws_every_cell() -> None:
    """reports.styles.Grid, the result table's body: rows kept whole, every string drawn."""
    family = reports.register_fonts()
    rows = [GridRow([str(n), f"Người {n}\nỦy viên", fmt_int(1000 * n)], 20.0) for n in range(1, 4)]
    grid = Grid(
        rows,
        [20.0, 120.0, 60.0],
        fonts=[family.regular, family.bold, family.regular],
        aligns=["CENTER", "LEFT", "RIGHT"],
        size=8.5,
        leading=9.0,
    )
    assert grid.wrap(500, 500) == (200.0, 60.0)
    assert grid.split(500, 500) == []  # everything fits
    assert grid.split(500, 10) == []  # not even one row fits
    head, tail = grid.split(500, 45)
    assert [row.cells[0] for row in head.rows] == ["1", "2"]
    assert [row.cells[0] for row in tail.rows] == ["3"]
    text = all_text(build_pdf([grid], title="Lưới"))
    for n in range(1, 4):
        assert f"Người {n}" in text
        assert fmt_int(1000 * n) in text
    assert text.count("Ủy viên") == 3


def test_kept_widths_and_unicode_maps_give_the_bytes_reportlab_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A minutes made from kept font objects = the same minutes with them formatted afresh."""
    monkeypatch.setattr(rl_config, "invariant", 1)  # no date or random id in the file
    results = make_results()
    fonts._widths.clear()
    fonts._cmaps.clear()
    fresh = minutes(results)
    assert fonts._widths  # formatted now, and kept
    assert fonts._cmaps
    assert minutes(results) == fresh
