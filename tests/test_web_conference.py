"""Issue 14, through the pages: the conference as it really runs.

The command line's side of each bullet is in test_conference.py; here the organizer's and the
public's pages, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import base64
import datetime as dt
import io

from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select, update

from tests import web_fixtures
from tests.factories import counted_round, pack, paper_csv, rated
from tests.web_fixtures import World, csrf_token
from votes import operations
from votes.meeting import parse_committee
from votes.models import Body, Person, Round
from votes.roster import RosterEntry

world = web_fixtures.world  # the fixture, under its own name


def token(client: FlaskClient, path: str = "/admin/") -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(data)).pages
    )


def rounds_count(world: World) -> int:
    with world.sessions() as session:
        return session.scalar(select(func.count()).select_from(Round)) or 0


def party_round(
    world: World,
    *,
    present: int = 18,
    lows: tuple[int, ...] = (8, 7),
    ballots: int = 12,
    status: str = "open",
    meeting: bool = False,
) -> int:
    """A QĐ 96 round of a Party committee P (20 summoned), with paper ballots in it."""
    with operations.work(world.sessions, "setup") as work:
        if work.session.scalar(select(Body).where(Body.code == "P")) is None:
            operations.add_body(work, "P", "Tỉnh ủy P", "party")
        round_ = operations.create_round(
            work,
            body_code="P",
            year=2023,
            profile_id="qd96-2023",
            title="QĐ 96",
            roster=[
                RosterEntry(line=2, name="Nguyễn Văn A", position="Bí thư", person_key="a"),
                RosterEntry(line=3, name="Trần Thị B", position="Phó Bí thư", person_key="b"),
            ][: len(lows)],
            members=20,
            summoned=20,
            present=present,
        )
        operations.open_round(work, round_.id)
        operations.import_paper_ballots(
            work, round_.id, paper_csv(pack([rated(low, ballots) for low in lows])), issued=ballots
        )
        if meeting:
            operations.record_meeting(
                work,
                round_.id,
                held_on=dt.date(2023, 11, 30),
                committee=parse_committee("Hà Thị Mai (Trưởng ban); Vương Đình Khoa"),
            )
        if status != "open":
            operations.close_round(work, round_.id)
        if status == "published":
            operations.publish_round(work, round_.id)
        return round_.id


# ------------------------------------------------------------------ 1. the quorum decides


def test_lowered_attendance_warns_and_the_void_round_says_why(world: World) -> None:
    round_id = party_round(world)
    admin = world.client("admin")
    base = f"/admin/rounds/{round_id}"
    form = {"csrf_token": token(admin, base), "members": "20", "summoned": "20", "present": "12"}
    html = admin.post(f"{base}/attendance", data=form, follow_redirects=True).get_data(as_text=True)
    assert "không bảo đảm tỷ lệ có mặt" in html
    assert 'data-testid="quorum-warning"' in html
    closed = admin.post(f"{base}/close", data={"csrf_token": token(admin, base)})
    assert closed.status_code == 302
    results = page(admin, f"{base}/results")
    assert 'data-testid="void"' in results
    assert "Chỉ có 12 người có mặt trên 20 người được triệu tập; cần ít nhất 14" in results
    assert "Không có trường hợp phải xem xét: đợt lấy phiếu không có giá trị." in results
    assert f"/admin/rounds/{round_id}/followup" not in results
    assert "tiến hành bỏ phiếu tín nhiệm" not in results
    refused = admin.post(
        f"{base}/publish", data={"csrf_token": token(admin, base)}, follow_redirects=True
    )
    assert "không" in refused.get_data(as_text=True).lower()
    with world.sessions() as session:
        assert session.get(Round, round_id).status == "closed"  # type: ignore[union-attr]


# ------------------------------------------------------------------ 2. counts that cannot be


def test_the_attendance_form_refuses_counts_that_cannot_be(world: World) -> None:
    organizer = world.client("organizer")
    base = f"/admin/rounds/{world.ids['open']}"
    with operations.work(world.sessions, "setup") as work:
        operations.import_paper_ballots(
            work, world.ids["open"], paper_csv(pack([rated(1, 4)] * 3)), issued=4
        )
    for members, words in (("0", "0 thành viên"), ("3", "4")):
        form = {"csrf_token": token(organizer, base), "members": members, "summoned": "10"}
        html = organizer.post(f"{base}/attendance", data=form, follow_redirects=True)
        text = html.get_data(as_text=True)
        assert "Số liệu không thể có" in text
        assert words in text
    with world.sessions() as session:
        assert session.get(Round, world.ids["open"]).members == 10  # type: ignore[union-attr]


# ------------------------------------------------------------------ 3. identity


def test_the_roster_preview_asks_same_person(world: World) -> None:
    organizer = world.client("organizer")
    path = "/admin/bodies/A/rounds/new"
    roster = (
        "name,position,person_key\n"
        "Ngô Văn Tâm,Bí thư,p1\n"  # p1 is Nguyễn Văn An
        "Lê Văn Cường,Ủy viên,p7\n"  # the name of p3 under a new key
        "Đỗ Văn Hai,Ủy viên,h1\nĐỗ Văn Hai,Ủy viên,h2\n"  # namesakes: two keys
    )
    form = {
        "csrf_token": token(organizer, path),
        "title": "Đợt mới",
        "year": "2013",
        "profile": "nq35-2012",
        "members": "9",
        "roster_file": (io.BytesIO(roster.encode()), "roster.csv"),
    }
    preview = organizer.post(path, data=form, content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert 'data-testid="same-person"' in html
    assert "Cùng một người?" in html
    assert 'name="identity_2" value="p1"' in html
    assert 'name="identity_3" value="p3"' in html
    assert html.count('data-testid="homonym"') == 2
    before = rounds_count(world)
    data = {
        "csrf_token": form["csrf_token"],
        "title": "Đợt mới",
        "year": "2013",
        "profile": "nq35-2012",
        "members": "9",
        "roster_data": base64.b64encode(roster.encode()).decode(),
        "action": "confirm",
    }
    unanswered = organizer.post(path, data=data)
    assert unanswered.status_code == 422
    assert "Dòng 2" in unanswered.get_data(as_text=True)
    assert rounds_count(world) == before
    answered = organizer.post(path, data={**data, "identity_2": "p1", "identity_3": "new"})
    assert answered.status_code == 302
    with world.sessions() as session:
        round_ = session.scalars(select(Round).order_by(Round.id.desc())).first()
        assert round_ is not None
        keys = [i.person.person_key for i in round_.items if i.person]
        assert keys == ["p1", "p7", "h1", "h2"]


# ------------------------------------------------------------------ 4. exemptions


def test_an_other_exemption_with_its_decision_is_marked(world: World) -> None:
    organizer = world.client("organizer")
    base = f"/admin/rounds/{world.ids['draft']}"
    form = {
        "csrf_token": token(organizer, base),
        "person": "p3",
        "reason": "other",
        "other_reason": "Đi học dài hạn",
        "decision": "12/QĐ-HĐND",
    }
    html = organizer.post(f"{base}/exempt", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Lý do khác: Đi học dài hạn" in html
    assert "quyết định số 12/QĐ-HĐND" in html


# ------------------------------------------------------------------ 5. time


def test_a_round_outside_the_profiles_years_from_the_page(world: World) -> None:
    organizer = world.client("organizer")
    path = "/admin/bodies/A/rounds/new"
    roster = base64.b64encode(b"name,position\nNguyen,Chu tich\n").decode()
    data = {
        "csrf_token": token(organizer, path),
        "title": "Đợt 1990",
        "year": "1990",
        "profile": "nq35-2012",
        "members": "9",
        "roster_data": roster,
        "action": "confirm",
    }
    before = rounds_count(world)
    refused = organizer.post(path, data=data)
    assert refused.status_code == 422
    assert "nằm ngoài thời gian này" in refused.get_data(as_text=True)
    assert rounds_count(world) == before
    allowed = organizer.post(path, data={**data, "exception_decision": "02/NQ-HĐND"})
    assert allowed.status_code == 302
    html = page(organizer, allowed.headers["Location"])
    assert "quyết định số 02/NQ-HĐND" in html


# ------------------------------------------------------------------ 6. the meeting and minutes


def test_the_meeting_is_recorded_on_the_round_page(world: World) -> None:
    with operations.work(world.sessions, "setup") as work:
        operations.close_round(work, world.ids["open"])
    organizer = world.client("organizer")
    base = f"/admin/rounds/{world.ids['open']}"
    refused = organizer.get(f"{base}/minutes.pdf")
    assert refused.status_code == 409
    assert "chưa có ngày hội nghị" in refused.get_data(as_text=True)
    html = page(organizer, base)
    assert "Chưa ghi nhận hội nghị" in html
    form = {
        "csrf_token": csrf_token(html),
        "held_on": "2014-06-20",
        "starts_at": "08:00",
        "counted_at": "2014-06-20T10:30",
        "place": "Hội trường xã A",
        "chair": "Nguyễn Văn Chủ",
        "committee": "Hà Thị Mai (Trưởng ban); Vương Đình Khoa; Triệu Thị Hồng",
    }
    done = organizer.post(f"{base}/meeting", data=form, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Đã ghi nhận hội nghị." in text
    assert "20/06/2014, 08:00" in text
    assert "Hà Thị Mai (Trưởng ban)" in text
    minutes = organizer.get(f"{base}/minutes.pdf")
    assert minutes.status_code == 200
    words = pdf_text(minutes.data)
    assert "Hôm nay, ngày 20 tháng 6 năm 2014, vào lúc 08 giờ 00, tại Hội trường xã A" in words
    assert "Tổng số đại biểu" in words
    assert "TM. BAN KIỂM PHIẾU" in words
    report = organizer.get(f"{base}/report.pdf")
    assert report.status_code == 200
    assert "Kính gửi: Thường trực Hội đồng nhân dân" in pdf_text(report.data)
    # A committee without its head is refused, and nothing changes.
    bad = {**form, "csrf_token": csrf_token(text), "committee": "A; B", "held_on": "2014-06-21"}
    again = organizer.post(f"{base}/meeting", data=bad, follow_redirects=True)
    assert "đúng một trưởng ban" in again.get_data(as_text=True)
    with world.sessions() as session:
        assert session.get(Round, world.ids["open"]).held_on == dt.date(2014, 6, 20)  # type: ignore[union-attr]


def test_the_round_page_shows_dates_in_vietnam(world: World) -> None:
    """Created at 20:00 UTC on 29 November is 30 November in Hà Nội."""
    with world.sessions() as session:
        session.execute(
            update(Round)
            .where(Round.id == world.ids["draft"])
            .values(created_at=dt.datetime(2026, 11, 29, 20, 0, tzinfo=dt.UTC))
        )
        session.commit()
    html = page(world.client("organizer"), f"/admin/rounds/{world.ids['draft']}")
    assert '<dd data-testid="created">30/11/2026</dd>' in html


# ------------------------------------------------------------------ 7. ballots


def test_the_ballot_from_the_page_has_the_profiles_rules(world: World) -> None:
    round_id = party_round(world)
    admin = world.client("admin")
    ballot = admin.get(f"/admin/rounds/{round_id}/ballot.pdf")
    assert ballot.status_code == 200
    text = pdf_text(ballot.data)
    assert "có thể ký tên hoặc không ký tên" in text
    assert "thì cả phiếu không hợp lệ" in text
    council = pdf_text(admin.get(f"/admin/rounds/{world.ids['draft']}/ballot.pdf").data)
    assert "thì ý kiến đối với người đó không hợp lệ" in council


# ------------------------------------------------------------------ 8. votes on a proposal


def test_a_vote_of_confidence_on_a_proposal_from_the_body_page(world: World) -> None:
    organizer = world.client("organizer")
    html = page(organizer, "/admin/bodies/A")
    assert "Bỏ phiếu tín nhiệm theo đề nghị" in html
    form = {
        "csrf_token": csrf_token(html),
        "year": "2014",
        "members": "10",
        "profile": "nq35-2012",
        "proposed_by": "council_deputies",
        "proposal_number": "05/TTr",
        "proposal_date": "2014-09-01",
        "signatories": "4",
        "persons": ["p1", "p2"],
    }
    created = organizer.post("/admin/bodies/A/votes", data=form)
    assert created.status_code == 302
    vote_page = page(organizer, created.headers["Location"])
    assert "(theo đề nghị)" in vote_page
    assert "Người đã xin từ chức trước khi bỏ phiếu" in vote_page
    vote_id = int(created.headers["Location"].rstrip("/").split("/")[-1])
    resign = {"csrf_token": csrf_token(vote_page), "person": "p2", "decision": "9/QĐ-HĐND"}
    done = organizer.post(f"/admin/rounds/{vote_id}/resign", data=resign, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "Đã ghi nhận việc từ chức" in text
    assert "Đã xin từ chức trước khi bỏ phiếu" in text
    with world.sessions() as session:
        vote = session.get(Round, vote_id)
        assert vote is not None
        assert [i.person.person_key for i in vote.items if i.person] == ["p1"]
        assert (vote.proposal_by, vote.proposal_number) == ("council_deputies", "05/TTr")
    # Too few signatures (a third of 10 is 4): refused, said why.
    few = organizer.post(
        "/admin/bodies/A/votes", data={**form, "signatories": "3"}, follow_redirects=True
    )
    assert "cần ít nhất 1/3" in few.get_data(as_text=True)


# ------------------------------------------------------------------ 9. publication


def test_a_party_round_is_never_public(world: World) -> None:
    round_id = party_round(world, present=20, status="closed", meeting=True)
    admin = world.client("admin")
    confirm = page(admin, f"/admin/rounds/{round_id}/publish")
    audience = confirm.split('data-testid="audience"')[1]
    assert "kết quả lấy phiếu của cấp ủy đảng không bao giờ được công khai rộng rãi" in audience
    assert "auditor" in audience  # the auditors, by name
    assert "Nguyễn Văn A" in audience
    assert "Trần Thị B" in audience
    assert "số phiếu tín nhiệm thấp chiếm" in audience  # the findings, in words
    published = admin.post(
        f"/admin/rounds/{round_id}/publish", data={"csrf_token": csrf_token(confirm)}
    )
    assert published.status_code == 302
    anonymous = world.client()
    assert anonymous.get(f"/r/{round_id}").status_code == 404
    assert "QĐ 96" not in page(anonymous, "/r/")
    # Staff with access still see it on their pages.
    assert admin.get(f"/admin/rounds/{round_id}/results").status_code == 200


def test_a_council_round_is_published_to_anyone_and_the_page_says_so(world: World) -> None:
    organizer = world.client("organizer")
    base = f"/admin/rounds/{world.ids['closed']}"
    confirm = page(organizer, f"{base}/publish")
    audience = confirm.split('data-testid="audience"')[1]
    assert "Bất kỳ ai, không cần đăng nhập" in audience
    assert f"/r/{world.ids['closed']}" in audience
    assert "Nguyễn Văn An" in audience
    organizer.post(f"{base}/publish", data={"csrf_token": csrf_token(confirm)})
    assert world.client().get(f"/r/{world.ids['closed']}").status_code == 200


# ------------------------------------------------------------------ 10. paper entry


def test_the_paper_entry_page_takes_the_printed_columns(world: World) -> None:
    organizer = world.client("organizer")
    html = page(organizer, f"/admin/rounds/{world.ids['open']}/paper/1")
    assert (
        "Gõ chữ số của cột được đánh dấu trên phiếu: 1 Tín nhiệm cao, 2 Tín nhiệm, 3 Tín nhiệm thấp"
        in html
    )
    for key in ("1", "2", "3", "X", "0"):
        assert f'data-key="{key}"' in html
    assert 'data-key="H"' not in html
    assert 'data-word="Tín nhiệm thấp"' in html
    assert html.count('class="choice-word"') == 3
    # The ballot just added is shown in words, with the digit typed.
    form = {"csrf_token": csrf_token(html), "number": "1", "action": "add"}
    form.update({"item_1": "H", "item_2": "L", "item_3": "-"})
    added = organizer.post(
        f"/admin/rounds/{world.ids['open']}/paper/1", data=form, follow_redirects=True
    )
    last = added.get_data(as_text=True).split('data-testid="last"')[1].split("</div>")[0]
    assert "<b>1</b> Tín nhiệm cao" in last
    assert "<b>3</b> Tín nhiệm thấp" in last
    assert "<b>0</b> Không đánh ô nào" in last


def test_the_paper_csv_upload_takes_digits(world: World) -> None:
    organizer = world.client("organizer")
    base = f"/admin/rounds/{world.ids['open']}"
    form = {
        "csrf_token": token(organizer, base),
        "ballots_file": (io.BytesIO(b"status,1,2,3\nvalid,1,2,3\nvalid,3,3,X\n"), "b.csv"),
        "issued": "",
    }
    done = organizer.post(
        f"{base}/paper/upload", data=form, content_type="multipart/form-data", follow_redirects=True
    )
    assert "Đã đưa 2 phiếu giấy vào hòm phiếu" in done.get_data(as_text=True)


# ------------------------------------------------------------------ 11. findings in words


def test_findings_are_in_words_on_every_page(world: World) -> None:
    with operations.work(world.sessions, "setup") as work:
        operations.import_paper_ballots(
            work,
            world.ids["open"],
            # p2: 6 low of D = 10 deputies, more than one half.
            paper_csv(pack([rated(0, 7), rated(6, 7), rated(0, 7)])),
            issued=7,
        )
        operations.close_round(work, world.ids["open"])
    organizer = world.client("organizer")
    auditor = world.client("auditor")
    pages = [
        page(organizer, f"/admin/rounds/{world.ids['open']}/results"),
        page(organizer, "/admin/bodies/A"),
        page(auditor, "/audit/bodies/A"),
        page(auditor, f"/audit/rounds/{world.ids['open']}/results"),
    ]
    with world.sessions() as session:
        p2 = session.scalar(select(Person.id).where(Person.person_key == "p2"))
    pages.append(page(auditor, f"/audit/persons/{p2}"))
    csv_text = organizer.get(f"/admin/rounds/{world.ids['open']}/results.csv").data.decode()
    for text in [*pages, csv_text]:
        assert "band:" not in text
        assert "consecutive_years" not in text
        assert "over_half" not in text
        assert "over_two_thirds" not in text
    assert ["số phiếu tín nhiệm thấp chiếm" in text for text in pages] == [True] * len(pages)
    assert "số phiếu tín nhiệm thấp chiếm quá nửa tổng số đại biểu" in csv_text


def test_the_results_page_creates_a_vote_on_findings_and_a_proposal(world: World) -> None:
    """p1 is over two thirds low (a vote under NQ 35); a third of the deputies propose p3 too."""
    with world.sessions() as session:
        body = session.scalar(select(Body).where(Body.code == "A"))
        assert body is not None
        poll = counted_round(
            session,
            body,
            year=2013,
            profile_id="nq35-2012",
            roster=[
                RosterEntry(line=2, name="Nguyễn Văn An", position="Bí thư", person_key="p1"),
                RosterEntry(line=3, name="Trần Thị Bình", position="Phó Bí thư", person_key="p2"),
                RosterEntry(line=4, name="Lê Văn Cường", position="Ủy viên", person_key="p3"),
            ],
            columns=[rated(8, 10), rated(1, 10), rated(1, 10)],
            members=10,
        )
        session.commit()
        poll_id = poll.id
    organizer = world.client("organizer")
    results = page(organizer, f"/admin/rounds/{poll_id}/results")
    assert "Tạo đợt bỏ phiếu tín nhiệm" in results
    form = {
        "csrf_token": csrf_token(results),
        "proposed_by": "council_deputies",
        "proposal_number": "11/TTr-ĐB",
        "proposal_date": "2013-12-20",
        "signatories": "4",
        "persons": ["p3"],
    }
    created = organizer.post(f"/admin/rounds/{poll_id}/followup", data=form)
    assert created.status_code == 302
    with world.sessions() as session:
        vote = session.scalars(select(Round).order_by(Round.id.desc())).first()
        assert vote is not None
        assert vote.followup_of == poll_id
        assert [(i.person.person_key, i.referral) for i in vote.items if i.person] == [
            ("p1", "finding"),
            ("p3", "proposal"),
        ]
        assert vote.proposal_number == "11/TTr-ĐB"
