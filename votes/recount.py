#!/usr/bin/env python3
"""Recount a round from an export bundle, with nothing but Python's standard library.

This file is copied verbatim into every bundle made by `votes export` (as verify.py), and the
application uses the same functions for the seal and the event hashes, so there is one
definition of each. Usage inside an unpacked bundle, or on the zip itself:

    python3 verify.py bundle.zip        # or: python3 verify.py   (in the unpacked folder)

It checks: every file against SHA256SUMS; the seal (SHA-256 of ballots.csv) against the close
event; every event's hash; the ballot accounting; a recount of every item from ballots.csv under
the rules of profile.toml against results.json; the bands of every person. Exit status 0 only if
everything holds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import sys
import tomllib
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# The marks of a packed ballot (DOMAIN.md §3): one letter a level, and on paper "-" for a row
# with no box marked, "X" for one with several. The application reads these definitions too
# (votes/vocabulary.py), so the bundle and the application count by the same letters.
NO_MARK = "-"
MANY_MARKS = "X"
INVALID_MARKS = (NO_MARK, MANY_MARKS)
SCALE_LETTERS = {
    "poll": (("high", "H"), ("confidence", "C"), ("low", "L")),
    "confidence_vote": (("trust", "T"), ("no_trust", "K")),
}
# The four bands of DOMAIN.md §5, in integers.
BANDS: dict[str, Callable[[int, int], bool]] = {
    "over_half": lambda low, d: low * 2 > d,
    "over_half_under_two_thirds": lambda low, d: low * 2 > d and low * 3 < 2 * d,
    "two_thirds_or_more": lambda low, d: low * 3 >= 2 * d,
    "over_two_thirds": lambda low, d: low * 3 > 2 * d,
}


def canonical(data: Any) -> str:
    """Serialise JSON canonically: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    event_id: int,
    at: str,
    actor: str,
    kind: str,
    round_id: int | None,
    details: Any,
    prev_hash: str,
) -> str:
    """Return the SHA-256 of one audit event over its canonical serialisation."""
    if isinstance(details, str):
        details = json.loads(details)
    body = canonical(
        {
            "id": event_id,
            "at": at,
            "actor": actor,
            "kind": kind,
            "round": round_id,
            "details": details,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def ballot_line(status: str, marks: str) -> str:
    """Write one ballot as a line of the paper-ballot CSV format ("valid,H,C,,X")."""
    return ",".join([status, *("" if mark == NO_MARK else mark for mark in marks)])


def canonical_csv(item_count: int, ballots: Iterable[tuple[str, str]]) -> bytes:
    """Return every ballot as the paper CSV, lines sorted: the same box gives the same bytes."""
    header = ",".join(["status", *(str(n) for n in range(1, item_count + 1))])
    lines = sorted(ballot_line(status, marks) for status, marks in ballots)
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def seal(item_count: int, ballots: Iterable[tuple[str, str]]) -> str:
    """Return the hex SHA-256 of the canonical CSV of a ballot box (what `sha256sum` prints)."""
    return hashlib.sha256(canonical_csv(item_count, ballots)).hexdigest()


def percent(count: int, denominator: int | None) -> str | None:
    """Return count/D*100 half-up to 2 places as text, in integers only."""
    if not denominator:
        return None
    hundredths, remainder = divmod(count * 10_000, denominator)
    if remainder * 2 >= denominator:
        hundredths += 1
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def read_bundle(path: Path) -> dict[str, bytes]:
    """Read every file of a bundle (a zip file or an unpacked folder)."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in path.iterdir() if p.is_file()}
    with zipfile.ZipFile(path) as archive:
        return {Path(n).name: archive.read(n) for n in archive.namelist() if not n.endswith("/")}


def N_(message: str) -> str:
    """Mark a message for translation (the application translates; this script prints English)."""
    return message


# One line of a verification: an English message with its {fields}.
Line = tuple[str, dict[str, Any]]


def text(line: Line) -> str:
    """Write a verification line in English."""
    msgid, params = line
    return msgid.format(**params)


def check_bundle(files: dict[str, bytes]) -> tuple[list[Line], list[Line]]:
    """Recount a bundle; return (problems, what was checked)."""
    problems: list[Line] = []
    checked: list[Line] = []
    sums = files.get("SHA256SUMS", b"").decode("utf-8").splitlines()
    for line in sums:
        digest, _, name = line.partition("  ")
        if name not in files:
            problems.append((N_("{name} is listed in SHA256SUMS but missing."), {"name": name}))
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            problems.append(
                (N_("{name} does not match its SHA-256 in SHA256SUMS."), {"name": name})
            )
    checked.append((N_("{count} files against SHA256SUMS."), {"count": len(sums)}))

    definition = json.loads(files["round.json"])
    results = json.loads(files["results.json"])
    profile = tomllib.loads(files["profile.toml"].decode("utf-8"))
    events = [
        json.loads(line)
        for line in files["events.jsonl"].decode("utf-8").splitlines()
        if line.strip()
    ]

    for event in events:
        again = event_hash(
            event["id"],
            event["at"],
            event["actor"],
            event["kind"],
            event["round"],
            event["details"],
            event["prev_hash"],
        )
        if again != event["hash"]:
            problems.append(
                (
                    N_("Audit log: event {id} ({kind}) was changed after it was written."),
                    {"id": event["id"], "kind": event["kind"]},
                )
            )
    for before, after in itertools.pairwise(events):
        if after["id"] == before["id"] + 1 and after["prev_hash"] != before["hash"]:
            problems.append(
                (
                    N_("Audit log: event {id} does not follow event {previous}."),
                    {"id": after["id"], "previous": before["id"]},
                )
            )
    checked.append((N_("{count} events hashed."), {"count": len(events)}))
    closes = [e for e in events if e["kind"] == "round_closed"]
    if len(closes) != 1:
        problems.append(
            (N_("The bundle has {count} close events instead of one."), {"count": len(closes)})
        )
        return problems, checked
    closing = closes[0]["details"]

    items = definition["items"]
    count = len(items)
    ballots_csv = files["ballots.csv"]
    if hashlib.sha256(ballots_csv).hexdigest() != closing["seal"]:
        problems.append(
            (N_("ballots.csv does not match the seal recorded when the round closed."), {})
        )
    rows = list(csv.reader(io.StringIO(ballots_csv.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    if header != ["status", *map(str, range(1, count + 1))]:
        problems.append((N_("ballots.csv has the wrong header."), {}))
        return problems, checked
    ballots = [(row[0], "".join(cell or NO_MARK for cell in row[1:])) for row in body]
    if canonical_csv(count, ballots) != ballots_csv:
        problems.append((N_("ballots.csv is not in canonical form."), {}))
    checked.append((N_("Seal {seal}."), {"seal": closing["seal"]}))

    scale = definition["scale"]
    scope = profile["invalid_marks"]
    counted = [
        m
        for status, m in ballots
        if status == "valid" and not (scope == "ballot" and any(x in m for x in INVALID_MARKS))
    ]
    collected = len(ballots)
    valid = len(counted)
    accounting = {
        "issued": definition["issued"],
        "collected": collected,
        "valid": valid,
        "invalid": collected - valid,
    }
    if results["ballots"] != accounting:
        problems.append(
            (
                N_("Ballots: results.json says {reported}, a recount gives {recount}."),
                {"reported": results["ballots"], "recount": accounting},
            )
        )
    for key in ("collected", "valid", "invalid", "issued"):
        if closing.get(key) != accounting[key]:
            problems.append(
                (
                    N_("{key}: the close event says {recorded}, a recount gives {recount}."),
                    {"key": key, "recorded": closing.get(key), "recount": accounting[key]},
                )
            )
    if definition["issued"] is not None and collected > definition["issued"]:
        problems.append(
            (
                N_("{collected} ballots collected but only {issued} issued."),
                {"collected": collected, "issued": definition["issued"]},
            )
        )
    basis = (
        profile.get("confidence_vote", {}).get("denominator", profile["denominator"])
        if scale == "confidence_vote"
        else profile["denominator"]
    )
    figures = {
        "members": definition["members"],
        "summoned": definition["summoned"],
        "present": definition["present"],
        "collected": collected,
        "valid": valid,
    }
    denominator = figures[basis]
    if results["denominator"] != {"basis": basis, "value": denominator}:
        problems.append(
            (
                N_(
                    "Denominator: results.json says {reported}, the profile gives "
                    "{basis_id} = {value}."
                ),
                {"reported": results["denominator"], "basis_id": basis, "value": denominator},
            )
        )
    band_ids = [band["id"] for band in profile["bands"]]
    for index, item in enumerate(items):
        column = [marks[index] for marks in counted]
        counts = {name: column.count(letter) for name, letter in SCALE_LETTERS[scale]}
        counts["invalid"] = sum(column.count(m) for m in INVALID_MARKS)
        reported = results["items"][index]
        if reported["counts"] != counts:
            problems.append(
                (
                    N_(
                        "Item {order} ({name}): results.json says {reported}, a recount "
                        "gives {recount}."
                    ),
                    {
                        "order": index + 1,
                        "name": item["name"],
                        "reported": reported["counts"],
                        "recount": counts,
                    },
                )
            )
        shares = {name: percent(counts[name], denominator) for name, _ in SCALE_LETTERS[scale]}
        if reported["percent"] != shares:
            problems.append(
                (
                    N_(
                        "Item {order} ({name}): percentages {reported} differ from a "
                        "recount {recount}."
                    ),
                    {
                        "order": index + 1,
                        "name": item["name"],
                        "reported": reported["percent"],
                        "recount": shares,
                    },
                )
            )
        if item["kind"] != "person" or not denominator:
            continue
        if results.get("void"):  # void for want of quorum: counted, but no finding
            expected = []
        elif scale == "confidence_vote":
            expected = ["over_half"] if counts["no_trust"] * 2 > denominator else []
        else:
            expected = [b for b in band_ids if BANDS[b](counts["low"], denominator)]
        found = [f["band"] for f in reported["findings"] if f["rule"] == "band"]
        if sorted(found) != sorted(expected):
            problems.append(
                (
                    N_(
                        "Item {order} ({name}): bands {reported} in results.json, the "
                        "profile's rules give {recount}."
                    ),
                    {
                        "order": index + 1,
                        "name": item["name"],
                        "reported": found,
                        "recount": expected,
                    },
                )
            )
    checked.append(
        (
            N_("{collected} ballots recounted for {count} items on D = {value} ({basis_id})."),
            {"collected": collected, "count": count, "value": denominator, "basis_id": basis},
        )
    )
    return problems, checked


def main(argv: list[str]) -> int:
    """Check the bundle named on the command line (or the folder this script is in)."""
    target = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    problems, checked = check_bundle(read_bundle(target))
    for line in checked:
        print(f"checked: {text(line)}")
    for line in problems:
        print(f"PROBLEM: {text(line)}")
    print(
        "OK: the recount matches the sealed ballot box and the results."
        if not problems
        else f"FAILED: {len(problems)} problem(s)."
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
