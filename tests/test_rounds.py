"""Round lifecycle guards: quorum on attendance and on online turnout, profile fits the body."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.conftest import SECRET, VotesRunner
from tests.factories import add_committee, decrypt_round, work
from votes import operations, rounds, tally, voting
from votes.errors import CountError, WrongState
from votes.results import round_results
from votes.roster import parse_roster

ROSTER = b"name,position\nA,Chu tich\nB,Pho Chu tich\n"


def _round(session: Session, *, summoned: int | None, present: int | None) -> rounds.Round:
    body = rounds.add_body(session, "TU", "Tỉnh ủy", "party")
    return rounds.create_round(
        session,
        body,
        year=2025,
        profile_id="qd96-2023",
        title="Đợt",
        roster=parse_roster(ROSTER),
        members=30,
        summoned=summoned,
        present=present,
    )


def _closed_round(
    session: Session, *, summoned: int | None, present: int | None, ballots: int
) -> rounds.Round:
    """A round with 30 codes, `ballots` of them cast online, then closed."""
    round_ = _round(session, summoned=summoned, present=present)
    add_committee(session, round_.id)
    rounds.open_round(session, round_)
    codes = rounds.issue_round_codes(session, round_, 30, SECRET)
    session.commit()
    round_id = round_.id
    for code in codes[:ballots]:
        voting.cast_ballot(session, SECRET, code, ["H", "C"], round_id=round_id)
    round_ = rounds.get_round(session, round_id)
    rounds.close_round(session, round_)
    decrypt_round(session, round_.id)
    return round_


def test_quorum_profile_needs_the_number_summoned_to_open(session: Session) -> None:
    round_ = _round(session, summoned=None, present=None)
    with pytest.raises(CountError) as refused:
        rounds.open_round(session, round_)
    assert "triệu tập" in refused.value.message("vi")


def test_online_turnout_below_quorum_cannot_be_published(session: Session) -> None:
    """30 summoned and present, 19 ballots online: the turnout is below 2/3 (20).

    (The number present must be known before closing: the quorum is judged on it too.)
    """
    round_ = _round(session, summoned=30, present=30)
    add_committee(session, round_.id)
    rounds.open_round(session, round_)
    codes = rounds.issue_round_codes(session, round_, 30, SECRET)
    session.commit()
    round_id = round_.id
    for code in codes[:19]:
        voting.cast_ballot(session, SECRET, code, ["H", "C"], round_id=round_id)
    session.rollback()
    session.connection(execution_options={"votes_write": True})
    round_ = rounds.get_round(session, round_id)
    rounds.close_round(session, round_)
    session.commit()
    decrypt_round(session, round_.id)
    result = round_results(session, round_)
    assert result["quorum_met"] is False
    assert result["quorum"]["required"] == 20
    assert "19" in result["quorum"]["reason"]["vi"]
    with pytest.raises(CountError):
        rounds.publish_round(session, round_)


def test_online_turnout_at_quorum_can_be_published(session: Session) -> None:
    round_ = _closed_round(session, summoned=30, present=30, ballots=20)
    assert round_results(session, round_)["quorum_met"] is True
    rounds.publish_round(session, round_)
    assert round_.status == "published"


def test_present_below_quorum_blocks_publishing_even_online(session: Session) -> None:
    # 30 present, but only 10 voted online.
    round_ = _closed_round(session, summoned=30, present=30, ballots=10)
    with pytest.raises(CountError):
        rounds.publish_round(session, round_)


def test_profile_for_another_kind_of_body_is_refused(votes: VotesRunner, tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_bytes(ROSTER)
    assert votes("body", "add", "TU", "Tỉnh ủy", "--kind", "party").exit_code == 0
    out = votes(
        "round",
        "create",
        "--body",
        "TU",
        "--year",
        2014,
        "--profile",
        "nq35-2012",
        "--title",
        "Đợt",
        "--members",
        30,
        "--roster",
        roster,
    )
    assert out.exit_code == 1
    assert "nq35-2012" in out.stderr
    assert "Traceback" not in out.stderr


# ---------------------------------------------------------------------------- attendance


def _events(session: Session, round_id: int, kind: str) -> list[dict[str, object]]:
    import json

    from votes import audit

    return [json.loads(e.details) for e in audit.round_events(session, round_id) if e.kind == kind]


def test_attendance_taken_at_the_meeting_is_recorded_while_open(session: Session) -> None:
    """Present is often known only in the hall: it can be entered after the round opens."""
    round_ = _round(session, summoned=30, present=None)
    operations.open_round(work(session), round_.id)
    operations.record_attendance(work(session), round_.id, members=31, summoned=30, present=27)
    session.commit()
    assert (round_.members, round_.summoned, round_.present) == (31, 30, 27)
    assert _events(session, round_.id, "attendance_changed") == [
        {
            "members": 31,
            "summoned": 30,
            "present": 27,
            "before": {"members": 30, "summoned": 30, "present": None},
        }
    ]
    profile = rounds.profiles.get_profile(session, round_.profile_id, round_.profile_version)
    assert tally.quorum_status(session, round_, profile)["met"] is True


def test_attendance_must_be_possible(session: Session) -> None:
    round_ = _round(session, summoned=30, present=None)
    add_committee(session, round_.id)
    rounds.issue_round_codes(session, round_, 25, SECRET)
    session.commit()
    with pytest.raises(CountError) as refused:
        rounds.set_attendance(session, round_, members=30, summoned=30, present=31)
    assert "31" in refused.value.message("vi")
    with pytest.raises(CountError) as refused:  # 25 codes already issued for 20 summoned
        rounds.set_attendance(session, round_, members=30, summoned=20, present=None)
    assert "25" in refused.value.message("vi")
    assert "20" in refused.value.message("vi")
    with pytest.raises(CountError):
        rounds.set_attendance(session, round_, members=-1, summoned=30, present=None)
    session.rollback()
    assert (round_.members, round_.summoned, round_.present) == (30, 30, None)
    assert _events(session, round_.id, "attendance_changed") == []


def test_paper_ballots_handed_out_bound_the_number_present(session: Session) -> None:
    round_ = _round(session, summoned=30, present=30)
    rounds.open_round(session, round_)
    voting.import_paper_ballots(session, round_, b"status,1,2\nvalid,H,C\n", issued=28)
    session.commit()
    with pytest.raises(CountError) as refused:
        rounds.set_attendance(session, round_, members=30, summoned=30, present=27)
    assert "28" in refused.value.message("vi")
    rounds.set_attendance(session, round_, members=30, summoned=30, present=28)


@pytest.mark.parametrize("state", ["closed", "published"])
def test_attendance_is_frozen_once_the_round_is_counted(session: Session, state: str) -> None:
    round_ = _closed_round(session, summoned=30, present=30, ballots=25)
    round_id = round_.id
    if state == "published":
        rounds.publish_round(session, round_)
    session.commit()
    with pytest.raises(WrongState) as refused:
        rounds.set_attendance(session, round_, members=30, summoned=30, present=29)
    assert "đã" in refused.value.message("vi") or "kết thúc" in refused.value.message("vi")
    session.rollback()
    assert rounds.get_round(session, round_id).present == 30


def test_attendance_from_the_command_line(votes: VotesRunner, tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_bytes(ROSTER)
    assert votes("body", "add", "TU", "Tỉnh ủy", "--kind", "party").exit_code == 0
    created = votes(
        "round",
        "create",
        "--body",
        "TU",
        "--year",
        2025,
        "--profile",
        "qd96-2023",
        "--title",
        "Đợt",
        "--members",
        30,
        "--summoned",
        30,
        "--roster",
        roster,
    )
    round_id = created.stdout.strip().splitlines()[-1]
    out = votes("round", "attendance", round_id, "--present", 26)
    assert out.exit_code == 0, out.stderr
    assert "26" in out.stdout
    assert "30" in out.stdout
    bad = votes("round", "attendance", round_id, "--present", 40)
    assert bad.exit_code == 1
    assert "40" in bad.stderr
    assert "Traceback" not in bad.stderr
    listed = votes("round", "attendance", round_id)
    assert listed.exit_code == 0
    assert "26" in listed.stdout
