"""Demo data: the standing committee of a (fictional) provincial Party committee, two years.

`votes demo` seeds it through the same operations as every door (actor "demo"), adds an open
round of a People's Council with a few voter codes, and the demo's organizer and auditor.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import fcntl
import hashlib
import io
import json
import os
import random
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from . import committee, trustee
from .errors import N_, NotFound, VotesError
from .lazy import lazy_module
from .meeting import Member, parse_committee
from .models import Body, Round, RoundStatus
from .roster import RosterEntry

if TYPE_CHECKING:
    from . import operations
else:
    # Loaded by the demo command when it runs, not by `votes --help` (votes/lazy.py).
    operations = lazy_module("votes.operations")

ACTOR = "demo"
DEMO_ORGANIZER = "demo"
DEMO_AUDITOR = "demo-auditor"
OPEN_BODY = ("SL-HDND", "Hội đồng nhân dân tỉnh Sơn Lâm (dữ liệu minh họa)")
BODY_CODE = "SL-TU"
BODY_NAME = "Ban Chấp hành Đảng bộ tỉnh Sơn Lâm (dữ liệu minh họa)"
COLLECTIVE = "Tập thể Ban Thường vụ Tỉnh ủy"

# (person_key, name, position 2024, position 2025). Every name here is invented.
STANDING_COMMITTEE = [
    ("sl-001", "Nguyễn Văn Thắng", "Bí thư Tỉnh ủy", "Bí thư Tỉnh ủy"),
    (
        "sl-002",
        "Trần Thị Thu Hằng",
        "Phó Bí thư Thường trực Tỉnh ủy",
        "Phó Bí thư Thường trực Tỉnh ủy",
    ),
    (
        "sl-003",
        "Lê Quốc Huy",
        "Phó Bí thư Tỉnh ủy, Chủ tịch UBND tỉnh",
        "Phó Bí thư Tỉnh ủy, Chủ tịch UBND tỉnh",
    ),
    (
        "sl-004",
        "Phạm Đức Lương",
        "Ủy viên BTV, Trưởng Ban Tổ chức Tỉnh ủy",
        "Ủy viên BTV, Trưởng Ban Tổ chức Tỉnh ủy",
    ),
    (
        "sl-005",
        "Hoàng Thị Ngọc Ánh",
        "Ủy viên BTV, Chủ nhiệm Ủy ban Kiểm tra Tỉnh ủy",
        "Ủy viên BTV, Chủ nhiệm Ủy ban Kiểm tra Tỉnh ủy",
    ),
    (
        "sl-006",
        "Vũ Minh Tuấn",
        "Ủy viên BTV, Trưởng Ban Tuyên giáo Tỉnh ủy",
        "Ủy viên BTV, Trưởng Ban Tuyên giáo và Dân vận Tỉnh ủy",
    ),
    (
        "sl-007",
        "Đặng Văn Khởi",
        "Ủy viên BTV, Trưởng Ban Nội chính Tỉnh ủy",
        "Ủy viên BTV, Phó Chủ tịch HĐND tỉnh",
    ),
    (
        "sl-008",
        "Bùi Thị Hương Giang",
        "Ủy viên BTV, Phó Chủ tịch Thường trực UBND tỉnh",
        "Ủy viên BTV, Phó Chủ tịch Thường trực UBND tỉnh",
    ),
    (
        "sl-009",
        "Đỗ Mạnh Cường",
        "Ủy viên BTV, Giám đốc Công an tỉnh",
        "Ủy viên BTV, Giám đốc Công an tỉnh",
    ),
    (
        "sl-010",
        "Ngô Quang Định",
        "Ủy viên BTV, Chỉ huy trưởng Bộ Chỉ huy Quân sự tỉnh",
        "Ủy viên BTV, Chỉ huy trưởng Bộ Chỉ huy Quân sự tỉnh",
    ),
    (
        "sl-011",
        "Dương Thị Lụa",
        "Ủy viên BTV, Chủ tịch Ủy ban MTTQ Việt Nam tỉnh",
        "Ủy viên BTV, Chủ tịch Ủy ban MTTQ Việt Nam tỉnh",
    ),
    (
        "sl-012",
        "Lý Văn Sử",
        "Ủy viên BTV, Bí thư Thành ủy Sơn Lâm",
        "Ủy viên BTV, Bí thư Thành ủy Sơn Lâm",
    ),
    (
        "sl-013",
        "Đinh Thế Ước",
        "Ủy viên BTV, Trưởng Ban Nội chính Tỉnh ủy",
        "Ủy viên BTV, Trưởng Ban Nội chính Tỉnh ủy",
    ),
]
EXEMPT = {
    2024: {"sl-013": "Được bầu, bổ nhiệm trong năm lấy phiếu"},
    2025: {"sl-010": "Đã có thông báo nghỉ hưu"},
}
# (high, confidence, low) per person on the valid ballots; what is left is an invalid mark.
COUNTS = {
    2024: {
        "sl-001": (38, 9, 2),
        "sl-002": (35, 12, 2),
        "sl-003": (30, 16, 3),
        "sl-004": (28, 17, 3),
        "sl-005": (33, 14, 2),
        "sl-006": (26, 19, 4),
        "sl-007": (20, 21, 8),
        "sl-008": (29, 17, 3),
        "sl-009": (31, 15, 3),
        "sl-010": (27, 18, 4),
        "sl-011": (30, 16, 3),
        "sl-012": (6, 15, 28),
        COLLECTIVE: (25, 20, 4),
    },
    2025: {
        "sl-001": (40, 9, 2),
        "sl-002": (37, 12, 2),
        "sl-003": (33, 15, 3),
        "sl-004": (30, 18, 3),
        "sl-005": (34, 14, 3),
        "sl-006": (27, 20, 4),
        "sl-007": (8, 16, 27),
        "sl-008": (31, 17, 3),
        "sl-009": (33, 15, 3),
        "sl-011": (31, 17, 3),
        "sl-012": (5, 15, 31),
        "sl-013": (22, 25, 4),
        COLLECTIVE: (27, 20, 4),
    },
}
ROUNDS = {
    2024: {"members": 53, "summoned": 53, "present": 50, "ballots": 49, "spoiled": 1},
    2025: {"members": 55, "summoned": 54, "present": 52, "ballots": 51, "spoiled": 0},
}
# The conference of each year: its date, start and counting (Vietnam time), who presided and
# the counting committee it elected. Every name here is invented.
MEETINGS = {
    2024: ("2024-12-20", "08:00", "2024-12-20 10:30", "Nguyễn Văn Thắng"),
    2025: ("2025-12-19", "08:00", "2025-12-19 10:15", "Nguyễn Văn Thắng"),
}
COMMITTEE = "Hà Thị Mai (Trưởng ban); Vương Đình Khoa; Triệu Thị Hồng"
COMMITTEE_HEAD = "Hà Thị Mai"


def roster(year: int) -> list[RosterEntry]:
    """Return the roster of a demo year: the standing committee, then the collective."""
    position_index = 2 if year == 2024 else 3
    entries = [
        RosterEntry(
            line=n,
            name=member[1],
            position=member[position_index],
            person_key=member[0],
            exempt_reason=EXEMPT[year].get(member[0], ""),
        )
        for n, member in enumerate(STANDING_COMMITTEE, start=2)
    ]
    entries.append(RosterEntry(line=99, name=COLLECTIVE, position="", kind="collective"))
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


def _paper_csv(packed: list[str], items: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["status", *range(1, items + 1)])
    for marks in packed:
        writer.writerow(["valid", *[("" if m == "-" else m) for m in marks]])
    writer.writerow(["invalid", *[""] * items])
    return out.getvalue().encode("utf-8")


# The demo's counting committee: one member (the weaker mode, said where it shows) whose key
# file is made by the same steps as `votes trustee new`; its passphrase is printed, so that
# whoever runs the demo can decrypt its open round too. Never for a real round.
DEMO_PASSPHRASE = "chỉ dùng cho bản minh họa"  # noqa: S105 - printed by the demo, by design
DEMO_KEY_FILE = "demo-committee-key-round-{id}.key"


def demo_committee(work: operations.Work, round_id: int, key_folder: Path | None) -> bytes:
    """Give a draft demo round a committee of one and make its key; return the key file."""
    operations.create_committee(work, round_id, 1, [Member(COMMITTEE_HEAD, "head")])
    document = committee.committee_file(work.session, work.round(round_id))
    key_file, public = trustee.new_member(
        json.dumps(document).encode(), 1, DEMO_PASSPHRASE, "interactive"
    )
    operations.receive_committee_file(work, round_id, public)
    if key_folder is not None:
        key_folder.mkdir(parents=True, exist_ok=True)
        (key_folder / DEMO_KEY_FILE.format(id=round_id)).write_bytes(key_file)
    return key_file


def demo_decrypt(work: operations.Work, round_id: int, key_file: bytes) -> None:
    """Have the demo's committee decrypt a round's totals (`votes trustee decrypt`)."""
    document = committee.totals_file(work.session, work.round(round_id))
    answer = trustee.decrypt(json.dumps(document).encode(), key_file, DEMO_PASSPHRASE)
    operations.receive_committee_file(work, round_id, answer)


def seed_rounds(sessions: sessionmaker[Session], secret: str | bytes) -> list[int]:
    """Create the demo body and its two counted rounds unless they exist; return their ids.

    2024 is counted from paper ballots, 2025 online (one code each, one left unused); the
    2025 round is published.
    """
    with sessions() as session:
        body = session.scalar(select(Body).where(Body.code == BODY_CODE))
        if body is not None:
            return [
                r.id
                for r in session.scalars(
                    select(Round).where(Round.body_id == body.id).order_by(Round.year, Round.id)
                )
            ]
    with operations.work(sessions, ACTOR) as work:
        operations.add_body(work, BODY_CODE, BODY_NAME, "party")
    ids = []
    for year, figures in ROUNDS.items():
        with operations.work(sessions, ACTOR) as work:
            round_ = operations.create_round(
                work,
                body_code=BODY_CODE,
                year=year,
                profile_id="tn-16kh-2012",
                title=f"Lấy phiếu tín nhiệm Ủy viên Ban Thường vụ Tỉnh ủy năm {year}",
                roster=roster(year),
                members=figures["members"],
                summoned=figures["summoned"],
                present=figures["present"],
                place="Sơn Lâm",
            )
            round_id = round_.id
            held_on, starts_at, counted_at, chair = MEETINGS[year]
            operations.record_meeting(
                work,
                round_id,
                held_on=dt.date.fromisoformat(held_on),
                starts_at=dt.time.fromisoformat(starts_at),
                counted_at=dt.datetime.fromisoformat(counted_at),
                place="Hội trường Tỉnh ủy Sơn Lâm",
                chair=chair,
                committee=parse_committee(COMMITTEE),
            )
            keys = [item.person.person_key if item.person else COLLECTIVE for item in round_.items]
            if year != 2024:  # online ballots are sealed to the committee's key
                key_file = demo_committee(work, round_id, None)
            operations.open_round(work, round_id)
            packed = ballots(year, keys)
            if year == 2024:  # paper ballots, typed in by the counting committee
                operations.import_paper_ballots(
                    work, round_id, _paper_csv(packed, len(keys)), issued=figures["present"]
                )
            else:  # online: one code for each person present; one code is never used
                codes = operations.issue_codes(work, round_id, figures["present"], secret)
        if year != 2024:
            with sessions() as session:
                for code, marks in zip(codes, packed, strict=False):
                    operations.cast_ballot(session, secret, code, list(marks), round_id=round_id)
        with operations.work(sessions, ACTOR) as work:
            operations.close_round(work, round_id)
            if year != 2024:
                demo_decrypt(work, round_id, key_file)
            if year == 2025:
                operations.publish_round(work, round_id)
        ids.append(round_id)
    return ids


# A widened poll (issue 15): one list of persons rated by three voter groups that meet
# separately. The executive committee's result decides; the others are read beside it. Each
# group: (name, members = summoned, present, meeting day, low marks per person).
WIDE_BODY = ("SL-DUK", "Đảng ủy Khối các cơ quan tỉnh Sơn Lâm (dữ liệu minh họa)")
WIDE_PERSONS = [
    ("Hoàng Minh Quân", "Bí thư Đảng ủy Khối", "sl-duk-quan"),
    ("Đặng Thu Hà", "Phó Bí thư Thường trực", "sl-duk-ha"),
    ("Lương Văn Tùng", "Phó Bí thư", "sl-duk-tung"),
]
WIDE_GROUPS = [
    # Quân is low in the deciding group only (30 of 54); combined he is not (40 of 104).
    ("Ban Chấp hành Đảng bộ Khối", 55, 54, "2025-12-10", (30, 10, 20)),
    # Hà is low among the heads of departments (25 of 38) and the retired leaders (9 of 12),
    # but not in the deciding group: read for reference, no finding.
    ("Trưởng các phòng, ban chuyên môn", 40, 38, "2025-12-11", (8, 25, 22)),
    ("Cán bộ lãnh đạo đã nghỉ hưu", 12, 12, "2025-12-12", (2, 9, 8)),
]
WIDE_COMMITTEES = [
    "Bùi Thị Lan (Trưởng ban); Ngô Văn Hải; Phan Thị Mai",
    "Đỗ Văn Khánh (Trưởng ban); Trịnh Thị Yến; Mai Văn Đức",
    "Tạ Quang Vinh (Trưởng ban); Lê Thị Hồng; Vương Văn Sơn",
]


def _group_ballots(size: int, lows: tuple[int, ...], seed: int) -> list[str]:
    """Build `size` packed ballots with exactly `lows[i]` low marks for item i."""
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible on purpose
    columns = []
    for low in lows:
        rest = size - low
        column = ["L"] * low + ["H"] * (rest * 2 // 3) + ["C"] * (rest - rest * 2 // 3)
        rng.shuffle(column)
        columns.append(column)
    return ["".join(marks) for marks in zip(*columns, strict=True)]


def seed_widened(sessions: sessionmaker[Session], secret: str | bytes) -> int:
    """Create the demo's widened round (three voter groups, counted) unless it exists."""
    with sessions() as session:
        body = session.scalar(select(Body).where(Body.code == WIDE_BODY[0]))
        if body is not None:
            found = session.scalar(select(Round.id).where(Round.body_id == body.id))
            if found is not None:
                return found
    with operations.work(sessions, ACTOR) as work:
        if work.session.scalar(select(Body).where(Body.code == WIDE_BODY[0])) is None:
            operations.add_body(work, *WIDE_BODY, "party")
        name, members, present, _day, _lows = WIDE_GROUPS[0]
        round_ = operations.create_round(
            work,
            body_code=WIDE_BODY[0],
            year=2025,
            profile_id="tn-16kh-2012",
            title="Lấy phiếu tín nhiệm mở rộng đối tượng tham gia năm 2025",
            roster=[
                RosterEntry(line=n, name=who, position=post, person_key=key)
                for n, (who, post, key) in enumerate(WIDE_PERSONS, start=2)
            ],
            members=members,
            summoned=members,
            present=present,
            place="Sơn Lâm",
        )
        round_id = round_.id
        round_.groups[0].name = name
        for (name, members, present, _day, _lows), kind in zip(
            WIDE_GROUPS[1:], ("heads", "retired"), strict=True
        ):
            operations.add_group(
                work,
                round_id,
                name,
                members=members,
                summoned=members,
                present=present,
                kind=kind,
            )
        for number, ((_n, _m, _p, day, _l), committee) in enumerate(
            zip(WIDE_GROUPS, WIDE_COMMITTEES, strict=True), start=1
        ):
            operations.record_group_meeting(
                work,
                round_id,
                number,
                held_on=dt.date.fromisoformat(day),
                place="Hội trường Đảng ủy Khối các cơ quan tỉnh",
                committee=parse_committee(committee),
            )
        operations.record_meeting(
            work,
            round_id,
            held_on=dt.date.fromisoformat(WIDE_GROUPS[0][3]),
            place="Hội trường Đảng ủy Khối các cơ quan tỉnh",
            committee=parse_committee(WIDE_COMMITTEES[0]),
        )
        # Online ballots are sealed to the committee's key (a committee of one, as the demo's
        # other rounds): the executive committee votes on paper, the other two groups online.
        key_file = demo_committee(work, round_id, None)
        operations.open_round(work, round_id)
        online: dict[int, tuple[list[str], list[str]]] = {}
        for number, (_n, _m, present, _d, lows) in enumerate(WIDE_GROUPS, start=1):
            packed = _group_ballots(present - 1, lows, number)
            if number == 1:
                operations.import_paper_ballots(
                    work,
                    round_id,
                    _paper_csv(packed, len(lows)),
                    issued=present,
                    group=number,
                )
                continue
            # One ballot spoiled on paper; the others cast online, one code each.
            operations.import_paper_ballots(
                work,
                round_id,
                _paper_csv([], len(lows)),
                issued=1,
                group=number,
                another_stack=number > 2,  # the same one-line file as the group before
            )
            codes = operations.issue_codes(work, round_id, present - 1, secret, group=number)
            online[number] = (codes, packed)
    with sessions() as session:
        for number, (codes, packed) in online.items():
            for code, marks in zip(codes, packed, strict=True):
                operations.cast_ballot(
                    session, secret, code, list(marks), round_id=round_id, group=number
                )
    # Each online group closes and is decrypted by the committee on its own; the round is
    # counted when the last group (on paper) closes.
    for number in sorted(online, reverse=True):
        with operations.work(sessions, ACTOR) as work:
            operations.close_round(work, round_id, number)
            demo_decrypt(work, round_id, key_file)
    with operations.work(sessions, ACTOR) as work:
        operations.close_round(work, round_id)
    return round_id


def _account(work: operations.Work, username: str, role: str, bodies: list[str]) -> str:
    """Create a demo account, or give it a new password; return the password."""
    password = secrets.token_urlsafe(9)
    try:
        operations.set_staff_password(work, username, password)
    except NotFound:
        operations.add_staff(work, username, password, role, bodies)
    return password


def seed_demo(
    sessions: sessionmaker[Session], secret: str | bytes, key_folder: Path | None = None
) -> list[int]:
    """Seed the demo (once): two counted rounds and an open round; return the counted ids.

    The open round's committee key file is written to `key_folder` (its passphrase is
    DEMO_PASSPHRASE), so that the demo's open round can be closed and decrypted too.
    """
    counted = seed_rounds(sessions, secret)
    counted.append(seed_widened(sessions, secret))
    with operations.work(sessions, ACTOR) as work:
        body = work.session.scalar(select(Body).where(Body.code == OPEN_BODY[0]))
        if body is None:
            body = operations.add_body(work, *OPEN_BODY, "council")
        if _open_round(work) is None:
            round_ = operations.create_round(
                work,
                body_code=body.code,
                year=2026,
                profile_id="nq96-2023",
                title="Lấy phiếu tín nhiệm Thường trực HĐND tỉnh năm 2026 (thử)",
                roster=[e for e in roster(2025) if e.kind == "person"][:6],
                members=40,
                place="Sơn Lâm",
            )
            demo_committee(work, round_.id, key_folder)
            operations.open_round(work, round_.id)
    return counted


def _open_round(work: operations.Work) -> Round | None:
    return work.session.scalar(
        select(Round)
        .join(Body)
        .where(Body.code == OPEN_BODY[0], Round.status == RoundStatus.OPEN.value)
    )


@dataclass(frozen=True)
class DemoAccess:
    """What a served demo prints: two logins and voter codes of the open round."""

    organizer: str
    organizer_password: str
    auditor: str
    auditor_password: str
    codes: list[str]
    round_id: int


def demo_access(sessions: sessionmaker[Session], secret: str | bytes) -> DemoAccess:
    """Give the demo's organizer and auditor new passwords; issue five codes of the open round."""
    with operations.work(sessions, ACTOR) as work:
        organizer = _account(
            work, DEMO_ORGANIZER, "organizer", [BODY_CODE, OPEN_BODY[0], WIDE_BODY[0]]
        )
        auditor = _account(work, DEMO_AUDITOR, "auditor", [])
        round_ = _open_round(work)
        if round_ is None:
            raise NotFound(N_("The demo has no open round: run `votes demo` again."))
        codes = operations.issue_codes(work, round_.id, 5, secret)
    return DemoAccess(DEMO_ORGANIZER, organizer, DEMO_AUDITOR, auditor, codes, round_.id)


class DemoBusy(VotesError):
    """Another `votes demo` is using this database."""


@contextlib.contextmanager
def hold_demo(instance_path: str, database_url: str, address: str) -> Iterator[None]:
    """Hold the demo's lock on a database for as long as the demo runs.

    A second `votes demo` on the same database would reset the logins and codes the first one
    printed (and its server would find the port taken): it is refused, saying where the first
    one serves.
    """
    name = hashlib.sha256(database_url.encode()).hexdigest()[:12]
    path = Path(instance_path) / f"demo-{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.seek(0)
            raise DemoBusy(
                N_(
                    "A demo is already running on this database ({where}); stop it first, or "
                    "set VOTES_DATABASE_URL to another database."
                ),
                where=handle.read().strip() or "?",
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, {address}\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
