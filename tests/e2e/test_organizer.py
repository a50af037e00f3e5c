"""An organizer runs a whole round in the browser; double entry catches a mismatch."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import Live, axe_check, shot
from tests.factories import add_committee, decrypt_round
from tests.web_fixtures import PASSWORD

GOOD_ROSTER = (
    "name,position,person_key,kind,exempt_reason\n"
    "Phạm Thị Dung,Chủ tịch,d1,,\n"
    "Hoàng Văn Em,Phó Chủ tịch,e1,,\n"
    "Đỗ Thị Giang,Ủy viên,g1,,Đã có thông báo nghỉ hưu\n"
    "Tập thể Thường trực,,,collective,\n"
)
BAD_ROSTER = "name,position\nPhạm Thị Dung,Chủ tịch\n,Ủy viên\nHoàng Văn Em\n"


def log_in(page, live: Live, username: str = "organizer") -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url + "/auth/login")
    assert axe_check(page) == []
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(re.compile(r"/admin/"))


def vote(browser, live: Live, code: str, marks: list[str]) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{live.url}/b/{code}")
    for order, label in enumerate(marks, start=1):
        page.locator(f"#item-{order}").get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Xem lại phiếu").click()
    page.get_by_role("button", name="Gửi phiếu").click()
    page.wait_for_selector(".receipt-code")
    context.close()


def type_ballot(page, keys: str) -> None:  # type: ignore[no-untyped-def]
    """Type one paper ballot with the printed columns' digits (1, 2, 3), X or 0, then add it."""
    page.locator("fieldset.paper-row input").first.focus()
    for key in keys:
        page.keyboard.press(key)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_organizer_runs_a_whole_round(live: Live, desktop, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = desktop
    log_in(page, live)
    assert axe_check(page) == []
    shot(page, "admin-dashboard")
    page.get_by_role("link", name="Tạo đợt lấy phiếu").first.click()
    page.get_by_label("Tên đợt lấy phiếu").fill("Lấy phiếu tín nhiệm HĐND xã 2013")
    page.get_by_label("Năm", exact=True).fill("2013")  # NQ 35/2012 is in force in 2013-2014
    page.get_by_label("Tổng số thành viên của đơn vị").fill("5")
    page.get_by_label("Số người được triệu tập").fill("5")
    page.get_by_label("Số người có mặt").fill("5")
    page.get_by_label("Quy định áp dụng").select_option("nq35-2012")
    page.locator("details.profiles summary").click()
    assert "quá nửa" in page.locator("#profile-nq35-2012").inner_text()
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_ROSTER, encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(bad))
    page.get_by_role("button", name="Kiểm tra danh sách").click()
    summary = page.locator(".error-summary").inner_text()
    assert "Dòng 3" in summary
    assert "Dòng 4" in summary
    shot(page, "admin-roster-errors")
    good = tmp_path / "good.csv"
    good.write_text(GOOD_ROSTER, encoding="utf-8")
    page.locator("input[type=file]").set_input_files(str(good))
    page.get_by_role("button", name="Kiểm tra danh sách").click()
    assert page.locator("#preview").is_visible()
    assert axe_check(page) == []
    shot(page, "admin-roster-preview")
    page.get_by_role("button", name="Tạo đợt lấy phiếu với danh sách này").click()
    page.wait_for_url(re.compile(r"/admin/rounds/\d+$"))
    round_url = page.url
    assert page.locator("ol.items li").count() == 3
    assert "Đỗ Thị Giang" in page.locator("ul.exempt").inner_text()
    assert axe_check(page) == []
    shot(page, "admin-round-draft")

    page.get_by_label("Số mã").fill("3")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Cấp mã và tải về").click()
    codes_file = tmp_path / "codes.txt"
    download_info.value.save_as(codes_file)
    codes = codes_file.read_text().split()
    assert len(codes) == 3

    # The counting committee's key (a committee of one, made as its member would; the ceremony
    # through the pages and `votes trustee` is tested in tests/test_sealed*.py).
    round_id = int(round_url.rsplit("/", 1)[1])
    with live.world.sessions() as session:
        add_committee(session, round_id)
        session.commit()
    page.goto(round_url)
    page.get_by_role("link", name="Bắt đầu bỏ phiếu").click()
    shot(page, "admin-confirm-open")
    page.get_by_role("button", name=re.compile("Đồng ý")).click()
    assert "Đã nhận 0 / 3 phiếu" in page.get_by_test_id("turnout").inner_text()
    # The number present, counted in the hall once the round is open.
    page.get_by_label("Số người có mặt").fill("4")
    page.get_by_role("button", name="Ghi nhận số người tham dự").click()
    assert "Đã ghi nhận số người tham dự" in page.locator("p.flash").first.inner_text()
    assert "4" in page.locator("dl.facts").inner_text()
    shot(page, "admin-round-attendance")

    vote(browser, live, codes[0], ["Tín nhiệm cao", "Tín nhiệm thấp", "Tín nhiệm"])
    vote(browser, live, codes[1], ["Tín nhiệm", "Tín nhiệm thấp", "Tín nhiệm"])
    page.reload()
    assert "Đã nhận 2 / 3 phiếu" in page.get_by_test_id("turnout").inner_text()
    assert axe_check(page) == []
    shot(page, "admin-round-open")

    # Two paper ballots, typed twice; the entries agree.
    page.get_by_role("link", name="Nhập phiếu giấy").click()
    assert axe_check(page) == []
    shot(page, "admin-paper")
    for entry in (1, 2):
        page.get_by_role("link", name=f"Bắt đầu lượt nhập {entry}").click()
        type_ballot(page, "132")  # high, low, confidence
        type_ballot(page, "33X")  # low, low, several boxes
        if entry == 1:
            last = page.get_by_test_id("last").inner_text()
            assert "Phiếu vừa ghi (số 2): hợp lệ" in last
            assert "Hoàng Văn Em: 3 Tín nhiệm thấp" in last
            assert "Tập thể Thường trực: X Đánh nhiều ô" in last
            assert axe_check(page) == []
            shot(page, "admin-paper-entry")
        page.get_by_role("button", name=f"Kết thúc lượt nhập {entry}").click()
    page.get_by_role("link", name="So sánh hai lượt nhập").click()
    assert "2 phiếu" in page.get_by_test_id("agree").inner_text()
    page.get_by_label(re.compile("Số phiếu giấy đã phát ra")).fill("2")
    shot(page, "admin-paper-agree")
    page.get_by_role("button", name="Chấp nhận tập phiếu, đưa vào hòm phiếu").click()
    assert "Đã nhận 4 / 5 phiếu" in page.get_by_test_id("turnout").inner_text()

    page.get_by_role("link", name="Kết thúc bỏ phiếu").click()
    page.get_by_role("button", name=re.compile("Đồng ý")).click()
    with live.world.sessions() as session:  # the committee decrypts the online totals
        decrypt_round(session, round_id)
        session.commit()
    page.goto(round_url)
    page.get_by_role("link", name="Xem kết quả").click()
    assert page.locator("svg.bar rect.track").count() == 3
    assert page.locator("svg.bar rect.seg-low").count() == 2
    # Hoàng Văn Em: 4 low of D = 5 members → more than one half.
    assert "Hoàng Văn Em" in page.get_by_test_id("findings").inner_text()
    assert "80,00 %" in page.content()
    assert axe_check(page) == []
    shot(page, "admin-results")
    page.get_by_role("link", name="Công bố kết quả").first.click()
    page.get_by_role("button", name=re.compile("Đồng ý")).click()
    assert page.locator(".badge-published").count() == 1


def test_double_entry_catches_a_mismatch(live: Live, desktop, browser) -> None:  # type: ignore[no-untyped-def]
    """Two clerks at two computers (two accounts) type the same stack; one misreads ballot 2."""
    first = desktop
    log_in(first, live)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    second = context.new_page()
    log_in(second, live, "admin")
    paper = f"{live.url}/admin/rounds/{live.world.ids['open']}/paper"
    for page in (first, second):
        page.goto(paper)
    first.get_by_role("link", name="Bắt đầu lượt nhập 1").click()
    second.get_by_role("link", name="Bắt đầu lượt nhập 2").click()
    # They type at the same time, ballot by ballot.
    for one, two in (("111", "111"), ("223", "222"), ("333", "333")):
        type_ballot(first, one)
        type_ballot(second, two)
    assert "Số phiếu đã nhập và lưu: 3." in second.get_by_test_id("stage").inner_text()
    assert "V 223" not in second.content()  # the other entry is never shown
    # The first clerk closes the browser by mistake: nothing typed is lost.
    tab = first.context
    first.close()
    first = tab.new_page()
    first.goto(f"{paper}/1")
    assert "Số phiếu đã nhập và lưu: 3." in first.get_by_test_id("stage").inner_text()
    first.get_by_role("button", name="Kết thúc lượt nhập 1").click()
    second.get_by_role("button", name="Kết thúc lượt nhập 2").click()
    assert "Đã nhập 3 phiếu" in second.get_by_test_id("entry-1").inner_text()
    assert axe_check(second) == []
    shot(second, "admin-paper-overview")
    second.get_by_role("link", name="So sánh hai lượt nhập").click()
    differences = second.get_by_test_id("differences")
    assert "Số phiếu hai lượt nhập không khớp: 1" in differences.inner_text()
    rows = differences.locator("tbody tr")
    assert rows.count() == 1
    # The ballot, the person whose row differs, and both entries in words.
    assert rows.first.inner_text().split() == [
        "2",
        *["Lê", "Văn", "Cường"],
        *["3", "—", "Tín", "nhiệm", "thấp"],
        *["2", "—", "Tín", "nhiệm"],
    ]
    assert second.get_by_role("button", name=re.compile("Chấp nhận")).count() == 0
    assert axe_check(second) == []
    shot(second, "admin-paper-mismatch")
    # The clerks check ballot 2 and correct the second entry; now the batch can be accepted.
    entry_2 = second.get_by_label("Lượt nhập 2")
    entry_2.fill(entry_2.input_value().replace("V 222", "V 223"))
    second.get_by_role("button", name="Lưu phần sửa và so sánh lại").click()
    assert "3 phiếu" in second.get_by_test_id("agree").inner_text()
