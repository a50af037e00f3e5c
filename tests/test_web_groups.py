"""Issue 15 through the pages and the API: a small voter group is never shown alone.

A published council round of three groups: 10 (deciding), 8 and 3 members. The group of 3 is
under the small-round minimum (5) and the group of 8 shields it; neither appears alone on
the organizer's, the auditor's or the public page, in the API's JSON, the CSV, the PDF
summary across groups or the bundle.
"""

from __future__ import annotations

import io
import json
import zipfile

from pypdf import PdfReader

from tests import web_fixtures
from tests.factories import pack, paper_csv, rated
from tests.web_fixtures import World, csrf_token
from votes import operations
from votes.recount import check_bundle
from votes.roster import parse_roster

world = web_fixtures.world  # the fixture, under its own name
ROSTER = "name,position,person_key\nĐinh Văn Hậu,Chủ tịch,g1\nMa Thị Lụa,Phó Chủ tịch,g2\n"
# Group 1 (10): An low 6, Bình 1. Group 2 (8): An low 7, Bình 2. Group 3 (3): An 3, Bình 3.
GROUPS = [
    ("Đại biểu Hội đồng nhân dân", 10, [rated(6, 10), rated(1, 10)]),
    ("Trưởng các phòng, ban", 8, [rated(7, 8), rated(2, 8)]),
    ("Cán bộ hưu trí", 3, [rated(3, 3), rated(3, 3)]),
]
# The hidden groups' own shares, which must appear nowhere: 7/8 = 87,50 %, 2/8 = 25,00 %,
# 3/3 = 100,00 %. Combined (D = 21): An 16/21 = 76,19 %, Bình 6/21 = 28,57 %.
HIDDEN_SHARES = ("87,50", "87.50", "100,00", "100.00", "25,00", "25.00")


def widened(world: World) -> int:
    with operations.work(world.sessions, "setup") as work:
        round_ = operations.create_round(
            work,
            body_code="A",
            year=2014,
            profile_id="nq35-2012",
            title="Lấy phiếu mở rộng",
            roster=parse_roster(ROSTER.encode()),
            members=10,
            summoned=10,
            present=10,
            time_exception="07/NQ-HĐND",
        )
        round_id = round_.id
        for name, members, _columns in GROUPS[1:]:
            operations.add_group(
                work, round_id, name, members=members, summoned=members, present=members
            )
        operations.open_round(work, round_id)
        for number, (_name, _members, columns) in enumerate(GROUPS, start=1):
            ballots = pack(columns)
            operations.import_paper_ballots(
                work, round_id, paper_csv(ballots), issued=len(ballots), group=number
            )
        operations.close_round(work, round_id)
        operations.publish_round(work, round_id)
    return round_id


def test_small_group_hidden_on_every_door(world: World) -> None:
    round_id = widened(world)
    organizer = world.client("organizer")
    auditor = world.client("auditor")
    pages = {
        "organizer": organizer.get(f"/admin/rounds/{round_id}/results"),
        "auditor": auditor.get(f"/audit/rounds/{round_id}/results"),
        "public": world.client().get(f"/r/{round_id}"),
    }
    for door, page in pages.items():
        assert page.status_code == 200, door
        html = page.get_data(as_text=True)
        assert 'data-testid="groups-table"' in html, door
        assert 'data-testid="hidden-3"' in html, door
        assert 'data-testid="hidden-2"' in html, door
        assert "76,19" in html, door  # the combined share of An
        assert "60,00" in html, door  # An in the deciding group: 6 of 10
        for share in HIDDEN_SHARES:
            assert share not in html, (door, share)
        assert "không công bố riêng" in html, door  # and the page says why

    api = auditor.get(f"/api/v1/rounds/{round_id}/results").get_json()
    assert [g["hidden_small"] for g in api["groups"]] == [False, True, True]
    assert "items" not in api["groups"][2]
    assert "items" not in api["groups"][1]
    text = json.dumps(api, ensure_ascii=False)
    for share in HIDDEN_SHARES:
        assert share not in text

    csv_text = organizer.get(f"/admin/rounds/{round_id}/results.csv").get_data(as_text=True)
    assert {line.split(",")[0] for line in csv_text.splitlines()[1:]} == {"1", "combined"}

    pdf = auditor.get(f"/audit/rounds/{round_id}/groups.pdf")
    assert pdf.status_code == 200
    words = " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf.data)).pages
    )
    assert "không công bố riêng" in words
    assert "76,19" in words
    for share in HIDDEN_SHARES:
        assert share not in words
    # The hidden group's own minutes do not exist.
    minutes = organizer.get(f"/admin/rounds/{round_id}/groups/3/minutes.pdf")
    assert minutes.status_code == 409

    bundle = auditor.get(f"/audit/rounds/{round_id}/bundle.zip")
    assert bundle.status_code == 200
    with zipfile.ZipFile(io.BytesIO(bundle.data)) as archive:
        files = {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}
    assert "group_ballots.csv" not in files
    results = json.loads(files["results.json"])
    assert [g.get("items") is None for g in results["groups"]] == [False, True, True]
    problems, _ = check_bundle(files)
    assert problems == []


def test_organizer_adds_and_runs_groups_on_the_round_page(world: World) -> None:
    client = world.client("organizer")
    round_id = world.ids["draft"]
    page = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    assert 'data-testid="groups"' in page
    added = client.post(
        f"/admin/rounds/{round_id}/groups",
        data={
            "csrf_token": csrf_token(page),
            "name": "Trưởng các phòng",
            "members": "7",
            "summoned": "7",
            "present": "6",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert 'data-testid="group-row-2"' in added
    refused = client.post(
        f"/admin/rounds/{round_id}/groups",
        data={"csrf_token": csrf_token(added), "name": "trưởng các phòng", "members": "3"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "đã có nhóm lấy phiếu" in refused
    assert 'data-testid="group-row-3"' not in refused
    chosen = client.post(
        f"/admin/rounds/{round_id}/groups/deciding",
        data={"csrf_token": csrf_token(refused), "which": "combined"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "Kết quả quyết định: kết quả chung của các nhóm." in chosen
    opened = client.post(
        f"/admin/rounds/{round_id}/groups/2/open",
        data={"csrf_token": csrf_token(chosen)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert 'data-testid="close-group-2"' in opened
    assert 'data-testid="open-group-1"' in opened
