"""Organizers: bodies, rounds, rosters, exemptions, codes, paper ballots, results.

Every view is thin: check access, parse the form, call one operation of the core
(votes.operations) in a unit of work of the signed-in account, then render or redirect.
Refusals of the core (VotesError) are shown in the user's language.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
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
from sqlalchemy import select
from werkzeug.wrappers.response import Response as BaseResponse

from .. import operations, paper, profiles, staff, trustee
from ..ballotbox import ballots_collected, ballots_issued, sealed_count
from ..committee import (
    COMMITTEE_FILE_WORDS,
    FILE_MAX,
    SINGLE_MEMBER_WARNING,
    committee_file,
    committee_lines,
    fingerprint,
    get_key,
    pending_groups,
    totals_file,
)
from ..credentials import codes_issued, codes_used
from ..csvinput import is_xlsx
from ..errors import InvalidInput, Message, VotesError
from ..followup import Proposal
from ..groups import GROUP_OPEN, get_group
from ..meeting import committee_text, parse_committee
from ..models import Body, Person, Round, RoundStatus, StaffUser
from ..operations import documents
from ..persons import tree_warnings
from ..results import round_results
from ..roster import (
    IdentityQuestion,
    RosterEntry,
    homonyms,
    identity_questions,
    parse_roster,
    roster_csv,
    roster_entries,
    roster_warnings,
)
from ..seal import box_digest
from ..tally import quorum_warnings
from ..text import in_vietnam, name_sort_key
from ..tree import tree_lines
from ..vocabulary import EXEMPTION_WORDS, OTHER_EXEMPTION, PUBLIC_KINDS, STATES, levels
from ..voting import ImportResult
from .auth import role_required
from .charts import stacked_bars
from .common import (
    _,
    body_for,
    can_manage,
    language,
    lazy,
    message,
    reading,
    round_for,
    send,
    staff_user,
    working,
)
from .forms import (
    AttendanceForm,
    BatchForm,
    BodyForm,
    CodesForm,
    CommitteeFileForm,
    CommitteeForm,
    ConfirmForm,
    ExemptForm,
    GroupForm,
    MeetingForm,
    PaperUploadForm,
    ProposalForm,
    ResignForm,
    RestoreForm,
    RosterForm,
    RoundForm,
    item_field_name,
    paper_form_class,
)
from .words import level_labels, paper_keys, paper_labels

bp = Blueprint("admin", __name__)
STAFF = ("admin", "organizer", "auditor")
MANAGERS = ("admin", "organizer")


def _visible_bodies() -> list[Body]:
    session = reading()
    user = staff_user(session)
    only = staff.body_ids(session, user) if user.role == "organizer" else None
    # In the order of the tree: each body followed by the bodies under it.
    return [line.body for line in tree_lines(session, only)]


def _problems(error: VotesError) -> list[str]:
    problems: list[VotesError] = [*error.problems] if isinstance(error, InvalidInput) else []
    return [message(p) for p in (problems or [error])]


def _identity_answers() -> dict[int, str]:
    """Read the answers to "same person?" of a roster preview (identity_<line> = key or new)."""
    answers = {}
    for name, value in request.form.items():
        line = name.removeprefix("identity_")
        if name.startswith("identity_") and line.isdigit() and value:
            answers[int(line)] = value
    return answers


def _questions(body: Body, entries: list[RosterEntry] | None) -> list[IdentityQuestion]:
    """Return the roster's "same person?" questions (none without a parsed roster)."""
    if not entries:
        return []
    return identity_questions(reading(), body, entries)


def _tree_warnings(
    body: Body, year: int | None, entries: list[RosterEntry] | None, leave_out: int | None = None
) -> list[Message]:
    """Return the roster's warnings about the tree: QĐ 96's two places, namesakes elsewhere."""
    if not entries or year is None:
        return []
    return tree_warnings(reading(), body, year, entries, leave_out=leave_out)


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
        with working() as work:
            code = operations.add_body(work, form.code.data, form.name.data, form.kind.data).code
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
    found = body_for(session, code, manage=False)
    findings = documents.findings(session, found.code)
    manage = staff.can_manage(session, staff_user(session), found.id)
    form = _proposal_form(found) if manage else None
    return render_template(
        "admin/body.html",
        body=found,
        findings=findings,
        manage=manage,
        proposal_form=form if form is not None and form.profile.choices else None,
    )


# ------------------------------------------------------------------------------ rounds


def profile_in_force(choices: list[profiles.Profile], day: dt.date) -> str | None:
    """Return the id of the profile in force on a day (the newest of them), for the form."""
    in_force = [p for p in choices if p.in_force_from is not None and p.in_force_on(day)]
    if not in_force:
        return None
    newest = max(in_force, key=lambda p: (p.in_force_from or dt.date.min, p.id))
    return newest.id


def _decode_roster(value: str | None) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError):
        abort(400)


def _preview(data: bytes | None) -> tuple[list[RosterEntry] | None, list[str]]:
    """Parse a roster for the preview: the entries, or every problem with its line."""
    if data is None:
        return None, []
    try:
        return parse_roster(data), []
    except InvalidInput as error:
        return None, _problems(error)


@bp.route("/bodies/<code>/rounds/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_round(code: str) -> Any:
    """Create a round: facts, profile, roster; the roster is previewed before anything is saved."""
    session = reading()
    found = body_for(session, code, manage=True)
    choices = profiles.latest_profiles(session, found.kind)
    form = RoundForm()
    lang = language()
    form.profile.choices = [(p.id, getattr(p.name, lang)) for p in choices]
    if not form.is_submitted():
        form.profile.data = profile_in_force(choices, dt.date.today())
    entries: list[RosterEntry] | None = None
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
                with working() as work:
                    round_id = operations.create_round(
                        work,
                        body_code=found.code,
                        year=form.year.data,
                        profile_id=form.profile.data,
                        title=form.title.data,
                        roster=entries,
                        members=form.members.data,
                        summoned=form.summoned.data,
                        present=form.present.data,
                        place=form.place.data or None,
                        time_exception=form.exception_decision.data or None,
                        other_exemption=form.other_exemption.data or None,
                        identity=_identity_answers(),
                    ).id
            except VotesError as error:
                problems = _problems(error)
            else:
                flash(_("The round is created as a draft."), "ok")
                return redirect(url_for("admin.round_page", round_id=round_id))
    status = 422 if problems else 200
    return render_template(
        "admin/round_new.html",
        body=found,
        form=form,
        profiles=choices,
        entries=entries,
        warnings=roster_warnings(entries or []) + _tree_warnings(found, form.year.data, entries),
        problems=problems,
        questions=_questions(found, entries),
        answers=_identity_answers(),
        homonyms=homonyms(entries or []),
    ), status


def _meeting_form(round_: Round) -> MeetingForm:
    counted = in_vietnam(round_.counted_at).replace(tzinfo=None) if round_.counted_at else None
    return MeetingForm(
        formdata=None,
        held_on=round_.held_on,
        starts_at=in_vietnam(round_.starts_at).time() if round_.starts_at else None,
        counted_at=counted,
        place=round_.place,
        chair=round_.chair,
        committee=committee_text(round_),
    )


def _round_context(round_: Round) -> dict[str, Any]:
    session = reading()
    return {
        "meeting_form": _meeting_form(round_),
        "resign_form": _resign_form(round_),
        "quorum_warnings": quorum_warnings(session, round_),
        "round": round_,
        "manage": can_manage(round_),
        "codes_issued": codes_issued(session, round_.id),
        "codes_used": codes_used(session, round_.id),
        "issued": ballots_issued(session, round_),
        "collected": ballots_collected(session, round_.id),
        "pending_paper": paper.pending(session, round_.id),
        "profile": profiles.get_profile(session, round_.profile_id, round_.profile_version),
        "codes_form": CodesForm(),
        "exempt_form": _exempt_form(round_),
        "restore_form": RestoreForm(),
        "confirm_form": ConfirmForm(),
        "group_form": GroupForm(formdata=None),
        "upload_form": PaperUploadForm(),
        **_committee_context(round_),
        # A round of several groups records each group's figures: nothing is prefilled, or
        # the round's sums would be taken for the group chosen.
        "attendance_form": AttendanceForm(formdata=None)
        if len(round_.groups) > 1
        else AttendanceForm(
            formdata=None,
            members=round_.members,
            summoned=round_.summoned,
            present=round_.present,
        ),
    }


def _committee_context(round_: Round) -> dict[str, Any]:
    """What the round's page shows of the counting committee's key and its ceremony."""
    session = reading()
    key = get_key(session, round_.id)
    form = CommitteeForm(
        formdata=None,
        members=committee_text(round_) if round_.committee else "",
        threshold=(len(round_.committee) // 2 + 1) if round_.committee else None,
    )
    return {
        "key": key,
        "key_lines": committee_lines(session, round_),
        "key_fingerprint": fingerprint(key.public_key) if key is not None else None,
        "single_member_warning": SINGLE_MEMBER_WARNING,
        "committee_form": form,
        "committee_file_form": CommitteeFileForm(),
        "sealed_ballots": sealed_count(session, round_.id),
        "box_digest": box_digest(session, round_.id),
        # Voter groups closed with sealed ballots whose totals are not decrypted yet: the
        # members can decrypt them while other groups still vote.
        "awaiting_groups": pending_groups(key) if key is not None else [],
    }


def _exempt_form(round_: Round) -> ExemptForm:
    form = ExemptForm()
    form.person.choices = [
        (item.person.person_key, f"{item.name} — {item.position}")
        for item in round_.items
        if item.person is not None
    ]
    profile = profiles.get_profile(reading(), round_.profile_id, round_.profile_version)
    lang = language()
    form.reason.choices = [(key, getattr(text, lang)) for key, text in profile.exemptions] + [
        (OTHER_EXEMPTION, _(EXEMPTION_WORDS[OTHER_EXEMPTION]))
    ]
    return form


def _resign_form(round_: Round) -> ResignForm:
    form = ResignForm()
    form.person.choices = [
        (item.person.person_key, f"{item.name} — {item.position}")
        for item in round_.items
        if item.person is not None
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


def _to_round(round_id: int) -> BaseResponse:
    return redirect(url_for("admin.round_page", round_id=round_id))


def _to_paper(round_id: int, group: int | None = None) -> BaseResponse:
    return redirect(url_for("admin.paper", round_id=round_id, group=group))


# ------------------------------------------------------------------------------ roster


@bp.route("/rounds/<int:round_id>/roster", methods=["GET", "POST"])
@role_required(*MANAGERS)
def roster(round_id: int) -> Any:
    """Edit the roster of a draft round: typed or uploaded, previewed, then confirmed."""
    round_ = round_for(reading(), round_id, manage=True)
    if round_.status != RoundStatus.DRAFT.value:
        flash(_("The roster can only be changed while the round is a draft."), "error")
        return _to_round(round_id)
    form = RosterForm()
    entries: list[RosterEntry] | None = None
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
            form.roster_text.data = (
                roster_csv(entries or [])
                if is_xlsx(data)
                else data.decode("utf-8", errors="replace")
            )
        if entries is not None and request.form.get("action") == "confirm" and not upload:
            try:
                with working() as work:
                    operations.set_roster(
                        work,
                        round_id,
                        entries,
                        other_exemption=form.other_exemption.data or None,
                        identity=_identity_answers(),
                    )
            except VotesError as error:
                problems = _problems(error)
            else:
                flash(_("The roster is saved."), "ok")
                return _to_round(round_id)
    elif request.method == "GET":
        form.roster_text.data = roster_csv(roster_entries(round_))
    status = 422 if problems else 200
    return render_template(
        "admin/roster.html",
        round=round_,
        form=form,
        entries=entries,
        warnings=roster_warnings(entries or [])
        + _tree_warnings(round_.body, round_.year, entries, leave_out=round_.id),
        problems=problems,
        questions=_questions(round_.body, entries),
        answers=_identity_answers(),
        homonyms=homonyms(entries or []),
    ), status


def _act(round_id: int, action: Callable[[operations.Work], object], done: str) -> bool:
    """Run one operation for a round the user manages; flash what happened."""
    round_for(reading(), round_id, manage=True)
    try:
        with working() as work:
            action(work)
    except VotesError as error:
        flash(message(error), "error")
        return False
    flash(done, "ok")
    return True


@bp.route("/rounds/<int:round_id>/attendance", methods=["POST"])
@role_required(*MANAGERS)
def attendance(round_id: int) -> BaseResponse:
    """Record members, summoned and present of a draft or open round."""
    round_for(reading(), round_id, manage=True)
    form = AttendanceForm()
    if form.validate():
        done = _act(
            round_id,
            lambda work: operations.record_attendance(
                work,
                round_id,
                members=form.members.data,
                summoned=form.summoned.data,
                present=form.present.data,
                group=_group_number(),
            ),
            _("The attendance is recorded."),
        )
        session = reading()
        session.expire_all()
        warnings = quorum_warnings(session, round_for(session, round_id, manage=True))
        for warning in warnings if done else []:
            flash(_("Warning: {message}", message=message(warning)), "error")
    else:
        flash(
            _("Give whole numbers: the members are required, the others may stay empty."), "error"
        )
    return _to_round(round_id)


@bp.route("/rounds/<int:round_id>/exempt", methods=["POST"])
@role_required(*MANAGERS)
def exempt(round_id: int) -> BaseResponse:
    """Leave a person off the ballot of a draft round, with the reason."""
    form = _exempt_form(round_for(reading(), round_id, manage=True))
    if form.validate():
        other = form.reason.data == OTHER_EXEMPTION
        reason = (form.other_reason.data or "") if other else form.reason.data
        if other and not reason:
            flash(_("Give the other reason in words, and the number of the decision."), "error")
            return _to_round(round_id)
        _act(
            round_id,
            lambda work: operations.exempt_person(
                work, round_id, form.person.data, reason, form.decision.data or ""
            ),
            _("The person is exempt."),
        )
    else:
        flash(_("Choose the person and give the reason."), "error")
    return _to_round(round_id)


@bp.route("/rounds/<int:round_id>/resign", methods=["POST"])
@role_required(*MANAGERS)
def resign(round_id: int) -> BaseResponse:
    """Record that a person resigned before a draft vote of confidence, with the decision."""
    form = _resign_form(round_for(reading(), round_id, manage=True))
    if form.validate():
        _act(
            round_id,
            lambda work: operations.resign_person(
                work, round_id, form.person.data, form.decision.data
            ),
            _("The resignation is recorded; the person is left off the ballot."),
        )
    else:
        flash(_("Choose the person and give the number of the decision."), "error")
    return _to_round(round_id)


@bp.route("/rounds/<int:round_id>/meeting", methods=["POST"])
@role_required(*MANAGERS)
def meeting(round_id: int) -> Any:
    """Record the meeting and its counting committee (before the minutes are signed)."""
    round_ = round_for(reading(), round_id, manage=True)
    form = MeetingForm()
    if not form.validate():
        flash(
            _(
                "Give the date of the meeting and the counting committee; times as HH:MM, "
                "in Vietnam."
            ),
            "error",
        )
        return _to_round(round_id)
    try:
        committee = parse_committee(form.committee.data)
    except VotesError as error:
        flash(message(error), "error")
        return _to_round(round_id)
    _act(
        round_.id,
        lambda work: operations.record_meeting(
            work,
            round_id,
            held_on=form.held_on.data,
            committee=committee,
            starts_at=form.starts_at.data,
            counted_at=form.counted_at.data,
            place=form.place.data or "",
            chair=form.chair.data or "",
        ),
        _("The meeting is recorded."),
    )
    return _to_round(round_id)


@bp.route("/rounds/<int:round_id>/restore", methods=["POST"])
@role_required(*MANAGERS)
def restore(round_id: int) -> BaseResponse:
    """Put an exempt person back on the ballot of a draft round."""
    round_for(reading(), round_id, manage=True)
    form = RestoreForm()
    if form.validate():
        _act(
            round_id,
            lambda work: operations.restore_person(work, round_id, form.person.data),
            _("The person is back on the ballot."),
        )
    return _to_round(round_id)


# ------------------------------------------------------------------------------ codes


@bp.route("/rounds/<int:round_id>/codes", methods=["POST"])
@role_required(*MANAGERS)
def issue_codes(round_id: int) -> Any:
    """Issue voter codes and hand them over once, as a text file or printable slips."""
    round_for(reading(), round_id, manage=True)
    form = CodesForm()
    if not form.validate():
        flash(_("Give a number of codes between 1 and 5000."), "error")
        return _to_round(round_id)
    secret = current_app.config["SECRET_KEY"]
    try:
        with working() as work:
            if form.fmt.data == "pdf":
                document = documents.slips(
                    work,
                    round_id,
                    form.count.data,
                    secret,
                    current_app.config["BASE_URL"],
                    group=_group_number(),
                )
            else:
                document = documents.codes_text(
                    work, round_id, form.count.data, secret, group=_group_number()
                )
    except VotesError as error:
        flash(message(error), "error")
        return _to_round(round_id)
    return send(document)


# ------------------------------------------------------------------------------ voter groups


def _group_number() -> int | None:
    """Return the voter group a form names (its "group" field), or None for the only one."""
    value = (request.form.get("group") or "").strip()
    return int(value) if value.isdigit() and len(value) < 10 else None


@bp.route("/rounds/<int:round_id>/groups", methods=["POST"])
@role_required(*MANAGERS)
def add_group(round_id: int) -> BaseResponse:
    """Add a voter group to a draft round."""
    round_for(reading(), round_id, manage=True)
    form = GroupForm()
    if not form.validate():
        flash(_("Give the group's name and its number of members."), "error")
        return _to_round(round_id)
    _act(
        round_id,
        lambda work: operations.add_group(
            work,
            round_id,
            form.name.data,
            members=form.members.data,
            summoned=form.summoned.data,
            present=form.present.data,
            deciding=bool(form.deciding.data),
            kind=form.kind.data or None,
        ),
        _("The voter group {name} is added.", name=form.name.data),
    )
    return _to_round(round_id)


@bp.route("/rounds/<int:round_id>/groups/deciding", methods=["POST"])
@role_required(*MANAGERS)
def choose_deciding(round_id: int) -> BaseResponse:
    """Name the result that decides (a group, or the combined result) before opening."""
    round_for(reading(), round_id, manage=True)
    if ConfirmForm().validate():
        which = request.form.get("which", "")
        number = None if which == "combined" else _group_number_of(which)
        if which == "combined" or number is not None:
            _act(
                round_id,
                lambda work: operations.choose_deciding(work, round_id, number),
                _("The result that decides is recorded."),
            )
    return _to_round(round_id)


def _group_number_of(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 10 else None


@bp.route("/rounds/<int:round_id>/groups/<int:number>/<any(open, close):action>", methods=["POST"])
@role_required(*MANAGERS)
def group_transition(round_id: int, number: int, action: str) -> BaseResponse:
    """Open or close one voter group of a round."""
    round_for(reading(), round_id, manage=True)
    if ConfirmForm().validate():
        function = operations.open_round if action == "open" else operations.close_round
        _act(
            round_id,
            lambda work: function(work, round_id, number),
            _("Voter group {number} is open.", number=number)
            if action == "open"
            else _("Voter group {number} is closed.", number=number),
        )
    return _to_round(round_id)


# ------------------------------------------------------------------------------ transitions

TRANSITIONS: dict[str, tuple[Callable[[operations.Work, int], Round], Any, Any]] = {
    "open": (
        operations.open_round,
        lazy("Open the round for voting"),
        lazy("The round is open."),
    ),
    "close": (
        operations.close_round,
        lazy("Close the round"),
        lazy("The round is closed."),
    ),
    "publish": (
        operations.publish_round,
        lazy("Publish the results"),
        lazy("The results are published."),
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
        _act(round_id, lambda work: function(work, round_id), str(done))
        return _to_round(round_id)
    context = _round_context(round_)
    if action == "publish" and round_.status == RoundStatus.CLOSED.value:
        context.update(_audience(round_))
    return render_template("admin/confirm.html", action=action, title=title, **context)


def _audience(round_: Round) -> dict[str, Any]:
    """Say who will see a published round's results, and what (DOMAIN.md §5, Publication)."""
    session = reading()
    public = round_.body.kind in PUBLIC_KINDS
    users = session.scalars(select(StaffUser).where(StaffUser.active.is_(True))).all()
    staff_names = sorted(
        u.username
        for u in users
        if u.role != "auditor" and staff.can_view(session, u, round_.body_id)
    )
    auditors = sorted(u.username for u in users if u.role == "auditor")
    return {
        "public": public,
        "staff_names": staff_names,
        "auditor_names": auditors,
        "result": round_results(session, round_),
        "lang": language(),
    }


# ------------------------------------------------------------------------------ paper ballots


def _paper_group() -> int | None:
    """Return the voter group the paper pages type for (?group=N), None for the only one."""
    return _group_number_of((request.args.get("group") or "").strip())


def _open_for_paper(round_id: int, *, chooser: bool = False) -> Round | None:
    """Return the round when paper ballots can be typed into it (for the group named by
    ?group=N, which must be open); else say why (flash).

    A round of several voter groups types each group's stack apart: without a group only the
    overview (`chooser`) is shown, where the group is chosen.
    """
    round_ = round_for(reading(), round_id, manage=True)
    if round_.status != RoundStatus.OPEN.value:
        flash(_("Paper ballots can only be entered while the round is open."), "error")
        return None
    number = _paper_group()
    if len(round_.groups) > 1 and number is None:
        if chooser:
            return round_
        flash(_("Choose the voter group whose paper ballots are typed in."), "error")
        return None
    if number is not None and number not in {g.number for g in round_.groups}:
        abort(404)
    group = get_group(round_, number) if number is not None else round_.groups[0]
    if group.status != GROUP_OPEN:
        flash(
            _(
                "Voter group {number} is {status}: its paper ballots are typed in while it is "
                "open.",
                number=group.number,
                status=_(STATES.get(group.status, group.status)),
            ),
            "error",
        )
        return None
    return round_


def _paper_refused(round_id: int) -> BaseResponse:
    """Go back where a refused paper page was reached from: the round, or the groups' list."""
    round_ = reading().get(Round, round_id)
    if round_ is None or round_.status != RoundStatus.OPEN.value:
        return _to_round(round_id)
    return _to_paper(round_id)


@bp.route("/rounds/<int:round_id>/paper", endpoint="paper")
@role_required(*MANAGERS)
def paper_overview(round_id: int) -> Any:
    """Double entry of paper ballots: the two entries, how far each is, what can be done next.

    A round of several voter groups: each group has its own two entries; without ?group=N
    the page lists the groups to choose from.
    """
    round_ = _open_for_paper(round_id, chooser=True)
    if round_ is None:
        return _to_paper(round_id) if _paper_group() is not None else _to_round(round_id)
    group = _paper_group()
    if len(round_.groups) > 1 and group is None:
        return render_template(
            "admin/paper.html",
            round=round_,
            group=None,
            entries=[],
            pending=paper.pending_by_group(reading(), round_.id),
            confirm_form=ConfirmForm(),
        )
    entries = paper.states(reading(), round_, group)
    return render_template(
        "admin/paper.html",
        round=round_,
        group=group,
        group_name=get_group(round_, group).name,
        entries=entries,
        confirm_form=ConfirmForm(),
    )


@bp.route("/rounds/<int:round_id>/paper/<int:entry>", methods=["GET", "POST"])
@role_required(*MANAGERS)
def paper_entry(round_id: int, entry: int) -> Any:
    """One clerk types the stack, one ballot at a time; each ballot is saved as it is added.

    The other entry is never shown here: each clerk reads the ballots for themselves.
    """
    if entry not in paper.ENTRIES:
        abort(404)
    round_ = _open_for_paper(round_id)
    group = _paper_group()
    if round_ is None:
        return _paper_refused(round_id)
    state = paper.states(reading(), round_, group)[entry - 1]
    form_class = paper_form_class(round_.items, round_.scale)
    form = form_class()
    action = request.form.get("action", "")
    if request.method == "POST" and not form.validate():
        errors = [_("The form could not be read (it may have expired); type the ballot again.")]
        return _paper_entry_page(round_, group, entry, state, form, errors)
    if request.method == "POST":
        number = form.number.data
        marks = [form[item_field_name(item.order)].data for item in round_.items]
        if action == "add" and any(mark is None for mark in marks):
            errors = [_("Mark every row: a level, several boxes (X) or no box.")]
            return _paper_entry_page(round_, group, entry, state, form, errors)
        try:
            with working() as work:
                if action == "add":
                    line = paper.ballot_line(marks, bool(form.spoiled.data))
                    if not operations.add_paper_ballot(
                        work, round_id, entry, line, number=number, group=group
                    ):
                        flash(_("Ballot {number} was already added.", number=number), "error")
                elif action == "undo":
                    operations.remove_paper_ballot(
                        work, round_id, entry, number=number, group=group
                    )
                elif action == "finish":
                    operations.finish_entry(work, round_id, entry, group)
        except VotesError as error:
            flash(message(error), "error")
            return _to_paper(round_id, group)
        if action == "finish":
            flash(_("Entry {entry} is finished.", entry=entry), "ok")
            return _to_paper(round_id, group)
        return redirect(url_for("admin.paper_entry", round_id=round_id, entry=entry, group=group))
    if state.finished:
        flash(_("Entry {entry} is finished; reopen it to type more.", entry=entry), "error")
        return _to_paper(round_id, group)
    return _paper_entry_page(round_, group, entry, state, form_class(formdata=None), [])


def _paper_entry_page(
    round_: Round,
    group: int | None,
    entry: int,
    state: paper.EntryState,
    form: Any,
    errors: list[str],
) -> tuple[str, int]:
    form.number.data = state.count + 1
    return render_template(
        "admin/paper_entry.html",
        round=round_,
        group=group,
        group_name=get_group(round_, group).name,
        entry=entry,
        form=form,
        count=state.count,
        last=_ballot_in_words(round_, state.last) if state.last else None,
        errors=errors,
        field=item_field_name,
        keys=paper_keys(round_.scale),
        keys_hint=", ".join(f"{level.digit} {_(level.label)}" for level in levels(round_.scale)),
    ), 422 if errors else 200


def _ballot_in_words(round_: Round, line: str) -> tuple[bool, list[tuple[str, str, str]]]:
    """Return whether a typed ballot is valid, and each item's name, key typed and its words."""
    status, _sep, marks = line.partition(" ")
    labels = paper_labels(round_.scale)
    keys = paper_keys(round_.scale)
    return status == paper.VALID, [
        (item.name, keys.get(mark, mark), str(labels.get(mark, mark)))
        for item, mark in zip(round_.items, marks, strict=False)
    ]


def _differences_in_words(round_: Round, comparison: paper.Comparison) -> list[dict[str, Any]]:
    """Name, for each ballot where the entries differ, the person and both entries in words."""
    labels = paper_labels(round_.scale)
    keys = paper_keys(round_.scale)
    names = {item.order: item.name for item in round_.items}

    def words(mark: str | None) -> str:
        if mark is None:
            return _("(missing)")
        return f"{keys.get(mark, mark)} — {labels.get(mark, mark)}"

    def status(value: str | None) -> str:
        if value is None:
            return _("(missing)")
        return _("valid") if value == paper.VALID else _("invalid (the whole ballot)")

    found = []
    for difference in paper.explain(comparison.diff):
        rows = [
            {"name": names.get(order, str(order)), "a": words(a), "b": words(b)}
            for order, a, b in difference.rows
        ]
        found.append(
            {
                "number": difference.number,
                "status": None
                if difference.statuses[0] == difference.statuses[1]
                else (status(difference.statuses[0]), status(difference.statuses[1])),
                "rows": rows,
            }
        )
    return found


@bp.route(
    "/rounds/<int:round_id>/paper/<int:entry>/<any(reopen, discard):action>", methods=["POST"]
)
@role_required(*MANAGERS)
def paper_entry_state(round_id: int, entry: int, action: str) -> BaseResponse:
    """Reopen a finished entry, or throw an entry away to type it again."""
    if entry not in paper.ENTRIES:
        abort(404)
    if _open_for_paper(round_id) is None:
        return _paper_refused(round_id)
    group = _paper_group()
    if ConfirmForm().validate_on_submit():
        if action == "reopen":
            _act(
                round_id,
                lambda work: operations.reopen_entry(work, round_id, entry, group),
                _("Entry {entry} is open again.", entry=entry),
            )
        else:
            _act(
                round_id,
                lambda work: operations.discard_entry(work, round_id, entry, group),
                _("Entry {entry} was thrown away.", entry=entry),
            )
    return _to_paper(round_id, group)


@bp.route("/rounds/<int:round_id>/paper/compare", methods=["GET", "POST"])
@role_required(*MANAGERS)
def paper_compare(round_id: int) -> Any:
    """Compare the two finished entries, save corrections, accept the batch when they agree."""
    round_ = _open_for_paper(round_id)
    if round_ is None:
        return _paper_refused(round_id)
    group = _paper_group()
    comparison = paper.compare(reading(), round_, group)
    if not comparison.ready:
        flash(_("Both entries must be finished before they are compared."), "error")
        return _to_paper(round_id, group)
    form = BatchForm()
    problems: list[str] = []
    if request.method == "POST":
        if not form.validate():
            problems.append(_("Check the number of ballots handed out."))
        else:
            texts = (form.batch_a.data or "", form.batch_b.data or "")
            accept = request.form.get("action") == "accept"
            try:
                with working() as work:
                    operations.correct_entries(work, round_id, texts, group)
                    if accept and paper.compare(work.session, work.round(round_id), group).agree:
                        result = operations.accept_entries(
                            work, round_id, issued=form.issued.data, group=group
                        )
                        flash(_imported(result), "ok")
                        return _to_round(round_id)
            except VotesError as error:
                problems = _problems(error)
    # After a POST the entries are read again: the corrections changed them.
    return _compare_page(
        round_, group, form, problems, comparison if request.method == "GET" else None
    )


def _imported(result: ImportResult) -> str:
    return _(
        "{count} paper ballots are in the ballot box ({valid} valid, {invalid} invalid).",
        count=result.count,
        valid=result.valid,
        invalid=result.invalid,
    )


def _compare_page(
    round_: Round,
    group: int | None,
    form: BatchForm,
    problems: list[str],
    comparison: paper.Comparison | None = None,
) -> tuple[str, int]:
    comparison = comparison or paper.compare(reading(), round_, group)
    if not problems:
        # Show what is stored now (after a correction), in the digits the clerks type; a
        # refused correction stays as typed.
        form.batch_a.data, form.batch_b.data = (
            "\n".join(paper.in_digits(line, round_.scale) for line in batch)
            for batch in comparison.batches
        )
    status = 422 if problems else 200 if comparison.agree else 409
    return render_template(
        "admin/paper_compare.html",
        round=round_,
        group=group,
        group_name=get_group(round_, group).name,
        form=form,
        comparison=comparison,
        differences=_differences_in_words(round_, comparison),
        problems=problems,
        letters=paper.keys(round_.scale),
    ), status


@bp.route("/rounds/<int:round_id>/paper/upload", methods=["POST"])
@role_required(*MANAGERS)
def paper_upload(round_id: int) -> BaseResponse:
    """Import a CSV file of paper ballots: the whole file or nothing."""
    round_for(reading(), round_id, manage=True)
    form = PaperUploadForm()
    if not form.validate() or not form.ballots_file.data:
        flash(_("Choose the CSV file of paper ballots."), "error")
        return _to_round(round_id)
    data = form.ballots_file.data.read()
    try:
        with working() as work:
            result = operations.import_paper_ballots(
                work,
                round_id,
                data,
                issued=form.issued.data,
                another_stack=bool(form.another_stack.data),
                submission=form.submission.data or None,
                group=_group_number(),
            )
    except VotesError as error:
        flash(message(error), "error")
    else:
        flash(_imported(result), "ok")
    return _to_round(round_id)


# ------------------------------------------------------------------------------ the key


@bp.route("/rounds/<int:round_id>/committee", methods=["POST"])
@role_required(*MANAGERS)
def committee_create(round_id: int) -> BaseResponse:
    """Name the counting committee that holds the round's key, and k."""
    round_for(reading(), round_id, manage=True)
    form = CommitteeForm()
    if not form.validate():
        flash(_("Give the members of the committee and how many are needed."), "error")
        return _to_round(round_id)

    def create(work: operations.Work) -> None:
        members = parse_committee(form.members.data or "")
        operations.create_committee(work, round_id, form.threshold.data or 0, members)

    _act(round_id, create, _("The counting committee is named: now each member makes a key."))
    return _to_round(round_id)


@bp.route("/rounds/<int:round_id>/committee/remove", methods=["POST"])
@role_required(*MANAGERS)
def committee_remove(round_id: int) -> BaseResponse:
    """Remove the counting committee of a draft round."""
    round_for(reading(), round_id, manage=True)
    if ConfirmForm().validate_on_submit():
        _act(
            round_id,
            lambda work: operations.remove_committee(work, round_id),
            _("The counting committee was removed."),
        )
    return _to_round(round_id)


@bp.route("/rounds/<int:round_id>/committee/upload", methods=["POST"])
@role_required(*MANAGERS)
def committee_upload(round_id: int) -> BaseResponse:
    """Receive a file from a member of the counting committee; every proof is checked."""
    round_for(reading(), round_id, manage=True)
    form = CommitteeFileForm()
    if not form.validate() or not form.committee_file.data:
        flash(_("Choose the file the member of the committee sent."), "error")
        return _to_round(round_id)
    data = form.committee_file.data.read(FILE_MAX + 1)
    try:
        with working() as work:
            received = operations.receive_committee_file(work, round_id, data)
    except VotesError as error:
        flash(message(error), "error")
        return _to_round(round_id)
    flash(
        _(
            "{kind} of {name} (member {number}) received and checked.",
            kind=_(COMMITTEE_FILE_WORDS[received.kind]),
            name=received.name,
            number=received.number,
        ),
        "ok",
    )
    if received.key_made:
        flash(
            _(
                "The committee's key is made; its fingerprint is {fingerprint}.",
                fingerprint=received.key_made,
            ),
            "ok",
        )
    if received.decrypted:
        flash(_("The totals are decrypted: the round is counted."), "ok")
    return _to_round(round_id)


@bp.route("/rounds/<int:round_id>/<any(committee, totals):kind>.json")
@role_required(*STAFF)
def committee_download(round_id: int, kind: str) -> Response:
    """Download the committee's public file, or the encrypted totals for the members."""
    session = reading()
    round_ = round_for(session, round_id, manage=False)
    build = committee_file if kind == "committee" else totals_file
    try:
        document = build(session, round_)
    except VotesError as error:
        abort(409, description=message(error))
    return Response(
        trustee.as_file(document),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="round-{round_id}-{kind}.json"'},
    )


# ------------------------------------------------------------------------------ results


def _counted(build: Callable[[], Any]) -> Any:
    """Build what only a counted round has; 409 with the reason while it is not counted."""
    try:
        return build()
    except VotesError as error:
        flash(message(error), "error")
        abort(409)


def _download(round_id: int, document: operations.Document) -> Response:
    """Log who took a document of a round, then hand it over."""
    with working() as work:
        operations.log_download(work, document, round_id=round_id)
    return send(document)


@bp.route("/rounds/<int:round_id>/results")
@role_required(*STAFF)
def results(round_id: int) -> str:
    """Show the results of a closed round: table, stacked-bar chart, findings."""
    session = reading()
    round_ = round_for(session, round_id, manage=False)
    result = _counted(lambda: round_results(session, round_))
    return render_template(
        "admin/results.html",
        round=round_,
        result=result,
        chart=stacked_bars(result),
        manage=can_manage(round_),
        confirm_form=ConfirmForm(),
        proposal_form=_proposal_form(round_.body, [round_.profile_id]),
        lang=language(),
        level_labels=dict(level_labels(round_.scale)),
    )


@bp.route("/rounds/<int:round_id>/results.<any(json, csv):fmt>")
@role_required(*STAFF)
def results_file(round_id: int, fmt: str) -> Response:
    """Download the results as JSON or CSV."""
    session = reading()
    round_for(session, round_id, manage=False)
    build = documents.results_json if fmt == "json" else documents.results_csv
    return _download(round_id, _counted(lambda: build(session, round_id)))


def _proposal_form(body: Body, profile_ids: list[str] | None = None) -> ProposalForm:
    """Build the form of a vote of confidence on a proposal, for a body."""
    session = reading()
    form = ProposalForm()
    lang = language()
    known = profiles.latest_profiles(session, body.kind)
    if profile_ids is not None:
        known = [p for p in known if p.id in profile_ids]
    proposers = {
        p.id: getattr(p.text, lang)
        for profile in known
        for p in profile.proposers
        if body.kind in p.body_kinds
    }
    form.proposed_by.choices = [("", _("(no proposal)")), *proposers.items()]
    form.profile.choices = [(p.id, getattr(p.name, lang)) for p in known if p.proposers]
    persons = session.scalars(select(Person).where(Person.body_id == body.id)).all()
    form.persons.choices = [
        (p.person_key, p.name) for p in sorted(persons, key=lambda p: name_sort_key(p.name))
    ]
    return form


def _proposal(form: ProposalForm) -> Proposal | None:
    """Return the proposal a form gives, or None when it gives none."""
    if not form.proposed_by.data:
        return None
    return Proposal(
        by=form.proposed_by.data,
        number=form.proposal_number.data or "",
        on=form.proposal_date.data or dt.date.today(),
        persons=tuple(form.persons.data or ()),
        signatories=form.signatories.data,
    )


@bp.route("/rounds/<int:round_id>/followup", methods=["POST"])
@role_required(*MANAGERS)
def followup(round_id: int) -> BaseResponse:
    """Create the vote of confidence the findings of a counted round call for (and a proposal)."""
    round_ = round_for(reading(), round_id, manage=True)
    form = _proposal_form(round_.body, [round_.profile_id])
    if not form.validate() or (form.proposed_by.data and not form.proposal_date.data):
        flash(_("Check the proposal: who proposed it, its number and date, the persons."), "error")
        return redirect(url_for("admin.results", round_id=round_id))
    try:
        with working() as work:
            new_id = operations.follow_up(work, round_id, proposal=_proposal(form)).id
    except VotesError as error:
        flash(message(error), "error")
        return redirect(url_for("admin.results", round_id=round_id))
    flash(_("The vote of confidence is created as a draft."), "ok")
    return _to_round(new_id)


@bp.route("/bodies/<code>/votes", methods=["POST"])
@role_required(*MANAGERS)
def proposed_vote(code: str) -> BaseResponse:
    """Create a vote of confidence on a proposal alone (no poll before it)."""
    found = body_for(reading(), code, manage=True)
    form = _proposal_form(found)
    if (
        not form.validate()
        or not form.proposed_by.data
        or not form.proposal_date.data
        or not form.year.data
        or not form.profile.data
    ):
        flash(
            _(
                "Give the year, the profile, the members, who proposed it, its number and "
                "date, and the persons."
            ),
            "error",
        )
        return redirect(url_for("admin.body", code=found.code))
    try:
        with working() as work:
            new_id = operations.follow_up(
                work,
                None,
                body_code=found.code,
                year=form.year.data,
                profile_id=form.profile.data,
                members=form.members.data,
                proposal=_proposal(form),
            ).id
    except VotesError as error:
        flash(message(error), "error")
        return redirect(url_for("admin.body", code=found.code))
    flash(_("The vote of confidence is created as a draft."), "ok")
    return _to_round(new_id)


PDF_BUILDERS: dict[str, Callable[[Any, int], operations.Document]] = {
    "minutes": documents.minutes,
    "report": documents.outcome_report,
    "summary": documents.summary,
    "groups": documents.groups_summary,
}


@bp.route("/rounds/<int:round_id>/<any(minutes, report, summary, groups):kind>.pdf")
@role_required(*STAFF)
def results_pdf(round_id: int, kind: str) -> Response:
    """Download the counting minutes, the report of the results or the summary as PDF."""
    session = reading()
    round_for(session, round_id, manage=False)
    build = PDF_BUILDERS[kind]
    return _download(round_id, _counted(lambda: build(session, round_id)))


@bp.route("/rounds/<int:round_id>/groups/<int:number>/minutes.pdf")
@role_required(*STAFF)
def group_minutes_pdf(round_id: int, number: int) -> Response:
    """Download one voter group's counting minutes (its meeting, its counting committee)."""
    session = reading()
    round_for(session, round_id, manage=False)
    return _download(round_id, _counted(lambda: documents.minutes(session, round_id, group=number)))


@bp.route("/rounds/<int:round_id>/ballot.pdf")
@role_required(*STAFF)
def ballot_pdf(round_id: int) -> Response:
    """Download the paper ballot of a round."""
    session = reading()
    round_for(session, round_id, manage=False)
    return _download(round_id, documents.ballot_form(session, round_id))
