"""A member's key file on paper: a QR code and the same bytes as typed text, to keep safe.

The sheet holds the key file exactly as written on disk (passphrase-protected): without the
passphrase it decrypts nothing. A member who loses the file scans the QR code or types the
text back (`votes trustee restore`).
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from .qr import QRFlowable
from .styles import build_pdf, get_styles, para


def key_sheet(
    *, title: str, lines: Sequence[str], qr_text: str, printable: str, footer: str
) -> bytes:
    """Return a one-page PDF: a title, a few lines of explanation, the QR code, the text."""
    styles = get_styles()
    story = [para(title, styles.title), Spacer(1, 4 * mm)]
    story += [para(line, styles.body) for line in lines]
    story += [Spacer(1, 4 * mm), QRFlowable(qr_text, 110 * mm, error="m"), Spacer(1, 4 * mm)]
    story += [para(line, styles.mono) for line in printable.splitlines()]
    return build_pdf(story, title=title, footer=footer)
