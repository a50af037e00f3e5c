"""Organizers: bodies, rounds, rosters, exemptions, codes, paper ballots, results.

Every view is thin: check access, parse the form, call one function of the logic layer, then
render or redirect. Refusals of the logic layer (VotesError) are shown in the user's language.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers.response import Response as BaseResponse

from .. import paper as double_entry
from .. import profiles, rounds, rules, staff, voting
from ..credentials import codes_issued, codes_used
from ..errors import InvalidInput, VotesError
from ..forms import (
    LEVEL_LABELS,
    PAPER_EXTRA,
    AttendanceForm,
    BatchForm,
    BodyForm,
    CodesForm,
    ConfirmForm,
    ExemptForm,
    PaperUploadForm,
    RestoreForm,
    RosterForm,
    RoundForm,
    item_field_name,
    paper_form_class,
)
from ..models import Body, Person, Round, RoundStatus
from ..results import round_results
from .audit import log_download
from .auth import role_required
from .charts import stacked_bars
from .common import language, message, reading, round_for, staff_user, writing

bp = Blueprint("admin", __name__)
STAFF = ("admin", "organizer", "auditor")
MANAGERS = ("admin", "organizer")
STATUS_WORDS = {
    "draft": lazy_gettext("draft"),
    "open": lazy_gettext("open"),
    "closed": lazy_gettext("closed"),
    "published": lazy_gettext("published"),
}


LEVEL_WORDS = {
    "high": lazy_gettext("High confidence"),
    "confidence": lazy_gettext("Confidence"),
    "low": lazy_gettext("Low confidence"),
    "trust": lazy_gettext("Confidence"),
    "no_trust": lazy_gettext("No confidence"),
    "invalid": lazy_gettext("Invalid marks"),
}
BASIS_WORDS = {
    "members": lazy_gettext("all members"),
    "collected": lazy_gettext("ballots collected"),
    "summoned": lazy_gettext("persons summoned"),
    "present": lazy_gettext("persons present"),
    "valid": lazy_gettext("valid ballots"),
}


@bp.app_context_processor
def _words() -> dict[str, Any]:
    return {"status_words": STATUS_WORDS, "level_words": LEVEL_WORDS, "basis_words": BASIS_WORDS}


def _reports() -> Any:
    """Return the reports package when it is there (it is written alongside), else None."""
    try:
        import reports
    except ImportError:
        return None
    return reports


def _has_report(name: str) -> bool:
    return callable(getattr(_reports(), name, None))


def _visible_bodies() -> list[Body]:
    session = reading()
    user = staff_user(session)
    query = select(Body).order_by(Body.code)
    if user.role == "organizer":
        query = query.where(Body.id.in_(staff.body_ids(session, user)))
    return list(session.scalars(query))


def _body_for(session: Any, code: str, *, manage: bool) -> Body:
    body = session.scalar(select(Body).where(Body.code == code))
    if body is None:
        abort(404)
    user = staff_user(session)
    if not (staff.can_manage if manage else staff.can_view)(session, user, body.id):
        abort(403)
    found: Body = body
    return found


def _problems(error: InvalidInput) -> list[str]:
    return [message(p) for p in (error.problems or [error])]


def _can_manage(round_: Round) -> bool:
    return current_user.role == "admin" or (
        current_user.role == "organizer"
        and round_.body_id in staff.body_ids(reading(), staff_user(reading()))
    )


# ------------------------------------------------------------------------------ bodies


@bp.route("/")
@role_required(*STAFF)
def dashboard() -> str:
    """List the bodies of the staff member, with their rounds."""
    return render_template("admin/dashboard.html", bodies=_visible_bodies(), form=BodyForm())


@bp.route("/bodies", methods=["POST"])
@role_required("admin")
def add_body() -> Any:
    """Add a body (administrators only)."""
    form = BodyForm()
    if not form.validate():
        return render_template("admin/dashboard.html", bodies=_visible_bodies(), form=form), 422
    try:
        with writing() as session:
            body = rounds.add_body(session, form.code.data, form.name.data, form.kind.data)
            code = body.code
    except VotesError as error:
        flash(message(error), "error")
        return render_template("admin/dashboard.html", bodies=_visible_bodies(), form=form), 422
    flash(_("The body is added."), "ok")
    return redirect(url_for("admin.body", code=code))


@bp.route("/bodies/<code>")
@role_required(*STAFF)
def body(code: str) -> str:
    """Show a body: its rounds and every finding of its counted rounds."""
    session = reading()
    body = _body_for(session, code, manage=False)
    findings = [f.as_dict() for f in rules.body_findings(session, body)]
    manage = staff.can_manage(session, staff_user(session), body.id)
    return render_template("admin/body.html", body=body, findings=findings, manage=manage)


# ------------------------------------------------------------------------------ rounds


def _profile_choices(body_kind: str) -> list[tuple[str, Any]]:
    """Return the latest version of each profile that applies to this kind of body."""
    latest: dict[str, profiles.Profile] = {}
    for (profile_id, _version), profile in sorted(profiles.all_profiles(reading()).items()):
        if body_kind in profile.body_kinds:
            latest[profile_id] = profile
    return [(pid, p) for pid, p in latest.items()]


def _decode_roster(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError):
        abort(400)


def _preview(data: bytes | None) -> tuple[list[rounds.RosterEntry] | None, list[str]]:
    """Parse a roster for the preview: the entries, or every problem with its line."""
    if data is None:
        return None, []
    try:
        return rounds.parse_roster(data), []
    except InvalidInput as error:
        return None, _problems(error)


@bp.route("/bodies/<code>/rounds/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_round(code: str) -> Any:
    """Create a round: facts, profile, roster; the roster is previewed before anything is saved."""
    session = reading()
    body = _body_for(session, code, manage=True)
    choices = _profile_choices(body.kind)
    form = RoundForm()
    lang = language()
    form.profile.choices = [(pid, getattr(p.name, lang)) for pid, p in choices]
    entries: list[rounds.RosterEntry] | None = None
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.roster_file.data
        data = upload.read() if upload else _decode_roster(form.roster_data.data)
        if data is None:
            problems = [_("Choose the roster file.")]
        else:
            entries, problems = _preview(data)
            form.roster_data.data = base64.b64encode(data).decode("ascii")
        if entries is not None and request.form.get("action") == "confirm" and not upload:
            try:
                with writing() as db:
                    round_ = rounds.create_round(
                        db,
                        rounds.get_body(db, code),
                        year=form.year.data,
                        profile_id=form.profile.data,
                        title=form.title.data,
                        roster=entries,
                        members=form.members.data,
                        summoned=form.summoned.data,
                        present=form.present.data,
                        place=form.place.data or None,
                    )
                    round_id = round_.id
            except VotesError as error:
                problems = [message(error)]
            else:
                flash(_("The round is created as a draft."), "ok")
                return redirect(url_for("admin.round_page", round_id=round_id))
    status = 422 if problems else 200
    return render_template(
        "admin/round_new.html",
        body=body,
        form=form,
        profiles=[p for _, p in choices],
        entries=entries,
        problems=problems,
    ), status


def _round_context(round_: Round) -> dict[str, Any]:
    session = reading()
    issued = rounds.ballots_issued(session, round_)
    return {
        "round": round_,
        "manage": _can_manage(round_),
        "codes_issued": codes_issued(session, round_.id),
        "codes_used": codes_used(session, round_.id),
        "issued": issued,
        "collected": rounds.ballots_collected(session, round_.id),
        "pending_paper": rounds.pending_paper_entries(session, round_.id),
        "profile": profiles.get_profile(session, round_.profile_id, round_.profile_version),
        "codes_form": CodesForm(),
        "exempt_form": _exempt_form(round_),
        "restore_form": RestoreForm(),
        "confirm_form": ConfirmForm(),
        "upload_form": PaperUploadForm(),
        "attendance_form": AttendanceForm(
            formdata=None,
            members=round_.members,
            summoned=round_.summoned,
            present=round_.present,
        ),
        "has_slips": _has_report("slips"),
        "has_ballot_pdf": _has_report("ballot_form"),
    }


def _exempt_form(round_: Round) -> ExemptForm:
    form = ExemptForm()
    form.person.choices = [
        (str(item.person_id), f"{item.name} — {item.position}")
        for item in round_.items
        if item.kind == "person"
    ]
    return form


@bp.route("/rounds/<int:round_id>")
@role_required(*STAFF)
def round_page(round_id: int) -> str:
    """Show a round: its state, ballot, and what can be done now.

    While the round is open only the number of ballots received against those issued is
    shown: never who voted, never partial results.
    """
    round_ = round_for(reading(), round_id, manage=False)
    return render_template("admin/round.html", **_round_context(round_))


# ------------------------------------------------------------------------------ roster


def roster_csv(round_: Round) -> str:
    """Write a round's ballot items and exemptions back as roster CSV (for editing)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "position", "person_key", "kind", "exempt_reason"])
    for item in round_.items:
        key = item.person.person_key if item.person else ""
        writer.writerow([item.name, item.position, key if key != item.name else "", item.kind, ""])
    for exemption in round_.exemptions:
        person = exemption.person
        key = person.person_key if person.person_key != person.name else ""
        writer.writerow([person.name, exemption.position, key, "person", exemption.reason])
    return out.getvalue()


def _entries(round_: Round) -> list[rounds.RosterEntry]:
    return rounds.parse_roster(roster_csv(round_).encode("utf-8"))


@bp.route("/rounds/<int:round_id>/roster", methods=["GET", "POST"])
@role_required(*MANAGERS)
def roster(round_id: int) -> Any:
    """Edit the roster of a draft round: typed or uploaded, previewed, then confirmed."""
    round_ = round_for(reading(), round_id, manage=True)
    if round_.status != RoundStatus.DRAFT.value:
        flash(_("The roster can only be changed while the round is a draft."), "error")
        return redirect(url_for("admin.round_page", round_id=round_id))
    form = RosterForm()
    entries: list[rounds.RosterEntry] | None = None
    problems: list[str] = []
    if form.validate_on_submit():
        upload = form.roster_file.data
        if upload:
            data: bytes | None = upload.read()
        elif request.form.get("action") == "confirm":
            data = _decode_roster(form.roster_data.data)
        else:
            data = (form.roster_text.data or "").encode("utf-8")
        entries, problems = _preview(data)
        if data is not None:
            form.roster_data.data = base64.b64encode(data).decode("ascii")
            form.roster_text.data = data.decode("utf-8", errors="replace")
        if entries is not None and request.form.get("action") == "confirm" and not upload:
            try:
                with writing() as db:
                    rounds.set_roster(db, rounds.get_round(db, round_id), entries)
            except VotesError as error:
                problems = [message(error)]
            else:
                flash(_("The roster is saved."), "ok")
                return redirect(url_for("admin.round_page", round_id=round_id))
    elif request.method == "GET":
        form.roster_text.data = roster_csv(round_)
    status = 422 if problems else 200
    return render_template(
        "admin/roster.html", round=round_, form=form, entries=entries, problems=problems
    ), status


def _change_exemption(round_id: int, person_id: int, reason: str | None) -> None:
    """Move a person between the ballot and the exempt list of a draft round."""
    with writing() as db:
        round_ = round_for(db, round_id, manage=True)
        person = db.get(Person, person_id)
        if person is None or person.body_id != round_.body_id:
            abort(404)
        changed = [
            rounds.RosterEntry(
                line=entry.line,
                name=entry.name,
                position=entry.position,
                person_key=entry.person_key,
                kind=entry.kind,
                exempt_reason=reason or "",
            )
            if entry.kind == "person" and entry.identity == person.person_key
            else entry
            for entry in _entries(round_)
        ]
        rounds.set_roster(db, round_, changed)


@bp.route("/rounds/<int:round_id>/attendance", methods=["POST"])
@role_required(*MANAGERS)
def attendance(round_id: int) -> BaseResponse:
    """Record members, summoned and present of a draft or open round."""
    round_for(reading(), round_id, manage=True)
    form = AttendanceForm()
    if form.validate():
        try:
            with writing() as db:
                rounds.set_attendance(
                    db,
                    round_for(db, round_id, manage=True),
                    members=form.members.data,
                    summoned=form.summoned.data,
                    present=form.present.data,
                )
            flash(_("The attendance is recorded."), "ok")
        except VotesError as error:
            flash(message(error), "error")
    else:
        flash(
            _("Give whole numbers: the members are required, the others may stay empty."), "error"
        )
    return redirect(url_for("admin.round_page", round_id=round_id))


@bp.route("/rounds/<int:round_id>/exempt", methods=["POST"])
@role_required(*MANAGERS)
def exempt(round_id: int) -> BaseResponse:
    """Leave a person off the ballot of a draft round, with the reason."""
    round_ = round_for(reading(), round_id, manage=True)
    form = _exempt_form(round_)
    if form.validate():
        try:
            _change_exemption(round_id, int(form.person.data), form.reason.data)
            flash(_("The person is exempt."), "ok")
        except VotesError as error:
            flash(message(error), "error")
    else:
        flash(_("Choose the person and give the reason."), "error")
    return redirect(url_for("admin.round_page", round_id=round_id))


@bp.route("/rounds/<int:round_id>/restore", methods=["POST"])
@role_required(*MANAGERS)
def restore(round_id: int) -> BaseResponse:
    """Put an exempt person back on the ballot of a draft round."""
    round_for(reading(), round_id, manage=True)
    form = RestoreForm()
    if form.validate() and form.person.data.isdigit():
        try:
            _change_exemption(round_id, int(form.person.data), None)
            flash(_("The person is back on the ballot."), "ok")
        except VotesError as error:
            flash(message(error), "error")
    return redirect(url_for("admin.round_page", round_id=round_id))


# ------------------------------------------------------------------------------ codes


def _round_header(round_: Round) -> dict[str, Any]:
    return {
        "id": round_.id,
        "title": round_.title,
        "body": round_.body.code,
        "body_name": round_.body.name,
        "year": round_.year,
        "scale": round_.scale,
    }


@bp.route("/rounds/<int:round_id>/codes", methods=["POST"])
@role_required(*MANAGERS)
def issue_codes(round_id: int) -> Any:
    """Issue voter codes and hand them over once, as a text file or printable slips."""
    round_for(reading(), round_id, manage=True)
    form = CodesForm()
    if not form.validate():
        flash(_("Give a number of codes between 1 and 5000."), "error")
        return redirect(url_for("admin.round_page", round_id=round_id))
    try:
        with writing() as db:
            round_ = rounds.get_round(db, round_id)
            codes = rounds.issue_round_codes(
                db, round_, form.count.data, current_app.config["SECRET_KEY"]
            )
            header = _round_header(round_)
    except VotesError as error:
        flash(message(error), "error")
        return redirect(url_for("admin.round_page", round_id=round_id))
    name = f"round-{round_id}-codes"
    if form.fmt.data == "pdf" and _has_report("slips"):
        pdf = _reports().slips(header, codes, current_app.config["BASE_URL"])
        return _download(pdf, f"{name}.pdf", "application/pdf")
    return _download(("\n".join(codes) + "\n").encode(), f"{name}.txt", "text/plain; charset=utf-8")


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# ------------------------------------------------------------------------------ transitions

TRANSITIONS = {
    "open": (
        rounds.open_round,
        lazy_gettext("Open the round for voting"),
        lazy_gettext("The round is open."),
    ),
    "close": (
        rounds.close_round,
        lazy_gettext("Close the round"),
        lazy_gettext("The round is closed."),
    ),
    "publish": (
        rounds.publish_round,
        lazy_gettext("Publish the results"),
        lazy_gettext("The results are published."),
    ),
}


@bp.route("/rounds/<int:round_id>/<any(open, close, publish):action>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def transition(round_id: int, action: str) -> Any:
    """Open, close or publish a round, after a confirmation step."""
    round_ = round_for(reading(), round_id, manage=True)
    function, title, done = TRANSITIONS[action]
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            with writing() as db:
                function(db, rounds.get_round(db, round_id))
        except VotesError as error:
            flash(message(error), "error")
        else:
            flash(str(done), "ok")
        return redirect(url_for("admin.round_page", round_id=round_id))
    context = _round_context(round_)
    return render_template("admin/confirm.html", action=action, title=title, **context)


# ------------------------------------------------------------------------------ paper ballots


def _open_for_paper(round_id: int) -> Round | None:
    """Return the round when paper ballots can be typed into it; else say why (flash)."""
    round_ = round_for(reading(), round_id, manage=True)
    if round_.status != RoundStatus.OPEN.value:
        flash(_("Paper ballots can only be entered while the round is open."), "error")
        return None
    return round_


def _to_round(round_id: int) -> BaseResponse:
    return redirect(url_for("admin.round_page", round_id=round_id))


def _to_paper(round_id: int) -> BaseResponse:
    return redirect(url_for("admin.paper", round_id=round_id))


@bp.route("/rounds/<int:round_id>/paper")
@role_required(*MANAGERS)
def paper(round_id: int) -> Any:
    """Double entry of paper ballots: the two entries, how far each is, what can be done next."""
    round_ = _open_for_paper(round_id)
    if round_ is None:
        return _to_round(round_id)
    entries = double_entry.states(reading(), round_)
    return render_template(
        "admin/paper.html", round=round_, entries=entries, confirm_form=ConfirmForm()
    )


@bp.route("/rounds/<int:round_id>/paper/<int:entry>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def paper_entry(round_id: int, entry: int) -> Any:
    """One clerk types the stack, one ballot at a time; each ballot is saved as it is added.

    The other entry is never shown here: each clerk reads the ballots for themselves.
    """
    if entry not in double_entry.ENTRIES:
        abort(404)
    round_ = _open_for_paper(round_id)
    if round_ is None:
        return _to_round(round_id)
    session = reading()
    state = double_entry.states(session, round_)[entry - 1]
    form_class = paper_form_class(round_.items, round_.scale)
    form = form_class()
    action = request.form.get("action", "")
    if request.method == "POST" and not form.validate():
        errors = [_("The form could not be read (it may have expired); type the ballot again.")]
        return _paper_entry_page(round_, entry, state, form, errors)
    if request.method == "POST":
        number = form.number.data
        marks = [form[item_field_name(item.order)].data for item in round_.items]
        if action == "add" and any(mark is None for mark in marks):
            errors = [_("Mark every row: a level, several boxes (X) or no box.")]
            return _paper_entry_page(round_, entry, state, form, errors)
        try:
            with writing() as db:
                locked = rounds.get_round(db, round_id)
                if action == "add":
                    line = double_entry.ballot_line(marks, bool(form.spoiled.data))
                    clerk = current_user.username
                    if not double_entry.add_ballot(
                        db, locked, entry, line, number=number, clerk=clerk
                    ):
                        flash(_("Ballot %(number)s was already added.", number=number), "error")
                elif action == "undo":
                    double_entry.remove_last(db, locked, entry, number=number)
                elif action == "finish":
                    double_entry.finish(db, locked, entry)
        except VotesError as error:
            flash(message(error), "error")
            return _to_paper(round_id)
        if action == "finish":
            flash(_("Entry %(entry)s is finished.", entry=entry), "ok")
            return _to_paper(round_id)
        return redirect(url_for("admin.paper_entry", round_id=round_id, entry=entry))
    if state.finished:
        flash(_("Entry %(entry)s is finished; reopen it to type more.", entry=entry), "error")
        return _to_paper(round_id)
    return _paper_entry_page(round_, entry, state, form_class(formdata=None), [])


def _paper_entry_page(
    round_: Round, entry: int, state: double_entry.EntryState, form: Any, errors: list[str]
) -> tuple[str, int]:
    form.number.data = state.count + 1
    return render_template(
        "admin/paper_entry.html",
        round=round_,
        entry=entry,
        form=form,
        count=state.count,
        last=_ballot_in_words(round_, state.last) if state.last else None,
        errors=errors,
        field=item_field_name,
    ), 422 if errors else 200


def _ballot_in_words(round_: Round, line: str) -> tuple[bool, list[tuple[str, str, str]]]:
    """Return whether a typed ballot is valid, and each item's name, mark and mark's label."""
    status, _sep, marks = line.partition(" ")
    labels = dict((*LEVEL_LABELS[round_.scale], *PAPER_EXTRA))
    return status == double_entry.VALID, [
        (item.name, mark, str(labels.get(mark, mark)))
        for item, mark in zip(round_.items, marks, strict=False)
    ]


@bp.route(
    "/rounds/<int:round_id>/paper/<int:entry>/<any(reopen, discard):action>", methods=["POST"]
)
@role_required(*MANAGERS)
def paper_entry_state(round_id: int, entry: int, action: str) -> BaseResponse:
    """Reopen a finished entry, or throw an entry away to type it again."""
    if entry not in double_entry.ENTRIES:
        abort(404)
    if _open_for_paper(round_id) is None:
        return _to_round(round_id)
    if ConfirmForm().validate_on_submit():
        try:
            with writing() as db:
                function = double_entry.reopen if action == "reopen" else double_entry.discard
                function(db, rounds.get_round(db, round_id), entry)
        except VotesError as error:
            flash(message(error), "error")
        else:
            done = (
                _("Entry %(entry)s is open again.", entry=entry)
                if action == "reopen"
                else _("Entry %(entry)s was thrown away.", entry=entry)
            )
            flash(done, "ok")
    return _to_paper(round_id)


@bp.route("/rounds/<int:round_id>/paper/compare", methods=["GET", "POST"])
@role_required(*MANAGERS)
def paper_compare(round_id: int) -> Any:
    """Compare the two finished entries, save corrections, accept the batch when they agree."""
    round_ = _open_for_paper(round_id)
    if round_ is None:
        return _to_round(round_id)
    comparison = double_entry.compare(reading(), round_)
    if not comparison.ready:
        flash(_("Both entries must be finished before they are compared."), "error")
        return _to_paper(round_id)
    form = BatchForm()
    problems: list[str] = []
    if request.method == "POST":
        if not form.validate():
            problems.append(_("Check the number of ballots handed out."))
        else:
            try:
                with writing() as db:
                    locked = rounds.get_round(db, round_id)
                    texts = (form.batch_a.data or "", form.batch_b.data or "")
                    problems = [message(p) for p in double_entry.correct(db, locked, texts)]
                    accept = not problems and request.form.get("action") == "accept"
                    if accept and double_entry.compare(db, locked).agree:
                        result = double_entry.accept(db, locked, issued=form.issued.data)
                        flash(_imported(result), "ok")
                        return _to_round(round_id)
            except VotesError as error:
                problems.append(message(error))
    # After a POST the entries are read again: the corrections changed them.
    return _compare_page(round_, form, problems, comparison if request.method == "GET" else None)


def _imported(result: voting.ImportResult) -> str:
    return str(_(
        "%(count)s paper ballots are in the ballot box (%(valid)s valid, %(invalid)s invalid).",
        count=result.count,
        valid=result.valid,
        invalid=result.invalid,
    ))


def _compare_page(
    round_: Round,
    form: BatchForm,
    problems: list[str],
    comparison: double_entry.Comparison | None = None,
) -> tuple[str, int]:
    comparison = comparison or double_entry.compare(reading(), round_)
    if not problems:
        # Show what is stored now (after a correction); a refused correction stays as typed.
        form.batch_a.data, form.batch_b.data = ("\n".join(b) for b in comparison.batches)
    status = 422 if problems else 200 if comparison.agree else 409
    return render_template(
        "admin/paper_compare.html",
        round=round_,
        form=form,
        comparison=comparison,
        problems=problems,
        letters=double_entry.letters(round_.scale),
    ), status


@bp.route("/rounds/<int:round_id>/paper/upload", methods=["POST"])
@role_required(*MANAGERS)
def paper_upload(round_id: int) -> BaseResponse:
    """Import a CSV file of paper ballots: the whole file or nothing."""
    round_for(reading(), round_id, manage=True)
    form = PaperUploadForm()
    if not form.validate() or not form.ballots_file.data:
        flash(_("Choose the CSV file of paper ballots."), "error")
        return redirect(url_for("admin.round_page", round_id=round_id))
    data = form.ballots_file.data.read()
    try:
        with writing() as db:
            result = voting.import_paper_ballots(
                db, rounds.get_round(db, round_id), data, issued=form.issued.data
            )
    except VotesError as error:
        flash(message(error), "error")
    else:
        flash(_imported(result), "ok")
    return redirect(url_for("admin.round_page", round_id=round_id))


# ------------------------------------------------------------------------------ results


def _results(round_id: int) -> tuple[Round, dict[str, Any]]:
    session = reading()
    round_ = round_for(session, round_id, manage=False)
    try:
        return round_, round_results(session, round_)
    except VotesError as error:
        flash(message(error), "error")
        abort(409)


@bp.route("/rounds/<int:round_id>/results")
@role_required(*STAFF)
def results(round_id: int) -> str:
    """Show the results of a closed round: table, stacked-bar chart, findings."""
    round_, result = _results(round_id)
    labels = dict(LEVEL_LABELS[round_.scale])
    return render_template(
        "admin/results.html",
        round=round_,
        result=result,
        chart=stacked_bars(result),
        manage=_can_manage(round_),
        confirm_form=ConfirmForm(),
        lang=language(),
        level_labels=labels,
        has_pdf={k: _has_report(k) for k in ("minutes", "summary")},
    )


@bp.route("/rounds/<int:round_id>/results.<any(json, csv):fmt>")
@role_required(*STAFF)
def results_file(round_id: int, fmt: str) -> Response:
    """Download the results as JSON or CSV."""
    from ..cli import results_csv

    _round, result = _results(round_id)
    if fmt == "json":
        data = json.dumps(result, ensure_ascii=False, indent=2).encode("utf-8")
        log_download(f"results.{fmt}", data, round_id=round_id)
        return _download(data, f"round-{round_id}-results.json", "application/json")
    data = ("\ufeff" + results_csv(result)).encode("utf-8")
    log_download(f"results.{fmt}", data, round_id=round_id)
    return _download(data, f"round-{round_id}-results.csv", "text/csv; charset=utf-8")


@bp.route("/rounds/<int:round_id>/followup", methods=["POST"])
@role_required(*MANAGERS)
def followup(round_id: int) -> BaseResponse:
    """Create the vote of confidence that the findings of a counted round call for."""
    from ..followup import create_followup

    round_for(reading(), round_id, manage=True)
    ConfirmForm()
    try:
        with writing() as db:
            source = rounds.get_round(db, round_id)
            created = create_followup(db, source, members=source.members, summoned=source.summoned)
            new_id = created.id
    except VotesError as error:
        flash(message(error), "error")
        return redirect(url_for("admin.results", round_id=round_id))
    flash(_("The vote of confidence is created as a draft."), "ok")
    return redirect(url_for("admin.round_page", round_id=new_id))


@bp.route("/rounds/<int:round_id>/<any(minutes, summary):kind>.pdf")
@role_required(*STAFF)
def results_pdf(round_id: int, kind: str) -> Response:
    """Download the counting minutes or the results summary as PDF (when reports exist)."""
    if not _has_report(kind):
        abort(404)
    round_, result = _results(round_id)
    if kind == "minutes":
        pdf = _reports().minutes(result, {"place": round_.place} if round_.place else None)
    else:
        pdf = _reports().summary(result)
    log_download(kind, pdf, round_id=round_id)
    return _download(pdf, f"round-{round_id}-{kind}.pdf", "application/pdf")


@bp.route("/rounds/<int:round_id>/ballot.pdf")
@role_required(*STAFF)
def ballot_pdf(round_id: int) -> Response:
    """Download the paper ballot of a round (when reports exist)."""
    if not _has_report("ballot_form"):
        abort(404)
    round_ = round_for(reading(), round_id, manage=False)
    data = {
        **_round_header(round_),
        "items": [
            {"order": i.order, "name": i.name, "position": i.position, "kind": i.kind}
            for i in round_.items
        ],
    }
    return _download(
        _reports().ballot_form(data), f"round-{round_id}-ballot.pdf", "application/pdf"
    )
