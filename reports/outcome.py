"""Báo cáo kết quả: the one-page report of a round's consequences to the committee that decides.

The minutes record the count; this report tells the committee that decides (the Party
committee that manages the cadre, the Standing Board of the People's Council, the Standing
Committee of the National Assembly) what the count means under the regulation: each finding
with its consequence, or that there is none, or that the round is void and why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer

from . import labels
from .blocks import TEXT_WIDTH, findings_paragraphs
from .counting import meeting_date, meeting_heading, meeting_place, void_paragraph
from .styles import Columns, build_pdf, get_styles, para
from .text import esc, fmt_int, nfc

__all__ = ["outcome_report"]

#: Who decides, when the caller does not name it (the core passes its own words).
DECIDING = {
    "party": "Cấp ủy có thẩm quyền quản lý cán bộ",
    "council": "Thường trực Hội đồng nhân dân",
    "assembly": "Ủy ban Thường vụ Quốc hội",
}


def _facts(results: Mapping[str, Any], member: str) -> str:
    ballots = results.get("ballots") or {}
    return (
        f"Tổng số {member}: {fmt_int(results.get('members'))}; được triệu tập: "
        f"{fmt_int(results.get('summoned'))}; có mặt: {fmt_int(results.get('present'))}. "
        f"Phiếu phát ra: {fmt_int(ballots.get('issued'))}; thu về: "
        f"{fmt_int(ballots.get('collected'))}; hợp lệ: {fmt_int(ballots.get('valid'))}; "
        f"không hợp lệ: {fmt_int(ballots.get('invalid'))}."
    )


def _proposal_line(round_: Mapping[str, Any]) -> str | None:
    proposal = round_.get("proposal")
    if not proposal:
        return None
    who = nfc((proposal.get("words") or {}).get("vi") or proposal.get("by"))
    line = f"Bỏ phiếu tín nhiệm theo đề nghị: {esc(who)}, văn bản số {esc(proposal.get('number'))}"
    if proposal.get("date"):
        line += " " + labels.day_text(dt.date.fromisoformat(str(proposal["date"])[:10]))
    signed = proposal.get("signatories")
    if signed is not None:
        line += f" ({fmt_int(signed)} {labels.member_word(round_)} ký)"
    return line + "."


def outcome_report(results: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> bytes:
    """Render the report of a round's results and consequences (báo cáo kết quả), one page.

    ``meta`` may give ``to`` (the committee that decides), ``words`` ({"member"}), ``place``
    and ``date`` (default: the meeting's).
    """
    meta = meta or {}
    styles = get_styles()
    round_ = results.get("round") or {}
    items = sorted(results.get("items") or [], key=lambda i: i.get("order") or 0)
    denominator = results.get("denominator") or {}
    member = labels.member_word(round_, meta)
    day = meeting_date(results, meta)
    vote = labels.is_confidence_vote(round_)
    what = "bỏ phiếu tín nhiệm" if vote else "lấy phiếu tín nhiệm"
    to = nfc(meta.get("to")) or DECIDING.get(str(round_.get("body_kind")), DECIDING["party"])

    story = meeting_heading(styles, results, meta)
    story += [
        para("BÁO CÁO", styles.title),
        para(f"Kết quả {what} năm {round_.get('year', '')}", styles.subtitle),
        para(round_.get("title"), styles.centered_italic),
        Spacer(1, 4),
        Paragraph(f"Kính gửi: <b>{esc(to)}</b>", styles.body),
        Spacer(1, 4),
    ]
    held = labels.day_text(day) if day else "ngày …… tháng …… năm ……"
    place = meeting_place(results, meta)
    regulation = nfc((round_.get("profile") or {}).get("name"))
    opening = (
        f"Ngày {held.removeprefix('ngày ')}{f', tại {esc(place)}' if place else ''}, "
        f"{esc(round_.get('body_name') or '')} đã tổ chức {what} đối với "
        f"{fmt_int(len(items))} trường hợp theo {esc(regulation)}."
    )
    story.append(Paragraph(opening, styles.body_justify))
    proposal = _proposal_line(round_)
    if proposal:
        story.append(Paragraph(proposal, styles.body_justify))
    story.append(para(_facts(results, member), styles.body_justify))
    story.append(para(labels.denominator_sentence(denominator, member), styles.body_justify))
    void = void_paragraph(results)
    if void:
        story += [Spacer(1, 4), para(void, styles.warning)]
        story.append(
            para(
                "Vì vậy, kết quả kiểm phiếu không làm phát sinh trường hợp nào phải xem xét "
                "theo quy định.",
                styles.body_justify,
            )
        )
    else:
        quorum = results.get("quorum_met")
        if quorum and (results.get("quorum") or {}).get("rule") not in (None, "none"):
            story.append(para("Số người có mặt bảo đảm tỷ lệ theo quy định.", styles.body_justify))
        story += [
            Spacer(1, 4),
            para(
                "Căn cứ kết quả kiểm phiếu, Ban kiểm phiếu báo cáo các trường hợp phải xem xét "
                "theo quy định:",
                styles.body_justify,
            ),
        ]
        story += findings_paragraphs(styles, round_, items, basis=denominator.get("basis"))
    exempt = results.get("exempt") or []
    if exempt:
        story.append(
            para(
                f"Không {what} đối với {fmt_int(len(exempt))} trường hợp (lý do ghi tại biên "
                "bản kiểm phiếu).",
                styles.body_justify,
            )
        )
    story += [
        para("Kèm theo: Biên bản kiểm phiếu.", styles.small_italic),
        Spacer(1, 8),
    ]
    head = next((m for m in labels.committee(results, meta) if m["role"] == "Trưởng ban"), None)
    left: list[Flowable] = [
        para("Nơi nhận:", styles.small),
        para("- Như trên;", styles.small),
        para("- Lưu Ban kiểm phiếu.", styles.small),
    ]
    right: list[Flowable] = [
        para("TM. BAN KIỂM PHIẾU", styles.sign_role),
        para("TRƯỞNG BAN", styles.sign_role),
        para("(Ký, ghi rõ họ tên)", styles.sign_note),
        Spacer(1, 18 * mm),
        para(nfc((head or {}).get("name")).strip() or "……………………………", styles.sign_name),
    ]
    story.append(Columns([left, right], [TEXT_WIDTH / 2, TEXT_WIDTH / 2], padding=6))
    title = nfc(round_.get("title"))
    return build_pdf(
        story,
        title=f"Báo cáo kết quả — {title}",
        subject=nfc(round_.get("body_name")),
        footer=f"Báo cáo kết quả — {title}",
    )
