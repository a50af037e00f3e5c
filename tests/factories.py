"""Build bodies, rosters, ballots and counted rounds through the logic functions.

Shared by the test modules: every helper calls the operations the command line and the pages
call (`operations.add_body`, `create_round`, `open_round`, `import_paper_ballots`,
`close_round`, `publish_round`), so a round built here is a real round, with its audit log.
Nothing here commits: the caller does when another session (the CLI) must see the data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from votes import committee, operations, rounds, sealed
from votes.meeting import Member
from votes.models import Ballot, Body, Receipt, Round, Scale, SealedBallot
from votes.operations import Work
from votes.profiles import BUILTIN, get_profile
from votes.roster import RosterEntry
from votes.sealed import group
from votes.vocabulary import letters

# Who the audit log says did what the tests do.
TEST_ACTOR = "test"


def work(session: Session) -> Work:
    """Return a unit of work of the tests on a session (the caller commits)."""
    return Work(session, TEST_ACTOR)


# The paper codes of the two scales and of invalid marks (DOMAIN.md §3).
HIGH, CONFIDENCE, LOW = "H", "C", "L"
TRUST, NO_TRUST = "T", "K"
NO_MARK, MANY_MARKS = "-", "X"


def year_in_force(profile_id: str) -> int:
    """Return a year in which a built-in profile is in force (the year after it took effect).

    A profile added by a test has no dates in force: any year will do.
    """
    if not any(key[0] == profile_id for key in BUILTIN):
        return 2025
    profile = get_profile(None, profile_id)
    first = profile.in_force_from.year if profile.in_force_from else 2020
    last = profile.in_force_until.year if profile.in_force_until else 2200
    return min(first + 1, last)


def add_test_body(
    session: Session, code: str = "HDND-X", kind: str = "council", name: str | None = None
) -> Body:
    """Create a body (a People's Council unless told otherwise)."""
    return operations.add_body(work(session), code, name or f"Hội đồng nhân dân {code}", kind)


def person(name: str, position: str = "Ủy viên", key: str | None = None) -> RosterEntry:
    """Return a roster line for a rated person (the key defaults to the name)."""
    return RosterEntry(line=0, name=name, position=position, person_key=key)


def collective(name: str = "Tập thể Ban Thường vụ") -> RosterEntry:
    """Return the roster line of the collective item."""
    return RosterEntry(line=0, name=name, position="", kind="collective")


def exempt(
    name: str, reason: str, position: str = "Ủy viên", key: str | None = None
) -> RosterEntry:
    """Return a roster line for a person left off the ballot, with the reason."""
    return RosterEntry(line=0, name=name, position=position, person_key=key, exempt_reason=reason)


def column(
    *,
    high: int = 0,
    confidence: int = 0,
    low: int = 0,
    trust: int = 0,
    no_trust: int = 0,
    blank: int = 0,
    many: int = 0,
) -> list[str]:
    """Return the marks of one item, ballot by ballot: the given numbers of each code."""
    return (
        [HIGH] * high
        + [CONFIDENCE] * confidence
        + [LOW] * low
        + [TRUST] * trust
        + [NO_TRUST] * no_trust
        + [NO_MARK] * blank
        + [MANY_MARKS] * many
    )


def rated(low: int, of: int) -> list[str]:
    """Return a poll column of `of` ballots: `low` low marks, high marks for the rest."""
    return column(high=of - low, low=low)


def pack(columns: Sequence[Sequence[str]]) -> list[str]:
    """Turn one column of marks per item into packed ballots (one string per ballot)."""
    sizes = {len(c) for c in columns}
    if len(sizes) != 1:
        raise ValueError(f"every item needs the same number of marks, got {sorted(sizes)}")
    return ["".join(marks) for marks in zip(*columns, strict=True)]


def paper_csv(ballots: Sequence[str], *, spoiled: int = 0) -> bytes:
    """Write packed ballots as the paper-ballot CSV the counting committee types in.

    `spoiled` adds whole ballots marked invalid (struck-out names, writing on the ballot…).
    """
    if not ballots:
        raise ValueError("at least one ballot is needed to know the number of items")
    items = len(ballots[0])
    lines = ["status," + ",".join(str(n) for n in range(1, items + 1))]
    for marks in ballots:
        cells = ["" if mark == NO_MARK else mark for mark in marks]
        lines.append("valid," + ",".join(cells))
    first_level = ballots[0].strip(NO_MARK + MANY_MARKS)[:1] or HIGH
    lines += ["invalid," + ",".join([first_level] * items)] * spoiled
    return ("\n".join(lines) + "\n").encode("utf-8")


def counted_round(
    session: Session,
    body: Body,
    *,
    year: int,
    profile_id: str,
    roster: Sequence[RosterEntry],
    columns: Sequence[Sequence[str]],
    spoiled: int = 0,
    members: int | None = None,
    summoned: int | None = None,
    present: int | None = None,
    issued: int | None = None,
    profile_version: int | None = None,
    scale: str = Scale.POLL.value,
    status: str = "closed",
    title: str | None = None,
    time_exception: str | None = None,
) -> Round:
    """Create, open, fill with paper ballots and close (or publish) a round.

    `columns` gives the marks of each ballot item in ballot order (the collective included);
    `members` defaults to the number of ballots, `issued` to the number of ballots.
    `status` is "open", "closed" or "published". `time_exception` is the decision that allows
    a round outside the profile's dates or frequency (several rounds of a body in one year).
    """
    ballots = pack(columns)
    collected = len(ballots) + spoiled
    task = work(session)
    if present is None and get_profile(session, profile_id, profile_version).quorum_rule:
        # A profile with a quorum judges it on the number present, recorded before closing.
        present = (collected if members is None else members) if summoned is None else summoned
    round_ = operations.create_round(
        task,
        body_code=body.code,
        year=year,
        profile_id=profile_id,
        profile_version=profile_version,
        title=title or f"Lấy phiếu tín nhiệm năm {year}",
        roster=list(roster),
        members=collected if members is None else members,
        summoned=(collected if members is None else members) if summoned is None else summoned,
        present=present,
        scale=scale,
        time_exception=time_exception,
    )
    operations.open_round(task, round_.id)
    operations.import_paper_ballots(
        task,
        round_.id,
        paper_csv(ballots, spoiled=spoiled),
        issued=collected if issued is None else issued,
    )
    if status == "open":
        return round_
    operations.close_round(task, round_.id)
    if status == "published":
        operations.publish_round(task, round_.id)
    elif status != "closed":
        raise ValueError(f"unknown status {status!r}")
    return round_


def draft_round_of(
    session: Session, items: int, profile_id: str = "tn-16kh-2012", members: int | None = None
) -> Round:
    """A draft round of `items` persons in a body of its own."""
    body = rounds.add_body(session, f"B-{os.urandom(4).hex()}", "Đơn vị thử")
    roster = [RosterEntry(line=n + 2, name=f"Người {n}", position="Ủy viên") for n in range(items)]
    return rounds.create_round(
        session,
        body,
        year=year_in_force(profile_id),
        profile_id=profile_id,
        title="Lấy phiếu",
        roster=roster,
        members=members,
    )


def open_round_of(session: Session, items: int, profile_id: str = "tn-16kh-2012") -> Round:
    """An open round of `items` persons in a body of its own, members unknown."""
    round_ = draft_round_of(session, items, profile_id)
    rounds.open_round(session, round_)
    return round_


def store_box(
    session: Session,
    round_: Round,
    ballots: Sequence[tuple[str, str]],
    receipts: Sequence[str] = (),
) -> None:
    """Replace a round's ballots and receipts with these rows, stored as they are."""
    session.execute(delete(Ballot).where(Ballot.round_id == round_.id))
    session.execute(delete(Receipt).where(Receipt.round_id == round_.id))
    if ballots:
        session.execute(
            insert(Ballot),
            [
                {"round_id": round_.id, "id": os.urandom(16), "status": status, "marks": marks}
                for status, marks in ballots
            ],
        )
    if receipts:
        session.execute(insert(Receipt), [{"round_id": round_.id, "receipt": r} for r in receipts])
    session.flush()


# ------------------------------------------------------------------ sealed ballots (issue 13)

# The member keys of the committees the tests made, by ceremony: what each member would keep on
# their own machine. A test decrypts with them as the members would (decrypt_round).
MEMBER_KEYS: dict[str, list[sealed.MemberKey]] = {}


def add_committee(session: Session, round_id: int, name: str = "Thành viên kiểm phiếu") -> None:
    """Give a draft round a single-member counting committee with its key made (fast path).

    The member's steps are those of `votes trustee new` without the key file: the public part
    goes through the same operation as an uploaded file, every proof checked.
    """
    task = work(session)
    operations.create_committee(task, round_id, 1, [Member(name, "head")])
    round_ = task.round(round_id)
    document = committee.committee_file(session, round_)
    committee_, key = sealed.single_member(bytes.fromhex(document["ceremony"]))
    MEMBER_KEYS[document["ceremony"]] = [key]
    answer = {
        "format": committee.FILE_FORMAT,
        "kind": committee.KIND_PUBLIC_PART,
        "context": document["context"],
        "context_digest": document["context_digest"],
        "ceremony": document["ceremony"],
        "member": 1,
        "payload": committee_.members[0].to_dict(),
    }
    operations.receive_committee_file(task, round_id, json.dumps(answer).encode())


def decrypt_round(session: Session, round_id: int, members: Sequence[int] | None = None) -> None:
    """Have members of a round's committee decrypt the totals awaiting decryption.

    Every voter group closed with sealed ballots and not decrypted yet (all whose keys we
    hold); nothing when no group awaits decryption.
    """
    session.expire_all()  # what other sessions (a command, a page) committed meanwhile
    task = work(session)
    round_ = task.round(round_id)
    key_ = committee.get_key(session, round_id)
    if key_ is None or not committee.pending_groups(key_):
        return  # nothing sealed to decrypt (no online ballot), or decrypted already
    document = committee.totals_file(session, round_)
    ceremony = committee.ceremony(round_, committee.require_key(session, round_)).hex()
    for key in MEMBER_KEYS[ceremony]:
        if members is not None and key.index not in members:
            continue
        # What `votes trustee decrypt` computes (tests/test_sealed.py runs that command itself),
        # without a key file to open: Argon2id would cost every test a quarter of a second.
        partials = {
            str(group["number"]): sealed.partial_decrypt(
                key,
                sealed.Committee.from_dict(document["committee"]),
                sealed.RoundParameters.from_dict(document["parameters"]).context,
                sealed.EncryptedTally.from_dict(group["totals"]),
            ).to_dict()
            for group in document["groups"]
        }
        answer = {
            "format": committee.FILE_FORMAT,
            "kind": committee.KIND_PARTIAL,
            "context": document["context"],
            "context_digest": document["context_digest"],
            "ceremony": document["ceremony"],
            "member": key.index,
            "payload": {"groups": partials},
        }
        operations.receive_committee_file(task, round_id, json.dumps(answer).encode())
        current = committee.get_key(session, round_id)
        if current is None or not committee.pending_groups(current):
            break


def close_and_count(session: Session, round_id: int) -> Round:
    """Close a round; if its online ballots are sealed, have its committee decrypt them."""
    round_ = operations.close_round(work(session), round_id)
    decrypt_round(session, round_id)
    return round_


def opened_ballots(session: Session, round_id: int) -> list[str]:
    """Decrypt every sealed ballot of a round one by one with the test committee's key: marks.

    Only a test can do this: it holds the whole key of a committee of one, which is exactly
    the power the sealing takes away from everybody else (a committee member alone, with k > 1,
    cannot). The marks come back sorted, in the packed form of a paper ballot ("HCL").
    """
    round_ = session.get(Round, round_id)
    assert round_ is not None
    key = committee.get_key(session, round_id)
    if key is None:
        return []
    ceremony = committee.ceremony(round_, key).hex()
    (member,) = MEMBER_KEYS[ceremony]
    marks = []
    for content in session.scalars(
        select(SealedBallot.content).where(SealedBallot.round_id == round_id)
    ):
        ballot = sealed.SealedBallot.from_bytes(content)
        packed = ""
        for row in ballot.rows:
            plain = [group.sub(c.beta, group.mult(member.secret, c.alpha)) for c in row.ciphertexts]
            (chosen,) = [n for n, point in enumerate(plain) if point == group.GENERATOR]
            packed += letters(round_.scale)[chosen]
        marks.append(packed)
    return sorted(marks)
