"""Staff and voter pages in words (issue 16), with the Flask client: where an auditor lands,
rules cited by name, the log in words, the rule in force by default, Vietnamese roster
headings, and the voter addressed as the body addresses its members.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests import web_fixtures
from tests.web_fixtures import World, login, open_ballot
from votes.errors import InvalidInput
from votes.profiles import get_profile, latest_profiles, short_name
from votes.roster import parse_roster
from votes.web.admin import profile_in_force

world = web_fixtures.world  # the fixture, under its own name


def test_an_auditor_lands_on_the_audit_pages(world: World) -> None:
    client = world.app.test_client()
    response = login(client, "auditor")
    assert response.status_code == 302
    assert response.headers["Location"].rstrip("/").endswith("/audit")
    organizer = login(world.app.test_client(), "organizer")
    assert organizer.headers["Location"].rstrip("/").endswith("/admin")


@pytest.mark.parametrize(
    ("profile", "vi", "en"),
    [
        ("qd96-2023", "QĐ 96-QĐ/TW (2023)", "Regulation 96-QD/TW (2023)"),
        ("qd262-2014", "QĐ 262-QĐ/TW (2014)", "Regulation 262-QD/TW (2014)"),
        ("nq35-2012", "NQ 35/2012/QH13", "Resolution 35/2012/QH13"),
        ("tn-16kh-2012", "KH 16-KH/TU (Thái Nguyên, 2012)", "Plan 16-KH/TU (Thai Nguyen, 2012)"),
    ],
)
def test_a_profile_is_cited_as_people_cite_it(profile: str, vi: str, en: str) -> None:
    found = get_profile(None, profile)
    assert short_name(found.name.vi) == vi
    assert short_name(found.name.en) == en


def test_round_pages_cite_the_rule_not_its_id(world: World) -> None:
    html = world.client("organizer").get(f"/admin/rounds/{world.ids['open']}").get_data(True)
    assert "NQ 35/2012/QH13" in html
    assert "nq35-2012 v" not in html


@pytest.mark.parametrize(
    ("kind", "day", "expected"),
    [
        ("party", dt.date(2026, 11, 29), "qd96-2023"),
        ("party", dt.date(2020, 5, 1), "qd262-2014"),
        ("party", dt.date(2014, 1, 10), "qd165-2013"),
        ("council", dt.date(2026, 11, 29), "nq96-2023"),
        ("council", dt.date(2018, 6, 1), "nq85-2014"),
    ],
)
def test_the_round_form_offers_the_rule_in_force(
    world: World, kind: str, day: dt.date, expected: str
) -> None:
    with world.sessions() as session:
        assert profile_in_force(latest_profiles(session, kind), day) == expected


def test_the_round_form_selects_it(world: World) -> None:
    html = world.client("organizer").get("/admin/bodies/A/rounds/new").get_data(True)
    selected = re.search(r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', html)
    assert selected
    assert (selected.group(1) or selected.group(2)) == "nq96-2023"  # councils, since 2023


def test_the_log_speaks_words(world: World) -> None:
    html = world.client("auditor").get("/audit/log").get_data(True)
    table = html.split('data-testid="events"')[1]
    assert "Mở đợt lấy phiếu" in table
    assert "Kết thúc đợt và kiểm phiếu" in table
    assert "<code>round_opened</code>" not in table
    assert "Số người có mặt: 10" in table or "Có mặt: 10" in table


def test_no_empty_next_steps_after_publishing(world: World) -> None:
    client = world.client("organizer")
    page = client.get(f"/admin/rounds/{world.ids['closed']}").get_data(True)
    assert 'id="next-step"' in page  # closed: publishing is the next step
    from votes import operations

    with operations.work(world.sessions, "setup") as work:
        operations.publish_round(work, world.ids["closed"])
    page = client.get(f"/admin/rounds/{world.ids['closed']}").get_data(True)
    assert 'id="next-step"' not in page


def test_a_council_ballot_addresses_a_deputy(world: World) -> None:
    html = open_ballot(world.app.test_client(), world.codes["open"][0]).get_data(True)
    assert "Đề nghị đại biểu chọn" in html
    assert not re.search(r"\bbạn\b", html, re.IGNORECASE)


ENGLISH = "name,position,person_key,kind,exempt_reason\n"
VIETNAMESE = "Họ và tên,Chức vụ,Mã cá nhân,Loại,Lý do không lấy phiếu\n"
LINES = (
    "Nguyễn Văn An,Bí thư,p1,,\n"
    "Ban Thường vụ,,,{collective},\n"
    "Lê Văn Cường,Ủy viên,p3,,Đã có thông báo nghỉ hưu\n"
)


@pytest.mark.parametrize(
    ("header", "collective"),
    [
        (ENGLISH, "collective"),
        (VIETNAMESE, "Tập thể"),
        (VIETNAMESE.upper(), "tập thể"),
        ("  họ và  tên , CHỨC VỤ ,Mã cá nhân,loại,Lý do không lấy phiếu\n", "TẬP THỂ"),
    ],
)
def test_roster_headings_in_vietnamese_or_english(header: str, collective: str) -> None:
    entries = parse_roster((header + LINES.format(collective=collective)).encode())
    assert [(e.name, e.kind, e.person_key) for e in entries] == [
        ("Nguyễn Văn An", "person", "p1"),
        ("Ban Thường vụ", "collective", None),
        ("Lê Văn Cường", "person", "p3"),
    ]
    assert entries[2].exempt_reason == "Đã có thông báo nghỉ hưu"


def test_an_unknown_heading_names_the_vietnamese_ones_too() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_roster("Tên,Chức vụ\nNguyễn Văn An,Bí thư\n".encode())
    assert "Họ và tên" in refused.value.message("vi")


def test_every_reading_of_a_typed_code_is_looked_up(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Telex and VNI readings are both looked up whatever the first answer: the number of
    look-ups (and so the time) depends on the typed text only, never on what exists."""
    from votes import credentials
    from votes.models import Credential
    from votes.web import ballot as ballot_views

    secret = world.app.config["SECRET_KEY"]
    with world.sessions() as session:  # EXP6-… belongs to the closed round
        session.add(
            Credential(
                round_id=world.ids["closed"], digest=credentials.digest(secret, "EXP6-MCDE-FGHJ")
            )
        )
        session.commit()
    calls: list[str] = []
    real = ballot_views.find_code

    def counted(session, code):  # type: ignore[no-untyped-def]
        calls.append(code)
        return real(session, code)

    monkeypatch.setattr(ballot_views, "find_code", counted)
    client = world.app.test_client()
    closed = open_ballot(client, "ẼP6-MCDE-FGHJ")  # Telex reading: a closed round's code
    assert calls == ["EXP6-MCDE-FGHJ", "E4P6-MCDE-FGHJ"]
    calls.clear()
    unknown = open_ballot(client, "ẼP6-MCDE-FGHK")  # neither reading exists
    assert calls == ["EXP6-MCDE-FGHK", "E4P6-MCDE-FGHK"]
    assert closed.status_code == unknown.status_code == 403
    assert "EXP6-MCDE-FGHJ" not in closed.get_data(True).replace("ẼP6-MCDE-FGHJ", "")
