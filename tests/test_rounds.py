"""Round lifecycle guards: quorum on attendance and on online turnout, profile fits the body."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.conftest import SECRET, VotesRunner
from votes import rounds, voting
from votes.errors import CountError
from votes.results import round_results

ROSTER = b"name,position\nA,Chu tich\nB,Pho Chu tich\n"


def _round(session: Session, *, summoned: int | None, present: int | None) -> rounds.Round:
    body = rounds.add_body(session, "TU", "Tỉnh ủy", "party")
    return rounds.create_round(session, body, year=2025, profile_id="qd96-2023", title="Đợt",
                               roster=rounds.parse_roster(ROSTER), members=30,
                               summoned=summoned, present=present)


def test_quorum_profile_needs_the_number_summoned_to_open(session: Session) -> None:
    round_ = _round(session, summoned=None, present=None)
    with pytest.raises(CountError) as refused:
        rounds.open_round(session, round_)
    assert "triệu tập" in refused.value.message("vi")


def test_online_turnout_below_quorum_cannot_be_published(session: Session) -> None:
    """30 summoned, present unknown: 19 ballots is below 2/3 (20), 20 ballots is enough."""
    round_ = _round(session, summoned=30, present=None)
    rounds.open_round(session, round_)
    codes = rounds.issue_round_codes(session, round_, 30, SECRET)
    session.commit()
    round_id = round_.id
    for code in codes[:19]:
        voting.cast_ballot(session, SECRET, code, ["H", "C"], round_id=round_id)
    round_ = rounds.get_round(session, round_id)
    session.connection(execution_options={"votes_write": True})
    rounds.close_round(session, round_)
    result = round_results(session, round_)
    assert result["quorum_met"] is False
    assert result["quorum"]["required"] == 20
    assert "19" in result["quorum"]["reason"]["vi"]
    with pytest.raises(CountError):
        rounds.publish_round(session, round_)


def test_online_turnout_at_quorum_can_be_published(session: Session) -> None:
    round_ = _round(session, summoned=30, present=30)
    rounds.open_round(session, round_)
    codes = rounds.issue_round_codes(session, round_, 30, SECRET)
    session.commit()
    round_id = round_.id
    for code in codes[:20]:
        voting.cast_ballot(session, SECRET, code, ["H", "C"], round_id=round_id)
    round_ = rounds.get_round(session, round_id)
    rounds.close_round(session, round_)
    assert round_results(session, round_)["quorum_met"] is True
    rounds.publish_round(session, round_)
    assert round_.status == "published"


def test_present_below_quorum_blocks_publishing_even_online(session: Session) -> None:
    round_ = _round(session, summoned=30, present=30)
    rounds.open_round(session, round_)
    codes = rounds.issue_round_codes(session, round_, 30, SECRET)
    session.commit()
    round_id = round_.id
    for code in codes[:10]:  # 30 present, but only 10 voted online
        voting.cast_ballot(session, SECRET, code, ["H", "C"], round_id=round_id)
    round_ = rounds.get_round(session, round_id)
    rounds.close_round(session, round_)
    with pytest.raises(CountError):
        rounds.publish_round(session, round_)


def test_profile_for_another_kind_of_body_is_refused(votes: VotesRunner, tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_bytes(ROSTER)
    assert votes("body", "add", "TU", "Tỉnh ủy", "--kind", "party").exit_code == 0
    out = votes("round", "create", "--body", "TU", "--year", 2025, "--profile", "nq35-2012",
                "--title", "Đợt", "--members", 30, "--roster", roster)
    assert out.exit_code == 1
    assert "nq35-2012" in out.stderr and "Traceback" not in out.stderr
