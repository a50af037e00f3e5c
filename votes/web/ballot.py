"""Voters: enter the code (or open the slip's link), fill in the ballot, review, cast, receipt.

The code travels from page to page in a hidden form field (POST), never in the session or a
cookie, and it is never logged. The ballot is built from the round the code belongs to.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask_login import current_user
from markupsafe import escape
from sqlalchemy import select
from werkzeug.wrappers.response import Response as BaseResponse
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from .. import credentials
from ..bundle import receipt_counted
from ..code_entry import read_code
from ..errors import N_
from ..models import Body, Round, RoundStatus
from ..operations import cast_ballot
from ..results import round_results
from ..vocabulary import COUNTED, PUBLIC_KINDS
from ..voting import CastRefused
from . import voter_csrf
from .charts import stacked_bars
from .code_budget import code_limit, own_budgets
from .common import (
    BallotView,
    _,
    ballot_view,
    find_code,
    language,
    prepare_sealing,
    reading,
)
from .common import lazy as lazy_gettext
from .extensions import limiter
from .forms import BlankBallotForm, CodeForm, NFCForm, ballot_form_class, item_field_name
from .words import level_labels

bp = Blueprint("ballot", __name__)
bp.after_request(voter_csrf.set_cookie)

# What a refused code is told. A code is looked up in every round at once (the slip carries no
# round), so the answer must not tell a guesser that a code exists somewhere:
# - "unknown" and "not_open" (a code of a draft, closed or published round) get the SAME words
#   and the same status. Telling "this round is closed" would confirm that the code was real;
#   the voter holding a real slip learns what matters from the organizers anyway.
# - "used" is told only when a ballot is cast with the code, and that refusal changes nothing.
#   Opening a code's ballot (the form, the slip's link, the API's fetch) shows the ballot
#   whether the code was used or not: otherwise whoever holds the printed list of codes (an
#   organizer) could look each one up while the round is open and follow which slips have
#   voted. The voter whose code was used by somebody else learns it when casting, and tells
#   the counting committee. See docs/SECURITY.md, threat 12.
# - "malformed" is only about the typing (length, letters), never about existence.
# The look-up is one query by HMAC digest whatever the outcome, so timing does not differ.
NOT_ACCEPTED = lazy_gettext(
    "This code cannot be used to vote now. Either it is not a valid code, or "
    "voting is not open for its round. Check the code on your slip; if it is "
    "right, ask the counting committee."
)
REFUSALS: dict[str, tuple[int, Any]] = {
    "malformed": (
        422,
        lazy_gettext(
            "This does not look like a voter code. A code has 12 letters and "
            "digits, for example ACDE-FGHJ-KMNP; check what you typed."
        ),
    ),
    "unknown": (403, NOT_ACCEPTED),
    "not_open": (403, NOT_ACCEPTED),
    "used": (
        409,
        lazy_gettext(
            "This code has already been used: each code can vote once. If you did not "
            "vote with it yourself, tell the counting committee now."
        ),
    ),
    "marks": (422, lazy_gettext("The ballot is not complete.")),
}


def refusal(reason: str) -> tuple[str, int]:
    """Render the one plain page that tells a voter why the code was refused."""
    status, text = REFUSALS.get(reason, REFUSALS["unknown"])
    return render_template("ballot/refused.html", text=text, reason=reason), status


# The voter's pages that are the same for every voter but for a few values (the CSRF token, the
# code, the receipt) are rendered once per page, round, language and address, and those values
# put in their places afterwards: Jinja, Babel and the widgets cost more than the rest of the
# request. Only for a visitor who is not logged in and has no message waiting (base.html shows
# both); anything else is rendered as always.
PAGE_CACHE = "votes.voter_pages"
PAGE_CACHE_SIZE = 512


def _slot(name: str) -> str:
    return f"\x00{name}\x00"


def render_once(key: tuple[Any, ...], template: str, values: dict[str, str], **context: Any) -> str:
    """Render a voter page, from its kept skeleton when there is one; fill in `values`.

    `values` are the per-request values the page shows (each escaped as the template escapes
    it). A skeleton is kept only when each value appears exactly once in the page rendered
    with it, so it can be found and replaced; otherwise the page is rendered every time.
    """
    if current_user.is_authenticated or cookie_session.get("_flashes"):
        return render_template(template, **context)
    cache: dict[tuple[Any, ...], str | None] = current_app.extensions.setdefault(PAGE_CACHE, {})
    key = (template, language(), request.full_path, *key)
    skeleton = cache.get(key)
    if skeleton is None:
        page = render_template(template, **context)
        if key in cache:  # seen before: this page cannot be kept
            return page
        if len(cache) >= PAGE_CACHE_SIZE:
            cache.clear()
        cache[key] = _skeleton(page, values)
        return page
    for name, value in values.items():
        skeleton = skeleton.replace(_slot(name), str(escape(value)))
    return skeleton


def _token(form: Any) -> dict[str, str]:
    """Return the form's CSRF token as a value of its page (none when CSRF is off)."""
    field = getattr(form, "csrf_token", None)
    token = getattr(field, "current_token", None)
    return {"token": token} if token else {}


def _skeleton(page: str, values: dict[str, str]) -> str | None:
    """Return the page with each value replaced by its slot; None when one cannot be found."""
    if "\x00" in page:
        return None
    for name, value in values.items():
        shown = str(escape(value))
        if not shown or page.count(shown) != 1:
            return None
        page = page.replace(shown, _slot(name))
    return page


def _ballot_page(round_: BallotView, form: Any, *, fresh: bool = False) -> tuple[str, int]:
    """Render the ballot: blank (``fresh``, a BlankBallotForm) or with the voter's choices."""
    levels = [(value, str(label)) for value, label in level_labels(round_.scale)]
    context = {"round": round_, "items": round_.items, "field": item_field_name, "levels": levels}
    fragment = None
    missing: list[Any] = []
    if fresh:
        # A blank ballot is the same for every voter of a round: render its items once.
        cache: dict[tuple[int, str], str] = current_app.extensions.setdefault(
            "votes.blank_ballots", {}
        )
        key = (round_.id, language())
        fragment = cache.get(key)
        if fragment is None:
            blank = ballot_form_class(round_.items, round_.scale)(formdata=None)
            fragment = cache[key] = render_template("ballot/_items.html", form=blank, **context)
        page = render_once(
            (round_.id,),
            "ballot/ballot.html",
            {**_token(form), "code": form.code.data},
            form=form,
            fragment=fragment,
            missing=missing,
            **context,
        )
        return page, 200
    missing = [item for item in round_.items if form[item_field_name(item.order)].errors]
    return render_template(
        "ballot/ballot.html", form=form, fragment=fragment, missing=missing, **context
    ), 200


# What the code page says about a code it cannot read; the typed text stays in the field.
CODE_PROBLEMS: dict[str, str] = {
    "empty": N_("Type the code first."),
    "short": N_(
        "{count} letters and digits were typed; a voting code has 12, in three groups of 4. "
        "Compare with the code slip and add what is missing."
    ),
    "long": N_(
        "{count} letters and digits were typed; a voting code has 12, in three groups of 4. "
        "Compare with the code slip and remove what is extra."
    ),
    "letters": N_(
        "A voting code has 12 letters and digits and never contains {letters}. Compare these "
        "characters with the code slip: codes use no O, 0, I, 1, L, S, 5, B, 8, Z, 2, U or V."
    ),
    "keyboard": N_(
        "The keyboard turned letters of the code into Vietnamese letters ({letters}). Switch "
        "the keyboard to English (or turn Vietnamese typing off), then type the code again."
    ),
}


@bp.route("/", methods=["GET", "POST"])
@code_limit
def enter_code() -> Any:
    """Ask for the code on the slip; a good code opens the ballot, a bad one stays to be fixed.

    The code is read forgivingly (votes/code_entry.py). A code that cannot be read, or that
    opens no ballot, is shown again in its field with what is wrong; an unknown code and a
    code of a round that is not open get the same words (see REFUSALS).
    """
    form = CodeForm()
    if request.method != "POST":
        return _code_page(form)
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        return render_template("errors/error.html", code=400, csrf=True), 400
    reading_ = read_code(form.code.data or "")
    if reading_.problem is not None:
        problem = _(
            CODE_PROBLEMS[reading_.problem],
            count=reading_.length,
            letters=", ".join(reading_.strange),
        )
        status = 200 if reading_.problem == "empty" else 422  # an empty field is no guess
        return render_template("ballot/code.html", form=form, problem=problem), status
    # At most two readings (Telex, VNI), and every one is looked up whatever the answers: the
    # number of look-ups depends on the text typed only, so the time taken tells nothing.
    found = [
        (credentials.group(candidate), *find_code(reading(), credentials.group(candidate)))
        for candidate in reading_.candidates
    ]
    for code, state, round_ in found:
        if state == "ok" and round_ is not None:
            prepare_sealing(round_)  # the cast comes soon: its pads are made meanwhile
            return _ballot_page(round_, BlankBallotForm(formdata=None, code=code), fresh=True)
    state = next((state for _code, state, _round in found if state != "unknown"), "unknown")
    status, text = REFUSALS.get(state, REFUSALS["unknown"])
    return render_template("ballot/code.html", form=form, problem=text, refused=True), status


@bp.route("/b/")
@bp.route("/b")
@own_budgets
def slip_without_code() -> str:
    """The address of the slip's QR code, /b#CODE: the code page, which sends the code by POST.

    The code is after '#': browsers never send that part, so neither this request nor any
    log carries it. A small script (static/slip.js) puts it into the form and posts it;
    without scripts the voter types it.
    """
    return _code_page(CodeForm(formdata=None))


def _code_page(form: CodeForm) -> str:
    """Render the empty code page: the same for every voter but for the CSRF token."""
    return render_once((), "ballot/code.html", _token(form), form=form)


@bp.route("/b/<code>")
def from_slip(code: str) -> BaseResponse:
    """A link of the old form /b/CODE (slips printed before): send it on as /b#CODE.

    The same answer for every code, without looking it up: it tells nothing and counts
    nothing. The browser keeps the fragment, asks for /b without the code, and slip.js posts
    it; this request line carried the code, so the log filter blanks it (votes/logfilter.py).
    """
    target = url_for("ballot.slip_without_code")
    if 0 < len(code) <= 64:
        target += "#" + quote(code, safe="")
    return redirect(target, code=303)


@bp.route("/ballot", methods=["POST"])
@code_limit
def ballot() -> Any:
    """Review the choices, go back to change them, or cast the ballot."""
    if not voter_csrf.checked():  # every action: exempt from CSRFProtect (web/voter_csrf.py)
        return render_template("errors/error.html", code=400, csrf=True), 400
    code = (request.form.get("code") or "").strip()
    session = reading()
    action = request.form.get("action", "review")
    if action == "cast":
        cast = _cast(code)
        if cast is not None:
            return cast
    state, round_ = find_code(session, code)
    if state != "ok" or round_ is None:
        return refusal(state)
    form = ballot_form_class(round_.items, round_.scale)()
    if action == "edit":
        return _ballot_page(round_, form)
    if not form.validate():
        if "csrf_token" in form.errors:
            return render_template("errors/error.html", code=400, csrf=True), 400
        return _ballot_page(round_, form)
    marks: dict[int | str, str] = {
        item.order: form[item_field_name(item.order)].data for item in round_.items
    }
    if action != "cast":
        labels = dict(level_labels(round_.scale))
        choices = [(item, labels[marks[item.order]]) for item in round_.items]
        return render_template(
            "ballot/review.html", round=round_, form=form, choices=choices, field=item_field_name
        )
    session.rollback()
    try:
        receipt = cast_ballot(
            session, current_app.config["SECRET_KEY"], code, marks, round_id=round_.id
        )
    except CastRefused as refused:
        return refusal(refused.reason)
    return _receipt_page(round_, receipt)


def _cast(code: str) -> Any:
    """Cast straight from the review page; None when the ballot must be shown again.

    The review page already checked the choices, and cast_ballot checks everything again
    (the code belongs to this round, the round is open, one level per item) in its own
    transaction, so no look-up is repeated here: on PostgreSQL every round trip counts.
    """
    round_id = request.form.get("round", "")
    if not round_id.isdigit():
        return None
    marks: dict[int | str, str] = {
        key.removeprefix("item_"): value
        for key, value in request.form.items()
        if key.startswith("item_")
    }
    session = reading()
    try:
        receipt = cast_ballot(
            session, current_app.config["SECRET_KEY"], code, marks, round_id=int(round_id)
        )
    except CastRefused as refused:
        if refused.reason == "marks":
            session.rollback()
            return None  # show the ballot again, every missing choice marked
        return refusal(refused.reason)
    return _receipt_page(ballot_view(session, int(round_id)), receipt)


def _receipt_page(round_: BallotView, receipt: str) -> str:
    """Render the receipt page: the same for every voter of a round but for the receipt."""
    return render_once(
        (round_.id,),
        "ballot/receipt.html",
        {"receipt": receipt},
        receipt=receipt,
        title=round_.title,
        body_name=round_.body_name,
        body_kind=round_.body_kind,
    )


# ------------------------------------------------------------------------------ after close


class ReceiptForm(NFCForm):
    """A voter checks that the receipt shown after voting is among the counted ballots."""

    round = SelectField(lazy_gettext("Round"), validators=[DataRequired()])
    receipt = StringField(
        lazy_gettext("Receipt"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


def _receipt_limit() -> str:
    limit: str = current_app.config.get("RECEIPT_RATE_LIMIT", current_app.config["CODE_RATE_LIMIT"])
    return limit


def _receipt_refused(_response: BaseResponse) -> bool:
    # Only look-ups that found nothing count, as for codes: a room of voters behind one
    # address checking real receipts is never slowed down, while guessing is.
    return bool(g.get("receipt_refused"))


def counted_rounds() -> list[Round]:
    """Return the closed and published rounds, newest first (receipts can be checked there)."""
    return list(
        reading().scalars(
            select(Round)
            .where(Round.status.in_(COUNTED))
            .order_by(Round.year.desc(), Round.id.desc())
        )
    )


@bp.route("/receipt", methods=["GET", "POST"])
@limiter.limit(_receipt_limit, deduct_when=_receipt_refused, methods=["POST"], scope="receipt")
def receipt_check() -> Any:
    """Tell a voter whether a receipt is among the counted ballots of a closed round.

    The answer says only "counted" or "not found": a receipt is random and carries nothing
    about the ballot's content, so showing it to anybody (a coercer included) proves nothing.
    """
    form = ReceiptForm()
    form.round.choices = [
        SelectChoice(str(r.id), f"{r.id}. {r.title} — {r.body.name} ({r.year})")
        for r in counted_rounds()
    ]
    outcome = None
    status = 200
    if form.validate_on_submit():
        round_ = reading().get(Round, int(form.round.data))
        if round_ is not None and receipt_counted(reading(), round_, form.receipt.data):
            outcome = "counted"
        else:
            outcome = "not_found"
            g.receipt_refused = True
    elif request.method == "POST":
        status = 422
        g.receipt_refused = True
    return render_template("ballot/receipt_check.html", form=form, outcome=outcome), status


@bp.route("/r/")
def published() -> str:
    """List the rounds whose results are published to the public (never a Party committee's)."""
    rounds = reading().scalars(
        select(Round)
        .join(Body, Body.id == Round.body_id)
        .where(Round.status == RoundStatus.PUBLISHED.value, Body.kind.in_(PUBLIC_KINDS))
        .order_by(Round.year.desc(), Round.id.desc())
    )
    return render_template("ballot/published.html", rounds=list(rounds))


@bp.route("/r/<int:round_id>")
def public_results(round_id: int) -> str:
    """Show the published results of a round to anyone.

    The embargo: until an organizer publishes the round, this page does not exist for it
    (404, whether the round is a draft, open, closed or missing), so nobody outside the
    organizers and auditors sees a number before publication. A Party committee's results
    go to the committee and the level that manages the cadre, never to the public: this
    page never exists for them (DOMAIN.md §5, Publication).
    """
    round_ = reading().get(Round, round_id)
    if (
        round_ is None
        or round_.status != RoundStatus.PUBLISHED.value
        or round_.body.kind not in PUBLIC_KINDS
    ):
        abort(404)
    result = round_results(reading(), round_)
    return render_template(
        "ballot/results.html",
        round=round_,
        result=result,
        chart=stacked_bars(result),
        lang=language(),
    )
