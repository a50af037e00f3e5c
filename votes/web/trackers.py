"""The public list of counted online ballots: every receipt, so that each voter finds their own.

No login: a receipt is taken from the encrypted ballot and says nothing of its marks, and the
whole list is what lets every voter (and anybody) check that the ballots counted are the ones
cast. Shown once a round is counted (closed or published); while it is open or awaiting
decryption the page says when the list will be there. The lists are read in votes/trackers.py.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from ..committee import get_key
from ..models import Round, RoundStatus
from ..trackers import PAGE_SIZE, CountedList, available, counted_csv, counted_json, counted_list
from ..vocabulary import PUBLIC_KINDS
from .common import download, reading

bp = Blueprint("trackers", __name__)


def _shown(round_id: int) -> Round:
    """Return a round whose list may be asked for: any round once it has opened (404 before)."""
    round_ = reading().get(Round, round_id)
    if round_ is None or round_.status == RoundStatus.DRAFT.value:
        abort(404)
    return round_


def _listing(round_id: int) -> CountedList:
    """Return the counted list of a round, or 404 while there is none (the downloads)."""
    round_ = _shown(round_id)
    if not available(round_):
        abort(404)
    return counted_list(reading(), round_)


@bp.route("/r/<int:round_id>/receipts")
def receipts(round_id: int) -> Any:
    """Show a round's counted receipts, page by page, and find one a voter types."""
    round_ = _shown(round_id)
    # The published results page exists only for a council's or the Assembly's round.
    results_public = (
        round_.status == RoundStatus.PUBLISHED.value and round_.body.kind in PUBLIC_KINDS
    )
    if not available(round_):
        key = get_key(reading(), round_.id)
        return render_template(
            "trackers/receipts.html",
            round=round_,
            listing=None,
            threshold=key.threshold if key else None,
            results_public=results_public,
        )
    listing = counted_list(reading(), round_)
    pages = listing.page_count()
    typed = (request.args.get("q") or "").strip()[:64]
    found = listing.find(typed) if typed else None
    page_arg = request.args.get("page", "1")
    if not page_arg.isdigit():
        abort(404)
    # A receipt found shows its page, whatever page was asked.
    page = found // PAGE_SIZE + 1 if found is not None else int(page_arg)
    if not 1 <= page <= pages:
        abort(404)
    return render_template(
        "trackers/receipts.html",
        round=round_,
        listing=listing,
        ballots=listing.page(page),
        first=(page - 1) * PAGE_SIZE + 1,
        page=page,
        pages=pages,
        typed=typed,
        found=None if found is None else listing.ballots[found],
        results_public=results_public,
    )


@bp.route("/r/<int:round_id>/receipts.json")
def receipts_json(round_id: int) -> Any:
    """Download the counted list as JSON: the box digest, every receipt with its tracker."""
    data = counted_json(_listing(round_id))
    return download(data, f"round-{round_id}-receipts.json", "application/json; charset=utf-8")


@bp.route("/r/<int:round_id>/receipts.csv")
def receipts_csv(round_id: int) -> Any:
    """Download the counted list as CSV: receipt and tracker, one ballot a line."""
    data = counted_csv(_listing(round_id))
    return download(data, f"round-{round_id}-receipts.csv", "text/csv; charset=utf-8")
