"""Signed packages: closed rounds sent from a lower installation up to the upper one.

A commune runs its own copy of the system; the province's copy has no access to its
database. The commune exports a round (`votes export`): the usual bundle (votes/bundle.py),
which anyone recounts with its verify.py, signed with the installation's Ed25519 key. The
signature sits in the zip's comment, over a statement naming the round, the body's place in
the tree and the SHA-256 of SHA256SUMS (which covers every file), so the bundle's files stay
exactly what verify.py expects.

The province registers the commune's public key for the commune's body (`votes keys trust`)
and imports the package (`votes import-bundle`): the key must be registered for the round's
body or a body above it, the signature must hold, every file must match, and the recount, the
seal and the log must check out (votes/recount.py); then the round is stored as a read-only
"reported" round and the package is kept whole as its evidence. Anything wrong refuses the
whole package with the reason; the same package twice changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import profiles
from .bundle import export_round
from .errors import N_, InvalidInput, NotFound, WrongState
from .models import (
    Ballot,
    BallotItem,
    Body,
    Exemption,
    InstallationKey,
    Person,
    Receipt,
    ReportedPackage,
    Round,
    TrustedKey,
)
from .persons import new_identity
from .recount import check_bundle
from .roster import RosterEntry
from .rounds import add_body
from .seal import ballots_file
from .tally import tally_round
from .tree import ancestors, place_body, subtree_ids
from .vocabulary import COUNTED

STATEMENT_FORMAT = "phieu-tin-nhiem signed package 1"
# A package is read whole into memory: far above any real round, far below a denial of service.
MAX_PACKAGE = 64 * 1024 * 1024


# ---------------------------------------------------------------------------- keys


def has_installation_key(session: Session) -> bool:
    """Tell whether this installation has made its signing key yet."""
    return session.scalar(select(InstallationKey.id).limit(1)) is not None


def installation_key(session: Session) -> InstallationKey:
    """Return this installation's signing key, making it on first use."""
    key = session.scalar(select(InstallationKey).order_by(InstallationKey.id))
    if key is None:
        private = Ed25519PrivateKey.generate()
        key = InstallationKey(
            private_key=private.private_bytes_raw(),
            public_key=private.public_key().public_bytes_raw(),
        )
        session.add(key)
        session.flush()
    return key


def key_text(public_key: bytes) -> str:
    """Write a public key on one line (hex, 64 digits)."""
    return public_key.hex()


def fingerprint(public_key: bytes) -> str:
    """Return a short fingerprint of a public key, read aloud over the phone: 4 groups of 4."""
    digest = hashlib.sha256(public_key).hexdigest()[:16].upper()
    return "-".join(digest[i : i + 4] for i in range(0, 16, 4))


def parse_key(text: str) -> bytes:
    """Read a public key given as hex (64 digits) or base64 (44 characters)."""
    value = "".join(text.split())
    raw: bytes | None = None
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) != 32:
        raise InvalidInput(
            N_(
                "{key} is not a public key: give the 64 hexadecimal digits that "
                "`votes keys show` prints on the other installation."
            ),
            key=text[:80],
        )
    try:
        Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise InvalidInput(N_("{key} is not an Ed25519 public key."), key=text[:80]) from exc
    return raw


def trust_key(session: Session, body: Body, text: str) -> TrustedKey:
    """Register a lower installation's public key for a body (and the bodies under it)."""
    raw = parse_key(text)
    if raw == installation_key(session).public_key:
        raise InvalidInput(N_("This is this installation's own key: trust the lower one's."))
    found = session.scalar(
        select(TrustedKey).where(TrustedKey.body_id == body.id, TrustedKey.public_key == raw)
    )
    if found is not None:
        return found
    trusted = TrustedKey(body_id=body.id, public_key=raw)
    session.add(trusted)
    session.flush()
    return trusted


# ---------------------------------------------------------------------------- export


def place_of(session: Session, body: Body) -> list[dict[str, Any]]:
    """Describe a body's place in the tree: the body and its parents up to the top."""
    return [
        {"code": b.code, "name": b.name, "kind": b.kind, "level": b.level}
        for b in [body, *ancestors(session, body)]
    ]


def _canonical(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signed_bundle(session: Session, round_: Round) -> bytes:
    """Build a round's export bundle, signed with this installation's key."""
    if round_.reported_from is not None:
        # Forwarded upward as received: the lower installation's signature stays valid.
        package = session.get(ReportedPackage, round_.reported_from)
        assert package is not None
        return package.data
    data = export_round(session, round_)
    files = _files(data)
    key = installation_key(session)
    statement = {
        "format": STATEMENT_FORMAT,
        "round": round_.id,
        "place": place_of(session, round_.body),
        "public_key": key_text(key.public_key),
        "sha256sums": hashlib.sha256(files["SHA256SUMS"]).hexdigest(),
    }
    signature = Ed25519PrivateKey.from_private_bytes(key.private_key).sign(_canonical(statement))
    buffer = io.BytesIO(data)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.comment = _canonical({"statement": statement, "signature": signature.hex()})
    return buffer.getvalue()


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {Path(n).name: archive.read(n) for n in archive.namelist() if not n.endswith("/")}


# ---------------------------------------------------------------------------- import


@dataclass(frozen=True)
class Checked:
    """A package whose signature, files and recount hold, with what it says."""

    sha256: str
    statement: dict[str, Any]
    public_key: bytes
    files: dict[str, bytes]
    definition: dict[str, Any]


def refused(reason: str, **params: Any) -> InvalidInput:
    """Return the refusal of a whole package, with its reason."""
    return InvalidInput(
        N_("The package is refused: {reason}"), reason=InvalidInput(reason, **params)
    )


def check_package(session: Session, data: bytes, *, trusted: bool = True) -> Checked:
    """Check a package: its signature by a registered key, its files and the full recount."""
    if len(data) > MAX_PACKAGE:
        raise refused(N_("it is larger than {size} MB."), size=MAX_PACKAGE // 2**20)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            comment = archive.comment
            names = [n for n in archive.namelist() if not n.endswith("/")]
            files = {Path(n).name: archive.read(n) for n in names}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise refused(N_("it is not a zip file ({error})."), error=str(exc)) from exc
    try:
        envelope = json.loads(comment.decode("utf-8"))
        statement = envelope["statement"]
        signature = bytes.fromhex(envelope["signature"])
        public_key = bytes.fromhex(statement["public_key"])
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise refused(
            N_("it is not signed (an export of an older version, or a plain bundle).")
        ) from exc
    if statement.get("format") != STATEMENT_FORMAT:
        raise refused(N_("its signature is of an unknown format."))
    if (
        trusted
        and not session.scalars(
            select(TrustedKey).where(TrustedKey.public_key == public_key)
        ).first()
    ):
        raise refused(
            N_(
                "it is signed by a key that is not registered here (fingerprint {fingerprint}); "
                "register the lower installation's key with `votes keys trust`."
            ),
            fingerprint=fingerprint(public_key),
        )
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, _canonical(statement))
    except (InvalidSignature, ValueError) as exc:
        raise refused(
            N_("the signature does not match: the package was changed after it was signed.")
        ) from exc
    if "SHA256SUMS" not in files or "round.json" not in files:
        raise refused(N_("it has no SHA256SUMS or round.json."))
    if hashlib.sha256(files["SHA256SUMS"]).hexdigest() != statement.get("sha256sums"):
        raise refused(N_("SHA256SUMS is not the one that was signed: files were changed."))
    try:
        problems, _checked = check_bundle(files)
        definition = json.loads(files["round.json"])
    except (KeyError, ValueError, TypeError) as exc:
        raise refused(N_("a file of the bundle cannot be read ({error})."), error=str(exc)) from exc
    if problems:
        msgid, params = problems[0]
        raise refused(
            N_("the recount does not hold: {problem} ({count} problem(s) in all)."),
            problem=InvalidInput(msgid, **params),
            count=len(problems),
        )
    if definition.get("id") != statement.get("round"):
        raise refused(N_("the signed statement names another round."))
    return Checked(
        sha256=hashlib.sha256(data).hexdigest(),
        statement=statement,
        public_key=public_key,
        files=files,
        definition=definition,
    )


@dataclass(frozen=True)
class Imported:
    """What an import did: the round stored, or nothing when it was there already."""

    round: Round
    new: bool
    sha256: str
    fingerprint: str


def import_package(session: Session, data: bytes) -> Imported:
    """Check a package and store its round as a read-only reported round (see the module)."""
    checked = check_package(session, data)
    known = session.scalar(select(ReportedPackage).where(ReportedPackage.sha256 == checked.sha256))
    if known is not None:
        round_ = session.scalar(select(Round).where(Round.reported_from == known.id))
        assert round_ is not None
        return Imported(round_, False, checked.sha256, fingerprint(checked.public_key))
    body = _local_body(session, checked)
    origin = checked.definition["id"]
    earlier = session.scalar(
        select(Round).where(Round.body_id == body.id, Round.origin_id == origin)
    )
    if earlier is not None:
        raise refused(
            N_(
                "round {origin} of {body} was imported already (here round {id}) from another "
                "package; a round is reported once."
            ),
            origin=origin,
            body=body.code,
            id=earlier.id,
        )
    package = ReportedPackage(
        sha256=checked.sha256, body_id=body.id, public_key=checked.public_key, data=data
    )
    session.add(package)
    session.flush()
    round_ = _store_round(session, body, package, checked)
    return Imported(round_, True, checked.sha256, fingerprint(checked.public_key))


def _local_body(session: Session, checked: Checked) -> Body:
    """Return the body of the round here, placing it in the tree if it is new here.

    The key must be registered for that body or for a body above it.
    """
    place = checked.statement.get("place") or []
    definition = checked.definition
    if not place or place[0].get("code") != definition.get("body"):
        raise refused(N_("the signed place in the tree is not the round's body."))
    trusted_roots = set(
        session.scalars(
            select(TrustedKey.body_id).where(TrustedKey.public_key == checked.public_key)
        )
    )
    allowed = subtree_ids(session, trusted_roots)
    # The round's body as known here; when it is new here, it is placed under the nearest body
    # of the signed place that exists here (the names of the levels above may differ here).
    missing: list[dict[str, Any]] = []
    found: Body | None = None
    for entry in place:
        found = session.scalar(select(Body).where(Body.code == entry.get("code")))
        if found is not None:
            break
        missing.append(entry)
    if found is None or found.id not in allowed:
        raise refused(
            N_(
                "the key (fingerprint {fingerprint}) is not registered for {body} or a body "
                "above it."
            ),
            fingerprint=fingerprint(checked.public_key),
            body=definition.get("body"),
        )
    for entry in reversed(missing):
        code = str(entry.get("code"))
        made = add_body(session, code, entry.get("name") or code, entry.get("kind") or "party")
        place_body(session, made, entry.get("level") or "commune", found)
        found = made
    return found


def _person(session: Session, body: Body, name: str, key: str | None) -> Person:
    known = session.scalar(
        select(Person).where(Person.body_id == body.id, Person.person_key == (key or name))
    )
    if known is not None:
        return known
    line = RosterEntry(line=0, name=name, position="", person_key=key if key != name else None)
    person = Person(
        body_id=body.id,
        person_key=key or name,
        name=name,
        identity=new_identity(session, body, line),
    )
    session.add(person)
    session.flush()
    return person


def _store_round(session: Session, body: Body, package: ReportedPackage, checked: Checked) -> Round:
    definition = checked.definition
    files = checked.files
    profile = definition["profile"]
    try:
        profiles.get_profile(session, profile["id"], profile["version"])
    except (NotFound, InvalidInput) as exc:
        raise refused(
            N_(
                "its profile {profile} version {version} is not known here; add it with "
                "`votes profiles add` (the package holds it as profile.toml)."
            ),
            profile=profile["id"],
            version=profile["version"],
        ) from exc
    if definition.get("status") not in COUNTED:
        raise refused(N_("its round is not closed."))
    held_on = definition.get("held_on")
    round_ = Round(
        body_id=body.id,
        year=definition["year"],
        title=definition["title"],
        profile_id=profile["id"],
        profile_version=profile["version"],
        scale=definition["scale"],
        status=definition["status"],
        members=definition.get("members"),
        summoned=definition.get("summoned"),
        present=definition.get("present"),
        paper_issued=definition.get("paper_issued"),
        issued=definition.get("issued"),
        collected=definition.get("collected"),
        place=definition.get("place"),
        held_on=_date(held_on),
        reported_from=package.id,
        origin_id=definition["id"],
    )
    session.add(round_)
    session.flush()
    for item in definition["items"]:
        person = (
            _person(session, body, item["name"], item.get("person_key"))
            if item["kind"] == "person"
            else None
        )
        session.add(
            BallotItem(
                round_id=round_.id,
                order=item["order"],
                kind=item["kind"],
                person_id=person.id if person else None,
                name=item["name"],
                position=item["position"],
            )
        )
    for exempt in definition.get("exempt", []):
        person = _person(session, body, exempt["name"], exempt.get("person_key"))
        session.add(
            Exemption(
                round_id=round_.id,
                person_id=person.id,
                position=exempt.get("position") or "",
                reason=exempt["reason"],
                reason_id=exempt.get("reason_id"),
                decision=exempt.get("decision"),
            )
        )
    lines = files["ballots.csv"].decode("utf-8").splitlines()[1:]
    for line in lines:
        status, *cells = line.split(",")
        session.add(
            Ballot(round_id=round_.id, status=status, marks="".join(c or "-" for c in cells))
        )
    for receipt in files.get("receipts.txt", b"").decode("utf-8").splitlines():
        if receipt.strip():
            session.add(Receipt(round_id=round_.id, receipt=receipt.strip()))
    session.flush()
    session.refresh(round_)
    # What is stored must give back the very ballots and counts that were checked.
    if ballots_file(session, round_) != files["ballots.csv"]:
        raise refused(N_("its ballots could not be stored as they are."))
    results = json.loads(files["results.json"])
    tally = tally_round(session, round_)
    counted = [dict(item.counts) for item in tally.items]
    if counted != [item["counts"] for item in results["items"]]:
        raise refused(N_("the counts stored here differ from the package's."))
    return round_


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def check_reported(session: Session, round_: Round) -> list[InvalidInput]:
    """Verify a reported round again from the package kept for it (its key, files, recount)."""
    if round_.reported_from is None:
        raise WrongState(N_("Round {id} was not reported by a lower level."), id=round_.id)
    package = session.get(ReportedPackage, round_.reported_from)
    assert package is not None
    try:
        checked = check_package(session, package.data, trusted=False)
    except InvalidInput as refusal:
        return [refusal]
    if checked.public_key != package.public_key:
        return [refused(N_("the package kept is signed by another key."))]
    if ballots_file(session, round_) != checked.files["ballots.csv"]:
        return [refused(N_("the ballots stored here differ from the package kept."))]
    return []
