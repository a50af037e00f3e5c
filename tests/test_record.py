"""The record around sealed ballots: the minutes' digest of the box and the online/paper split,
the single-member warning, and the lists of trackers (votes/trackers.py).

The digest of the box is recomputed here from the stored encrypted ballots with hashlib alone
(docs/CRYPTO.md §2 and §7), never by the function that prints it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

import reports
from tests.factories import (
    MEMBER_KEYS,
    add_committee,
    add_test_body,
    decrypt_round,
    paper_csv,
    person,
    work,
)
from tests.test_groups_sealed import sealed_groups_round
from tests.test_reports import make_results
from votes import committee, operations, sealed, sealing, trackers, trustee
from votes.errors import InvalidInput, WrongState
from votes.meeting import Member, parse_committee
from votes.models import CountingKey, Round, SealedBallot
from votes.operations import documents
from votes.voting import cast_ballot

SECRET = "test-secret-key-0123456789abcdef"


# ---------------------------------------------------------------- an independent box digest


def frame(tag: str, parts: list[bytes]) -> bytes:
    """docs/CRYPTO.md §2: "votes-sealed/1" 0x00 ‖ u16(len tag) ‖ tag ‖ (u32(len p) ‖ p)*."""
    out = b"votes-sealed/1\x00" + len(tag).to_bytes(2, "big") + tag.encode()
    for part in parts:
        out += len(part).to_bytes(4, "big") + part
    return out


def stored_box_digest(session: Session, round_id: int, group: int | None = None) -> str:
    """The box digest from the stored encrypted ballots: each tracker hashed from its content."""
    where = [SealedBallot.round_id == round_id]
    if group is not None:
        where.append(SealedBallot.group_number == group)
    contents = session.scalars(select(SealedBallot.content).where(*where)).all()
    found = sorted(hashlib.sha256(frame("tracker", [c])).digest() for c in contents)
    key = session.get(CountingKey, round_id)
    assert key is not None
    assert key.parameters is not None
    context = bytes.fromhex(json.loads(key.parameters)["context"])
    parts = [context, len(found).to_bytes(4, "big"), *found]
    return hashlib.sha256(frame("ballot-box", parts)).hexdigest()


def stored_receipts(session: Session, round_id: int) -> list[str]:
    """The receipts of the stored ballots: BN and the first 8 bytes of the tracker, mod 10^16."""
    contents = session.scalars(
        select(SealedBallot.content).where(SealedBallot.round_id == round_id)
    ).all()
    found = []
    for content in contents:
        number = int.from_bytes(hashlib.sha256(frame("tracker", [content])).digest()[:8], "big")
        digits = f"{number % 10**16:016d}"
        found.append("BN " + " ".join(digits[i : i + 4] for i in range(0, 16, 4)))
    return sorted(found)


# ---------------------------------------------------------------- rounds


def add_committee_of(session: Session, round_id: int, threshold: int, size: int) -> None:
    """Give a draft round a k-of-n committee: every member's steps of `votes trustee`, without
    key files, each file going through the same operation as an uploaded one."""
    task = work(session)
    operations.create_committee(
        task,
        round_id,
        threshold,
        [Member(f"Thành viên {n}", "head" if n == 1 else "member") for n in range(1, size + 1)],
    )
    round_ = task.round(round_id)
    document = committee.committee_file(session, round_)
    ceremony = bytes.fromhex(document["ceremony"])

    def send(kind: str, number: int, payload: object) -> None:
        answer = {
            "format": committee.FILE_FORMAT,
            "kind": kind,
            "context": document["context"],
            "context_digest": document["context_digest"],
            "ceremony": document["ceremony"],
            "member": number,
            "payload": payload,
        }
        operations.receive_committee_file(task, round_id, json.dumps(answer).encode())

    made = [sealed.new_member(ceremony, n, threshold, size) for n in range(1, size + 1)]
    for public, secret in made:
        send(committee.KIND_PUBLIC_PART, secret.index, public.to_dict())
    joint = sealed.make_committee(ceremony, [public for public, _ in made])
    shares = {secret.index: sealed.make_shares(secret, joint) for _, secret in made}
    for number, sent in shares.items():
        send(committee.KIND_SHARES, number, {"shares": [s.to_dict() for s in sent]})
    keys = []
    for _, secret in made:
        received = [s for sent in shares.values() for s in sent if s.recipient == secret.index]
        key = sealed.receive_shares(secret, joint, received)
        keys.append(key)
        send(
            committee.KIND_CONFIRMATION,
            secret.index,
            {
                "public_key": key.public_key.hex(),
                "verification_key": key.verification_key.hex(),
            },
        )
    MEMBER_KEYS[document["ceremony"]] = keys


def sealed_round(
    session: Session, *, online: int, paper: list[str], threshold: int = 1, size: int = 1
) -> Round:
    """A council round of three persons: `online` ballots cast, `paper` ballots imported; open."""
    body = add_test_body(session, "HDND-R")
    task = work(session)
    round_ = operations.create_round(
        task,
        body_code=body.code,
        year=2014,
        profile_id="nq35-2012",
        title="Lấy phiếu tín nhiệm",
        roster=[person("Nguyễn Văn An"), person("Trần Thị Bình"), person("Lê Văn Cường")],
        members=20,
        summoned=20,
        present=20,
    )
    if size == 1:
        add_committee(session, round_.id)
    else:
        add_committee_of(session, round_.id, threshold, size)
    codes = operations.issue_codes(task, round_.id, max(online, 1), SECRET)
    operations.open_round(task, round_.id)
    session.commit()
    levels = ["H", "C", "L"]
    for n in range(online):
        cast_ballot(session, SECRET, codes[n], [levels[n % 3], levels[(n + 1) % 3], "C"])
    if paper:
        operations.import_paper_ballots(task, round_.id, paper_csv(paper), issued=len(paper))
    session.commit()
    return round_


def counted(session: Session, round_: Round) -> Round:
    """Close, decrypt and record the meeting of a round (the minutes are dated by it)."""
    operations.close_round(work(session), round_.id)
    decrypt_round(session, round_.id)
    operations.record_meeting(
        work(session),
        round_.id,
        held_on=dt.date(2014, 6, 20),
        committee=parse_committee("Hà Thị Mai (Trưởng ban); Vương Đình Khoa"),
        place="Hội trường xã",
    )
    session.commit()
    return round_


# ---------------------------------------------------------------- reading the PDF back

DIGEST_LABEL = "Mã băm hòm phiếu trực tuyến"
WARNING = "1 trên 1"


def pdf_text(pdf: bytes) -> str:
    """The text of every page, one string, with runs of blanks made one space."""
    pages = PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in pages))


def printed_box_digest(text: str) -> str | None:
    """The 64 hexadecimal characters printed after the box digest's label (8 groups of 8)."""
    at = text.find(DIGEST_LABEL)
    if at < 0:
        return None
    groups = re.findall(r"\b[0-9a-f]{8}\b", text[at:])
    return "".join(groups[:8])


def printed_split(text: str) -> tuple[int, int, str]:
    """The online and paper figures and the sum line printed on the minutes."""
    online = re.search(r"Số phiếu bỏ trực tuyến \(.*?\): (\d+) phiếu", text)
    paper = re.search(r"Số phiếu giấy \(kiểm trực tiếp\): (\d+) phiếu", text)
    total = re.search(r"Cộng \(bằng số phiếu thu về\): ([\d +=]+) phiếu", text)
    assert online, text
    assert paper, text
    assert total, text
    return int(online.group(1)), int(paper.group(1)), total.group(1).strip()


# ---------------------------------------------------------------- the minutes


def test_the_minutes_print_the_box_digest_the_split_and_the_single_member_warning(
    session: Session,
) -> None:
    round_ = counted(session, sealed_round(session, online=4, paper=["HCL", "CC-"]))
    text = pdf_text(documents.minutes(session, round_.id).data)
    expected = stored_box_digest(session, round_.id)
    assert printed_box_digest(text) == expected
    assert "Danh sách công khai các phiếu trực tuyến đã kiểm phải cho lại đúng mã này" in text
    # 4 cast online, 2 paper ballots imported: the figures are what was cast, not read back.
    assert printed_split(text) == (4, 2, "4 + 2 = 6")
    assert re.search(r"Số phiếu thu về: 6 phiếu", text)
    assert WARNING in text
    assert "kém an toàn hơn" in text


def test_a_committee_of_two_of_three_prints_no_warning(session: Session) -> None:
    round_ = sealed_round(session, online=3, paper=["HHH"], threshold=2, size=3)
    round_ = counted(session, round_)
    assert round_.status == "closed"
    text = pdf_text(documents.minutes(session, round_.id).data)
    assert printed_box_digest(text) == stored_box_digest(session, round_.id)
    assert printed_split(text) == (3, 1, "3 + 1 = 4")
    assert WARNING not in text
    assert "kém an toàn hơn" not in text


def test_a_round_of_paper_ballots_only_prints_neither_split_nor_digest() -> None:
    text = pdf_text(reports.minutes(make_results()))
    assert DIGEST_LABEL not in text
    assert "Số phiếu giấy" not in text
    assert WARNING not in text


def test_the_warning_follows_the_committee_size_given() -> None:
    digest = "ab" * 32
    for size, threshold, warned in ((1, 1, True), (3, 2, False), (2, 2, False)):
        results = {
            **make_results(),
            "sealed": {"online": 20, "paper": 12},
            "sealed_box": {"digest": digest, "threshold": threshold, "size": size},
        }
        text = pdf_text(reports.minutes(results))
        assert (WARNING in text) is warned, (size, threshold)
        assert printed_box_digest(text) == digest
        assert printed_split(text) == (20, 12, "20 + 12 = 32")


# ---------------------------------------------------------------- the lists of trackers


def test_the_counted_list_is_every_stored_ballot_by_receipt_with_the_digest(
    session: Session,
) -> None:
    round_ = sealed_round(session, online=5, paper=["HCL"])
    with pytest.raises(WrongState, match="closed and counted"):
        trackers.counted_list(session, round_)
    operations.close_round(work(session), round_.id)
    session.commit()
    assert round_.status == "decrypting"
    with pytest.raises(WrongState, match="awaiting decryption"):
        trackers.counted_list(session, round_)
    decrypt_round(session, round_.id)
    session.commit()
    listing = trackers.counted_list(session, round_)
    assert [b.receipt for b in listing.ballots] == stored_receipts(session, round_.id)
    assert listing.box_digest == stored_box_digest(session, round_.id)
    first = listing.ballots[0]
    assert listing.find(first.receipt.lower().replace(" ", "-")) == 0
    assert listing.find("BN 0000 0000 0000 0000") is None
    document = json.loads(trackers.counted_json(listing))
    assert document["count"] == 5
    assert document["box_digest"] == listing.box_digest
    lines = trackers.counted_csv(listing).decode().splitlines()
    assert lines[0] == "receipt,tracker"
    assert len(lines) == 6


def test_the_open_box_lists_the_trackers_while_the_round_is_open(session: Session) -> None:
    round_ = sealed_round(session, online=2, paper=[])
    box = trackers.open_box(session, round_)
    assert box.count == 2
    assert box.box_digest == stored_box_digest(session, round_.id)
    (group,) = box.groups
    assert group.box_digest == stored_box_digest(session, round_.id, group.number)
    contents = session.scalars(select(SealedBallot.content)).all()
    assert [b.tracker for b in group.ballots] == sorted(
        hashlib.sha256(frame("tracker", [c])).hexdigest() for c in contents
    )


def test_a_voter_groups_minutes_print_its_own_split_and_box(session: Session) -> None:
    round_, _states = sealed_groups_round(session, "TU-REC")
    # Group 2: 2 paper ballots and 4 online; group 1 decides: 6 online, no paper.
    operations.record_group_meeting(
        work(session),
        round_.id,
        2,
        held_on=dt.date(2024, 5, 6),
        place="Phòng họp số 2",
        committee=parse_committee("Hà Thị Mai (Trưởng ban)"),
    )
    operations.record_meeting(
        work(session),
        round_.id,
        held_on=dt.date(2024, 5, 6),
        committee=parse_committee("Vương Đình Khoa (Trưởng ban)"),
    )
    session.commit()
    group = pdf_text(documents.minutes(session, round_.id, group=2).data)
    assert printed_split(group) == (4, 2, "4 + 2 = 6")
    assert printed_box_digest(group) == stored_box_digest(session, round_.id, 2)
    assert "Hòm phiếu của nhóm cử tri Trưởng các phòng" in group
    whole = pdf_text(documents.minutes(session, round_.id).data)
    assert printed_split(whole) == (6, 0, "6 + 0 = 6")
    assert printed_box_digest(whole) == stored_box_digest(session, round_.id, 1)
    assert "Hòm phiếu của nhóm cử tri Ban Chấp hành" in whole
    assert stored_box_digest(session, round_.id, 1) != stored_box_digest(session, round_.id)


# ---------------------------------------------------------------- refusals in Vietnamese

ENGLISH = re.compile(r"\b(public part|shares|confirmation|member|passphrase|key file|does not)\b")


def test_a_public_part_refused_names_it_in_vietnamese() -> None:
    ceremony = sealing.ceremony("vòng thử", 2, 3)
    public, _secret = sealed.new_member(ceremony, 2, 2, 3)
    with pytest.raises(sealing.SealingError) as refused:
        sealing.check_public_part(ceremony, 2, 3, 1, public.to_dict())
    text = refused.value.message("vi")
    assert text.startswith("Không chấp nhận phần công khai của khóa vì kiểm tra không đạt")
    assert "thành viên số 2 cho 2 trên 3" in text
    assert not ENGLISH.search(text), text
    assert "public part of the key does not check" in refused.value.message("en")


def test_a_key_file_that_does_not_open_says_why_in_vietnamese() -> None:
    _committee, key = sealed.single_member(sealing.ceremony("vòng thử", 1, 1))
    locked = sealed.lock(key, "mật khẩu đủ dài", "interactive")
    with pytest.raises(trustee.TrusteeError) as refused:
        trustee._unlock(locked, "mật khẩu sai rồi")
    text = refused.value.message("vi")
    assert "sai mật khẩu, hoặc tệp khóa bị hỏng" in text
    assert not ENGLISH.search(text), text
    with pytest.raises(trustee.TrusteeError) as short:
        trustee._lock(key, "ngắn", "interactive")
    assert "mật khẩu cần ít nhất 10 ký tự" in short.value.message("vi")


def test_a_second_public_part_refused_names_it_in_vietnamese(session: Session) -> None:
    body = add_test_body(session, "HDND-R2")
    task = work(session)
    round_ = operations.create_round(
        task,
        body_code=body.code,
        year=2014,
        profile_id="nq35-2012",
        title="Lấy phiếu tín nhiệm",
        roster=[person("Nguyễn Văn An")],
        members=5,
    )
    members = [Member("Hà Thị Mai", "head"), Member("Vương Đình Khoa", "member")]
    operations.create_committee(task, round_.id, 2, members)
    document = committee.committee_file(session, round_)
    ceremony = bytes.fromhex(document["ceremony"])

    def public_part() -> bytes:
        public, _secret = sealed.new_member(ceremony, 1, 2, 2)
        answer = {
            "format": committee.FILE_FORMAT,
            "kind": committee.KIND_PUBLIC_PART,
            "context": document["context"],
            "context_digest": document["context_digest"],
            "ceremony": document["ceremony"],
            "member": 1,
            "payload": public.to_dict(),
        }
        return json.dumps(answer).encode()

    operations.receive_committee_file(task, round_.id, public_part())
    with pytest.raises(InvalidInput) as refused:
        operations.receive_committee_file(task, round_.id, public_part())
    text = refused.value.message("vi")
    assert "đã gửi một phần công khai của khóa khác" in text
    assert not ENGLISH.search(text), text
