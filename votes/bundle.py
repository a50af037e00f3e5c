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

from . import audit, profiles
from .ballotbox import ballot_box, receipts
from .errors import N_, WrongState
from .models import Receipt, Round
from .recount import canonical_csv
from .results import round_results
from .roster import roster_details
from .vocabulary import COUNTED

RECOUNT_SCRIPT = Path(__file__).with_name("recount.py")
README = """Bundle of round {id}: {title} ({body}, {year})

  round.json     the round: body, year, profile, attendance, ballots issued and collected, items
  profile.toml   the rules it was counted under ({profile} version {version})
  ballots.csv    every ballot, in the paper-ballot CSV format, lines sorted (canonical order);
                 its SHA-256 is the seal recorded when the round closed
  events.jsonl   the audit events of the round with their hashes
  receipts.txt   the receipts handed to online voters, sorted
  results.json   the results as published by `votes results`
  findings.json  the findings of the round with their evidence
  verify.py      recount everything with Python 3.11+ alone:  python3 verify.py
  SHA256SUMS     the SHA-256 of every file above
"""


def receipt_counted(session: Session, round_: Round, receipt: str) -> bool:
    """Tell whether a receipt is among the counted ballots of a closed round."""
    if round_.status not in COUNTED:
        raise WrongState(
            N_("Round {id} is {status}: receipts can be checked once the round is closed."),
            id=round_.id,
            status=round_.status,
        )
    wanted = "".join(ch for ch in receipt.upper() if ch.isalnum())
    wanted = "-".join(wanted[i : i + 4] for i in range(0, len(wanted), 4))
    return (
        session.scalar(
            select(Receipt.receipt).where(Receipt.round_id == round_.id, Receipt.receipt == wanted)
        )
        is not None
    )


def round_definition(session: Session, round_: Round) -> dict[str, Any]:
    """Describe a round as recorded: what a recount needs besides the ballots."""
    return {
        "id": round_.id,
        "body": round_.body.code,
        "body_name": round_.body.name,
        "year": round_.year,
        "title": round_.title,
        "scale": round_.scale,
        "status": round_.status,
        "profile": {"id": round_.profile_id, "version": round_.profile_version},
        "members": round_.members,
        "summoned": round_.summoned,
        "present": round_.present,
        "paper_issued": round_.paper_issued,
        "issued": round_.issued,
        "collected": round_.collected,
        **roster_details(round_),
    }


def export_round(session: Session, round_: Round) -> bytes:
    """Build the zip bundle of a closed or published round."""
    result = round_results(session, round_)  # refuses a round that is not counted
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    ballots = ballot_box(session, round_.id)
    events = [audit.event_dict(e) for e in audit.round_events(session, round_.id)]
    findings = [f for item in result["items"] for f in item["findings"]]
    files: dict[str, bytes] = {
        "README.txt": README.format(
            id=round_.id,
            title=round_.title,
            body=round_.body.name,
            year=round_.year,
            profile=profile.id,
            version=profile.version,
        ).encode("utf-8"),
        "round.json": _json(round_definition(session, round_)),
        "profile.toml": profile.source.encode("utf-8"),
        "ballots.csv": canonical_csv(len(round_.items), ballots),
        "events.jsonl": "".join(
            json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events
        ).encode("utf-8"),
        "receipts.txt": "".join(r + "\n" for r in receipts(session, round_.id)).encode("ascii"),
        "results.json": _json(result),
        "findings.json": _json(findings),
        "verify.py": RECOUNT_SCRIPT.read_bytes(),
    }
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


def _json(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
