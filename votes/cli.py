"""The `votes` command: run a whole round from the terminal.

A thin door: each command parses its options, calls one operation (votes.operations) or one
reading of the core, and prints the answer in the language of VOTES_LANG (Vietnamese by
default). Every refusal is one translated line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError
from werkzeug.serving import run_simple

from .config import DEMO_HOST, DEMO_PORT, KEY_FILE_STRENGTH, ConfigError
from .errors import N_, InvalidInput, VotesError
from .i18n import LANGUAGES, translate
from .lazy import lazy_module
from .limits import ID_MAX
from .text import decimal_comma, in_vietnam, integer_text
from .vocabulary import (
    BODY_KINDS,
    COMBINED,
    GROUP_KINDS,
    INVALID_MARKS_WORD,
    MEMBERS_HEADINGS,
    PUBLIC_KINDS,
    STATES,
    TREE_LEVELS,
    basis_words,
    levels,
)

# A command loads what it uses when it first uses it: the domain and the database mapping,
# the operations, and what only some commands need (ReportLab, Alembic, argon2, the web
# application). `votes --help` loads none of them (votes/lazy.py, issue 18); what the
# options and their help need at once comes from the light modules above.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    import reports

    from . import app as web_app
    from . import (
        audit,
        ballotbox,
        bundle,
        committee,
        demo,
        demo_tree,
        followup,
        groups,
        logfilter,
        meeting,
        migrate,
        models,
        operations,
        package,
        persons,
        profiles,
        recount,
        results,
        roster,
        rounds,
        rules,
        seal,
        sealed,
        tally,
        tree,
        trustee,
        verify,
    )
else:
    web_app = lazy_module("votes.app")
    audit = lazy_module("votes.audit")
    ballotbox = lazy_module("votes.ballotbox")
    bundle = lazy_module("votes.bundle")
    committee = lazy_module("votes.committee")
    demo = lazy_module("votes.demo")
    demo_tree = lazy_module("votes.demo_tree")
    followup = lazy_module("votes.followup")
    groups = lazy_module("votes.groups")
    logfilter = lazy_module("votes.logfilter")
    meeting = lazy_module("votes.meeting")
    migrate = lazy_module("votes.migrate")
    models = lazy_module("votes.models")
    operations = lazy_module("votes.operations")
    package = lazy_module("votes.package")
    persons = lazy_module("votes.persons")
    profiles = lazy_module("votes.profiles")
    recount = lazy_module("votes.recount")
    results = lazy_module("votes.results")
    roster = lazy_module("votes.roster")
    rounds = lazy_module("votes.rounds")
    rules = lazy_module("votes.rules")
    seal = lazy_module("votes.seal")
    sealed = lazy_module("votes.sealed")
    tally = lazy_module("votes.tally")
    tree = lazy_module("votes.tree")
    trustee = lazy_module("votes.trustee")
    verify = lazy_module("votes.verify")
    reports = lazy_module("reports")

LANGUAGE = os.environ.get("VOTES_LANG", "vi")
GROUP_OPTION = click.option(
    "--group",
    "group",
    type=click.IntRange(min=1, max=ID_MAX),
    help=N_("the voter group's number (default: the only group)"),
)
_DEMO = {"active": False}


def language() -> str:
    """Return the language of the command line (VOTES_LANG: vi, the default, or en)."""
    return LANGUAGE if LANGUAGE in LANGUAGES else "vi"


def _(msgid: str, **params: Any) -> str:
    """Translate a message into the language of the command line."""
    return translate(msgid, language()).format(**params)


# ---------------------------------------------------------------------------- help in Vietnamese


# The headings and the option notes Click writes in a help page, translated by Formatter.
HEADINGS = (N_("Options"), N_("Commands"), N_("Arguments"))
NOTES = {"required": N_("required"), "default:": N_("default:")}
NOTE = re.compile(r"\[[^\]]*\]$")


class Formatter(click.HelpFormatter):
    """Click's help with its headings in the language of the command line."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        """Write the usage line with a translated prefix."""
        super().write_usage(prog, args, prefix=_("Usage: ") if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        """Write a translated section heading (Options, Commands)."""
        super().write_heading(_(heading))

    def write_dl(self, rows: Iterable[tuple[str, str]], *args: Any, **kwargs: Any) -> None:
        """Write a list of options or commands with Click's notes ([required]) translated."""
        super().write_dl(
            [(term, NOTE.sub(self._note, text)) for term, text in rows], *args, **kwargs
        )

    @staticmethod
    def _note(found: re.Match[str]) -> str:
        note = found.group(0)
        for word, msgid in NOTES.items():
            note = note.replace(word, _(msgid))
        return note


class Context(click.Context):
    """A Click context whose help is written by Formatter."""

    formatter_class = Formatter


class Command(click.Command):
    """A command whose help texts go through the message catalogue."""

    context_class = Context

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        """Return the --help option with its text translated."""
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = _("Show this message and exit.")
        return option

    @contextmanager
    def _translated_help(self) -> Iterator[None]:
        """Show the description in the language of the command line while help is written."""
        original = self.help
        if original:
            self.help = _(original)
        try:
            yield
        finally:
            self.help = original

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the command's description, translated."""
        with self._translated_help():
            super().format_help_text(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        """Return the one-line description shown in lists of commands, translated."""
        with self._translated_help():
            return super().get_short_help_str(limit)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Write the options with their help texts translated (the options stay as defined)."""
        options = [p for p in self.get_params(ctx) if isinstance(p, click.Option) and p.help]
        originals = [option.help for option in options]
        for option in options:
            option.help = _(option.help or "")
        try:
            super().format_options(ctx, formatter)
        finally:
            for option, original in zip(options, originals, strict=True):
                option.help = original


class Group(AppGroup, Command):
    """A group of commands with translated help, whose commands and subgroups are alike."""

    command_class = Command

    def group(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Group]:
        """Add a subgroup of the same kind."""
        kwargs.setdefault("cls", Group)
        return cast(Callable[[Callable[..., Any]], Group], super().group(*args, **kwargs))


class Root(FlaskGroup, Group):
    """The `votes` command: its commands are listed without loading the application.

    Flask's group would build the application just to list commands (a missing secret key
    then printed a traceback under `votes --help`); every command of ours is registered here.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        """List the commands without building the application."""
        return sorted(self.commands)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Return a command without building the application."""
        return self.commands.get(name)


def _make_app() -> Flask:
    return web_app.create_app({"DEMO": True} if _DEMO["active"] else None)


cli = Root(
    name="votes",
    create_app=_make_app,
    add_version_option=False,
    # Flask's run, shell and routes: `votes demo` serves, gunicorn serves in production.
    add_default_commands=False,
    load_dotenv=False,
    set_debug_flag=False,
    help=N_("Confidence votes by secret ballot, counted exactly."),
)
# Flask's --app, --env-file and --debug mean nothing here: the application is always ours,
# configured by the VOTES_* variables (VOTES_DEBUG=1 for tracebacks).
cli.params = [p for p in cli.params if p.name not in ("app", "env_file", "debug")]


# ---------------------------------------------------------------------------- sessions


def actor() -> str:
    """Return who acts through the command line: cli:<the operating-system user>."""
    return f"cli:{getpass.getuser()}"


def sessions() -> Any:
    """Return the application's session factory."""
    return current_app.extensions["votes.sessions"]


@contextmanager
def working() -> Iterator[operations.Work]:
    """Yield a unit of work that commits at the end, or changes nothing on a refusal."""
    with operations.work(sessions(), actor()) as work:
        yield work


@contextmanager
def reading() -> Iterator[Session]:
    """Yield a read-only session."""
    with sessions()() as session:
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


def write_file(path: str, data: bytes) -> None:
    """Write an output file, or refuse with a clear message."""
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise InvalidInput(
            N_("Cannot write {path}: {reason}."), path=path, reason=exc.strerror
        ) from exc


def consequence(finding: dict[str, Any]) -> str:
    """Return a finding's consequence in the language of the command line."""
    words: dict[str, str] = finding["consequence"]
    return words[language()]


# ---------------------------------------------------------------------------- database


@cli.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the database schema."""
    migrate.upgrade(current_app.extensions["votes.engine"])
    click.echo(_("The database schema is up to date."))


@db_group.command("compact")
def db_compact() -> None:
    """Compact the ballot tables again after a close (when it could not be done at once)."""
    if not rounds.compact(current_app.extensions["votes.engine"]):
        raise InvalidInput(
            N_("The ballot tables could not be compacted now; try again when nobody is voting.")
        )
    click.echo(_("The ballot tables are compacted."))


# ---------------------------------------------------------------------------- bodies


@cli.group("body")
def body_group() -> None:
    """Bodies (Party committees, People's Councils, the Assembly)."""


@body_group.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice(list(BODY_KINDS)), default="party", show_default=True)
@click.option(
    "--level",
    type=click.Choice(list(TREE_LEVELS)),
    help=N_("the level in the tree (default: central for the Assembly, else province)"),
)
@click.option("--parent", help=N_("the code of the body one level up"))
def body_add(code: str, name: str, kind: str, level: str | None, parent: str | None) -> None:
    """Add a body."""
    with working() as work:
        body = operations.add_body(work, code, name, kind, level=level, parent=parent)
        click.echo(_("Body {code} added: {name}.", code=body.code, name=body.name))


@body_group.command("set")
@click.argument("code")
@click.option("--level", type=click.Choice(list(TREE_LEVELS)), help=N_("the new level"))
@click.option("--parent", help=N_('the code of the new parent ("" for the top of the tree)'))
def body_set(code: str, level: str | None, parent: str | None) -> None:
    """Move a body in the tree of bodies."""
    with working() as work:
        body = operations.place_body(work, code, level=level, parent=parent)
        click.echo(
            _(
                "Body {code} is now at the level {level}: {path}.",
                code=body.code,
                level=_(TREE_LEVELS[body.level]),
                path=tree.path_text(work.session, body),
            )
        )


@body_group.command("list")
@click.option("--under", "under", help=N_("only this body and the bodies under it"))
def body_list(under: str | None) -> None:
    """List the bodies as a tree: each body followed by those under it."""
    with reading() as session:
        only = tree.subtree_ids(session, [rounds.get_body(session, under).id]) if under else None
        for line in tree.tree_lines(session, only):
            body = line.body
            click.echo(
                f"{'    ' * line.depth}{body.code}\t{_(TREE_LEVELS[body.level])}\t{body.kind}\t"
                f"{body.name}"
            )


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
@click.option("--roster", "roster_path", type=click.Path(dir_okay=False), required=True)
@click.option("--place")
@click.option(
    "--exception-decision",
    help=N_(
        "the number of the decision that allows a round outside the profile's dates or frequency"
    ),
)
@click.option(
    "--other-exemption",
    metavar="DECISION",
    help=N_("the number of the decision that allows exemptions the profile does not list"),
)
@click.option(
    "--same-person",
    multiple=True,
    metavar="LINE[=KEY]",
    help=N_('answer a roster line\'s "same person?": it is the person already known'),
)
@click.option(
    "--new-person",
    type=int,
    multiple=True,
    metavar="LINE",
    help=N_('answer a roster line\'s "same person?": it is somebody else'),
)
def round_create(
    body_code: str,
    year: int,
    profile_id: str,
    title: str,
    members: int,
    summoned: int | None,
    present: int | None,
    roster_path: str,
    place: str | None,
    exception_decision: str | None,
    other_exemption: str | None,
    same_person: tuple[str, ...],
    new_person: tuple[int, ...],
) -> None:
    """Create a draft round from a roster CSV; print the round id as the last line."""
    entries = roster.parse_roster(read_file(roster_path))
    for warning in roster.roster_warnings(entries):
        click.echo(_("Warning: {what}", what=warning.text(language())), err=True)
    with working() as work:
        for warning in persons.tree_warnings(work.session, work.body(body_code), year, entries):
            click.echo(_("Warning: {what}", what=warning.text(language())), err=True)
        identity = identity_answers(work, body_code, entries, same_person, new_person)
        round_ = operations.create_round(
            work,
            body_code=body_code,
            year=year,
            profile_id=profile_id,
            title=title,
            roster=entries,
            members=members,
            summoned=summoned,
            present=present,
            place=place,
            time_exception=exception_decision,
            other_exemption=other_exemption,
            identity=identity,
        )
        click.echo(
            _(
                "Round created with {items} items and {exempt} exempt.",
                items=len(round_.items),
                exempt=len(round_.exemptions),
            )
        )
        click.echo(round_.id)


def identity_answers(
    work: operations.Work,
    body_code: str,
    entries: list[Any],
    same: tuple[str, ...],
    new: tuple[int, ...],
) -> dict[int, str]:
    """Turn --same-person LINE[=KEY] and --new-person LINE into answers by line."""
    answers: dict[int, str] = dict.fromkeys(new, roster.NEW_PERSON)
    questions = {
        q.line: q for q in roster.identity_questions(work.session, work.body(body_code), entries)
    }
    for given in same:
        line_text, _sep, key = given.partition("=")
        if not line_text.strip().isdigit():
            raise InvalidInput(
                N_("--same-person takes LINE or LINE=KEY, not {value!r}."), value=given
            )
        line = int(line_text)
        question = questions.get(line)
        if not key:
            if question is None or len(question.candidates) != 1:
                raise InvalidInput(
                    N_("Line {line}: name the person with --same-person {line}=KEY."), line=line
                )
            key = question.candidates[0][0]
        answers[line] = key.strip()
    return answers


def _transition(
    round_id: int, action: Callable[[operations.Work, int], models.Round], msgid: str
) -> None:
    with working() as work:
        action(work, round_id)
    click.echo(_(msgid, id=round_id))


@round_group.command("attendance")
@click.argument("round_id", type=int)
@click.option("--members", type=click.IntRange(min=0))
@click.option("--summoned", type=click.IntRange(min=0))
@click.option("--present", type=click.IntRange(min=0))
@GROUP_OPTION
def round_attendance(
    round_id: int,
    members: int | None,
    summoned: int | None,
    present: int | None,
    group: int | None,
) -> None:
    """Show, or change while draft or open, members, summoned and present (of one group)."""
    if (members, summoned, present) != (None, None, None):
        with working() as work:  # an option left out keeps the figure recorded
            operations.record_attendance(
                work,
                round_id,
                members=operations.KEEP if members is None else members,
                summoned=operations.KEEP if summoned is None else summoned,
                present=operations.KEEP if present is None else present,
                group=group,
            )
    with reading() as session:
        round_ = rounds.get_round(session, round_id)
        if len(round_.groups) > 1:
            for each in round_.groups:
                if group is not None and each.number != group:
                    continue
                click.echo(
                    _(
                        "Voter group {number} ({name}): {members} members, {summoned} "
                        "summoned, {present} present.",
                        number=each.number,
                        name=each.name,
                        members=integer_text(each.members),
                        summoned=integer_text(each.summoned),
                        present=integer_text(each.present),
                    )
                )
        click.echo(
            _(
                "Round {id}: {members} members, {summoned} summoned, {present} present.",
                id=round_.id,
                members=integer_text(round_.members),
                summoned=integer_text(round_.summoned),
                present=integer_text(round_.present),
            )
        )
        for warning in tally.quorum_warnings(session, round_):
            click.echo(_("Warning: {message}", message=warning.text(language())), err=True)


@round_group.command("exempt")
@click.argument("round_id", type=int)
@click.option("--person", "person_key", required=True, help=N_("the person's key"))
@click.option(
    "--reason", required=True, help=N_("a reason the profile lists (its id or its words)")
)
@click.option(
    "--decision",
    default="",
    help=N_("for any other reason: the number of the decision that allows it"),
)
def round_exempt(round_id: int, person_key: str, reason: str, decision: str) -> None:
    """Leave a person off the ballot of a draft round, with the reason."""
    with working() as work:
        person = operations.exempt_person(work, round_id, person_key, reason, decision)
        click.echo(_("{name} is left off the ballot: {reason}.", name=person.name, reason=reason))


@round_group.command("resign")
@click.argument("round_id", type=int)
@click.option("--person", "person_key", required=True, help=N_("the person's key"))
@click.option("--decision", required=True, help=N_("the number of the decision on the resignation"))
def round_resign(round_id: int, person_key: str, decision: str) -> None:
    """Record that a person resigned before a draft vote of confidence: off its ballot."""
    with working() as work:
        person = operations.resign_person(work, round_id, person_key, decision)
        click.echo(
            _(
                "{name} resigned before the vote (decision {decision}) and is left off the ballot.",
                name=person.name,
                decision=decision,
            )
        )


@round_group.command("meeting")
@click.argument("round_id", type=int)
@click.option(
    "--held-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help=N_("the date of the meeting (YYYY-MM-DD, in Vietnam)"),
)
@click.option("--starts-at", help=N_("the time the meeting starts (HH:MM, in Vietnam)"))
@click.option(
    "--counted-at", help=N_('when the committee counted ("YYYY-MM-DD HH:MM", in Vietnam)')
)
@click.option("--place", help=N_("the place of the meeting"))
@click.option("--chair", help=N_("the person presiding"))
@click.option(
    "--committee",
    "committee_text",
    required=True,
    help=N_('the counting committee: "Họ tên (Trưởng ban); Họ tên; Họ tên"'),
)
def round_meeting(
    round_id: int,
    held_on: Any,
    starts_at: str | None,
    counted_at: str | None,
    place: str | None,
    chair: str | None,
    committee_text: str,
) -> None:
    """Record the meeting of a round and its counting committee (before the minutes are signed)."""
    members = meeting.parse_committee(committee_text)
    with working() as work:
        round_ = operations.record_meeting(
            work,
            round_id,
            held_on=held_on.date(),
            committee=members,
            starts_at=meeting.parse_local_time(starts_at) if starts_at else None,
            counted_at=meeting.parse_local_moment(counted_at) if counted_at else None,
            place=place,
            chair=chair,
        )
        click.echo(
            _(
                "Round {id}: the meeting of {date} is recorded, with a counting committee of "
                "{count}.",
                id=round_.id,
                date=round_.held_on.strftime("%d/%m/%Y") if round_.held_on else "—",
                count=len(round_.committee),
            )
        )


@round_group.command("restore")
@click.argument("round_id", type=int)
@click.option("--person", "person_key", required=True, help=N_("the person's key"))
def round_restore(round_id: int, person_key: str) -> None:
    """Put an exempt person back on the ballot of a draft round."""
    with working() as work:
        person = operations.restore_person(work, round_id, person_key)
        click.echo(_("{name} is back on the ballot.", name=person.name))


@round_group.command("open")
@click.argument("round_id", type=int)
@GROUP_OPTION
def round_open(round_id: int, group: int | None) -> None:
    """Open a draft round for voting (one voter group with --group; without it, every group)."""
    with working() as work:
        round_ = operations.open_round(work, round_id, group)
        widened = len(round_.groups) > 1
    if group is not None and widened:
        click.echo(_("Voter group {number} of round {id} is open.", number=group, id=round_id))
    else:
        click.echo(_("Round {id} is open.", id=round_id))


@round_group.command("close")
@click.argument("round_id", type=int)
@GROUP_OPTION
def round_close(round_id: int, group: int | None) -> None:
    """Close an open round, or one voter group (--group); no ballot is accepted after this."""
    with working() as work:
        round_ = operations.close_round(work, round_id, group)
        awaiting = round_.status == models.RoundStatus.DECRYPTING.value
        closed = round_.status != models.RoundStatus.OPEN.value
        key = committee.get_key(work.session, round_id)
        threshold, size = (key.threshold, key.size) if key is not None else (0, 0)
        pending = committee.pending_groups(key) if key is not None else []
    if group is not None and not closed:
        click.echo(_("Voter group {number} of round {id} is closed.", number=group, id=round_id))
        if group in pending:
            click.echo(
                _(
                    "Its online ballots are sealed: its result is found when {threshold} of "
                    "the {size} members of the counting committee have decrypted its totals. "
                    "Write the file for them with `votes committee totals {id} --out FILE`.",
                    id=round_id,
                    threshold=threshold,
                    size=size,
                )
            )
        return
    if not awaiting:
        click.echo(_("Round {id} is closed.", id=round_id))
        return
    click.echo(
        _(
            "Voting in round {id} has ended. Its online ballots are sealed: the round is "
            "counted when {threshold} of the {size} members of the counting committee have "
            "decrypted the totals. Write the file for them with `votes committee totals {id} "
            "--out FILE`.",
            id=round_id,
            threshold=threshold,
            size=size,
        )
    )


@round_group.command("publish")
@click.argument("round_id", type=int)
def round_publish(round_id: int) -> None:
    """Publish a closed round's results (public for a council or the Assembly only)."""
    with working() as work:
        round_ = operations.publish_round(work, round_id)
        public = round_.body.kind in PUBLIC_KINDS
    click.echo(_("Round {id} is published.", id=round_id))
    if public:
        click.echo(_("Anyone can see its results, without signing in, at /r/{id}.", id=round_id))
    else:
        click.echo(
            _(
                "Its results go to the committee and the level that manages the cadre: the "
                "staff with access to this body and the auditors. They are not public."
            )
        )


@round_group.command("list")
@click.option("--body", "body_code")
@click.option("--under", help=N_("the rounds of this body and of every body under it"))
def round_list(body_code: str | None, under: str | None) -> None:
    """List rounds."""
    with reading() as session:
        query = select(models.Round).order_by(models.Round.id)
        if body_code:
            query = query.where(models.Round.body_id == rounds.get_body(session, body_code).id)
        if under:
            below = tree.subtree_ids(session, [rounds.get_body(session, under).id])
            query = query.where(models.Round.body_id.in_(below))
        for round_ in session.scalars(query):
            click.echo(
                f"{round_.id}\t{round_.body.code}\t{round_.year}\t{_(STATES[round_.status])}\t"
                f"{round_.profile_id}@{round_.profile_version}\t{round_.title}"
            )


@round_group.command("followup")
@click.option(
    "--from-round",
    "source_id",
    type=int,
    help=N_("the counted poll whose findings call for the vote"),
)
@click.option("--title")
@click.option("--members", type=click.IntRange(min=0), help=N_("default: as in the poll"))
@click.option("--summoned", type=click.IntRange(min=0), help=N_("default: as in the poll"))
@click.option("--present", type=click.IntRange(min=0), help=N_("default: as in the poll"))
@click.option("--proposed-by", help=N_("a proposal: who proposed it (an id of the profile's list)"))
@click.option("--proposal-number", help=N_("a proposal: its number"))
@click.option(
    "--proposal-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help=N_("a proposal: its date (YYYY-MM-DD)"),
)
@click.option(
    "--person", "person_keys", multiple=True, help=N_("a proposal: the key of a person it names")
)
@click.option(
    "--signatories",
    type=click.IntRange(min=0),
    help=N_("a proposal: how many members signed it"),
)
@click.option("--body", "body_code", help=N_("a proposal without a poll: the body"))
@click.option("--year", type=int, help=N_("a proposal without a poll: the year"))
@click.option("--profile", "profile_id", help=N_("a proposal without a poll: the profile"))
@click.option(
    "--resigned",
    multiple=True,
    metavar="KEY=DECISION",
    help=N_("a person who resigned before the vote, and the decision"),
)
@click.option(
    "--exception-decision",
    help=N_("the number of the decision that allows a round outside the profile's dates"),
)
def round_followup(
    source_id: int | None,
    title: str | None,
    members: int | None,
    summoned: int | None,
    present: int | None,
    proposed_by: str | None,
    proposal_number: str | None,
    proposal_date: Any,
    person_keys: tuple[str, ...],
    signatories: int | None,
    body_code: str | None,
    year: int | None,
    profile_id: str | None,
    resigned: tuple[str, ...],
    exception_decision: str | None,
) -> None:
    """Create a vote of confidence: after a poll's findings, on a proposal, or both."""
    proposal = None
    if proposed_by or proposal_number or proposal_date or person_keys:
        if not (proposed_by and proposal_number and proposal_date):
            raise InvalidInput(
                N_(
                    "A proposal needs --proposed-by, --proposal-number, --proposal-date and "
                    "at least one --person."
                )
            )
        proposal = followup.Proposal(
            by=proposed_by,
            number=proposal_number,
            on=proposal_date.date(),
            persons=person_keys,
            signatories=signatories,
        )
    gone: dict[str, str] = {}
    for given in resigned:
        key, _sep, decision = given.partition("=")
        if not key.strip() or not decision.strip():
            raise InvalidInput(N_("--resigned takes KEY=DECISION, not {value!r}."), value=given)
        gone[key.strip()] = decision.strip()
    with working() as work:
        round_ = operations.follow_up(
            work,
            source_id,
            body_code=body_code,
            year=year,
            profile_id=profile_id,
            title=title,
            members=members,
            summoned=summoned,
            present=present,
            proposal=proposal,
            resigned=gone,
            time_exception=exception_decision,
        )
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
@GROUP_OPTION
def codes_issue(round_id: int, count: int, out: str | None, group: int | None) -> None:
    """Issue voter codes for a draft or open round (one voter group); one code per line."""
    with working() as work:
        codes = operations.issue_codes(
            work, round_id, count, current_app.config["SECRET_KEY"], group=group
        )
        text = "\n".join(codes) + "\n"
        if out:  # written before the codes are committed: none is issued that was not kept
            write_file(out, text.encode("ascii"))
    if out:
        click.echo(_("{count} codes written to {path}.", count=count, path=out), err=True)
    else:
        click.echo(text, nl=False)


@cli.command("cast")
@click.argument("round_id", type=int)
@click.option("--code", required=True)
@click.option(
    "--marks", required=True, help=N_("H,C,L,… in ballot order (T,K for a vote of confidence)")
)
@GROUP_OPTION
def cast_command(round_id: int, code: str, marks: str, group: int | None) -> None:
    """Cast one online ballot with a voter code (of the voter group --group); print the receipt."""
    with sessions()() as session:
        round_ = rounds.get_round(session, round_id)
        if group is not None:
            groups.get_group(round_, group)
        receipt = operations.cast_ballot(
            session,
            current_app.config["SECRET_KEY"],
            code,
            marks.split(","),
            round_id=round_id,
            group=group,
        )
    click.echo(receipt)


@cli.group("ballots")
def ballots_group() -> None:
    """Paper ballots."""


@ballots_group.command("import")
@click.argument("round_id", type=int)
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--issued", type=click.IntRange(min=0), help=N_("paper ballots handed out"))
@click.option(
    "--another-stack",
    is_flag=True,
    help=N_("the same file was imported before, but this is another stack of ballots"),
)
@GROUP_OPTION
def ballots_import(
    round_id: int, path: str, issued: int | None, another_stack: bool, group: int | None
) -> None:
    """Import a CSV of paper ballots (of one voter group): the whole file or nothing, once."""
    data = read_file(path)
    with working() as work:
        result = operations.import_paper_ballots(
            work, round_id, data, issued=issued, another_stack=another_stack, group=group
        )
    click.echo(
        _(
            "{count} ballots imported ({valid} valid, {invalid} invalid); file SHA-256 {sha}.",
            count=result.count,
            valid=result.valid,
            invalid=result.invalid,
            sha=result.sha256,
        )
    )


# ---------------------------------------------------------------------------- voter groups


@cli.group("group")
def group_group() -> None:
    """Voter groups of a round (widened participation)."""


@group_group.command("add")
@click.argument("round_id", type=int)
@click.argument("name")
@click.option("--members", type=click.IntRange(min=0), required=True)
@click.option("--summoned", type=click.IntRange(min=0))
@click.option("--present", type=click.IntRange(min=0))
@click.option("--deciding", is_flag=True, help=N_("this group's result decides"))
@click.option(
    "--kind",
    type=click.Choice(list(GROUP_KINDS)),
    help=N_("what the group is; a profile may name the kind whose result decides by default"),
)
def group_add(
    round_id: int,
    name: str,
    members: int,
    summoned: int | None,
    present: int | None,
    deciding: bool,
    kind: str | None,
) -> None:
    """Add a voter group to a draft round; print its number on the last line."""
    with working() as work:
        group = operations.add_group(
            work,
            round_id,
            name,
            members=members,
            summoned=summoned,
            present=present,
            deciding=deciding,
            kind=kind,
        )
        number = group.number
        name = group.name
    click.echo(
        _(
            "Voter group {number} ({name}) added to round {id}.",
            number=number,
            name=name,
            id=round_id,
        )
    )
    click.echo(str(number))


@group_group.command("list")
@click.argument("round_id", type=int)
def group_list(round_id: int) -> None:
    """List the voter groups of a round, the one that decides marked with *."""
    with reading() as session:
        round_ = rounds.get_round(session, round_id)
        for group in round_.groups:
            mark = "*" if round_.deciding_group == group.number else " "
            kind = f" [{group.kind}]" if group.kind else ""
            click.echo(
                f"{mark} {group.number:>3}  {group.name}{kind}  "
                + _(
                    "{members} members, {summoned} summoned, {present} present; {status}.",
                    members=integer_text(group.members),
                    summoned=integer_text(group.summoned),
                    present=integer_text(group.present),
                    status=_(STATES[group.status]),
                )
            )
        if round_.deciding_group is None:
            click.echo(_("* The combined result of all groups decides."))
        for warning in tally.quorum_warnings(session, round_):
            click.echo(_("Warning: {message}", message=warning.text(language())), err=True)


@group_group.command("meeting")
@click.argument("round_id", type=int)
@click.argument("number", type=click.IntRange(min=1, max=ID_MAX))
@click.option("--held-on", required=True, help=N_("the date of the group's meeting (YYYY-MM-DD)"))
@click.option("--place", help=N_("the place of the meeting"))
@click.option(
    "--committee",
    "committee_text",
    required=True,
    help=N_('the counting committee: "Họ tên (Trưởng ban); Họ tên; …"'),
)
def group_meeting(
    round_id: int, number: int, held_on: str, place: str | None, committee_text: str
) -> None:
    """Record a voter group's own meeting and counting committee (who sign its minutes)."""
    try:
        day = dt.date.fromisoformat(held_on.strip())
    except ValueError as exc:
        raise InvalidInput(
            N_("The date {value!r} is not a date (YYYY-MM-DD)."), value=held_on
        ) from exc
    with working() as work:
        operations.record_group_meeting(
            work,
            round_id,
            number,
            held_on=day,
            place=place,
            committee=meeting.parse_committee(committee_text),
        )
    click.echo(
        _(
            "The meeting of voter group {number} of round {id} is recorded.",
            number=number,
            id=round_id,
        )
    )


@group_group.command("decide")
@click.argument("round_id", type=int)
@click.argument("which")
def group_decide(round_id: int, which: str) -> None:
    """Name the result that decides, before the round opens: a group's number, or "combined"."""
    if which.strip().casefold() == COMBINED:
        number: int | None = None
    elif which.strip().isdigit() and int(which) <= ID_MAX:
        number = int(which)
    else:
        raise InvalidInput(
            N_('Give a voter group\'s number or "combined", not {value!r}.'), value=which
        )
    with working() as work:
        operations.choose_deciding(work, round_id, number)
    click.echo(
        _("The combined result of all groups decides round {id}.", id=round_id)
        if number is None
        else _("The result of voter group {number} decides round {id}.", number=number, id=round_id)
    )


# ---------------------------------------------------------------------------- results


def results_text(result: dict[str, Any]) -> str:
    """Render a result as a plain-text table (Vietnamese by default)."""
    r = result["round"]
    b = result["ballots"]
    d = result["denominator"]
    kind = r.get("body_kind") or "party"
    lines = [
        f"{r['title']} — {r['body_name']} ({r['year']})",
        _(
            "Profile {id} version {version}; status {status}.",
            id=r["profile"]["id"],
            version=r["profile"]["version"],
            status=_(STATES[r["status"]]),
        ),
        _(
            "{members_word} {members}, summoned {summoned}, present {present}.",
            members_word=_(MEMBERS_HEADINGS[kind]),
            members=integer_text(result["members"]),
            summoned=integer_text(result["summoned"]),
            present=integer_text(result["present"]),
        ),
        _(
            "Ballots issued {issued}, collected {collected}, valid {valid}, invalid {invalid}.",
            issued=integer_text(b["issued"]),
            collected=integer_text(b["collected"]),
            valid=integer_text(b["valid"]),
            invalid=integer_text(b["invalid"]),
        ),
        _(
            "Percentages are of {basis}: D = {value}.",
            basis=_(basis_words(d["basis"], kind)),
            value=integer_text(d["value"]),
        ),
    ]
    if result.get("sealed", {}).get("online"):
        lines.append(
            _(
                "Of the ballots collected, {online} were cast online, sealed and counted only as "
                "totals decrypted by the counting committee; {paper} were paper ballots, counted "
                "in the clear.",
                online=integer_text(result["sealed"]["online"]),
                paper=integer_text(result["sealed"]["paper"]),
            )
        )
    if result["quorum"].get("rule") not in (None, "none"):
        lines.append(
            _("Quorum: {rule}: met.", rule=result["quorum"][language()])
            if result["quorum_met"]
            else _("Quorum: {rule}: NOT MET.", rule=result["quorum"][language()])
        )
    if result.get("void"):
        lines.append(_("VOID: {reason}", reason=result["void_reason"][language()]))
    lines.append("")
    scale_levels = levels(r["scale"])
    width = max([len(i["name"]) for i in result["items"]] + [10])
    header = (
        f"{'#':>3}  {_('Name'):<{width}}  "
        + "  ".join(f"{_(level.short):>16}" for level in scale_levels)
        + f"  {_(INVALID_MARKS_WORD):>10}"
    )
    lines.append(header)
    for item in result["items"]:
        cells = "  ".join(
            f"{item['counts'][level.name]:>5} ({decimal_comma(item['percent'][level.name]):>6} %)"
            for level in scale_levels
        )
        lines.append(
            f"{item['order']:>3}  {item['name']:<{width}}  {cells}  {item['counts']['invalid']:>10}"
        )
        for finding in item["findings"]:
            what = rules.finding_message(finding, kind).text(language())
            lines.append(f"     ⚑ {what}: {consequence(finding)}")
    if result["exempt"]:
        lines.append("")
        lines.append(_("Exempt:"))
        for person in result["exempt"]:
            reason = person["reason"]
            if person.get("decision"):
                reason = _(
                    "{reason} (decision {decision})", reason=reason, decision=person["decision"]
                )
            lines.append(f"  - {person['name']} ({person['position']}): {reason}")
    return "\n".join(lines)


@cli.command("results")
@click.argument("round_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True
)
@click.option("--xlsx", type=click.Path(dir_okay=False), help=N_("write the results as .xlsx"))
@GROUP_OPTION
def results_command(round_id: int, fmt: str, xlsx: str | None, group: int | None) -> None:
    """Print the results of a closed round (never of an open one), per voter group too."""
    with reading() as session:
        round_ = rounds.get_round(session, round_id)
        result = results.round_results(session, round_, small_minimum=minimum())
        if group is not None:
            groups.get_group(round_, group)
            result = results.group_view(result, group)
        if xlsx:
            document = operations.documents.results_xlsx(session, round_id)
    if xlsx:
        write_file(xlsx, document.data)
        with working() as work:
            operations.log_download(work, document, round_id=round_id)
        click.echo(_("Written {path}.", path=xlsx))
        return
    if fmt == "json":
        emit_json(result)
    elif fmt == "csv":
        click.echo(operations.documents.results_csv_text(result, language()), nl=False)
    else:
        click.echo(results_text(result))
        if group is None and len(result.get("groups") or []) > 1:
            click.echo("")
            click.echo(groups_text(result))


def minimum() -> int:
    """Return the configured small-round minimum (VOTES_SMALL_ROUND_MINIMUM)."""
    return int(current_app.config.get("SMALL_ROUND_MINIMUM", groups.small_minimum()))


def groups_text(result: dict[str, Any]) -> str:
    """Render the voter groups side by side: each person's low share per group and combined."""
    lowest = levels(result["round"]["scale"])[-1]
    low = lowest.name
    columns: list[tuple[str, dict[str, Any]]] = [
        (f"{g['number']}. {g['name']}" + (" *" if g["deciding"] else ""), g)
        for g in result["groups"]
    ]
    combined = result["combined"]
    columns.append((_("Combined") + (" *" if combined["deciding"] else ""), combined))
    lines = [_("Voter groups (* decides): the share of {level} per group.", level=_(lowest.word))]
    for title, part in columns:
        if part.get("hidden_small") or part.get("withheld"):
            lines.append(
                "  "
                + _(
                    "{title}: not shown alone (fewer than {minimum} ballots or members); "
                    "counted inside the combined result.",
                    title=title,
                    minimum=result["small_minimum"],
                )
            )
            continue
        lines.append(
            "  "
            + _(
                "{title}: {collected} ballots collected; D = {value}.",
                title=title,
                collected=integer_text(part["ballots"]["collected"]),
                value=integer_text(part["denominator"]["value"]),
            )
        )
        for item in part["items"]:
            share = item["percent"][low]
            lines.append(
                f"      {item['order']:>3}  {item['name']}: {item['counts'][low]} "
                f"({decimal_comma(share) if share is not None else '—'} %)"
            )
    return "\n".join(lines)


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
        emit_json(profiles.get_profile(session, profile_id, version).describe())


@profiles_group.command("add")
@click.argument("path", type=click.Path(dir_okay=False))
def profiles_add(path: str) -> None:
    """Add a profile from a TOML file (validated; an existing version is never changed)."""
    source = read_file(path)
    with working() as work:
        profile = operations.add_profile(work, source)
    click.echo(_("Profile {id} version {version} added.", id=profile.id, version=profile.version))


@cli.command("findings")
@click.option("--body", "body_code", required=True)
@click.option("--year", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--pdf", type=click.Path(dir_okay=False), help=N_("write the findings list as PDF"))
@click.option("--xlsx", type=click.Path(dir_okay=False), help=N_("write the findings as .xlsx"))
def findings(body_code: str, year: int | None, fmt: str, pdf: str | None, xlsx: str | None) -> None:
    """List the findings of a body: bands and years in a row."""
    with reading() as session:
        if pdf:
            document = operations.documents.findings_pdf(session, body_code, year)
        if xlsx:
            workbook = operations.documents.findings_xlsx(session, body_code, year)
        found = operations.documents.findings(session, body_code, year)
        kind = rounds.get_body(session, body_code).kind
    if xlsx:
        write_file(xlsx, workbook.data)
        click.echo(_("Written {path}.", path=xlsx), err=True)
    if pdf:
        write_file(pdf, document.data)
        click.echo(_("Written {path}.", path=pdf), err=True)
    if pdf or xlsx:
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
        what = rules.finding_message(finding, kind).text(language())
        click.echo(f"{years}  {finding['name']} ({finding['position']}): {what}. {shares}")
        click.echo(f"      → {consequence(finding)}")


@cli.command("history")
@click.option(
    "--body", "body_code", help=N_("the body (without it: the person in every body, by key)")
)
@click.option("--person", "person_key")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--pdf", type=click.Path(dir_okay=False), help=N_("write one person's history as PDF")
)
@click.option("--xlsx", type=click.Path(dir_okay=False), help=N_("write the histories as .xlsx"))
def history(
    body_code: str | None, person_key: str | None, fmt: str, pdf: str | None, xlsx: str | None
) -> None:
    """Print each person's rounds by year with the low-confidence share and the findings."""
    if pdf and person_key is None:
        raise InvalidInput(N_("Give --person to write one person's history as PDF."))
    if body_code is None and person_key is None:
        raise InvalidInput(N_("Give --body CODE, --person KEY, or both."))
    with reading() as session:
        if pdf and person_key is not None and body_code is not None:
            document = operations.documents.history_pdf(session, body_code, person_key)
            write_file(pdf, document.data)
            click.echo(_("Written {path}.", path=pdf), err=True)
            return
        if body_code is None and person_key is not None:
            # One person known tree-wide: their history in every body that polled them.
            histories = operations.documents.identity_histories(session, person_key)
        else:
            assert body_code is not None
            histories = operations.documents.histories(session, body_code, person_key)
    if xlsx:
        name = Path(xlsx).name
        write_file(xlsx, operations.documents.histories_xlsx(histories, name).data)
        click.echo(_("Written {path}.", path=xlsx), err=True)
        return
    if pdf:
        raise InvalidInput(N_("Give --body with --pdf: the PDF is one person's history in a body."))
    if fmt == "json":
        emit_json(histories if not person_key or body_code is None else histories[0])
        return
    for entry in histories:
        click.echo(
            f"{entry['person']['name']} [{entry['person']['person_key']}]"
            + ("" if body_code else f" — {entry['body']['name']} ({entry['body']['code']})")
        )
        for r in entry["rounds"]:
            if r["counts"] is None:
                reason = r["exempt"]
                if r.get("exempt_decision"):
                    reason = _(
                        "{reason} (decision {decision})",
                        reason=reason,
                        decision=r["exempt_decision"],
                    )
                click.echo(f"  {r['year']}  {r['position']}: {_('exempt')} — {reason}")
                continue
            low = levels(r["scale"])[-1]
            click.echo(
                f"  {r['year']}  {r['position']}: {_(low.label)} "
                f"{r['counts'][low.name]}/{integer_text(r['denominator']['value'])} = "
                f"{decimal_comma(r['percent'][low.name])} %  (#{r['round_id']})"
            )
        for finding in entry["findings"]:
            years = "–".join(str(y) for y in finding["years"])
            click.echo(f"  ⚑ {years}: {consequence(finding)}")


# ---------------------------------------------------------------------------- reports


@cli.command("report")
@click.argument("round_id", metavar="ROUND_ID|period")
@click.option(
    "--kind",
    type=click.Choice(["minutes", "report", "summary", "groups", "ballot", "slips"]),
    help=N_("report: the consequences, for the committee that decides"),
)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
@click.option(
    "--count",
    type=click.IntRange(min=1, max=100_000),
    help=N_("slips: issue this many new codes and print them"),
)
@click.option("--place", help=N_("minutes: the place written in the date line"))
@click.option("--body", "body_code", help=N_("period: the body (with every body under it)"))
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help=N_("period: first day"))
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help=N_("period: last day"))
@GROUP_OPTION
def report(
    round_id: str,
    kind: str | None,
    out: str,
    count: int | None,
    place: str | None,
    group: int | None,
    body_code: str | None,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> None:
    """Write a PDF of a round, or `report period`: a body's periodic report (PDF or .xlsx)."""
    if round_id == "period":
        period_report(body_code, start, end, out)
        return
    if not round_id.isdigit() or int(round_id) > ID_MAX:
        raise InvalidInput(N_("Give a round id or the word period."))
    if kind is None:
        raise InvalidInput(N_("Give --kind: minutes, report, summary, groups, ballot or slips."))
    _round_report(int(round_id), kind, out, count, place, group)


def period_report(
    body_code: str | None, start: dt.datetime | None, end: dt.datetime | None, out: str
) -> None:
    """Write the periodic report of a body and its subtree, as PDF or .xlsx by the file name."""
    if not body_code or start is None or end is None:
        raise InvalidInput(N_("The periodic report needs --body CODE --from DATE --to DATE."))
    suffix = Path(out).suffix.lower()
    if suffix not in (".pdf", ".xlsx"):
        raise InvalidInput(N_("Write the periodic report to a .pdf or an .xlsx file."))
    with reading() as session:
        builder = (
            operations.documents.period_xlsx
            if suffix == ".xlsx"
            else operations.documents.period_pdf
        )
        document = builder(session, body_code, start.date(), end.date())
    write_file(out, document.data)
    with working() as work:
        operations.log_download(
            work,
            document,
            body=body_code,
            start=start.date().isoformat(),
            end=end.date().isoformat(),
        )
    click.echo(_("Written {path}.", path=out))


def _round_report(
    round_id: int, kind: str, out: str, count: int | None, place: str | None, group: int | None
) -> None:
    """Write a PDF: minutes (of a group), report, summary (across groups), ballot or slips."""
    if kind == "slips":
        # Codes are never stored, so slips are printed when the codes are issued.
        if count is None:
            raise InvalidInput(N_("Slips print new codes: give --count N."))
        with working() as work:
            document = operations.documents.slips(
                work,
                round_id,
                count,
                current_app.config["SECRET_KEY"],
                current_app.config["BASE_URL"],
                group=group,
            )
            write_file(out, document.data)
    else:
        with reading() as session:
            if kind == "ballot":
                document = operations.documents.ballot_form(session, round_id)
            elif kind == "minutes":
                document = operations.documents.minutes(session, round_id, place=place, group=group)
            elif kind == "groups":
                document = operations.documents.groups_summary(session, round_id)
            elif kind == "report":
                document = operations.documents.outcome_report(session, round_id)
            else:
                document = operations.documents.summary(session, round_id)
        write_file(out, document.data)
        with working() as work:
            operations.log_download(work, document, round_id=round_id)
    click.echo(_("Written {path}.", path=out))


# ---------------------------------------------------------------------------- audit


@cli.command("verify")
@click.argument("round_id", type=int, required=False)
@click.option("--all", "everything", is_flag=True, help=N_("verify every round and the whole log"))
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(dir_okay=True),
    help=N_("verify an export bundle instead"),
)
@click.option(
    "--expect-seal",
    metavar="HEX",
    help=N_("the round's seal as printed on the minutes: the round must still have it"),
)
@click.option(
    "--expect-head",
    metavar="[N:]HEX",
    help=N_("a head of the log as printed or kept (event number and hash): the log must reach it"),
)
def verify_command(
    round_id: int | None,
    everything: bool,
    bundle_path: str | None,
    expect_seal: str | None,
    expect_head: str | None,
) -> None:
    """Recount from the raw ballots and check the log, the seal and the accounting."""
    if bundle_path:
        try:
            found, done = recount.check_bundle(
                recount.read_bundle(Path(bundle_path)),
                expect_seal=expect_seal,
                expect_head=expect_head,
            )
        except (OSError, KeyError, ValueError) as exc:
            raise InvalidInput(
                N_("Cannot read the bundle {path}: {reason}"), path=bundle_path, reason=str(exc)
            ) from exc
        problems = [_(msgid, **params) for msgid, params in found]
        checked = [_(msgid, **params) for msgid, params in done]
    else:
        if round_id is None and not everything:
            raise InvalidInput(N_("Give a round id, --all or --bundle FILE."))
        if expect_seal is not None and round_id is None:
            raise InvalidInput(N_("Give the round whose seal is expected."))
        with reading() as session:
            round_ = rounds.get_round(session, round_id) if round_id is not None else None
            outcome = (
                verify.verify_all(session)
                if everything or round_ is None
                else verify.verify_round(session, round_)
            )
            outcome.extend(
                verify.verify_anchors(
                    session, round_=round_, expect_seal=expect_seal, expect_head=expect_head
                )
            )
        problems = [line.text(language()) for line in outcome.problems]
        checked = [line.text(language()) for line in outcome.checked]
    for line in checked:
        click.echo(_("checked: {what}", what=line))
    for line in problems:
        click.echo(_("PROBLEM: {what}", what=line))
    if problems:
        click.echo(_("Verification failed: {count} problem(s).", count=len(problems)), err=True)
        raise click.exceptions.Exit(1)
    if expect_seal is None and expect_head is None:
        click.echo(
            _(
                "Note: checked against itself only; give --expect-seal and --expect-head with "
                "the values printed on the minutes to check against paper."
            )
        )
    click.echo(_("Everything holds."))


@cli.command("export")
@click.argument("round_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False), required=True)
def export(round_id: int, out: str) -> None:
    """Write the export bundle of a closed round (zip) that anyone can recount, signed."""
    with working() as work:
        operations.installation_key(work)  # made on first use, kept in the database
    with reading() as session:
        document = operations.documents.bundle(session, round_id)
    write_file(out, document.data)
    with working() as work:
        operations.log_download(work, document, round_id=round_id)
    click.echo(_("Written {path}.", path=out))


@cli.command("import-bundle")
@click.argument("path", type=click.Path(dir_okay=False))
def import_bundle(path: str) -> None:
    """Import a signed package of a lower installation: checked whole, or refused whole."""
    data = read_file(path)
    with working() as work:
        imported = operations.import_package(work, data)
        round_ = imported.round
        if not imported.new:
            click.echo(
                _(
                    "This package was imported already (round {id}); nothing changed.",
                    id=round_.id,
                )
            )
            return
        click.echo(
            _(
                "Round {origin} of {body} imported as round {id} (key {fingerprint}): signature, "
                "files, log, seal and recount hold.",
                origin=round_.origin_id,
                body=round_.body.code,
                id=round_.id,
                fingerprint=imported.fingerprint,
            )
        )


@cli.group("keys")
def keys_group() -> None:
    """Installation keys: sign packages sent up, trust those sent from below."""


@keys_group.command("show")
def keys_show() -> None:
    """Print this installation's public key (one line) and its fingerprint on stderr."""
    with working() as work:
        public = operations.installation_key(work)
    click.echo(package.key_text(public))
    click.echo(_("Fingerprint: {fingerprint}", fingerprint=package.fingerprint(public)), err=True)


@keys_group.command("trust")
@click.argument("body_code")
@click.argument("key")
def keys_trust(body_code: str, key: str) -> None:
    """Register a lower installation's public key for a body and every body under it."""
    with working() as work:
        public = operations.trust_key(work, body_code, key)
    click.echo(
        _(
            "Key {fingerprint} is trusted for {body} and the bodies under it.",
            fingerprint=package.fingerprint(public),
            body=body_code,
        )
    )


# ---------------------------------------------------------------------------- trustees


@cli.group("trustee")
def trustee_group() -> None:
    """A member of the counting committee, on their own machine (no database, no server)."""


STRENGTH_OPTION = click.option(
    "--strength",
    type=click.Choice(["interactive", "moderate", "sensitive"]),
    default=KEY_FILE_STRENGTH,
    show_default=True,
    help=N_("how hard the passphrase is made to guess (and the key file slow to open)"),
)


_Command = TypeVar("_Command", bound=Callable[..., Any])


def _file_option(
    flag: str, dest: str, help_text: str, *, required: bool = True
) -> Callable[[_Command], _Command]:
    """A trustee command's option naming a file (every one of them takes a path, no folder)."""
    return click.option(
        flag, dest, required=required, type=click.Path(dir_okay=False), help=help_text
    )


COMMITTEE_OPTION: Callable[[_Command], _Command] = _file_option(
    "--committee", "committee_path", N_("the committee's file from the organizer")
)


def _passphrase(new: bool) -> str:
    """Read the key file's passphrase from a prompt (twice for a new one) or one stdin line."""
    if sys.stdin is not None and sys.stdin.isatty():
        value: str = click.prompt(
            _("Passphrase of the key file"),
            hide_input=True,
            confirmation_prompt=_("Repeat the passphrase") if new else False,
        )
        return value
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


def _write_new(path: str, data: bytes) -> None:
    """Write a key file, never over an existing one (a key lost that way is lost for good)."""
    if Path(path).exists():
        raise InvalidInput(
            N_("{path} exists already; a key file is never overwritten. Choose another name."),
            path=path,
        )
    write_file(path, data)


def _key_sheet(path: str, key_file: bytes, number: int, committee_doc: bytes | None) -> None:
    context = json.loads(committee_doc)["context"] if committee_doc else {}
    title = _("Key of member {number} of the counting committee", number=number)
    lines = [
        _(
            "Round {round} ({body}): {title}.",
            round=context.get("round", "?"),
            body=context.get("body", "?"),
            title=context.get("title", "?"),
        ),
        _(
            "This sheet is the member's key file, locked by their passphrase. Keep it sealed "
            "and apart from the passphrase; to use it, scan the code or type the text with "
            "`votes trustee restore`."
        ),
        _("Fingerprint of the key file: {fingerprint}.", fingerprint=trustee.fingerprint(key_file)),
    ]
    pdf = reports.key_sheet(
        title=title,
        lines=lines,
        qr_text=sealed.qr_payload(key_file),
        printable=sealed.printable(key_file),
        footer=title,
    )
    write_file(path, pdf)
    click.echo(_("Written {path}.", path=path))


@trustee_group.command("new", with_appcontext=False)
@COMMITTEE_OPTION
@click.option(
    "--member",
    "number",
    required=True,
    type=click.IntRange(min=1),
    help=N_("your number in the committee"),
)
@_file_option("--key", "key_path", N_("the key file to make (kept on this machine)"))
@_file_option("--out", "out", N_("the public part to send to the organizer"))
@_file_option(
    "--print",
    "print_path",
    N_("also write the key file as a printable page with a QR code (PDF)"),
    required=False,
)
@STRENGTH_OPTION
def trustee_new(
    committee_path: str,
    number: int,
    key_path: str,
    out: str,
    print_path: str | None,
    strength: str,
) -> None:
    """Make your key: a passphrase-protected key file and the public part to send."""
    document = read_file(committee_path)
    if Path(key_path).exists():
        _write_new(key_path, b"")
    key_file, public = trustee.new_member(document, number, _passphrase(True), strength)
    _write_new(key_path, key_file)
    write_file(out, public)
    click.echo(_("Written {path}.", path=key_path))
    click.echo(_("Written {path}: send it to the organizer.", path=out))
    if json.loads(document)["context"]["size"] == 1:
        click.echo(_(committee.SINGLE_MEMBER_WARNING), err=True)
    if print_path:
        _key_sheet(print_path, key_file, number, document)


@trustee_group.command("shares", with_appcontext=False)
@COMMITTEE_OPTION
@_file_option("--key", "key_path", N_("your key file"))
@_file_option("--out", "out", N_("the shares to send to the organizer"))
def trustee_shares(committee_path: str, key_path: str, out: str) -> None:
    """Make the shares for the other members, each encrypted to its recipient."""
    answer = trustee.make_shares(read_file(committee_path), read_file(key_path), _passphrase(False))
    write_file(out, answer)
    click.echo(_("Written {path}: send it to the organizer.", path=out))


@trustee_group.command("check", with_appcontext=False)
@COMMITTEE_OPTION
@_file_option("--key", "key_path", N_("your key file (it becomes your final key)"))
@_file_option("--out", "out", N_("the confirmation to send to the organizer"))
@_file_option(
    "--print",
    "print_path",
    N_("also write the final key file as a printable page with a QR code (PDF)"),
    required=False,
)
@STRENGTH_OPTION
def trustee_check(
    committee_path: str, key_path: str, out: str, print_path: str | None, strength: str
) -> None:
    """Check the shares the others sent you; your key file becomes your final key."""
    document = read_file(committee_path)
    key_file, answer = trustee.check_shares(
        document, read_file(key_path), _passphrase(False), strength
    )
    write_file(key_path, key_file)
    write_file(out, answer)
    click.echo(_("The shares you received check. Your key file is now your final key."))
    click.echo(_("Written {path}: send it to the organizer.", path=out))
    if print_path:
        number = json.loads(answer)["member"]
        _key_sheet(print_path, key_file, number, document)


@trustee_group.command("decrypt", with_appcontext=False)
@_file_option("--totals", "totals_path", N_("the encrypted totals from the organizer"))
@_file_option("--key", "key_path", N_("your key file"))
@_file_option("--out", "out", N_("your partial decryption, to send to the organizer"))
def trustee_decrypt(totals_path: str, key_path: str, out: str) -> None:
    """Decrypt your part of a round's totals (with proofs): only totals, never a ballot."""
    answer = trustee.decrypt(read_file(totals_path), read_file(key_path), _passphrase(False))
    write_file(out, answer)
    click.echo(_("Written {path}: send it to the organizer.", path=out))


@trustee_group.command("restore", with_appcontext=False)
@click.argument("text_path", type=click.Path(dir_okay=False))
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False),
    help=N_("the key file to write"),
)
def trustee_restore(text_path: str, key_path: str) -> None:
    """Write a key file back from its printed text or the scanned QR code."""
    try:
        data = sealed.from_printable(read_file(text_path).decode("utf-8", "replace"))
    except sealed.KeyFileError as error:
        raise InvalidInput(
            N_("The printed key cannot be read: {reason}."), reason=trustee.key_file_reason(error)
        ) from error
    _write_new(key_path, data)
    click.echo(_("Written {path}.", path=key_path))


# ---------------------------------------------------------------------------- the sealed box


@cli.group("committee")
def committee_group() -> None:
    """The counting committee's key: the ceremony, and the decryption of the totals."""


@committee_group.command("create")
@click.argument("round_id", type=int)
@click.option(
    "--threshold",
    "-k",
    type=click.IntRange(min=1),
    required=True,
    help=N_("how many members are needed to decrypt the totals"),
)
@click.option(
    "--members",
    "members_text",
    help=N_('"Họ tên (Trưởng ban); Họ tên; …" (default: the counting committee of the meeting)'),
)
def committee_create(round_id: int, threshold: int, members_text: str | None) -> None:
    """Name the counting committee that holds the key of a draft round (k of n)."""
    with working() as work:
        if members_text is None:
            recorded = work.round(round_id).committee
            if not recorded:
                raise InvalidInput(
                    N_(
                        "Round {id} has no counting committee recorded at its meeting: give "
                        "the members with --members."
                    ),
                    id=round_id,
                )
            members = [meeting.Member(m.name, m.role) for m in recorded]
        else:
            members = meeting.parse_committee(members_text)
        key = operations.create_committee(work, round_id, threshold, members)
        size = key.size
    click.echo(
        _(
            "Round {id}: a counting committee of {size}; {threshold} of them are needed to "
            "decrypt the totals.",
            id=round_id,
            size=size,
            threshold=threshold,
        )
    )
    if size == 1:
        click.echo(_(committee.SINGLE_MEMBER_WARNING), err=True)
    elif threshold == size:
        click.echo(_(committee.ALL_NEEDED_WARNING), err=True)
    click.echo(
        _(
            "Next: `votes committee file {id} --out FILE` for the members, who each run "
            "`votes trustee new` on their own machine.",
            id=round_id,
        )
    )


@keys_group.command("list")
def keys_list() -> None:
    """List the keys trusted here, by body."""
    with reading() as session:
        for trusted in session.scalars(select(models.TrustedKey).order_by(models.TrustedKey.id)):
            click.echo(
                f"{trusted.body.code}\t{package.fingerprint(trusted.public_key)}\t"
                f"{package.key_text(trusted.public_key)}"
            )


@committee_group.command("remove")
@click.argument("round_id", type=int)
def committee_remove(round_id: int) -> None:
    """Remove the counting committee of a draft round (to name it again)."""
    with working() as work:
        operations.remove_committee(work, round_id)
    click.echo(_("Round {id}: the counting committee was removed.", id=round_id))


@committee_group.command("file")
@click.argument("round_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def committee_file_command(round_id: int, out: str) -> None:
    """Write the committee's public file, which members read with `votes trustee`."""
    _write_committee_document(committee.committee_file, round_id, out)


@committee_group.command("totals")
@click.argument("round_id", type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False))
def committee_totals(round_id: int, out: str) -> None:
    """Write the encrypted totals of a round awaiting decryption, for `votes trustee decrypt`."""
    _write_committee_document(committee.totals_file, round_id, out)


def _write_committee_document(
    build: Callable[[Session, models.Round], dict[str, Any]], round_id: int, out: str
) -> None:
    with reading() as session:
        document = build(session, rounds.get_round(session, round_id))
    write_file(out, trustee.as_file(document))
    click.echo(_("Written {path}.", path=out))


@committee_group.command("receive")
@click.argument("round_id", type=int)
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def committee_receive(round_id: int, paths: tuple[str, ...]) -> None:
    """Receive members' files: public parts, shares, confirmations, partial decryptions."""
    for path in paths:
        data = read_file(path)
        with working() as work:
            received = operations.receive_committee_file(work, round_id, data)
        click.echo(
            _(
                "{path}: {kind} of {name} (member {number}) received and checked.",
                path=path,
                kind=_(committee.COMMITTEE_FILE_WORDS[received.kind]),
                name=received.name,
                number=received.number,
            )
        )
        if received.key_made:
            click.echo(
                _(
                    "The committee's key is made; its fingerprint is {fingerprint}. Round {id} "
                    "can open.",
                    fingerprint=received.key_made,
                    id=round_id,
                )
            )
        if received.decrypted:
            click.echo(_("The totals are decrypted: round {id} is counted.", id=round_id))


@committee_group.command("show")
@click.argument("round_id", type=int)
def committee_show(round_id: int) -> None:
    """Show the counting committee of a round and where its ceremony stands."""
    with reading() as session:
        round_ = rounds.get_round(session, round_id)
        for line in committee.committee_lines(session, round_):
            click.echo(_(line.msgid, **line.params))


@cli.command("box")
@click.argument("round_id", type=int)
@click.option("--list", "listing", is_flag=True, help=N_("print every sealed ballot's tracker"))
def box_command(round_id: int, listing: bool) -> None:
    """Show the box of sealed ballots of a round: how many, and its digest (any state)."""
    with reading() as session:
        rounds.get_round(session, round_id)
        count = ballotbox.sealed_count(session, round_id)
        digest = seal.box_digest(session, round_id) or "—"
        lines = seal.sealed_box_file(session, round_id).decode("ascii")
    click.echo(_("Round {id}: {count} sealed ballots.", id=round_id, count=count))
    click.echo(_("Digest of the box: {digest}", digest=digest))
    if listing:
        click.echo(lines, nl=False)


@cli.command("receipts")
@click.argument("round_id", type=int)
@click.option("--check", "receipt", help=N_("check that one receipt is among the counted ballots"))
def receipts_command(round_id: int, receipt: str | None) -> None:
    """List the receipts of a closed round, or check one."""
    with reading() as session:
        round_ = rounds.get_round(session, round_id)
        if receipt:
            if bundle.receipt_counted(session, round_, receipt):
                click.echo(_("Receipt {receipt} is among the counted ballots.", receipt=receipt))
                return
            click.echo(
                _(
                    "Receipt {receipt} is not among the counted ballots of round {id}.",
                    receipt=receipt,
                    id=round_id,
                ),
                err=True,
            )
            raise click.exceptions.Exit(1)
        bundle.receipt_counted(session, round_, "")  # refuses a round that is still open
        for line in ballotbox.receipts(session, round_id):
            click.echo(line)


@cli.command("log")
@click.option("--round", "round_id", type=click.IntRange(min=1, max=ID_MAX))
def log_command(round_id: int | None) -> None:
    """Print the audit log (all events, or those of one round)."""
    with reading() as session:
        query = select(models.AuditEvent).order_by(models.AuditEvent.id)
        if round_id is not None:
            query = query.where(models.AuditEvent.round_id == round_id)
        for event in session.scalars(query):
            data = audit.event_dict(event)
            at = in_vietnam(event.at).strftime("%d/%m/%Y %H:%M:%S")
            click.echo(
                f"{data['id']:>5}  {at}  {data['actor']:<16} {data['kind']:<18} "
                f"{data['round'] or '':>4}  {event.details}  {event.hash[:12]}"
            )


@cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
def backup(path: str) -> None:
    """Copy the SQLite database to a file, consistently, while the application runs."""
    engine = current_app.extensions["votes.engine"]
    if engine.dialect.name != "sqlite":
        raise InvalidInput(
            N_(
                "votes backup copies SQLite databases; for PostgreSQL use pg_dump "
                "(see docs/DEPLOY.md)."
            )
        )
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


# ---------------------------------------------------------------------------- staff


def _read_password() -> str:
    """Read a new password from a prompt (twice) or, when stdin is not a terminal, one line."""
    if sys.stdin is not None and sys.stdin.isatty():
        value: str = click.prompt(
            _("Password"), hide_input=True, confirmation_prompt=_("Repeat the password")
        )
        return value
    line = sys.stdin.readline() if sys.stdin is not None else ""
    return line.rstrip("\r\n")


@cli.group("user")
def user_group() -> None:
    """Staff accounts (organizers, auditors, administrators)."""


@user_group.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "organizer", "auditor"]), required=True)
@click.option("--body", "bodies", multiple=True, help=N_("code of a body the user works on"))
def user_add(username: str, role: str, bodies: tuple[str, ...]) -> None:
    """Add a staff account; the password is read from a prompt or standard input."""
    password = _read_password()
    with working() as work:
        user = operations.add_staff(work, username, password, role, list(bodies))
        click.echo(
            _("User {username} added with the role {role}.", username=user.username, role=user.role)
        )


@user_group.command("passwd")
@click.argument("username")
def user_passwd(username: str) -> None:
    """Set a staff account's password (from a prompt or standard input)."""
    password = _read_password()
    with working() as work:
        user = operations.set_staff_password(work, username, password)
        click.echo(_("The password of {username} is changed.", username=user.username))


# ---------------------------------------------------------------------------- demo


@cli.command("demo")
@click.option("--no-serve", is_flag=True, help=N_("only seed the demo and print the results"))
@click.option("--host", default=DEMO_HOST, show_default=True)
@click.option("--port", type=click.IntRange(min=1, max=65535), default=DEMO_PORT, show_default=True)
@click.option(
    "--tree",
    "with_tree",
    is_flag=True,
    help=N_("also two communes and an agency under the province, one reporting by package"),
)
def demo_command(no_serve: bool, host: str, port: int, with_tree: bool) -> None:
    """Seed a demo body with two years of rounds, print the results and serve the site."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    base = f"http://{host}:{port}"
    with demo.hold_demo(app.instance_path, app.config["DATABASE_URL"], base):
        migrate.upgrade(app.extensions["votes.engine"])
        counted = demo.seed_demo(sessions(), app.config["SECRET_KEY"], Path(app.instance_path))
        if with_tree:
            for line in demo_tree.seed_tree(sessions()):
                click.echo(_("Demo tree: {what}", what=line))
            with reading() as session:
                for tree_line in tree.tree_lines(session):
                    click.echo(
                        f"{'    ' * tree_line.depth}{tree_line.body.code}\t{tree_line.body.name}"
                    )
        with reading() as session:
            for round_id in counted:
                click.echo(
                    results_text(
                        results.round_results(session, rounds.get_round(session, round_id))
                    )
                )
                click.echo("")
        if not no_serve:
            _serve_demo(app, host, port)


def _serve_demo(app: Flask, host: str, port: int) -> None:
    """Serve the demo site with its logins and voter codes printed."""
    access = demo.demo_access(sessions(), app.config["SECRET_KEY"])
    base = f"http://{host}:{port}"
    click.echo(_("The demo site: {url}", url=base))
    click.echo(
        _(
            "Organizer login: {url}/auth/login user {username} password {password}",
            url=base,
            username=access.organizer,
            password=access.organizer_password,
        )
    )
    click.echo(
        _(
            "Auditor login: {url}/auth/login user {username} password {password}",
            url=base,
            username=access.auditor,
            password=access.auditor_password,
        )
    )
    click.echo(_("Voter codes of the open demo round (each works once):"))
    for code in access.codes:
        click.echo(f"  {code}")
    key_path = Path(app.instance_path) / demo.DEMO_KEY_FILE.format(id=access.round_id)
    click.echo(
        _(
            "Its ballots are sealed to the key of a demo committee of one (weaker: for the demo "
            "only). To count it: votes round close {id}; votes committee totals {id} --out "
            "totals.json; votes trustee decrypt --totals totals.json --key {key} --out "
            "partial.json (passphrase: {passphrase}); votes committee receive {id} partial.json",
            id=access.round_id,
            key=key_path,
            passphrase=demo.DEMO_PASSPHRASE,
        )
    )
    click.echo(_("Press Ctrl+C to stop."))
    logfilter.install_code_filter()
    # One process serves: it keeps the sealing pads of the open demo round ready (votes/pads.py).
    app.extensions["votes.watch_pads"](1)
    # werkzeug directly: Flask's app.run() refuses to run inside a `flask`-style command.
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


# ---------------------------------------------------------------------------- running


def _schema_missing(exc: OperationalError | ProgrammingError) -> bool:
    """Tell whether an error says a table is missing (`votes db upgrade` has not run)."""
    text = str(exc.orig)
    return "no such table" in text or (
        "relation" in text and "does not exist" in text  # PostgreSQL's UndefinedTable
    )


def run(args: list[str], obj: object | None = None) -> int:
    """Run the command line with arguments; return the exit status instead of exiting."""
    if LANGUAGE not in LANGUAGES:
        click.echo(f"VOTES_LANG={LANGUAGE!r}: dùng vi hoặc en / use vi or en.", err=True)
        return 2
    try:
        extra: dict[str, Any] = {} if obj is None else {"obj": obj}
        code = cli.main(args=args, prog_name="votes", standalone_mode=False, **extra)
    except click.exceptions.Abort:
        click.echo(_("Aborted."), err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ConfigError as exc:
        click.echo(_("Configuration error: {message}", message=exc.message(language())), err=True)
        return 1
    except VotesError as exc:
        click.echo(_("Error: {message}", message=exc.message(language())), err=True)
        return 1
    except (OperationalError, ProgrammingError) as exc:
        if _schema_missing(exc):
            click.echo(
                _(
                    "The database has no tables yet, or not all of them: run "
                    "`votes db upgrade` first."
                ),
                err=True,
            )
            return 1
        return _unexpected(exc)
    except Exception as exc:
        return _unexpected(exc)
    return code if isinstance(code, int) else 0


def _unexpected(exc: Exception) -> int:
    if os.environ.get("VOTES_DEBUG") == "1":
        raise exc
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    click.echo(
        _("Unexpected error ({kind}): {message}", kind=type(exc).__name__, message=first_line),
        err=True,
    )
    return 2


def main() -> None:
    """Run the `votes` command; every refusal is one line on stderr and a non-zero exit."""
    args = sys.argv[1:]
    _DEMO["active"] = bool(args) and args[0] == "demo"
    sys.exit(run(args))


if __name__ == "__main__":
    main()
