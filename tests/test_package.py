"""Signed packages between installations: a commune reports up to its province (issue 17)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.conftest import PG_URL, SECRET, VotesRunner, _postgres_database
from tests.factories import column, counted_round, person, rated, work
from votes import create_app, operations
from votes.models import Round
from votes.period import period_report


@pytest.fixture
def upper_app(tmp_path: Path, migrated_template: str) -> Iterator[Flask]:
    """A second installation (the province's), with a database of its own."""
    holder: Iterator[str] | None = None
    if PG_URL:
        holder = _postgres_database(migrated_template)
        url = next(holder)
    else:
        path = tmp_path / "upper.sqlite3"
        shutil.copyfile(migrated_template, path)
        url = f"sqlite:///{path}"
    application = create_app(
        {"TESTING": True, "SECRET_KEY": SECRET, "DATABASE_URL": url, "WTF_CSRF_ENABLED": False}
    )
    yield application
    application.extensions["votes.engine"].dispose()
    if holder is not None:
        holder.close()


@pytest.fixture
def upper(upper_app: Flask) -> VotesRunner:
    return VotesRunner(upper_app)


def _commune_round(session: Session) -> int:
    task = work(session)
    operations.add_body(task, "T-SL", "Tỉnh ủy Sơn La", level="province")
    operations.add_body(task, "X-MH", "Đảng ủy xã Mường Hung", level="commune", parent="T-SL")
    round_ = counted_round(
        session,
        task.body("X-MH"),
        year=2025,
        profile_id="qd96-2023",
        roster=[
            person("Lò Văn Minh", "Bí thư", key="cb-001"),
            person("Cầm Thị Hoa", "Phó Bí thư", key="cb-002"),
        ],
        columns=[rated(6, 10), column(high=5, confidence=4, low=1)],
        status="published",
    )
    session.commit()
    return round_.id


@pytest.fixture
def package(votes: VotesRunner, session: Session, tmp_path: Path, upper: VotesRunner) -> Path:
    """The commune's signed package of one published round; its key trusted by the province."""
    round_id = _commune_round(session)
    key = votes("keys", "show")
    assert key.exit_code == 0, key.stderr
    public = key.stdout.strip()
    assert len(public) == 64
    out = tmp_path / "x-mh.zip"
    assert votes("export", round_id, "--out", out).exit_code == 0
    assert upper("body", "add", "T-SL", "Tỉnh ủy Sơn La", "--level", "province").exit_code == 0
    trusted = upper("keys", "trust", "T-SL", public)
    assert trusted.exit_code == 0, trusted.stderr
    return out


def _rounds(app: Flask) -> int:
    with app.extensions["votes.sessions"]() as session:
        return session.scalar(select(func.count()).select_from(Round)) or 0


def test_the_province_imports_the_commune_package(
    package: Path, upper: VotesRunner, upper_app: Flask, votes: VotesRunner
) -> None:
    # The package is still an ordinary bundle that verify.py recounts.
    assert votes("verify", "--bundle", package).exit_code == 0
    done = upper("import-bundle", package)
    assert done.exit_code == 0, done.stderr
    with upper_app.extensions["votes.sessions"]() as session:
        round_id = session.scalar(select(Round.id).where(Round.origin_id.is_not(None)))
    listing = upper("round", "list", "--under", "T-SL")
    assert "X-MH" in listing.stdout
    tree = upper("body", "list").stdout.splitlines()
    assert tree[0].startswith("T-SL")
    assert tree[1].startswith("    X-MH\t")
    results = json.loads(upper("results", round_id, "--format", "json").stdout)
    items = {i["person_key"]: i for i in results["items"]}
    # Counted again here from the ballots of the package: 6 of 10 low, 1 of 10 low.
    assert items["cb-001"]["counts"] == {"high": 4, "confidence": 0, "low": 6, "invalid": 0}
    assert items["cb-001"]["percent"]["low"] == "60.00"
    assert [f["band"] for f in items["cb-001"]["findings"]] == ["over_half_under_two_thirds"]
    assert items["cb-002"]["counts"] == {"high": 5, "confidence": 4, "low": 1, "invalid": 0}
    checked = upper("verify", round_id)
    assert checked.exit_code == 0, checked.stdout
    # Read-only here.
    assert upper("round", "publish", round_id).exit_code != 0
    # The reported round enters the province's periodic report, counted from its ballots.
    with upper_app.extensions["votes.sessions"]() as session:
        report = period_report(
            session, work(session).body("T-SL"), dt.date(2025, 1, 1), dt.date(2025, 12, 31)
        )
    assert [r["reported"] for r in report["rounds"]] == [True]
    assert report["persons_polled"] == 2
    assert report["bands"] == {"over_half_under_two_thirds": 1}
    # The same package again changes nothing.
    again = upper("import-bundle", package)
    assert again.exit_code == 0
    assert _rounds(upper_app) == 1


def _rewrite(package: Path, change: Callable[[dict[str, bytes]], None], sums: bool) -> Path:
    """Return a copy of the package with files changed (and SHA256SUMS redone if `sums`)."""
    with zipfile.ZipFile(package) as archive:
        comment = archive.comment
        files = {n: archive.read(n) for n in archive.namelist()}
    short = {Path(n).name: n for n in files}
    view = {Path(n).name: data for n, data in files.items()}
    change(view)
    if sums:
        view["SHA256SUMS"] = "".join(
            f"{hashlib.sha256(data).hexdigest()}  {name}\n"
            for name, data in sorted(view.items())
            if name != "SHA256SUMS"
        ).encode()
    out = package.with_name(f"tampered-{len(list(package.parent.iterdir()))}.zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in view.items():
            archive.writestr(short.get(name, name), data)
        archive.comment = comment
    out.write_bytes(buffer.getvalue())
    return out


def _ballots(files: dict[str, bytes]) -> None:
    lines = files["ballots.csv"].decode().splitlines()
    lines[1] = lines[1].replace("L", "H", 1) if "L" in lines[1] else lines[1].replace("H", "L", 1)
    files["ballots.csv"] = ("\n".join(lines) + "\n").encode()


def _log(files: dict[str, bytes]) -> None:
    files["events.jsonl"] = files["events.jsonl"].replace(b'"actor": "test"', b'"actor": "x"', 1)


def _results(files: dict[str, bytes]) -> None:
    files["results.json"] = files["results.json"].replace(b'"low": 6', b'"low": 4', 1)


@pytest.mark.parametrize("sums", [False, True], ids=["files-only", "sums-redone"])
@pytest.mark.parametrize("change", [_ballots, _log, _results], ids=["ballots", "log", "results"])
def test_a_tampered_package_is_refused_whole(
    package: Path,
    upper: VotesRunner,
    upper_app: Flask,
    change: Callable[[dict[str, bytes]], None],
    sums: bool,
) -> None:
    tampered = _rewrite(package, change, sums)
    outcome = upper("import-bundle", tampered)
    assert outcome.exit_code != 0
    assert "Traceback" not in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1
    words = "SHA256SUMS" if sums else "SHA-256"
    assert words in outcome.stderr or "signed" in outcome.stderr, outcome.stderr
    assert _rounds(upper_app) == 0


def _comment(package: Path, change: Callable[[dict[str, object]], None]) -> Path:
    with zipfile.ZipFile(package) as archive:
        envelope = json.loads(archive.comment)
        files = {n: archive.read(n) for n in archive.namelist()}
    change(envelope)
    out = package.with_name("comment.zip")
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.comment = json.dumps(envelope).encode()
    return out


def test_a_changed_signature_or_statement_is_refused(
    package: Path, upper: VotesRunner, upper_app: Flask
) -> None:
    def flip(envelope: dict[str, object]) -> None:
        signature = str(envelope["signature"])
        envelope["signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]

    def move(envelope: dict[str, object]) -> None:
        statement = envelope["statement"]
        assert isinstance(statement, dict)
        statement["place"][1]["code"] = "T-HN"

    for change in (flip, move):
        outcome = upper("import-bundle", _comment(package, change))
        assert outcome.exit_code != 0
        assert "signature does not match" in outcome.stderr or "chữ ký" in outcome.stderr
    assert _rounds(upper_app) == 0


def test_an_unsigned_bundle_or_a_stranger_key_is_refused(
    package: Path, upper: VotesRunner, upper_app: Flask, tmp_path: Path, app: Flask
) -> None:
    # Signed by a key the province never registered: a third installation's.
    with app.extensions["votes.sessions"]() as session:
        # The commune's key is lost; a new one is made.
        session.execute(text("DELETE FROM installation_key"))
        session.commit()
    stranger = tmp_path / "stranger.zip"
    runner = VotesRunner(app)
    assert runner("export", 1, "--out", stranger).exit_code == 0
    outcome = upper("import-bundle", stranger)
    assert outcome.exit_code != 0
    assert "not registered" in outcome.stderr or "chưa được đăng ký" in outcome.stderr
    plain = _comment(package, lambda envelope: envelope.clear())
    outcome = upper("import-bundle", plain)
    assert outcome.exit_code != 0
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"not a zip at all")
    outcome = upper("import-bundle", garbage)
    assert outcome.exit_code != 0
    assert "Traceback" not in outcome.stderr
    assert _rounds(upper_app) == 0


def test_a_key_trusted_for_another_body_is_refused(
    package: Path, upper: VotesRunner, upper_app: Flask, votes: VotesRunner
) -> None:
    public = votes("keys", "show").stdout.strip()
    assert upper("body", "add", "T-HN", "Tỉnh ủy Hà Nam", "--level", "province").exit_code == 0
    with upper_app.extensions["votes.sessions"]() as session:
        session.execute(text("DELETE FROM trusted_key"))
        session.commit()
    assert upper("keys", "trust", "T-HN", public).exit_code == 0
    outcome = upper("import-bundle", package)
    assert outcome.exit_code != 0
    assert "X-MH" in outcome.stderr
    assert _rounds(upper_app) == 0


@pytest.mark.parametrize("change", [_ballots, _log, _results], ids=["ballots", "log", "results"])
def test_a_package_changed_and_signed_again_by_its_own_key_fails_the_recount(
    package: Path,
    upper: VotesRunner,
    upper_app: Flask,
    app: Flask,
    change: Callable[[dict[str, bytes]], None],
) -> None:
    """Somebody holding the commune's key re-signs altered files: the recount still refuses."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from votes.package import _canonical

    tampered = _rewrite(package, change, sums=True)
    with app.extensions["votes.sessions"]() as session:
        private = session.execute(text("SELECT private_key FROM installation_key")).scalar_one()
    with zipfile.ZipFile(tampered) as archive:
        envelope = json.loads(archive.comment)
        sums = archive.read(next(n for n in archive.namelist() if n.endswith("SHA256SUMS")))
    envelope["statement"]["sha256sums"] = hashlib.sha256(sums).hexdigest()
    key = Ed25519PrivateKey.from_private_bytes(private)
    envelope["signature"] = key.sign(_canonical(envelope["statement"])).hex()
    resigned = _comment(tampered, lambda e: e.update(envelope))
    outcome = upper("import-bundle", resigned)
    assert outcome.exit_code != 0
    assert "recount does not hold" in outcome.stderr or "kiểm lại" in outcome.stderr, outcome.stderr
    assert _rounds(upper_app) == 0


def test_the_upper_level_may_name_the_levels_above_differently(
    votes: VotesRunner, session: Session, tmp_path: Path, upper: VotesRunner, upper_app: Flask
) -> None:
    """The province calls itself TSL upstairs; the commune's own database says T-SL."""
    round_id = _commune_round(session)
    public = votes("keys", "show").stdout.strip()
    out = tmp_path / "x-mh.zip"
    assert votes("export", round_id, "--out", out).exit_code == 0
    assert upper("body", "add", "TSL", "Tỉnh ủy Sơn La", "--level", "province").exit_code == 0
    added = upper("body", "add", "X-MH", "Xã Mường Hung", "--level", "commune", "--parent", "TSL")
    assert added.exit_code == 0
    assert upper("keys", "trust", "X-MH", public).exit_code == 0
    done = upper("import-bundle", out)
    assert done.exit_code == 0, done.stderr
    assert "X-MH" in upper("round", "list", "--under", "TSL").stdout
    assert upper("body", "list").stdout.count("T-SL") == 0
