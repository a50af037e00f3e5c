"""Phiếu lấy phiếu tín nhiệm: the paper ballot of a round, as the committee prints it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from . import labels
from .blocks import TEXT_WIDTH, admin_heading
from .styles import COLOURS, build_pdf, get_styles, grid_style, para
from .text import esc, nfc

__all__ = ["ballot_form"]

BOX = 6 * mm

_INVALID_SCOPE = {
    "row": "Dòng không đánh dấu ô nào hoặc đánh dấu từ hai ô trở lên thì ý kiến đối với "
    "người đó không hợp lệ.",
    "ballot": "Dòng không đánh dấu ô nào hoặc đánh dấu từ hai ô trở lên thì cả phiếu không hợp lệ.",
}
#: Printed when the caller gives no scope: the row is invalid, whatever else it spoils.
_INVALID_ROW = "Dòng không đánh dấu ô nào hoặc đánh dấu từ hai ô trở lên là không hợp lệ."
#: What the ballot says about the voter's name, by the profile's rule.
_SIGNATURE = {
    "may_sign": "Người bỏ phiếu có thể ký tên hoặc không ký tên vào phiếu; không viết thêm "
    "nội dung khác vào phiếu.",
    "must_not_sign": "Không ghi tên người bỏ phiếu và không viết thêm nội dung khác vào phiếu.",
    "unstated": "Không viết thêm nội dung khác vào phiếu.",
}


class CheckBox(Flowable):
    """An empty square to mark with an X."""

    def __init__(self, side: float = BOX) -> None:
        super().__init__()
        self.side = side
        self.width = self.height = side

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Return the size of the square."""
        return self.side, self.side

    def draw(self) -> None:
        """Draw the square's outline."""
        self.canv.setStrokeColor(COLOURS.ink)
        self.canv.setLineWidth(0.8)
        self.canv.rect(0, 0, self.side, self.side, stroke=1, fill=0)


def ballot_form(round: Mapping[str, Any]) -> bytes:
    """Render the paper ballot of a round (names, positions, one box per level) as PDF bytes.

    ``round`` is ``results["round"]`` plus ``items`` [{"order", "name", "position",
    "kind"}]; ``invalid_scope`` ("row" | "ballot") gives the rule for invalid marks (a
    generic line is printed without it), ``signature`` ("may_sign" | "must_not_sign" |
    "unstated") what the voter may write, and ``meeting`` ({"held_on", "place"}) the meeting.
    """
    styles = get_styles()
    vote = labels.is_confidence_vote(round)
    levels = labels.levels(round)
    items = sorted(round.get("items") or [], key=lambda i: i.get("order") or 0)

    story: list[Flowable] = admin_heading(
        styles,
        body_name=round.get("body_name") or round.get("body") or "",
        body_kind=round.get("body_kind"),
        issuer=None,
        date_line=False,
    )
    title = "PHIẾU BỎ PHIẾU TÍN NHIỆM" if vote else "PHIẾU LẤY PHIẾU TÍN NHIỆM"
    story += [para(title, styles.title), para(round.get("title"), styles.subtitle)]
    meeting = round.get("meeting") or {}
    if meeting.get("held_on"):
        day = labels.day_text(dt.date.fromisoformat(str(meeting["held_on"])[:10]))
        place = nfc(meeting.get("place")).strip()
        story.append(
            para(f"Hội nghị {day}{f' tại {place}' if place else ''}", styles.centered_italic)
        )
    story += [
        Spacer(1, 6),
        para(
            "Đánh dấu X vào một ô tương ứng cho mỗi người (mỗi dòng chỉ đánh dấu một ô).",
            styles.body,
        ),
        para(_INVALID_SCOPE.get(str(round.get("invalid_scope")), _INVALID_ROW), styles.body),
        para(_SIGNATURE.get(str(round.get("signature")), _SIGNATURE["unstated"]), styles.body),
        Spacer(1, 6),
    ]

    # The level headings as large as the other headings (10 pt): the voter reads them first.
    level_head = ParagraphStyle("ballot_head", parent=styles.cell_head, fontSize=10, leading=12)
    header: list[Any] = ["STT", "Họ và tên", "Chức vụ"]
    header += [Paragraph(esc(label), level_head) for _key, label, _short in levels]
    # Up to about 30 persons fit one side of A4: rows get tighter as the list grows, so that
    # a ballot of 25 is one page, not two with a few rows left over.
    side = BOX if len(items) <= 15 else 5 * mm
    padding = 6 if len(items) <= 15 else (2 if len(items) <= 30 else 3)
    data: list[list[Any]] = [header]
    for number, item in enumerate(items, 1):
        data.append(
            [
                str(item.get("order", number)),
                Paragraph(esc(item.get("name")), styles.ballot_name),
                Paragraph(esc(item.get("position")), styles.ballot_cell),
                *[CheckBox(side) for _ in levels],
            ]
        )
    box_width = 21 * mm if len(levels) == 3 else 27 * mm
    rest = TEXT_WIDTH - 10 * mm - box_width * len(levels)
    widths = [10 * mm, rest * 0.5, rest * 0.5, *([box_width] * len(levels))]
    style = grid_style(1, font=styles.fonts.regular, bold=styles.fonts.bold, size=10)
    style.add("ALIGN", (0, 1), (0, -1), "CENTER")
    style.add("ALIGN", (3, 1), (-1, -1), "CENTER")
    style.add("TOPPADDING", (0, 1), (-1, -1), padding)
    style.add("BOTTOMPADDING", (0, 1), (-1, -1), padding)
    style.add("VALIGN", (0, 0), (-1, -1), "MIDDLE")
    if items:
        story.append(Table(data, colWidths=widths, repeatRows=1, style=style))
    else:
        story.append(para("Không có người nào trong danh sách lấy phiếu.", styles.body))
    return build_pdf(
        story,
        title=nfc(f"{title.capitalize()} — {nfc(round.get('title'))}"),
        subject=nfc(round.get("body_name")),
        footer=nfc(round.get("title")),
    )
