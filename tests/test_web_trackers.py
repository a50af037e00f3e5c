"""The public list of counted receipts and the auditors' list of sealed ballots, through the
Flask client: what each state shows, the search, the pages, the downloads, the links."""

from __future__ import annotations

import csv
import io
import json
import re

from tests import web_fixtures
from tests.factories import add_committee, decrypt_round
from tests.test_record import stored_box_digest, stored_receipts
from tests.web_fixtures import World, csrf_token, open_ballot
from votes import operations
from votes.roster import parse_roster

world = web_fixtures.world  # the fixture, under its own name

LISTED = re.compile(r"<li id=\"r(\d{16})\"[^>]*>(BN[0-9 ]+)</li>")


def cast_online(world: World, name: str, start: int, stop: int) -> None:
    """Cast ballots of a round with its codes number `start` to `stop` (not included)."""
    with world.sessions() as session:
        for code in world.codes[name][start:stop]:
            operations.cast_ballot(session, world.app.config["SECRET_KEY"], code, ["H", "C", "L"])


def close(world: World, name: str) -> None:
    with operations.work(world.sessions, "setup") as work:
        operations.close_round(work, world.ids[name])
    with world.sessions() as session:
        decrypt_round(session, world.ids[name])
        session.commit()


def test_a_counted_round_lists_every_receipt_with_the_box_digest(world: World) -> None:
    client = world.client()
    page = client.get(f"/r/{world.ids['closed']}/receipts")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with world.sessions() as session:
        expected = stored_receipts(session, world.ids["closed"])
        digest = stored_box_digest(session, world.ids["closed"])
    assert [receipt for _anchor, receipt in LISTED.findall(html)] == expected
    shown = re.search(r'data-testid="box-digest">([0-9a-f ]+)<', html)
    assert shown
    assert shown.group(1).replace(" ", "") == digest
    # Links to the downloads and the check page; the round is not published: no results link.
    assert f"/r/{world.ids['closed']}/receipts.json" in html
    assert f'href="/r/{world.ids["closed"]}"' not in html


def test_a_voter_finds_their_receipt_however_it_is_typed(world: World) -> None:
    client = world.client()
    with world.sessions() as session:
        (receipt,) = stored_receipts(session, world.ids["closed"])
    typed = receipt.lower().replace(" ", "-")
    html = client.get(f"/r/{world.ids['closed']}/receipts", query_string={"q": typed}).get_data(
        as_text=True
    )
    assert "Đã kiểm" in html
    assert 'class="found"' in html
    anchor = "r" + receipt.removeprefix("BN ").replace(" ", "")
    assert f'href="#{anchor}"' in html
    missing = client.get(
        f"/r/{world.ids['closed']}/receipts", query_string={"q": "BN 0000 0000 0000 0000"}
    ).get_data(as_text=True)
    assert "Không tìm thấy" in missing
    assert 'class="found"' not in missing


def test_nothing_is_listed_while_the_round_is_open_or_awaiting_decryption(world: World) -> None:
    cast_online(world, "open", 0, 2)
    client = world.client()
    path = f"/r/{world.ids['open']}/receipts"
    for state in ("open", "decrypting"):
        page = client.get(path)
        html = page.get_data(as_text=True)
        assert page.status_code == 200, state
        assert 'data-testid="receipts-later"' in html
        assert not re.search(r"BN \d{4} \d{4}", html)  # no receipt at all
        assert not LISTED.search(html)
        assert client.get(path + ".json").status_code == 404
        assert client.get(path + ".csv").status_code == 404
        if state == "open":
            assert "vẫn đang mở" in html
            with operations.work(world.sessions, "setup") as work:
                operations.close_round(work, world.ids["open"])
        else:
            assert "giải mã" in html
    with world.sessions() as session:
        decrypt_round(session, world.ids["open"])
        session.commit()
    assert len(LISTED.findall(client.get(path).get_data(as_text=True))) == 2


def test_a_draft_or_missing_round_has_no_list(world: World) -> None:
    client = world.client()
    assert client.get(f"/r/{world.ids['draft']}/receipts").status_code == 404
    assert client.get("/r/9999/receipts").status_code == 404
    assert client.get(f"/r/{world.ids['closed']}/receipts?page=2").status_code == 404
    assert client.get(f"/r/{world.ids['closed']}/receipts?page=x").status_code == 404


def test_the_downloads_give_each_receipt_with_its_tracker(world: World) -> None:
    client = world.client()
    base = f"/r/{world.ids['closed']}/receipts"
    with world.sessions() as session:
        expected = stored_receipts(session, world.ids["closed"])
        digest = stored_box_digest(session, world.ids["closed"])
    document = json.loads(client.get(base + ".json").data)
    assert document["box_digest"] == digest
    assert [b["receipt"] for b in document["ballots"]] == expected
    rows = list(csv.reader(io.StringIO(client.get(base + ".csv").get_data(as_text=True))))
    assert rows[0] == ["receipt", "tracker"]
    assert [row[0] for row in rows[1:]] == expected
    assert all(re.fullmatch(r"[0-9a-f]{64}", row[1]) for row in rows[1:])


def counted_online_round(world: World, ballots: int, title: str = "Đợt đông") -> int:
    """A counted round of body B with `ballots` online ballots cast, closed and decrypted."""
    secret = world.app.config["SECRET_KEY"]
    with operations.work(world.sessions, "setup") as work:
        round_ = operations.create_round(
            work,
            body_code="B",
            year=2014,
            profile_id="nq35-2012",
            title=title,
            roster=parse_roster(web_fixtures.ROSTER.encode()),
            members=ballots + 10,
            summoned=ballots + 10,
            present=ballots + 10,
            time_exception="07/NQ-HĐND",
        )
        round_id = round_.id
        add_committee(work.session, round_id)
        codes = operations.issue_codes(work, round_id, ballots, secret)
        operations.open_round(work, round_id)
    with world.sessions() as session:
        for n, code in enumerate(codes):
            operations.cast_ballot(
                session, secret, code, ["H", "C", "L"][n % 3 :] + ["C"] * (n % 3)
            )
    with operations.work(world.sessions, "setup") as work:
        operations.close_round(work, round_id)
    with world.sessions() as session:
        decrypt_round(session, round_id)
        session.commit()
    return round_id


def test_a_long_list_is_paged_and_a_receipt_found_opens_its_page(world: World) -> None:
    # 205 online ballots: two pages of 200.
    round_id = counted_online_round(world, 205)
    with world.sessions() as session:
        expected = stored_receipts(session, round_id)
    client = world.client()
    first = client.get(f"/r/{round_id}/receipts").get_data(as_text=True)
    second = client.get(f"/r/{round_id}/receipts?page=2").get_data(as_text=True)
    listed = [r for _a, r in LISTED.findall(first)] + [r for _a, r in LISTED.findall(second)]
    assert listed == expected
    assert len(LISTED.findall(first)) == 200
    assert 'start="201"' in second
    assert "205" in first  # the count heads every page
    found = client.get(f"/r/{round_id}/receipts", query_string={"q": expected[-1]})
    html = found.get_data(as_text=True)
    assert 'class="found"' in html
    assert 'start="201"' in html


def test_the_pages_link_to_the_list(world: World) -> None:
    client = world.client()
    check = client.get("/receipt").get_data(as_text=True)
    assert f"/r/{world.ids['closed']}/receipts" in check
    # The receipt page after casting: the ballot's form posts its round.
    html = open_ballot(client, world.codes["open"][0]).get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(html),
        "code": world.codes["open"][0],
        "round": str(world.ids["open"]),
        "item_1": "H",
        "item_2": "C",
        "item_3": "L",
        "action": "cast",
    }
    done = client.post("/ballot", data=form).get_data(as_text=True)
    assert "receipt-code" in done
    assert f'href="/r/{world.ids["open"]}/receipts"' in done
    with operations.work(world.sessions, "setup") as work:
        operations.publish_round(work, world.ids["closed"])
    results = client.get(f"/r/{world.ids['closed']}").get_data(as_text=True)
    assert f"/r/{world.ids['closed']}/receipts" in results
    listing = client.get(f"/r/{world.ids['closed']}/receipts").get_data(as_text=True)
    assert f'href="/r/{world.ids["closed"]}"' in listing


# ---------------------------------------------------------------- auditors


def test_auditors_see_the_open_box_while_the_round_is_open(world: World) -> None:
    cast_online(world, "open", 0, 2)
    path = f"/audit/rounds/{world.ids['open']}/trackers"
    assert world.client().get(path).status_code == 302  # to the login page
    assert world.client("organizer").get(path).status_code == 403
    page = world.client("auditor").get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with world.sessions() as session:
        digest = stored_box_digest(session, world.ids["open"])
        receipts = stored_receipts(session, world.ids["open"])
    assert f'data-testid="box-digest">{digest}<' in html
    assert "Số phiếu đã niêm phong trong hòm: 2." in html
    assert all(receipt in html for receipt in receipts)
    round_page = world.client("auditor").get(f"/audit/rounds/{world.ids['open']}")
    assert path in round_page.get_data(as_text=True)
    # One more ballot: the digest moves on.
    cast_online(world, "open", 2, 3)
    again = world.client("auditor").get(path).get_data(as_text=True)
    assert digest not in again
    assert "Số phiếu đã niêm phong trong hòm: 3." in again


def test_auditors_see_a_draft_has_no_box(world: World) -> None:
    html = world.client("auditor").get(f"/audit/rounds/{world.ids['draft']}/trackers")
    assert html.status_code == 200
    assert "chưa mở" in html.get_data(as_text=True)
