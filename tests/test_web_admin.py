"""Organizer pages with the Flask client: rosters with preview, NFC, exemptions, codes, paper."""

from __future__ import annotations

import base64
import io
import unicodedata

from sqlalchemy import func, select

from tests import web_fixtures
from tests.web_fixtures import World, csrf_token
from votes import rounds
from votes.models import Ballot, Body, Credential, PaperEntry, Round

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
        "year": "2013",
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
        person_key = round_.items[1].person.person_key
    # A reason the profile does not list is refused without a decision number.
    refused = client.post(
        f"/admin/rounds/{world.ids['draft']}/exempt",
        data={"csrf_token": token, "person": person_key, "reason": "other", "other_reason": "x"},
        follow_redirects=True,
    )
    assert "không thuộc các lý do mà quy định nq35-2012 nêu" in refused.get_data(as_text=True)
    with world.sessions() as session:
        assert len(rounds.get_round(session, world.ids["draft"]).items) == 2
    client.post(
        f"/admin/rounds/{world.ids['draft']}/exempt",
        data={"csrf_token": token, "person": person_key, "reason": "retirement"},
    )
    with world.sessions() as session:
        round_ = rounds.get_round(session, world.ids["draft"])
        assert [i.name for i in round_.items] == ["Nguyễn Văn An"]
        assert [(e.person.name, e.reason, e.reason_id) for e in round_.exemptions] == [
            ("Phạm Văn Mới", "Đã có thông báo nghỉ hưu", "retirement")
        ]
    client.post(
        f"/admin/rounds/{world.ids['draft']}/restore",
        data={"csrf_token": token, "person": person_key},
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


def test_paper_double_entry_by_two_clerks_without_javascript(world: World) -> None:
    """Two clerks (two accounts, two browsers) type the same stack; each ballot is saved."""
    round_id = world.ids["open"]
    base = f"/admin/rounds/{round_id}/paper"
    clerks = {1: world.client("organizer"), 2: world.client("admin")}

    def add(entry: int, marks: str, number: int, **extra: str) -> int:
        client = clerks[entry]
        data = {"csrf_token": _token(client, f"{base}/{entry}"), "action": "add", "number": number}
        data.update({f"item_{n}": m for n, m in enumerate(marks, start=1) if m != " "})
        data.update(extra)
        return client.post(f"{base}/{entry}", data=data).status_code

    def post(entry: int, path: str, **data: object) -> str:
        client = clerks[entry]
        response = client.post(path, data={"csrf_token": _token(client, base), **data})
        assert response.status_code in (200, 302, 409), response.status_code
        return (
            client.get(response.headers["Location"]).get_data(as_text=True)
            if response.status_code == 302
            else response.get_data(as_text=True)
        )

    assert add(1, "HCL", 1) == 302
    assert add(1, "HCL", 1) == 302  # the same form sent again: not added twice
    assert add(1, "X-L", 2, spoiled="y") == 302
    assert add(1, "H L", 3) == 422  # a row without a mark: nothing added
    page = clerks[1].get(f"{base}/1").get_data(as_text=True)
    assert "Số phiếu đã nhập và lưu: 2." in page
    assert "Phiếu vừa ghi (số 2): <strong>không hợp lệ (cả lá phiếu)</strong>" in page
    # The second clerk, at another computer, never sees the first entry.
    second = clerks[2].get(f"{base}/2").get_data(as_text=True)
    assert 'data-testid="last"' not in second
    assert "Số phiếu đã nhập và lưu: 0." in second
    assert add(2, "HCL", 1) == 302
    assert add(2, "X-C", 2, spoiled="y") == 302
    post(1, f"{base}/1", action="finish", number=3)
    overview = post(2, f"{base}/2", action="finish", number=3)
    assert "organizer" in overview  # who typed each entry
    assert "admin" in overview
    compare = clerks[1].get(f"{base}/compare")
    assert compare.status_code == 409
    html = compare.get_data(as_text=True)
    # The entries as typed, in the printed columns' digits (X several boxes, - none) …
    assert "I X-2" in html
    assert "I X-3" in html
    # … and where they differ, the person and both entries in words.
    differences = html.split('data-testid="differences"')[1].split("</table>")[0]
    assert (
        '<th scope="row">Lê Văn Cường</th><td>3 — Tín nhiệm thấp</td><td>2 — Tín nhiệm</td>'
        in differences
    )
    assert "Nguyễn Văn An" not in differences
    # Accepting is refused while they differ; nothing goes into the box.
    refused = clerks[1].post(
        f"{base}/compare",
        data={
            "csrf_token": _token(clerks[1], base),
            "batch_a": "V HCL\nI X-L",
            "batch_b": "V HCL\nI X-C",
            "action": "accept",
            "issued": "2",
        },
    )
    assert refused.status_code == 409
    with world.sessions() as session:
        assert session.scalar(select(func.count()).where(Ballot.round_id == round_id)) == 0
    # A wrong correction is refused with its line and changes nothing.
    wrong = clerks[1].post(
        f"{base}/compare",
        data={
            "csrf_token": _token(clerks[1], base),
            "batch_a": "V HCL\nI X-L",
            "batch_b": "V HCL\nI X-",
            "action": "compare",
        },
    )
    assert wrong.status_code == 422
    assert "Lượt nhập 2: Dòng 2" in wrong.get_data(as_text=True)
    # The clerks check ballot 2 in the stack: the second entry was wrong.
    accepted = clerks[1].post(
        f"{base}/compare",
        data={
            "csrf_token": _token(clerks[1], base),
            "batch_a": "V HCL\nI X-L",
            "batch_b": "V HCL\nI X-L",
            "action": "accept",
            "issued": "2",
        },
    )
    assert accepted.status_code == 302
    with world.sessions() as session:
        stored = session.execute(
            select(Ballot.status, Ballot.marks).where(Ballot.round_id == round_id)
        ).all()
        assert sorted(stored) == [("invalid", "X-L"), ("valid", "HCL")]
    # Both entries are gone: the next stack starts afresh.
    assert "Chưa bắt đầu" in clerks[1].get(base).get_data(as_text=True)


def test_paper_entries_can_be_reopened_and_thrown_away(world: World) -> None:
    client = world.client("organizer")
    base = f"/admin/rounds/{world.ids['open']}/paper"
    token = _token(client, f"{base}/1")
    data = {
        "csrf_token": token,
        "action": "add",
        "number": "1",
        "item_1": "H",
        "item_2": "H",
        "item_3": "H",
    }
    assert client.post(f"{base}/1", data=data).status_code == 302
    client.post(f"{base}/1", data={"csrf_token": token, "action": "finish", "number": "2"})
    finished = client.get(f"{base}/1")
    assert finished.status_code == 302  # a finished entry is not typed into
    assert client.post(f"{base}/1/reopen", data={"csrf_token": token}).status_code == 302
    assert client.get(f"{base}/1").status_code == 200
    assert client.post(f"{base}/1/discard", data={"csrf_token": token}).status_code == 302
    assert "Chưa bắt đầu" in client.get(base).get_data(as_text=True)


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


def test_closing_warns_of_paper_ballots_still_being_typed_and_drops_them(world: World) -> None:
    client = world.client("organizer")
    round_id = world.ids["open"]
    base = f"/admin/rounds/{round_id}/paper"
    token = _token(client, f"{base}/1")
    data = {
        "csrf_token": token,
        "action": "add",
        "number": "1",
        "item_1": "H",
        "item_2": "C",
        "item_3": "L",
    }
    assert client.post(f"{base}/1", data=data).status_code == 302
    assert "đang nhập dở: 1 phiếu" in client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    confirm = client.get(f"/admin/rounds/{round_id}/close").get_data(as_text=True)
    assert 'data-testid="pending-paper"' in confirm
    assert "đã nhập 1 phiếu" in confirm
    closed = client.post(f"/admin/rounds/{round_id}/close", data={"csrf_token": token})
    assert closed.status_code == 302
    with world.sessions() as session:
        assert session.scalar(select(func.count()).select_from(PaperEntry)) == 0
        assert session.scalar(select(func.count()).where(Ballot.round_id == round_id)) == 0
    # Typing into a closed round is refused with a message, not an error page.
    refused = client.post(f"{base}/1", data=data)
    assert refused.status_code == 302
    assert "Chỉ nhập được phiếu giấy khi đợt lấy phiếu đang mở" in client.get(
        refused.headers["Location"]
    ).get_data(as_text=True)
