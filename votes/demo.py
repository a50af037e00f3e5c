"""Demo data: the standing committee of a (fictional) provincial Party committee, two years."""

from __future__ import annotations

import csv
import io
import random

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import rounds, voting
from .models import Body, Round

BODY_CODE = "SL-TU"
BODY_NAME = "Ban Chấp hành Đảng bộ tỉnh Sơn Lâm (dữ liệu minh họa)"
COLLECTIVE = "Tập thể Ban Thường vụ Tỉnh ủy"

# (person_key, name, position 2024, position 2025). Every name here is invented.
STANDING_COMMITTEE = [
    ("sl-001", "Nguyễn Văn Thắng", "Bí thư Tỉnh ủy", "Bí thư Tỉnh ủy"),
    ("sl-002", "Trần Thị Thu Hằng", "Phó Bí thư Thường trực Tỉnh ủy",
     "Phó Bí thư Thường trực Tỉnh ủy"),
    ("sl-003", "Lê Quốc Huy", "Phó Bí thư Tỉnh ủy, Chủ tịch UBND tỉnh",
     "Phó Bí thư Tỉnh ủy, Chủ tịch UBND tỉnh"),
    ("sl-004", "Phạm Đức Lương", "Ủy viên BTV, Trưởng Ban Tổ chức Tỉnh ủy",
     "Ủy viên BTV, Trưởng Ban Tổ chức Tỉnh ủy"),
    ("sl-005", "Hoàng Thị Ngọc Ánh", "Ủy viên BTV, Chủ nhiệm Ủy ban Kiểm tra Tỉnh ủy",
     "Ủy viên BTV, Chủ nhiệm Ủy ban Kiểm tra Tỉnh ủy"),
    ("sl-006", "Vũ Minh Tuấn", "Ủy viên BTV, Trưởng Ban Tuyên giáo Tỉnh ủy",
     "Ủy viên BTV, Trưởng Ban Tuyên giáo và Dân vận Tỉnh ủy"),
    ("sl-007", "Đặng Văn Khởi", "Ủy viên BTV, Trưởng Ban Nội chính Tỉnh ủy",
     "Ủy viên BTV, Phó Chủ tịch HĐND tỉnh"),
    ("sl-008", "Bùi Thị Hương Giang", "Ủy viên BTV, Phó Chủ tịch Thường trực UBND tỉnh",
     "Ủy viên BTV, Phó Chủ tịch Thường trực UBND tỉnh"),
    ("sl-009", "Đỗ Mạnh Cường", "Ủy viên BTV, Giám đốc Công an tỉnh",
     "Ủy viên BTV, Giám đốc Công an tỉnh"),
    ("sl-010", "Ngô Quang Định", "Ủy viên BTV, Chỉ huy trưởng Bộ Chỉ huy Quân sự tỉnh",
     "Ủy viên BTV, Chỉ huy trưởng Bộ Chỉ huy Quân sự tỉnh"),
    ("sl-011", "Dương Thị Lụa", "Ủy viên BTV, Chủ tịch Ủy ban MTTQ Việt Nam tỉnh",
     "Ủy viên BTV, Chủ tịch Ủy ban MTTQ Việt Nam tỉnh"),
    ("sl-012", "Lý Văn Sử", "Ủy viên BTV, Bí thư Thành ủy Sơn Lâm",
     "Ủy viên BTV, Bí thư Thành ủy Sơn Lâm"),
    ("sl-013", "Đinh Thế Ước", "Ủy viên BTV, Trưởng Ban Nội chính Tỉnh ủy",
     "Ủy viên BTV, Trưởng Ban Nội chính Tỉnh ủy"),
]
EXEMPT = {
    2024: {"sl-013": "Được bầu, bổ nhiệm trong năm lấy phiếu"},
    2025: {"sl-010": "Đã có thông báo nghỉ hưu"},
}
# (high, confidence, low) per person on the valid ballots; what is left is an invalid mark.
COUNTS = {
    2024: {
        "sl-001": (38, 9, 2), "sl-002": (35, 12, 2), "sl-003": (30, 16, 3),
        "sl-004": (28, 17, 3), "sl-005": (33, 14, 2), "sl-006": (26, 19, 4),
        "sl-007": (20, 21, 8), "sl-008": (29, 17, 3), "sl-009": (31, 15, 3),
        "sl-010": (27, 18, 4), "sl-011": (30, 16, 3), "sl-012": (6, 15, 28),
        COLLECTIVE: (25, 20, 4),
    },
    2025: {
        "sl-001": (40, 9, 2), "sl-002": (37, 12, 2), "sl-003": (33, 15, 3),
        "sl-004": (30, 18, 3), "sl-005": (34, 14, 3), "sl-006": (27, 20, 4),
        "sl-007": (8, 16, 27), "sl-008": (31, 17, 3), "sl-009": (33, 15, 3),
        "sl-011": (31, 17, 3), "sl-012": (5, 15, 31), "sl-013": (22, 25, 4),
        COLLECTIVE: (27, 20, 4),
    },
}
ROUNDS = {
    2024: {"members": 53, "summoned": 53, "present": 50, "ballots": 49, "spoiled": 1},
    2025: {"members": 55, "summoned": 54, "present": 52, "ballots": 51, "spoiled": 0},
}


def roster(year: int) -> list[rounds.RosterEntry]:
    """Return the roster of a demo year: the standing committee, then the collective."""
    position_index = 2 if year == 2024 else 3
    entries = [
        rounds.RosterEntry(line=n, name=member[1], position=member[position_index],
                           person_key=member[0], exempt_reason=EXEMPT[year].get(member[0], ""))
        for n, member in enumerate(STANDING_COMMITTEE, start=2)
    ]
    entries.append(rounds.RosterEntry(line=99, name=COLLECTIVE, position="", kind="collective"))
    return entries


def ballots(year: int, keys: list[str]) -> list[str]:
    """Build packed ballots whose per-item counts are exactly the demo's counts."""
    rng = random.Random(year)  # noqa: S311 - demo data, reproducible on purpose
    size = ROUNDS[year]["ballots"]
    columns = []
    for key in keys:
        high, confidence, low = COUNTS[year][key]
        column = ["H"] * high + ["C"] * confidence + ["L"] * low
        column += ["-"] * (size - len(column))
        rng.shuffle(column)
        columns.append(column)
    return ["".join(marks) for marks in zip(*columns, strict=True)]


def seed_demo(session: Session, secret: str | bytes) -> list[int]:
    """Create the demo body and its rounds unless they exist; return the round ids."""
    body = session.scalar(select(Body).where(Body.code == BODY_CODE))
    if body is not None:
        return [r.id for r in session.scalars(
            select(Round).where(Round.body_id == body.id).order_by(Round.year, Round.id)
        )]
    body = rounds.add_body(session, BODY_CODE, BODY_NAME, "party")
    ids = []
    for year, figures in ROUNDS.items():
        round_ = rounds.create_round(
            session, body, year=year, profile_id="tn-16kh-2012",
            title=f"Lấy phiếu tín nhiệm Ủy viên Ban Thường vụ Tỉnh ủy năm {year}",
            roster=roster(year), members=figures["members"], summoned=figures["summoned"],
            present=figures["present"], place="Sơn Lâm",
        )
        keys = [item.person.person_key if item.person else COLLECTIVE for item in round_.items]
        packed = ballots(year, keys)
        rounds.open_round(session, round_)
        if year == 2024:
            # Paper ballots, typed in by the counting committee.
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["status", *range(1, len(keys) + 1)])
            for marks in packed:
                writer.writerow(["valid", *[("" if m == "-" else m) for m in marks]])
            writer.writerow(["invalid", *[""] * len(keys)])
            voting.import_paper_ballots(
                session, round_, out.getvalue().encode("utf-8"), issued=figures["present"]
            )
        else:
            # Online: one code for each person present; one code is never used.
            codes = rounds.issue_round_codes(session, round_, figures["present"], secret)
            session.commit()
            for code, marks in zip(codes, packed, strict=False):
                voting.cast_ballot(session, secret, code, list(marks), round_id=round_.id)
            round_ = rounds.get_round(session, round_.id)
        rounds.close_round(session, round_)
        session.commit()
        ids.append(round_.id)
    return ids
