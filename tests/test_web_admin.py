"""Organizer pages with the Flask client: rosters with preview, NFC, exemptions, codes, paper."""

from __future__ import annotations

import base64
import io
import unicodedata

from sqlalchemy import func, select

from tests import web_fixtures
from tests.web_fixtures import World, csrf_token
from votes import rounds
from votes.models import Ballot, Body, Credential, Round
from votes.web.admin import differences, parse_batch

NFD_ROSTER = unicodedata.normalize(
    "NFD", "name,position,person_key\nĐặng Thị Ngọc Ánh,Chủ tịch,x1\nVũ Văn Ửng,Phó Chủ tịch,x2\n"
)

world = web_fixtures.world  # the fixture, under its own name


def _token(client, path: str = "/admin/") -> str:  # type: ignore[no-untyped-def]
    return csrf_token(client.get(path).get_data(as_text=True))


def _round_form(token: str, **extra: object) -> dict[str, object]:
    return {
        "csrf_token": token,
        "title": unicodedata.normalize("NFD", "Lấy phiếu năm 2025"),
        "year": "2025",
        "profile": "nq35-2012",
        "members": "9",
        "summoned": "9",
        "present": "8",
        "place": "",
        **extra,
    }


def _count_rounds(world: World) -> int:
    with world.sessions() as session:
        return session.scalar(select(func.count()).select_from(Round)) or 0


def test_new_round_previews_every_error_and_saves_nothing(world: World) -> None:
    client = world.client("organizer")
    token = _token(client, "/admin/bodies/A/rounds/new")
    before = _count_rounds(world)
    bad = b"name,position\nA,B\n,Chief\nC\nA,B\n"
    response = client.post(
        "/admin/bodies/A/rounds/new",
        data=_round_form(token, roster_file=(io.BytesIO(bad), "roster.csv")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for line in ("Dòng 3", "Dòng 4", "Dòng 5"):
        assert line in html
    assert _count_rounds(world) == before


def test_new_round_from_nfd_input_is_stored_nfc(world: World) -> None:
    client = world.client("organizer")
    token = _token(client, "/admin/bodies/A/rounds/new")
    preview = client.post(
        "/admin/bodies/A/rounds/new",
        data=_round_form(token, roster_file=(io.BytesIO(NFD_ROSTER.encode()), "roster.csv")),
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    assert _count_rounds(world) == 3  # nothing saved by the preview
    data = base64.b64encode(NFD_ROSTER.encode()).decode()
    created = client.post(
        "/admin/bodies/A/rounds/new", data=_round_form(token, roster_data=data, action="confirm")
    )
    assert created.status_code == 302
    with world.sessions() as session:
        round_ = session.scalars(select(Round).order_by(Round.id.desc())).first()
        assert round_.title == unicodedata.normalize("NFC", "Lấy phiếu năm 2025")
        assert [i.name for i in round_.items] == ["Đặng Thị Ngọc Ánh", "Vũ Văn Ửng"]
        assert all(unicodedata.is_normalized("NFC", i.name) for i in round_.items)
        assert round_.present == 8


def test_add_body_normalises_to_nfc(world: World) -> None:
    client = world.client("admin")
    token = _token(client)
    name = unicodedata.normalize("NFD", "Hội đồng nhân dân xã Ứng Hòa")
    response = client.post(
        "/admin/bodies",
        data={"csrf_token": token, "code": "HDND-UH", "name": name, "kind": "council"},
    )
    assert response.status_code == 302
    with world.sessions() as session:
        body = session.scalar(select(Body).where(Body.code == "HDND-UH"))
        assert body.name == unicodedata.normalize("NFC", name)


def test_edit_roster_and_exemptions(world: World) -> None:
    client = world.client("organizer")
    path = f"/admin/rounds/{world.ids['draft']}/roster"
    page = client.get(path).get_data(as_text=True)
    assert "Nguyễn Văn An,Bí thư,p1,person," in page
    token = csrf_token(page)
    text = "name,position,person_key\nNguyễn Văn An,Bí thư,p1\nPhạm Văn Mới,Ủy viên,p9\n"
    preview = client.post(path, data={"csrf_token": token, "roster_text": text})
    assert preview.status_code == 200
    assert "Phạm Văn Mới" in preview.get_data(as_text=True)
    with world.sessions() as session:
        assert len(rounds.get_round(session, world.ids["draft"]).items) == 3
    data = base64.b64encode(text.encode()).decode()
    saved = client.post(path, data={"csrf_token": token, "roster_data": data, "action": "confirm"})
    assert saved.status_code == 302
    with world.sessions() as session:
        round_ = rounds.get_round(session, world.ids["draft"])
        assert [i.name for i in round_.items] == ["Nguyễn Văn An", "Phạm Văn Mới"]
        person_id = round_.items[1].person_id
    client.post(
        f"/admin/rounds/{world.ids['draft']}/exempt",
        data={"csrf_token": token, "person": str(person_id), "reason": "Nghỉ hưu"},
    )
    with world.sessions() as session:
        round_ = rounds.get_round(session, world.ids["draft"])
        assert [i.name for i in round_.items] == ["Nguyễn Văn An"]
        assert [(e.person.name, e.reason) for e in round_.exemptions] == [
            ("Phạm Văn Mới", "Nghỉ hưu")
        ]
    client.post(
        f"/admin/rounds/{world.ids['draft']}/restore",
        data={"csrf_token": token, "person": str(person_id)},
    )
    with world.sessions() as session:
        assert len(rounds.get_round(session, world.ids["draft"]).items) == 2


def test_issue_codes_as_text(world: World) -> None:
    client = world.client("organizer")
    token = _token(client)
    response = client.post(
        f"/admin/rounds/{world.ids['draft']}/codes",
        data={"csrf_token": token, "count": "4", "fmt": "txt"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    codes = response.get_data(as_text=True).split()
    assert len(codes) == 4
    assert all(len(c) == 14 for c in codes)
    with world.sessions() as session:
        assert (
            session.scalar(select(func.count()).where(Credential.round_id == world.ids["draft"]))
            == 7
        )
    too_many = client.post(
        f"/admin/rounds/{world.ids['draft']}/codes",
        data={"csrf_token": token, "count": "50", "fmt": "txt"},
    )
    assert too_many.status_code == 302  # refused: more codes than persons summoned


def test_turnout_shows_only_counts(world: World) -> None:
    client = world.client("auditor")
    from votes.voting import cast_ballot

    with world.sessions() as session:
        cast_ballot(session, world.app.config["SECRET_KEY"], world.codes["open"][0], "HHL")
    html = client.get(f"/admin/rounds/{world.ids['open']}").get_data(as_text=True)
    assert "Đã nhận 1 / 3 phiếu" in html
    assert "Tín nhiệm cao" not in html  # no partial results while open


def test_paper_double_entry_without_javascript(world: World) -> None:
    client = world.client("organizer")
    path = f"/admin/rounds/{world.ids['open']}/paper"
    token = _token(client, path)

    def add(stage: str, batch_a: str, batch_b: str, marks: str, **extra: str) -> str:
        data = {
            "csrf_token": token,
            "stage": stage,
            "batch_a": batch_a,
            "batch_b": batch_b,
            "action": "add",
            **extra,
        }
        data.update({f"item_{n}": m for n, m in enumerate(marks, start=1)})
        response = client.post(path, data=data)
        assert response.status_code == 200, response.get_data(as_text=True)
        html = response.get_data(as_text=True)
        return html.split(f'id="batch_{stage}" name="batch_{stage}" type="hidden" value="')[
            1
        ].split('"')[0]

    a = add("a", "", "", "HCL")
    a = add("a", a, "", "X-L", spoiled="y")
    assert a.split("\n") == ["V HCL", "I X-L"]
    incomplete = client.post(
        path, data={"csrf_token": token, "stage": "a", "batch_a": a, "action": "add", "item_1": "H"}
    )
    assert incomplete.status_code == 422
    compare = client.post(
        path,
        data={
            "csrf_token": token,
            "stage": "b",
            "batch_a": a,
            "batch_b": "V HCL\nI X-C",
            "action": "finish",
        },
    )
    assert compare.status_code == 409
    assert "I X-C" in compare.get_data(as_text=True)
    refused = client.post(
        path + "/compare",
        data={
            "csrf_token": token,
            "batch_a": a,
            "batch_b": "V HCL\nI X-C",
            "action": "accept",
            "issued": "2",
        },
    )
    assert refused.status_code == 409
    with world.sessions() as session:
        assert session.scalar(select(func.count()).where(Ballot.round_id == world.ids["open"])) == 0
    accepted = client.post(
        path + "/compare",
        data={"csrf_token": token, "batch_a": a, "batch_b": a, "action": "accept", "issued": "2"},
    )
    assert accepted.status_code == 302
    with world.sessions() as session:
        stored = session.execute(
            select(Ballot.status, Ballot.marks).where(Ballot.round_id == world.ids["open"])
        ).all()
        assert sorted(stored) == [("invalid", "X-L"), ("valid", "HCL")]


def test_paper_csv_upload(world: World) -> None:
    client = world.client("organizer")
    token = _token(client)
    data = b"status,1,2,3\nvalid,H,C,L\nvalid,L,,X\n"
    response = client.post(
        f"/admin/rounds/{world.ids['open']}/paper/upload",
        data={"csrf_token": token, "issued": "2", "ballots_file": (io.BytesIO(data), "b.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(f"/admin/rounds/{world.ids['open']}").get_data(as_text=True)
    assert "Đã nhận 2 / 5 phiếu" in page


def test_batch_helpers() -> None:
    lines, problems = parse_batch("v hcl\n\nI X-L\nV HC\nQ HCL", 3, ["H", "C", "L", "X", "-"])
    assert lines == ["V HCL", "I X-L"]
    assert [p.split(":")[0] for p in problems] == ["Line 4", "Line 5"]
    assert differences(["V HCL", "V HHH"], ["V HCL", "V HHC", "V LLL"]) == [
        (2, "V HHH", "V HHC"),
        (3, "", "V LLL"),
    ]


def test_results_page_and_downloads(world: World) -> None:
    client = world.client("organizer")
    html = client.get(f"/admin/rounds/{world.ids['closed']}/results").get_data(as_text=True)
    assert "<svg" in html
    assert "seg-high" in html
    assert "10,00 %" in html  # 1 of D = 10 members
    csv_text = client.get(f"/admin/rounds/{world.ids['closed']}/results.csv").get_data(as_text=True)
    assert "Nguyễn Văn An" in csv_text
    client.get("/lang/en?next=/")
    html = client.get(f"/admin/rounds/{world.ids['closed']}/results").get_data(as_text=True)
    assert "10.00%" in html
    assert "Results" in html


def test_slips_pdf_and_vote_of_confidence(world: World) -> None:
    """Codes as printable slips; a finding calling for a vote gives a two-level ballot."""
    import pytest

    reports = pytest.importorskip("reports")
    client = world.client("organizer")
    token = _token(client)
    if callable(getattr(reports, "slips", None)):
        pdf = client.post(
            f"/admin/rounds/{world.ids['draft']}/codes",
            data={"csrf_token": token, "count": "2", "fmt": "pdf"},
        )
        assert pdf.status_code == 200
        assert pdf.data.startswith(b"%PDF")
    # A round where Trần Thị Bình is low on every ballot of D = 3 members.
    from votes.db import write_session
    from votes.voting import cast_ballot

    with write_session(world.sessions) as session:
        body = session.scalar(select(Body).where(Body.code == "A"))
        round_ = rounds.create_round(
            session,
            body,
            year=2026,
            profile_id="nq35-2012",
            title="Đợt có kết luận",
            roster=rounds.parse_roster("name,position,person_key\nTrần Thị Bình,Phó,p2\n".encode()),
            members=3,
            summoned=3,
            present=3,
        )
        codes = rounds.issue_round_codes(session, round_, 3, world.app.config["SECRET_KEY"])
        rounds.open_round(session, round_)
        round_id = round_.id
    for code in codes:
        with world.sessions() as session:
            cast_ballot(session, world.app.config["SECRET_KEY"], code, ["L"])
    with write_session(world.sessions) as session:
        rounds.close_round(session, rounds.get_round(session, round_id))
    page = client.get(f"/admin/rounds/{round_id}/results").get_data(as_text=True)
    assert "Tạo đợt bỏ phiếu tín nhiệm" in page
    created = client.post(f"/admin/rounds/{round_id}/followup", data={"csrf_token": token})
    assert created.status_code == 302
    new_id = int(created.headers["Location"].rsplit("/", 1)[1])
    with write_session(world.sessions) as session:
        vote = rounds.get_round(session, new_id)
        assert vote.scale == "confidence_vote"
        vote_codes = rounds.issue_round_codes(session, vote, 1, world.app.config["SECRET_KEY"])
        rounds.open_round(session, vote)
    ballot = world.app.test_client().get(f"/b/{vote_codes[0]}").get_data(as_text=True)
    assert ballot.count('type="radio"') == 2
    assert "Không tín nhiệm" in ballot


def test_attendance_counted_in_the_hall_is_entered_while_open(world: World) -> None:
    client = world.client("organizer")
    page = f"/admin/rounds/{world.ids['open']}"
    html = client.get(page).get_data(as_text=True)
    assert 'id="attendance"' in html
    token = csrf_token(html)
    with world.sessions() as session:
        before = session.get(Round, world.ids["open"])
        assert before is not None
        members, summoned = before.members, before.summoned
    assert summoned is not None
    done = client.post(
        f"{page}/attendance",
        data={"csrf_token": token, "members": str(members), "summoned": str(summoned),
              "present": str(summoned - 1)},
        follow_redirects=True,
    )
    assert "Đã ghi nhận số người tham dự" in done.get_data(as_text=True)
    with world.sessions() as session:
        assert session.get(Round, world.ids["open"]).present == summoned - 1  # type: ignore[union-attr]
    impossible = client.post(
        f"{page}/attendance",
        data={"csrf_token": token, "members": str(members), "summoned": str(summoned),
              "present": str(summoned + 5)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert str(summoned + 5) in impossible and "Traceback" not in impossible
    with world.sessions() as session:
        assert session.get(Round, world.ids["open"]).present == summoned - 1  # type: ignore[union-attr]
    # Once closed, the attendance belongs to the sealed record: no form, and a POST is refused.
    closed = client.get(f"/admin/rounds/{world.ids['closed']}").get_data(as_text=True)
    assert 'id="attendance"' not in closed
    refused = client.post(
        f"/admin/rounds/{world.ids['closed']}/attendance",
        data={"csrf_token": token, "members": "9", "summoned": "9", "present": "1"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "không thể thay đổi" in refused or "không còn" in refused
