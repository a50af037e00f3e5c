"""Paper ballots of a round of several voter groups in the browser: the group is chosen, then
its stack typed with the keyboard; the round's page warns of a group below quorum."""

from __future__ import annotations

from tests.e2e.conftest import Live, axe_check, shot
from tests.e2e.test_organizer import log_in, type_ballot
from tests.factories import person
from votes import operations


def test_a_groups_stack_is_typed_on_its_own_page(live: Live, desktop) -> None:  # type: ignore[no-untyped-def]
    world = live.world
    with operations.work(world.sessions, "setup") as work:
        operations.add_body(work, "PE", "Đảng bộ xã PE", "party")
        round_id = operations.create_round(
            work,
            body_code="PE",
            year=2024,
            profile_id="qd96-2023",
            title="Lấy phiếu tín nhiệm giữa nhiệm kỳ",
            roster=[
                person("Đinh Văn Hậu", "Bí thư", "pe1"),
                person("Ma Thị Lụa", "Ủy viên", "pe2"),
            ],
            members=12,
            summoned=12,
            present=12,
        ).id
        operations.add_group(
            work, round_id, "Cán bộ hưu trí", members=9, summoned=9, present=6, kind="retired"
        )
        operations.open_round(work, round_id)
        operations.record_attendance(work, round_id, present=5, group=2)
    page = desktop
    log_in(page, live, "admin")
    page.goto(f"{live.url}/admin/rounds/{round_id}")
    warning = page.locator("[data-testid=quorum-warning]")
    assert warning.count() == 1
    assert "Cán bộ hưu trí" in warning.inner_text()
    assert page.locator("[data-testid=group-kind-2]").inner_text() == "cán bộ lãnh đạo đã nghỉ hưu"
    shot(page, "groups-quorum-warning")

    page.goto(f"{live.url}/admin/rounds/{round_id}/paper")
    assert page.locator("[data-testid=paper-groups]").is_visible()
    shot(page, "groups-paper-choose")
    assert axe_check(page) == []
    page.get_by_role("link", name="Nhóm lấy phiếu 2: Cán bộ hưu trí").click()
    assert "Cán bộ hưu trí" in page.locator("[data-testid=paper-group]").inner_text()
    page.get_by_role("link", name="Bắt đầu lượt nhập 1").click()
    page.wait_for_selector("#paper-form")
    assert "Cán bộ hưu trí" in page.locator("[data-testid=paper-group]").inner_text()
    type_ballot(page, "13")
    assert "group=2" in page.url
    shot(page, "groups-paper-entry")
    assert axe_check(page) == []
