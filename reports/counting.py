"""Biên bản kiểm phiếu: the counting minutes the counting committee signs."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer

from . import labels
from .blocks import (
    ROMAN,
    TEXT_WIDTH,
    admin_heading,
    ballot_accounting,
    exempt_table,
    findings_paragraphs,
    items_table,
    section,
    signature_block,
)
from .qr import QRFlowable
from .styles import build_pdf, get_styles, para, wrap_text
from .text import fmt_date_line, nfc

__all__ = ["minutes"]

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_SEAL = re.compile(r"^[0-9a-fA-F]{64}$")


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_TZ).date()


def _profile_line(round_: Mapping[str, Any]) -> str:
    profile = round_.get("profile") or {}
    parts = [f"Năm {round_.get('year', '')}"]
    if profile:
        name = nfc(profile.get("name")).strip()
        ident = f"mã {nfc(profile.get('id'))}, phiên bản {profile.get('version', '')}"
        parts.append(f"Quy định áp dụng: {f'{name} ({ident})' if name else ident}")
    return " — ".join(parts)


class AnchorBlock(Flowable):
    """A digest to keep on paper: its QR code on the left, the label, digest and a note beside.

    Drawn directly on the canvas (one flowable, no table of paragraphs): the digest is
    printed in two lines of four groups of eight, and the QR code carries the same
    characters in upper case (after the event number, for a head), which fits QR's compact
    alphanumeric mode.
    """

    QR_SIDE = 30 * mm
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
    ) -> None:
        super().__init__()
        self.styles = styles
        self.label = label
        self.digest = digest.lower()
        self.qr_text = f"{prefix}{self.digest.upper()}"
        groups = [self.digest[i : i + 8] for i in range(0, 64, 8)]
        self.digest_lines = [" ".join(groups[:4]), " ".join(groups[4:])]
        self.text_x = self.QR_SIDE + self.GAP
        note_style = styles.small_italic
        self.note_lines = wrap_text(
            note, note_style.fontName, note_style.fontSize, width - self.text_x
        ).split("\n")
        self.width = width
        self.height = self.QR_SIDE
        self.spaceBefore = self.spaceAfter = 3

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        """Return the fixed size of the block."""
        return self.width, self.height

    def draw(self) -> None:
        """Draw the QR code and, vertically centred beside it, the label, digest and note."""
        canvas = self.canv
        QRFlowable(self.qr_text, self.QR_SIDE).drawOn(canvas, 0, 0)
        body, seal, note = self.styles.body, self.styles.seal, self.styles.small_italic
        air = 3  # between the digest and the note
        lines = [(body, self.label)]
        lines += [(seal, line) for line in self.digest_lines]
        lines += [(note, line) for line in self.note_lines]
        y = (self.height + sum(style.leading for style, _ in lines) + air) / 2
        canvas.saveState()
        canvas.setFillColor(body.textColor)
        for index, (style, line) in enumerate(lines):
            if index == 1 + len(self.digest_lines):
                y -= air
            y -= style.leading
            canvas.setFont(style.fontName, style.fontSize)
            canvas.drawString(self.text_x, y + (style.leading - style.fontSize) / 2, line)
        canvas.restoreState()


def seal_block(styles: Any, seal: str, width: float = TEXT_WIDTH) -> AnchorBlock:
    """The seal over the whole round, as printed on the minutes and the summary."""
    return AnchorBlock(
        styles,
        "Mã niêm phong của đợt lấy phiếu (SHA-256):",
        seal,
        "Niêm phong toàn bộ đợt: đơn vị, thông tin đợt, danh sách, người không lấy phiếu, "
        "số liệu, biên nhận và các phiếu. Mã QR bên cạnh chứa chuỗi ký tự trên (viết hoa).",
        width=width,
    )


def head_block(styles: Any, head: Mapping[str, Any], width: float = TEXT_WIDTH) -> AnchorBlock:
    """The head of the audit log when the document was made: event number and hash."""
    return AnchorBlock(
        styles,
        f"Đầu nhật ký kiểm tra khi lập văn bản: sự kiện số {head['id']}",
        str(head["hash"]),
        "Nhật ký sau này phải còn chứa đúng mã này ở sự kiện trên. Mã QR chứa số sự kiện, "
        "dấu hai chấm và chuỗi ký tự trên.",
        prefix=f"{head['id']}:",
        width=width,
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
    blocks: list[Flowable] = []
    if isinstance(seal, str) and _SEAL.match(seal):
        blocks.append(seal_block(styles, seal))
    if isinstance(head.get("hash"), str) and _SEAL.match(head["hash"]):
        blocks.append(head_block(styles, head))
    if not blocks:
        return []
    round_id = (results.get("round") or {}).get("id", "")
    habit = para(HABIT.format(id=round_id), styles.small_italic)
    return [KeepTogether([para(title, styles.section), *blocks, habit])]


def minutes(results: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> bytes:
    """Render the counting minutes (biên bản kiểm phiếu) of a round as PDF bytes.

    ``meta`` may carry ``place``, ``date`` (date or ISO string; default today in
    Asia/Ho_Chi_Minh), ``committee`` (list of {"name", "role"}) and ``issuer`` (the
    line under the body name, default "Ban kiểm phiếu").
    """
    meta = meta or {}
    styles = get_styles()
    round_ = results.get("round") or {}
    items = sorted(results.get("items") or [], key=lambda i: i.get("order") or 0)
    denominator = results.get("denominator") or {}
    date = meta.get("date") or _today()

    story: list[Flowable] = admin_heading(
        styles,
        body_name=round_.get("body_name") or round_.get("body") or "",
        body_kind=round_.get("body_kind"),
        issuer=meta.get("issuer", "Ban kiểm phiếu"),
        place=meta.get("place"),
        date=date,
    )
    story += [
        para("BIÊN BẢN KIỂM PHIẾU", styles.title),
        para(round_.get("title"), styles.subtitle),
        para(_profile_line(round_), styles.centered_italic),
        Spacer(1, 6),
    ]
    if round_.get("status") in ("draft", "open"):
        story.append(
            para(
                "Kết quả tạm thời: đợt lấy phiếu chưa kết thúc, biên bản này chưa có giá trị.",
                styles.warning,
            )
        )
    story.append(
        para(
            f"Hôm nay, {fmt_date_line(None, date).split(', ', 1)[1]}, Ban kiểm phiếu đã tiến "
            "hành kiểm phiếu và lập biên bản với kết quả như sau:",
            styles.body_justify,
        )
    )

    sections = iter(ROMAN)
    story += section(styles, f"{next(sections)}. SỐ LIỆU CHUNG")
    story += ballot_accounting(styles, results)

    story += section(styles, f"{next(sections)}. KẾT QUẢ KIỂM PHIẾU")
    if items:
        story.append(items_table(styles, round_, items))
        story.append(Spacer(1, 2))
        story.append(para(labels.denominator_sentence(denominator), styles.small_italic))
    else:
        story.append(para("Không có người nào trong danh sách lấy phiếu.", styles.body))

    story += section(styles, f"{next(sections)}. CÁC TRƯỜNG HỢP PHẢI XEM XÉT THEO QUY ĐỊNH")
    story += findings_paragraphs(styles, round_, items, basis=denominator.get("basis"))

    story += section(styles, f"{next(sections)}. NHỮNG TRƯỜNG HỢP KHÔNG LẤY PHIẾU TÍN NHIỆM")
    story += exempt_table(styles, results.get("exempt") or [])

    story += anchors(styles, results, f"{next(sections)}. NIÊM PHONG VÀ ĐẦU NHẬT KÝ")

    story += [
        Spacer(1, 8),
        para(
            "Biên bản này được các thành viên Ban kiểm phiếu thống nhất thông qua và ký tên "
            "dưới đây.",
            styles.body_justify,
        ),
        Spacer(1, 8),
        signature_block(styles, meta.get("committee")),
    ]
    title = nfc(round_.get("title"))
    return build_pdf(
        story,
        title=f"Biên bản kiểm phiếu — {title}",
        subject=nfc(round_.get("body_name")),
        footer=f"Biên bản kiểm phiếu — {title}",
    )
