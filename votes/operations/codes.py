"""Voter codes: issued for a draft or open round, handed over once (text or printed slips)."""

from __future__ import annotations

from .. import rounds
from .work import Work


def issue_codes(work: Work, round_id: int, count: int, secret: str | bytes) -> list[str]:
    """Issue voter codes; only how many is logged, never the codes."""
    round_ = work.round(round_id)
    codes = rounds.issue_round_codes(work.session, round_, count, secret)
    work.log("codes_issued", round_id=round_.id, details={"count": count})
    return codes
