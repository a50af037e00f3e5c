"""Verify a round from its raw ballots: tally, findings, seal, accounting and the audit log."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, sealing
from .ballotbox import ballots_collected, receipts_count, sealed_box, sealed_count
from .committee import by_group, get_key, round_parameters
from .credentials import codes_issued, codes_used
from .errors import N_, InvalidInput, VotesError
from .lazy import lazy_module
from .models import AuditEvent, Round, RoundStatus
from .recount import as_sealed, canonical, latest_seal, parse_seal, round_seal
from .rounds import closing_record
from .seal import box_digest, public_record
from .vocabulary import COUNTED, SEAL_PART_WORDS, level_names

# Reported rounds (signed packages) need the package module and its cryptography: loaded when a
# reported round is verified, not by every `votes` command that imports this one.
if TYPE_CHECKING:
    from . import package
else:
    package = lazy_module("votes.package")

# The figures of the close event that a recount must give again.
RECORDED_FIGURES = (
    "issued",
    "collected",
    "valid",
    "invalid",
    "paper_issued",
    "codes_issued",
    "codes_used",
    "members",
    "summoned",
    "present",
    "profile",
    "denominator",
)


def _compare(report: audit.Report, round_id: int, what: str, recorded: Any, now: Any) -> None:
    if recorded != now:
        report.problem(
            N_("Round {id}, {what}: the log recorded {recorded!r} at close, now {now!r}."),
            id=round_id,
            what=what,
            recorded=recorded,
            now=now,
        )


def verify_round(session: Session, round_: Round, *, chain: bool = True) -> audit.Report:
    """Recompute everything about a round and list each discrepancy in plain words."""
    report = audit.verify_chain(session) if chain else audit.Report()
    round_id = round_.id
    if round_.reported_from is not None:
        # A round reported from below is verified from the signed package kept for it.
        for problem in package.check_reported(session, round_):
            report.problem(N_("Round {id}: {problem}"), id=round_id, problem=problem)
        if not report.problems:
            report.check(N_("Round {id}: the package it was reported in holds."), id=round_id)
        return report
    events = audit.round_events(session, round_id)
    kinds = [e.kind for e in events]
    if "round_created" not in kinds:
        report.problem(N_("Round {id}: the log has no record of its creation."), id=round_id)

    # Accounting that must hold in every state (DOMAIN.md §2).
    present, summoned = round_.present, round_.summoned
    if present is not None and summoned is not None and present > summoned:
        report.problem(
            N_("Round {id}: {present} present but only {summoned} summoned."),
            id=round_id,
            present=present,
            summoned=summoned,
        )
    if round_.paper_issued is not None and present is not None and round_.paper_issued > present:
        report.problem(
            N_("Round {id}: {issued} paper ballots issued but only {present} present."),
            id=round_id,
            issued=round_.paper_issued,
            present=present,
        )
    logged_codes = sum(
        int(json.loads(e.details).get("count", 0)) for e in events if e.kind == "codes_issued"
    )
    issued_codes = codes_issued(session, round_id)
    if logged_codes != issued_codes:
        report.problem(
            N_("Round {id}: {codes} codes exist but the log shows {logged} issued."),
            id=round_id,
            codes=issued_codes,
            logged=logged_codes,
        )
    imported = sum(
        int(json.loads(e.details).get("count", 0)) for e in events if e.kind == "ballots_imported"
    )
    ballots = ballots_collected(session, round_id)
    used = codes_used(session, round_id)
    if ballots != used + imported:
        report.problem(
            N_(
                "Round {id}: {ballots} ballots in the box, but {used} codes were used and "
                "{imported} paper ballots were imported."
            ),
            id=round_id,
            ballots=ballots,
            used=used,
            imported=imported,
        )
    # Online ballots = receipts = codes used: every cast stores one of each (docs/AUDIT.md).
    receipts = receipts_count(session, round_id)
    if receipts < used:
        report.problem(
            N_(
                "Round {id}: {receipts} receipts for {used} codes used: {count} receipt(s) deleted."
            ),
            id=round_id,
            receipts=receipts,
            used=used,
            count=used - receipts,
        )
    elif receipts > used:
        report.problem(
            N_(
                "Round {id}: {receipts} receipts for {used} codes used: {count} receipt(s) that "
                "no vote accounts for (invented)."
            ),
            id=round_id,
            receipts=receipts,
            used=used,
            count=receipts - used,
        )

    _verify_sealed(session, round_, events, report)

    if round_.status not in COUNTED:
        if "round_closed" in kinds:
            report.problem(
                N_("Round {id}: the log says it was closed, but it is {status}."),
                id=round_id,
                status=round_.status,
            )
        report.check(
            N_("Round {id}: {status}; the accounting holds."), id=round_id, status=round_.status
        )
        return report

    closes = [e for e in events if e.kind == "round_closed"]
    if len(closes) != 1:
        report.problem(
            N_("Round {id}: the log has {count} close records instead of one."),
            id=round_id,
            count=len(closes),
        )
        return report
    if round_.status == RoundStatus.PUBLISHED.value and "round_published" not in kinds:
        report.problem(N_("Round {id}: published, but the log has no record of it."), id=round_id)
    recorded = json.loads(closes[0].details)
    try:
        now = closing_record(session, round_)
    except VotesError as exc:  # an impossible count stored in the database
        report.problem(N_("Round {id}: cannot be counted again: {reason}"), id=round_id, reason=exc)
        return report
    _compare_seal(report, round_id, sealed_record(events) or recorded, now)
    if round_.collected != ballots:
        report.problem(
            N_("Round {id}: {ballots} ballots in the box, but {collected} recorded as collected."),
            id=round_id,
            ballots=ballots,
            collected=round_.collected,
        )
    if (
        round_.issued is not None
        and round_.collected is not None
        and (round_.collected > round_.issued)
    ):
        report.problem(
            N_("Round {id}: {collected} ballots collected but only {issued} issued."),
            id=round_id,
            collected=round_.collected,
            issued=round_.issued,
        )
    for key in RECORDED_FIGURES:
        _compare(report, round_id, key, recorded.get(key), now[key])
    for key in ("deciding", "groups"):  # a round of several voter groups
        if key in now or key in recorded:
            _compare(report, round_id, key, recorded.get(key), now.get(key))
    recorded_items = {i["order"]: i for i in recorded.get("items", [])}
    for item in now["items"]:
        before = recorded_items.get(item["order"])
        if before is None or before["counts"] != item["counts"]:
            report.problem(
                N_(
                    "Round {id}, item {order} ({name}): counted {recorded} at close, a recount "
                    "gives {recount}."
                ),
                id=round_id,
                order=item["order"],
                name=item["name"],
                recorded=before["counts"] if before else "—",
                recount=item["counts"],
            )
    if sorted(map(canonical, recorded.get("findings", []))) != sorted(
        map(canonical, now["findings"])
    ):
        report.problem(
            N_("Round {id}: the findings at close {recorded} differ from a recount {recount}."),
            id=round_id,
            recorded=recorded.get("findings"),
            recount=now["findings"],
        )
    report.check(
        N_("Round {id}: seal {seal}…, {ballots} ballots recounted."),
        id=round_id,
        seal=now["seal"][:16],
        ballots=ballots,
    )
    return report


def _verify_sealed(
    session: Session, round_: Round, events: list[AuditEvent], report: audit.Report
) -> None:
    """Check a round's sealed ballots in any state: each one's tracker and proofs, the box
    against its digest at the end of voting, and, once decrypted, the whole sealed tally."""
    key = get_key(session, round_.id)
    if key is None:
        if sealed_count(session, round_.id):
            report.problem(
                N_("Round {id}: sealed ballots exist, but the round has no committee key."),
                id=round_.id,
            )
        return
    logged_key = [json.loads(e.details) for e in events if e.kind == "committee_key_made"]
    if key.public_key is not None and (
        not logged_key or logged_key[-1].get("public_key") != key.public_key
    ):
        report.problem(
            N_("Round {id}: the committee's key is not the key the log recorded when it was made."),
            id=round_.id,
        )
    bad = 0
    box = sealed_box(session, round_.id)
    if box:
        if key.public_key is None or key.parameters is None:
            bad = len(box)
        else:
            # Once counted, each group's public record below checks every ballot's proofs.
            bad = sealing.bad_ballots(
                key.public_key,
                round_parameters(key),
                box,
                proofs=round_.status not in COUNTED,
            )
    if bad:
        report.problem(
            N_(
                "Round {id}: {count} sealed ballot(s) do not check (a tracker that is not the "
                "ballot's hash, or a proof that fails): the box was changed."
            ),
            id=round_.id,
            count=bad,
        )
    ended = [json.loads(e.details) for e in events if e.kind == "voting_closed"]
    if ended and ended[-1].get("box_digest") != box_digest(session, round_.id):
        report.problem(
            N_(
                "Round {id}: the box of sealed ballots changed after voting ended (digest "
                "{recorded} then, {now} now)."
            ),
            id=round_.id,
            recorded=ended[-1].get("box_digest"),
            now=box_digest(session, round_.id),
        )
    # A voter group closed before the others: its box is checked against its digest then.
    for closed in (json.loads(e.details) for e in events if e.kind == "group_closed"):
        number = closed.get("group")
        if "box_digest" in closed and closed["box_digest"] != box_digest(
            session, round_.id, number
        ):
            report.problem(
                N_(
                    "Round {id}: the box of sealed ballots of voter group {number} changed "
                    "after the group closed."
                ),
                id=round_.id,
                number=number,
            )
    if round_.status not in COUNTED or not box:
        return
    # Every group's sealed tally once the round is counted (one record per group that has
    # sealed ballots; a round of one group has one).
    decrypted = by_group(key.totals)
    for group in round_.groups:
        if not sealed_count(session, round_.id, group.number):
            continue
        try:
            record = public_record(session, round_, group.number)
        except VotesError as error:
            report.problem(
                N_("Round {id}: the sealed tally does not check: {reason}."),
                id=round_.id,
                reason=error,
            )
            return
        problems = ["no decrypted totals"] if record is None else sealing.record_problems(record)
        if record is not None and not problems:
            names = level_names(round_.scale)
            stored = [
                [row.get(name) for name in names] for row in decrypted.get(str(group.number), [])
            ]
            if stored != record["totals"]:
                problems = ["the stored totals are not the decryption of the encrypted totals"]
        for problem in problems[:10]:
            report.problem(
                N_("Round {id}: the sealed tally does not check: {reason}."),
                id=round_.id,
                reason=problem,
            )


def _compare_seal(
    report: audit.Report, round_id: int, recorded: Mapping[str, Any], now: dict[str, Any]
) -> None:
    """Compare the seal recorded last with the round now, naming each part that differs."""
    parts = recorded.get("seal_parts")
    if parts is None:
        # Closed before the whole-round seal: the seal was the ballots' alone.
        if recorded.get("seal") != now["seal_parts"]["ballots"]:
            report.problem(
                N_(
                    "Round {id}: the ballot box does not match its seal (sealed {sealed}, now "
                    "{now}): a ballot was added, removed or changed."
                ),
                id=round_id,
                sealed=recorded.get("seal"),
                now=now["seal_parts"]["ballots"],
            )
        return
    for name, digest in as_sealed(now["seal_parts"], parts).items():
        if parts.get(name) != digest:
            report.problem(
                N_(
                    "Round {id}: {part} changed after the round was sealed at close (seal part "
                    "{part_id})."
                ),
                id=round_id,
                part=SEAL_PART_WORDS.get(name, name),
                part_id=name,
            )
    if round_seal(parts) != recorded.get("seal"):
        report.problem(
            N_("Round {id}: the seal in the close record is not the seal of its parts."),
            id=round_id,
        )


def verify_anchors(
    session: Session,
    *,
    round_: Round | None = None,
    expect_seal: str | None = None,
    expect_head: str | None = None,
) -> audit.Report:
    """Check the database against values read off paper: a round's seal, a head of the log.

    Without them verification shows that the database agrees with itself; a database
    rewritten whole (the marks changed, the seal and counts recomputed, the log hashed again)
    would agree with itself too. The seal printed on the minutes and the heads kept by the
    committee and the upper level are outside the database: it cannot change them.
    """
    report = audit.Report()
    if expect_head is not None:
        report.extend(audit.verify_head(session, expect_head))
    if expect_seal is None:
        return report
    if round_ is None:
        raise InvalidInput(N_("Give the round whose seal is expected."))
    try:
        expected = parse_seal(expect_seal)
    except ValueError as exc:
        raise InvalidInput(
            N_("Not a seal: {value!r} ({reason})."), value=expect_seal, reason=str(exc)
        ) from exc
    sealed = sealed_record(audit.round_events(session, round_.id))
    recorded = sealed.get("seal") if sealed is not None else None
    now = None
    if round_.status in COUNTED:
        # The seal now, in the format of the one recorded (a later format may add parts).
        parts = closing_record(session, round_)["seal_parts"]
        recorded_parts = sealed.get("seal_parts") if sealed is not None else None
        now = round_seal(as_sealed(parts, recorded_parts) if recorded_parts else parts)
    if recorded != expected or now != expected:
        report.problem(
            N_(
                "Round {id}: the seal {expected} read off paper is not the seal of the round "
                "(recorded at close {recorded}, recomputed now {now})."
            ),
            id=round_.id,
            expected=expected,
            recorded=recorded or "—",
            now=now or "—",
        )
    else:
        report.check(N_("Round {id}: the seal read off paper matches."), id=round_.id)
    return report


def sealed_record(events: list[AuditEvent]) -> Mapping[str, Any] | None:
    """Return the details of the event that sealed the round last (its close, or later)."""
    return latest_seal({"kind": e.kind, "details": json.loads(e.details)} for e in events)


def verify_all(session: Session) -> audit.Report:
    """Verify the chain once and every round."""
    report = audit.verify_chain(session)
    for round_ in session.scalars(select(Round).order_by(Round.id)):
        report.extend(verify_round(session, round_, chain=False))
    return report
