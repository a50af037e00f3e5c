"""Voter codes: issued for a draft or open round, handed over once (text or printed slips)."""

from __future__ import annotations

from .. import rounds
from ..groups import get_group
from .work import Work


def issue_codes(
    work: Work, round_id: int, count: int, secret: str | bytes, *, group: int | None = None
) -> list[str]:
    """Issue voter codes (for one voter group); only how many is logged, never the codes."""
    round_ = work.round(round_id)
    codes = rounds.issue_round_codes(work.session, round_, count, secret, group)
    details: dict[str, object] = {"count": count}
    if len(round_.groups) > 1:  # the log of a round of one group reads as before
        details["group"] = get_group(round_, group).number
    work.log("codes_issued", round_id=round_.id, details=details)
    return codes
