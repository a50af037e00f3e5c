"""A round of several voter groups, for the tests of the voter groups follow-ups."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from tests.factories import add_test_body, person, work
from votes import operations
from votes.models import Round

ROSTER = [person("Nguyễn Văn An", "Bí thư", "a"), person("Trần Thị Bình", "Phó Bí thư", "b")]


def party_round(
    session: Session,
    code: str,
    *,
    profile_id: str = "tn-16kh-2012",
    first: tuple[int, int, int] = (10, 10, 10),
    added: Sequence[tuple[str, int, int, int]] = (("Trưởng các phòng, ban", 8, 8, 8),),
) -> Round:
    """A draft 2024 round of a Party body: its first group (members, summoned, present) and the
    groups added (name, members, summoned, present)."""
    add_test_body(session, code, kind="party")
    task = work(session)
    members, summoned, present = first
    round_ = operations.create_round(
        task,
        body_code=code,
        year=2024,
        profile_id=profile_id,
        title="Lấy phiếu tín nhiệm mở rộng",
        roster=list(ROSTER),
        members=members,
        summoned=summoned,
        present=present,
    )
    for name, group_members, group_summoned, group_present in added:
        operations.add_group(
            task,
            round_.id,
            name,
            members=group_members,
            summoned=group_summoned,
            present=group_present,
        )
    return round_
