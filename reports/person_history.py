"""Quá trình lấy phiếu tín nhiệm của một người: rounds, low share over years, findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from votes.vocabulary import COUNTED

from . import labels
from .blocks import TEXT_WIDTH, section
from .charts import low_share_chart, thresholds_from
from .styles import COLOURS, Styles, build_pdf, get_styles, grid_style, para
from .text import DASH, esc, fmt_int, fmt_percent, nfc, upper

__all__ = ["evidence_table", "history"]

_STATUS = {
    "draft": "dự thảo",
    "open": "đang lấy phiếu",
    "closed": "đã kết thúc",
    "published": "đã công bố",
}
POLL = {"scale": "poll"}
VOTE = {"scale": labels.CONFIDENCE_VOTE}


def _scale_of(round_row: Mapping[str, Any]) -> Mapping[str, str]:
    counts = round_row.get("counts") or {}
    if round_row.get("scale") == labels.CONFIDENCE_VOTE or "no_trust" in counts:
        return VOTE
    return POLL


def _level_cell(counts: Mapping[str, Any], percent: Mapping[str, Any], key: str) -> str:
    if key not in counts and key not in percent:
        return DASH
    return f"{fmt_int(counts.get(key))} ({fmt_percent(percent.get(key))} %)"


def _group_shares(row: Mapping[str, Any]) -> str:
    """Write a widened round's low share per voter group and combined, on one line."""
    parts = []
    for group in row.get("groups") or []:
        label = f"nhóm {group.get('number')}" + (" (quyết định)" if group.get("deciding") else "")
        share = group.get("low_percent")
        parts.append(
            f"{label}: {fmt_percent(share)} %"
            if share is not None
            else f"{label}: không công bố riêng"
        )
    combined = row.get("combined_low_percent")
    if combined is not None:
        parts.append(f"chung: {fmt_percent(combined)} %")
    return "Tỷ lệ thấp theo nhóm — " + "; ".join(parts)


def _rounds_table(styles: Styles, rounds: Sequence[Mapping[str, Any]]) -> Table:
    header: list[Any] = [
        "Năm",
        "Đợt lấy phiếu",
        "Chức vụ",
        *(Paragraph(label, styles.cell_head) for _key, label, _short in labels.POLL_LEVELS[:2]),
        Paragraph(
            f"{labels.POLL_LEVELS[-1][1]} / {labels.low_word(labels.VOTE)}", styles.cell_head
        ),
        Paragraph("Mẫu số (D)", styles.cell_head),
    ]
    data: list[list[Any]] = [header]
    flagged: list[int] = []
    for row_index, row in enumerate(rounds, 1):
        counts = row.get("counts") or {}
        percent = row.get("percent") or {}
        vote = _scale_of(row) is VOTE
        title = esc(row.get("title"))
        status = _STATUS.get(str(row.get("status")), "")
        if vote:
            title += " <i>(bỏ phiếu tín nhiệm)</i>"
        if status and row.get("status") not in COUNTED:
            title += f" <i>({status})</i>"
        if row.get("exempt"):
            reason = labels.exempt_reason(
                {
                    "reason": row.get("exempt"),
                    "reason_id": row.get("exempt_reason_id"),
                    "decision": row.get("exempt_decision"),
                }
            )
            title += f" <i>(không lấy phiếu: {esc(reason)})</i>"
        if row.get("groups"):
            title += "<br/><font size=7>" + esc(_group_shares(row)) + "</font>"
        denominator = row.get("denominator") or {}
        basis = labels.BASIS_SENTENCE.get(str(denominator.get("basis")), "")
        data.append(
            [
                str(row.get("year", "")),
                Paragraph(title, styles.cell),
                Paragraph(esc(row.get("position")), styles.cell),
                DASH if vote else _level_cell(counts, percent, "high"),
                _level_cell(counts, percent, "trust" if vote else "confidence"),
                _level_cell(counts, percent, "no_trust" if vote else "low"),
                Paragraph(
                    f"{fmt_int(denominator.get('value'))} <font size=7>({esc(basis)})</font>",
                    styles.cell_center,
                ),
            ]
        )
        if row.get("findings"):
            flagged.append(row_index)
    style = grid_style(1, font=styles.fonts.regular, bold=styles.fonts.bold)
    style.add("ALIGN", (0, 1), (0, -1), "CENTER")
    style.add("ALIGN", (3, 1), (5, -1), "RIGHT")
    for row_index in flagged:
        style.add("BACKGROUND", (0, row_index), (-1, row_index), COLOURS.flagged_bg)
        style.add("TEXTCOLOR", (5, row_index), (5, row_index), COLOURS.low)
        style.add("FONTNAME", (5, row_index), (5, row_index), styles.fonts.bold)
    fixed = 11 * mm + 3 * 21 * mm + 20 * mm
    rest = TEXT_WIDTH - fixed
    widths = [11 * mm, rest * 0.56, rest * 0.44, 21 * mm, 21 * mm, 21 * mm, 20 * mm]
    return Table(data, colWidths=widths, repeatRows=1, style=style)


def evidence_table(
    styles: Styles, evidence: Sequence[Mapping[str, Any]], round_: Mapping[str, Any] = POLL
) -> Table:
    """Return the evidence of a finding: one row per round with counts, D and the rule."""
    data: list[list[Any]] = [
        [
            "Năm",
            "Đợt",
            Paragraph(f"Số phiếu {labels.low_word(round_)}", styles.cell_head),
            "Mẫu số (D)",
            "Tỷ lệ",
            "Điều kiện",
            "Quy định",
        ]
    ]
    for row in evidence:
        profile = row.get("profile") or {}
        basis = labels.BASIS_SENTENCE.get(str(row.get("basis")), nfc(row.get("basis")))
        data.append(
            [
                str(row.get("year", "")),
                str(row.get("round", "")),
                fmt_int(row.get("low")),
                Paragraph(
                    f"{fmt_int(row.get('denominator'))} <font size=7>({esc(basis)})</font>",
                    styles.cell_center,
                ),
                fmt_percent(row.get("percent"), suffix=" %"),
                Paragraph(esc(labels.rule_condition(row.get("rule"), round_)), styles.cell),
                Paragraph(
                    esc(labels.profile_citation(profile)),
                    styles.cell,
                ),
            ]
        )
    style = grid_style(1, font=styles.fonts.regular, bold=styles.fonts.bold, size=8)
    style.add("ALIGN", (0, 1), (2, -1), "CENTER")
    style.add("ALIGN", (4, 1), (4, -1), "RIGHT")
    widths = [12 * mm, 11 * mm, 22 * mm, 30 * mm, 18 * mm, 36 * mm, 30 * mm]
    return Table(data, colWidths=widths, hAlign="RIGHT", repeatRows=1, style=style)


def findings_story(
    styles: Styles, findings: Sequence[Mapping[str, Any]], *, with_person: bool = False
) -> list[Flowable]:
    """Describe each finding with its consequence and its evidence table."""
    story: list[Flowable] = []
    for number, finding in enumerate(findings, 1):
        who = ""
        if with_person:
            who = f"<b>{esc(finding.get('name'))}</b>"
            if finding.get("position"):
                who += f" ({esc(finding.get('position'))})"
            who += ": "
        sentence = labels.finding_text(finding, POLL)
        if not who:
            sentence = sentence[:1].upper() + sentence[1:]
        text = f"{number}. {who}{esc(sentence)}."
        consequence = labels.consequence_text(finding)
        if consequence:
            text += f" Hệ quả theo quy định: <b>{esc(consequence)}</b>."
        block: list[Flowable] = [Paragraph(text, styles.body_justify)]
        if finding.get("evidence"):
            block += [evidence_table(styles, finding["evidence"]), Spacer(1, 6)]
        story.append(KeepTogether(block))
    if not story:
        story.append(para("Không có trường hợp nào phải xem xét theo quy định.", styles.body))
    return story


def history(history: Mapping[str, Any]) -> bytes:
    """Render a person's rounds by year, the low share chart and the findings as PDF bytes."""
    styles = get_styles()
    body = history.get("body") or {}
    person = history.get("person") or {}
    rounds = sorted(
        history.get("rounds") or [],
        key=lambda r: (r.get("year") or 0, r.get("round_id") or 0),
    )
    story: list[Flowable] = [
        para(upper(body.get("name") or body.get("code")), styles.heading_left_bold),
        para("QUÁ TRÌNH LẤY PHIẾU TÍN NHIỆM", styles.title),
        para(person.get("name"), styles.subtitle),
    ]
    years = sorted({r.get("year") for r in rounds if r.get("year") is not None})
    if years:
        span = str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"
        story.append(
            para(f"{fmt_int(len(rounds))} đợt lấy phiếu, năm {span}", styles.centered_italic)
        )
    story += section(styles, "I. CÁC ĐỢT LẤY PHIẾU")
    if rounds:
        story.append(_rounds_table(styles, rounds))
        story.append(
            para(
                "Tỷ lệ phần trăm của mỗi đợt được tính trên mẫu số (D) ghi ở cột cuối.",
                styles.small_italic,
            )
        )
    else:
        story.append(para("Chưa có đợt lấy phiếu nào.", styles.body))

    points = [
        (r.get("year"), (r.get("percent") or {}).get("low"))
        for r in rounds
        if _scale_of(r) is POLL and r.get("year") is not None
    ]
    if points:
        story += section(styles, "II. TỶ LỆ PHIẾU TÍN NHIỆM THẤP QUA CÁC NĂM", room=80 * mm)
        story.append(
            low_share_chart(
                styles.fonts,
                points,
                width=TEXT_WIDTH,
                height=70 * mm,
                thresholds=thresholds_from(history.get("thresholds")),
            )
        )
    story += section(styles, f"{'III' if points else 'II'}. CÁC TRƯỜNG HỢP THEO QUY ĐỊNH")
    story += findings_story(styles, history.get("findings") or [])
    name = nfc(person.get("name"))
    return build_pdf(
        story,
        title=f"Quá trình lấy phiếu tín nhiệm — {name}",
        subject=nfc(body.get("name")),
        footer=f"Quá trình lấy phiếu tín nhiệm — {name} — {nfc(body.get('name'))}",
    )
