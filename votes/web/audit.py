"""Auditors' pages (read-only): bodies, rounds, results, findings, histories, the log.

Auditors and administrators see every body. Nothing here changes a round: the only write is
the audit event that records each download (who took which document, and its SHA-256), made
in its own write transaction before the file is sent, so a download is logged or not served.
Results exist only for closed or published rounds (round_results refuses the others): an
auditor sees no number of an open round.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, current_app, render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import audit, operations, rules
from ..errors import VotesError
from ..models import AuditEvent, Body, Person, Round
from ..operations import documents
from ..results import round_results
from ..text import name_sort_key
from ..trackers import open_box
from ..verify import verify_anchors, verify_round
from .auth import role_required
from .charts import low_share_line, stacked_bars
from .common import _, language, message, reading, send, working
from .words import EVENT_WORDS, detail_lines, level_labels

bp = Blueprint("audit", __name__)
AUDITORS = ("auditor", "admin")
PAGE_SIZE = 50
# Asia/Ho_Chi_Minh has had no daylight saving time since 1975: a fixed offset is exact.
VIETNAM = dt.timezone(dt.timedelta(hours=7), "ICT")


def small_round(result: dict[str, Any]) -> bool:
    """Tell whether a counted round is so small that its numbers could reveal a ballot.

    With only a handful of ballots (or of members), shares such as "1 of 3 low" let people
    who know each other guess who voted how: the pages warn (SMALL_ROUND_MINIMUM, issue 7).
    """
    minimum = int(current_app.config.get("SMALL_ROUND_MINIMUM", 5))
    collected = result["ballots"]["collected"] or 0
    members = result.get("members")
    return collected < minimum or (members is not None and members < minimum)


@bp.app_context_processor
def _small_round() -> dict[str, Any]:
    return {
        "small_round": small_round,
        "small_round_minimum": current_app.config.get("SMALL_ROUND_MINIMUM", 5),
    }


def _download(
    document: operations.Document, *, round_id: int | None = None, **details: Any
) -> Response:
    """Log who took a document (its SHA-256), then hand it over: logged, or not served."""
    with working() as work:
        operations.log_download(work, document, round_id=round_id, **details)
    return send(document)


T = TypeVar("T")


def _or_404(found: T | None) -> T:
    if found is None:
        abort(404)
    return found


def _body(code: str) -> Body:
    return _or_404(reading().scalar(select(Body).where(Body.code == code)))


def _round(round_id: int) -> Round:
    return _or_404(reading().get(Round, round_id))


def _person(person_id: int) -> Person:
    return _or_404(reading().get(Person, person_id))


def _counted(round_: Round) -> dict[str, Any]:
    """Return the result of a counted round; 409 while it is a draft or open (the embargo)."""
    try:
        return round_results(reading(), round_)
    except VotesError as error:
        abort(409, message(error))


# ------------------------------------------------------------------------------ pages


@bp.route("/")
@role_required(*AUDITORS)
def index() -> str:
    """List every body with its rounds and their state."""
    bodies = list(reading().scalars(select(Body).order_by(Body.code)))
    return render_template("audit/index.html", bodies=bodies)


@bp.route("/bodies/<code>")
@role_required(*AUDITORS)
def body(code: str) -> str:
    """Show a body: its rounds, the persons rated, and every finding of its counted rounds."""
    session = reading()
    body = _body(code)
    findings = [f.as_dict() for f in rules.body_findings(session, body)]
    persons = sorted(
        session.scalars(select(Person).where(Person.body_id == body.id)),
        key=lambda p: name_sort_key(p.name),
    )
    return render_template("audit/body.html", body=body, findings=findings, persons=persons)


@bp.route("/bodies/<code>/findings.pdf")
@role_required(*AUDITORS)
def findings_pdf(code: str) -> Response:
    """Download the findings list of a body (PDF)."""
    body = _body(code)
    return _download(documents.findings_pdf(reading(), body.code), body=body.code)


@bp.route("/persons/<int:person_id>")
@role_required(*AUDITORS)
def person(person_id: int) -> str:
    """Show one person's rounds across the years, with the low-share chart and findings."""
    person = _person(person_id)
    history = rules.person_history(reading(), person_body(person), person)
    return render_template(
        "audit/person.html",
        person=person,
        body=person_body(person),
        history=history,
        chart=low_share_line(history),
        lang=language(),
    )


def person_body(person: Person) -> Body:
    """Return the body a person belongs to."""
    return _or_404(reading().get(Body, person.body_id))


@bp.route("/persons/<int:person_id>/history.pdf")
@role_required(*AUDITORS)
def history_pdf(person_id: int) -> Response:
    """Download one person's history (PDF)."""
    person = _person(person_id)
    body = person_body(person)
    document = documents.history_pdf(reading(), body.code, person.person_key)
    return _download(document, body=body.code, person=person.person_key)


@bp.route("/rounds/<int:round_id>")
@role_required(*AUDITORS)
def round_page(round_id: int) -> str:
    """Show a round in any state: its facts, its events and what verification finds.

    While a round is a draft or open, only the accounting and the log are checked; no count
    of marks is shown before close.
    """
    round_ = _round(round_id)
    session = reading()
    report = verify_round(session, round_)
    # Values read off paper (the minutes, a head kept by the upper level), typed in the form.
    expect_seal = (request.args.get("expect_seal") or "").strip()[:200] or None
    expect_head = (request.args.get("expect_head") or "").strip()[:200] or None
    try:
        report.extend(
            verify_anchors(session, round_=round_, expect_seal=expect_seal, expect_head=expect_head)
        )
    except VotesError as refused:
        report.problem(refused.msgid, **refused.params)
    events = [_event_view(e) for e in audit.round_events(session, round_.id)]
    return render_template(
        "audit/round.html",
        round=round_,
        report=report,
        events=events,
        expect_seal=expect_seal or "",
        expect_head=expect_head or "",
    )


@bp.route("/rounds/<int:round_id>/trackers")
@role_required(*AUDITORS)
def trackers(round_id: int) -> str:
    """List a round's sealed ballots (trackers) and each box's running digest, in any state.

    Encrypted ballots say nothing of their marks: auditors see the list while the round is
    open too, and a change to the box between two looks changes its digest.
    """
    round_ = _round(round_id)
    return render_template("audit/trackers.html", round=round_, box=open_box(reading(), round_))


@bp.route("/rounds/<int:round_id>/results")
@role_required(*AUDITORS)
def results(round_id: int) -> str:
    """Show the results of a counted round with the chart, findings, seal and verification."""
    round_ = _round(round_id)
    result = _counted(round_)
    report = verify_round(reading(), round_)
    return render_template(
        "audit/results.html",
        round=round_,
        result=result,
        chart=stacked_bars(result),
        report=report,
        lang=language(),
        level_labels=dict(level_labels(round_.scale)),
    )


@bp.route("/rounds/<int:round_id>/bundle.zip")
@role_required(*AUDITORS)
def bundle(round_id: int) -> Response:
    """Download the export bundle of a counted round: anyone can recount it with Python alone."""
    round_ = _round(round_id)
    _counted(round_)
    with working() as work:
        operations.installation_key(work)  # the bundle is signed: the key is made once
    reading().rollback()  # a read begun before the key was made would not see it
    return _download(documents.bundle(reading(), round_id), round_id=round_id)


PDF_BUILDERS: dict[str, Callable[[Session, int], operations.Document]] = {
    "minutes": documents.minutes,
    "report": documents.outcome_report,
    "summary": documents.summary,
    "groups": documents.groups_summary,
}


@bp.route("/rounds/<int:round_id>/<any(minutes, report, summary, groups):kind>.pdf")
@role_required(*AUDITORS)
def results_pdf(round_id: int, kind: str) -> Response:
    """Download the minutes, the report of the results or the summary of a counted round."""
    round_ = _round(round_id)
    _counted(round_)
    try:
        document = PDF_BUILDERS[kind](reading(), round_id)
    except VotesError as error:  # no meeting recorded: the minutes cannot be dated
        abort(409, message(error))
    return _download(document, round_id=round_id)


# ------------------------------------------------------------------------------ the log


def _event_view(event: AuditEvent) -> dict[str, Any]:
    moment = event.at if event.at.tzinfo else event.at.replace(tzinfo=dt.UTC)
    details = json.loads(event.details)
    return {
        "id": event.id,
        "at": moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S"),
        "actor": event.actor,
        "kind": event.kind,
        "kind_words": _(EVENT_WORDS[event.kind]) if event.kind in EVENT_WORDS else event.kind,
        "lines": detail_lines(details),
        "round_id": event.round_id,
        "details": details,
        "details_text": json.dumps(details, ensure_ascii=False, sort_keys=True),
        "hash": event.hash,
        "prev_hash": event.prev_hash,
    }


@bp.route("/log")
@role_required(*AUDITORS)
def log() -> str:
    """Show the audit log, newest first, page by page, with the status of the whole chain."""
    session = reading()
    total = session.scalar(select(func.count()).select_from(AuditEvent)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() else 0
    if not 1 <= number <= pages:
        abort(404)
    events = session.scalars(
        select(AuditEvent)
        .order_by(AuditEvent.id.desc())
        .limit(PAGE_SIZE)
        .offset((number - 1) * PAGE_SIZE)
    )
    return render_template(
        "audit/log.html",
        events=[_event_view(e) for e in events],
        report=audit.verify_chain(session),
        page=number,
        pages=pages,
        total=total,
    )
