"""The `votes` command: run a whole round from the terminal."""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from . import audit, create_app, profiles, rounds, rules, voting
from .config import ConfigError
from .db import write_session
from .errors import N_, InvalidInput, NotFound, VotesError
from .i18n import translate
from .migrate import upgrade
from .models import AuditEvent, Person, Round
from .results import round_results
from .text import decimal_comma, integer_text, name_sort_key

LANGUAGE = os.environ.get("VOTES_LANG", "vi")
_DEMO = {"active": False}


def _(msgid: str, **params: Any) -> str:
    return translate(msgid, LANGUAGE).format(**params)


def _make_app() -> Flask:
    return create_app({"DEMO": True} if _DEMO["active"] else None)


cli = FlaskGroup(
    name="votes",
    create_app=_make_app,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
    help="Phiếu tín nhiệm — lấy phiếu tín nhiệm bỏ phiếu kín, kiểm phiếu chính xác.",
)


@contextmanager
def writing() -> Iterator[Session]:
    """Yield a session that commits at the end, or changes nothing on error."""
    with write_session(current_app.extensions["votes.sessions"]) as session:
        session.info["actor"] = f"cli:{getpass.getuser()}"
        yield session


@contextmanager
def reading() -> Iterator[Session]:
    """Yield a read-only session."""
    with current_app.extensions["votes.sessions"]() as session:
        yield session
        session.rollback()


def emit_json(data: Any) -> None:
    """Print JSON with Vietnamese letters as they are."""
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def read_file(path: str) -> bytes:
    """Read a whole input file, or refuse with a clear message."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InvalidInput(
            N_("Cannot read {path}: {reason}."), path=path, reason=exc.strerror
        ) from exc


# ---------------------------------------------------------------------------- database

@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema."""
    upgrade(current_app.extensions["votes.engine"])
    click.echo(_("The database schema is up to date."))


# ---------------------------------------------------------------------------- bodies

@cli.group("body")
def body_group() -> None:
    """Bodies (Party committees, People's Councils, the Assembly)."""


@body_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice(rounds.BODY_KINDS), default="party", show_default=True)
def body_add(code: str, name: str, kind: str) -> None:
    """Add a body."""
    with writing() as session:
        body = rounds.add_body(session, code, name, kind)
        click.echo(_("Body {code} added: {name}.", code=body.code, name=body.name))


@body_group.command("list")
def body_list() -> None:
    """List the bodies."""
    from .models import Body

    with reading() as session:
        for body in session.scalars(select(Body).order_by(Body.code)):
            click.echo(f"{body.code}\t{body.kind}\t{body.name}")


# ---------------------------------------------------------------------------- rounds

@cli.group("round")
def round_group() -> None:
    """Rounds: create, open, close, publish."""


@round_group.command("create")
@click.option("--body", "body_code", required=True)
@click.option("--year", type=int, required=True)
@click.option("--profile", "profile_id", required=True)
@click.option("--title", required=True)
@click.option("--members", type=click.IntRange(min=0), required=True)
@click.option("--summoned", type=click.IntRange(min=0))
@click.option("--present", type=click.IntRange(min=0))
@click.option("--roster", type=click.Path(dir_okay=False), required=True)
@click.option("--place")
def round_create(
    body_code: str, year: int, profile_id: str, title: str, members: int,
    summoned: int | None, present: int | None, roster: str, place: str | None,
) -> None:
    """Create a draft round from a roster CSV; print the round id as the last line."""
    entries = rounds.parse_roster(read_file(roster))
    with writing() as session:
        body = rounds.get_body(session, body_code)
        rounds.check_profile_fits(session, body, profile_id)
        round_ = rounds.create_round(
            session, body, year=year, profile_id=profile_id, title=title, roster=entries,
            members=members, summoned=summoned, present=present, place=place,
        )
        click.echo(_("Round created with {items} items and {exempt} exempt.",
                     items=len(round_.items), exempt=len(round_.exemptions)))
        click.echo(round_.id)


def _transition(round_id: int, action: Callable[[Session, Round], None], msgid: str) -> None:
    with writing() as session:
        round_ = rounds.get_round(session, round_id)
        action(session, round_)
        click.echo(_(msgid, id=round_.id))


@round_group.command("attendance")
@click.argument("round_id", type=int)
@click.option("--members", type=click.IntRange(min=0))
@click.option("--summoned", type=click.IntRange(min=0))
@click.option("--present", type=click.IntRange(min=0))
def round_attendance(
    round_id: int, members: int | None, summoned: int | None, present: int | None
) -> None:
    """Show, or change while draft or open, the members, summoned and present of a round."""
    change = (members, summoned, present) != (None, None, None)
    with writing() if change else reading() as session:
        round_ = rounds.get_round(session, round_id)
        if change:  # an option left out keeps the figure recorded
            rounds.set_attendance(
                session, round_,
                members=round_.members if members is None else members,
                summoned=round_.summoned if summoned is None else summoned,
                present=round_.present if present is None else present,
            )
        click.echo(_("Round {id}: {members} members, {summoned} summoned, {present} present.",
                     id=round_.id, members=integer_text(round_.members),
                     summoned=integer_text(round_.summoned),
                     present=integer_text(round_.present)))


@round_group.command("open")
@click.argument("round_id", type=int)
def round_open(round_id: int) -> None:
    """Open a draft round for voting."""
    _transition(round_id, rounds.open_round, N_("Round {id} is open."))


@round_group.command("close")
@click.argument("round_id", type=int)
def round_close(round_id: int) -> None:
    """Close an open round; no ballot is accepted after this."""
    _transition(round_id, rounds.close_round, N_("Round {id} is closed."))


@round_group.command("publish")
@click.argument("round_id", type=int)
def round_publish(round_id: int) -> None:
    """Publish a closed round's results."""
    _transition(round_id, rounds.publish_round, N_("Round {id} is published."))


@round_group.command("list")
@click.option("--body", "body_code")
def round_list(body_code: str | None) -> None:
    """List rounds."""
    with reading() as session:
        query = select(Round).order_by(Round.id)
        if body_code:
            query = query.where(Round.body_id == rounds.get_body(session, body_code).id)
        for round_ in session.scalars(query):
            click.echo(
                f"{round_.id}\t{round_.body.code}\t{round_.year}\t{round_.status}\t"
                f"{round_.profile_id}@{round_.profile_version}\t{round_.title}"
            )


@round_group.command("followup")
@click.option("--from-round", "source_id", type=int, required=True)
@click.option("--title")
@click.option("--members", type=click.IntRange(min=0), help="default: as in the poll")
@click.option("--summoned", type=click.IntRange(min=0), help="default: as in the poll")
@click.option("--present", type=click.IntRange(min=0), help="default: as in the poll")
def round_followup(
    source_id: int, title: str | None, members: int | None, summoned: int | None,
    present: int | None,
) -> None:
    """Create a vote of confidence for the persons whose finding calls for one."""
    from .followup import create_followup

    with writing() as session:
        round_ = create_followup(session, rounds.get_round(session, source_id), title=title,
                                 members=members, summoned=summoned, present=present)
        click.echo(_("Vote of confidence created with {items} items.", items=len(round_.items)))
        click.echo(round_.id)


# ---------------------------------------------------------------------------- codes & ballots

@cli.group("codes")
def codes_group() -> None:
    """Voter codes."""


@codes_group.command("issue")
@click.argument("round_id", type=int)
@click.option("--count", type=click.IntRange(min=1, max=100_000), required=True)
@click.option("--out", type=click.Path(dir_okay=False))
def codes_issue(round_id: int, count: int, out: str | None) -> None:
    """Issue voter codes for a draft or open round; one code per line."""
    with writing() as session:
        round_ = rounds.get_round(session, round_id)
        codes = rounds.issue_round_codes(session, round_, count, current_app.config["SECRET_KEY"])
    text = "\n".join(codes) + "\n"
    if out:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(_("{count} codes written to {path}.", count=count, path=out), err=True)
    else:
        click.echo(text, nl=False)


@cli.command("cast")
@click.argument("round_id", type=int)
@click.option("--code", required=True)
@click.option(
    "--marks", required=True, help="H,C,L,… in ballot order (T,K for a vote of confidence)"
)
def cast(round_id: int, code: str, marks: str) -> None:
    """Cast one online ballot with a voter code; print the receipt."""
    with current_app.extensions["votes.sessions"]() as session:
        rounds.get_round(session, round_id)
        receipt = voting.cast_ballot(
            session, current_app.config["SECRET_KEY"], code,
            [m for m in marks.split(",")], round_id=round_id,
        )
    click.echo(receipt)


@cli.group("ballots")
def ballots_group() -> None:
    """Paper ballots."""


@ballots_group.command("import")
@click.argument("round_id", type=int)
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--issued", type=click.IntRange(min=0), help="paper ballots handed out")
def ballots_import(round_id: int, path: str, issued: int | None) -> None:
    """Import a CSV of paper ballots: the whole file or nothing."""
    data = read_file(path)
    with writing() as session:
        round_ = rounds.get_round(session, round_id)
        result = voting.import_paper_ballots(session, round_, data, issued=issued)
    click.echo(_("{count} ballots imported ({valid} valid, {invalid} invalid); file SHA-256 {sha}.",
                 count=result.count, valid=result.valid, invalid=result.invalid, sha=result.sha256))


# ---------------------------------------------------------------------------- results

LEVEL_HEADINGS = {
    "high": N_("High"), "confidence": N_("Confidence"), "low": N_("Low"),
    "trust": N_("Trust"), "no_trust": N_("No trust"), "invalid": N_("Invalid"),
}
BASIS_HEADINGS = {
    "members": N_("all members"), "collected": N_("ballots collected"),
    "summoned": N_("persons summoned"), "present": N_("persons present"),
    "valid": N_("valid ballots"),
}


def results_text(result: dict[str, Any]) -> str:
    """Render a result as a plain-text table (Vietnamese by default)."""
    r = result["round"]
    b = result["ballots"]
    d = result["denominator"]
    lines = [
        f"{r['title']} — {r['body_name']} ({r['year']})",
        _("Profile {id} version {version}; status {status}.", id=r["profile"]["id"],
          version=r["profile"]["version"], status=r["status"]),
        _("Members {members}, summoned {summoned}, present {present}.",
          members=integer_text(result["members"]), summoned=integer_text(result["summoned"]),
          present=integer_text(result["present"])),
        _("Ballots issued {issued}, collected {collected}, valid {valid}, invalid {invalid}.",
          issued=integer_text(b["issued"]), collected=integer_text(b["collected"]),
          valid=integer_text(b["valid"]), invalid=integer_text(b["invalid"])),
        _("Percentages are of {basis}: D = {value}.", basis=_(BASIS_HEADINGS[d["basis"]]),
          value=integer_text(d["value"])),
        "",
    ]
    levels = list(result["items"][0]["percent"]) if result["items"] else []
    width = max([len(i["name"]) for i in result["items"]] + [10])
    header = f"{'#':>3}  {_('Name'):<{width}}  " + "  ".join(
        f"{_(LEVEL_HEADINGS[level]):>16}" for level in levels
    ) + f"  {_(LEVEL_HEADINGS['invalid']):>10}"
    lines.append(header)
    for item in result["items"]:
        cells = "  ".join(
            f"{item['counts'][level]:>5} ({decimal_comma(item['percent'][level]):>6} %)"
            for level in levels
        )
        lines.append(f"{item['order']:>3}  {item['name']:<{width}}  {cells}  "
                     f"{item['counts']['invalid']:>10}")
        for finding in item["findings"]:
            language = LANGUAGE if LANGUAGE in ("vi", "en") else "vi"
            lines.append(f"     ⚑ {finding['consequence'][language]}")
    if result["exempt"]:
        lines.append("")
        lines.append(_("Exempt:"))
        for person in result["exempt"]:
            lines.append(f"  - {person['name']} ({person['position']}): {person['reason']}")
    return "\n".join(lines)


def results_csv(result: dict[str, Any]) -> str:
    """Render a result as CSV, one line per item."""
    levels = list(result["items"][0]["percent"]) if result["items"] else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["order", "person_key", "name", "position", *levels, "invalid",
         *[f"{level}_percent" for level in levels], "denominator", "findings"]
    )
    for item in result["items"]:
        writer.writerow([
            item["order"], item["person_key"] or "", item["name"], item["position"],
            *[item["counts"][level] for level in levels], item["counts"]["invalid"],
            *[item["percent"][level] or "" for level in levels],
            result["denominator"]["value"] if result["denominator"]["value"] is not None else "",
            ";".join(f"{f['rule']}:{f['band']}" for f in item["findings"]),
        ])
    return out.getvalue()


@cli.command("results")
@click.argument("round_id", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text",
              show_default=True)
def results(round_id: int, fmt: str) -> None:
    """Print the results of a closed round (never of an open one)."""
    with reading() as session:
        result = round_results(session, rounds.get_round(session, round_id))
    if fmt == "json":
        emit_json(result)
    elif fmt == "csv":
        click.echo(results_csv(result), nl=False)
    else:
        click.echo(results_text(result))


# ---------------------------------------------------------------------------- rules

@cli.group("profiles")
def profiles_group() -> None:
    """Rule profiles."""


@profiles_group.command("list")
def profiles_list() -> None:
    """List every profile version."""
    with reading() as session:
        for (pid, version), profile in sorted(profiles.all_profiles(session).items()):
            origin = _("built-in") if profile.builtin else _("added")
            click.echo(f"{pid}\t{version}\t{origin}\t{profile.name.vi}")


@profiles_group.command("show")
@click.argument("profile_id")
@click.option("--version", type=int)
def profiles_show(profile_id: str, version: int | None) -> None:
    """Show a profile with its rules in words (JSON)."""
    with reading() as session:
        try:
            profile = profiles.get_profile(session, profile_id, version)
        except profiles.UnknownProfile as exc:
            raise NotFound(N_("Unknown profile {profile}."), profile=profile_id) from exc
        emit_json(profile.describe())


@profiles_group.command("add")
@click.argument("path", type=click.Path(dir_okay=False))
def profiles_add(path: str) -> None:
    """Add a profile from a TOML file (validated; an existing version is never changed)."""
    try:
        source = read_file(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(N_("The profile file is not UTF-8.")) from exc
    with writing() as session:
        try:
            profile = profiles.add_profile(session, source)
        except profiles.ProfileError as exc:
            raise InvalidInput(N_("Profile refused: {reason}"), reason=str(exc)) from exc
        audit.record(session, "profile_added", details={
            "id": profile.id, "version": profile.version,
            "sha256": hashlib.sha256(source.encode("utf-8")).hexdigest(),
        })
    click.echo(_("Profile {id} version {version} added.", id=profile.id, version=profile.version))


@cli.command("findings")
@click.option("--body", "body_code", required=True)
@click.option("--year", type=int)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--pdf", type=click.Path(dir_okay=False), help="write the findings list as PDF")
def findings(body_code: str, year: int | None, fmt: str, pdf: str | None) -> None:
    """List the findings of a body: bands and years in a row."""
    with reading() as session:
        body = rounds.get_body(session, body_code)
        found = [f.as_dict() for f in rules.body_findings(session, body, year)]
        body_data = {"code": body.code, "name": body.name, "kind": body.kind}
    if pdf:
        from reports import findings_list

        Path(pdf).write_bytes(findings_list(body_data, found))
        click.echo(_("Written {path}.", path=pdf), err=True)
        return
    if fmt == "json":
        emit_json(found)
        return
    if not found:
        click.echo(_("No findings."))
    for finding in found:
        years = "–".join(str(y) for y in finding["years"])
        shares = ", ".join(
            f"{e['year']}: {e['count']}/{e['denominator']} = {decimal_comma(e['percent'])} %"
            for e in finding["evidence"]
        )
        click.echo(f"{years}  {finding['name']} ({finding['position']}) [{finding['rule']}: "
                   f"{finding['band']}] {shares}")
        click.echo(f"      → {finding['consequence']['vi' if LANGUAGE != 'en' else 'en']}")


@cli.command("history")
@click.option("--body", "body_code", required=True)
@click.option("--person", "person_key")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--pdf", type=click.Path(dir_okay=False), help="write one person's history as PDF")
def history(body_code: str, person_key: str | None, fmt: str, pdf: str | None) -> None:
    """Print each person's rounds by year with the low-confidence share and the findings."""
    with reading() as session:
        body = rounds.get_body(session, body_code)
        query = select(Person).where(Person.body_id == body.id)
        if person_key:
            query = query.where(Person.person_key == person_key)
        persons = sorted(session.scalars(query), key=lambda p: name_sort_key(p.name))
        if person_key and not persons:
            raise NotFound(N_("Unknown person {key} in body {code}."), key=person_key,
                           code=body.code)
        histories = [rules.person_history(session, body, person) for person in persons]
    if pdf:
        if len(histories) != 1:
            raise InvalidInput(N_("Give --person to write one person's history as PDF."))
        from reports import history as history_pdf

        Path(pdf).write_bytes(history_pdf(histories[0]))
        click.echo(_("Written {path}.", path=pdf), err=True)
        return
    if fmt == "json":
        emit_json(histories if not person_key else histories[0])
        return
    for entry in histories:
        click.echo(f"{entry['person']['name']} [{entry['person']['person_key']}]")
        for r in entry["rounds"]:
            if r["counts"] is None:
                click.echo(f"  {r['year']}  {r['position']}: {_('exempt')} — {r['exempt']}")
                continue
            level = "low" if "low" in r["counts"] else "no_trust"
            click.echo(
                f"  {r['year']}  {r['position']}: {_(LEVEL_HEADINGS[level])} "
                f"{r['counts'][level]}/{integer_text(r['denominator']['value'])} = "
                f"{decimal_comma(r['percent'][level])} %  (#{r['round_id']})"
            )
        for finding in entry["findings"]:
            years = "–".join(str(y) for y in finding["years"])
            click.echo(f"  ⚑ {years}: {finding['consequence']['vi' if LANGUAGE != 'en' else 'en']}")


# ---------------------------------------------------------------------------- reports

def round_document(round_: Round) -> dict[str, Any]:
    """Describe a round and its ballot items for the ballot form and the slips."""
    session = object_session(round_)
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    return {
        "id": round_.id, "body": round_.body.code, "body_name": round_.body.name,
        "body_kind": round_.body.kind, "year": round_.year, "title": round_.title,
        "status": round_.status, "scale": round_.scale,
        "profile": {"id": round_.profile_id, "version": round_.profile_version},
        "invalid_scope": profile.invalid_marks,
        "items": [{"order": i.order, "name": i.name, "position": i.position, "kind": i.kind}
                  for i in round_.items],
    }


@cli.command("report")
@click.argument("round_id", type=int)
@click.option("--kind", type=click.Choice(["minutes", "summary", "ballot", "slips"]),
              required=True)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@click.option("--count", type=click.IntRange(min=1, max=100_000),
              help="slips: issue this many new codes and print them")
@click.option("--place", help="minutes: the place written in the date line")
def report(round_id: int, kind: str, out: str, count: int | None, place: str | None) -> None:
    """Write a PDF: counting minutes, results summary, paper ballot form or code slips."""
    import reports

    if kind == "slips":
        # Codes are never stored, so slips are printed when the codes are issued.
        if count is None:
            raise InvalidInput(N_("Slips print new codes: give --count N."))
        with writing() as session:
            round_ = rounds.get_round(session, round_id)
            codes = rounds.issue_round_codes(session, round_, count,
                                             current_app.config["SECRET_KEY"])
            pdf = reports.slips(round_document(round_), codes, current_app.config["BASE_URL"])
            Path(out).write_bytes(pdf)
    else:
        with reading() as session:
            round_ = rounds.get_round(session, round_id)
            if kind == "ballot":
                pdf = reports.ballot_form(round_document(round_))
            else:
                result = round_results(session, round_)
                meta = {"place": place or round_.place} if (place or round_.place) else None
                pdf = (
                    reports.minutes(result, meta) if kind == "minutes" else reports.summary(result)
                )
        Path(out).write_bytes(pdf)
        with writing() as session:
            audit.record(session, "report_downloaded", round_id=round_id,
                         details={"kind": kind, "sha256": hashlib.sha256(pdf).hexdigest()})
    click.echo(_("Written {path}.", path=out))


# ---------------------------------------------------------------------------- audit

@cli.command("verify")
@click.argument("round_id", type=int, required=False)
@click.option("--all", "everything", is_flag=True, help="verify every round and the whole log")
@click.option("--bundle", type=click.Path(dir_okay=True), help="verify an export bundle instead")
def verify(round_id: int | None, everything: bool, bundle: str | None) -> None:
    """Recount from the raw ballots and check the log, the seal and the accounting."""
    from .verify import verify_all, verify_round

    if bundle:
        from .recount import check_bundle, read_bundle

        try:
            problems, checked = check_bundle(read_bundle(Path(bundle)))
        except (OSError, KeyError, ValueError) as exc:
            raise InvalidInput(N_("Cannot read the bundle {path}: {reason}"), path=bundle,
                               reason=str(exc)) from exc
    else:
        if round_id is None and not everything:
            raise InvalidInput(N_("Give a round id, --all or --bundle FILE."))
        with reading() as session:
            report = (verify_all(session) if everything
                      else verify_round(session, rounds.get_round(session, round_id or 0)))
        problems, checked = report.problems, report.checked
    for line in checked:
        click.echo(_("checked: {what}", what=line))
    for line in problems:
        click.echo(_("PROBLEM: {what}", what=line))
    if problems:
        click.echo(_("Verification failed: {count} problem(s).", count=len(problems)), err=True)
        raise click.exceptions.Exit(1)
    click.echo(_("Everything holds."))


@cli.command("export")
@click.argument("round_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
def export(round_id: int, out: str) -> None:
    """Write the export bundle of a closed round (zip) that anyone can recount."""
    from .bundle import export_round

    with reading() as session:
        data = export_round(session, rounds.get_round(session, round_id))
    Path(out).write_bytes(data)
    with writing() as session:
        audit.record(session, "bundle_exported", round_id=round_id,
                     details={"sha256": hashlib.sha256(data).hexdigest()})
    click.echo(_("Written {path}.", path=out))


@cli.command("receipts")
@click.argument("round_id", type=int)
@click.option("--check", "receipt", help="check that one receipt is among the counted ballots")
def receipts_command(round_id: int, receipt: str | None) -> None:
    """List the receipts of a closed round, or check one."""
    from .bundle import receipt_counted, receipts

    with reading() as session:
        round_ = rounds.get_round(session, round_id)
        if receipt:
            if receipt_counted(session, round_, receipt):
                click.echo(_("Receipt {receipt} is among the counted ballots.", receipt=receipt))
                return
            click.echo(_("Receipt {receipt} is not among the counted ballots of round {id}.",
                         receipt=receipt, id=round_id), err=True)
            raise click.exceptions.Exit(1)
        receipt_counted(session, round_, "")  # refuses a round that is still open
        for line in receipts(session, round_id):
            click.echo(line)


@cli.command("log")
@click.option("--round", "round_id", type=int)
def log_command(round_id: int | None) -> None:
    """Print the audit log (all events, or those of one round)."""
    with reading() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if round_id is not None:
            query = query.where(AuditEvent.round_id == round_id)
        for event in session.scalars(query):
            data = audit.event_dict(event)
            click.echo(f"{data['id']:>5}  {data['at']}  {data['actor']:<16} {data['kind']:<18} "
                       f"{data['round'] or '':>4}  {event.details}  {event.hash[:12]}")


@cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path: str) -> None:
    """Copy the SQLite database to a file, consistently, while the application runs."""
    import sqlite3

    engine = current_app.extensions["votes.engine"]
    if engine.dialect.name != "sqlite":
        raise InvalidInput(N_("votes backup copies SQLite databases; for PostgreSQL use pg_dump "
                              "(see docs/DEPLOY.md)."))
    target = Path(path)
    if target.exists():
        raise InvalidInput(N_("{path} already exists; choose a new file name."), path=path)
    source = sqlite3.connect(engine.url.database or "")
    try:
        destination = sqlite3.connect(str(target))
        with destination:
            source.backup(destination)
        destination.close()
    finally:
        source.close()
    click.echo(_("Written {path}.", path=path))


# ---------------------------------------------------------------------------- demo

@cli.command("demo")
@click.option("--no-serve", is_flag=True, help="only seed the demo and print the results")
def demo(no_serve: bool) -> None:
    """Seed a demo body with two years of rounds and print the results."""
    from .demo import seed_demo

    upgrade(current_app.extensions["votes.engine"])
    with writing() as session:
        round_ids = seed_demo(session, current_app.config["SECRET_KEY"])
    with reading() as session:
        for round_id in round_ids:
            round_ = rounds.get_round(session, round_id)
            if round_.status in ("closed", "published"):
                click.echo(results_text(round_results(session, round_)))
                click.echo("")
    if not no_serve:
        from .cli_web import serve_demo

        serve_demo(current_app._get_current_object())  # type: ignore[attr-defined]


from . import cli_web  # noqa: E402 - registers the staff commands on `cli`

cli_web.register(cli)


def run(args: list[str], obj: object | None = None) -> int:
    """Run the command line with arguments; return the exit status instead of exiting."""
    try:
        extra: dict[str, Any] = {} if obj is None else {"obj": obj}
        code = cli.main(args=args, prog_name="votes", standalone_mode=False, **extra)
    except click.exceptions.Abort:
        click.echo(_("Aborted."), err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except VotesError as exc:
        click.echo(_("Error: {message}", message=exc.message(LANGUAGE)), err=True)
        return 1
    except ConfigError as exc:
        click.echo(_("Configuration error: {message}", message=str(exc)), err=True)
        return 1
    except Exception as exc:
        if os.environ.get("VOTES_DEBUG") == "1":
            raise
        first_line = str(exc).splitlines()[0] if str(exc) else ""
        click.echo(_("Unexpected error ({kind}): {message}", kind=type(exc).__name__,
                     message=first_line), err=True)
        return 2
    return code if isinstance(code, int) else 0


def main() -> None:
    """Run the `votes` command; every refusal is one line on stderr and a non-zero exit."""
    args = sys.argv[1:]
    _DEMO["active"] = bool(args) and args[0] == "demo"
    sys.exit(run(args))


if __name__ == "__main__":
    main()
