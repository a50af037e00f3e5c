"""PDF documents of the confidence-vote system, drawn with ReportLab.

Every function takes plain JSON-like dicts (as the core produces them) and returns PDF
bytes; nothing here imports Flask or the ``votes`` package.

- ``minutes(results, meta=None)``: biên bản kiểm phiếu (counting minutes)
- ``summary(results)``: kết quả lấy phiếu, with a chart per round
- ``history(history)``: quá trình lấy phiếu of one person
- ``findings_list(body, findings)``: the persons flagged in a body
- ``slips(round, codes, base_url)``: voter-code slips to cut apart
- ``ballot_form(round)``: the paper ballot
- ``outcome_report(results, meta=None)``: báo cáo kết quả, the consequences, one page
- ``period_pdf(report)``: the periodic report of a body and its subtree, a chart per level
- ``*_workbook(...)``: the same as Excel workbooks (.xlsx, openpyxl)
- ``groups_summary(results)``: a widened poll, persons × voter groups, with a chart
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from .ballot import ballot_form
from .counting import minutes
from .findings import findings_list
from .fonts import FontFamily, register_fonts
from .groups import groups_summary
from .key_sheet import key_sheet
from .outcome import outcome_report
from .period import period_pdf
from .person_history import history
from .results import summary
from .slip_sheets import DEFAULT_BASE_URL, slips
from .workbooks import (
    findings_workbook,
    histories_workbook,
    period_workbook,
    results_workbook,
    roster_workbook,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "KINDS",
    "FontFamily",
    "ballot_form",
    "findings_list",
    "findings_workbook",
    "groups_summary",
    "histories_workbook",
    "history",
    "key_sheet",
    "minutes",
    "outcome_report",
    "period_pdf",
    "period_workbook",
    "register_fonts",
    "render",
    "results_workbook",
    "roster_workbook",
    "slips",
    "summary",
    "write",
]

#: Document kinds accepted by ``render`` (the CLI's ``--kind`` values and more).
KINDS: dict[str, Callable[..., bytes]] = {
    "minutes": minutes,
    "summary": summary,
    "history": history,
    "findings": findings_list,
    "slips": slips,
    "ballot": ballot_form,
    "report": outcome_report,
    "groups": groups_summary,
}


def render(kind: str, *args: Any, **kwargs: Any) -> bytes:
    """Render a document by kind name ("minutes", "summary", "ballot", "slips", …)."""
    try:
        function = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown report kind {kind!r}; expected one of {sorted(KINDS)}") from None
    return function(*args, **kwargs)


def write(pdf: bytes, path: str | os.PathLike[str]) -> None:
    """Write PDF bytes to ``path``."""
    with open(path, "wb") as handle:
        handle.write(pdf)
