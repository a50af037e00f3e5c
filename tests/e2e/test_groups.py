"""Widened participation in the browser: two voter groups vote at the same time, then the
organizer closes each and reads the results side by side with the combined one (issue 15)."""

from __future__ import annotations

import re

from tests.e2e.conftest import Live, axe_check, shot
from tests.e2e.test_organizer import log_in
from tests.factories import add_committee, decrypt_round
from tests.web_fixtures import ROSTER
from votes import operations
from votes.roster import parse_roster

LOW, HIGH = "Tín nhiệm thấp", "Tín nhiệm cao"


def ballot_page(browser, live: Live, code: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{live.url}/b/{code}")
    page.wait_for_selector("fieldset.item")
    return context, page


def mark(page, marks: list[str]) -> None:  # type: ignore[no-untyped-def]
    for order, label in enumerate(marks, start=1):
        page.locator(f"#item-{order}").get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Xem lại phiếu").click()


def test_two_groups_vote_at_once_then_the_combined_result(  # type: ignore[no-untyped-def]
    live: Live, browser, desktop
) -> None:
    app, world = live.world.app, live.world
    secret = app.config["SECRET_KEY"]
    with operations.work(world.sessions, "setup") as work:
        round_id = operations.create_round(
            work,
            body_code="A",
            year=2014,
            profile_id="nq35-2012",
            title="Lấy phiếu tín nhiệm mở rộng",
            roster=parse_roster(ROSTER.encode()),
            members=6,
            summoned=6,
            present=6,
            time_exception="06/NQ-HĐND",
        ).id

    # The organizer adds the second group on the round's page.
    page = desktop
    log_in(page, live)
    page.goto(f"{live.url}/admin/rounds/{round_id}")
    page.get_by_text("Thêm nhóm lấy phiếu").click()
    form = page.locator("form[data-testid=add-group]")
    form.get_by_label("Tên nhóm").fill("Trưởng các phòng, ban")
    form.get_by_label("Số thành viên của nhóm").fill("6")
    form.get_by_label("Số người được triệu tập").fill("6")
    form.get_by_label("Số người có mặt").fill("6")
    form.get_by_role("button", name="Thêm nhóm").click()
    assert page.locator("[data-testid=group-row-2]").is_visible()
    assert "quyết định" in page.locator("[data-testid=group-row-1]").inner_text()

    with operations.work(world.sessions, "setup") as work:
        add_committee(work.session, round_id)  # online ballots are sealed to its key
        codes = {
            number: operations.issue_codes(work, round_id, 5, secret, group=number)
            for number in (1, 2)
        }
    for number in (1, 2):
        page.locator(f"[data-testid=open-group-{number}]").click()
        page.wait_for_load_state()
    assert page.locator("[data-testid=close-group-2]").is_visible()
    assert axe_check(page) == []
    shot(page, "groups-round-open")

    # One voter of each group, at the same time: both ballots open, marked, sent.
    for turn in range(2):
        first, one = ballot_page(browser, live, codes[1][turn])
        second, two = ballot_page(browser, live, codes[2][turn])
        mark(one, [LOW, HIGH, HIGH])
        mark(two, [HIGH, LOW, HIGH])
        two.get_by_role("button", name="Gửi phiếu").click()
        one.get_by_role("button", name="Gửi phiếu").click()
        assert re.fullmatch(r"BN( [0-9]{4}){4}", one.locator(".receipt-code").inner_text())
        assert re.fullmatch(r"BN( [0-9]{4}){4}", two.locator(".receipt-code").inner_text())
        first.close()
        second.close()
    with world.sessions() as session:
        for code in codes[1][2:]:
            operations.cast_ballot(session, secret, code, ["H", "H", "H"])
        for code in codes[2][2:]:
            operations.cast_ballot(session, secret, code, ["L", "L", "H"])

    # Group 2 closes first: the round still runs for group 1, no result yet.
    page.goto(f"{live.url}/admin/rounds/{round_id}")
    page.locator("[data-testid=close-group-2]").click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=close-group-1]").is_visible()
    # Its sealed ballots are decrypted by the committee now, while group 1 still votes.
    with operations.work(world.sessions, "setup") as work:
        decrypt_round(work.session, round_id)
    assert page.goto(f"{live.url}/admin/rounds/{round_id}/results").status == 409
    page.goto(f"{live.url}/admin/rounds/{round_id}")
    page.locator("[data-testid=close-group-1]").click()
    page.wait_for_load_state()
    with operations.work(world.sessions, "setup") as work:
        decrypt_round(work.session, round_id)

    page.goto(f"{live.url}/admin/rounds/{round_id}/results")
    table = page.locator("[data-testid=groups-table]")
    assert table.is_visible()
    text = " ".join(table.inner_text().split())
    # D = members: 6 per group, 12 combined. Person 1 low: 2 of 6 in group 1 (33,33 %), 3 of
    # 6 in group 2 (50,00 %), 5 of 12 combined (41,67 %); person 2: 0, 5 of 6 (83,33 %), 5 of
    # 12 (41,67 %).
    for expected in ("33,33 %", "50,00 %", "83,33 %", "41,67 %", "D = 12"):
        assert expected in text, (expected, text)
    assert "quyết định" in page.locator("[data-testid=group-head-1]").inner_text()
    # Only group 1 decides: person 2's 83,33 % in group 2 raises no finding.
    assert page.locator("[data-testid=findings]").count() == 0
    assert page.get_by_test_id("groups-pdf").is_visible()
    assert axe_check(page) == []
    shot(page, "groups-results")
