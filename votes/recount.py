#!/usr/bin/env python3
"""Recount a round from an export bundle, with nothing but Python's standard library.

This file is copied verbatim into every bundle made by `votes export` (as verify.py), and the
application uses the same functions for the seal and the event hashes, so there is one
definition of each (docs/AUDIT.md). Usage inside an unpacked bundle, or on the zip itself:

    python3 verify.py bundle.zip        # or: python3 verify.py   (in the unpacked folder)
    python3 verify.py --expect-seal SEAL --expect-head N:HEAD   # the values on the minutes

It checks: every file against SHA256SUMS; every event's hash and link; the log from the
round's first event to the head at export (chain.jsonl); every part of the round's seal and
the seal, against the close event; the receipts (online ballots = receipts = codes used); a
recount of every item from ballots.csv under the rules of profile.toml against results.json
and the close event; the bands of every person. With --expect-seal and --expect-head, the
bundle against values read off paper, which is what catches a bundle rewritten whole. Exit
status 0 only if everything holds.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import importlib
import io
import itertools
import json
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping
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


def sha256_text(text_: str) -> str:
    """Return the hex SHA-256 of a text in UTF-8."""
    return hashlib.sha256(text_.encode("utf-8")).hexdigest()


def event_hash(
    event_id: int,
    at: str,
    actor: str,
    kind: str,
    round_id: int | None,
    details: Any,
    prev_hash: str,
) -> str:
    """Return the SHA-256 of one audit event written before version 2 (docs/AUDIT.md).

    Version 1 hashes the whole event with the previous hash; events written since hash a
    digest of their content instead (event_hash_v2), and both are checked.
    """
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
    return sha256_text(body)


def content_digest(at: str, actor: str, kind: str, round_id: int | None, details: Any) -> str:
    """Return the SHA-256 of what an event says: its time, actor, kind, round and details."""
    if isinstance(details, str):
        details = json.loads(details)
    return sha256_text(
        canonical({"at": at, "actor": actor, "kind": kind, "round": round_id, "details": details})
    )


def event_hash_v2(event_id: int, prev_hash: str, content: str) -> str:
    """Return the hash of an event of version 2: its id, the previous hash, its content digest.

    The content enters only through its digest, so a bundle can prove that its round's
    events lead to a later head of the log by listing the other events' digests alone,
    without their contents (other rounds' rosters, logins).
    """
    return sha256_text(canonical({"v": 2, "id": event_id, "prev": prev_hash, "content": content}))


def event_holds(event: Mapping[str, Any]) -> bool:
    """Tell whether an exported event's hash is that of its fields (version 2, or 1)."""
    fields = (event["at"], event["actor"], event["kind"], event["round"], event["details"])
    content = content_digest(*fields)
    if event_hash_v2(event["id"], event["prev_hash"], content) == event["hash"]:
        return True
    return bool(event_hash(event["id"], *fields, event["prev_hash"]) == event["hash"])


def ballot_line(status: str, marks: str) -> str:
    """Write one ballot as a line of the paper-ballot CSV format ("valid,H,C,,X")."""
    return ",".join([status, *("" if mark == NO_MARK else mark for mark in marks)])


def csv_header(item_count: int) -> str:
    """Return the header line of the paper-ballot CSV of a ballot of `item_count` items."""
    return ",".join(["status", *(str(n) for n in range(1, item_count + 1))])


def canonical_csv(item_count: int, ballots: Iterable[tuple[str, str]]) -> bytes:
    """Return every ballot as the paper CSV, lines sorted: the same box gives the same bytes."""
    header = csv_header(item_count)
    lines = sorted(ballot_line(status, marks) for status, marks in ballots)
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def seal(item_count: int, ballots: Iterable[tuple[str, str]]) -> str:
    """Return the hex SHA-256 of the canonical CSV of a ballot box (what `sha256sum` prints).

    This is the seal's part "ballots"; rounds closed before the whole-round seal had it as
    their only seal.
    """
    return hashlib.sha256(canonical_csv(item_count, ballots)).hexdigest()


# The seal over a whole round (docs/AUDIT.md, "The seal"): a digest of each part in its
# canonical form, and the SHA-256 of the list of those digests under a format line.
SEAL_FORMAT = "phieu-tin-nhiem round seal 1"
SEAL_PARTS = ("body", "round", "items", "exemptions", "counts", "receipts", "ballots")
ROUND_FIELDS = ("id", "year", "title", "scale", "profile", "place", "held_on", "followup_of")
ITEM_FIELDS = ("order", "kind", "person_key", "name", "position")
EXEMPT_FIELDS = ("person_key", "name", "position", "reason")
COUNT_FIELDS = (
    "members",
    "summoned",
    "present",
    "paper_issued",
    "issued",
    "collected",
    "codes_issued",
    "codes_used",
)
# A round of several voter groups adds two parts (docs/AUDIT.md): "groups", each group's
# figures and which result decides; "group_ballots", every ballot with its group, in the
# canonical CSV with a first column "group". A round of one group has neither: its seal is
# what it was before voter groups existed.
GROUP_FIELDS = (
    "number",
    "name",
    *COUNT_FIELDS,
    # The digest of the group's box of sealed ballots (null without sealed ballots).
    "box_digest",
)

# Each group's own meeting (its date and place; a round of one group meets at the round's,
# which "round" covers) is sealed too, one part a field, so that a change names the field:
# group number → the date (ISO) or the place. These parts were added after the first seals
# of widened rounds: a seal recorded without them was made before they existed, and is
# checked on the parts it has (`as_sealed`). Sealed from the seal format of 2026-11 on.
MEETING_PARTS = {"group_dates": "held_on", "group_places": "place"}
LATER_PARTS = frozenset(MEETING_PARTS)


def as_sealed(parts: Mapping[str, str], recorded: Mapping[str, str]) -> dict[str, str]:
    """Return the parts of a round now, in the format of a seal recorded earlier.

    A part added to the seal later (LATER_PARTS) that the recorded seal does not have is
    left out: that seal was made before the part existed. Every other part is kept, so a part
    missing from the recorded seal, or changed, still shows.
    """
    return {
        name: digest
        for name, digest in parts.items()
        if name in recorded or name not in LATER_PARTS
    }


def receipts_text(receipts: Iterable[str]) -> bytes:
    """Return the receipts of a round one a line, sorted: the bundle's receipts.txt."""
    return "".join(receipt + "\n" for receipt in sorted(receipts)).encode("ascii")


# A sealed ballot's receipt: "BN" and 16 decimal digits (docs/AUDIT.md, "Receipts").
RECEIPT_PREFIX = "BN"
RECEIPT_DIGITS = 16


def tracker_receipt(tracker: bytes) -> str:
    """Return the receipt of a sealed ballot: BN and the first 8 bytes of its tracker, mod 10^16."""
    number = int.from_bytes(tracker[:8], "big") % 10**RECEIPT_DIGITS
    digits = f"{number:0{RECEIPT_DIGITS}d}"
    return " ".join([RECEIPT_PREFIX, *(digits[i : i + 4] for i in range(0, RECEIPT_DIGITS, 4))])


SEALED_RECORD = "sealed_record.json"


def record_parts(record: Mapping[str, Any]) -> dict[str, bytes]:
    """Return the seal's sealed parts from a round's public record (sealed_record.json).

    A round of several voter groups has one record per group ({"groups": [...]}, each with
    its "number"): the box lists every sealed ballot with its group, and the tally part is
    each group's record without its ballots. A group hidden as too small has no partial
    decryptions nor totals in the bundle: the tally part is then not recomputed here.
    """
    if "groups" in record:
        entries = record["groups"]
        box = [
            (f"{entry['number']} {tracker}", base64.b64decode(ballot))
            for entry in entries
            for tracker, ballot in zip(
                entry["record"]["trackers"], entry["record"]["ballots"], strict=True
            )
        ]
        parts = {"sealed_box": sealed_box_text(box)}
        if not any(entry.get("hidden_small") for entry in entries):
            tallies = {
                str(entry["number"]): {
                    name: value for name, value in entry["record"].items() if name != "ballots"
                }
                for entry in entries
            }
            parts["sealed_tally"] = canonical({"groups": tallies}).encode("utf-8")
        return parts
    box = [
        (tracker, base64.b64decode(ballot))
        for tracker, ballot in zip(record["trackers"], record["ballots"], strict=True)
    ]
    tally = {name: value for name, value in record.items() if name != "ballots"}
    return {
        "sealed_box": sealed_box_text(box),
        "sealed_tally": canonical(tally).encode("utf-8"),
    }


SEALED_LIBRARY = "sealed-library.zip"


def sealed_verifier(library: bytes | None) -> Callable[[Mapping[str, Any]], list[str]]:
    """Return the sealed-ballot library's verify_record: the installed one, or the bundle's.

    A bundle ships the library (votes/sealed/: the standard library and libsodium only) as
    sealed-library.zip; it is imported from there when the application is not installed.
    """
    try:
        module = importlib.import_module("votes.sealed")
    except ImportError:
        if library is None:
            raise
        folder = Path(tempfile.mkdtemp(prefix="verify-sealed-"))
        (folder / SEALED_LIBRARY).write_bytes(library)
        sys.path.insert(0, str(folder / SEALED_LIBRARY))
        module = importlib.import_module("votes.sealed")
    verify: Callable[[Mapping[str, Any]], list[str]] = module.verify_record
    return verify


def sealed_box_text(box: Iterable[tuple[str, bytes]]) -> bytes:
    """Return the list of a round's sealed ballots: "TRACKER SHA256" a line, sorted.

    TRACKER is the ballot's tracker in hexadecimal (after its voter group's number, "2 …", in
    a round of several groups), SHA256 that of its encrypted content;
    its SHA-256 is the box's digest, shown while the round is open and sealed at close.
    """
    lines = sorted(f"{tracker} {hashlib.sha256(content).hexdigest()}\n" for tracker, content in box)
    return "".join(lines).encode("ascii")


def group_ballots_csv(item_count: int, ballots: Iterable[tuple[int, str, str]]) -> bytes:
    """Return every ballot with its voter group as a CSV, lines sorted (canonical)."""
    header = ",".join(["group", "status", *(str(n) for n in range(1, item_count + 1))])
    lines = sorted(f"{group},{ballot_line(status, marks)}" for group, status, marks in ballots)
    return ("\n".join([header, *lines]) + "\n").encode("utf-8")


def is_widened(definition: Mapping[str, Any]) -> bool:
    """Tell whether a round (as round.json holds it) has more than one voter group."""
    return len(definition.get("groups") or []) > 1


def part_bytes(
    definition: Mapping[str, Any],
    receipts: bytes,
    ballots: bytes,
    sealed: Mapping[str, bytes] | None = None,
    group_ballots: bytes | None = None,
) -> dict[str, bytes]:
    """Return each part of a round's seal in canonical form.

    `definition` is the round as the bundle's round.json holds it; `receipts` and `ballots`
    are the bytes of receipts.txt and ballots.csv; `group_ballots` those of group_ballots.csv
    (a round of several voter groups; a bundle that hides a small group leaves it out).
    """

    def json_part(value: Any) -> bytes:
        return canonical(value).encode("utf-8")

    exemptions = [{key: e[key] for key in EXEMPT_FIELDS} for e in definition["exempt"]]
    return {
        "body": json_part(
            {
                "code": definition["body"],
                "name": definition["body_name"],
                "kind": definition["body_kind"],
            }
        ),
        "round": json_part({key: definition[key] for key in ROUND_FIELDS}),
        "items": json_part(
            [{key: item[key] for key in ITEM_FIELDS} for item in definition["items"]]
        ),
        "exemptions": json_part(sorted(exemptions, key=canonical)),
        "counts": json_part({key: definition[key] for key in COUNT_FIELDS}),
        "receipts": receipts,
        "ballots": ballots,
        # A round with sealed ballots: the box (sealed_box_text) and the sealed tally
        # (the committee's public values, the encrypted totals, the partial decryptions and
        # the totals, as canonical JSON).
        **(sealed or {}),
        **(
            {
                "groups": json_part(
                    {
                        "deciding": definition["deciding"],
                        "groups": [
                            {key: group[key] for key in GROUP_FIELDS}
                            for group in definition["groups"]
                        ],
                    }
                )
            }
            if is_widened(definition)
            else {}
        ),
        **(
            {"group_ballots": group_ballots}
            if is_widened(definition) and group_ballots is not None
            else {}
        ),
        **(
            {
                part: json_part(
                    {str(group["number"]): group.get(field) for group in definition["groups"]}
                )
                for part, field in MEETING_PARTS.items()
            }
            if is_widened(definition)
            else {}
        ),
    }


def seal_parts(
    definition: Mapping[str, Any],
    receipts: bytes,
    ballots: bytes,
    sealed: Mapping[str, bytes] | None = None,
    group_ballots: bytes | None = None,
) -> dict[str, str]:
    """Return the SHA-256 of each part of a round's seal."""
    return {
        name: hashlib.sha256(data).hexdigest()
        for name, data in part_bytes(definition, receipts, ballots, sealed, group_ballots).items()
    }


def seal_parts_of_digests(
    definition: Mapping[str, Any],
    receipts_sha256: str,
    ballots_sha256: str,
    sealed: Mapping[str, bytes] | None = None,
    group_ballots: bytes | None = None,
) -> dict[str, str]:
    """Return the SHA-256 of each part of a round's seal, given those of the two large parts.

    The same digests as `seal_parts`: receipts.txt and ballots.csv may then be hashed as they
    are read (a round of a million ballots need not be held in memory).
    """
    parts = seal_parts(definition, b"", b"", sealed, group_ballots)
    return {**parts, "receipts": receipts_sha256, "ballots": ballots_sha256}


def round_seal(parts: Mapping[str, str]) -> str:
    """Return the seal of a round from the digests of its parts.

    The seven parts come first in their fixed order; a later format may add parts (an
    encrypted box, say), which follow in the order of their names.
    """
    names = [*SEAL_PARTS, *sorted(name for name in parts if name not in SEAL_PARTS)]
    listing = SEAL_FORMAT + "\n" + "".join(f"{name} {parts[name]}\n" for name in names)
    return hashlib.sha256(listing.encode("ascii")).hexdigest()


def parse_head(value: str) -> tuple[int | None, str]:
    """Read a head of the log as printed: "57:ab12…" (event 57) or the hash alone."""
    number, _, digest = value.strip().rpartition(":")
    digest = digest.strip().lower()
    if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
        raise ValueError("a head is 64 hexadecimal digits, optionally after the event number")
    if number and not number.strip().isdigit():
        raise ValueError("the event number of a head is a whole number")
    return (int(number) if number else None), digest


def parse_seal(value: str) -> str:
    """Read a seal as printed (64 hexadecimal digits, spaces and case ignored)."""
    digest = "".join(value.split()).lower()
    if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
        raise ValueError("a seal is 64 hexadecimal digits")
    return digest


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


class Lines:
    """What a check found: problems and what was checked, as (message, fields) lines."""

    def __init__(self) -> None:
        self.problems: list[Line] = []
        self.checked: list[Line] = []

    def problem(self, msgid: str, **params: Any) -> None:
        """Add a discrepancy."""
        self.problems.append((msgid, params))

    def check(self, msgid: str, **params: Any) -> None:
        """Add what was checked and held."""
        self.checked.append((msgid, params))


def _check_sums(files: Mapping[str, bytes], lines: Lines) -> None:
    sums = files.get("SHA256SUMS", b"").decode("utf-8").splitlines()
    listed = set()
    for line in sums:
        digest, _, name = line.partition("  ")
        listed.add(name)
        if name not in files:
            lines.problem(N_("{name} is listed in SHA256SUMS but missing."), name=name)
        elif hashlib.sha256(files[name]).hexdigest() != digest:
            lines.problem(N_("{name} does not match its SHA-256 in SHA256SUMS."), name=name)
    for name in sorted(set(files) - listed - {"SHA256SUMS"}):
        lines.problem(N_("{name} is in the bundle but not listed in SHA256SUMS."), name=name)
    lines.check(N_("{count} files against SHA256SUMS."), count=len(sums))


def _check_events(events: list[dict[str, Any]], lines: Lines) -> None:
    for event in events:
        if not event_holds(event):
            lines.problem(
                N_("Audit log: event {id} ({kind}) was changed after it was written."),
                id=event["id"],
                kind=event["kind"],
            )
    for before, after in itertools.pairwise(events):
        if after["id"] == before["id"] + 1 and after["prev_hash"] != before["hash"]:
            lines.problem(
                N_("Audit log: event {id} does not follow event {previous}."),
                id=after["id"],
                previous=before["id"],
            )
    lines.check(N_("{count} events hashed."), count=len(events))


def _link_holds(link: Mapping[str, Any], event: Mapping[str, Any] | None) -> bool:
    """Tell whether one line of chain.jsonl gives its hash (from the event itself if known)."""
    if event is not None:  # the round's own event, in full in events.jsonl
        fields = (event["at"], event["actor"], event["kind"], event["round"], event["details"])
        same = (link["hash"], link["prev_hash"]) == (event["hash"], event["prev_hash"])
        return same and link.get("content") in (None, content_digest(*fields))
    if "content" in link:
        return bool(event_hash_v2(link["id"], link["prev_hash"], link["content"]) == link["hash"])
    if "event" in link:  # an event of version 1: only its whole content proves its hash
        return event_holds(link["event"]) and link["event"]["hash"] == link["hash"]
    return False


def _check_chain(
    chain: list[dict[str, Any]], events: list[dict[str, Any]], lines: Lines
) -> dict[str, Any] | None:
    """Check the log from the round's first event to the head at export; return that head.

    The round's own events are in full in events.jsonl; every other event of that stretch is
    in chain.jsonl by its content digest only (version 2), so the links can be recomputed
    without reading other rounds' data.
    """
    own = {event["id"]: event for event in events}
    previous: dict[str, Any] | None = None
    broken = False
    for link in chain:
        broken |= not _link_holds(link, own.get(link["id"]))
        if previous is not None and (
            link["id"] != previous["id"] + 1 or link["prev_hash"] != previous["hash"]
        ):
            broken = True
        previous = link
    if broken:
        lines.problem(N_("chain.jsonl: the log from this round's first event on does not hold."))
    missing = sorted(set(own) - {link["id"] for link in chain})
    if missing:
        lines.problem(
            N_("chain.jsonl does not reach the round's events {ids}."),
            ids=", ".join(map(str, missing)),
        )
    if previous is None or broken or missing:
        return None
    lines.check(
        N_("The log from event {first} to the head at export, event {id} ({hash}), holds."),
        first=chain[0]["id"],
        id=previous["id"],
        hash=previous["hash"],
    )
    return previous


def _check_head(chain: list[dict[str, Any]], expected: str, lines: Lines) -> None:
    """Find a head read off paper in the bundle's log: the log must reach it unchanged."""
    try:
        number, digest = parse_head(expected)
    except ValueError as exc:
        lines.problem(
            N_("Not a head of the log: {value!r} ({reason})."), value=expected, reason=str(exc)
        )
        return
    found = [link for link in chain if link["hash"] == digest]
    if not found or (number is not None and found[0]["id"] != number):
        lines.problem(
            N_(
                "The head {expected} is not in this bundle's log: the log was cut or rewritten "
                "after it was taken, or it was taken after the export (event {last})."
            ),
            expected=expected.strip(),
            last=chain[-1]["id"] if chain else "—",
        )
        return
    lines.check(N_("The expected head is event {id} of the log."), id=found[0]["id"])


def _check_seal(
    files: Mapping[str, bytes],
    definition: Mapping[str, Any],
    closing: Mapping[str, Any],
    expect_seal: str | None,
    lines: Lines,
) -> None:
    ballots_csv = files["ballots.csv"]
    recorded_parts = closing.get("seal_parts")
    if recorded_parts is None:  # closed before the whole-round seal: the ballots alone
        if hashlib.sha256(ballots_csv).hexdigest() != closing["seal"]:
            lines.problem(N_("ballots.csv does not match the seal recorded when the round closed."))
        now = closing["seal"]
    else:
        record = files.get(SEALED_RECORD)
        parts = seal_parts(
            definition,
            files.get("receipts.txt", b""),
            ballots_csv,
            record_parts(json.loads(record)) if record is not None else None,
        )
        for name in sorted(set(parts) - set(as_sealed(parts, recorded_parts))):
            lines.check(
                N_("Part {part_id} of the seal was added after this round was sealed."),
                part_id=name,
            )
        parts = as_sealed(parts, recorded_parts)
        for name in sorted(set(parts) | set(recorded_parts)):
            if name not in parts:
                lines.check(N_("Part {part_id} of the seal is not checked here."), part_id=name)
                parts[name] = recorded_parts[name]
            elif parts[name] != recorded_parts.get(name):
                lines.problem(
                    N_("Seal part {part_id}: the bundle differs from what was sealed at close."),
                    part_id=name,
                )
        now = round_seal(parts)
        if round_seal(recorded_parts) != closing["seal"] or now != closing["seal"]:
            lines.problem(N_("The round's seal does not match the one recorded at close."))
    if expect_seal is not None:
        try:
            expected = parse_seal(expect_seal)
        except ValueError as exc:
            lines.problem(
                N_("Not a seal: {value!r} ({reason})."), value=expect_seal, reason=str(exc)
            )
        else:
            if expected != now or expected != closing["seal"]:
                lines.problem(
                    N_("The seal {expected} read off paper is not this round's seal {seal}."),
                    expected=expected,
                    seal=now,
                )
            else:
                lines.check(N_("The seal read off paper matches."))
    lines.check(N_("Seal {seal}."), seal=now)


def _check_receipts(
    files: Mapping[str, bytes],
    closing: Mapping[str, Any],
    events: list[dict[str, Any]],
    collected: int,
    lines: Lines,
) -> None:
    """Online ballots = receipts = codes used (docs/AUDIT.md, "Receipts")."""
    receipts = [line for line in files.get("receipts.txt", b"").decode().splitlines() if line]
    paper = sum(
        int(e["details"].get("count", 0)) for e in events if e["kind"] == "ballots_imported"
    )
    used = closing.get("codes_used")
    if used is None:
        return
    if len(receipts) != used or collected - paper != used:
        lines.problem(
            N_(
                "Receipts: {receipts} receipts, {online} online ballots ({collected} collected, "
                "{paper} on paper), {used} codes used; all three must be equal."
            ),
            receipts=len(receipts),
            online=collected - paper,
            collected=collected,
            paper=paper,
            used=used,
        )
        return
    lines.check(N_("{count} online ballots, receipts and codes used."), count=used)


def check_bundle(
    files: dict[str, bytes],
    *,
    expect_seal: str | None = None,
    expect_head: str | None = None,
) -> tuple[list[Line], list[Line]]:
    """Recount a bundle; return (problems, what was checked).

    `expect_seal` and `expect_head` are values read off paper (the minutes, a results page, a
    head the upper level kept): the bundle must agree with them. Without them a bundle can
    only show that it agrees with itself.
    """
    lines = Lines()
    _check_sums(files, lines)
    definition = json.loads(files["round.json"])
    results = json.loads(files["results.json"])
    profile = tomllib.loads(files["profile.toml"].decode("utf-8"))
    events = [
        json.loads(line)
        for line in files["events.jsonl"].decode("utf-8").splitlines()
        if line.strip()
    ]
    _check_events(events, lines)
    chain = [
        json.loads(line)
        for line in files.get("chain.jsonl", b"").decode("utf-8").splitlines()
        if line.strip()
    ]
    if chain:
        _check_chain(chain, events, lines)
    if expect_head is not None:
        _check_head(chain, expect_head, lines)
    closes = [e for e in events if e["kind"] == "round_closed"]
    if len(closes) != 1:
        lines.problem(N_("The bundle has {count} close events instead of one."), count=len(closes))
        return lines.problems, lines.checked
    closing = closes[0]["details"]
    _check_seal(files, definition, latest_seal(events) or closing, expect_seal, lines)
    _recount(files, definition, results, profile, closing, events, lines)
    if is_widened(definition):
        _recount_groups(files, definition, results, profile, closing, lines)
    return lines.problems, lines.checked


# The events that seal a round: its close, and a meeting recorded after the close (the
# meeting's date and place are part of the round's details, so recording them re-seals).
SEALING_EVENTS = ("round_closed", "meeting_recorded", "group_meeting_recorded")


def latest_seal(events: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """Return the details of the last event that sealed the round (its close, or later)."""
    found: Mapping[str, Any] | None = None
    for event in events:
        details = event["details"]
        if event["kind"] in SEALING_EVENTS and isinstance(details, Mapping) and "seal" in details:
            found = details
    return found


def _recount(
    files: Mapping[str, bytes],
    definition: Mapping[str, Any],
    results: Mapping[str, Any],
    profile: Mapping[str, Any],
    closing: Mapping[str, Any],
    events: list[dict[str, Any]],
    lines: Lines,
) -> None:
    """Count every item again from ballots.csv; compare with results.json and the close."""
    items = definition["items"]
    count = len(items)
    ballots_csv = files["ballots.csv"]
    rows = list(csv.reader(io.StringIO(ballots_csv.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    if header != ["status", *map(str, range(1, count + 1))]:
        lines.problem(N_("ballots.csv has the wrong header."))
        return
    ballots = [(row[0], "".join(cell or NO_MARK for cell in row[1:])) for row in body]
    if canonical_csv(count, ballots) != ballots_csv:
        lines.problem(N_("ballots.csv is not in canonical form."))

    scale = definition["scale"]
    scope = profile["invalid_marks"]
    counted = [
        m
        for status, m in ballots
        if status == "valid" and not (scope == "ballot" and any(x in m for x in INVALID_MARKS))
    ]
    online, _groups = _check_sealed(files, count, lines, definition)
    sealed_ballots = sum(online[0]) if online else 0
    collected = len(ballots) + sealed_ballots
    valid = len(counted) + sealed_ballots
    accounting = {
        "issued": definition["issued"],
        "collected": collected,
        "valid": valid,
        "invalid": collected - valid,
    }
    # A round of several voter groups: ballots.csv holds every group's ballots, which give the
    # combined result; the result that decides (the top level) may be one group's.
    widened = is_widened(definition)
    combined_decides = not widened or definition.get("deciding") == "combined"
    if widened:
        results = results["combined"]
        if results.get("withheld"):
            lines.check(N_("The combined result is withheld (it would show a small group)."))
            return
    if results["ballots"] != accounting:
        lines.problem(
            N_("Ballots: results.json says {reported}, a recount gives {recount}."),
            reported=results["ballots"],
            recount=accounting,
        )
    for key in ("collected", "valid", "invalid", "issued"):
        if closing.get(key) != accounting[key]:
            lines.problem(
                N_("{key}: the close event says {recorded}, a recount gives {recount}."),
                key=key,
                recorded=closing.get(key),
                recount=accounting[key],
            )
    if definition["issued"] is not None and collected > definition["issued"]:
        lines.problem(
            N_("{collected} ballots collected but only {issued} issued."),
            collected=collected,
            issued=definition["issued"],
        )
    _check_receipts(files, closing, events, collected, lines)
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
        lines.problem(
            N_(
                "Denominator: results.json says {reported}, the profile gives {basis_id} = {value}."
            ),
            reported=results["denominator"],
            basis_id=basis,
            value=denominator,
        )
    if closing.get("denominator", {"basis": basis, "value": denominator}) != {
        "basis": basis,
        "value": denominator,
    }:
        lines.problem(
            N_(
                "Denominator: the close event says {recorded}, the profile gives "
                "{basis_id} = {value}."
            ),
            recorded=closing.get("denominator"),
            basis_id=basis,
            value=denominator,
        )
    at_close = {item["order"]: item["counts"] for item in closing.get("items", [])}
    band_ids = [band["id"] for band in profile["bands"]]
    expected_findings = []
    for index, item in enumerate(items):
        column = [marks[index] for marks in counted]
        counts = {name: column.count(letter) for name, letter in SCALE_LETTERS[scale]}
        counts["invalid"] = sum(column.count(m) for m in INVALID_MARKS)
        if online:  # the sealed ballots' decrypted totals, level by level in ballot order
            for (name, _letter), total in zip(SCALE_LETTERS[scale], online[index], strict=True):
                counts[name] += total
        reported = results["items"][index]
        # A round of one group: its group's and the combined result are the same ballots and
        # must say the same (results.json repeats them).
        repeated = [] if widened else [results.get("combined"), *results.get("groups", [])]
        if any(
            isinstance(other, Mapping)
            and isinstance(other.get("items"), list)
            and index < len(other["items"])
            and other["items"][index].get("counts") != reported["counts"]
            for other in repeated
        ):
            lines.problem(
                N_("Item {order} ({name}): results.json says two different counts."),
                order=index + 1,
                name=item["name"],
            )
        if reported["counts"] != counts:
            lines.problem(
                N_(
                    "Item {order} ({name}): results.json says {reported}, a recount "
                    "gives {recount}."
                ),
                order=index + 1,
                name=item["name"],
                reported=reported["counts"],
                recount=counts,
            )
        if at_close and at_close.get(index + 1) != counts:
            lines.problem(
                N_(
                    "Item {order} ({name}): the close event says {recorded}, a recount gives "
                    "{recount}."
                ),
                order=index + 1,
                name=item["name"],
                recorded=at_close.get(index + 1),
                recount=counts,
            )
        shares = {name: percent(counts[name], denominator) for name, _ in SCALE_LETTERS[scale]}
        if reported["percent"] != shares:
            lines.problem(
                N_(
                    "Item {order} ({name}): percentages {reported} differ from a recount {recount}."
                ),
                order=index + 1,
                name=item["name"],
                reported=reported["percent"],
                recount=shares,
            )
        if item["kind"] != "person" or not denominator:
            continue
        # Void, or shown for reference (another result decides): it raises no finding.
        if not combined_decides or results.get("void"):
            expected = []
        elif scale == "confidence_vote":
            expected = ["over_half"] if counts["no_trust"] * 2 > denominator else []
        else:
            expected = [b for b in band_ids if BANDS[b](counts["low"], denominator)]
        expected_findings += [{"person_key": item["person_key"], "band": b} for b in expected]
        found = [f["band"] for f in reported["findings"] if f["rule"] == "band"]
        if sorted(found) != sorted(expected):
            lines.problem(
                N_(
                    "Item {order} ({name}): bands {reported} in results.json, the profile's "
                    "rules give {recount}."
                ),
                order=index + 1,
                name=item["name"],
                reported=found,
                recount=expected,
            )
    if (
        combined_decides
        and "findings" in closing
        and sorted(map(canonical, closing["findings"])) != sorted(map(canonical, expected_findings))
    ):
        lines.problem(
            N_("Findings: the close event says {recorded}, the profile's rules give {recount}."),
            recorded=closing["findings"],
            recount=expected_findings,
        )
    lines.check(
        N_("{collected} ballots recounted for {count} items on D = {value} ({basis_id})."),
        collected=collected,
        count=count,
        value=denominator,
        basis_id=basis,
    )


def _check_sealed(
    files: Mapping[str, bytes],
    count: int,
    lines: Lines,
    definition: Mapping[str, Any] | None = None,
) -> tuple[list[list[int]], dict[int, list[list[int]]]]:
    """Check the sealed ballots' public record with the library; return its totals per item.

    Every ballot's proofs, the trackers and the box digest, the encrypted totals recomputed,
    every partial decryption's proof, and the totals recombined (docs/CRYPTO.md §12); then
    the receipts: each is the BN number of a sealed ballot's tracker. A round of several
    voter groups has a record per group: each is checked, its box digest must be the one
    round.json gives the group, and the totals are returned per group and added up. A group
    hidden as too small ships no decryption: its online totals are in the bundle only added
    to the other hidden groups' ("hidden_totals"), and are checked by `votes verify`.
    """
    data = files.get(SEALED_RECORD)
    if data is None:
        return [], {}
    record = json.loads(data)
    try:
        verify_record = sealed_verifier(files.get(SEALED_LIBRARY))
    except (ImportError, OSError) as exc:
        lines.problem(N_("The sealed ballots cannot be checked: {reason}."), reason=str(exc))
        return [], {}
    entries = (
        record.get("groups")
        if "groups" in record
        else [{"number": None, "hidden_small": False, "record": record}]
    )
    digests = {g.get("number"): g.get("box_digest") for g in (definition or {}).get("groups", [])}
    combined: list[list[int]] = []
    per_group: dict[int, list[list[int]]] = {}
    trackers: list[str] = []
    ballots = 0
    for entry in entries:
        number, own = entry["number"], entry["record"]
        trackers += own.get("trackers", [])
        ballots += len(own.get("ballots", []))
        if number is not None and digests.get(number) != own.get("box_digest"):
            lines.problem(
                N_(
                    "Sealed ballots of voter group {number}: the box digest differs from the "
                    "one round.json gives the group."
                ),
                number=number,
            )
        if entry.get("hidden_small"):
            lines.check(
                N_(
                    "Voter group {number} is too small to be shown alone: its sealed ballots "
                    "are listed, but its decryption is not in the bundle."
                ),
                number=number,
            )
            continue
        for problem in verify_record(own):
            if number is None:
                lines.problem(N_("Sealed ballots: {problem}."), problem=problem)
            else:
                lines.problem(
                    N_("Sealed ballots of voter group {number}: {problem}."),
                    number=number,
                    problem=problem,
                )
        totals: list[list[int]] = own.get("totals") or []
        if len(totals) != count:
            lines.problem(N_("Sealed ballots: the totals do not have one row per item."))
            return [], {}
        if number is not None:
            per_group[number] = totals
        combined = _added(combined, totals)
    if "hidden_totals" in record:
        combined = _added(combined, record["hidden_totals"])
    receipts = {line for line in files.get("receipts.txt", b"").decode().splitlines() if line}
    derived = {tracker_receipt(bytes.fromhex(t)) for t in trackers}
    if not derived <= receipts:
        lines.problem(
            N_("Sealed ballots: {count} ballot(s) whose receipt is not in receipts.txt."),
            count=len(derived - receipts),
        )
    lines.check(
        N_("{count} sealed ballots: every proof, the encrypted totals and their decryption."),
        count=ballots,
    )
    return combined, per_group


def _added(first: list[list[int]], second: list[list[int]]) -> list[list[int]]:
    """Add two lists of totals (per item, per level); an empty list adds nothing."""
    if not first:
        return [list(row) for row in second]
    return [[a + b for a, b in zip(x, y, strict=True)] for x, y in zip(first, second, strict=True)]


def _bands(scale: str, profile: Mapping[str, Any], counts: Mapping[str, int], d: int) -> list[str]:
    """Return the bands that hold for one person's counts on D."""
    if scale == "confidence_vote":
        return ["over_half"] if counts["no_trust"] * 2 > d else []
    return [band["id"] for band in profile["bands"] if BANDS[band["id"]](counts["low"], d)]


def _recount_groups(
    files: Mapping[str, bytes],
    definition: Mapping[str, Any],
    results: Mapping[str, Any],
    profile: Mapping[str, Any],
    closing: Mapping[str, Any],
    lines: Lines,
) -> None:
    """Recount each voter group shown in results.json from group_ballots.csv.

    A bundle in which a group is hidden (under the small-round minimum) has no
    group_ballots.csv: the group's ballots are inside ballots.csv only, and its seal part is
    checked by `votes verify` against the database.
    """
    data = files.get("group_ballots.csv")
    if data is None:
        lines.check(
            N_(
                "A voter group is too small to be shown alone: its ballots are only inside "
                "ballots.csv, and the groups are not recounted one by one here."
            )
        )
        return
    items = definition["items"]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    boxes: dict[int, list[tuple[str, str]]] = {}
    for row in rows[1:]:
        boxes.setdefault(int(row[0]), []).append(
            (row[1], "".join(cell or NO_MARK for cell in row[2:]))
        )
    everything = [ballot for box in boxes.values() for ballot in box]
    if canonical_csv(len(items), everything) != files["ballots.csv"]:
        lines.problem(N_("group_ballots.csv does not hold the same ballots as ballots.csv."))
    scale = definition["scale"]
    scope = profile["invalid_marks"]
    basis = (
        profile.get("confidence_vote", {}).get("denominator", profile["denominator"])
        if scale == "confidence_vote"
        else profile["denominator"]
    )
    recorded = {g["number"]: g for g in closing.get("groups", [])}
    figures_of = {g["number"]: g for g in definition["groups"]}
    # Each group's sealed online ballots: their decrypted totals (checked by _check_sealed).
    sealed_record = json.loads(files.get(SEALED_RECORD) or b"{}")
    online_of = {
        entry["number"]: entry["record"].get("totals") or []
        for entry in sealed_record.get("groups", [])
        if not entry.get("hidden_small")
    }
    expected_findings: list[dict[str, Any]] = []
    for group in results["groups"]:
        number = group["number"]
        box = boxes.get(number, [])
        counted = [
            m
            for status, m in box
            if status == "valid" and not (scope == "ballot" and any(x in m for x in INVALID_MARKS))
        ]
        online = online_of.get(number, [])
        sealed_ballots = sum(online[0]) if online else 0
        collected, valid = len(box) + sealed_ballots, len(counted) + sealed_ballots
        figures = figures_of[number]
        d = {
            "members": figures["members"],
            "summoned": figures["summoned"],
            "present": figures["present"],
            "collected": collected,
            "valid": valid,
        }[basis]
        at_close = recorded.get(number, {})
        for key, value in (("collected", collected), ("valid", valid)):
            if at_close.get(key) != value:
                lines.problem(
                    N_(
                        "Voter group {number}, {key}: the close event says {recorded}, a recount "
                        "gives {recount}."
                    ),
                    number=number,
                    key=key,
                    recorded=at_close.get(key),
                    recount=value,
                )
        if group.get("hidden_small"):
            continue
        for index, item in enumerate(items):
            column = [marks[index] for marks in counted]
            counts = {name: column.count(letter) for name, letter in SCALE_LETTERS[scale]}
            counts["invalid"] = sum(column.count(m) for m in INVALID_MARKS)
            if online:
                for (name, _letter), total in zip(SCALE_LETTERS[scale], online[index], strict=True):
                    counts[name] += total
            reported = group["items"][index]
            shares = {name: percent(counts[name], d) for name, _ in SCALE_LETTERS[scale]}
            if reported["counts"] != counts or reported["percent"] != shares:
                lines.problem(
                    N_(
                        "Voter group {number}, item {order} ({name}): results.json says "
                        "{reported}, a recount gives {recount}."
                    ),
                    number=number,
                    order=index + 1,
                    name=item["name"],
                    reported=reported["counts"],
                    recount=counts,
                )
            if group.get("deciding") and item["kind"] == "person" and d and not group.get("void"):
                expected_findings += [
                    {"person_key": item["person_key"], "band": band}
                    for band in _bands(scale, profile, counts, d)
                ]
        lines.check(
            N_("Voter group {number}: {collected} ballots recounted on D = {value}."),
            number=number,
            collected=collected,
            value=d,
        )
    if definition.get("deciding") != "combined" and sorted(
        map(canonical, closing.get("findings", []))
    ) != sorted(map(canonical, expected_findings)):
        lines.problem(
            N_(
                "Findings: the close event says {recorded}, the deciding group's recount gives "
                "{recount}."
            ),
            recorded=closing.get("findings"),
            recount=expected_findings,
        )


def main(argv: list[str]) -> int:
    """Check the bundle named on the command line (or the folder this script is in)."""
    parser = argparse.ArgumentParser(
        prog="verify.py",
        description="Recount a round from its export bundle and check it against values "
        "read off paper (the seal and the head of the log printed on the minutes).",
    )
    parser.add_argument("bundle", nargs="?", help="the bundle (zip or folder); default: here")
    parser.add_argument("--expect-seal", metavar="HEX", help="the round's seal, as printed")
    parser.add_argument(
        "--expect-head", metavar="[N:]HEX", help="a head of the log, as printed or kept"
    )
    options = parser.parse_args(argv[1:])
    target = Path(options.bundle) if options.bundle else Path(__file__).resolve().parent
    try:
        problems, checked = check_bundle(
            read_bundle(target),
            expect_seal=options.expect_seal,
            expect_head=options.expect_head,
        )
    except (OSError, KeyError, ValueError) as exc:
        print(f"FAILED: cannot read the bundle: {exc}")
        return 2
    for line in checked:
        print(f"checked: {text(line)}")
    for line in problems:
        print(f"PROBLEM: {text(line)}")
    if not problems and not (options.expect_seal and options.expect_head):
        print(
            "NOTE: without --expect-seal and --expect-head (the values printed on the minutes) "
            "this shows only that the bundle agrees with itself."
        )
    print(
        "OK: the recount matches the sealed ballot box and the results."
        if not problems
        else f"FAILED: {len(problems)} problem(s)."
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
