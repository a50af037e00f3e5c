"""Paper ballots of a round of several voter groups: typed twice per group, imported per group.

Each group meets and counts on its own, so each group's stack is typed by two clerks, compared
and accepted into that group's ballots alone; a group's unaccepted entries close with it.
Expected counts are counted here from the typed stacks (never by the code under test). The
tests run on SQLite, and on PostgreSQL with VOTES_TEST_DATABASE_URL.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from tests import web_fixtures
from tests.factories import paper_csv, person, work
from tests.group_fixtures import party_round
from tests.web_fixtures import World, csrf_token
from votes import operations, paper, rounds
from votes.db import write_session
from votes.errors import InvalidInput, WrongState
from votes.models import AuditEvent, Ballot, PaperEntry, Round
from votes.operations.work import Work
from votes.results import round_results
from votes.verify import verify_round
from votes.voting import AlreadyImported

# Two stacks typed as a clerk types (digits: 1 high, 2 confidence, 3 low, X several, 0 none).
STACK_1 = ["V 13", "V 11", "V 31", "I 22", "V 3X", "V 12", "V 21"]  # group 1, 7 ballots
STACK_2 = ["V 33", "V 32", "V 30", "V 11", "V 13", "V 31"]  # group 2, 6 ballots


def two_group_round(session: Session, code: str = "TU-GP") -> Round:
    """Open a round of the executive committee (10) and the heads of departments (8)."""
    round_ = party_round(session, code)
    operations.open_round(work(session), round_.id)
    session.commit()
    return round_


def type_entry(
    session: Session, round_: Round, group: int, entry: int, stack: list[str], clerk: str
) -> None:
    for number, line in enumerate(stack, start=1):
        assert operations.add_paper_ballot(
            Work(session, clerk), round_.id, entry, line, number=number, group=group
        )
    operations.finish_entry(Work(session, clerk), round_.id, entry, group)


def expected_counts(stack: list[str]) -> dict[int, dict[str, int]]:
    """Count a typed stack by hand: valid ballots only; 1 high, 2 confidence, 3 low."""
    names = {"1": "high", "2": "confidence", "3": "low"}
    counts = {order: {"high": 0, "confidence": 0, "low": 0} for order in (1, 2)}
    for line in stack:
        status, marks = line.split(" ")
        if status != "V":
            continue
        for order, mark in enumerate(marks, start=1):
            if mark in names:
                counts[order][names[mark]] += 1
    return counts


def group_ballots(session: Session, round_id: int, group: int) -> int:
    return (
        session.scalar(
            select(func.count()).where(Ballot.round_id == round_id, Ballot.group_number == group)
        )
        or 0
    )


def test_two_groups_typed_twice_at_once_go_each_into_its_own_group(session: Session) -> None:
    round_ = two_group_round(session)
    # The four clerks work at the same time: entries of both groups interleaved.
    type_entry(session, round_, 1, 1, STACK_1, "thu_ky_1a")
    type_entry(session, round_, 2, 1, STACK_2, "thu_ky_2a")
    type_entry(session, round_, 2, 2, STACK_2, "thu_ky_2b")
    type_entry(session, round_, 1, 2, STACK_1, "thu_ky_1b")
    assert [s.count for s in paper.states(session, round_, 1)] == [7, 7]
    assert [s.count for s in paper.states(session, round_, 2)] == [6, 6]
    assert paper.compare(session, round_, 1).agree
    assert paper.compare(session, round_, 2).agree

    second = operations.accept_entries(work(session), round_.id, issued=6, group=2)
    assert (second.count, second.valid, second.invalid, second.group) == (6, 6, 0, 2)
    # Group 1's entries are untouched by group 2's acceptance.
    assert [s.count for s in paper.states(session, round_, 1)] == [7, 7]
    first = operations.accept_entries(work(session), round_.id, issued=7, group=1)
    assert (first.count, first.valid, first.invalid, first.group) == (7, 6, 1, 1)
    assert session.scalar(select(func.count()).select_from(PaperEntry)) == 0
    assert (group_ballots(session, round_.id, 1), group_ballots(session, round_.id, 2)) == (7, 6)
    logged = [
        json.loads(d)
        for d in session.scalars(
            select(AuditEvent.details)
            .where(AuditEvent.kind == "ballots_imported")
            .order_by(AuditEvent.id)
        )
    ]
    assert [(e["group"], e["entered_by"]) for e in logged] == [
        (2, ["thu_ky_2a", "thu_ky_2b"]),
        (1, ["thu_ky_1a", "thu_ky_1b"]),
    ]

    operations.close_round(work(session), round_.id)
    session.commit()
    result = round_results(session, round_, small_minimum=5)
    counted = {g["number"]: g for g in result["groups"]}
    for number, stack in ((1, STACK_1), (2, STACK_2)):
        by_hand = expected_counts(stack)
        assert {
            i["order"]: {level: i["counts"][level] for level in ("high", "confidence", "low")}
            for i in counted[number]["items"]
        } == by_hand
    # Combined: the sum of the two hand counts.
    combined = {i["order"]: i["counts"] for i in result["combined"]["items"]}
    one, two = expected_counts(STACK_1), expected_counts(STACK_2)
    for order in (1, 2):
        for level in ("high", "confidence", "low"):
            assert combined[order][level] == one[order][level] + two[order][level]
    assert verify_round(session, round_).ok


def test_four_clerks_of_two_groups_type_at_the_same_time(
    session: Session, sessions: sessionmaker[Session]
) -> None:
    """Each clerk at a computer of their own, a ballot saved at a time, all four at once."""
    round_id = two_group_round(session, "TU-GT").id

    def clerk(group: int, entry: int, stack: list[str]) -> None:
        for number, line in enumerate(stack, start=1):
            with write_session(sessions) as db:
                round_ = rounds.get_round(db, round_id)
                paper.add_ballot(
                    db, round_, entry, line, number=number, clerk=f"c{group}{entry}", group=group
                )
                db.commit()
        with write_session(sessions) as db:
            paper.finish(db, rounds.get_round(db, round_id), entry, group)
            db.commit()

    jobs = [(1, 1, STACK_1), (2, 1, STACK_2), (1, 2, STACK_1), (2, 2, STACK_2)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for done in [pool.submit(clerk, *job) for job in jobs]:
            done.result(timeout=120)
    session.expire_all()
    round_ = rounds.get_round(session, round_id)
    for group, stack in ((1, STACK_1), (2, STACK_2)):
        comparison = paper.compare(session, round_, group)
        assert comparison.agree
        assert [s.clerk for s in comparison.entries] == [f"c{group}1", f"c{group}2"]
        operations.accept_entries(work(session), round_id, issued=len(stack), group=group)
    session.commit()
    assert (group_ballots(session, round_id, 1), group_ballots(session, round_id, 2)) == (7, 6)


def test_a_mismatch_is_caught_in_its_own_group(session: Session) -> None:
    round_ = two_group_round(session, "TU-GM")
    type_entry(session, round_, 1, 1, STACK_1, "a")
    type_entry(session, round_, 1, 2, STACK_1, "b")
    wrong = [*STACK_2[:3], "V 12", *STACK_2[4:]]  # ballot 4 typed 12 instead of 11
    type_entry(session, round_, 2, 1, STACK_2, "c")
    type_entry(session, round_, 2, 2, wrong, "d")
    session.commit()
    assert paper.compare(session, round_, 1).agree
    mismatch = paper.compare(session, round_, 2)
    assert mismatch.ready
    assert not mismatch.agree
    assert [number for number, _a, _b in mismatch.diff] == [4]
    with pytest.raises(InvalidInput):
        operations.accept_entries(work(session), round_.id, issued=6, group=2)
    session.rollback()
    operations.accept_entries(work(session), round_.id, issued=7, group=1)
    session.commit()
    assert (group_ballots(session, round_.id, 1), group_ballots(session, round_.id, 2)) == (7, 0)
    # The clerks of group 2 correct ballot 4; then their batch goes in.
    operations.correct_entries(
        work(session), round_.id, ("\n".join(STACK_2), "\n".join(STACK_2)), 2
    )
    operations.accept_entries(work(session), round_.id, issued=6, group=2)
    assert (group_ballots(session, round_.id, 1), group_ballots(session, round_.id, 2)) == (7, 6)


def test_a_round_of_several_groups_types_for_a_named_group(session: Session) -> None:
    round_ = two_group_round(session, "TU-GN")
    with pytest.raises(InvalidInput):
        paper.add_ballot(session, round_, 1, "V 11", number=1, clerk="a")
    with pytest.raises(InvalidInput):
        paper.compare(session, round_)


def test_a_groups_entries_close_with_the_group(session: Session) -> None:
    round_ = two_group_round(session, "TU-GC")
    type_entry(session, round_, 1, 1, STACK_1[:2], "a")
    type_entry(session, round_, 2, 1, STACK_2[:3], "b")
    operations.close_round(work(session), round_.id, 2)
    session.commit()
    # Group 2's typing is dropped (and logged), group 1's stays to be finished.
    assert paper.pending_by_group(session, round_.id) == {1: [2]}
    dropped = json.loads(
        session.scalars(
            select(AuditEvent.details).where(AuditEvent.kind == "paper_entries_discarded")
        ).one()
    )
    assert dropped == {"ballots": [3], "group": 2}
    with pytest.raises(WrongState):
        paper.add_ballot(session, round_, 2, "V 11", number=1, clerk="b", group=2)
    session.rollback()
    assert paper.add_ballot(session, round_, 2, "V 11", number=1, clerk="a", group=1)


def test_the_same_file_twice_is_refused_in_a_group_and_across_groups(session: Session) -> None:
    round_ = two_group_round(session, "TU-GD")
    data = paper_csv(["HH", "HL", "LH", "CC", "HC"])
    operations.import_paper_ballots(work(session), round_.id, data, issued=7, group=1)
    session.commit()
    # Twice into group 1: the same stack imported twice.
    with pytest.raises(AlreadyImported) as twice:
        operations.import_paper_ballots(work(session), round_.id, data, group=1)
    session.rollback()
    assert "voter group 1 of" in str(twice.value)
    assert twice.value.params["group"] == 1
    # Into group 2: most likely the wrong group chosen; the refusal names group 1.
    with pytest.raises(AlreadyImported) as other:
        operations.import_paper_ballots(work(session), round_.id, data, issued=8, group=2)
    session.rollback()
    assert other.value.params["other"] == 1
    assert other.value.params["group"] == 2
    assert group_ballots(session, round_.id, 2) == 0
    # The organizer says it is another stack (group 2's ballots happen to read the same).
    operations.import_paper_ballots(
        work(session), round_.id, data, issued=8, group=2, another_stack=True
    )
    session.commit()
    assert (group_ballots(session, round_.id, 1), group_ballots(session, round_.id, 2)) == (5, 5)


# ------------------------------------------------------------------------------ the pages

world = web_fixtures.world  # the fixture, under its own name


def widened_on_the_web(world: World) -> int:
    with operations.work(world.sessions, "setup") as task:
        round_ = operations.create_round(
            task,
            body_code="A",
            year=2014,
            profile_id="nq35-2012",
            title="Lấy phiếu mở rộng",
            roster=[
                person("Đinh Văn Hậu", "Chủ tịch", "w1"),
                person("Ma Thị Lụa", "Ủy viên", "w2"),
            ],
            members=10,
            summoned=10,
            present=10,
            time_exception="07/NQ-HĐND",
        )
        operations.add_group(task, round_.id, "Cán bộ hưu trí", members=6, summoned=6, present=6)
        operations.open_round(task, round_.id)
        return round_.id


def test_the_paper_pages_type_each_groups_stack_apart(world: World) -> None:
    round_id = widened_on_the_web(world)
    base = f"/admin/rounds/{round_id}/paper"
    clerks = {1: world.client("organizer"), 2: world.client("admin")}
    chooser = clerks[1].get(base).get_data(as_text=True)
    assert 'data-testid="paper-groups"' in chooser
    assert f"{base}?group=2" in chooser
    # Without a group, an entry of a round of several groups is not typed into.
    assert clerks[1].get(f"{base}/1").status_code == 302
    page = clerks[1].get(f"{base}/1?group=2").get_data(as_text=True)
    assert "Cán bộ hưu trí" in page

    def add(entry: int, marks: str, number: int) -> None:
        client = clerks[entry]
        path = f"{base}/{entry}?group=2"
        data = {"csrf_token": csrf_token(client.get(path).get_data(as_text=True))}
        data.update({"action": "add", "number": str(number)})
        data.update({f"item_{n}": m for n, m in enumerate(marks, start=1)})
        assert client.post(path, data=data).status_code == 302

    for entry in (1, 2):
        for number, marks in enumerate(["HL", "LL", "CH"], start=1):
            add(entry, marks, number)
        client = clerks[entry]
        token = csrf_token(client.get(f"{base}?group=2").get_data(as_text=True))
        finished = client.post(
            f"{base}/{entry}?group=2", data={"csrf_token": token, "action": "finish", "number": 4}
        )
        assert finished.status_code == 302
    with world.sessions() as session:
        typed = session.execute(select(PaperEntry.group_number, PaperEntry.entry)).all()
        assert sorted(typed) == [(2, 1), (2, 2)]
    compare = clerks[1].get(f"{base}/compare?group=2")
    assert compare.status_code == 200
    assert 'data-testid="agree"' in compare.get_data(as_text=True)
    accepted = clerks[1].post(
        f"{base}/compare?group=2",
        data={
            "csrf_token": csrf_token(compare.get_data(as_text=True)),
            "batch_a": "V 13\nV 33\nV 21",
            "batch_b": "V 13\nV 33\nV 21",
            "action": "accept",
            "issued": "3",
        },
    )
    assert accepted.status_code == 302
    with world.sessions() as session:
        stored = session.execute(
            select(Ballot.group_number, Ballot.marks).where(Ballot.round_id == round_id)
        ).all()
        assert sorted(stored) == [(2, "CH"), (2, "HL"), (2, "LL")]
    # A group that is closed takes no more typing: back to the list of groups.
    with operations.work(world.sessions, "setup") as task:
        operations.close_round(task, round_id, 2)
    assert clerks[1].get(f"{base}/1?group=2").status_code == 302


def test_the_api_imports_into_the_named_group(world: World) -> None:
    round_id = widened_on_the_web(world)
    client = world.client("organizer")
    path = f"/api/v1/rounds/{round_id}/paper-ballots"
    stack = b"status,1,2\nvalid,H,L\nvalid,L,L\nvalid,C,H\n"

    def post(query: str) -> Any:
        return client.post(path + query, data=stack, content_type="text/csv")

    # A round of several groups: without the group nothing is imported.
    assert post("?issued=3").status_code == 422
    assert post("?group=x").status_code == 422
    first = post("?group=2&issued=3")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["group"] == 2
    # The same file for group 1: refused, naming group 2.
    refused = post("?group=1&issued=3")
    assert refused.status_code == 409
    assert "nhóm lấy phiếu 2 (Cán bộ hưu trí)" in refused.get_json()["message"]
    assert post("?group=1&issued=3&another_stack=true").status_code == 201
    with world.sessions() as session:
        stored = session.execute(
            select(Ballot.group_number, func.count())
            .where(Ballot.round_id == round_id)
            .group_by(Ballot.group_number)
        ).all()
        assert sorted(stored) == [(1, 3), (2, 3)]
    document = world.app.test_client().get("/api/v1/openapi.json").get_json()
    names = [
        p["name"]
        for p in document["paths"]["/rounds/{round_id}/paper-ballots"]["post"]["parameters"]
    ]
    assert "group" in names
