"""The lists of sealed ballots: the public list of counted receipts and the auditors' open box.

Every online ballot is stored encrypted, under its tracker (the SHA-256 of the encrypted
ballot, docs/CRYPTO.md §7); the voter's receipt is "BN" and 16 digits taken from it. Two lists
are read from the box:

- the **counted receipts**, public once the round is counted (closed or published): every
  counted online ballot's receipt and tracker, sorted, with the digest of the box, so that each
  voter finds their own and anybody can recompute the digest printed on the minutes. Before,
  nothing: not while the round is open, nor while its totals await decryption.
- the **open box** for auditors, in any state after opening: each voter group's trackers and
  its running digest. An encrypted ballot reveals nothing, so the list is shown while the
  round is open too; a change to the box between two looks changes the digest.

Receipts of the rounds cast before sealing (random, kept in the receipt table) are listed too,
without a tracker.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .ballotbox import trackers
from .credentials import normalise_receipt, tracker_receipt
from .errors import N_, WrongState
from .models import Receipt, Round, RoundStatus
from .seal import box_digest
from .vocabulary import COUNTED

# How many receipts a page of the public list shows (a phone scrolls through it in a moment).
PAGE_SIZE = 200


@dataclass(frozen=True)
class ListedBallot:
    """One ballot of a list: its receipt and its tracker."""

    receipt: str
    tracker: str | None  # hexadecimal; None for a receipt of a round cast before sealing

    @property
    def anchor(self) -> str:
        """Return the receipt's anchor on the page: "r" and its 16 digits."""
        return "r" + "".join(ch for ch in self.receipt if ch.isdigit())


@dataclass(frozen=True)
class CountedList:
    """The counted online ballots of a round, by receipt, and the digest of its sealed box."""

    round_id: int
    ballots: list[ListedBallot]
    box_digest: str | None

    def page_count(self, size: int = PAGE_SIZE) -> int:
        """Return the number of pages of the list (one, when it is empty)."""
        return max(1, -(-len(self.ballots) // size))

    def page(self, number: int, size: int = PAGE_SIZE) -> list[ListedBallot]:
        """Return page `number` (from 1) of the list."""
        return self.ballots[(number - 1) * size : number * size]

    def find(self, typed: str) -> int | None:
        """Return the position of a typed receipt in the list, or None when it is not there."""
        wanted = normalise_receipt(typed) or _legacy_receipt(typed)
        for position, ballot in enumerate(self.ballots):
            if ballot.receipt == wanted:
                return position
        return None


def _legacy_receipt(typed: str) -> str:
    """Return a typed receipt of a round cast before sealing in its printed form (XXXX-XXXX-…)."""
    folded = "".join(ch for ch in typed.upper() if ch.isalnum())
    return "-".join(folded[i : i + 4] for i in range(0, len(folded), 4))


def available(round_: Round) -> bool:
    """Tell whether a round's list of counted receipts can be shown: once it is counted."""
    return round_.status in COUNTED


def counted_list(session: Session, round_: Round) -> CountedList:
    """Return the counted online ballots of a counted round; refuse a round not counted yet.

    A ballot is "counted" only once the totals are decrypted; before, the public learns of the
    box only what the voters' pages say (the auditors see the open box, open_box).
    """
    if not available(round_):
        if round_.status == RoundStatus.DECRYPTING.value:
            raise WrongState(
                N_(
                    "Round {id} is awaiting decryption: the list of counted ballots is "
                    "published once the counting committee has decrypted the totals."
                ),
                id=round_.id,
            )
        raise WrongState(
            N_(
                "Round {id} is {status}: the list of counted ballots is published once the "
                "round is closed and counted."
            ),
            id=round_.id,
            status=round_.status,
        )
    sealed = [ListedBallot(tracker_receipt(t), t.hex()) for t in trackers(session, round_.id)]
    legacy = [
        ListedBallot(receipt, None)
        for receipt in session.scalars(select(Receipt.receipt).where(Receipt.round_id == round_.id))
    ]
    return CountedList(
        round_.id,
        sorted(sealed + legacy, key=lambda ballot: (ballot.receipt, ballot.tracker or "")),
        box_digest(session, round_.id) if sealed else None,
    )


def counted_json(listing: CountedList) -> bytes:
    """Return the list as JSON: the box digest and every receipt with its tracker."""
    document: dict[str, Any] = {
        "round": listing.round_id,
        "count": len(listing.ballots),
        "box_digest": listing.box_digest,
        "ballots": [{"receipt": b.receipt, "tracker": b.tracker} for b in listing.ballots],
    }
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def counted_csv(listing: CountedList) -> bytes:
    """Return the list as CSV: one line per ballot, receipt and tracker."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["receipt", "tracker"])
    for ballot in listing.ballots:
        writer.writerow([ballot.receipt, ballot.tracker or ""])
    return out.getvalue().encode("utf-8")


# ------------------------------------------------------------------------- the open box


@dataclass(frozen=True)
class GroupBox:
    """A voter group's box of sealed ballots as it is now: its trackers and their digest."""

    number: int
    name: str
    ballots: list[ListedBallot]  # by tracker
    box_digest: str | None

    @property
    def count(self) -> int:
        """Return the number of sealed ballots in the box."""
        return len(self.ballots)


@dataclass(frozen=True)
class OpenBox:
    """A round's sealed ballots as they are now, per voter group, and the whole box's digest."""

    groups: list[GroupBox]
    box_digest: str | None

    @property
    def count(self) -> int:
        """Return the number of sealed ballots of the round."""
        return sum(group.count for group in self.groups)


def open_box(session: Session, round_: Round) -> OpenBox:
    """Return a round's sealed ballots (trackers) and running digests, in any state.

    Encrypted ballots say nothing about their marks, so they are listed while the round is
    open too (docs/ANONYMITY.md): only their number, which the pages already show.
    """
    groups = [
        GroupBox(
            group.number,
            group.name,
            [
                ListedBallot(tracker_receipt(t), t.hex())
                for t in trackers(session, round_.id, group.number)
            ],
            box_digest(session, round_.id, group.number),
        )
        for group in round_.groups
    ]
    return OpenBox(groups, box_digest(session, round_.id))
