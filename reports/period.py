"""Báo cáo kết quả lấy phiếu tín nhiệm theo kỳ: a body and its subtree over a period."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from .blocks import TEXT_WIDTH, section
from .fonts import FontFamily
from .styles import COLOURS, Styles, build_pdf, get_styles, grid_style, para
from .text import esc, fmt_int, fmt_percent, nfc, upper
from .workbooks import BAND_NAMES, LEVEL_LABELS, LEVEL_NAMES, RULE_NAMES, STATUS_NAMES

__all__ = ["period_pdf"]


def _date(value: str) -> str:
    return dt.date.fromisoformat(value).strftime("%d/%m/%Y")


def _table(styles: Styles, rows: list[list[Any]], widths: Sequence[float]) -> Table:
    data = [
        [Paragraph(esc(cell), styles.cell_bold if r == 0 else styles.cell) for cell in row]
        for r, row in enumerate(rows)
    ]
    style = grid_style(1, font=styles.fonts.regular, bold=styles.fonts.bold)
    style.add("VALIGN", (0, 0), (-1, -1), "TOP")
    return Table(data, colWidths=list(widths), repeatRows=1, style=style)


def _short(name: str, limit: int = 26) -> str:
    """Return a body's name short enough to sit under its bars (a note in brackets dropped)."""
    text = nfc(name)
    if "(" in text:
        text = text[: text.index("(")].strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def level_chart(
    fonts: FontFamily, level: str, bodies: Sequence[tuple[str, int, int]], width: float
) -> Drawing:
    """Draw, for each body of one level, the persons polled and those with a finding."""
    height = 52 * mm
    drawing = Drawing(width, height, initialFontName=fonts.regular)
    chart = VerticalBarChart()
    chart.x, chart.y = 32, 42
    # A bar pair about 3 cm wide per body, up to the width of the page.
    chart.width = min(width - 50, max(1, len(bodies)) * 34 * mm)
    chart.height = height - 66
    chart.data = [[b[1] for b in bodies] or [0], [b[2] for b in bodies] or [0]]
    chart.categoryAxis.categoryNames = [_short(b[0]) for b in bodies] or [""]
    chart.categoryAxis.labels.fontName = fonts.regular
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.valueAxis.valueMin = 0
    top = max([b[1] for b in bodies] or [1])
    chart.valueAxis.valueMax = max(top + 1, 2)
    chart.valueAxis.valueStep = max(1, (top + 4) // 5)
    chart.valueAxis.labels.fontName = fonts.regular
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labelTextFormat = "%d"
    chart.bars[0].fillColor = COLOURS.high
    chart.bars[1].fillColor = COLOURS.low
    chart.barLabels.fontName = fonts.regular
    chart.barLabels.fontSize = 7
    chart.barLabelFormat = "%d"
    chart.barLabels.nudge = 6
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = chart.x, 12
    legend.fontName = fonts.regular
    legend.fontSize = 8
    legend.alignment = "right"
    legend.columnMaximum = 1
    legend.deltax = 150
    legend.colorNamePairs = [
        (COLOURS.high, "Số người được lấy phiếu"),
        (COLOURS.low, "Số người có kết luận theo ngưỡng"),
    ]
    drawing.add(legend)
    drawing.add(
        String(
            chart.x,
            height - 12,
            f"Cấp {LEVEL_NAMES.get(level, level).lower()}",
            fontName=fonts.bold,
            fontSize=9,
            fillColor=COLOURS.ink,
        )
    )
    return drawing


def _per_body(report: Mapping[str, Any]) -> dict[str, list[tuple[str, int, int]]]:
    polled: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    flagged: dict[str, set[str]] = defaultdict(set)
    for row in report["rows"]:
        if row["scale"] == "poll" and row["kind"] == "person":
            key = (row["level"], row["body"], row["body_name"])
            polled[key].add(row["identity"] or row["name"])
    for finding in report["findings"]:
        if finding["rule"] == "band":
            flagged[finding["body"]].add(finding["identity"])
    levels: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for (level, code, name), persons in sorted(polled.items()):
        levels[level].append((name, len(persons), len(flagged[code])))
    return levels


def period_pdf(report: Mapping[str, Any], *, place: str | None = None) -> bytes:
    """Render the periodic report of a body and its subtree as PDF."""
    styles = get_styles()
    body = report["body"]
    period = report["period"]
    story: list[Flowable] = [
        para(upper(body["name"]), styles.heading_left_bold),
        para("BÁO CÁO KẾT QUẢ LẤY PHIẾU TÍN NHIỆM", styles.title),
        para(
            f"từ ngày {_date(period['from'])} đến ngày {_date(period['to'])}",
            styles.subtitle,
        ),
        para(
            f"{body['name']} và các đơn vị trực thuộc ({fmt_int(report['bodies'])} đơn vị)",
            styles.centered_italic,
        ),
        Spacer(1, 6),
    ]
    held = report["rounds"]
    votes = report["confidence_votes"]
    summary = [
        ["Chỉ tiêu", "Số lượng"],
        ["Số đợt lấy phiếu đã kiểm phiếu", fmt_int(len(held))],
        ["Trong đó: không có giá trị (không đủ số người có mặt)", fmt_int(len(report["void"]))],
        ["Số đợt chưa kết thúc", fmt_int(len(report["not_closed"]))],
        ["Số người được lấy phiếu", fmt_int(report["persons_polled"])],
        ["Số người không lấy phiếu (có lý do)", fmt_int(len(report["persons_exempted"]))],
    ]
    summary += [
        [f"Số người tín nhiệm thấp: {BAND_NAMES.get(band, band).lower()}", fmt_int(count)]
        for band, count in report["bands"].items()
    ]
    summary += [
        ["Số trường hợp hai năm liên tiếp", fmt_int(len(report["two_years"]))],
        ["Số người được bỏ phiếu tín nhiệm", fmt_int(len(votes))],
        [
            "Trong đó: không tín nhiệm quá nửa",
            fmt_int(sum(1 for v in votes if v["no_confidence"])),
        ],
    ]
    story += section(styles, "I. TỔNG HỢP")
    story.append(_table(styles, summary, [TEXT_WIDTH * 0.8, TEXT_WIDTH * 0.2]))
    story += section(styles, "II. CÁC ĐỢT THEO QUY ĐỊNH ÁP DỤNG")
    profile_rows = [["Quy định", "Số đợt", "Đủ số người có mặt", "Không có giá trị"]]
    for key, counts in report["by_profile"].items():
        profile_rows.append(
            [
                key,
                fmt_int(counts.get("rounds", 0)),
                fmt_int(counts.get("quorum_met", 0)),
                fmt_int(counts.get("void", 0)),
            ]
        )
    story.append(_table(styles, profile_rows, [TEXT_WIDTH * 0.4] + [TEXT_WIDTH * 0.2] * 3))
    round_rows = [["Đợt", "Đơn vị", "Năm", "Tình trạng", "Phiếu thu về", "Mẫu số"]]
    for r in [*held, *report["not_closed"]]:
        status = STATUS_NAMES.get(r["status"], r["status"])
        if r.get("void"):
            status += " — không có giá trị"
        if r.get("reported"):
            status += " (cấp dưới báo cáo)"
        round_rows.append(
            [
                str(r["id"]),
                r["body_name"],
                str(r["year"]),
                status,
                fmt_int((r.get("ballots") or {}).get("collected")),
                fmt_int((r.get("denominator") or {}).get("value")),
            ]
        )
    story.append(Spacer(1, 6))
    story.append(
        _table(
            styles,
            round_rows,
            [12 * mm, TEXT_WIDTH - 130 * mm, 14 * mm, 44 * mm, 20 * mm, 20 * mm],
        )
    )
    story += section(styles, "III. BIỂU ĐỒ THEO CẤP")
    for level, bodies in sorted(
        _per_body(report).items(), key=lambda kv: list(LEVEL_NAMES).index(kv[0])
    ):
        story.append(level_chart(styles.fonts, level, bodies, TEXT_WIDTH))
    story += section(styles, "IV. CÁC TRƯỜNG HỢP PHẢI XEM XÉT")
    if report["findings"]:
        rows = [["Họ và tên", "Đơn vị", "Trường hợp", "Năm", "Tỷ lệ tín nhiệm thấp"]]
        for f in report["findings"]:
            shares = "; ".join(
                f"{fmt_int(e.get('low'))}/{fmt_int(e.get('denominator'))} = "
                f"{fmt_percent(e.get('percent'), suffix=' %')}"
                for e in f["evidence"]
            )
            rows.append(
                [
                    f"{f['name']} ({f['position']})",
                    f["body"],
                    f"{RULE_NAMES.get(f['rule'], f['rule'])}: "
                    f"{BAND_NAMES.get(f['band'], f['band']).lower()}",
                    ", ".join(str(y) for y in f["years"]),
                    shares,
                ]
            )
        story.append(
            _table(
                styles,
                rows,
                [TEXT_WIDTH * share for share in (0.28, 0.14, 0.3, 0.1, 0.18)],
            )
        )
    else:
        story.append(para("Không có trường hợp nào phải xem xét theo quy định.", styles.body))
    if votes:
        story += section(styles, "V. BỎ PHIẾU TÍN NHIỆM")
        rows = [["Họ và tên", "Đơn vị", LEVEL_LABELS["no_trust"], "Kết quả"]]
        for v in votes:
            outcome = (
                "Không có giá trị"
                if v["void"]
                else ("Không tín nhiệm quá nửa" if v["no_confidence"] else "Được tín nhiệm")
            )
            rows.append(
                [
                    f"{v['name']} ({v['position']})",
                    v["body"],
                    f"{fmt_int(v['no_trust'])}/{fmt_int(v['denominator'])}",
                    outcome,
                ]
            )
        story.append(_table(styles, rows, [TEXT_WIDTH * 0.4, TEXT_WIDTH * 0.2] * 2))
    if report["persons_exempted"]:
        story += section(styles, "VI. NGƯỜI KHÔNG LẤY PHIẾU")
        rows = [["Họ và tên", "Lý do"]]
        for e in report["persons_exempted"]:
            reasons = "; ".join(f"{r['body']}: {r['reason']}" for r in e["reasons"])
            rows.append([e["name"], reasons])
        story.append(_table(styles, rows, [TEXT_WIDTH * 0.35, TEXT_WIDTH * 0.65]))
    story.append(Spacer(1, 8))
    story.append(
        para(
            "Mọi số liệu trong báo cáo được kiểm lại từ phiếu đã kiểm của từng đợt.",
            styles.small_italic,
        )
    )
    name = nfc(body["name"])
    return build_pdf(
        story,
        title=f"Báo cáo kết quả lấy phiếu tín nhiệm — {name}",
        subject=name,
        footer=f"Báo cáo kết quả lấy phiếu tín nhiệm {_date(period['from'])}–"
        f"{_date(period['to'])} — {name}",
    )
