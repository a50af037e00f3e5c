"""Bodies and rounds: creation from a roster, and the life draft → open → closed → published."""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, event, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from . import audit, profiles
from .credentials import codes_issued
from .csvinput import rows
from .errors import N_, CountError, InvalidInput, NotFound, WrongState
from .models import (
    Ballot,
    BallotItem,
    Body,
    Credential,
    Exemption,
    PaperEntry,
    Person,
    Receipt,
    Round,
    RoundStatus,
    Scale,
)
from .text import clean_name, nfc

BODY_KINDS = ("party", "council", "assembly")
ROSTER_COLUMNS = ("name", "position", "person_key", "kind", "exempt_reason")


@dataclass(frozen=True)
class RosterEntry:
    """One line of a roster: a person or the collective, on the ballot or exempt."""

    line: int
    name: str
    position: str
    person_key: str | None = None
    kind: str = "person"
    exempt_reason: str = ""

    @property
    def identity(self) -> str:
        """Return the key that identifies the person in the body."""
        return self.person_key or self.name


def add_body(session: Session, code: str, name: str, kind: str = "party") -> Body:
    """Create a body (the organisation that holds rounds)."""
    code = nfc(code)
    name = clean_name(name)
    if not code or not name:
        raise InvalidInput(N_("A body needs a code and a name."))
    if kind not in BODY_KINDS:
        raise InvalidInput(
            N_("Unknown kind of body {kind!r}: use party, council or assembly."), kind=kind
        )
    if session.scalar(select(Body).where(Body.code == code)) is not None:
        raise InvalidInput(N_("A body with the code {code} already exists."), code=code)
    body = Body(code=code, name=name, kind=kind)
    session.add(body)
    session.flush()
    audit.record(session, "body_added", details={"code": code, "name": name, "kind": kind})
    return body


def get_body(session: Session, code: str) -> Body:
    """Return a body by its code."""
    body = session.scalar(select(Body).where(Body.code == nfc(code)))
    if body is None:
        raise NotFound(N_("Unknown body {code}."), code=code)
    return body


def get_round(session: Session, round_id: int) -> Round:
    """Return a round by id."""
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise NotFound(N_("Unknown round {id}."), id=round_id)
    return round_


def parse_roster(data: bytes) -> list[RosterEntry]:
    """Read a roster CSV; raise InvalidInput listing every bad line when anything is wrong."""
    problems: list[InvalidInput] = []
    entries: list[RosterEntry] = []
    header: list[str] | None = None
    seen: dict[str, int] = {}
    for line, cells in rows(data):
        if header is None:
            header = [nfc(cell).lower() for cell in cells]
            missing = [c for c in ("name", "position") if c not in header]
            unknown = [c for c in header if c not in ROSTER_COLUMNS]
            if missing or unknown:
                raise InvalidInput(
                    N_("Line 1: the header must have the columns name,position and may add "
                       "person_key, kind, exempt_reason (missing: {missing}; unknown: {unknown})."),
                    missing=", ".join(missing) or "-",
                    unknown=", ".join(unknown) or "-",
                )
            continue
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(InvalidInput(
                N_("Line {line}: {found} cells where the header has {expected}."),
                line=line, found=len(cells), expected=len(header),
            ))
            continue
        record = dict(zip(header, cells, strict=True))
        kind = nfc(record.get("kind", "") or "person").lower()
        entry = RosterEntry(
            line=line,
            name=clean_name(record["name"]),
            position=clean_name(record["position"]),
            person_key=nfc(record.get("person_key", "")) or None,
            kind=kind,
            exempt_reason=clean_name(record.get("exempt_reason", "")),
        )
        if kind not in ("person", "collective"):
            problems.append(InvalidInput(
                N_("Line {line}: unknown kind {kind!r}; use person or collective."),
                line=line, kind=kind,
            ))
            continue
        if not entry.name:
            problems.append(InvalidInput(N_("Line {line}: the name is empty."), line=line))
            continue
        if kind == "person" and not entry.position:
            problems.append(InvalidInput(N_("Line {line}: the position is empty."), line=line))
            continue
        if kind == "collective" and entry.exempt_reason:
            problems.append(InvalidInput(
                N_("Line {line}: the collective cannot be exempt."), line=line
            ))
            continue
        key = f"{kind}:{entry.identity.casefold()}"
        if key in seen:
            problems.append(InvalidInput(
                N_("Line {line}: {name} is already listed on line {first}."),
                line=line, name=entry.name, first=seen[key],
            ))
            continue
        seen[key] = line
        entries.append(entry)
    if header is None:
        raise InvalidInput(N_("The roster is empty."))
    if problems:
        first = problems[0]
        raise InvalidInput(first.msgid, problems=problems, **first.params)
    if not any(e.exempt_reason == "" for e in entries):
        raise InvalidInput(N_("The roster has nobody on the ballot."))
    return entries


def check_profile_fits(session: Session, body: Body, profile_id: str) -> None:
    """Refuse a profile written for another kind of body (a Party rule for a People's Council)."""
    try:
        profile = profiles.get_profile(session, profile_id)
    except profiles.UnknownProfile as exc:
        raise NotFound(N_("Unknown profile {profile}."), profile=profile_id) from exc
    if body.kind not in profile.body_kinds:
        raise InvalidInput(
            N_("The profile {profile} is for {kinds}, not for a body of kind {kind}."),
            profile=profile.id, kinds=", ".join(profile.body_kinds), kind=body.kind,
        )


def check_counts(
    members: int | None, summoned: int | None, present: int | None
) -> None:
    """Refuse attendance figures that cannot all be true (DOMAIN.md §2)."""
    for name, value in (("members", members), ("summoned", summoned), ("present", present)):
        if value is not None and value < 0:
            raise CountError(N_("The number {name} cannot be negative."), name=name)
    if present is not None and summoned is not None and present > summoned:
        raise CountError(
            N_("Impossible counts: {present} present but only {summoned} summoned."),
            present=present, summoned=summoned,
        )


def check_paper_issued(issued: int | None, present: int | None) -> None:
    """Refuse more paper ballots handed out than persons present (DOMAIN.md §2)."""
    if issued is not None and present is not None and issued > present:
        raise CountError(
            N_("Impossible counts: {issued} paper ballots issued but only {present} present."),
            issued=issued, present=present,
        )


def set_attendance(
    session: Session,
    round_: Round,
    *,
    members: int | None,
    summoned: int | None,
    present: int | None,
) -> None:
    """Record the attendance of a draft or open round: members, summoned, present.

    The number present is often counted in the hall, after the round has opened. Once the
    round is closed the attendance is part of the closing record and its seal, and stays.
    The caller commits; the change is logged with the figures it replaced.
    """
    if round_.status not in (RoundStatus.DRAFT.value, RoundStatus.OPEN.value):
        raise WrongState(
            N_("Round {id} is {status}: its attendance was recorded when it closed and can "
               "no longer be changed."),
            id=round_.id, status=round_.status,
        )
    check_counts(members, summoned, present)
    issued = ballots_issued(session, round_)
    if summoned is not None and issued > summoned:
        raise CountError(
            N_("Impossible counts: {issued} ballots and codes are already issued for "
               "{summoned} persons summoned."),
            issued=issued, summoned=summoned,
        )
    check_paper_issued(round_.paper_issued, present)
    before = {"members": round_.members, "summoned": round_.summoned, "present": round_.present}
    round_.members, round_.summoned, round_.present = members, summoned, present
    audit.record(session, "attendance_changed", round_id=round_.id, details={
        "members": members, "summoned": summoned, "present": present, "before": before,
    })


def _person(session: Session, body: Body, entry: RosterEntry) -> Person:
    key = entry.identity
    person = session.scalar(
        select(Person).where(Person.body_id == body.id, Person.person_key == key)
    )
    if person is None:
        person = Person(body_id=body.id, person_key=key, name=entry.name)
        session.add(person)
        session.flush()
    return person


def create_round(
    session: Session,
    body: Body,
    *,
    year: int,
    profile_id: str,
    title: str,
    roster: list[RosterEntry],
    profile_version: int | None = None,
    members: int | None = None,
    summoned: int | None = None,
    present: int | None = None,
    scale: str = Scale.POLL.value,
    place: str | None = None,
    held_on: dt.date | None = None,
    followup_of: int | None = None,
) -> Round:
    """Create a draft round of a body, with its ballot items and exemptions."""
    try:
        profile = profiles.get_profile(session, profile_id, profile_version)
    except profiles.UnknownProfile as exc:
        raise NotFound(N_("Unknown profile {profile}."), profile=profile_id) from exc
    if not 1945 <= year <= 2200:
        raise InvalidInput(N_("The year {year} is not plausible."), year=year)
    title = clean_name(title)
    if not title:
        raise InvalidInput(N_("A round needs a title."))
    check_counts(members, summoned, present)
    round_ = Round(
        body_id=body.id,
        year=year,
        title=title,
        profile_id=profile.id,
        profile_version=profile.version,
        scale=scale,
        status=RoundStatus.DRAFT.value,
        members=members,
        summoned=summoned,
        present=present,
        place=clean_name(place) if place else None,
        held_on=held_on,
        followup_of=followup_of,
    )
    session.add(round_)
    session.flush()
    set_roster(session, round_, roster, log=False)
    audit.record(session, "round_created", round_id=round_.id, details={
        "body": body.code, "year": year, "title": title, "scale": scale,
        "profile": {"id": profile.id, "version": profile.version},
        "members": members, "summoned": summoned, "present": present,
        "followup_of": followup_of, **roster_details(round_),
    })
    return round_


def roster_details(round_: Round) -> dict[str, object]:
    """Describe a round's ballot items and exemptions for the audit log."""
    return {
        "items": [
            {"order": i.order, "kind": i.kind, "name": i.name, "position": i.position,
             "person_key": i.person.person_key if i.person else None}
            for i in round_.items
        ],
        "exempt": [
            {"name": e.person.name, "person_key": e.person.person_key, "position": e.position,
             "reason": e.reason}
            for e in round_.exemptions
        ],
    }


def set_roster(
    session: Session, round_: Round, roster: list[RosterEntry], *, log: bool = True
) -> None:
    """Replace the ballot items and exemptions of a draft round."""
    if round_.status != RoundStatus.DRAFT.value:
        raise WrongState(N_("The roster can only be changed while the round is a draft."))
    round_.items.clear()
    round_.exemptions.clear()
    session.flush()
    order = 0
    for entry in roster:
        if entry.kind == "collective":
            order += 1
            round_.items.append(BallotItem(
                order=order, kind="collective", person_id=None, name=entry.name,
                position=entry.position,
            ))
            continue
        person = _person(session, round_.body, entry)
        if entry.exempt_reason:
            round_.exemptions.append(Exemption(
                person_id=person.id, position=entry.position, reason=entry.exempt_reason
            ))
        else:
            order += 1
            round_.items.append(BallotItem(
                order=order, kind="person", person_id=person.id, name=entry.name,
                position=entry.position,
            ))
    session.flush()
    if log:
        audit.record(session, "roster_changed", round_id=round_.id, details=roster_details(round_))


def open_round(session: Session, round_: Round) -> None:
    """Open a draft round for voting; the ballot's item order is frozen from now on."""
    if round_.status != RoundStatus.DRAFT.value:
        raise WrongState(
            N_("Round {id} is {status}; only a draft round can be opened."),
            id=round_.id, status=round_.status,
        )
    if not round_.items:
        raise WrongState(N_("Round {id} has no items on its ballot."), id=round_.id)
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    if profile.quorum != "none" and round_.summoned is None:
        raise CountError(
            N_("The profile {profile} requires a quorum: give the number of persons summoned "
               "before opening the round."),
            profile=profile.id,
        )
    if profile.quorum_met(round_.present, round_.summoned) is False:
        raise CountError(
            N_("No quorum: {present} present of {summoned} summoned; the profile {profile} "
               "needs at least two thirds present."),
            present=round_.present, summoned=round_.summoned, profile=profile.id,
        )
    round_.status = RoundStatus.OPEN.value
    session.flush()
    audit.record(session, "round_opened", round_id=round_.id, details={
        "items": len(round_.items), "present": round_.present, "summoned": round_.summoned,
    })


def ballots_collected(session: Session, round_id: int) -> int:
    """Count the ballots in the box of a round."""
    return session.scalar(select(func.count()).where(Ballot.round_id == round_id)) or 0


def ballots_issued(session: Session, round_: Round) -> int:
    """Return ballots issued: paper ballots handed out plus online codes issued."""
    return (round_.paper_issued or 0) + codes_issued(session, round_.id)


def close_round(session: Session, round_: Round) -> None:
    """Close an open round: no more ballots; freeze issued and collected; erase row order."""
    if session.get_bind().dialect.name == "postgresql":
        # Casts share-lock the round's row and do not wait for one another, so casts that keep
        # overlapping would hold off a close waiting on the row for as long as voting goes on.
        # Table locks queue: casts that start after this wait behind the close (briefly, in
        # every round), the close waits only for the casts already in progress.
        session.execute(text("LOCK TABLE round IN EXCLUSIVE MODE"))
    locked = session.scalar(select(Round).where(Round.id == round_.id).with_for_update())
    assert locked is round_
    if round_.status != RoundStatus.OPEN.value:
        raise WrongState(
            N_("Round {id} is {status}; only an open round can be closed."),
            id=round_.id, status=round_.status,
        )
    discard_paper_entries(session, round_.id)
    round_.issued = ballots_issued(session, round_)
    round_.collected = ballots_collected(session, round_.id)
    round_.status = RoundStatus.CLOSED.value
    rewrite_ballot_box(session, round_.id)
    session.flush()
    # Once the close is committed, whoever closed it (command line, web, demo), let the engine
    # forget the pages and log entries written while the round was open.
    event.listen(session, "after_commit", lambda done: compact(done.get_bind()), once=True)
    audit.record(
        session, "round_closed", round_id=round_.id, details=closing_record(session, round_)
    )


def pending_paper_entries(session: Session, round_id: int) -> list[int]:
    """Return the number of ballots typed into each paper entry not yet accepted."""
    from .paper import split_lines

    texts = session.scalars(
        select(PaperEntry.lines).where(PaperEntry.round_id == round_id).order_by(PaperEntry.entry)
    )
    return [len(split_lines(text)) for text in texts]


def discard_paper_entries(session: Session, round_id: int) -> None:
    """Delete the paper entries a closing round leaves unaccepted, and log what was dropped."""
    pending = pending_paper_entries(session, round_id)
    if pending:
        session.execute(delete(PaperEntry).where(PaperEntry.round_id == round_id))
        audit.record(
            session, "paper_entries_discarded", round_id=round_id, details={"ballots": pending}
        )


def closing_record(session: Session, round_: Round) -> dict[str, Any]:
    """Describe a counted round for the log: accounting, seal, counts and findings."""
    from .credentials import codes_used
    from .recount import seal
    from .rules import round_findings
    from .tally import tally_round

    tally = tally_round(session, round_)
    return {
        "issued": round_.issued,
        "collected": round_.collected,
        "valid": tally.valid,
        "invalid": tally.invalid,
        "paper_issued": round_.paper_issued,
        "codes_issued": codes_issued(session, round_.id),
        "codes_used": codes_used(session, round_.id),
        "members": round_.members,
        "summoned": round_.summoned,
        "present": round_.present,
        "profile": {"id": tally.profile.id, "version": tally.profile.version},
        "denominator": {"basis": tally.basis, "value": tally.denominator},
        "seal": seal(len(round_.items), audit.ballot_box(session, round_.id)),
        "items": [
            {"order": i.order, "person_key": i.person_key, "name": i.name, "counts": i.counts}
            for i in tally.items
        ],
        "findings": [
            {"person_key": f.person_key, "band": f.band} for f in round_findings(tally)
        ],
    }

def rewrite_ballot_box(session: Session, round_id: int) -> None:
    """Rewrite a round's ballots, receipts and credentials in one transaction, in random order.

    While a round is open, the engine's own bookkeeping could hint at the order of casting
    (PostgreSQL's xmin and ctid, pages appended to a file). Rewriting everything in one
    transaction, shuffled, with fresh random keys, leaves every row with the same transaction
    id and a physical place that follows nothing. See docs/ANONYMITY.md.
    """
    shuffle = random.Random(secrets.randbits(128)).shuffle  # noqa: S311 - seeded from secrets
    ballots = [
        {"status": status, "marks": marks}
        for status, marks in session.execute(
            select(Ballot.status, Ballot.marks).where(Ballot.round_id == round_id)
        )
    ]
    receipts = list(session.scalars(select(Receipt.receipt).where(Receipt.round_id == round_id)))
    shuffle(ballots)
    shuffle(receipts)
    session.execute(delete(Ballot).where(Ballot.round_id == round_id))
    session.execute(delete(Receipt).where(Receipt.round_id == round_id))
    if ballots:
        session.execute(
            insert(Ballot),
            [{"round_id": round_id, "id": secrets.token_bytes(16), **b} for b in ballots],
        )
    if receipts:
        session.execute(insert(Receipt), [{"round_id": round_id, "receipt": r} for r in receipts])
    # Touch every credential so that none keeps the transaction id of the ballot it cast.
    session.execute(
        update(Credential).where(Credential.round_id == round_id).values(used=Credential.used)
    )


def publish_round(session: Session, round_: Round) -> None:
    """Publish a closed round's results."""
    if round_.status != RoundStatus.CLOSED.value:
        raise WrongState(
            N_("Round {id} is {status}; only a closed round can be published."),
            id=round_.id, status=round_.status,
        )
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    if quorum_status(session, round_, profile)["met"] is not True:
        raise CountError(
            N_("Round {id} cannot be published: the quorum of profile {profile} is not met "
               "or attendance is unknown."),
            id=round_.id, profile=profile.id,
        )
    round_.status = RoundStatus.PUBLISHED.value
    session.flush()
    audit.record(session, "round_published", round_id=round_.id)


def issue_round_codes(
    session: Session, round_: Round, count: int, secret: str | bytes
) -> list[str]:
    """Issue voter codes for a draft or open round (how many is all that is recorded)."""
    from .credentials import issue_codes

    if round_.status not in (RoundStatus.DRAFT.value, RoundStatus.OPEN.value):
        raise WrongState(
            N_("Round {id} is {status}; codes can be issued only for a draft or open round."),
            id=round_.id, status=round_.status,
        )
    if count < 1:
        raise InvalidInput(N_("The number of codes must be at least 1."))
    if round_.summoned is not None and ballots_issued(session, round_) + count > round_.summoned:
        raise CountError(
            N_("Impossible counts: {total} ballots and codes would be issued for {summoned} "
               "persons summoned."),
            total=ballots_issued(session, round_) + count, summoned=round_.summoned,
        )
    codes = issue_codes(session, round_, count, secret)
    # How many, never the codes themselves.
    audit.record(session, "codes_issued", round_id=round_.id, details={"count": count})
    return codes


def compact(engine: Engine) -> None:
    """After a close, let the engine forget the old rows of the rewritten ballot box.

    SQLite: checkpoint the write-ahead log and truncate it. PostgreSQL: VACUUM the tables whose
    dead tuples still hold the old physical order (see docs/ANONYMITY.md).
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            # A reader still open elsewhere would make TRUNCATE wait for the whole busy timeout:
            # wait a little, then leave it to the next close (the WAL is reused from its start
            # after every full checkpoint anyway).
            connection.exec_driver_sql("PRAGMA busy_timeout = 2000")
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.exec_driver_sql("PRAGMA busy_timeout = 60000")
        return
    # VACUUM FULL, not VACUUM: a plain VACUUM marks the old tuples dead but leaves their bytes
    # (in casting order, with each cast's transaction id) in the pages until they are reused.
    # VACUUM FULL writes the live rows, already shuffled, into new files; it locks these
    # tables for the moment it takes.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM FULL ballot, receipt, credential")


def quorum_status(
    session: Session, round_: Round, profile: profiles.Profile
) -> dict[str, object]:
    """Say whether the quorum is met, on which figures, and why (DOMAIN.md §2).

    Attendance (present of summoned) gates paper rounds; a round with online codes must also
    reach the quorum in turnout, the ballots actually collected.
    """
    status: dict[str, object] = {"rule": profile.quorum, **profile.quorum_text().as_dict()}
    if profile.quorum == "none":
        return {**status, "met": True, "reason": None}
    summoned = round_.summoned
    figures = [("present", round_.present)]
    if codes_issued(session, round_.id):
        figures.append(("collected", ballots_collected(session, round_.id)))
    required = None if summoned is None else -(-summoned * 2 // 3)  # ceil(2/3 of summoned)
    status.update(summoned=summoned, required=required)
    if summoned is None:
        return {**status, "met": None, "reason": {
            "vi": "Chưa có số người được triệu tập", "en": "The number summoned is unknown"}}
    for name, value in figures:
        if value is None:
            continue
        if value * 3 < summoned * 2:
            words = {"present": ("người có mặt", "present"),
                     "collected": ("phiếu thu về", "ballots collected")}[name]
            return {**status, "met": False, name: value, "reason": {
                "vi": f"Chỉ có {value} {words[0]} trên {summoned} người được triệu tập; "
                      f"cần ít nhất {required}",
                "en": f"Only {value} {words[1]} of {summoned} summoned; at least {required} "
                      f"are needed",
            }}
    known = [(name, value) for name, value in figures if value is not None]
    if not known:
        return {**status, "met": None, "reason": {
            "vi": "Chưa có số người có mặt", "en": "The number present is unknown"}}
    return {**status, "met": True, "reason": None, **dict(known)}
