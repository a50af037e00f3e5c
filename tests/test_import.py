"""Reading what people type: the paper-ballot CSV and the roster CSV.

A paper-ballot file is stored whole or not at all; every refusal names the line.
"""

from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import add_committee, decrypt_round, year_in_force
from votes import rounds, voting
from votes.errors import CountError, InvalidInput, VotesError, WrongState
from votes.models import Ballot, BallotItem, Exemption, Person, Round, Scale
from votes.roster import RosterEntry, parse_roster
from votes.tally import tally_round

SECRET = "test-secret-key-0123456789abcdef"
UTF8_ADVICE = "UTF-8"  # the refusal says how to save the file again


def make_round(
    session: Session,
    *,
    items: int = 3,
    profile: str = "nq35-2012",
    state: str = "open",
    present: int | None = 30,
    summoned: int | None = 30,
    members: int = 32,
    scale: str = Scale.POLL.value,
) -> Round:
    """Create a round of `items` persons, with `summoned` summoned and `present` present."""
    kind = "party" if profile.startswith(("tn-", "qd")) else "council"
    body = rounds.add_body(session, "HDND-I", "Hội đồng nhân dân I", kind)
    roster = [
        RosterEntry(line=n + 2, name=f"Đỗ Thị {chr(65 + n)}", position="Ủy viên")
        for n in range(items)
    ]
    round_ = rounds.create_round(
        session,
        body,
        year=year_in_force(profile),
        profile_id=profile,
        title="Lấy phiếu",
        roster=roster,
        members=members,
        summoned=summoned,
        present=present,
        scale=scale,
    )
    if state in ("open", "closed"):
        rounds.open_round(session, round_)
    if state == "closed":
        rounds.close_round(session, round_)
        decrypt_round(session, round_.id)
    session.commit()
    return round_


def csv_bytes(*lines: str, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    """Join lines into the bytes of a file."""
    text = newline.join(lines) + newline
    if encoding == "cp1258":
        return windows_1258(text)
    return text.encode(encoding)


def windows_1258(text: str) -> bytes:
    """Encode as Excel on Vietnamese Windows saves: letters like ê precomposed, tones combining."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFD", ch)
            letter, tone = unicodedata.normalize("NFC", decomposed[:-1]), decomposed[-1]
            out += (letter + tone).encode("cp1258")
    return out


def stored(session: Session, round_id: int) -> list[tuple[str, str]]:
    """Return the (status, marks) of every ballot in a round's box, sorted."""
    return sorted(
        (status, marks)
        for status, marks in session.execute(
            select(Ballot.status, Ballot.marks).where(Ballot.round_id == round_id)
        )
    )


def refused(session: Session, round_: Round, data: bytes, issued: int | None = 30) -> VotesError:
    """Import, expect a refusal, roll back as every caller does, and check nothing changed."""
    paper_issued = round_.paper_issued
    before = stored(session, round_.id)
    with pytest.raises(VotesError) as error:
        voting.import_paper_ballots(session, round_, data, issued=issued)
    session.rollback()
    assert stored(session, round_.id) == before
    assert session.get(Round, round_.id).paper_issued == paper_issued  # type: ignore[union-attr]
    return error.value


# ------------------------------------------------------------------------ paper ballots: accepted


def test_the_documented_format_is_stored_mark_by_mark(session: Session) -> None:
    round_ = make_round(session)
    result = voting.import_paper_ballots(
        session,
        round_,
        csv_bytes(
            "status,1,2,3",
            "valid,H,C,L",
            "valid,h, c ,l",
            "valid,,X,H",
            "valid,x,,",
            "invalid,H,H,H",
            "invalid,,,",
        ),
        issued=30,
    )
    session.commit()
    assert (result.count, result.valid, result.invalid) == (6, 4, 2)
    assert len(result.sha256) == 64
    assert stored(session, round_.id) == sorted(
        [
            ("valid", "HCL"),
            ("valid", "HCL"),
            ("valid", "-XH"),
            ("valid", "X--"),
            ("invalid", "HHH"),
            ("invalid", "---"),
        ]
    )
    assert session.get(Round, round_.id).paper_issued == 30  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "data",
    [
        "\ufeffstatus,1,2,3\nvalid,H,C,L\nvalid,L,L,L\n".encode(),  # a BOM (Excel's CSV UTF-8)
        b"status;1;2;3\nvalid;H;C;L\nvalid;L;L;L\n",  # Excel in a locale with a decimal comma
        "\ufeffstatus;1;2;3\r\nvalid;H;C;L\r\nvalid;L;L;L\r\n".encode(),
        b"status,1,2,3\r\nvalid,H,C,L\r\nvalid,L,L,L\r\n",  # Windows line ends
        b"Status,1,2,3\nVALID,H,C,L\nValid,L,L,L",  # no line end at the end of the file
        b'"status","1","2","3"\n"valid","H","C","L"\n\n"valid","L","L","L"\n\n',  # quotes, blanks
        b"status , 1 , 2 , 3\nvalid , H , C , L\nvalid,L,L,L\n",
    ],
    ids=["bom", "semicolon", "bom-semicolon-crlf", "crlf", "no-final-newline", "quoted", "padded"],
)
def test_common_spreadsheet_exports_are_accepted(session: Session, data: bytes) -> None:
    round_ = make_round(session)
    voting.import_paper_ballots(session, round_, data, issued=30)
    session.commit()
    assert stored(session, round_.id) == [("valid", "HCL"), ("valid", "LLL")]


def test_a_vote_of_confidence_takes_t_and_k(session: Session) -> None:
    round_ = make_round(session, items=2, scale=Scale.CONFIDENCE_VOTE.value)
    voting.import_paper_ballots(
        session, round_, csv_bytes("status,1,2", "valid,T,K", "valid,k,", "valid,X,T"), issued=30
    )
    session.commit()
    assert stored(session, round_.id) == [("valid", "K-"), ("valid", "TK"), ("valid", "XT")]
    error = refused(session, round_, csv_bytes("status,1,2", "valid,T,K", "valid,H,L"))
    assert "Line 3" in str(error)


def test_several_imports_add_up(session: Session) -> None:
    round_ = make_round(session)
    voting.import_paper_ballots(
        session, round_, csv_bytes("status,1,2,3", "valid,H,H,H"), issued=30
    )
    voting.import_paper_ballots(session, round_, csv_bytes("status,1,2,3", "valid,L,L,L"))
    session.commit()
    assert stored(session, round_.id) == [("valid", "HHH"), ("valid", "LLL")]


# ---------------------------------------------------------------------------- invalid marks


def counts_of(session: Session, round_: Round) -> tuple[tuple[int, int], list[dict[str, int]]]:
    """Return (valid, invalid) ballots and the per-item counts of a closed round."""
    rounds.close_round(session, round_)
    decrypt_round(session, round_.id)
    session.commit()
    tally = tally_round(session, round_)
    return (tally.valid, tally.invalid), [item.counts for item in tally.items]


BALLOTS_WITH_INVALID_MARKS = csv_bytes(
    "status,1,2,3",
    "valid,H,C,L",
    "valid,H,,L",  # no box marked for item 2
    "valid,X,C,L",  # two boxes marked for item 1
    "valid,L,L,L",
    "invalid,H,H,H",  # the whole ballot spoiled, whatever its rows say
)


def test_row_scope_loses_only_the_row(session: Session) -> None:
    """nq35-2012 (row): the other items of a ballot with an invalid mark still count."""
    round_ = make_round(session, profile="nq35-2012")
    voting.import_paper_ballots(session, round_, BALLOTS_WITH_INVALID_MARKS, issued=30)
    ballots, items = counts_of(session, round_)
    assert ballots == (4, 1)
    assert items == [
        {"high": 2, "confidence": 0, "low": 1, "invalid": 1},
        {"high": 0, "confidence": 2, "low": 1, "invalid": 1},
        {"high": 0, "confidence": 0, "low": 4, "invalid": 0},
    ]


def test_ballot_scope_spoils_the_whole_ballot(session: Session) -> None:
    """qd262-2014 (ballot): a ballot with any invalid mark is an invalid ballot."""
    round_ = make_round(session, profile="qd262-2014")
    voting.import_paper_ballots(session, round_, BALLOTS_WITH_INVALID_MARKS, issued=30)
    ballots, items = counts_of(session, round_)
    assert ballots == (2, 3)
    assert items == [
        {"high": 1, "confidence": 0, "low": 1, "invalid": 0},
        {"high": 0, "confidence": 1, "low": 1, "invalid": 0},
        {"high": 0, "confidence": 0, "low": 2, "invalid": 0},
    ]


# ------------------------------------------------------------------------- paper ballots: refused


GOOD = ["valid,H,C,L"] * 5


@pytest.mark.parametrize("where", [0, 2, 4])
@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("valid,H,C,Q", "'Q'"),
        ("valid,H,C,-", "'-'"),
        ("valid,H,C", "3 cells"),
        ("valid,H,C,L,H", "5 cells"),
        ("spoiled,H,C,L", "'spoiled'"),
        (",H,C,L", "status"),
        ("valid,H,C,T", "'T'"),
        ("valid,H,HC,L", "'HC'"),
        ('valid,"H,C",L', "3 cells"),
    ],
)
def test_one_bad_line_anywhere_refuses_the_whole_file(
    session: Session, where: int, bad: str, words: str
) -> None:
    round_ = make_round(session)
    lines = list(GOOD)
    lines[where] = bad
    error = refused(session, round_, csv_bytes("status,1,2,3", *lines))
    assert isinstance(error, InvalidInput)
    assert f"Line {where + 2}" in str(error)  # the header is line 1
    assert words in str(error)


def test_line_numbers_count_blank_lines_and_windows_line_ends(session: Session) -> None:
    round_ = make_round(session)
    data = csv_bytes(
        "status,1,2,3", "valid,H,C,L", "", "valid,H,C,L", "valid,H,?,L", newline="\r\n"
    )
    assert "Line 5" in str(refused(session, round_, data))


def test_an_unterminated_quote_is_refused_with_its_line(session: Session) -> None:
    round_ = make_round(session)
    error = refused(session, round_, csv_bytes("status,1,2,3", "valid,H,C,L", 'valid,H,"C,L'))
    assert "Line 3" in str(error)


@pytest.mark.parametrize(
    "header",
    ["status,1,2", "status,1,2,3,4", "status,1,3,2", "state,1,2,3", "1,2,3", "status,a,b,c", ""],
)
def test_a_header_that_does_not_match_the_ballot_is_refused(session: Session, header: str) -> None:
    round_ = make_round(session)
    error = refused(session, round_, csv_bytes(header, "valid,H,C,L"))
    assert "Line 1" in str(error)
    assert "status,1,2,3" in str(error)


@pytest.mark.parametrize("data", [b"", b"status,1,2,3\n", b"\xef\xbb\xbf", b"status,1,2,3\n\n\n"])
def test_a_file_without_ballots_is_refused(session: Session, data: bytes) -> None:
    round_ = make_round(session)
    refused(session, round_, data)
    assert stored(session, round_.id) == []


@pytest.mark.parametrize("encoding", ["cp1258", "cp1252"])
def test_a_file_not_in_utf8_is_refused_with_how_to_save_it(session: Session, encoding: str) -> None:
    round_ = make_round(session)
    # A Vietnamese note typed into a cell makes a file that is not UTF-8.
    word = "Ghi chú: phiếu rách" if encoding == "cp1258" else "Résumé"
    data = csv_bytes("status,1,2,3", "valid,H,C,L", f"valid,H,C,L {word}", encoding=encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    error = refused(session, round_, data)
    assert isinstance(error, InvalidInput)
    assert UTF8_ADVICE in str(error)
    assert "Save As" in str(error)
    assert "UTF-8" in error.message("vi")


def test_collected_may_not_exceed_issued(session: Session) -> None:
    round_ = make_round(session)
    error = refused(session, round_, csv_bytes("status,1,2,3", *["valid,H,C,L"] * 5), issued=4)
    assert isinstance(error, CountError)
    assert "5" in str(error)
    assert "4" in str(error)
    # Without --issued nothing was handed out, so no ballot can come back.
    refused(session, round_, csv_bytes("status,1,2,3", "valid,H,C,L"), issued=None)
    # Exactly as many as issued is fine; one more in a later import is not.
    voting.import_paper_ballots(
        session, round_, csv_bytes("status,1,2,3", *["valid,H,C,L"] * 4), issued=4
    )
    session.commit()
    with pytest.raises(CountError):
        voting.import_paper_ballots(session, round_, csv_bytes("status,1,2,3", "valid,L,L,L"))
    session.rollback()
    assert len(stored(session, round_.id)) == 4


def test_online_codes_count_as_issued(session: Session) -> None:
    round_ = make_round(session, state="draft")
    add_committee(session, round_.id)
    rounds.issue_round_codes(session, round_, 2, SECRET)
    rounds.open_round(session, round_)
    voting.import_paper_ballots(
        session, round_, csv_bytes("status,1,2,3", "valid,H,C,L", "valid,C,C,C")
    )
    session.commit()
    assert len(stored(session, round_.id)) == 2
    refused(session, round_, csv_bytes("status,1,2,3", "valid,H,C,L"), issued=None)


def test_more_ballots_issued_than_persons_present_is_refused(session: Session) -> None:
    round_ = make_round(session, present=20)
    error = refused(session, round_, csv_bytes("status,1,2,3", "valid,H,C,L"), issued=21)
    assert isinstance(error, CountError)
    assert "21" in str(error)
    assert "20" in str(error)
    voting.import_paper_ballots(
        session, round_, csv_bytes("status,1,2,3", "valid,H,C,L"), issued=20
    )


def test_a_negative_number_issued_is_refused(session: Session) -> None:
    round_ = make_round(session)
    assert isinstance(
        refused(session, round_, csv_bytes("status,1,2,3", "valid,H,C,L"), issued=-1), CountError
    )


@pytest.mark.parametrize("state", ["draft", "closed"])
def test_only_an_open_round_takes_paper_ballots(session: Session, state: str) -> None:
    round_ = make_round(session, state=state)
    error = refused(session, round_, csv_bytes("status,1,2,3", "valid,H,C,L"))
    assert isinstance(error, WrongState)


def test_a_large_file_is_stored_whole(session: Session) -> None:
    # D = all members (NQ 35/2012): a body of 3 001, since collected may not exceed members.
    round_ = make_round(session, items=20, present=None, summoned=None, members=3001)
    lines = [f"valid,{','.join('HCL'[(n + i) % 3] for i in range(20))}" for n in range(3000)]
    header = "status," + ",".join(str(n) for n in range(1, 21))
    result = voting.import_paper_ballots(session, round_, csv_bytes(header, *lines), issued=3000)
    session.commit()
    assert result.count == 3000
    assert session.scalar(select(func.count()).where(Ballot.round_id == round_.id)) == 3000
    # And one bad line at the very end of a large file still stores nothing.
    round_two = make_round_two(session)
    bad = refused(
        session, round_two, csv_bytes(header, *lines, "valid" + ",H" * 19 + ",Z"), issued=3001
    )
    assert "Line 3002" in str(bad)


def make_round_two(session: Session) -> Round:
    """A second open round of 20 items in the same body."""
    body = rounds.get_body(session, "HDND-I")
    roster = [
        RosterEntry(line=n + 2, name=f"Đỗ Thị {chr(65 + n)}", position="Ủy viên") for n in range(20)
    ]
    round_ = rounds.create_round(
        session,
        body,
        year=2014,
        profile_id="nq35-2012",
        title="Lấy phiếu",
        roster=roster,
        members=4000,
        time_exception="07/NQ-HĐND",  # a second poll of the year, allowed by a decision
    )
    rounds.open_round(session, round_)
    session.commit()
    return round_


# ---------------------------------------------------------------------------- roster


def roster_error(data: bytes) -> InvalidInput:
    """Parse a roster, expect a refusal, return it."""
    with pytest.raises(InvalidInput) as error:
        parse_roster(data)
    return error.value


def test_a_roster_with_every_column_is_read() -> None:
    entries = parse_roster(
        csv_bytes(
            "name,position,person_key,kind,exempt_reason",
            "Nguyễn Văn An,Bí thư,p-1,person,",
            "Trần Thị Bình,Phó Bí thư,p-2,,",
            "Lê Văn Cường,Ủy viên,,person,Đã có thông báo nghỉ hưu",
            "Tập thể Ban Thường vụ,,,collective,",
        )
    )
    assert [(e.name, e.position, e.person_key, e.kind, e.exempt_reason) for e in entries] == [
        ("Nguyễn Văn An", "Bí thư", "p-1", "person", ""),
        ("Trần Thị Bình", "Phó Bí thư", "p-2", "person", ""),
        ("Lê Văn Cường", "Ủy viên", None, "person", "Đã có thông báo nghỉ hưu"),
        ("Tập thể Ban Thường vụ", "", None, "collective", ""),
    ]
    assert [e.line for e in entries] == [2, 3, 4, 5]


def test_a_roster_may_have_its_columns_in_any_order_with_a_bom_or_semicolons() -> None:
    entries = parse_roster("\ufeffposition;name\r\nBí thư;Nguyễn Văn An\r\n".encode())
    assert [(e.name, e.position) for e in entries] == [("Nguyễn Văn An", "Bí thư")]


def test_a_duplicate_person_is_refused_with_both_lines() -> None:
    error = roster_error(
        csv_bytes(
            "name,position",
            "Nguyễn Văn An,Bí thư",
            "Trần Thị Bình,Phó Bí thư",
            "Nguyễn  Văn An ,Ủy viên",
        )
    )
    assert "Line 4" in str(error)
    assert "line 2" in str(error)
    assert "Nguyễn Văn An" in str(error)


def test_a_duplicate_person_key_is_refused_even_under_another_name() -> None:
    error = roster_error(
        csv_bytes(
            "name,position,person_key",
            "Nguyễn Văn An,Bí thư,K1",
            "Nguyễn An,Ủy viên,K1",
        )
    )
    assert "Line 3" in str(error)
    assert "line 2" in str(error)


def test_the_same_name_in_nfd_and_nfc_is_a_duplicate() -> None:
    name = "Nguyễn Thị Ánh"
    error = roster_error(
        csv_bytes(
            "name,position",
            f"{name},Bí thư",
            f"{unicodedata.normalize('NFD', name)},Ủy viên",
        )
    )
    assert "Line 3" in str(error)


def test_every_bad_line_is_listed() -> None:
    error = roster_error(
        csv_bytes(
            "name,position",
            ",Bí thư",
            "Trần Thị Bình,",
            "Lê Văn C,Ủy viên,extra",
        )
    )
    assert [problem.params["line"] for problem in error.problems] == [2, 3, 4]
    assert "Line 2" in str(error)


@pytest.mark.parametrize(
    ("header", "missing"),
    [("name", "position"), ("position", "name"), ("ten,chuc_vu", "name, position"), ("", "name")],
)
def test_a_roster_without_the_required_columns_is_refused(header: str, missing: str) -> None:
    error = roster_error(csv_bytes(header, "Nguyễn Văn An,Bí thư"))
    assert "Line 1" in str(error)
    assert missing in str(error)


def test_an_unknown_column_is_refused() -> None:
    error = roster_error(csv_bytes("name,position,birthday", "Nguyễn Văn An,Bí thư,1970"))
    assert "birthday" in str(error)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (",Bí thư", "name is empty"),
        ("   ,Bí thư", "name is empty"),
        ("Nguyễn Văn An,", "position is empty"),
        ("Nguyễn Văn An,Bí thư,robot", "kind"),
    ],
)
def test_an_incomplete_line_is_refused_with_its_number(line: str, words: str) -> None:
    error = roster_error(
        csv_bytes(
            "name,position,kind",
            "Trần Thị Bình,Phó Bí thư,person",
            line if line.count(",") == 2 else line + ",",
        )
    )
    assert "Line 3" in str(error)
    assert words in str(error)


def test_a_collective_may_not_be_exempt() -> None:
    error = roster_error(
        csv_bytes(
            "name,position,kind,exempt_reason",
            "Tập thể BTV,,collective,Nghỉ hưu",
        )
    )
    assert "Line 2" in str(error)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"name,position\n",
        csv_bytes("name,position,exempt_reason", "Lê Văn C,Ủy viên,Nghỉ hưu"),
    ],
)
def test_a_roster_with_nobody_on_the_ballot_is_refused(data: bytes) -> None:
    roster_error(data)


@pytest.mark.parametrize("encoding", ["cp1258", "cp1252", "utf-16"])
def test_a_roster_not_in_utf8_is_refused_with_how_to_save_it(encoding: str) -> None:
    name = "Nguyễn Văn Đức" if encoding != "cp1252" else "Renée Müller"
    error = roster_error(
        csv_bytes(
            "name,position",
            f"{name},Bí thư" if encoding != "cp1252" else f"{name},Secretary",
            encoding=encoding,
        )
    )
    assert "UTF-8" in str(error)
    assert "Save As" in str(error)


def test_decomposed_vietnamese_is_stored_composed(session: Session) -> None:
    """Text typed on a Mac (NFD) is stored in NFC: one person, whichever way it was typed."""
    name, position = "Nguyễn Thị Ánh", "Phó Bí thư Thường trực"
    reason = "Đã có thông báo nghỉ hưu"  # a reason the profile lists
    nfd = [unicodedata.normalize("NFD", text) for text in (name, position, reason, "Hoàng Văn Ước")]
    assert nfd[0] != name
    entries = parse_roster(
        csv_bytes(
            "name,position,exempt_reason",
            f"{nfd[0]},{nfd[1]},",
            f"{nfd[3]},{nfd[1]},{nfd[2]}",
        )
    )
    body = rounds.add_body(session, "TU-N", "Tỉnh ủy N")
    round_ = rounds.create_round(
        session,
        body,
        year=2025,
        profile_id="tn-16kh-2012",
        title="Lấy phiếu",
        roster=entries,
        members=10,
    )
    session.commit()
    names = set(session.scalars(select(Person.name)))
    assert names == {name, "Hoàng Văn Ước"}
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    item = session.scalars(select(BallotItem).where(BallotItem.round_id == round_.id)).one()
    assert (item.name, item.position) == (name, position)
    exemption = session.scalars(select(Exemption)).one()
    assert (exemption.position, exemption.reason) == (position, reason)
    # The same person typed in NFC the next year is the same person.
    again = rounds.create_round(
        session,
        body,
        year=2026,
        profile_id="tn-16kh-2012",
        title="Lấy phiếu",
        roster=parse_roster(csv_bytes("name,position", f"{name},Bí thư")),
        members=10,
    )
    session.commit()
    assert session.scalar(select(func.count()).select_from(Person)) == 2
    assert again.items[0].person_id == item.person_id
