"""Export bundles: everything needed to recount a round without this system or its database."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, profiles, sealed
from .ballotbox import receipts
from .committee import online_totals
from .credentials import normalise_receipt
from .errors import N_, WrongState
from .models import AuditEvent, Receipt, Round
from .recount import SEALED_LIBRARY, SEALED_RECORD, event_hash_v2
from .results import round_results
from .seal import (
    ballots_file,
    group_ballots_file,
    public_records,
    receipts_file,
    round_definition,
)
from .vocabulary import COUNTED, level_names

RECOUNT_SCRIPT = Path(__file__).with_name("recount.py")
README = """Bundle of round {id}: {title} ({body}, {year})

  round.json     the round: body, year, profile, attendance, ballots issued and collected,
                 codes, items and exemptions
  profile.toml   the rules it was counted under ({profile} version {version})
  ballots.csv    every ballot, in the paper-ballot CSV format, lines sorted (canonical order);
                 its SHA-256 is the seal's part "ballots"
  receipts.txt   the receipts handed to online voters, sorted; its SHA-256 is the part
                 "receipts"
  events.jsonl   the audit events of the round with their hashes
  chain.jsonl    the log from the round's first event to the head at export: the other
                 events by the digest of their content only
  anchors.json   the seal of the round (and of each part) and the head of the log at export
  results.json   the results as published by `votes results` (with voter groups: each
                 group's result and the combined one; a small group only inside the combined)
  group_ballots.csv  with voter groups, when none is hidden: every ballot with its group
  findings.json  the findings of the round with their evidence
  verify.py      recount everything with Python 3.11+ alone:
                     python3 verify.py --expect-seal SEAL --expect-head N:HEAD
                 with the seal and the head printed on the signed minutes
  SHA256SUMS     the SHA-256 of every file above

Seal of the round:   {seal}
Head of the log:     {head}
"""


def receipt_counted(session: Session, round_: Round, receipt: str) -> bool:
    """Tell whether a receipt is among the counted ballots of a closed round."""
    if round_.status not in COUNTED:
        raise WrongState(
            N_("Round {id} is {status}: receipts can be checked once the round is closed."),
            id=round_.id,
            status=round_.status,
        )
    sealed = normalise_receipt(receipt)
    if sealed is not None:
        return sealed in receipts(session, round_.id)
    wanted = "".join(ch for ch in receipt.upper() if ch.isalnum())
    wanted = "-".join(wanted[i : i + 4] for i in range(0, len(wanted), 4))
    return (
        session.scalar(
            select(Receipt.receipt).where(Receipt.round_id == round_.id, Receipt.receipt == wanted)
        )
        is not None
    )


def _hidden_totals(session: Session, round_: Round, hidden: frozenset[int]) -> list[list[int]]:
    """Return the online totals of the hidden voter groups added up, per item and level."""
    names = level_names(round_.scale)
    summed: list[list[int]] = [[0] * len(names) for _ in round_.items]
    for number in sorted(hidden):
        decrypted = online_totals(session, round_.id, number) or []
        for row, totals in zip(summed, decrypted, strict=False):
            for index, name in enumerate(names):
                row[index] += totals.get(name, 0)
    return summed


def export_round(session: Session, round_: Round, *, small_minimum: int | None = None) -> bytes:
    """Build the zip bundle of a closed or published round.

    A round of several voter groups adds group_ballots.csv (every ballot with its group) only
    when no group is hidden: a group under the small-round minimum is never given alone, so
    its ballots are then only inside ballots.csv.
    """
    # refuses a round that is not counted
    result = round_results(session, round_, small_minimum=small_minimum)
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    own = audit.round_events(session, round_.id)
    events = [audit.event_dict(e) for e in own]
    findings = [f for item in result["items"] for f in item["findings"]]
    chain = _chain(session, own[0].id if own else None, {e.id for e in own})
    anchors = {
        "seal": result["seal"],
        "seal_parts": result.get("seal_parts"),
        "head": ({"id": chain[-1]["id"], "hash": chain[-1]["hash"]} if chain else None),
    }
    head_text = f"{chain[-1]['id']}:{chain[-1]['hash']}" if chain else "—"
    files: dict[str, bytes] = {
        "README.txt": README.format(
            id=round_.id,
            title=round_.title,
            body=round_.body.name,
            year=round_.year,
            profile=profile.id,
            version=profile.version,
            seal=result["seal"] or "—",
            head=head_text,
        ).encode("utf-8"),
        "round.json": _json(round_definition(session, round_)),
        "profile.toml": profile.source.encode("utf-8"),
        "ballots.csv": ballots_file(session, round_),
        "events.jsonl": _lines(events),
        "chain.jsonl": _lines(chain),
        "anchors.json": _json(anchors),
        "receipts.txt": receipts_file(session, round_),
        "results.json": _json(result),
        "findings.json": _json(findings),
        "verify.py": RECOUNT_SCRIPT.read_bytes(),
    }
    hidden = frozenset(g["number"] for g in result.get("groups") or [] if g.get("hidden_small"))
    record = public_records(session, round_, hidden)
    if record is not None:
        if hidden and not result.get("combined", {}).get("withheld"):
            # What the combined result adds for the hidden groups, together (it is the
            # combined result less the groups shown, so it shows nothing new): their online
            # totals, which verify.py adds to the recount of the combined result.
            record["hidden_totals"] = _hidden_totals(session, round_, hidden)
        # The sealed ballots' public record, and the library that checks it (the standard
        # library and libsodium only), imported by verify.py from the zip.
        files[SEALED_RECORD] = _json(record)
        files[SEALED_LIBRARY] = sealed_library()
    if len(round_.groups) > 1 and not any(g["hidden_small"] for g in result["groups"]):
        files["group_ballots.csv"] = group_ballots_file(session, round_)
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(files.items())
    ).encode("ascii")
    buffer = io.BytesIO()
    folder = f"round-{round_.id}"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def sealed_library() -> bytes:
    """Return the sealed-ballot library (votes/sealed/*.py and votes/lazy.py) as a zip that Python
    imports from."""
    folder = Path(sealed.__file__).parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        stamp = (1980, 1, 1, 0, 0, 0)
        archive.writestr(zipfile.ZipInfo("votes/__init__.py", stamp), b"")
        # votes/lazy.py (standard library only): the library loads multiprocessing with it.
        lazy = folder.parent / "lazy.py"
        archive.writestr(zipfile.ZipInfo("votes/lazy.py", stamp), lazy.read_bytes())
        for path in sorted(folder.glob("*.py")):
            archive.writestr(zipfile.ZipInfo(f"votes/sealed/{path.name}", stamp), path.read_bytes())
    return buffer.getvalue()


def _chain(session: Session, first: int | None, own: set[int]) -> list[dict[str, Any]]:
    """Return the log from the round's first event to the head now, as a bundle proves it.

    The round's own events are in events.jsonl in full; every other event is given by the
    digest of its content (its hash is recomputed from its id, the previous hash and that
    digest), so no other round's roster or login travels in the bundle. An event written
    before version 2 of the hash can only be proved by its whole content, which it carries.
    """
    if first is None:
        return []
    links = []
    for event in session.scalars(
        select(AuditEvent).where(AuditEvent.id >= first).order_by(AuditEvent.id)
    ):
        link: dict[str, Any] = {"id": event.id, "prev_hash": event.prev_hash, "hash": event.hash}
        content = audit.content_of(event)
        if event.id in own or event_hash_v2(event.id, event.prev_hash, content) == event.hash:
            link["content"] = content
        else:
            link["event"] = audit.event_dict(event)
        links.append(link)
    return links


def _lines(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows).encode(
        "utf-8"
    )


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
