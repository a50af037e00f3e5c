"""Double entry of paper ballots, kept in the database until both clerks' entries agree."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import add_test_body, person, work
from votes import operations, paper, rounds
from votes.db import write_session
from votes.errors import InvalidInput, WrongState
from votes.models import AuditEvent, Ballot, PaperEntry, Round
from votes.verify import verify_round


def open_round(session: Session, items: int = 3, present: int = 10) -> Round:
    body = add_test_body(session, kind="party")
    round_ = operations.create_round(
        work(session),
        body_code=body.code,
        year=2025,
        profile_id="tn-16kh-2012",
        title="Lấy phiếu",
        roster=[person(f"Nguyễn Văn {chr(65 + n)}") for n in range(items)],
        members=present,
        summoned=present,
        present=present,
    )
    return operations.open_round(work(session), round_.id)


def type_stack(session: Session, round_: Round, entry: int, stack: list[str], clerk: str) -> None:
    for number, line in enumerate(stack, start=1):
        assert paper.add_ballot(session, round_, entry, line, number=number, clerk=clerk)
    paper.finish(session, round_, entry)


def box(session: Session, round_: Round) -> list[tuple[str, str]]:
    rows = session.execute(select(Ballot.status, Ballot.marks).where(Ballot.round_id == round_.id))
    return sorted((status, marks) for status, marks in rows)


def test_two_agreeing_entries_go_into_the_box_once_and_are_then_deleted(session: Session) -> None:
    round_ = open_round(session)
    stack = ["V HCL", "V LLX", "I HHH", "V --C"]
    type_stack(session, round_, 1, stack, "thu_ky_1")
    type_stack(session, round_, 2, stack, "thu_ky_2")
    comparison = paper.compare(session, round_)
    assert comparison.agree
    assert comparison.diff == []
    result = operations.accept_entries(work(session), round_.id, issued=4)
    assert (result.count, result.valid, result.invalid) == (4, 3, 1)
    assert box(session, round_) == [
        ("invalid", "HHH"),
        ("valid", "--C"),
        ("valid", "HCL"),
        ("valid", "LLX"),
    ]
    assert session.scalar(select(func.count()).select_from(PaperEntry)) == 0
    logged = session.scalars(
        select(AuditEvent.details).where(AuditEvent.kind == "ballots_imported")
    ).one()
    assert json.loads(logged)["entered_by"] == ["thu_ky_1", "thu_ky_2"]
    assert round_.paper_issued == 4


def test_a_difference_is_shown_with_its_ballot_number_and_blocks_the_batch(
    session: Session,
) -> None:
    round_ = open_round(session)
    type_stack(session, round_, 1, ["V HHH", "V CCL", "V LLL"], "a")
    type_stack(session, round_, 2, ["V HHH", "V CCC", "V LLL", "V HHH"], "b")
    comparison = paper.compare(session, round_)
    assert comparison.ready
    assert not comparison.agree
    assert comparison.diff == [(2, "V CCL", "V CCC"), (4, "", "V HHH")]
    with pytest.raises(InvalidInput):
        paper.accept(session, round_, issued=4)
    assert box(session, round_) == []
    # The clerks check ballots 2 and 4 in the stack and correct the entries.
    corrected = ("V HHH\nV CCL\nV LLL\nv hhh", "V HHH\nV CCL\nV LLL\nV HHH")
    paper.correct(session, round_, corrected)
    assert paper.compare(session, round_).agree
    assert paper.accept(session, round_, issued=4)[0].count == 4


def test_a_wrong_correction_names_the_entry_and_line_and_saves_nothing(session: Session) -> None:
    round_ = open_round(session)
    type_stack(session, round_, 1, ["V HHH"], "a")
    type_stack(session, round_, 2, ["V HHC"], "b")
    with pytest.raises(InvalidInput) as refused:
        paper.correct(session, round_, ("V HHC", "V HHC\nV HH"))
    problems = refused.value.problems
    assert [p.message("en") for p in problems] == [
        "Entry 2: Line 2: write V or I, a space, then 3 marks (1, 2, 3, X, 0)."
    ]
    assert "Lượt nhập 2" in problems[0].message("vi")
    assert "Dòng 2" in problems[0].message("vi")
    assert paper.compare(session, round_).batches == (["V HHH"], ["V HHC"])


def test_a_form_sent_twice_adds_the_ballot_once(session: Session) -> None:
    round_ = open_round(session)
    assert paper.add_ballot(session, round_, 1, "V HCL", number=1, clerk="a")
    assert not paper.add_ballot(session, round_, 1, "V HCL", number=1, clerk="a")
    with pytest.raises(InvalidInput, match="out of date"):
        paper.add_ballot(session, round_, 1, "V HCL", number=3, clerk="a")
    assert paper.states(session, round_)[0].count == 1
    # Removing the last ballot twice removes it once.
    assert paper.add_ballot(session, round_, 1, "V LLL", number=2, clerk="a")
    assert paper.remove_last(session, round_, 1, number=2)
    assert not paper.remove_last(session, round_, 1, number=2)
    assert paper.compare(session, round_).batches[0] == ["V HCL"]


def test_entries_are_separate_and_a_finished_entry_takes_nothing_until_reopened(
    session: Session,
) -> None:
    round_ = open_round(session)
    type_stack(session, round_, 1, ["V HCL"], "thu_ky_1")
    first, second = paper.states(session, round_)
    assert (first.clerk, first.count, first.finished) == ("thu_ky_1", 1, True)
    assert (second.started, second.count) == (False, 0)
    with pytest.raises(WrongState):
        paper.add_ballot(session, round_, 1, "V HHH", number=2, clerk="thu_ky_1")
    paper.reopen(session, round_, 1)
    assert paper.add_ballot(session, round_, 1, "V HHH", number=2, clerk="thu_ky_1")
    assert not paper.compare(session, round_).ready
    with pytest.raises(InvalidInput):
        paper.finish(session, round_, 2)  # nothing typed
    with pytest.raises(InvalidInput):
        paper.reopen(session, round_, 2)  # never started
    paper.discard(session, round_, 1)
    assert [s.started for s in paper.states(session, round_)] == [False, False]
    with pytest.raises(InvalidInput):
        paper.add_ballot(session, round_, 3, "V HHH", number=1, clerk="x")


def test_the_counts_are_checked_when_the_batch_is_accepted(session: Session) -> None:
    round_ = open_round(session, present=2)
    type_stack(session, round_, 1, ["V HCL", "V HCL", "V HCL"], "a")
    type_stack(session, round_, 2, ["V HCL", "V HCL", "V HCL"], "b")
    with pytest.raises(Exception) as refused:
        paper.accept(session, round_, issued=3)  # more paper ballots than persons present
    assert "3" in str(refused.value)
    assert "2" in str(refused.value)
    session.rollback()


def test_closing_drops_unaccepted_entries_and_logs_how_many_ballots_they_held(
    session: Session,
) -> None:
    round_ = open_round(session)
    type_stack(session, round_, 1, ["V HCL", "V HHH"], "a")
    paper.add_ballot(session, round_, 2, "V HCL", number=1, clerk="b")
    assert paper.pending(session, round_.id) == [2, 1]
    operations.close_round(work(session), round_.id)
    assert session.scalar(select(func.count()).select_from(PaperEntry)) == 0
    dropped = session.scalars(
        select(AuditEvent.details).where(AuditEvent.kind == "paper_entries_discarded")
    ).one()
    assert json.loads(dropped) == {"ballots": [2, 1]}
    report = verify_round(session, round_)
    assert report.ok, report.problems
    with pytest.raises(WrongState):
        paper.add_ballot(session, round_, 1, "V HCL", number=3, clerk="a")


def test_batch_helpers() -> None:
    lines, problems = paper.parse_batch("v hcl\n\nI X-L\nV HC\nQ HCL", 3, paper.letters("poll"))
    assert lines == ["V HCL", "I X-L"]
    assert [p.params["line"] for p in problems] == [4, 5]
    assert paper.letters("confidence_vote") == ["T", "K", "X", "-"]
    assert paper.differences(["V HCL", "V HHH"], ["V HCL", "V HHC", "V LLL"]) == [
        (2, "V HHH", "V HHC"),
        (3, "", "V LLL"),
    ]
    assert paper.batch_csv(["V H-X", "I LLL"], 3) == b"status,1,2,3\nvalid,H,,X\ninvalid,L,L,L\n"


def test_two_clerks_starting_the_same_entry_at_once_add_the_first_ballot_once(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    """Both pages show ballot 1; the second add waits for the first and finds it there."""
    round_ = open_round(session)
    session.commit()
    round_id = round_.id

    def add(factory: sessionmaker[Session]) -> bool:
        with write_session(factory) as db:
            return paper.add_ballot(
                db, rounds.get_round(db, round_id), 1, "V HCL", number=1, clerk="b"
            )

    with write_session(sessions) as first:
        assert paper.add_ballot(
            first, rounds.get_round(first, round_id), 1, "V HCL", number=1, clerk="a"
        )
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(add, sessions)
            time.sleep(0.5)  # the second clerk's add is now waiting for the first one's
            assert not second.done()
            first.commit()
            assert second.result(timeout=60) is False
    session.rollback()
    states = paper.states(session, rounds.get_round(session, round_id))
    assert (states[0].clerk, states[0].count) == ("a", 1)


def test_a_malformed_line_is_refused_by_the_logic_too(session: Session) -> None:
    round_ = open_round(session)
    for line in ("V HC", "V HCQ", "Q HCL", "V HCL\nV HCL"):
        with pytest.raises(InvalidInput):
            paper.add_ballot(session, round_, 1, line, number=1, clerk="a")
    assert paper.add_ballot(session, round_, 1, "v h c l", number=1, clerk="a")
    assert paper.compare(session, round_).batches[0] == ["V HCL"]
