"""The public list of counted receipts on a phone: readable, searchable, accessible (axe)."""

from __future__ import annotations

from tests.e2e.conftest import Live, axe_check, shot
from tests.e2e.test_pages import login
from tests.factories import add_committee
from tests.test_record import stored_receipts
from tests.test_web_trackers import counted_online_round
from tests.web_fixtures import ROSTER
from votes import operations
from votes.roster import parse_roster


def test_a_voter_finds_their_receipt_on_a_phone(phone, live: Live) -> None:  # type: ignore[no-untyped-def]
    round_id = counted_online_round(live.world, 60, title="Đợt có 60 phiếu trực tuyến")
    with live.world.sessions() as session:
        receipts = stored_receipts(session, round_id)
    page = phone
    page.goto(f"{live.url}/r/{round_id}/receipts")
    assert page.locator("[data-testid=receipts] li").count() == 60
    assert axe_check(page) == []
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    shot(page, "receipts-phone")
    # The voter types the receipt as it comes: lower case, without spaces.
    wanted = receipts[37]
    page.fill("#q", wanted.lower().replace(" ", ""))
    page.click("button[type=submit]")
    assert "Đã kiểm" in page.locator("[data-testid=receipt-found]").inner_text()
    found = page.locator("li.found")
    assert found.inner_text() == wanted
    page.click("text=Xem trong danh sách")
    assert found.is_visible()
    assert axe_check(page) == []
    shot(page, "receipts-phone-found")


def test_an_auditor_reads_the_open_box(desktop, live: Live) -> None:  # type: ignore[no-untyped-def]
    round_id = counted_online_round(live.world, 5, title="Đợt có 5 phiếu trực tuyến")
    page = desktop
    login(page, live, "auditor")
    page.goto(f"{live.url}/audit/rounds/{round_id}")
    page.click("[data-testid=trackers-link]")
    assert "Phiếu đã niêm phong (mã theo dõi)" in page.inner_text("main")
    assert page.locator("[data-testid=box-digest]").count() == 1
    assert page.locator("table.tracker-list tbody tr").count() == 5
    assert axe_check(page) == []
    shot(page, "audit-trackers")


def test_an_open_round_says_when_the_list_comes(phone, live: Live) -> None:  # type: ignore[no-untyped-def]
    world = live.world
    with operations.work(world.sessions, "setup") as work:
        round_id = operations.create_round(
            work,
            body_code="B",
            year=2014,
            profile_id="nq35-2012",
            title="Đợt còn đang mở",
            roster=parse_roster(ROSTER.encode()),
            members=10,
            time_exception="08/NQ-HĐND",
        ).id
        add_committee(work.session, round_id)
        operations.issue_codes(work, round_id, 1, world.app.config["SECRET_KEY"])
        operations.open_round(work, round_id)
    page = phone
    page.goto(f"{live.url}/r/{round_id}/receipts")
    assert "vẫn đang mở" in page.inner_text("[data-testid=receipts-later]")
    assert page.locator("[data-testid=receipts] li").count() == 0
    assert axe_check(page) == []
    shot(page, "receipts-phone-later")
