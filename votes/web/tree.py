"""Pages of the tree of bodies: the periodic report, Excel downloads, packages from below.

Registered under /admin next to the organizers' pages. Every page checks access through
votes.staff (a body granted and everything under it); the periodic report only counts the
bodies the account may see, since it is the report of a body the account was granted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_wtf.file import FileField
from sqlalchemy import select

from .. import operations, package, tree
from ..errors import VotesError
from ..models import TrustedKey
from ..operations import documents
from ..vocabulary import BAND_WORDS
from .auth import role_required
from .common import _, body_for, lazy, message, reading, round_for, send, working
from .forms import NFCForm

bp = Blueprint("tree", __name__)

STAFF = ("admin", "organizer", "auditor")


class PackageForm(NFCForm):
    """A signed package of a lower installation, uploaded to be imported."""

    package = FileField(lazy("Signed package (.zip)"))


def _period() -> tuple[dt.date, dt.date, list[str]]:
    """Read the period of the report from the query (this year by default)."""
    today = dt.date.today()
    problems = []
    try:
        start = dt.date.fromisoformat(request.args.get("from") or f"{today.year}-01-01")
        end = dt.date.fromisoformat(request.args.get("to") or f"{today.year}-12-31")
    except ValueError:
        problems.append(_("Give the dates as YYYY-MM-DD."))
        start, end = dt.date(today.year, 1, 1), dt.date(today.year, 12, 31)
    if end < start:
        problems.append(_("The period ends before it starts."))
    return start, end, problems


@bp.route("/bodies/<code>/report")
@role_required(*STAFF)
def period(code: str) -> Any:
    """Show the periodic report of a body and its subtree, with its PDF and .xlsx."""
    session = reading()
    body = body_for(session, code, manage=False)
    start, end, problems = _period()
    report = None
    if not problems:
        try:
            report = documents.period(session, body.code, start, end)
        except VotesError as error:
            problems.append(message(error))
    return render_template(
        "admin/period.html",
        body=body,
        start=start,
        end=end,
        report=report,
        problems=problems,
        level_words=tree.LEVELS,
        band_words=BAND_WORDS,
        bands=report["bands"] if report else {},
    ), (422 if problems else 200)


@bp.route("/bodies/<code>/report.<any(pdf, xlsx):fmt>")
@role_required(*STAFF)
def period_file(code: str, fmt: str) -> Response:
    """Download the periodic report as PDF or Excel."""
    session = reading()
    body = body_for(session, code, manage=False)
    start, end, problems = _period()
    if problems:
        abort(400)
    build = documents.period_pdf if fmt == "pdf" else documents.period_xlsx
    document = build(session, body.code, start, end)
    with working() as work:
        operations.log_download(
            work, document, body=body.code, start=start.isoformat(), end=end.isoformat()
        )
    return send(document)


@bp.route("/bodies/<code>/findings.xlsx")
@role_required(*STAFF)
def findings_file(code: str) -> Response:
    """Download the findings of a body as Excel."""
    session = reading()
    body = body_for(session, code, manage=False)
    document = documents.findings_xlsx(session, body.code)
    with working() as work:
        operations.log_download(work, document, body=body.code)
    return send(document)


@bp.route("/rounds/<int:round_id>/results.xlsx")
@role_required(*STAFF)
def results_file(round_id: int) -> Response:
    """Download the results of a counted round as Excel."""
    session = reading()
    round_for(session, round_id, manage=False)
    try:
        document = documents.results_xlsx(session, round_id)
    except VotesError as error:
        flash(message(error), "error")
        abort(409)
    with working() as work:
        operations.log_download(work, document, round_id=round_id)
    return send(document)


@bp.route("/rounds/<int:round_id>/roster.xlsx")
@role_required(*STAFF)
def roster_file(round_id: int) -> Response:
    """Download a round's roster as Excel (the columns it can be loaded back from)."""
    session = reading()
    round_for(session, round_id, manage=False)
    document = documents.roster_xlsx(session, round_id)
    with working() as work:
        operations.log_download(work, document, round_id=round_id)
    return send(document)


@bp.route("/packages", methods=["GET", "POST"])
@role_required("admin")
def packages() -> Any:
    """Show this installation's key and the keys trusted here; import a package from below."""
    form = PackageForm()
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.package.data
        data = upload.read() if upload else b""
        if not data:
            problems.append(_("Choose the package file."))
        else:
            try:
                with working() as work:
                    imported = operations.import_package(work, data)
                    round_id = imported.round.id
                    new = imported.new
            except VotesError as error:
                problems.append(message(error))
            else:
                flash(
                    _("The package is imported as round {id}.", id=round_id)
                    if new
                    else _(
                        "This package was imported already (round {id}); nothing changed.",
                        id=round_id,
                    ),
                    "ok",
                )
                return redirect(url_for("admin.round_page", round_id=round_id))
    with working() as work:
        public = operations.installation_key(work)
    session = reading()
    session.rollback()
    trusted = [
        (t.body.code, t.body.name, package.fingerprint(t.public_key))
        for t in session.scalars(select(TrustedKey).order_by(TrustedKey.id))
    ]
    return render_template(
        "admin/packages.html",
        form=form,
        problems=problems,
        public_key=package.key_text(public),
        fingerprint=package.fingerprint(public),
        trusted=trusted,
    ), (422 if problems else 200)
