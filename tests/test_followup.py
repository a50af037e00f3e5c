"""Votes of confidence (bỏ phiếu tín nhiệm) that follow up a poll's findings (DOMAIN.md §5, §8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.conftest import VotesRunner
from tests.factories import (
    add_test_body,
    collective,
    column,
    counted_round,
    pack,
    paper_csv,
    person,
    rated,
)
from votes import rounds
from votes.errors import WrongState
from votes.followup import create_followup
from votes.models import Round
from votes.profiles import add_profile
from votes.results import round_results
from votes.rounds import get_body
from votes.rules import body_findings
from votes.voting import import_paper_ballots

NQ35_VOTE = {
    "vi": "Quá nửa tổng số đại biểu không tín nhiệm: trình miễn nhiệm hoặc phê chuẩn việc "
    "miễn nhiệm, cách chức",
    "en": "More than half of all deputies vote no confidence: dismissal is submitted",
}


def council_poll(session: Session, year: int, columns: list[list[str]], **kwargs: object) -> Round:
    """An nq35-2012 poll of the council HDND-X: 32 members, 30 present, 30 ballots."""
    body = get_body(session, "HDND-X")
    roster = [
        person("Trần Văn A", "Chủ tịch", key="a"),
        person("Lê Thị B", "Phó Chủ tịch", key="b"),
        person("Phạm Văn C", "Trưởng ban Pháp chế", key="c"),
        person("Đỗ Văn D", "Trưởng ban Kinh tế", key="d"),
        collective("Thường trực Hội đồng nhân dân"),
    ][: len(columns)]
    return counted_round(
        session,
        body,
        year=year,
        profile_id="nq35-2012",
        roster=roster,
        columns=columns,
        members=32,
        summoned=32,
        present=30,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def flagged_poll(session: Session) -> Round:
    """2014 under nq35-2012: A more than 2/3 low, B more than 1/2, C over 1/2 two years running.

    Only A (over_two_thirds) and C (two years in a row) are referred to a vote of confidence;
    B "may resign" (DOMAIN.md §8), D and the collective are not flagged for a vote.
    """
    add_test_body(session)
    council_poll(session, 2013, [rated(2, 30), rated(2, 30), rated(17, 30)])
    return council_poll(
        session,
        2014,
        [
            rated(22, 30),
            rated(17, 30),
            rated(17, 30),
            rated(1, 30),
            rated(25, 30),
        ],
    )


def test_followup_has_exactly_the_persons_referred_to_a_vote(
    session: Session, flagged_poll: Round
) -> None:
    vote = create_followup(session, flagged_poll)
    assert vote.scale == "confidence_vote"
    assert vote.status == "draft"
    assert vote.followup_of == flagged_poll.id
    assert (vote.year, vote.profile_id, vote.profile_version) == (2014, "nq35-2012", 2)
    assert vote.members == 32
    items = [(i.kind, i.person.person_key if i.person else None, i.position) for i in vote.items]
    assert items == [
        ("person", "a", "Chủ tịch"),
        ("person", "c", "Trưởng ban Pháp chế"),
    ]


def test_followup_by_the_command_with_paper_ballots(
    session: Session, flagged_poll: Round, votes: VotesRunner, tmp_path: Path
) -> None:
    session.commit()
    out = votes("round", "followup", "--from-round", flagged_poll.id)
    assert out.exit_code == 0, out.stderr
    vote_id = int(out.last_line)
    assert votes("round", "open", vote_id).exit_code == 0

    # T = trust, K = no trust. A: 17 no trust of 32 members (more than half) and one empty row;
    # C: 16 of 32, exactly one half.
    ballots = pack([column(trust=12, no_trust=17, blank=1), column(trust=14, no_trust=16)])
    path = tmp_path / "vote.csv"
    path.write_bytes(paper_csv(ballots))
    assert path.read_text().splitlines()[:2] == ["status,1,2", "valid,T,T"]
    out = votes("ballots", "import", vote_id, path, "--issued", 30)
    assert out.exit_code == 0, out.stderr
    assert votes("round", "close", vote_id).exit_code == 0

    result = json.loads(votes("results", vote_id, "--format", "json").stdout)
    assert result["round"]["scale"] == "confidence_vote"
    assert result["denominator"] == {"basis": "members", "value": 32}
    assert result["ballots"] == {"issued": 30, "collected": 30, "valid": 30, "invalid": 0}
    a, c = result["items"]
    assert (a["person_key"], c["person_key"]) == ("a", "c")
    assert a["counts"] == {"trust": 12, "no_trust": 17, "invalid": 1}
    assert a["percent"] == {"trust": "37.50", "no_trust": "53.13"}
    assert c["counts"] == {"trust": 14, "no_trust": 16, "invalid": 0}
    assert c["percent"] == {"trust": "43.75", "no_trust": "50.00"}
    assert c["findings"] == []
    (finding,) = a["findings"]
    assert finding["rule"] == "band"
    assert finding["consequence"] == NQ35_VOTE
    (proof,) = finding["evidence"]
    assert (proof["level"], proof["count"], proof["no_trust"]) == ("no_trust", 17, 17)
    assert (proof["denominator"], proof["basis"], proof["percent"]) == (32, "members", "53.13")
    assert proof["rule"] == "no_trust*2 > D"
    assert proof["profile"] == {"id": "nq35-2012", "version": 2}

    # The vote's finding is listed with the body's, and changes no "two years in a row".
    found = json.loads(votes("findings", "--body", "HDND-X", "--format", "json").stdout)
    assert [f["rounds"] for f in found if f["consequence"] == NQ35_VOTE] == [[vote_id]]
    assert [(f["person_key"], f["years"]) for f in found if f["rule"] == "consecutive_years"] == [
        ("c", [2013, 2014]),
    ]
    # A vote of confidence is not itself followed up.
    assert votes("round", "followup", "--from-round", vote_id).exit_code != 0


def test_followup_with_online_codes(session: Session, votes: VotesRunner) -> None:
    """nq96-2023 (D = ballots collected): 60 % low leads to a vote, 70 % to dismissal."""
    body = add_test_body(session)
    poll = counted_round(
        session,
        body,
        year=2026,
        profile_id="nq96-2023",
        roster=[
            person("A", "Chủ tịch", key="a"),
            person("B", "Phó Chủ tịch", key="b"),
            person("C", "Ủy viên", key="c"),
        ],
        columns=[rated(18, 30), rated(21, 30), rated(10, 30)],
        members=35,
        summoned=35,
        present=30,
    )
    vote = create_followup(session, poll)
    assert [i.person.person_key for i in vote.items if i.person] == ["a"]
    session.commit()

    assert votes("round", "open", vote.id).exit_code == 0
    out = votes("codes", "issue", vote.id, "--count", 5)
    assert out.exit_code == 0, out.stderr
    codes = out.stdout.split()
    assert len(codes) == 5
    for code, mark in zip(
        codes, ["no_trust", "trust", "no_trust", "NO_TRUST", "trust"], strict=True
    ):
        out = votes("cast", vote.id, "--code", code, "--marks", mark)
        assert out.exit_code == 0, out.stderr
    assert votes("cast", vote.id, "--code", codes[0], "--marks", "trust").exit_code != 0
    assert votes("round", "close", vote.id).exit_code == 0

    result = json.loads(votes("results", vote.id, "--format", "json").stdout)
    assert result["denominator"] == {"basis": "collected", "value": 5}
    (item,) = result["items"]
    assert item["counts"] == {"trust": 2, "no_trust": 3, "invalid": 0}
    assert item["percent"] == {"trust": "40.00", "no_trust": "60.00"}
    (finding,) = item["findings"]
    # NQ 96/2023 (DOMAIN.md §5): more than half no confidence may resign first.
    assert finding["consequence"]["vi"] == (
        "Quá nửa tổng số phiếu không tín nhiệm: có thể xin từ chức; nếu không xin từ chức thì "
        "trình miễn nhiệm hoặc phê chuẩn việc miễn nhiệm, cách chức"
    )


def test_the_vote_uses_the_profiles_vote_denominator(session: Session) -> None:
    """A profile may count its polls on ballots collected and its votes on all members."""
    add_profile(
        session,
        """\
id = "tu-x-vote"
version = 1
name = "Quy định riêng"
denominator = "collected"
invalid_marks = "ballot"

[[bands]]
id = "over_half"
followup_vote = true
consequence.vi = "Quá nửa số phiếu tín nhiệm thấp: bỏ phiếu tín nhiệm"
consequence.en = "More than half rate the person low: a vote of confidence"

[confidence_vote]
denominator = "members"
consequence.vi = "Quá nửa tổng số ủy viên không tín nhiệm: cho thôi giữ chức vụ"
consequence.en = "More than half of all members vote no confidence: relieved from post"
""",
    )
    body = add_test_body(session, code="TU-X", kind="party")
    poll = counted_round(
        session,
        body,
        year=2025,
        profile_id="tu-x-vote",
        roster=[person("A")],
        columns=[rated(11, 20)],
        members=40,
        summoned=40,
        present=30,
    )
    vote = create_followup(session, poll)
    rounds.open_round(session, vote)
    # 15 of 20 ballots say no trust, but 15 * 2 > 40 members is false.
    import_paper_ballots(session, vote, paper_csv(pack([column(trust=5, no_trust=15)])), issued=20)
    rounds.close_round(session, vote)
    result = round_results(session, vote)
    assert result["denominator"] == {"basis": "members", "value": 40}
    assert result["items"][0]["percent"]["no_trust"] == "37.50"
    assert result["items"][0]["findings"] == []


def test_no_vote_for_more_than_half_under_nq35(session: Session, votes: VotesRunner) -> None:
    """DOMAIN.md §8: B at 17/32 "may resign", so no vote of confidence this year."""
    add_test_body(session)
    poll = council_poll(
        session,
        2014,
        [column(high=20, confidence=8, low=1, blank=1), column(high=5, confidence=8, low=17)],
    )
    assert [f.band for f in body_findings(session, poll.body)] == ["over_half"]
    session.commit()
    out = votes("round", "followup", "--from-round", poll.id)
    assert out.exit_code != 0
    assert len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_followup_needs_a_counted_poll(session: Session, votes: VotesRunner) -> None:
    add_test_body(session)
    open_poll = council_poll(session, 2014, [rated(25, 30)], status="open")
    with pytest.raises(WrongState):
        create_followup(session, open_poll)
    closed = council_poll(session, 2013, [rated(25, 30)])
    vote = create_followup(session, closed)
    with pytest.raises(WrongState):
        create_followup(session, vote)
    session.commit()
    for round_id in (open_poll.id, vote.id):
        out = votes("round", "followup", "--from-round", round_id)
        assert out.exit_code != 0
        assert len(out.stderr.strip().splitlines()) == 1


def test_poll_marks_are_refused_on_a_vote(
    session: Session, flagged_poll: Round, votes: VotesRunner, tmp_path: Path
) -> None:
    vote = create_followup(session, flagged_poll)
    rounds.open_round(session, vote)
    session.commit()
    path = tmp_path / "wrong.csv"
    path.write_text("status,1,2\nvalid,H,L\n", encoding="utf-8")
    out = votes("ballots", "import", vote.id, path, "--issued", 1)
    assert out.exit_code != 0
    assert len(out.stderr.strip().splitlines()) == 1
