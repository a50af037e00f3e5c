"""The demo tree (`votes demo --tree`): a province, its communes and an agency, one by package.

On top of the plain demo (the provincial executive's two years, the council's open round):
two communes and a department's Party committee under the province, each with its own
rounds. Commune Tân Sơn runs its own installation: its rounds are made in a database of its
own, exported as a signed package, and imported here with its key trusted, as a real commune
would send them up. Every name is invented.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from . import operations, package
from .db import make_engine, make_sessionmaker
from .demo import ACTOR, BODY_CODE
from .meeting import parse_committee
from .migrate import upgrade
from .models import Body, Round
from .roster import RosterEntry

# (code, name, level) under the province's executive.
COMMUNES = [
    ("SL-XHB", "Đảng ủy xã Hòa Bình (dữ liệu minh họa)", "commune"),
    ("SL-XTS", "Đảng ủy xã Tân Sơn (dữ liệu minh họa)", "commune"),
    ("SL-STC", "Đảng ủy Sở Tài chính (dữ liệu minh họa)", "agency"),
]
# Each body's standing committee: (key, name, position) and, by year, its low marks of 20.
LEADERS: dict[str, list[tuple[str, str, str, dict[int, int]]]] = {
    "SL-XHB": [
        ("hb-01", "Đinh Văn Tùng", "Bí thư Đảng ủy xã", {2024: 3, 2025: 2}),
        ("hb-02", "Lường Thị Hạnh", "Phó Bí thư Thường trực", {2024: 11, 2025: 12}),
        ("hb-03", "Sầm Văn Quý", "Chủ tịch UBND xã", {2024: 1, 2025: 4}),
    ],
    "SL-XTS": [
        ("ts-01", "Mùa A Dế", "Bí thư Đảng ủy xã", {2024: 2, 2025: 1}),
        ("ts-02", "Vì Thị Nga", "Phó Bí thư, Chủ tịch HĐND xã", {2024: 5, 2025: 14}),
    ],
    "SL-STC": [
        ("sl-004", "Phạm Đức Lương", "Bí thư Đảng ủy Sở", {2025: 2}),
        ("tc-02", "Hoàng Minh Khôi", "Giám đốc Sở", {2025: 9}),
    ],
}
COMMITTEE = "Lò Thị Xuân (Trưởng ban); Cà Văn Hải; Tòng Thị Liên"
BALLOTS = 20
PROFILE = "tn-16kh-2012"


def _paper(lows: list[int]) -> bytes:
    """Write 20 paper ballots whose low marks per item are `lows` (the rest high)."""
    lines = ["status," + ",".join(str(n) for n in range(1, len(lows) + 1))]
    for ballot in range(BALLOTS):
        lines.append("valid," + ",".join("L" if ballot < low else "H" for low in lows))
    return ("\n".join(lines) + "\n").encode()


def _rounds(sessions: sessionmaker[Session], code: str) -> list[int]:
    """Hold a body's polls, one a year, from paper ballots; return the round ids."""
    ids = []
    leaders = LEADERS[code]
    for year in sorted({y for leader in leaders for y in leader[3]}):
        rated = [leader for leader in leaders if year in leader[3]]
        with operations.work(sessions, ACTOR) as work:
            round_ = operations.create_round(
                work,
                body_code=code,
                year=year,
                profile_id=PROFILE,
                title=f"Lấy phiếu tín nhiệm Ban Thường vụ năm {year}",
                roster=[
                    RosterEntry(line=n, name=name, position=position, person_key=key)
                    for n, (key, name, position, _lows) in enumerate(rated, start=2)
                ],
                members=BALLOTS,
                summoned=BALLOTS,
                present=BALLOTS,
            )
            operations.record_meeting(
                work,
                round_.id,
                held_on=dt.date(year, 12, 10),
                starts_at=dt.time(8, 0),
                counted_at=dt.datetime(year, 12, 10, 10, 30),
                place="Hội trường Đảng ủy",
                chair=rated[0][1],
                committee=parse_committee(COMMITTEE),
            )
            operations.open_round(work, round_.id)
            lows = [leader[3][year] for leader in rated]
            operations.import_paper_ballots(work, round_.id, _paper(lows), issued=BALLOTS)
            operations.close_round(work, round_.id)
            ids.append(round_.id)
    return ids


def _commune_installation(code: str, name: str, level: str) -> tuple[bytes, list[bytes]]:
    """Run a commune's own installation in a database of its own; return its key, packages."""
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'commune.sqlite3'}")
        try:
            upgrade(engine)
            sessions = make_sessionmaker(engine)
            with operations.work(sessions, ACTOR) as work:
                operations.add_body(work, "SL-TU", "Tỉnh ủy Sơn Lâm", "party", level="province")
                operations.add_body(work, code, name, "party", level=level, parent="SL-TU")
                public = operations.installation_key(work)
            packages = []
            for round_id in _rounds(sessions, code):
                with sessions() as session:
                    round_ = session.get(Round, round_id)
                    assert round_ is not None
                    packages.append(package.signed_bundle(session, round_))
        finally:
            engine.dispose()
    return public, packages


def seed_tree(sessions: sessionmaker[Session]) -> list[str]:
    """Seed the demo tree under the demo's provincial executive (once); return what was done."""
    done: list[str] = []
    with sessions() as session:
        if session.scalar(select(Body).where(Body.code == COMMUNES[0][0])) is not None:
            return done
    for code, name, level in COMMUNES:
        if code == "SL-XTS":
            continue
        with operations.work(sessions, ACTOR) as work:
            operations.add_body(work, code, name, "party", level=level, parent=BODY_CODE)
        done += [f"{code}: {len(_rounds(sessions, code))}"]
    code, name, level = COMMUNES[1]
    public, packages = _commune_installation(code, name, level)
    with operations.work(sessions, ACTOR) as work:
        operations.add_body(work, code, name, "party", level=level, parent=BODY_CODE)
        operations.trust_key(work, code, package.key_text(public))
    for data in packages:
        with operations.work(sessions, ACTOR) as work:
            operations.import_package(work, data)
    done.append(f"{code}: {len(packages)} ({package.fingerprint(public)})")
    return done
