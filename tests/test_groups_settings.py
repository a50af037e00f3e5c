"""Voter groups: the quorum warned of per group while open; the profile's default deciding group.

The tests run on SQLite, and on PostgreSQL with VOTES_TEST_DATABASE_URL.
"""

from __future__ import annotations

import json

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests import web_fixtures
from tests.conftest import VotesRunner
from tests.factories import add_test_body, person, work
from tests.group_fixtures import ROSTER, party_round
from tests.web_fixtures import World, csrf_token
from votes import operations
from votes.migrate import alembic_config, upgrade
from votes.models import AuditEvent, Round
from votes.profiles import ProfileError, add_profile, parse_profile
from votes.tally import quorum_warnings


def qd96_round(session: Session, code: str) -> Round:
    """A QĐ 96 round (quorum: two thirds of those summoned): 12 of 12, and 6 of 9 present."""
    round_ = party_round(
        session,
        code,
        profile_id="qd96-2023",
        first=(12, 12, 12),
        added=(("Trưởng các phòng", 9, 9, 6),),
    )
    session.commit()
    return round_


def test_the_quorum_is_warned_of_per_group_while_it_is_open(
    session: Session, votes: VotesRunner
) -> None:
    round_ = qd96_round(session, "TU-Q1")
    operations.open_round(work(session), round_.id)
    session.commit()
    # 6 * 3 = 18 >= 2 * 9 = 18: met. 12 of 12: met.
    assert quorum_warnings(session, round_) == []
    # Present falls to 5 in group 2: 15 < 18, at least 6 needed. Group 1 is not warned of.
    operations.record_attendance(work(session), round_.id, present=5, group=2)
    session.commit()
    warnings = quorum_warnings(session, round_)
    assert [(w.params["number"], w.params["present"], w.params["required"]) for w in warnings] == [
        (2, 5, 6)
    ]
    assert "nhóm lấy phiếu 2" in warnings[0].text("vi").casefold()
    shown = votes("round", "attendance", round_.id)
    assert shown.exit_code == 0, shown.stderr
    assert "5" in shown.stderr
    assert "Trưởng các phòng" in shown.stderr
    assert "Ban Chấp hành" not in shown.stderr
    listed = votes("group", "list", round_.id)
    assert "nhóm lấy phiếu 2 (Trưởng các phòng)" in listed.stderr
    # Group 1 falls below too: both are warned of.
    operations.record_attendance(work(session), round_.id, present=7, group=1)
    session.commit()
    assert [w.params["number"] for w in quorum_warnings(session, round_)] == [1, 2]
    # A closed group is judged already (its result is void): no more warning for it.
    operations.close_round(work(session), round_.id, 2)
    session.commit()
    assert [w.params["number"] for w in quorum_warnings(session, round_)] == [1]


world = web_fixtures.world  # the fixture, under its own name


def test_the_round_page_warns_of_each_group_below_quorum(world: World) -> None:
    with operations.work(world.sessions, "setup") as task:
        operations.add_body(task, "P", "Đảng bộ xã P", "party")
        round_ = operations.create_round(
            task,
            body_code="P",
            year=2024,
            profile_id="qd96-2023",
            title="Lấy phiếu giữa nhiệm kỳ",
            roster=[person("Đinh Văn Hậu", "Bí thư", "q1")],
            members=12,
            summoned=12,
            present=12,
        )
        round_id = round_.id
        operations.add_group(task, round_id, "Cán bộ hưu trí", members=9, summoned=9, present=6)
        operations.open_round(task, round_id)
        operations.record_attendance(task, round_id, present=5, group=2)
    html = world.client("admin").get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert html.count('data-testid="quorum-warning"') == 1
    warning = html.split('data-testid="quorum-warning"')[1].split("</p>")[0]
    assert "Cán bộ hưu trí" in warning
    assert "5" in warning


# ------------------------------------------------------------------------------ the default

COUNCIL = """\
id = "hdnd-x-2024"
version = 1
name = "Quy định lấy phiếu mở rộng của Hội đồng nhân dân X"
name_en = "Council X's widened poll"
body_kinds = ["council"]
denominator = "collected"
invalid_marks = "row"
deciding_group = "{deciding}"

[[bands]]
id = "over_half"
consequence.vi = "Có quá nửa số phiếu tín nhiệm thấp"
consequence.en = "More than half rate the person low"

[confidence_vote]
consequence.vi = "Quá nửa số phiếu không tín nhiệm: cho thôi giữ chức vụ"
consequence.en = "More than half vote no confidence: relieved from post"
"""


def council_round(session: Session, code: str, deciding: str) -> Round:
    add_profile(session, COUNCIL.replace("{deciding}", deciding).replace("x-2024", code.lower()))
    add_test_body(session, code, kind="council")
    return operations.create_round(
        work(session),
        body_code=code,
        year=2024,
        profile_id=f"hdnd-{code.lower()}",
        title="Lấy phiếu mở rộng",
        roster=list(ROSTER),
        members=30,
        summoned=30,
        present=30,
    )


def added_events(session: Session, round_id: int) -> list[dict[str, object]]:
    return [
        json.loads(details)
        for details in session.scalars(
            select(AuditEvent.details)
            .where(AuditEvent.round_id == round_id, AuditEvent.kind == "group_added")
            .order_by(AuditEvent.id)
        )
    ]


def test_the_profile_names_the_deciding_group_by_its_kind(session: Session) -> None:
    round_ = council_round(session, "X1", "executive")
    assert (round_.groups[0].kind, round_.deciding_group) == ("deputies", 1)
    task = work(session)
    operations.add_group(task, round_.id, "Cán bộ hưu trí", members=12, kind="retired")
    assert round_.deciding_group == 1  # no group of the executive yet: the first decides
    operations.add_group(task, round_.id, "Ban Chấp hành Đảng bộ", members=20, kind="executive")
    assert round_.deciding_group == 3
    events = added_events(session, round_.id)
    assert [(e["number"], e.get("kind"), e["deciding"], e.get("deciding_by")) for e in events] == [
        (2, "retired", 1, None),
        (3, "executive", 3, "profile"),
    ]


def test_the_profile_may_name_the_combined_result(session: Session) -> None:
    round_ = council_round(session, "X2", "combined")
    operations.add_group(work(session), round_.id, "Cán bộ hưu trí", members=12)
    assert round_.deciding_group is None
    assert added_events(session, round_.id)[0]["deciding_by"] == "profile"


def test_the_organizers_choice_before_opening_stands(session: Session) -> None:
    round_ = council_round(session, "X3", "executive")
    task = work(session)
    operations.add_group(task, round_.id, "Cán bộ hưu trí", members=12, kind="retired")
    operations.choose_deciding(task, round_.id, 2)
    operations.add_group(task, round_.id, "Ban Chấp hành", members=20, kind="executive")
    assert round_.deciding_group == 2
    # … and so does a group added as the one that decides.
    other = council_round(session, "X4", "executive")
    operations.add_group(task, other.id, "Cán bộ hưu trí", members=12, deciding=True)
    operations.add_group(task, other.id, "Ban Chấp hành", members=20, kind="executive")
    assert other.deciding_group == 2


def test_a_party_profile_names_the_executive_committee(session: Session) -> None:
    round_ = qd96_round(session, "TU-Q2")
    assert round_.profile_version == 3
    assert [(g.number, g.kind) for g in round_.groups] == [(1, "executive"), (2, None)]
    assert round_.deciding_group == 1


def test_a_profile_names_a_known_kind_or_combined() -> None:
    with pytest.raises(ProfileError, match="deciding_group"):
        parse_profile(COUNCIL.replace("{deciding}", "chairman"))
    assert parse_profile(COUNCIL.replace("{deciding}", "combined")).deciding_group == "combined"


def test_group_add_takes_a_kind(session: Session, votes: VotesRunner) -> None:
    round_ = council_round(session, "X5", "retired")
    session.commit()
    added = votes("group", "add", round_.id, "Cán bộ hưu trí", "--members", 12, "--kind", "retired")
    assert added.exit_code == 0, added.stderr
    assert added.stdout.strip().splitlines()[-1] == "2"
    listed = votes("group", "list", round_.id).stdout
    assert "* " + "  2  Cán bộ hưu trí [retired]" in listed
    refused = votes("group", "add", round_.id, "Khác", "--members", 5, "--kind", "chairman")
    assert refused.exit_code != 0


def test_the_migration_gives_first_groups_the_kind_of_their_body(app: Flask) -> None:
    sessions = app.extensions["votes.sessions"]
    with sessions() as session:
        party = qd96_round(session, "TU-M1")
        add_test_body(session, "HD-M1", kind="council")
        council = operations.create_round(
            work(session),
            body_code="HD-M1",
            year=2014,
            profile_id="nq35-2012",
            title="Lấy phiếu",
            roster=list(ROSTER),
            members=30,
            time_exception="01/NQ-HĐND",
        )
        session.commit()
        ids = (party.id, council.id)
    engine = app.extensions["votes.engine"]
    config = alembic_config(engine)
    with engine.begin() as connection:  # back to before kinds existed, and up again
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    upgrade(engine)
    with engine.connect() as connection:
        kinds = connection.execute(
            text("SELECT round_id, number, kind FROM voter_group ORDER BY round_id, number")
        ).all()
    assert [tuple(row) for row in kinds] == [
        (ids[0], 1, "executive"),
        (ids[0], 2, None),
        (ids[1], 1, "deputies"),
    ]


def test_the_add_group_form_takes_a_kind(world: World) -> None:
    client = world.client("organizer")
    round_id = world.ids["draft"]
    page = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert '<option value="retired">cán bộ lãnh đạo đã nghỉ hưu</option>' in page
    added = client.post(
        f"/admin/rounds/{round_id}/groups",
        data={
            "csrf_token": csrf_token(page),
            "name": "Cán bộ hưu trí",
            "members": "12",
            "kind": "retired",
        },
    )
    assert added.status_code == 302
    with world.sessions() as session:
        round_ = session.get(Round, round_id)
        assert round_ is not None
        assert [(g.number, g.kind) for g in round_.groups] == [(1, "deputies"), (2, "retired")]
