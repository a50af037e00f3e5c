"""A voter votes on a phone-sized browser, by touch and by keyboard alone."""

from __future__ import annotations

import re

from tests.e2e.conftest import Live, axe_check, shot


def open_from_slip(page, url: str, code: str, *, old_link: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Open the slip's QR link: /b#CODE (or an old /b/CODE link); the page posts the code."""
    page.goto(f"{url}/b/{code}" if old_link else f"{url}/b#{code}")
    page.wait_for_url(re.compile(r"/$"))  # the code was posted to the code page's form
    page.wait_for_load_state()


def test_voter_votes_on_a_phone(live: Live, phone) -> None:  # type: ignore[no-untyped-def]
    page = phone
    code = live.world.codes["open"][1]
    page.goto(live.url + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert axe_check(page) == []
    shot(page, "voter-code")
    page.get_by_label("Mã bỏ phiếu").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Mở phiếu của tôi").click()
    assert page.locator("fieldset.item").count() == 3
    assert axe_check(page) == []
    shot(page, "voter-ballot")
    # The page fits the phone: nothing wider than the viewport.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    # Leave the second person without a choice: the ballot comes back, choices kept.
    page.locator("#item-1").get_by_label("Tín nhiệm cao").check()
    page.locator("#item-3").get_by_label("Tín nhiệm thấp").check()
    page.get_by_role("button", name="Xem lại phiếu").click()
    assert page.locator(".error-summary").is_visible()
    assert page.locator("#item-2.has-error").count() == 1
    assert page.locator("#item-1").get_by_label("Tín nhiệm cao").is_checked()
    assert axe_check(page) == []
    shot(page, "voter-missing")
    page.locator("#item-2").get_by_label("Tín nhiệm", exact=True).check()
    page.get_by_role("button", name="Xem lại phiếu").click()
    assert page.get_by_role("heading", name="Xem lại phiếu").is_visible()
    assert axe_check(page) == []
    shot(page, "voter-review")
    page.get_by_role("button", name="Sửa lại").click()
    assert page.locator("#item-3").get_by_label("Tín nhiệm thấp").is_checked()
    page.get_by_role("button", name="Xem lại phiếu").click()
    page.get_by_role("button", name="Gửi phiếu").click()
    receipt = page.locator(".receipt-code").inner_text()
    assert re.fullmatch(r"BN( [0-9]{4}){4}", receipt)  # a sealed ballot's receipt
    assert "không ai" in page.content()
    assert axe_check(page) == []
    shot(page, "voter-receipt")
    # The same code again, from the slip's QR code (/b#CODE): the ballot opens as for an unused
    # code (whoever holds the printed list learns nothing by opening it); sending it is refused,
    # in plain Vietnamese, and changes nothing.
    open_from_slip(page, live.url, code)
    assert page.locator("fieldset.item").count() == 3
    assert "#" not in page.url
    assert code not in page.url
    for order in (1, 2, 3):
        page.locator(f"#item-{order}").get_by_label("Tín nhiệm cao").check()
    page.get_by_role("button", name="Xem lại phiếu").click()
    page.get_by_role("button", name="Gửi phiếu").click()
    assert page.get_by_role("heading", name="Không dùng được mã này").is_visible()
    assert "đã được sử dụng" in page.content()
    assert axe_check(page) == []
    shot(page, "voter-used")


def test_voter_votes_with_the_keyboard_alone(live: Live, phone) -> None:  # type: ignore[no-untyped-def]
    page = phone
    code = live.world.codes["open"][2]
    page.goto(live.url + "/")

    def tab_to(condition: str, limit: int = 20) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(
                f"(() => {{ const e = document.activeElement; return {condition}; }})()"
            ):
                return
        raise AssertionError(f"Tab never reached {condition}")

    tab_to("e.id === 'code'")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector("fieldset.item")
    # Tab into each group; Space picks the first level, arrows move within the group.
    tab_to("e.name === 'item_1'")
    page.keyboard.press("Space")
    tab_to("e.name === 'item_2'")
    page.keyboard.press("ArrowDown")  # second level of item 2
    tab_to("e.name === 'item_3'")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # third level of item 3
    tab_to("e.tagName === 'BUTTON'")
    page.keyboard.press("Enter")  # "Xem lại phiếu"
    page.wait_for_selector("ol.review")
    assert page.locator("ol.review li").count() == 3
    assert "Tín nhiệm thấp" in page.locator("ol.review li").nth(2).inner_text()
    tab_to("e.textContent.includes('Gửi phiếu')")
    page.keyboard.press("Enter")
    page.wait_for_selector(".receipt-code")


def test_closed_and_unknown_codes_look_alike(live: Live, phone) -> None:  # type: ignore[no-untyped-def]
    page = phone
    open_from_slip(page, live.url, live.world.codes["closed"][1])
    closed = page.locator(".refusal").inner_text()
    open_from_slip(page, live.url, "ACDE-FGHJ-KMNP", old_link=True)
    unknown = page.locator(".refusal").inner_text()
    assert closed == unknown
    shot(page, "voter-refused")


def test_ballot_in_english_on_a_desktop(live: Live, desktop) -> None:  # type: ignore[no-untyped-def]
    page = desktop
    page.goto(live.url + "/")
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    open_from_slip(page, live.url, live.world.codes["open"][0])
    assert page.get_by_role("radio", name="High confidence").count() == 3
    assert axe_check(page) == []
    shot(page, "voter-ballot-en-desktop")
