"""The pages as a committee member sees them, on a phone (390×844) and a desktop (1366×768),
in Vietnamese and in English: the results chart read right, the ballot of 25 persons, typing
a code, the staff pages in words. Every page is checked with axe and saved as a screenshot
(VOTES_PAGES_SHOTS, /tmp/pages-shots by default) to be looked at.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Live, axe_check
from tests.factories import add_committee, decrypt_round
from tests.web_fixtures import PASSWORD
from votes import credentials, operations
from votes.meeting import parse_committee
from votes.models import Credential
from votes.roster import parse_roster

SHOTS = Path(os.environ.get("VOTES_PAGES_SHOTS", "/tmp/pages-shots"))
VIEWPORTS = {"phone": (390, 844), "desktop": (1366, 768)}
# A code chosen here, not drawn: Telex turns its "EX" into "Ẽ" on a Vietnamese keyboard.
TELEX_CODE = "EXP6-MCDE-FGHJ"

# The council's results, worked by hand: D = ballots collected = 17 (NQ 96/2023/QH15).
# (high, confidence, low) per person.
COUNCIL_MARKS = {
    "Nguyễn Thị Thanh Hương": (5, 3, 9),  # 9/17 = 52,94 %: over one half, under two thirds
    "Trần Văn Bình": (2, 3, 12),  # 12/17 = 70,59 %: two thirds or more
    "Lê Hoàng Cường": (10, 5, 2),  # 2/17 = 11,76 %
}
COLLECTED = 17
# NQ 96/2023/QH15 draws lines where its bands begin: one half and two thirds of D.
COUNCIL_LINES = (Fraction(1, 2), Fraction(2, 3))


@dataclass
class Pages:
    """The rounds these tests look at."""

    party_round: int
    party_codes: list[str]
    council_round: int
    council_body: str
    person_id: int
    long_codes: list[str]


def _roster(names: list[str], prefix: str = "k") -> bytes:
    lines = ["Họ và tên,Chức vụ,Mã cá nhân"]  # a Vietnamese office's headings
    lines += [f"{name},Ủy viên Ban Thường vụ,{prefix}{i}" for i, name in enumerate(names, 1)]
    return "\n".join(lines).encode()


PARTY_NAMES = [
    f"{family} {middle} {given}"
    for family, middle, given in [
        ("Nguyễn", "Văn", "An"),
        ("Trần", "Thị Thanh", "Bình"),
        ("Lê", "Quang", "Cường"),
        ("Phạm", "Thị", "Dung"),
        ("Hoàng", "Minh", "Đức"),
        ("Vũ", "Thị Ngọc", "Giang"),
        ("Đặng", "Quốc", "Hải"),
        ("Bùi", "Thị", "Hạnh"),
        ("Đỗ", "Văn", "Hùng"),
        ("Hồ", "Thị Thu", "Hương"),
        ("Ngô", "Đức", "Khang"),
        ("Dương", "Thị", "Lan"),
        ("Lý", "Văn", "Long"),
        ("Phan", "Thị Mỹ", "Linh"),
        ("Trịnh", "Xuân", "Mạnh"),
        ("Đinh", "Thị", "Nga"),
        ("Mai", "Văn", "Nam"),
        ("Tạ", "Thị", "Oanh"),
        ("Lương", "Công", "Phúc"),
        ("Chu", "Thị", "Quyên"),
        ("Hà", "Văn", "Sơn"),
        ("Kiều", "Thị", "Tâm"),
        ("Cao", "Minh", "Thắng"),
        ("La", "Thị", "Uyên"),
        ("Tô", "Văn", "Vinh"),
    ]
]


@pytest.fixture(scope="module")
def pages(live: Live) -> Pages:
    """A Party committee with an open 25-person poll; a council with published results."""
    world = live.world
    secret = world.app.config["SECRET_KEY"]
    with operations.work(world.sessions, "setup") as work:
        operations.add_body(work, "TU-P", "Tỉnh ủy Thái Nguyên", "party")
        party = operations.create_round(
            work,
            body_code="TU-P",
            year=2025,
            profile_id="qd96-2023",
            title="Lấy phiếu tín nhiệm Ban Thường vụ giữa nhiệm kỳ",
            roster=parse_roster(_roster(PARTY_NAMES)),
            members=45,
            summoned=45,
            present=44,
            time_exception="01-QĐ/TU",
        )
        party_codes = operations.issue_codes(work, party.id, 6, secret)
        work.session.add(
            Credential(round_id=party.id, digest=credentials.digest(secret, TELEX_CODE))
        )
        add_committee(work.session, party.id)
        operations.open_round(work, party.id)
        sixty = [f"{name} {n}" for n in ("A", "B", "C") for name in PARTY_NAMES[:20]]
        long_round = operations.create_round(
            work,
            body_code="TU-P",
            year=2025,
            profile_id="qd96-2023",
            title="Lấy phiếu tín nhiệm các chức danh do Tỉnh ủy quản lý",
            roster=parse_roster(_roster(sixty, "s")),
            members=80,
            summoned=80,
            present=78,
            time_exception="02-QĐ/TU",
        )
        long_codes = operations.issue_codes(work, long_round.id, 2, secret)
        add_committee(work.session, long_round.id)
        operations.open_round(work, long_round.id)
        operations.add_body(work, "HD-P", "Hội đồng nhân dân tỉnh Thái Nguyên", "council")
        names = list(COUNCIL_MARKS)
        council = operations.create_round(
            work,
            body_code="HD-P",
            year=2025,
            profile_id="nq96-2023",
            title="Lấy phiếu tín nhiệm năm 2025",
            roster=parse_roster(_roster(names, "h")),
            members=20,
            summoned=18,
            present=17,
            time_exception="05/NQ-HĐND",
        )
        council_codes = operations.issue_codes(work, council.id, COLLECTED, secret)
        add_committee(work.session, council.id)
        operations.open_round(work, council.id)
        party_id, council_id = party.id, council.id
    ballots: list[list[str]] = [[] for _ in range(COLLECTED)]
    for high, confidence, low in COUNCIL_MARKS.values():
        letters = ["H"] * high + ["C"] * confidence + ["L"] * low
        for ballot, letter in zip(ballots, letters, strict=True):
            ballot.append(letter)
    with world.sessions() as session:
        for code, marks in zip(council_codes, ballots, strict=True):
            operations.cast_ballot(session, secret, code, marks)
    with operations.work(world.sessions, "setup") as work:
        operations.close_round(work, council_id)
        decrypt_round(work.session, council_id)
        operations.record_meeting(
            work,
            council_id,
            held_on=dt.date(2025, 6, 20),
            committee=parse_committee("Hà Thị Mai (Trưởng ban); Vương Đình Khoa"),
            place="Hội trường tỉnh",
        )
        operations.publish_round(work, council_id)
        person = next(i.person for i in work.round(council_id).items if i.order == 1)
        person_id = person.id
    return Pages(party_id, party_codes, council_id, "HD-P", person_id, long_codes)


@pytest.fixture(params=[(v, lang) for v in VIEWPORTS for lang in ("vi", "en")], ids=str)
def view(browser, live: Live, request: pytest.FixtureRequest) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A page at one of the two sizes, in one of the two languages."""
    size, lang = request.param
    width, height = VIEWPORTS[size]
    phone = size == "phone"
    context = browser.new_context(
        viewport={"width": width, "height": height},
        has_touch=phone,
        is_mobile=phone,
        device_scale_factor=2 if phone else 1,
        locale="vi-VN",
    )
    page = context.new_page()
    if lang == "en":
        page.goto(f"{live.url}/lang/en?next=/")
    page.view = (size, lang, width)  # type: ignore[attr-defined]
    yield page
    context.close()


def shoot(page: Any, name: str) -> None:
    """Save a full-page screenshot named by page, size and language."""
    size, lang, _width = page.view
    if os.environ.get("VOTES_SCREENSHOTS") == "off":  # as tests/e2e/conftest.py shot()
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{size}-{lang}.png"), full_page=True)


def fits(page: Any) -> None:
    """Nothing on the page is wider than the screen."""
    width = page.view[2]
    wide = page.evaluate(
        """width => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > width + 1 ||
                          (el.scrollWidth > width && getComputedStyle(el).overflowX === 'visible'))
            .filter(el => !el.parentElement.closest('.table-wrap'))
            .slice(0, 5).map(el => el.tagName + '.' + el.className + ' ' +
                             (el.textContent || '').slice(0, 40))""",
        width,
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= width, wide


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return found


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def font_px(locator: Any) -> float:
    """The rendered size of a text, in CSS pixels (an SVG text's user units scaled too)."""
    return float(
        locator.evaluate(
            """el => {
                const size = parseFloat(getComputedStyle(el).fontSize);
                const svg = el.ownerSVGElement;
                if (!svg || !svg.viewBox || !svg.viewBox.baseVal || !svg.viewBox.baseVal.width)
                    return size;
                return size * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            }"""
        )
    )


def login(page: Any, live: Live, username: str) -> None:
    page.goto(f"{live.url}/auth/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_load_state()


# ------------------------------------------------------------------------------ the results


def test_the_results_chart_reads_right(view: Any, live: Live, pages: Pages) -> None:
    page = view
    page.goto(f"{live.url}/r/{pages.council_round}")
    assert axe_check(page) == []
    fits(page)
    shoot(page, "results-public")
    rows = page.locator("[data-testid=bar-row]")
    assert rows.count() == len(COUNCIL_MARKS)
    for index, (high, confidence, low) in enumerate(COUNCIL_MARKS.values()):
        row = rows.nth(index)
        track = box(row.locator("rect.track"))
        low_bar = box(row.locator("rect.seg-low"))
        # The low share is measured from the left edge of the bar, the edge the lines use.
        assert abs(low_bar["x"] - track["x"]) <= 1
        assert abs(low_bar["width"] - track["width"] * low / COLLECTED) <= 1.5
        lines = row.locator("line.threshold")
        assert lines.count() == len(COUNCIL_LINES)  # only the profile's own thresholds
        for line, share in zip(
            [box(lines.nth(i)) for i in range(lines.count())], COUNCIL_LINES, strict=True
        ):
            expected = track["x"] + track["width"] * share.numerator / share.denominator
            assert abs(line["x"] + line["width"] / 2 - expected) <= 1.5
            crosses = low_bar["x"] + low_bar["width"] > expected + 0.5
            assert crosses == (Fraction(low, COLLECTED) > share), (index, share)
        # The other levels follow: the bar is as long as the ballots over D.
        assert high + confidence + low == COLLECTED
    # Labels a person can read: at least 12 px, none over another.
    for selector in (".bar-name", ".bar-low", "text.threshold-label", "text.axis-label"):
        texts = page.locator(selector)
        assert texts.count() > 0
        assert min(font_px(texts.nth(i)) for i in range(texts.count())) >= 12, selector
    labels = page.locator("text.threshold-label")
    boxes = [box(labels.nth(i)) for i in range(labels.count())]
    assert not any(overlap(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    assert [labels.nth(i).text_content() for i in range(labels.count())] == ["1/2", "2/3"]
    # The same figures as a table, for keyboards and screen readers.
    table = page.locator("[data-testid=results-table]")
    assert table.get_by_role("rowheader").count() == len(COUNCIL_MARKS)
    low_word = "Tín nhiệm thấp" if page.view[1] == "vi" else "Low confidence"
    assert "52,94 %" in table.inner_text() or "52.94%" in table.inner_text()
    # The low column is on the screen, with its name, beside every person.
    width = page.view[2]
    for i in range(len(COUNCIL_MARKS)):
        cell = box(table.locator("tbody tr").nth(i).locator("td.level-low"))
        assert cell["x"] >= 0
        assert cell["x"] + cell["width"] <= width
        if page.view[0] == "phone":  # the column's name sits in each cell
            cell_text = table.locator("tbody tr").nth(i).locator("td.level-low").inner_text()
            assert low_word in cell_text
    if page.view[0] == "desktop":
        heading = table.locator("thead th.level-low")
        assert heading.inner_text() == low_word
        assert box(heading)["x"] + box(heading)["width"] <= width
    # A name takes at most two lines, never a word a line.
    name = table.locator("tbody th .name").first
    line_height = float(name.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
    assert box(name)["height"] <= 2 * line_height + 1


# ------------------------------------------------------------------------------ the ballot


def _open_code(page: Any, live: Live, typed: str) -> None:
    page.goto(f"{live.url}/")
    page.locator("input[name=code]").fill(typed)
    page.locator("form.code-form button[type=submit]").click()
    page.wait_for_load_state()


def test_a_long_ballot_counts_and_forgives(view: Any, live: Live, pages: Pages) -> None:
    page = view
    size, lang, _width = page.view
    _open_code(page, live, pages.party_codes[0 if size == "phone" else 1])
    items = page.locator("fieldset.item")
    assert items.count() == 25
    text = page.locator("main").inner_text()
    if lang == "vi":
        assert "đồng chí" in text  # a Party committee addresses its member so
        assert "bạn" not in text.lower().split()
    assert page.locator("[data-testid=progress]").inner_text() == "0 / 25"
    assert axe_check(page) == []
    fits(page)
    shoot(page, "ballot-25")
    high = "Tín nhiệm cao" if lang == "vi" else "High confidence"
    for index in range(1, 13):
        page.locator(f"#item-{index}").get_by_label(high).check()
    assert page.locator("[data-testid=progress]").inner_text() == "12 / 25"
    # The counter and the button stay in sight at the foot of the screen.
    bar = box(page.locator(".ballot-bar"))
    assert bar["y"] + bar["height"] <= page.viewport_size["height"] + 1
    if size == "desktop":
        # The three levels of a person side by side, "Tín nhiệm cao" on one line.
        levels = [box(items.first.locator("label.level").nth(i)) for i in range(3)]
        assert len({round(b["y"]) for b in levels}) == 1
        label = items.first.locator("label.level span").first
        line_height = float(label.evaluate("el => parseFloat(getComputedStyle(el).lineHeight)"))
        assert box(label)["height"] <= line_height * 1.2
    page.locator(".ballot-bar button").click()
    page.wait_for_load_state()
    assert page.locator("[data-testid=missing-summary] li").count() == 13
    assert page.locator("[data-testid=progress]").inner_text() == "12 / 25"
    assert axe_check(page) == []
    shoot(page, "ballot-25-missing")
    # Choosing a level for a person takes that person's red line away at once.
    page.locator("#item-13").get_by_label(high).check()
    assert page.locator("#item-13 p.error").count() == 0
    assert page.locator("#item-13.has-error").count() == 0
    assert page.locator("[data-testid=missing-summary] li").count() == 12
    assert page.locator("#item-14 p.error").count() == 1
    assert page.locator("[data-testid=progress]").inner_text() == "13 / 25"
    for index in range(14, 26):
        page.locator(f"#item-{index}").get_by_label(high).check()
    assert page.locator("[data-testid=missing-summary]").count() == 0
    assert page.locator("[data-testid=progress]").inner_text() == "25 / 25"
    fits(page)


def test_a_council_ballot_addresses_a_deputy(view: Any, live: Live) -> None:
    page = view
    _open_code(page, live, live.world.codes["open"][2])
    text = page.locator("main").inner_text()
    if page.view[1] == "vi":
        assert "đại biểu" in text
        assert "đồng chí" not in text
        assert "bạn" not in text.lower().split()
    assert page.locator("[data-testid=progress]").inner_text() == "0 / 3"
    fits(page)
    shoot(page, "ballot-council")


def test_typing_a_code_forgives_the_keyboard_and_keeps_what_was_typed(
    view: Any, live: Live, pages: Pages
) -> None:
    page = view
    _open_code(page, live, "EXP6-MCDE")  # four characters short
    assert page.locator("input[name=code]").input_value() == "EXP6-MCDE"
    error = page.locator("[data-testid=code-error]").inner_text()
    assert "8" in error
    assert "12" in error
    assert page.locator("input[name=code]").get_attribute("aria-invalid") == "true"
    assert axe_check(page) == []
    fits(page)
    shoot(page, "code-short")
    _open_code(page, live, "ÁCDE-FGHJ-KMNP")  # no code can give Á: the keyboard is blamed
    assert page.locator("input[name=code]").input_value() == "ÁCDE-FGHJ-KMNP"
    assert "Á" in page.locator("[data-testid=code-error]").inner_text()
    shoot(page, "code-keyboard")
    # What Telex makes of EXP6-MCDE-FGHJ, in lower case with spaces: the ballot opens.
    _open_code(page, live, "ẽp6 mcde fghj")
    assert page.locator("fieldset.item").count() == 25


def test_the_receipt_is_no_code(view: Any, live: Live, pages: Pages) -> None:
    page = view
    size, lang, _width = page.view
    code = pages.party_codes[2 if size == "phone" else 3]
    if lang == "en":
        code = pages.party_codes[4 if size == "phone" else 5]
    _open_code(page, live, code)
    words = ("Tín nhiệm", "Confidence") if lang == "vi" else ("Confidence", "Tín nhiệm")
    for index in range(1, 26):
        page.locator(f"#item-{index}").get_by_label(words[0], exact=True).check()
    page.locator(".ballot-bar button").click()
    page.wait_for_load_state()
    shoot(page, "review-25")
    page.locator("button[value=cast]").click()
    page.wait_for_load_state()
    receipt = page.locator("[data-testid=receipt]").inner_text()
    label = page.locator(".receipt-label").inner_text()
    if lang == "vi":
        assert "Mã biên nhận" in label
        assert "không phải mã bỏ phiếu" in label
        assert "đồng chí" in page.locator("main").inner_text()
    assert receipt
    assert axe_check(page) == []
    fits(page)
    shoot(page, "receipt")


# ------------------------------------------------------------------------------ staff pages


def test_staff_pages_speak_words(view: Any, live: Live, pages: Pages) -> None:
    page = view
    lang = page.view[1]
    login(page, live, "auditor")
    assert re.search(r"/audit/?$", page.url)  # an auditor lands on the audit pages
    text = page.locator("main").inner_text()
    if lang == "vi":
        assert "QĐ 96-QĐ/TW (2023)" in text
        assert "qd96-2023 v" not in text
    shoot(page, "audit-index")
    page.goto(f"{live.url}/audit/log")
    log = page.locator("[data-testid=events]").inner_text()
    if lang == "vi":
        assert "Công bố kết quả" in log
        assert "round_published" not in log.split("JSON")[0]
    assert axe_check(page) == []
    fits(page)
    shoot(page, "audit-log")
    page.goto(f"{live.url}/audit/rounds/{pages.council_round}/results")
    assert axe_check(page) == []
    fits(page)
    shoot(page, "audit-results")
    page.goto(f"{live.url}/audit/persons/{pages.person_id}")
    assert axe_check(page) == []
    fits(page)
    points = page.locator("[data-testid=point-label]")
    axis = page.locator("[data-testid=axis-label]")
    lines = page.locator("[data-testid=threshold-label]")
    others = [box(axis.nth(i)) for i in range(axis.count())]
    others += [box(lines.nth(i)) for i in range(lines.count())]
    for i in range(points.count()):
        assert not any(overlap(box(points.nth(i)), other) for other in others)
        assert font_px(points.nth(i)) >= 12
    assert font_px(axis.first) >= 12
    shoot(page, "audit-person")


def test_organizer_pages_speak_words(view: Any, live: Live, pages: Pages) -> None:
    page = view
    login(page, live, "admin")
    page.goto(f"{live.url}/admin/rounds/{pages.council_round}")
    assert page.locator("#next-step").count() == 0  # published: nothing left to do
    assert axe_check(page) == []
    fits(page)
    shoot(page, "admin-round-published")
    page.goto(f"{live.url}/admin/rounds/{pages.party_round}")
    if page.view[1] == "vi":
        assert "QĐ 96-QĐ/TW (2023)" in page.locator("main").inner_text()
    shoot(page, "admin-round-open")
    page.goto(f"{live.url}/admin/rounds/{pages.council_round}/results")
    assert axe_check(page) == []
    fits(page)
    shoot(page, "admin-results")
    page.goto(f"{live.url}/admin/bodies/TU-P/rounds/new")
    # The rule in force today is chosen already (QĐ 96-QĐ/TW since 2 February 2023).
    assert page.locator("select[name=profile]").input_value() == "qd96-2023"
    shoot(page, "admin-round-new")


def test_a_ballot_of_60_persons_on_a_360_pixel_phone(browser, live: Live, pages: Pages) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    page = context.new_page()
    page.view = ("phone360", "vi", 360)
    try:
        _open_code(page, live, pages.long_codes[0])
        assert page.locator("fieldset.item").count() == 60
        assert page.locator("[data-testid=progress]").inner_text() == "0 / 60"
        fits(page)
        page.locator("#item-37").get_by_label("Tín nhiệm thấp").check()
        assert page.locator("[data-testid=progress]").inner_text() == "1 / 60"
        # The counter and the button are in sight wherever the voter is in the list.
        bar = box(page.locator(".ballot-bar"))
        assert bar["y"] >= 0
        assert bar["y"] + bar["height"] <= 740 + 1
        # Every choice is a big target: at least 44 px high.
        assert box(page.locator("#item-60 label.level").first)["height"] >= 44
        assert axe_check(page) == []
        shoot(page, "ballot-60")
    finally:
        context.close()
