"""Verify a round from its raw ballots: tally, findings, seal, accounting and the audit log."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .credentials import codes_issued, codes_used
from .models import Round, RoundStatus
from .recount import canonical
from .rounds import closing_record
from .text import integer_text

COUNTED = (RoundStatus.CLOSED.value, RoundStatus.PUBLISHED.value)


def _compare(report: audit.Report, what: str, recorded: Any, now: Any) -> None:
    if recorded != now:
        report.problems.append(f"{what}: the log recorded {recorded!r} at close, now {now!r}")


def verify_round(session: Session, round_: Round, *, chain: bool = True) -> audit.Report:
    """Recompute everything about a round and list each discrepancy in plain words."""
    report = audit.verify_chain(session) if chain else audit.Report()
    name = f"round {round_.id}"
    events = audit.round_events(session, round_.id)
    kinds = [e.kind for e in events]
    if "round_created" not in kinds:
        report.problems.append(f"{name}: the log has no record of its creation")

    # Accounting that must hold in every state (DOMAIN.md §2).
    present, summoned = round_.present, round_.summoned
    if present is not None and summoned is not None and present > summoned:
        report.problems.append(
            f"{name}: {round_.present} present but only {round_.summoned} summoned"
        )
    if round_.paper_issued is not None and round_.present is not None and (
        round_.paper_issued > round_.present
    ):
        report.problems.append(
            f"{name}: {round_.paper_issued} paper ballots issued but only {round_.present} present"
        )
    logged_codes = sum(
        int(json.loads(e.details).get("count", 0)) for e in events if e.kind == "codes_issued"
    )
    if logged_codes != codes_issued(session, round_.id):
        report.problems.append(
            f"{name}: {codes_issued(session, round_.id)} codes exist but the log shows "
            f"{logged_codes} issued"
        )
    imported = sum(
        int(json.loads(e.details).get("count", 0)) for e in events if e.kind == "ballots_imported"
    )
    ballots = audit.ballot_count(session, round_.id)
    used = codes_used(session, round_.id)
    if ballots != used + imported:
        report.problems.append(
            f"{name}: {integer_text(ballots)} ballots in the box, but {used} codes were used and "
            f"{imported} paper ballots were imported"
        )

    if round_.status not in COUNTED:
        if "round_closed" in kinds:
            report.problems.append(f"{name}: the log says it was closed, but it is {round_.status}")
        report.checked.append(f"{name}: {round_.status}; accounting checked")
        return report

    closes = [e for e in events if e.kind == "round_closed"]
    if len(closes) != 1:
        report.problems.append(f"{name}: the log has {len(closes)} close records instead of one")
        return report
    if round_.status == RoundStatus.PUBLISHED.value and "round_published" not in kinds:
        report.problems.append(f"{name}: published, but the log has no record of it")
    recorded = json.loads(closes[0].details)
    try:
        now = closing_record(session, round_)
    except Exception as exc:  # an impossible count stored in the database
        report.problems.append(f"{name}: cannot be counted again: {exc}")
        return report
    if recorded.get("seal") != now["seal"]:
        report.problems.append(
            f"{name}: the ballot box does not match its seal (sealed {recorded.get('seal')}, "
            f"now {now['seal']}): a ballot was added, removed or changed"
        )
    if round_.collected != ballots:
        report.problems.append(
            f"{name}: {ballots} ballots in the box, but {round_.collected} recorded as collected"
        )
    if round_.issued is not None and round_.collected is not None and (
        round_.collected > round_.issued
    ):
        report.problems.append(
            f"{name}: {round_.collected} ballots collected but only {round_.issued} issued"
        )
    for key in ("issued", "collected", "valid", "invalid", "paper_issued", "codes_issued",
                "codes_used", "members", "summoned", "present", "profile", "denominator"):
        _compare(report, f"{name}, {key}", recorded.get(key), now[key])
    recorded_items = {i["order"]: i for i in recorded.get("items", [])}
    for item in now["items"]:
        before = recorded_items.get(item["order"])
        if before is None or before["counts"] != item["counts"]:
            report.problems.append(
                f"{name}, item {item['order']} ({item['name']}): counted "
                f"{before['counts'] if before else 'nothing'} at close, "
                f"recount gives {item['counts']}"
            )
    if sorted(map(canonical, recorded.get("findings", []))) != sorted(
        map(canonical, now["findings"])
    ):
        report.problems.append(
            f"{name}: findings at close {recorded.get('findings')} differ from a recount "
            f"{now['findings']}"
        )
    report.checked.append(
        f"{name}: seal {now['seal'][:16]}…, {integer_text(ballots)} ballots recounted"
    )
    return report


def verify_all(session: Session) -> audit.Report:
    """Verify the chain once and every round."""
    report = audit.verify_chain(session)
    for round_ in session.scalars(select(Round).order_by(Round.id)):
        part = verify_round(session, round_, chain=False)
        report.problems += part.problems
        report.checked += part.checked
    return report
