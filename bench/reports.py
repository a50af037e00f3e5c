"""Benchmark the PDF documents against bare ReportLab and bare segno; print ratios.

    python bench/reports.py              # minutes of 20, 30, 50, 200 items; 50 pages of slips
    python bench/reports.py --pages 500  # the full slips figure (5 000 QR codes)

(a) the counting minutes of a round of 20, 30, 50 and 200 persons (`--items`) against a bare
    ReportLab Table of the same cells (plain strings) in the same font: target <= 2x at
    every size (the fixed cost of a document weighs most on the small ones).
(b) N pages of slips (10 a page) against drawing the same QR codes, encoded by segno,
    on a canvas at the same places and nothing else: target <= 1.5x.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import SimpleDocTemplate, Table, TableStyle

from bench._measure import load_average
from reports import minutes, register_fonts, slips
from reports.slip_sheets import GRIDS, PADDING, PAGE_MARGIN, QR_SIDE, ballot_url
from reports.text import fmt_int, fmt_percent

NAMES = ["Nguyễn Thị Ánh Tuyết", "Đặng Quốc Khánh", "Lương Thị Thủy", "Hồ Đức Phớc"]
BASE_URL = "http://127.0.0.1:5000"


def results_of(items: int, voters: int = 500) -> dict[str, Any]:
    """Build a closed round of ``items`` persons and ``voters`` ballots (core's shape)."""
    rows = []
    for order in range(1, items + 1):
        low = (order * 7) % 260
        counts = {"high": voters - low - 120, "confidence": 120, "low": low, "invalid": 0}
        percent = {
            k: str((Decimal(v * 100) / voters).quantize(Decimal("0.01"), "ROUND_HALF_UP"))
            for k, v in counts.items()
            if k != "invalid"
        }
        rows.append(
            {
                "order": order,
                "person_key": f"p{order}",
                "name": f"{NAMES[order % 4]} {order}",
                "position": "Phó Chủ tịch Ủy ban nhân dân tỉnh",
                "kind": "person",
                "counts": counts,
                "percent": percent,
                "findings": [],
            }
        )
    return {
        "round": {
            "id": 1,
            "body": "HDND-TN",
            "body_name": "Hội đồng nhân dân tỉnh Thái Nguyên",
            "body_kind": "council",
            "year": 2025,
            "status": "closed",
            "scale": "poll",
            "title": "Lấy phiếu tín nhiệm năm 2025",
            "profile": {"id": "nq96-2023", "version": 1, "name": "Nghị quyết 96/2023/QH15"},
        },
        "members": voters,
        "summoned": voters,
        "present": voters,
        "quorum_met": True,
        "ballots": {"issued": voters, "collected": voters, "valid": voters, "invalid": 0},
        "denominator": {"basis": "collected", "value": voters},
        "items": rows,
        "exempt": [],
        "seal": "ab" * 32,
    }


def bare_table(results: dict[str, Any]) -> bytes:
    """The same cells as the minutes' table, as plain strings, in the same font."""
    fonts = register_fonts()
    data = [["STT", "Họ và tên", "Chức vụ", "Cao", "%", "Tín nhiệm", "%", "Thấp", "%", "KHL"]]
    for item in results["items"]:
        counts, percent = item["counts"], item["percent"]
        data.append(
            [
                str(item["order"]),
                item["name"],
                item["position"],
                fmt_int(counts["high"]),
                fmt_percent(percent["high"]),
                fmt_int(counts["confidence"]),
                fmt_percent(percent["confidence"]),
                fmt_int(counts["low"]),
                fmt_percent(percent["low"]),
                fmt_int(counts["invalid"]),
            ]
        )
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm)
    style = TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), fonts.regular),
            ("FONTSIZE", (0, 0), (-1, -1), 7.5),
            ("GRID", (0, 0), (-1, -1), 0.5, "grey"),
        ]
    )
    doc.build([Table(data, repeatRows=1, style=style)])
    return buffer.getvalue()


def segno_only(codes: list[str], per_page: int = 10) -> bytes:
    """Encode each code's link with segno and draw its modules where the slip puts it."""
    columns, rows = GRIDS[per_page]
    page_width, page_height = A4
    width = (page_width - 2 * PAGE_MARGIN) / columns
    height = (page_height - 2 * PAGE_MARGIN) / rows
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    for start in range(0, len(codes), per_page):
        for index, code in enumerate(codes[start : start + per_page]):
            column, row = index % columns, index // columns
            x = PAGE_MARGIN + column * width + width - PADDING - QR_SIDE
            top = page_height - PAGE_MARGIN - row * height - PADDING
            matrix = segno.make(ballot_url(BASE_URL, code), error="m", micro=False).matrix
            module = QR_SIDE / len(matrix)
            path = canvas.beginPath()
            for r, line in enumerate(matrix):
                run = -1
                for c, dark in enumerate([*line, 0]):
                    if dark and run < 0:
                        run = c
                    elif not dark and run >= 0:
                        path.rect(
                            x + run * module, top - (r + 1) * module, (c - run) * module, module
                        )
                        run = -1
            canvas.drawPath(path, stroke=0, fill=1)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def compare(
    measured: Callable[[], bytes], baseline: Callable[[], bytes], repeat: int
) -> tuple[float, float]:
    """Return the median CPU times (s) of both functions, run alternately ``repeat`` times.

    CPU time of this process, not wall time, and alternating runs: on a shared machine
    both sides then see the same load, and the ratio stays meaningful.
    """
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for function, bucket in ((measured, times[0]), (baseline, times[1])):
            start = time.process_time()
            function()
            bucket.append(time.process_time() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    """Run both comparisons and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, nargs="+", default=[20, 30, 50, 200])
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    register_fonts()
    print(f"CPU time of this process, medians of {args.repeat} alternating runs")
    print("| document | persons | ours (ms) | bare (ms) | ratio | target | load |")
    print("|---|---|---|---|---|---|---|")
    for items in args.items:
        results = results_of(items)
        minutes(results)  # warm up: font subsetting tables, imports
        bare_table(results)
        t_minutes, t_table = compare(
            lambda: minutes(results),  # noqa: B023
            lambda: bare_table(results),  # noqa: B023
            args.repeat,
        )
        ratio = t_minutes / t_table
        print(
            f"| minutes vs bare Table | {items} | {t_minutes * 1000:.1f} | "
            f"{t_table * 1000:.1f} | {ratio:.2f}× | ≤ 2× {'ok' if ratio <= 2 else 'MISSED'} | "
            f"{load_average()} |",
            flush=True,
        )
    round_ = results_of(1)["round"]

    codes = [f"K7Q2-M9XD-{n:05d}" for n in range(args.pages * 10)]
    slip_repeat = max(1, min(args.repeat, 3 if args.pages <= 50 else 1))
    t_slips, t_segno = compare(
        lambda: slips(round_, codes, BASE_URL), lambda: segno_only(codes), slip_repeat
    )
    ratio = t_slips / t_segno
    print(
        f"| slips vs segno alone | {args.pages} pages ({len(codes)} codes) | "
        f"{t_slips * 1000:.0f} | {t_segno * 1000:.0f} | {ratio:.2f}× | "
        f"≤ 1.5× {'ok' if ratio <= 1.5 else 'MISSED'} | {load_average()} |"
    )


if __name__ == "__main__":
    main()
