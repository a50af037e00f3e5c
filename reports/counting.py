"""Biên bản kiểm phiếu: the counting minutes the counting committee signs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from . import labels
from .blocks import (
    ROMAN,
    TEXT_WIDTH,
    admin_heading,
    ballot_accounting,
    exempt_table,
    figures_table,
    items_table,
    section,
    signature_block,
)
from .qr import QRFlowable
from .styles import COLOURS, build_pdf, get_styles, para, wrap_text
from .text import esc, fmt_int, nfc

__all__ = ["minutes"]

_SEAL = re.compile(r"^[0-9a-fA-F]{64}$")


def meeting_date(results: Mapping[str, Any], meta: Mapping[str, Any]) -> dt.date | None:
    """Return the date of the meeting: the minutes are dated by it, never by the printing."""
    given = meta.get("date")
    if given is None:
        given = ((results.get("round") or {}).get("meeting") or {}).get("held_on")
        given = given or (results.get("round") or {}).get("held_on")
    if given is None or isinstance(given, dt.date):
        return given
    return dt.date.fromisoformat(str(given)[:10])


def meeting_place(results: Mapping[str, Any], meta: Mapping[str, Any]) -> str | None:
    """Return the place of the meeting (the caller's, else the round's)."""
    round_ = results.get("round") or {}
    place = meta.get("place") or (round_.get("meeting") or {}).get("place") or round_.get("place")
    return nfc(place).strip() or None


def meeting_heading(
    styles: Any, results: Mapping[str, Any], meta: Mapping[str, Any]
) -> list[Flowable]:
    """Head a document of the counting committee: the body, the nation's or the Party's motto,
    and the place and date of the meeting (never the day of printing)."""
    round_ = results.get("round") or {}
    return admin_heading(
        styles,
        body_name=round_.get("body_name") or round_.get("body") or "",
        body_kind=round_.get("body_kind"),
        issuer=meta.get("issuer", "Ban kiểm phiếu"),
        place=meeting_place(results, meta),
        date=meeting_date(results, meta),
    )


def _regulation_line(round_: Mapping[str, Any]) -> str:
    """Name the round's kind and the regulation it follows (never a code or a version)."""
    kind = "Bỏ phiếu tín nhiệm" if labels.is_confidence_vote(round_) else "Lấy phiếu tín nhiệm"
    name = nfc((round_.get("profile") or {}).get("name")).strip()
    line = f"{kind} năm {round_.get('year', '')}"
    return f"{line} theo {name}" if name else line


def opening_paragraph(
    results: Mapping[str, Any], meta: Mapping[str, Any], day: dt.date | None
) -> str:
    """Write "Hôm nay, ngày …, vào lúc …, tại …, hội nghị … do … chủ trì; Ban kiểm phiếu gồm …"."""
    round_ = results.get("round") or {}
    meeting = round_.get("meeting") or {}
    place = meeting_place(results, meta)
    started = labels.local_moment(meeting.get("starts_at"))
    sentence = "Hôm nay, " + (labels.day_text(day) if day else "ngày …… tháng …… năm ……")
    if started is not None:
        sentence += f", vào lúc {labels.clock(started)}"
    if place:
        sentence += f", tại {esc(place)}"
    what = "bỏ phiếu tín nhiệm" if labels.is_confidence_vote(round_) else "lấy phiếu tín nhiệm"
    sentence += f", {esc(round_.get('body_name') or '')} tổ chức hội nghị {what}"
    chair = nfc(meeting.get("chair")).strip()
    if chair:
        sentence += f" do <b>{esc(chair)}</b> chủ trì"
    return sentence + "."


def committee_paragraphs(styles: Any, members: list[dict[str, str]]) -> list[Flowable]:
    """List the counting committee elected at the meeting, the head first."""
    if not members:
        return [
            para(
                "Ban kiểm phiếu do hội nghị bầu gồm: ……………………………………………………",
                styles.body_justify,
            )
        ]
    story: list[Flowable] = [para("Ban kiểm phiếu do hội nghị bầu gồm:", styles.body)]
    for number, member in enumerate(members, 1):
        story.append(
            Paragraph(
                f"{number}. <b>{esc(member['name'])}</b> — {esc(member['role'])}",
                styles.small_indented,
            )
        )
    return story


def counting_sentence(results: Mapping[str, Any]) -> str:
    """Say when the committee counted: "Vào lúc … ngày …, Ban kiểm phiếu đã kiểm phiếu …"."""
    meeting = (results.get("round") or {}).get("meeting") or {}
    counted = labels.local_moment(meeting.get("counted_at"))
    done = "Ban kiểm phiếu đã tiến hành kiểm phiếu và lập biên bản với kết quả như sau:"
    if counted is None:
        return done
    return f"Vào lúc {labels.clock(counted)} {labels.day_text(counted.date())}, {done}"


def void_paragraph(results: Mapping[str, Any]) -> str | None:
    """Say plainly that a round is void for want of quorum, and why (None when it is not)."""
    if not results.get("void"):
        return None
    reason = (results.get("void_reason") or {}).get("vi")
    if reason:
        return nfc(reason)
    return "Đợt lấy phiếu không có giá trị vì không đủ số người có mặt theo quy định."


# The side of the QR code of an anchor on the minutes (a phone reads it at arm's length).
ANCHOR_QR = 22 * mm
QR_SIDE = 30 * mm


class AnchorBlock(Flowable):
    """A digest to keep on paper: its QR code on the left, the label, digest and a note beside.

    Drawn directly on the canvas (one flowable, no table of paragraphs): the digest is
    printed in two lines of four groups of eight, and the QR code carries the same
    characters in upper case (after the event number, for a head), which fits QR's compact
    alphanumeric mode.
    """

    GAP = 4 * mm

    def __init__(
        self,
        styles: Any,
        label: str,
        digest: str,
        note: str,
        *,
        prefix: str = "",
        width: float = TEXT_WIDTH,
        qr_side: float = QR_SIDE,
    ) -> None:
        super().__init__()
        self.QR_SIDE = qr_side
        self.styles = styles
        self.label = label
        self.digest = digest.lower()
        self.qr_text = f"{prefix}{self.digest.upper()}"
        self.text_x = self.QR_SIDE + self.GAP
        room = width - self.text_x
        # Two lines of four groups of eight, as a person copies it; narrower, as many groups a
        # line as the room takes.
        groups = [self.digest[i : i + 8] for i in range(0, 64, 8)]
        seal_style = styles.seal
        halves = [" ".join(groups[:4]), " ".join(groups[4:])]
        if max(stringWidth(h, seal_style.fontName, seal_style.fontSize) for h in halves) <= room:
            self.digest_lines = halves
        else:
            self.digest_lines = wrap_text(
                " ".join(groups), seal_style.fontName, seal_style.fontSize, room
            ).split("\n")
        self.label_lines = wrap_text(label, styles.body.fontName, styles.body.fontSize, room).split(
            "\n"
        )
        note_style = styles.small_italic
        self.note_lines = wrap_text(
            note, note_style.fontName, note_style.fontSize, width - self.text_x
        ).split("\n")
        self.width = width
        text_height = (
            len(self.label_lines) * styles.body.leading
            + len(self.digest_lines) * styles.seal.leading
            + len(self.note_lines) * note_style.leading
            + 3
        )
        self.height = max(self.QR_SIDE, text_height)
        self.spaceBefore = self.spaceAfter = 3

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Return the fixed size of the block."""
        return self.width, self.height

    def draw(self) -> None:
        """Draw the QR code and, vertically centred beside it, the label, digest and note."""
        canvas = self.canv
        QRFlowable(self.qr_text, self.QR_SIDE).drawOn(canvas, 0, (self.height - self.QR_SIDE) / 2)
        body, seal, note = self.styles.body, self.styles.seal, self.styles.small_italic
        air = 3  # between the digest and the note
        lines = [(body, line) for line in self.label_lines]
        lines += [(seal, line) for line in self.digest_lines]
        lines += [(note, line) for line in self.note_lines]
        y = (self.height + sum(style.leading for style, _ in lines) + air) / 2
        canvas.saveState()
        canvas.setFillColor(body.textColor)
        for index, (style, line) in enumerate(lines):
            if index == len(self.label_lines) + len(self.digest_lines):
                y -= air
            y -= style.leading
            canvas.setFont(style.fontName, style.fontSize)
            canvas.drawString(self.text_x, y + (style.leading - style.fontSize) / 2, line)
        canvas.restoreState()


def seal_block(
    styles: Any, seal: str, width: float = TEXT_WIDTH, qr_side: float = QR_SIDE
) -> AnchorBlock:
    """The seal over the whole round, as printed on the minutes and the summary."""
    return AnchorBlock(
        styles,
        "Mã niêm phong của đợt (SHA-256):",
        seal,
        "Niêm phong toàn bộ đợt: đơn vị, thông tin đợt, danh sách, người không lấy phiếu, "
        "số liệu, biên nhận và các phiếu. Mã QR chứa chuỗi ký tự trên (viết hoa).",
        width=width,
        qr_side=qr_side,
    )


def head_block(
    styles: Any, head: Mapping[str, Any], width: float = TEXT_WIDTH, qr_side: float = QR_SIDE
) -> AnchorBlock:
    """The head of the audit log when the document was made: event number and hash."""
    return AnchorBlock(
        styles,
        f"Đầu nhật ký khi lập văn bản: sự kiện số {head['id']}",
        str(head["hash"]),
        "Nhật ký sau này phải còn chứa đúng mã này ở sự kiện trên. Mã QR chứa số sự kiện, "
        "dấu hai chấm và chuỗi ký tự trên.",
        prefix=f"{head['id']}:",
        width=width,
        qr_side=qr_side,
    )


def box_block(
    styles: Any,
    digest: str,
    group: str | None = None,
    width: float = TEXT_WIDTH,
    qr_side: float = QR_SIDE,
) -> AnchorBlock:
    """The digest of the box of sealed online ballots (of one voter group, when named), as
    printed on the minutes."""
    where = (
        f"Hòm phiếu của nhóm cử tri {nfc(group)}: kiểm toán viên đối chiếu với danh sách phiếu "
        "đã niêm phong của nhóm."
        if group
        else "Danh sách công khai các phiếu trực tuyến đã kiểm phải cho lại đúng mã này."
    )
    return AnchorBlock(
        styles,
        "Mã băm hòm phiếu trực tuyến đã niêm phong (SHA-256):",
        digest,
        "Tính từ số phiếu và mã theo dõi của từng phiếu trực tuyến đã mã hóa, xếp theo thứ tự "
        f"(mỗi biên nhận BN lấy từ mã theo dõi của phiếu). {where} "
        "Mã QR chứa chuỗi ký tự trên (viết hoa).",
        width=width,
        qr_side=qr_side,
    )


# Printed when one person holds the counting committee's whole key (a committee of 1 of 1).
SINGLE_MEMBER = (
    "Lưu ý: khóa giải mã của Ban kiểm phiếu do một người giữ toàn bộ (1 trên 1). Chế độ này "
    "kém an toàn hơn: một mình người giữ khóa có thể giải mã bất kỳ phiếu trực tuyến nào, "
    "không chỉ tổng số. Nên lập Ban kiểm phiếu từ ba người, cần hai người mới giải mã được."
)


def sealed_split(styles: Any, results: Mapping[str, Any]) -> list[Flowable]:
    """Say which ballots were online and sealed (only their totals decrypted) and which were
    paper ballots counted in the clear, that the ballots collected are their sum, and warn
    when one person held the whole key. Nothing for a round without sealed online ballots."""
    box = results.get("sealed_box")
    split = results.get("sealed") or {}
    if not box or split.get("online") is None:
        return []
    online, paper = int(split["online"]), int(split.get("paper") or 0)
    rows = [
        [
            "Số phiếu bỏ trực tuyến (đã niêm phong, chỉ giải mã tổng số):",
            f"{fmt_int(online)} phiếu",
        ],
        ["Số phiếu giấy (kiểm trực tiếp):", f"{fmt_int(paper)} phiếu"],
        [
            "Cộng (bằng số phiếu thu về):",
            f"{fmt_int(online)} + {fmt_int(paper)} = {fmt_int(online + paper)} phiếu",
        ],
    ]
    table = figures_table(
        styles,
        rows,
        [110 * mm, TEXT_WIDTH - 110 * mm],
        above_last=(0.5, COLOURS.ink),
    )
    story: list[Flowable] = [
        Spacer(1, 3),
        para("Trong số phiếu thu về:", styles.body),
        table,
        Spacer(1, 2),
        para(
            "Phiếu trực tuyến được mã hóa ngay khi bỏ; Ban kiểm phiếu chỉ giải mã tổng số "
            "của các phiếu này rồi cộng với kết quả kiểm phiếu giấy.",
            styles.small_italic,
        ),
    ]
    if box.get("size") == 1:
        story += [Spacer(1, 3), _framed(styles, SINGLE_MEMBER)]
    return story


def _framed(styles: Any, text: str) -> Flowable:
    """A warning in a red frame, across the text width."""
    cell = Paragraph(esc(text), styles.body_justify)
    return Table(
        [[cell]],
        colWidths=[TEXT_WIDTH],
        style=TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.2, COLOURS.low),
                ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1 * mm),
            ]
        ),
    )


HABIT = (
    "Ban kiểm phiếu giữ bản biên bản đã ký; cấp trên giữ các mã đầu nhật ký nhận được. "
    "Muốn đối chiếu, chạy: votes verify {id} --expect-seal <mã niêm phong> "
    "--expect-head <số sự kiện>:<mã đầu nhật ký> (hoặc python3 verify.py với cùng các tuỳ chọn "
    "trong gói xuất dữ liệu)."
)


def anchors(styles: Any, results: Mapping[str, Any], title: str) -> list[Flowable]:
    """The seal and the head of the log, with how to check them: what a person keeps on paper."""
    seal = results.get("seal")
    head = results.get("head") or {}
    sealed_box = results.get("sealed_box") or {}
    box = sealed_box.get("digest")
    has_seal = isinstance(seal, str) and _SEAL.match(seal) is not None
    has_head = isinstance(head.get("hash"), str) and _SEAL.match(head["hash"]) is not None
    has_box = isinstance(box, str) and _SEAL.match(box) is not None
    if not (has_seal or has_head or has_box):
        return []
    # One above the other, each read in two lines of four groups (as a person copies it),
    # with a QR code small enough that all take little of the page.
    blocks: list[Flowable] = []
    if has_seal and isinstance(seal, str):
        blocks.append(seal_block(styles, seal, qr_side=ANCHOR_QR))
    if has_box and isinstance(box, str):
        blocks.append(box_block(styles, box, sealed_box.get("group"), qr_side=ANCHOR_QR))
    if has_head:
        blocks.append(head_block(styles, head, qr_side=ANCHOR_QR))
    round_id = (results.get("round") or {}).get("id", "")
    habit = para(HABIT.format(id=round_id), styles.small_italic)
    return [KeepTogether([para(title, styles.section), *blocks, habit])]


def minutes(results: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> bytes:
    """Render the counting minutes (biên bản kiểm phiếu) of a round as PDF bytes.

    The meeting comes from ``results["round"]["meeting"]`` (date, start, place, chair,
    counting committee, time of counting); ``meta`` may override ``place``, ``date`` and
    ``committee`` (list of {"name", "role"}), and give ``words`` ({"member": "đại biểu"})
    and ``issuer`` (the line under the body name, default "Ban kiểm phiếu"). The minutes are
    dated by the meeting; without its date the date is left blank to be written by hand.
    A round with sealed online ballots gives ``results["sealed_box"]`` ({"digest", "threshold",
    "size"}): the minutes split the ballots into online and paper, print the box's digest, and
    warn when one person held the whole key.
    """
    meta = meta or {}
    styles = get_styles()
    round_ = results.get("round") or {}
    items = sorted(results.get("items") or [], key=lambda i: i.get("order") or 0)
    denominator = results.get("denominator") or {}
    day = meeting_date(results, meta)
    member = labels.member_word(round_, meta)

    story = meeting_heading(styles, results, meta)
    story += [
        para("BIÊN BẢN KIỂM PHIẾU", styles.title),
        para(round_.get("title"), styles.subtitle),
        para(_regulation_line(round_), styles.centered_italic),
        Spacer(1, 6),
    ]
    if round_.get("status") in ("draft", "open"):
        story.append(
            para(
                "Kết quả tạm thời: đợt lấy phiếu chưa kết thúc, biên bản này chưa có giá trị.",
                styles.warning,
            )
        )
    story.append(Paragraph(opening_paragraph(results, meta, day), styles.body_justify))
    story += committee_paragraphs(styles, labels.committee(results, meta))
    story.append(para(counting_sentence(results), styles.body_justify))

    sections = iter(ROMAN)
    story += section(styles, f"{next(sections)}. SỐ LIỆU CHUNG")
    story += ballot_accounting(styles, results, member)
    story += sealed_split(styles, results)
    void = void_paragraph(results)
    if void:
        story.append(Spacer(1, 3))
        story.append(para(void, styles.warning))

    story += section(styles, f"{next(sections)}. KẾT QUẢ KIỂM PHIẾU")
    if items:
        story.append(items_table(styles, round_, items))
        story.append(Spacer(1, 2))
        story.append(para(labels.denominator_sentence(denominator, member), styles.small_italic))
    else:
        story.append(para("Không có người nào trong danh sách lấy phiếu.", styles.body))

    vote = labels.is_confidence_vote(round_)
    story += section(
        styles,
        f"{next(sections)}. NHỮNG TRƯỜNG HỢP KHÔNG "
        + ("BỎ PHIẾU" if vote else "LẤY PHIẾU")
        + " TÍN NHIỆM",
    )
    story += exempt_table(styles, results.get("exempt") or [])

    story += anchors(styles, results, f"{next(sections)}. NIÊM PHONG VÀ ĐẦU NHẬT KÝ")

    # The closing sentence and the signatures are never parted by a page break.
    story.append(
        KeepTogether(
            [
                Spacer(1, 8),
                para(
                    "Biên bản này được các thành viên Ban kiểm phiếu thống nhất thông qua và ký "
                    "tên dưới đây. Các trường hợp phải xem xét theo quy định được báo cáo riêng "
                    "với cấp có thẩm quyền (báo cáo kết quả).",
                    styles.body_justify,
                ),
                Spacer(1, 8),
                signature_block(styles, labels.committee(results, meta)),
            ]
        )
    )
    title = nfc(round_.get("title"))
    return build_pdf(
        story,
        title=f"Biên bản kiểm phiếu — {title}",
        subject=nfc(round_.get("body_name")),
        footer=f"Biên bản kiểm phiếu — {title}",
    )
