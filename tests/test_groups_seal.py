"""A voter group's meeting (its date and place) is sealed with the round.

A round of several groups seals each group's meeting date and place as parts of their own
(group_dates, group_places), so a change after the seal is caught by `votes verify` and by the
bundle's verifier, naming the field. A seal recorded before those parts existed still
verifies. The tests run on SQLite, and on PostgreSQL with VOTES_TEST_DATABASE_URL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.factories import pack, paper_csv, rated, work
from tests.group_fixtures import party_round
from votes import operations, recount
from votes.bundle import export_round
from votes.meeting import parse_committee
from votes.models import Round, VoterGroup
from votes.recount import check_bundle
from votes.verify import verify_round

# Group 1 (10): An low 6, Bình 2. Group 2 (8): An low 1, Bình 6.
GROUPS = [(10, [rated(6, 10), rated(2, 10)]), (8, [rated(1, 8), rated(6, 8)])]


def met_round(session: Session, code: str, *, close: bool = True) -> Round:
    """A round of two groups, each with its own meeting recorded before the close."""
    round_ = party_round(session, code)
    task = work(session)
    for number, day, place in ((1, 10, "Hội trường tỉnh ủy"), (2, 12, "Phòng họp số 2")):
        operations.record_group_meeting(
            task,
            round_.id,
            number,
            held_on=dt.date(2024, 12, day),
            place=place,
            committee=parse_committee("Người Một (Trưởng ban); Người Hai"),
        )
    operations.open_round(task, round_.id)
    for number, (_members, columns) in enumerate(GROUPS, start=1):
        ballots = pack(columns)
        operations.import_paper_ballots(
            task, round_.id, paper_csv(ballots), issued=len(ballots), group=number
        )
    if close:
        operations.close_round(task, round_.id)
    session.commit()
    return round_


def problems_of(session: Session, round_: Round) -> list[str]:
    session.expire_all()
    return [problem.text("en") for problem in verify_round(session, round_).problems]


def bundle_files(session: Session, round_: Round) -> dict[str, bytes]:
    data = export_round(session, round_, small_minimum=5)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def with_sums(files: dict[str, bytes]) -> dict[str, bytes]:
    """Rewrite SHA256SUMS after an edit, as someone editing a bundle would."""
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(v).hexdigest()}  {k}\n"
        for k, v in sorted(files.items())
        if k != "SHA256SUMS"
    ).encode()
    return files


@pytest.mark.parametrize(
    ("values", "part"),
    [
        ({"held_on": dt.date(2024, 12, 13)}, "group_dates"),
        ({"place": "Nơi khác"}, "group_places"),
    ],
)
def test_a_changed_group_meeting_is_caught_naming_the_field(
    session: Session, values: dict[str, object], part: str
) -> None:
    round_ = met_round(session, f"TU-S{part[6]}")
    assert problems_of(session, round_) == []
    files = bundle_files(session, round_)
    assert check_bundle(files)[0] == []

    session.execute(
        update(VoterGroup)
        .where(VoterGroup.round_id == round_.id, VoterGroup.number == 2)
        .values(**values)
    )
    session.commit()
    found = problems_of(session, round_)
    assert len(found) == 1, found
    assert f"(seal part {part})" in found[0]

    # The bundle's verifier: round.json edited the same way (and its sums made again).
    definition = json.loads(files["round.json"])
    field, value = next(iter(values.items()))
    definition["groups"][1][field] = value.isoformat() if isinstance(value, dt.date) else value
    files["round.json"] = json.dumps(definition, ensure_ascii=False).encode()
    problems, _checked = check_bundle(with_sums(files))
    texts = [recount.text(line) for line in problems]
    assert f"Seal part {part}: the bundle differs from what was sealed at close." in texts


def test_a_group_meeting_recorded_after_the_close_reseals_the_round(session: Session) -> None:
    round_ = met_round(session, "TU-SR")
    operations.record_group_meeting(
        work(session),
        round_.id,
        2,
        held_on=dt.date(2024, 12, 14),
        place="Phòng họp số 3",
        committee=parse_committee("Người Một (Trưởng ban); Người Ba"),
    )
    session.commit()
    assert problems_of(session, round_) == []
    assert check_bundle(bundle_files(session, round_))[0] == []
    session.execute(update(VoterGroup).where(VoterGroup.number == 2).values(place="Phòng 4"))
    session.commit()
    assert any("(seal part group_places)" in p for p in problems_of(session, round_))


def test_a_seal_made_before_the_meeting_parts_still_verifies(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The round is closed as the code before this change sealed it: without the meeting parts.
    with monkeypatch.context() as before:
        before.setattr(recount, "MEETING_PARTS", {})
        round_ = met_round(session, "TU-SO")
    assert problems_of(session, round_) == []
    problems, checked = check_bundle(bundle_files(session, round_))
    assert problems == []
    assert "Part group_dates of the seal was added after this round was sealed." in [
        recount.text(line) for line in checked
    ]
    # A change to a part that seal does have is still caught.
    session.execute(update(VoterGroup).where(VoterGroup.number == 2).values(members=9))
    session.commit()
    assert any("(seal part groups)" in p for p in problems_of(session, round_))
