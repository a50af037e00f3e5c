"""Issue 14, through the command line: the conference as it really runs.

Each test is one bullet of the issue's "Why": it failed before the change and passes after,
on SQLite and on PostgreSQL (VOTES_TEST_DATABASE_URL). The pages are in test_web_conference.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import Outcome, VotesRunner
from tests.factories import column, pack, paper_csv, rated
from votes.models import AuditEvent, Ballot, Person, Round


def ok(outcome: Outcome) -> Outcome:
    assert outcome.exit_code == 0, outcome.stderr
    return outcome


def refused(outcome: Outcome, *words: str) -> str:
    """Assert a refusal: non-zero exit, one line on stderr holding `words`; return it."""
    assert outcome.exit_code != 0, outcome.stdout
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert "Traceback" not in outcome.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def pdf_text(path: Path) -> str:
    return " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages)


def count(session: Session, model: Any) -> int:
    """Count rows in a transaction of its own (an open one would hold up PostgreSQL's VACUUM)."""
    session.rollback()
    found = session.scalar(select(func.count()).select_from(model)) or 0
    session.rollback()
    return found


def create(
    votes: VotesRunner,
    tmp_path: Path,
    roster: str,
    *,
    body: str,
    year: int,
    profile: str,
    members: int,
    summoned: int | None = None,
    present: int | None = None,
    extra: tuple[object, ...] = (),
) -> Outcome:
    """Run `votes round create` with a roster written to a file."""
    path = write(tmp_path / f"roster-{body}-{year}.csv", roster)
    args: list[object] = [
        "round",
        "create",
        "--body",
        body,
        "--year",
        year,
        "--profile",
        profile,
        "--title",
        f"Lấy phiếu tín nhiệm năm {year}",
        "--members",
        members,
        "--roster",
        path,
    ]
    if summoned is not None:
        args += ["--summoned", summoned]
    if present is not None:
        args += ["--present", present]
    return votes(*args, *extra)


def import_ballots(
    votes: VotesRunner, tmp_path: Path, round_id: int, columns: list[list[str]], issued: int
) -> Outcome:
    path = tmp_path / f"ballots-{round_id}.csv"
    path.write_bytes(paper_csv(pack(columns)))
    return votes("ballots", "import", round_id, path, "--issued", issued)


COMMITTEE = "Vũ Thị Ngọc Ánh (Trưởng ban); Phạm Đình Trường; Lò Văn Sáu"


def meeting(votes: VotesRunner, round_id: int, day: str, *extra: object) -> Outcome:
    return votes("round", "meeting", round_id, "--held-on", day, "--committee", COMMITTEE, *extra)


# ------------------------------------------------------------------ 1. the quorum decides


def test_quorum_lost_after_opening_makes_the_round_void(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    """QĐ 96: 20 summoned, 18 present at opening, 12 at close: void, no finding, no vote."""
    ok(votes("body", "add", "TU-Q", "Tỉnh ủy Q", "--kind", "party"))
    roster = "name,position,person_key\nNguyễn Văn A,Bí thư,a\nTrần Thị B,Phó Bí thư,b\n"
    round_id = int(
        ok(
            create(
                votes,
                tmp_path,
                roster,
                body="TU-Q",
                year=2023,
                profile="qd96-2023",
                members=20,
                summoned=20,
                present=18,
            )
        ).last_line
    )
    ok(votes("round", "open", round_id))
    # 12 ballots: A low on 8 of 12 (two thirds or more), B on 7 (over half, under two thirds).
    ok(import_ballots(votes, tmp_path, round_id, [rated(8, 12), rated(7, 12)], 12))
    lowered = ok(votes("round", "attendance", round_id, "--present", 12))
    assert "không bảo đảm tỷ lệ có mặt" in lowered.stderr  # the change re-checks the quorum
    ok(votes("round", "close", round_id))

    result = json.loads(ok(votes("results", round_id, "--format", "json")).stdout)
    assert result["quorum_met"] is False
    assert result["void"] is True
    assert all(item["findings"] == [] for item in result["items"])
    assert "12" in result["void_reason"]["vi"]
    assert "14" in result["void_reason"]["vi"]
    assert "không tín nhiệm" not in json.dumps(result["items"], ensure_ascii=False)
    text = ok(votes("results", round_id)).stdout
    assert "KHÔNG BẢO ĐẢM" in text
    assert "KHÔNG CÓ GIÁ TRỊ" in text
    assert "⚑" not in text
    assert "tiến hành bỏ phiếu tín nhiệm" not in text
    found = json.loads(ok(votes("findings", "--body", "TU-Q", "--format", "json")).stdout)
    assert found == []
    refused(votes("round", "followup", "--from-round", round_id), "không có giá trị")
    refused(votes("round", "publish", round_id))
    # The recount and the log agree that the void round has no finding.
    ok(votes("verify", round_id))
    bundle = tmp_path / "bundle.zip"
    ok(votes("export", round_id, "--out", bundle))
    ok(votes("verify", "--bundle", bundle))

    # The minutes and the report say plainly why, and list no consequence.
    ok(meeting(votes, round_id, "2023-11-30"))
    ok(votes("report", round_id, "--kind", "minutes", "--out", tmp_path / "m.pdf"))
    minutes = pdf_text(tmp_path / "m.pdf")
    assert "Không bảo đảm" in minutes
    assert "không có giá trị" in minutes
    assert "cho thôi giữ chức vụ" not in minutes
    ok(votes("report", round_id, "--kind", "report", "--out", tmp_path / "r.pdf"))
    report = pdf_text(tmp_path / "r.pdf")
    assert "không có giá trị" in report
    assert "không làm phát sinh trường hợp nào phải xem xét" in report
    assert "cho thôi giữ chức vụ" not in report


def test_closing_a_quorum_round_needs_the_number_present(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "TU-P", "Tỉnh ủy P", "--kind", "party"))
    round_id = int(
        ok(
            create(
                votes,
                tmp_path,
                "name,position\nNguyễn Văn A,Bí thư\n",
                body="TU-P",
                year=2023,
                profile="qd96-2023",
                members=20,
                summoned=20,
            )
        ).last_line
    )
    ok(votes("round", "open", round_id))
    refused(votes("round", "close", round_id), "có mặt")
    ok(votes("round", "attendance", round_id, "--present", 15))
    ok(votes("round", "close", round_id))


# ------------------------------------------------------------------ 2. counts that cannot be


def test_counts_that_cannot_be_are_refused(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    """Under NQ 35 (D = all deputies): 0 members, or more ballots than members, is refused."""
    ok(votes("body", "add", "HDND-M", "Hội đồng nhân dân M", "--kind", "council"))
    roster = "name,position\nNguyễn Văn A,Chủ tịch\n"
    rounds_before = count(session, Round)
    refused(
        create(votes, tmp_path, roster, body="HDND-M", year=2014, profile="nq35-2012", members=0),
        "0",
    )
    assert count(session, Round) == rounds_before
    round_id = int(
        ok(
            create(
                votes, tmp_path, roster, body="HDND-M", year=2014, profile="nq35-2012", members=10
            )
        ).last_line
    )
    ok(votes("round", "open", round_id))
    # 30 ballots for 10 deputies would print "25 (250,00 %)": refused, nothing stored.
    refused(import_ballots(votes, tmp_path, round_id, [rated(25, 30)], 30), "30", "10")
    assert count(session, Ballot) == 0
    refused(votes("codes", "issue", round_id, "--count", 11), "11", "10")
    ok(import_ballots(votes, tmp_path, round_id, [rated(2, 8)], 8))
    # Attendance cannot make the deputies fewer than the ballots, nor zero.
    refused(votes("round", "attendance", round_id, "--members", 7), "8", "7")
    refused(votes("round", "attendance", round_id, "--members", 0), "0")
    ok(votes("round", "close", round_id))
    result = json.loads(ok(votes("results", round_id, "--format", "json")).stdout)
    assert result["denominator"] == {"basis": "members", "value": 10}
    assert result["items"][0]["percent"]["low"] == "20.00"
    # A follow-up vote cannot have 0 members either.
    ok(
        votes(
            "round", "meeting", round_id, "--held-on", "2014-06-20", "--committee", "A (Trưởng ban)"
        )
    )
    refused(
        votes(
            "round",
            "followup",
            "--body",
            "HDND-M",
            "--year",
            2014,
            "--profile",
            "nq35-2012",
            "--members",
            0,
            "--proposed-by",
            "front_committee",
            "--proposal-number",
            "12/MTTQ",
            "--proposal-date",
            "2014-07-01",
            "--person",
            "Nguyễn Văn A",
        ),
        "0",
    )


# ------------------------------------------------------------------ 3. identity


def test_a_name_in_another_case_is_the_same_person(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    """ "Nguyễn Văn Hùng" (2013) and "Nguyễn văn Hùng" (2014), both low: two years in a row."""
    ok(votes("body", "add", "TU-H", "Tỉnh ủy H", "--kind", "party"))
    for year, name in ((2013, "Nguyễn Văn Hùng"), (2014, "Nguyễn văn Hùng")):
        round_id = int(
            ok(
                create(
                    votes,
                    tmp_path,
                    f"name,position\n{name},Phó Bí thư\n",
                    body="TU-H",
                    year=year,
                    profile="tn-16kh-2012",
                    members=20,
                )
            ).last_line
        )
        ok(votes("round", "open", round_id))
        ok(import_ballots(votes, tmp_path, round_id, [rated(11, 20)], 20))
        ok(votes("round", "close", round_id))
    assert count(session, Person) == 1
    found = json.loads(ok(votes("findings", "--body", "TU-H", "--format", "json")).stdout)
    assert [(f["rule"], f["years"]) for f in found if f["rule"] == "consecutive_years"] == [
        ("consecutive_years", [2013, 2014])
    ]


def test_a_key_of_someone_else_needs_a_decision(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "TU-K", "Tỉnh ủy K", "--kind", "party"))
    first = "name,position,person_key\nLê Văn Cường,Bí thư,k-01\nĐào Thị Hoa,Phó Bí thư,k-02\n"
    ok(create(votes, tmp_path, first, body="TU-K", year=2013, profile="tn-16kh-2012", members=9))
    # Line 2 names somebody else under k-01's key; line 3 has k-02's name under a new key.
    second = "name,position,person_key\nNgô Văn Tâm,Bí thư,k-01\nĐào Thị Hoa,Phó Bí thư,k-99\n"
    rounds_before, persons_before = count(session, Round), count(session, Person)
    line = refused(
        create(votes, tmp_path, second, body="TU-K", year=2014, profile="tn-16kh-2012", members=9),
        "Dòng 2",
        "k-01",
        "cùng một người?",
    )
    assert "Lê Văn Cường" in line
    assert (count(session, Round), count(session, Person)) == (rounds_before, persons_before)
    # Answered: line 2 is another person (refused: k-01 is taken), so give them their own key …
    refused(
        create(
            votes,
            tmp_path,
            second,
            body="TU-K",
            year=2014,
            profile="tn-16kh-2012",
            members=9,
            extra=("--new-person", 2, "--same-person", 3),
        ),
        "k-01",
    )
    fixed = second.replace("Ngô Văn Tâm,Bí thư,k-01", "Ngô Văn Tâm,Bí thư,k-03")
    # … and line 3 (Đào Thị Hoa, new key) still needs an answer: the same person as k-02.
    refused(
        create(votes, tmp_path, fixed, body="TU-K", year=2014, profile="tn-16kh-2012", members=9),
        "Dòng 3",
        "Đào Thị Hoa",
    )
    round_id = int(
        ok(
            create(
                votes,
                tmp_path,
                fixed,
                body="TU-K",
                year=2014,
                profile="tn-16kh-2012",
                members=9,
                extra=("--same-person", "3=k-02"),
            )
        ).last_line
    )
    session.rollback()
    keys = [i.person.person_key for i in session.get(Round, round_id).items]  # type: ignore[union-attr]
    assert keys == ["k-03", "k-02"]
    # The decision is in the log.
    created = session.scalars(
        select(AuditEvent).where(
            AuditEvent.round_id == round_id, AuditEvent.kind == "round_created"
        )
    ).one()
    assert json.loads(created.details)["identity"] == [
        {"line": 3, "name": "Đào Thị Hoa", "answer": "k-02", "candidates": ["k-02"]}
    ]


def test_two_people_of_one_name_need_two_keys(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    """Without a key the name is the identity; a namesake needs a key and a decision."""
    ok(votes("body", "add", "TU-N", "Tỉnh ủy N", "--kind", "party"))
    ok(
        create(
            votes,
            tmp_path,
            "name,position\nTrần Văn Nam,Bí thư\n",
            body="TU-N",
            year=2013,
            profile="tn-16kh-2012",
            members=9,
        )
    )
    # The same name without a key is the same person, in any case.
    ok(
        create(
            votes,
            tmp_path,
            "name,position\nTRẦN VĂN NAM,Bí thư\n",
            body="TU-N",
            year=2014,
            profile="tn-16kh-2012",
            members=9,
        )
    )
    assert count(session, Person) == 1
    # A namesake with a key of their own: "the same person?" must be answered.
    namesake = "name,position,person_key\nTrần Văn Nam,Chủ tịch Ủy ban,n-2\n"
    refused(
        create(
            votes, tmp_path, namesake, body="TU-N", year=2014, profile="tn-16kh-2012", members=9
        ),
        "Trần Văn Nam",
    )
    assert count(session, Person) == 1
    ok(
        create(
            votes,
            tmp_path,
            namesake,
            body="TU-N",
            year=2014,
            profile="tn-16kh-2012",
            members=9,
            extra=("--new-person", 2),
        )
    )
    assert count(session, Person) == 2


# ------------------------------------------------------------------ 4. exemptions


def test_an_exemption_the_profile_does_not_list_needs_a_decision(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "TU-E", "Tỉnh ủy E", "--kind", "party"))
    roster = (
        "name,position,person_key,exempt_reason\n"
        "Nguyễn Văn A,Bí thư,a,\n"
        "Trần Văn B,Phó Bí thư,b,Không thích bị lấy phiếu\n"
        "Lê Thị C,Ủy viên,c,Đã có thông báo nghỉ hưu\n"
    )
    before = count(session, Round)
    refused(
        create(votes, tmp_path, roster, body="TU-E", year=2013, profile="tn-16kh-2012", members=9),
        "Không thích bị lấy phiếu",
        "--other-exemption",
    )
    refused(
        create(
            votes,
            tmp_path,
            roster.replace("Không thích bị lấy phiếu", "x"),
            body="TU-E",
            year=2013,
            profile="tn-16kh-2012",
            members=9,
        ),
        "'x'",
    )
    assert count(session, Round) == before
    round_id = int(
        ok(
            create(
                votes,
                tmp_path,
                roster.replace("Không thích bị lấy phiếu", "Đi học dài hạn ở nước ngoài"),
                body="TU-E",
                year=2013,
                profile="tn-16kh-2012",
                members=9,
                extra=("--other-exemption", "15-QĐ/TU"),
            )
        ).last_line
    )
    ok(votes("round", "open", round_id))
    ok(import_ballots(votes, tmp_path, round_id, [rated(1, 9)], 9))
    ok(votes("round", "close", round_id))
    result = json.loads(ok(votes("results", round_id, "--format", "json")).stdout)
    assert [(e["name"], e["reason_id"], e["decision"]) for e in result["exempt"]] == [
        ("Trần Văn B", "other", "15-QĐ/TU"),
        ("Lê Thị C", "retirement", None),
    ]
    ok(meeting(votes, round_id, "2013-12-18"))
    ok(votes("report", round_id, "--kind", "minutes", "--out", tmp_path / "m.pdf"))
    minutes = pdf_text(tmp_path / "m.pdf")
    assert "Lý do khác: Đi học dài hạn ở nước ngoài (theo quyết định số 15-QĐ/TU)" in minutes
    history = json.loads(
        ok(votes("history", "--body", "TU-E", "--person", "b", "--format", "json")).stdout
    )
    (entry,) = history["rounds"]
    assert (entry["exempt_reason_id"], entry["exempt_decision"]) == ("other", "15-QĐ/TU")
    # On a draft round, `round exempt` checks the reason the same way.
    draft = int(
        ok(
            create(
                votes,
                tmp_path,
                "name,position,person_key\nNguyễn Văn A,Bí thư,a\nLê Thị C,Ủy viên,c\n",
                body="TU-E",
                year=2014,
                profile="tn-16kh-2012",
                members=9,
            )
        ).last_line
    )
    refused(votes("round", "exempt", draft, "--person", "c", "--reason", "x"))
    ok(votes("round", "exempt", draft, "--person", "c", "--reason", "x", "--decision", "9-QĐ/TU"))
    ok(votes("round", "exempt", draft, "--person", "a", "--reason", "retirement"))


# ------------------------------------------------------------------ 5. time


def test_a_round_outside_the_profiles_years_is_refused(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "HDND-T", "Hội đồng nhân dân T", "--kind", "council"))
    roster = "name,position\nNguyễn Văn A,Chủ tịch\n"
    before = count(session, Round)
    refused(
        create(votes, tmp_path, roster, body="HDND-T", year=1990, profile="nq96-2023", members=9),
        "1990",
    )
    # NQ 35/2012 took effect on 1 February 2013.
    refused(
        create(votes, tmp_path, roster, body="HDND-T", year=2012, profile="nq35-2012", members=9),
        "01/02/2013",
    )
    assert count(session, Round) == before
    # A decision allows the exception; it is logged, and the round feeds no two-years chain.
    rounds = []
    for year, extra in ((2012, ("--exception-decision", "01/NQ-HĐND")), (2013, ())):
        round_id = int(
            ok(
                create(
                    votes,
                    tmp_path,
                    roster,
                    body="HDND-T",
                    year=year,
                    profile="nq35-2012",
                    members=30,
                    extra=extra,
                )
            ).last_line
        )
        ok(votes("round", "open", round_id))
        ok(import_ballots(votes, tmp_path, round_id, [rated(17, 30)], 30))
        ok(votes("round", "close", round_id))
        rounds.append(round_id)
    log = ok(votes("log", "--round", rounds[0])).stdout
    assert "01/NQ-HĐND" in log
    found = json.loads(ok(votes("findings", "--body", "HDND-T", "--format", "json")).stdout)
    assert [f["rule"] for f in found] == ["band", "band"]  # no "two years in a row"


def test_a_second_poll_in_a_period_the_frequency_forbids(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "HDND-F", "Hội đồng nhân dân F", "--kind", "council"))
    roster = "name,position\nNguyễn Văn A,Chủ tịch\n"
    first = int(
        ok(
            create(
                votes, tmp_path, roster, body="HDND-F", year=2023, profile="nq96-2023", members=9
            )
        ).last_line
    )
    ok(votes("round", "open", first))
    # Once a term: another poll two years later is refused, with the reason.
    refused(
        create(votes, tmp_path, roster, body="HDND-F", year=2025, profile="nq96-2023", members=9),
        "một lần trong nhiệm kỳ",
        str(first),
    )
    ok(
        create(
            votes,
            tmp_path,
            roster,
            body="HDND-F",
            year=2025,
            profile="nq96-2023",
            members=9,
            extra=("--exception-decision", "88/NQ-HĐND"),
        )
    )
    # A draft is a plan: two drafts may exist; only the first opened counts.
    draft_a = int(
        ok(
            create(
                votes, tmp_path, roster, body="HDND-F", year=2029, profile="nq96-2023", members=9
            )
        ).last_line
    )
    draft_b = int(
        ok(
            create(
                votes, tmp_path, roster, body="HDND-F", year=2029, profile="nq96-2023", members=9
            )
        ).last_line
    )
    ok(votes("round", "open", draft_a))
    refused(votes("round", "open", draft_b), str(draft_a))


# ------------------------------------------------------------------ 6. the minutes as signed


def test_the_minutes_are_dated_by_the_meeting(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    """A 2013 round: the minutes say 30 November 2013, the committee signs them."""
    ok(votes("body", "add", "TU-M", "Tỉnh ủy Thái Nguyên", "--kind", "party"))
    round_id = int(
        ok(
            create(
                votes,
                tmp_path,
                "name,position\nNguyễn Văn A,Bí thư\nTrần Thị B,Phó Bí thư\n",
                body="TU-M",
                year=2013,
                profile="tn-16kh-2012",
                members=20,
                summoned=20,
                present=19,
            )
        ).last_line
    )
    # Before the meeting is recorded the minutes are refused, saying how to record it.
    ok(votes("round", "open", round_id))
    ok(import_ballots(votes, tmp_path, round_id, [rated(2, 19), rated(11, 19)], 19))
    ok(votes("round", "close", round_id))
    line = refused(votes("report", round_id, "--kind", "minutes", "--out", tmp_path / "m.pdf"))
    assert f"votes round meeting {round_id} --held-on" in line
    assert not (tmp_path / "m.pdf").exists()
    # Refused: outside the round's year, a counting before the meeting, a committee w/o head.
    refused(meeting(votes, round_id, "2014-01-02"), "2013")
    refused(meeting(votes, round_id, "2013-11-30", "--counted-at", "2013-11-29 10:00"))
    refused(
        votes("round", "meeting", round_id, "--held-on", "2013-11-30", "--committee", "A; B"),
        "Trưởng ban",
    )
    ok(
        meeting(
            votes,
            round_id,
            "2013-11-30",
            "--starts-at",
            "08:00",
            "--counted-at",
            "2013-11-30 10:15",
            "--place",
            "Hội trường Tỉnh ủy",
            "--chair",
            "Nguyễn Văn Chủ",
        )
    )
    events = ok(votes("log", "--round", round_id)).stdout
    assert "meeting_recorded" in events
    ok(votes("report", round_id, "--kind", "minutes", "--out", tmp_path / "m.pdf"))
    minutes = pdf_text(tmp_path / "m.pdf")
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in minutes
    assert "Hội trường Tỉnh ủy, ngày 30 tháng 11 năm 2013" in minutes
    assert (
        "Hôm nay, ngày 30 tháng 11 năm 2013, vào lúc 08 giờ 00, tại Hội trường Tỉnh ủy" in minutes
    )
    assert "Nguyễn Văn Chủ chủ trì" in minutes
    assert "Vào lúc 10 giờ 15 ngày 30 tháng 11 năm 2013" in minutes
    for name in ("Vũ Thị Ngọc Ánh — Trưởng ban", "Phạm Đình Trường — Thành viên", "Lò Văn Sáu"):
        assert name in minutes
    assert "TM. BAN KIỂM PHIẾU" in minutes
    assert "Tổng số thành viên" in minutes
    assert "tn-16kh-2012" not in minutes
    assert "phiên bản" not in minutes
    # The consequences go to the report, one page, for the committee that decides.
    assert "Tín nhiệm thấp trong năm" not in minutes
    ok(votes("report", round_id, "--kind", "report", "--out", tmp_path / "r.pdf"))
    assert len(PdfReader(tmp_path / "r.pdf").pages) == 1
    report = pdf_text(tmp_path / "r.pdf")
    assert "BÁO CÁO" in report
    assert "Kính gửi: Cấp ủy có thẩm quyền quản lý cán bộ" in report
    assert "Trần Thị B" in report
    assert "Tín nhiệm thấp trong năm" in report
    assert "Vũ Thị Ngọc Ánh" in report
    # Once published, the minutes are signed: the meeting stays as recorded.
    ok(votes("round", "publish", round_id))
    refused(meeting(votes, round_id, "2013-12-01"), "đã công bố")


def test_a_councils_minutes_say_deputies(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "HDND-D", "Hội đồng nhân dân tỉnh D", "--kind", "council"))
    round_id = int(
        ok(
            create(
                votes,
                tmp_path,
                "name,position\nNguyễn Văn A,Chủ tịch\n",
                body="HDND-D",
                year=2014,
                profile="nq35-2012",
                members=32,
            )
        ).last_line
    )
    ok(votes("round", "open", round_id))
    ok(import_ballots(votes, tmp_path, round_id, [rated(17, 30)], 30))
    ok(votes("round", "close", round_id))
    ok(meeting(votes, round_id, "2014-06-20"))
    ok(votes("report", round_id, "--kind", "minutes", "--out", tmp_path / "m.pdf"))
    minutes = pdf_text(tmp_path / "m.pdf")
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in minutes
    assert "Tổng số đại biểu: 32 người" in minutes
    assert "tổng số đại biểu (32 người)" in minutes
    assert "thành viên:" not in minutes.lower().replace("các thành viên ban", "")
    ok(votes("report", round_id, "--kind", "report", "--out", tmp_path / "r.pdf"))
    report = pdf_text(tmp_path / "r.pdf")
    assert "Kính gửi: Thường trực Hội đồng nhân dân" in report
    assert "có thể xin từ chức" in report
    text = ok(votes("results", round_id)).stdout
    assert "Tổng số đại biểu: 32" in text


# ------------------------------------------------------------------ 7. ballots and votes


def test_the_ballot_says_the_profiles_signing_rule_from_every_door(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "TU-S", "Tỉnh ủy S", "--kind", "party"))
    ok(votes("body", "add", "HDND-S", "Hội đồng nhân dân S", "--kind", "council"))
    qd96 = int(
        ok(
            create(
                votes,
                tmp_path,
                "name,position\nNguyễn Văn A,Bí thư\n",
                body="TU-S",
                year=2023,
                profile="qd96-2023",
                members=9,
            )
        ).last_line
    )
    nq96 = int(
        ok(
            create(
                votes,
                tmp_path,
                "name,position\nNguyễn Văn A,Chủ tịch\n",
                body="HDND-S",
                year=2023,
                profile="nq96-2023",
                members=9,
            )
        ).last_line
    )
    ok(votes("report", qd96, "--kind", "ballot", "--out", tmp_path / "a.pdf"))
    text = pdf_text(tmp_path / "a.pdf")
    assert "có thể ký tên hoặc không ký tên" in text
    assert "Không ghi tên người bỏ phiếu" not in text
    assert "thì cả phiếu không hợp lệ" in text
    ok(votes("report", nq96, "--kind", "ballot", "--out", tmp_path / "b.pdf"))
    text = pdf_text(tmp_path / "b.pdf")
    assert "ký tên" not in text  # the resolution's text on signing is not verified
    assert "thì ý kiến đối với người đó không hợp lệ" in text
    shown = json.loads(ok(votes("profiles", "show", "qd96-2023")).stdout)
    assert "dismissal" not in json.dumps(shown["bands"])
    assert shown["ballot_signature"]["rule"] == "may_sign"


def test_a_vote_of_confidence_on_a_proposal_with_a_resignation(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    """NQ 85/2014, a People's Council of 30: a third of the deputies propose a vote."""
    ok(votes("body", "add", "HDND-V", "Hội đồng nhân dân V", "--kind", "council"))
    poll = int(
        ok(
            create(
                votes,
                tmp_path,
                "name,position,person_key\nNguyễn Văn A,Chủ tịch,a\nTrần Văn B,Phó Chủ tịch,b\n"
                "Lê Văn C,Trưởng ban,c\n",
                body="HDND-V",
                year=2018,
                profile="nq85-2014",
                members=30,
            )
        ).last_line
    )
    ok(votes("round", "open", poll))
    ok(import_ballots(votes, tmp_path, poll, [rated(1, 30), rated(2, 30), rated(3, 30)], 30))
    ok(votes("round", "close", poll))
    proposal: tuple[object, ...] = (
        "round",
        "followup",
        "--body",
        "HDND-V",
        "--year",
        2019,
        "--profile",
        "nq85-2014",
        "--members",
        30,
        "--proposed-by",
        "council_deputies",
        "--proposal-number",
        "03/TTr-ĐB",
        "--proposal-date",
        "2019-05-02",
        "--person",
        "a",
        "--person",
        "b",
    )
    # At least a third of the deputies must sign: 9 of 30 is not enough; who may propose.
    refused(votes(*proposal, "--signatories", 9), "9", "30")
    refused(votes(*[("standing_committee" if p == "council_deputies" else p) for p in proposal]))
    out = ok(votes(*proposal, "--signatories", 10, "--resigned", "b=45/QĐ-HĐND"))
    vote = int(out.last_line)
    ok(votes("round", "open", vote))
    # Only A is on the ballot: B resigned first (recorded with the decision).
    ballots = [column(trust=14, no_trust=16)]
    ok(import_ballots(votes, tmp_path, vote, ballots, 30))
    ok(votes("round", "close", vote))
    result = json.loads(ok(votes("results", vote, "--format", "json")).stdout)
    assert [i["person_key"] for i in result["items"]] == ["a"]
    assert result["items"][0]["referral"] == "proposal"
    assert result["round"]["proposal"]["number"] == "03/TTr-ĐB"
    assert result["round"]["proposal"]["date"] == "2019-05-02"
    assert result["round"]["proposal"]["signatories"] == 10
    assert [(e["name"], e["reason_id"], e["decision"]) for e in result["exempt"]] == [
        ("Trần Văn B", "resigned", "45/QĐ-HĐND")
    ]
    # NQ 85: more than half of all deputies vote no confidence: may resign, else dismissal.
    (finding,) = result["items"][0]["findings"]
    assert finding["consequence"]["vi"].startswith(
        "Quá nửa tổng số đại biểu không tín nhiệm: có thể xin từ chức"
    )
    log = ok(votes("log", "--round", vote)).stdout
    assert "council_deputies" in log
    # A resignation may also be recorded on the draft, and only on a vote of confidence.
    again = int(ok(votes(*proposal, "--signatories", 10, "--title", "Lần hai")).last_line)
    ok(votes("round", "resign", again, "--person", "a", "--decision", "46/QĐ-HĐND"))
    refused(votes("round", "resign", poll, "--person", "a", "--decision", "1"))


# ------------------------------------------------------------------ 9. publication


def test_publishing_says_who_will_see_it(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "TU-R", "Tỉnh ủy R", "--kind", "party"))
    round_id = int(
        ok(
            create(
                votes,
                tmp_path,
                "name,position\nNguyễn Văn A,Bí thư\n",
                body="TU-R",
                year=2013,
                profile="tn-16kh-2012",
                members=9,
            )
        ).last_line
    )
    ok(votes("round", "open", round_id))
    ok(import_ballots(votes, tmp_path, round_id, [rated(1, 9)], 9))
    ok(votes("round", "close", round_id))
    out = ok(votes("round", "publish", round_id))
    assert "không được công khai rộng rãi" in out.stdout
    assert f"/r/{round_id}" not in out.stdout


# ------------------------------------------------------------------ 10. paper by the columns


def test_paper_csv_takes_the_printed_columns(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "TU-C", "Tỉnh ủy C", "--kind", "party"))
    round_id = int(
        ok(
            create(
                votes,
                tmp_path,
                "name,position\nNguyễn Văn A,Bí thư\nTrần Thị B,Phó Bí thư\n",
                body="TU-C",
                year=2013,
                profile="tn-16kh-2012",
                members=9,
            )
        ).last_line
    )
    ok(votes("round", "open", round_id))
    path = write(tmp_path / "digits.csv", "status,1,2\nvalid,1,3\nvalid,2,L\nvalid,3,X\nvalid,,2\n")
    ok(votes("ballots", "import", round_id, path, "--issued", 4))
    refused(
        votes(
            "ballots", "import", round_id, write(tmp_path / "bad.csv", "status,1,2\nvalid,4,1\n")
        ),
        "'4'",
    )
    ok(votes("round", "close", round_id))
    result = json.loads(ok(votes("results", round_id, "--format", "json")).stdout)
    assert [i["counts"] for i in result["items"]] == [
        {"high": 1, "confidence": 1, "low": 1, "invalid": 1},
        {"high": 0, "confidence": 1, "low": 2, "invalid": 1},
    ]


def test_a_vote_of_confidence_csv_takes_1_and_2(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "HDND-Y", "Hội đồng nhân dân Y", "--kind", "council"))
    # The person is known from a poll of the council; the Front committee proposes a vote.
    ok(
        create(
            votes,
            tmp_path,
            "name,position\nNguyễn Văn A,Chủ tịch\n",
            body="HDND-Y",
            year=2013,
            profile="nq35-2012",
            members=9,
        )
    )
    vote = int(
        ok(
            votes(
                "round",
                "followup",
                "--body",
                "HDND-Y",
                "--year",
                2014,
                "--profile",
                "nq35-2012",
                "--members",
                9,
                "--proposed-by",
                "front_committee",
                "--proposal-number",
                "7/MTTQ",
                "--proposal-date",
                "2014-05-05",
                "--person",
                "Nguyễn Văn A",
            )
        ).last_line
    )
    ok(votes("round", "open", vote))
    path = write(tmp_path / "vote.csv", "status,1\nvalid,1\nvalid,2\nvalid,K\nvalid,T\n")
    ok(votes("ballots", "import", vote, path, "--issued", 4))
    ok(votes("round", "close", vote))
    result = json.loads(ok(votes("results", vote, "--format", "json")).stdout)
    assert result["items"][0]["counts"] == {"trust": 2, "no_trust": 2, "invalid": 0}


# ------------------------------------------------------------------ 11. findings in words


def test_findings_are_in_words_in_every_text(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "TU-W", "Tỉnh ủy W", "--kind", "party"))
    round_id = int(
        ok(
            create(
                votes,
                tmp_path,
                "name,position\nNguyễn Văn A,Bí thư\n",
                body="TU-W",
                year=2013,
                profile="tn-16kh-2012",
                members=9,
            )
        ).last_line
    )
    ok(votes("round", "open", round_id))
    ok(import_ballots(votes, tmp_path, round_id, [rated(6, 9)], 9))
    ok(votes("round", "close", round_id))
    texts = [
        ok(votes("results", round_id)).stdout,
        ok(votes("results", round_id, "--format", "csv")).stdout,
        ok(votes("findings", "--body", "TU-W")).stdout,
        ok(votes("history", "--body", "TU-W")).stdout,
    ]
    for text in texts:
        assert "band:" not in text
        assert "consecutive_years:" not in text
        assert "over_half" not in text
    assert "số phiếu tín nhiệm thấp chiếm quá nửa tổng số phiếu thu về" in texts[1]


def test_an_other_exemption_is_marked_in_the_history_pdf(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    ok(votes("body", "add", "TU-J", "Tỉnh ủy J", "--kind", "party"))
    roster = (
        "name,position,person_key,exempt_reason,exempt_decision\n"
        "Nguyễn Văn A,Bí thư,a,,\n"
        "Trần Văn B,Phó Bí thư,b,Điều trị dài ngày,21-QĐ/TU\n"
    )
    round_id = int(
        ok(
            create(
                votes, tmp_path, roster, body="TU-J", year=2013, profile="tn-16kh-2012", members=9
            )
        ).last_line
    )
    ok(votes("round", "open", round_id))
    ok(import_ballots(votes, tmp_path, round_id, [rated(1, 9)], 9))
    ok(votes("round", "close", round_id))
    ok(votes("history", "--body", "TU-J", "--person", "b", "--pdf", tmp_path / "h.pdf"))
    text = pdf_text(tmp_path / "h.pdf")
    assert "không lấy phiếu: Lý do khác: Điều trị dài ngày (theo quyết định số 21-QĐ/TU)" in text
    line = ok(votes("history", "--body", "TU-J", "--person", "b")).stdout
    assert "Điều trị dài ngày (quyết định số 21-QĐ/TU)" in line
