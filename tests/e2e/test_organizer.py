"""An organizer runs a whole round in the browser; double entry catches a mismatch."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.conftest import Live, axe_check, shot
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
    """Type one paper ballot with the H/C/L/X keys, then add it."""
    page.locator("fieldset.paper-row input").first.focus()
    for key in keys:
        page.keyboard.press(key)
    page.keyboard.press("Enter")
    page.wait_for_load_state()


def test_organizer_runs_a_whole_round(live: Live, desktop, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page = desktop
    log_in(page, live)
    assert axe_check(page) == []
    shot(page, "admin-dashboard")
    page.get_by_role("link", name="Tạo đợt lấy phiếu").first.click()
    page.get_by_label("Tên đợt lấy phiếu").fill("Lấy phiếu tín nhiệm HĐND xã 2025")
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
    for stage in ("first", "second"):
        type_ballot(page, "HLC")
        type_ballot(page, "LLX")
        page.get_by_role("button", name=re.compile("Kết thúc lượt nhập")).click()
        del stage
    assert "2 phiếu" in page.get_by_test_id("agree").inner_text()
    page.get_by_label(re.compile("Số phiếu giấy đã phát ra")).fill("2")
    shot(page, "admin-paper-agree")
    page.get_by_role("button", name="Chấp nhận tập phiếu, đưa vào hòm phiếu").click()
    assert "Đã nhận 4 / 5 phiếu" in page.get_by_test_id("turnout").inner_text()

    page.get_by_role("link", name="Kết thúc bỏ phiếu").click()
    page.get_by_role("button", name=re.compile("Đồng ý")).click()
    page.get_by_role("link", name="Xem kết quả").click()
    assert page.locator("svg.bars rect.track").count() == 3
    assert page.locator("svg.bars rect.seg-low").count() == 2
    # Hoàng Văn Em: 4 low of D = 5 members → more than one half.
    assert "Hoàng Văn Em" in page.get_by_test_id("findings").inner_text()
    assert "80,00 %" in page.content()
    assert axe_check(page) == []
    shot(page, "admin-results")
    page.get_by_role("link", name="Công bố kết quả").first.click()
    page.get_by_role("button", name=re.compile("Đồng ý")).click()
    assert page.locator(".badge-published").count() == 1


def test_double_entry_catches_a_mismatch(live: Live, desktop) -> None:  # type: ignore[no-untyped-def]
    page = desktop
    log_in(page, live)
    page.goto(f"{live.url}/admin/rounds/{live.world.ids['open']}/paper")
    type_ballot(page, "HHH")
    type_ballot(page, "CCL")
    type_ballot(page, "LLL")
    page.get_by_role("button", name="Kết thúc lượt nhập thứ nhất").click()
    assert "Lượt nhập thứ hai" in page.get_by_test_id("stage").inner_text()
    type_ballot(page, "HHH")
    type_ballot(page, "CCC")  # the second clerk read ballot 2 differently
    type_ballot(page, "LLL")
    page.get_by_role("button", name="Kết thúc lượt nhập thứ hai và so sánh").click()
    differences = page.get_by_test_id("differences")
    assert "Số phiếu hai lượt nhập không khớp: 1" in differences.inner_text()
    rows = differences.locator("tbody tr")
    assert rows.count() == 1
    assert rows.first.inner_text().split() == ["2", "V", "CCL", "V", "CCC"]
    assert page.get_by_role("button", name=re.compile("Chấp nhận")).count() == 0
    assert axe_check(page) == []
    shot(page, "admin-paper-mismatch")
    # The clerks check ballot 2 and correct the second entry; now the batch can be accepted.
    second = page.get_by_label("Lượt nhập thứ hai")
    second.fill(second.input_value().replace("V CCC", "V CCL"))
    page.get_by_role("button", name="So sánh lại").click()
    assert "3 phiếu" in page.get_by_test_id("agree").inner_text()
