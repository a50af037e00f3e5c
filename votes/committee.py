"""The counting committee's key of a round: its members, the ceremony, and the decryption.

Before a round with online voting opens, its counting committee (Ban kiểm phiếu, or a body
named for it) makes a k-of-n key in a ceremony run on each member's own machine
(`votes trustee`, votes/trustee.py). The server only relays and checks public files:

1. each member makes a key and sends its **public part** (commitments and proofs);
2. once every public part is in, each member sends the **shares** made for the others, each
   encrypted to its recipient (a committee of one skips this);
3. each member checks the shares received and sends a **confirmation** with their
   verification key; once all are in, the joint public key is made and the round can open.

After the close, the encrypted ballots are multiplied per item and level (the **encrypted
totals**); k members each send a **partial decryption** with its proof; once k are in and
checked, the totals are found and the round is counted. Only public values are stored.

Guard checks and state changes only; the operations in votes/operations/committee.py log them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from . import sealed, sealing
from .ballotbox import sealed_box, sealed_count
from .credentials import codes_issued
from .errors import N_, InvalidInput, Message, NotFound, WrongState, message
from .meeting import Member
from .models import CommitteeState, CountingKey, KeyHolder, Round, RoundStatus
from .recount import canonical
from .vocabulary import level_names

# Every file of the ceremony and of the decryption is JSON with this format and a kind.
FILE_FORMAT = "phieu-tin-nhiem committee 1"
KIND_COMMITTEE = "committee"  # the server's public state, read by `votes trustee`
KIND_PUBLIC_PART = "public_part"
KIND_SHARES = "shares"
KIND_CONFIRMATION = "confirmation"
KIND_TOTALS = "encrypted_totals"  # the server's encrypted totals, for `votes trustee decrypt`
KIND_PARTIAL = "partial_decryption"
MEMBER_KINDS = (KIND_PUBLIC_PART, KIND_SHARES, KIND_CONFIRMATION, KIND_PARTIAL)
COMMITTEE_FILE_WORDS = {
    KIND_PUBLIC_PART: N_("public part of the key"),
    KIND_SHARES: N_("shares for the other members"),
    KIND_CONFIRMATION: N_("check of the shares received"),
    KIND_PARTIAL: N_("partial decryption"),
}
STATE_WORDS = {
    CommitteeState.SETUP.value: N_("waiting for the members' public parts"),
    CommitteeState.SHARES.value: N_("waiting for the shares and their checks"),
    CommitteeState.COMPLETE.value: N_("the key is made"),
}
# Said wherever a committee of one shows: the command line, the pages and the minutes.
SINGLE_MEMBER_WARNING = N_(
    "Weaker: a committee of one member holds the whole key. That member alone can decrypt, "
    "and if the key file or its passphrase is lost the online ballots can never be counted. "
    "Use it only for a small body; a committee of three with two needed is safer."
)
ALL_NEEDED_WARNING = N_(
    "Every member is needed to decrypt: if one of them cannot come, or loses the key file or "
    "its passphrase, the online ballots can never be counted. Consider needing fewer."
)
# Bounds: a committee of at most 25, a file of at most 4 MB (the shares of 25 members).
SIZE_MAX = 25
FILE_MAX = 4 * 1024 * 1024


@dataclass(frozen=True)
class Received:
    """What a committee file was: its kind, its member, and the committee's state after it."""

    kind: str
    number: int
    name: str
    state: str
    sha256: str
    # Set when this file completed the key (the joint key's fingerprint) or the decryption.
    key_made: str | None = None
    decrypted: bool = False


def get_key(session: Session, round_id: int) -> CountingKey | None:
    """Return the counting committee's key of a round, or None if it has none."""
    return session.get(CountingKey, round_id)


def require_key(session: Session, round_: Round) -> CountingKey:
    """Return the round's committee key, or refuse: the round has no counting committee."""
    key = get_key(session, round_.id)
    if key is None:
        raise NotFound(
            N_(
                "Round {id} has no counting committee key: create one with `votes committee "
                "create` (or on the round's page)."
            ),
            id=round_.id,
        )
    return key


def create_committee(
    session: Session, round_: Round, threshold: int, members: Sequence[Member]
) -> CountingKey:
    """Name the members of a draft round's counting committee and how many must decrypt."""
    if round_.status != RoundStatus.DRAFT.value:
        raise WrongState(
            N_("Round {id} is {status}: its counting committee is made before it opens."),
            id=round_.id,
            status=round_.status,
        )
    if get_key(session, round_.id) is not None:
        raise InvalidInput(
            N_("Round {id} already has a counting committee; remove it first to make another."),
            id=round_.id,
        )
    size = len(members)
    if not 1 <= size <= SIZE_MAX:
        raise InvalidInput(
            N_("A counting committee has 1 to {limit} members; {count} were given."),
            limit=SIZE_MAX,
            count=size,
        )
    if not 1 <= threshold <= size:
        raise InvalidInput(
            N_(
                "The number of members needed to decrypt must be between 1 and the {size} "
                "members; {threshold} was given."
            ),
            size=size,
            threshold=threshold,
        )
    key = CountingKey(
        round_id=round_.id,
        threshold=threshold,
        size=size,
        single_member=size == 1,
        state=CommitteeState.SETUP.value,
    )
    key.holders = [
        KeyHolder(number=number, name=member.name, role=member.role)
        for number, member in enumerate(members, start=1)
    ]
    key.ceremony = sealing.ceremony(context_digest(round_, key), threshold, size).hex()
    session.add(key)
    session.flush()
    return key


def remove_committee(session: Session, round_: Round) -> CountingKey:
    """Remove the counting committee of a draft round (to name it again)."""
    key = require_key(session, round_)
    if round_.status != RoundStatus.DRAFT.value:
        raise WrongState(
            N_("Round {id} is {status}: its counting committee can no longer be removed."),
            id=round_.id,
            status=round_.status,
        )
    session.delete(key)
    session.flush()
    return key


def context(round_: Round, key: CountingKey) -> dict[str, Any]:
    """Return what binds every file of the ceremony to this round and this committee."""
    return {
        "round": round_.id,
        "body": round_.body.code,
        "title": round_.title,
        "year": round_.year,
        "threshold": key.threshold,
        "size": key.size,
        "members": [{"number": h.number, "name": h.name, "role": h.role} for h in key.holders],
    }


def context_digest(round_: Round, key: CountingKey) -> str:
    """Return the SHA-256 of the round's ceremony context (the label every file carries)."""
    return hashlib.sha256(canonical(context(round_, key)).encode()).hexdigest()


def ceremony(round_: Round, key: CountingKey) -> bytes:
    """Return the context of the round's key ceremony (bound into every proof of the members).

    Fixed when the committee was named: a later change to the round's details is caught by
    the seal's part "round", and does not unmake the committee's key.
    """
    return bytes.fromhex(key.ceremony)


def committee_of(round_: Round, key: CountingKey) -> sealed.Committee:
    """Return the committee's public values, every member's proofs checked again."""
    return sealing.make_committee(
        ceremony(round_, key), [_loaded(h.public_part) for h in key.holders]
    )


def round_parameters(key: CountingKey) -> sealed.RoundParameters:
    """Return what the round's ballots are bound to (fixed when it opened)."""
    if key.parameters is None:
        raise WrongState(
            N_("Round {id} has not opened: its ballots are not defined yet."), id=key.round_id
        )
    return sealing.read_parameters(key.parameters)


def fix_parameters(session: Session, round_: Round) -> None:
    """When a round with a key opens, bind its ballots to its items and their levels."""
    key = get_key(session, round_.id)
    if key is None:
        return
    items = [f"{item.order}. {item.name} — {item.position}".strip(" —") for item in round_.items]
    key.parameters = canonical(
        sealing.parameters(round_.id, items, len(level_names(round_.scale))).to_dict()
    )
    session.flush()


def committee_file(session: Session, round_: Round) -> dict[str, Any]:
    """Return the committee's public state, as read by `votes trustee` on a member's machine."""
    key = require_key(session, round_)
    return {
        "format": FILE_FORMAT,
        "kind": KIND_COMMITTEE,
        "context": context(round_, key),
        "context_digest": context_digest(round_, key),
        "ceremony": ceremony(round_, key).hex(),
        "state": key.state,
        "public_key": key.public_key,
        "members": [
            {
                "number": holder.number,
                "name": holder.name,
                "role": holder.role,
                "public_part": _loaded(holder.public_part),
                "shares": _loaded(holder.shares),
                "confirmation": _loaded(holder.confirmation),
            }
            for holder in key.holders
        ],
    }


def totals_file(session: Session, round_: Round) -> dict[str, Any]:
    """Return the encrypted totals awaiting decryption, for `votes trustee decrypt`.

    Every voter group whose voting has ended and whose totals are not decrypted yet is in it
    ("groups": number, ballots, encrypted totals); a member decrypts them all in one step.
    """
    key = require_key(session, round_)
    pending = pending_groups(key)
    if not pending:
        raise WrongState(
            N_("Round {id} is {status}: its encrypted totals exist once voting has ended."),
            id=round_.id,
            status=round_.status,
        )
    encrypted = by_group(key.encrypted_totals)
    return {
        "format": FILE_FORMAT,
        "kind": KIND_TOTALS,
        "context": context(round_, key),
        "context_digest": context_digest(round_, key),
        "ceremony": key.ceremony,
        "parameters": json.loads(key.parameters or "null"),
        "committee": committee_of(round_, key).to_dict(),
        "groups": [
            {
                "number": number,
                "ballots": sealed_count(session, round_.id, number),
                "totals": encrypted[str(number)],
            }
            for number in pending
        ],
    }


def by_group(text: str | None) -> dict[str, Any]:
    """Read a value kept per voter group (JSON object keyed by the group's number)."""
    if text is None:
        return {}
    value: dict[str, Any] = json.loads(text)
    return value


def pending_groups(key: CountingKey) -> list[int]:
    """Return the groups whose voting ended with sealed ballots and whose totals are not found."""
    decrypted = by_group(key.totals)
    return sorted(int(n) for n in by_group(key.encrypted_totals) if n not in decrypted)


def _loaded(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


def read_file(data: bytes) -> dict[str, Any]:
    """Read a committee file: JSON of our format with a known kind; refuse anything else."""
    if len(data) > FILE_MAX:
        raise InvalidInput(
            N_("This file is larger than a counting committee's file can be ({limit} MB)."),
            limit=FILE_MAX // (1024 * 1024),
        )
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(
            N_("This is not a file of the counting committee (not JSON: {reason})."),
            reason=str(exc)[:100],
        ) from exc
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise InvalidInput(
            N_("This is not a file of the counting committee (no format {format!r})."),
            format=FILE_FORMAT,
        )
    return document


def receive(session: Session, round_: Round, data: bytes) -> Received:
    """Store a member's file (public part, shares, confirmation or partial decryption).

    The file is checked against the round's context and its proofs before anything is
    stored; a file received before (the very same) is accepted again without change.
    """
    document = read_file(data)
    key = require_key(session, round_)
    kind = document.get("kind")
    if kind not in MEMBER_KINDS:
        raise InvalidInput(
            N_("This file of kind {kind!r} is not one a committee member sends."), kind=kind
        )
    if document.get("ceremony") != key.ceremony:
        raise InvalidInput(
            N_(
                "This file was made for another round or another committee (round {round}); "
                "it does not belong to round {id} as its committee is now."
            ),
            round=(document.get("context") or {}).get("round", "?")
            if isinstance(document.get("context"), dict)
            else "?",
            id=round_.id,
        )
    number = document.get("member")
    holder = next((h for h in key.holders if h.number == number), None)
    if holder is None:
        raise InvalidInput(
            N_("This file names no member of the committee ({number!r})."), number=number
        )
    payload = document.get("payload")
    sha256 = hashlib.sha256(data).hexdigest()
    stored = canonical(payload)
    received = Received(kind, holder.number, holder.name, key.state, sha256)
    if kind == KIND_PUBLIC_PART:
        return _public_part(session, round_, key, holder, stored, payload, received)
    if kind == KIND_SHARES:
        return _shares(round_, key, holder, stored, payload, received)
    if kind == KIND_CONFIRMATION:
        return _confirmation(session, round_, key, holder, stored, payload, received)
    return _partial(session, round_, key, holder, stored, payload, received)


# Where a holder keeps each ceremony file it sent.
CEREMONY_FIELDS = {
    KIND_PUBLIC_PART: "public_part",
    KIND_SHARES: "shares",
    KIND_CONFIRMATION: "confirmation",
}


def _is_new(round_: Round, holder: KeyHolder, kind: str, stored: str) -> bool:
    """Whether a member's ceremony file is new to the round (and may be taken, if it checks).

    The very same file again is not new: it is accepted without change, in any state. A
    different file where the member sent one is refused (a member sends one of each); a new
    file is taken before the round opens only.
    """
    current: str | None = getattr(holder, CEREMONY_FIELDS[kind])
    if current is not None and current == stored:
        return False
    _require_draft(round_)
    if current is not None:
        raise _refuse_second(holder, kind)
    return True


def _refuse_second(holder: KeyHolder, kind: str) -> InvalidInput:
    return InvalidInput(
        N_(
            "{name} (member {number}) already sent a different {what}; a member sends one. "
            "If the key was lost, remove the committee and make it again."
        ),
        name=holder.name,
        number=holder.number,
        what=message(COMMITTEE_FILE_WORDS[kind]),
    )


def _require_draft(round_: Round) -> None:
    if round_.status != RoundStatus.DRAFT.value:
        raise WrongState(
            N_("Round {id} is {status}: the key ceremony happens before the round opens."),
            id=round_.id,
            status=round_.status,
        )


def _public_part(
    session: Session,
    round_: Round,
    key: CountingKey,
    holder: KeyHolder,
    stored: str,
    payload: Any,
    received: Received,
) -> Received:
    if not _is_new(round_, holder, KIND_PUBLIC_PART, stored):
        return received
    if key.state != CommitteeState.SETUP.value:
        raise _refuse_second(holder, KIND_PUBLIC_PART)
    sealing.check_public_part(
        ceremony(round_, key), key.threshold, key.size, holder.number, payload
    )
    holder.public_part = stored
    if all(h.public_part is not None for h in key.holders):
        if key.size == 1:
            return _complete(session, round_, key, received)
        key.state = CommitteeState.SHARES.value
    session.flush()
    return Received(**{**received.__dict__, "state": key.state})


def _shares(
    round_: Round,
    key: CountingKey,
    holder: KeyHolder,
    stored: str,
    payload: Any,
    received: Received,
) -> Received:
    if not _is_new(round_, holder, KIND_SHARES, stored):
        return received
    if key.state != CommitteeState.SHARES.value:
        raise WrongState(
            N_("Shares are sent once every member's public part is in ({have} of {size})."),
            have=sum(1 for h in key.holders if h.public_part is not None),
            size=key.size,
        )
    sealing.check_shares(holder.number, payload, [h.number for h in key.holders])
    holder.shares = stored
    return received


def _confirmation(
    session: Session,
    round_: Round,
    key: CountingKey,
    holder: KeyHolder,
    stored: str,
    payload: Any,
    received: Received,
) -> Received:
    if not _is_new(round_, holder, KIND_CONFIRMATION, stored):
        return received
    if key.state != CommitteeState.SHARES.value or any(h.shares is None for h in key.holders):
        raise WrongState(
            N_(
                "A member confirms the shares once every member's shares are in ({have} of {size})."
            ),
            have=sum(1 for h in key.holders if h.shares is not None),
            size=key.size,
        )
    sealing.check_confirmation(committee_of(round_, key), holder.number, payload)
    holder.confirmation = stored
    if all(h.confirmation is not None for h in key.holders):
        return _complete(session, round_, key, received)
    session.flush()
    return received


def _complete(session: Session, round_: Round, key: CountingKey, received: Received) -> Received:
    key.public_key = committee_of(round_, key).public_key.hex()
    key.state = CommitteeState.COMPLETE.value
    session.flush()
    return Received(
        **{
            **received.__dict__,
            "state": key.state,
            "key_made": fingerprint(key.public_key),
        }
    )


def fingerprint(public_key: str | None) -> str:
    """Return a short fingerprint of the joint key, to read aloud and compare: 4 groups of 4."""
    if public_key is None:
        return "—"
    digest = hashlib.sha256(public_key.encode()).hexdigest()[:16].upper()
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def committee_lines(session: Session, round_: Round) -> list[Message]:
    """Describe a round's committee and where its ceremony or decryption stands, line by line."""
    key = get_key(session, round_.id)
    if key is None:
        return [
            message(
                N_(
                    "Round {id} has no counting committee key: it can be counted on paper only "
                    "(online codes need a key)."
                ),
                id=round_.id,
            )
        ]
    lines = [
        message(
            N_(
                "Round {id}: a counting committee of {size}; {threshold} of them are needed to "
                "decrypt the totals. Key: {state}; fingerprint {fingerprint}."
            ),
            id=round_.id,
            size=key.size,
            threshold=key.threshold,
            state=message(STATE_WORDS[key.state]),
            fingerprint=fingerprint(key.public_key),
        )
    ]
    if key.single_member:
        lines.append(message(SINGLE_MEMBER_WARNING))
    lines.append(
        message(
            N_(
                "If fewer than {threshold} members can decrypt (absent, key file or passphrase "
                "lost), the online ballots of this round can never be counted."
            ),
            threshold=key.threshold,
        )
    )
    for holder in key.holders:
        lines.append(
            message(
                N_(
                    "Member {number}: {name}{head} — public part {public}, shares {shares}, "
                    "check {check}, partial decryption {partial}."
                ),
                number=holder.number,
                name=holder.name,
                head=message(N_(" (head)")) if holder.role == "head" else "",
                public=_tick(holder.public_part),
                shares=_tick(holder.shares) if key.size > 1 else "·",
                check=_tick(holder.confirmation) if key.size > 1 else "·",
                partial=_tick(holder.partial),
            )
        )
    pending = pending_groups(key)
    if pending:
        have = sum(1 for h in key.holders if all(str(n) in by_group(h.partial) for n in pending))
        lines.append(
            message(
                N_("Awaiting decryption: {have} of the {threshold} partial decryptions needed."),
                have=have,
                threshold=key.threshold,
            )
        )
    return lines


def _tick(value: str | None) -> str:
    return "✓" if value is not None else "—"


def check_ready_to_open(session: Session, round_: Round) -> None:
    """Refuse to open a round with online codes whose committee key is not complete.

    A round counted on paper only needs no key; codes issued mean online ballots, which are
    encrypted to the committee's key and counted only when k members decrypt the totals.
    """
    key = get_key(session, round_.id)
    if key is not None and key.state != CommitteeState.COMPLETE.value:
        raise WrongState(
            N_(
                "Round {id} cannot open: its counting committee's key is not made yet "
                "({state}). Each member runs `votes trustee` and the files are received."
            ),
            id=round_.id,
            state=key.state,
        )
    if key is None and codes_issued(session, round_.id):
        raise WrongState(
            N_(
                "Round {id} has online codes but no counting committee key: online ballots "
                "are encrypted to that key. Create the committee and run the key ceremony "
                "before opening."
            ),
            id=round_.id,
        )


def require_key_for_codes(session: Session, round_: Round) -> None:
    """Refuse codes for an open round without a complete key: its ballots could not be sealed."""
    if round_.status != RoundStatus.OPEN.value:
        return
    key = get_key(session, round_.id)
    if key is None or key.state != CommitteeState.COMPLETE.value:
        raise WrongState(
            N_(
                "Round {id} is open without a counting committee key: it is counted on paper "
                "only, and online codes cannot be issued for it."
            ),
            id=round_.id,
        )


def seal_totals(session: Session, round_: Round, group: int) -> CountingKey | None:
    """At the end of a group's voting: multiply its sealed ballots per item and level.

    A group without sealed ballots has nothing to decrypt (None); the others keep their
    encrypted totals, by group, until k members have decrypted them.
    """
    key = get_key(session, round_.id)
    if key is None or not sealed_count(session, round_.id, group):
        return None
    if key.public_key is None:
        raise WrongState(N_("Round {id}: its committee key is not made."), id=round_.id)
    contents = [content for _tracker, content in sealed_box(session, round_.id, group)]
    totals = sealing.encrypted_totals(key.public_key, round_parameters(key), contents)
    encrypted = by_group(key.encrypted_totals)
    encrypted[str(group)] = totals
    key.encrypted_totals = canonical(encrypted)
    session.flush()
    return key


def partial_payload(payload: Any) -> dict[str, Any]:
    """Read a member's partial decryption file's payload: one partial decryption per group."""
    groups = payload.get("groups") if isinstance(payload, dict) else None
    if not isinstance(groups, dict) or not groups:
        raise InvalidInput(N_("This partial decryption names no voter group."))
    return groups


def _partial(
    session: Session,
    round_: Round,
    key: CountingKey,
    holder: KeyHolder,
    stored: str,
    payload: Any,
    received: Received,
) -> Received:
    groups = partial_payload(payload)
    mine = by_group(holder.partial)
    if all(canonical(mine.get(n)) == canonical(p) for n, p in groups.items()):
        return received  # the very same file again
    pending = pending_groups(key)
    encrypted = by_group(key.encrypted_totals)
    for number, partial in groups.items():
        if not number.isdigit() or int(number) not in pending:
            raise WrongState(
                N_(
                    "Round {id} is {status}: partial decryptions are received for a voter "
                    "group whose voting has ended, until its totals are found."
                ),
                id=round_.id,
                status=round_.status,
            )
        if number in mine and canonical(mine[number]) != canonical(partial):
            raise _refuse_second(holder, KIND_PARTIAL)
        sealing.check_partial(
            committee_of(round_, key),
            round_parameters(key),
            encrypted[number],
            holder.number,
            partial,
        )
        mine[number] = partial
    holder.partial = canonical(mine)
    session.flush()
    return received


def ready_to_combine(key: CountingKey, group: int) -> bool:
    """Tell whether k checked partial decryptions of a group's totals are in."""
    have = sum(1 for h in key.holders if str(group) in by_group(h.partial))
    return have >= key.threshold


def combine(session: Session, round_: Round, group: int) -> list[dict[str, int]]:
    """Combine k partial decryptions of a group into its online totals ({level: count} per item)."""
    key = require_key(session, round_)
    encrypted = by_group(key.encrypted_totals)
    if str(group) not in encrypted or not ready_to_combine(key, group):
        raise WrongState(N_("Round {id}: fewer than k partial decryptions are in."), id=round_.id)
    partials = [
        by_group(h.partial)[str(group)] for h in key.holders if str(group) in by_group(h.partial)
    ]
    found = sealing.combine(
        committee_of(round_, key), round_parameters(key), encrypted[str(group)], partials
    )
    names = level_names(round_.scale)
    totals = [dict(zip(names, counts, strict=True)) for counts in found]
    decrypted = by_group(key.totals)
    decrypted[str(group)] = totals
    key.totals = canonical(decrypted)
    session.flush()
    return totals


def online_totals(
    session: Session, round_id: int, group: int | None = None
) -> list[dict[str, int]] | None:
    """Return the decrypted online totals of a group (all groups added, without one), or None.

    None when the round has no sealed ballot decrypted (or a group's are not decrypted yet).
    """
    key = get_key(session, round_id)
    if key is None or key.totals is None:
        return None
    decrypted = by_group(key.totals)
    if group is not None:
        found: list[dict[str, int]] | None = decrypted.get(str(group))
        return found
    summed: list[dict[str, int]] | None = None
    for totals in decrypted.values():
        if summed is None:
            summed = [dict(item) for item in totals]
            continue
        for item, more in zip(summed, totals, strict=True):
            for level, count in more.items():
                item[level] = item.get(level, 0) + count
    return summed
