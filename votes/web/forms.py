"""Web forms (WTForms via Flask-WTF). Every text field is NFC-normalised at the edge."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any, Protocol

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ..limits import COUNT_MAX, LENGTHS
from ..text import nfc
from ..vocabulary import BODY_KINDS, GROUP_KINDS, YEARS
from .common import lazy as lazy_gettext
from .voter_csrf import VoterCSRF
from .words import level_labels, paper_labels


class BallotLine(Protocol):
    """What a form needs of a ballot item (a BallotItem, or a web.common.ItemView)."""

    @property
    def order(self) -> int: ...

    @property
    def name(self) -> str: ...


def _nfc_filter(value: Any) -> Any:
    return nfc(value) if isinstance(value, str) else value


class NFCForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
    """A form whose text fields are NFC-normalised and stripped before validation."""

    class Meta:
        """Add the NFC filter to every field."""

        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            if unbound_field.field_class in (StringField, TextAreaField, HiddenField):
                filters = [*unbound_field.kwargs.get("filters", []), _nfc_filter]
                options = {**options, "filters": filters}
            return unbound_field.bind(form=form, **options)


class VoterForm(NFCForm):
    """A voter's form: its CSRF token is bound to a cookie of its own, not to a server session
    (votes/web/voter_csrf.py)."""

    class Meta:
        """Check the voter's signed double-submit token."""

        csrf_class = VoterCSRF


class CodeForm(VoterForm):
    """The voter types the code printed on the slip."""

    code = StringField(
        lazy_gettext("Voting code"),
        validators=[DataRequired(), Length(max=64)],
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "characters",
            "spellcheck": "false",
            "autocorrect": "off",
        },
    )


def _choices(pairs: Sequence[tuple[str, Any]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def item_field_name(order: int) -> str:
    """Return the form field name of a ballot item."""
    return f"item_{order}"


_BALLOT_FORMS: dict[tuple[object, ...], type[VoterForm]] = {}


class BlankBallotForm(VoterForm):
    """A blank ballot's own fields: the CSRF token and the code (hidden).

    Its items come from a fragment rendered once per round and language, so the twenty
    radio fields of the full ballot form would be built for nothing.
    """

    code = HiddenField(validators=[DataRequired()])


def ballot_form_class(items: Sequence[BallotLine], scale: str) -> type[VoterForm]:
    """Return the ballot form of a round: the code (hidden) and one required choice per item.

    Classes are kept by (scale, items): building 20 fields per request cost more than the vote.
    """
    key = (scale, *((item.order, item.name) for item in items))
    found = _BALLOT_FORMS.get(key)
    if found is None:
        if len(_BALLOT_FORMS) > 256:
            _BALLOT_FORMS.clear()
        found = _BALLOT_FORMS[key] = _build_ballot_form(items, scale)
    return found


def _build_ballot_form(items: Sequence[BallotLine], scale: str) -> type[VoterForm]:

    class BallotForm(VoterForm):
        code = HiddenField(validators=[DataRequired()])

    for item in items:
        setattr(
            BallotForm,
            item_field_name(item.order),
            RadioField(
                item.name,
                choices=_choices(level_labels(scale)),
                validators=[
                    InputRequired(message=lazy_gettext("Choose one level for this person."))
                ],
            ),
        )
    return BallotForm


def paper_form_class(items: Sequence[BallotLine], scale: str) -> type[NFCForm]:
    """Build the paper-ballot entry form: one mark per row (a level, X or none).

    `number` is the number of the ballot the page shows, so that a form sent twice adds it once.
    """

    class PaperForm(NFCForm):
        number = IntegerField(
            widget=HiddenInput(), validators=[DataRequired(), NumberRange(min=1, max=COUNT_MAX)]
        )
        spoiled = BooleanField(
            lazy_gettext(
                "The whole ballot is invalid (not issued, name struck out, something written on it)"
            )
        )

    for item in items:
        setattr(
            PaperForm,
            item_field_name(item.order),
            RadioField(
                item.name,
                choices=_choices(tuple(paper_labels(scale).items())),
                validators=[Optional()],
            ),
        )
    return PaperForm


class BatchForm(NFCForm):
    """Both typed batches, as text (one ballot a line), for comparing or correcting."""

    batch_a = TextAreaField(lazy_gettext("Entry 1"))
    batch_b = TextAreaField(lazy_gettext("Entry 2"))
    issued = IntegerField(
        lazy_gettext("Paper ballots handed out (leave empty to keep the current number)"),
        validators=[Optional(), NumberRange(min=0, max=COUNT_MAX)],
    )


class LoginForm(NFCForm):
    """Staff login."""

    username = StringField(
        lazy_gettext("Username"),
        validators=[DataRequired(), Length(max=100)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        lazy_gettext("Password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class BodyForm(NFCForm):
    """A new body."""

    code = StringField(lazy_gettext("Code"), validators=[DataRequired(), Length(max=64)])
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=300)])
    kind = SelectField(
        lazy_gettext("Kind"),
        choices=_choices(tuple((kind, lazy_gettext(words)) for kind, words in BODY_KINDS.items())),
    )


class AttendanceForm(NFCForm):
    """Members, summoned and present of a draft or open round (present is often counted late)."""

    members = IntegerField(
        lazy_gettext("Members of the body"),
        validators=[InputRequired(), NumberRange(min=0, max=COUNT_MAX)],
    )
    summoned = IntegerField(
        lazy_gettext("Persons summoned"),
        validators=[Optional(), NumberRange(min=0, max=COUNT_MAX)],
    )
    present = IntegerField(
        lazy_gettext("Persons present"),
        validators=[Optional(), NumberRange(min=0, max=COUNT_MAX)],
    )


class RoundForm(AttendanceForm):
    """A new round: its facts, its attendance, its rule profile and its roster (previewed)."""

    title = StringField(
        lazy_gettext("Title"), validators=[DataRequired(), Length(max=LENGTHS["title"])]
    )
    year = IntegerField(
        lazy_gettext("Year"),
        validators=[InputRequired(), NumberRange(min=YEARS[0], max=YEARS[1])],
        default=lambda: dt.date.today().year,
    )
    profile = SelectField(lazy_gettext("Rule profile"), validators=[DataRequired()])
    place = StringField(lazy_gettext("Place"), validators=[Optional(), Length(max=200)])
    exception_decision = StringField(
        lazy_gettext(
            "Decision allowing a round outside the profile's dates or frequency (its number)"
        ),
        validators=[Optional(), Length(max=200)],
    )
    other_exemption = StringField(
        lazy_gettext("Decision allowing exemptions the profile does not list (its number)"),
        validators=[Optional(), Length(max=200)],
    )
    roster_file = FileField(
        lazy_gettext(
            "Roster (CSV file: name,position[,person_key,kind,exempt_reason,exempt_decision])"
        )
    )
    roster_data = HiddenField()


class RosterForm(NFCForm):
    """A roster for a draft round: typed or pasted as CSV text, or uploaded."""

    roster_text = TextAreaField(
        lazy_gettext("Roster as CSV"), render_kw={"rows": 12, "spellcheck": "false"}
    )
    roster_file = FileField(lazy_gettext("or upload a CSV file"))
    roster_data = HiddenField()
    other_exemption = StringField(
        lazy_gettext("Decision allowing exemptions the profile does not list (its number)"),
        validators=[Optional(), Length(max=200)],
    )


class ExemptForm(NFCForm):
    """Leave a person off the ballot, with a reason the profile lists or another with a decision."""

    person = SelectField(lazy_gettext("Person"), validators=[DataRequired()])
    reason = SelectField(lazy_gettext("Reason"), validators=[DataRequired()])
    other_reason = StringField(
        lazy_gettext("Other reason (in words)"), validators=[Optional(), Length(max=500)]
    )
    decision = StringField(
        lazy_gettext("Number of the decision that allows another reason"),
        validators=[Optional(), Length(max=200)],
    )


class ResignForm(NFCForm):
    """A person resigned before a vote of confidence: off its ballot, with the decision."""

    person = SelectField(lazy_gettext("Person"), validators=[DataRequired()])
    decision = StringField(
        lazy_gettext("Number of the decision on the resignation"),
        validators=[DataRequired(), Length(max=200)],
    )


class MeetingForm(NFCForm):
    """The meeting of a round: date, start, place, chair, counting committee, time of counting."""

    held_on = DateField(lazy_gettext("Date of the meeting"), validators=[InputRequired()])
    starts_at = TimeField(lazy_gettext("Start (Vietnam time)"), validators=[Optional()])
    counted_at = DateTimeLocalField(
        lazy_gettext("Counted at (Vietnam time)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        validators=[Optional()],
    )
    place = StringField(lazy_gettext("Place"), validators=[Optional(), Length(max=200)])
    chair = StringField(lazy_gettext("Presiding"), validators=[Optional(), Length(max=300)])
    committee = TextAreaField(
        lazy_gettext("Counting committee"),
        validators=[DataRequired(), Length(max=3000)],
        render_kw={"rows": 3, "spellcheck": "false"},
    )


class ProposalForm(NFCForm):
    """A vote of confidence: on a poll's findings and/or a proposal, with its number and date."""

    proposed_by = SelectField(lazy_gettext("Proposed by"), validators=[Optional()])
    proposal_number = StringField(
        lazy_gettext("Number of the proposal"), validators=[Optional(), Length(max=200)]
    )
    proposal_date = DateField(lazy_gettext("Date of the proposal"), validators=[Optional()])
    signatories = IntegerField(
        lazy_gettext("Members who signed it (where a share of them must sign)"),
        validators=[Optional(), NumberRange(min=0)],
    )
    persons = SelectMultipleField(lazy_gettext("Persons it names"), validators=[Optional()])
    year = IntegerField(
        lazy_gettext("Year"), validators=[Optional(), NumberRange(min=YEARS[0], max=YEARS[1])]
    )
    profile = SelectField(lazy_gettext("Rule profile"), validators=[Optional()])
    members = IntegerField(
        lazy_gettext("Members of the body"), validators=[Optional(), NumberRange(min=0)]
    )


class RestoreForm(NFCForm):
    """Put an exempt person back on the ballot."""

    person = HiddenField(validators=[DataRequired()])


class CodesForm(NFCForm):
    """Issue voter codes."""

    count = IntegerField(
        lazy_gettext("Number of codes"), validators=[InputRequired(), NumberRange(min=1, max=5000)]
    )
    fmt = SelectField(
        lazy_gettext("Format"),
        choices=_choices(
            (("txt", lazy_gettext("Text file")), ("pdf", lazy_gettext("Printable slips (PDF)")))
        ),
    )


class ConfirmForm(NFCForm):
    """A confirmation step (open, close, publish): the CSRF token is the whole form."""


class GroupForm(NFCForm):
    """Add a voter group to a draft round."""

    name = StringField(
        lazy_gettext("Name of the group"),
        validators=[DataRequired(), Length(max=LENGTHS["name"])],
    )
    members = IntegerField(
        lazy_gettext("Members of the group"),
        validators=[InputRequired(), NumberRange(min=0, max=COUNT_MAX)],
    )
    summoned = IntegerField(
        lazy_gettext("Persons summoned"),
        validators=[Optional(), NumberRange(min=0, max=COUNT_MAX)],
    )
    present = IntegerField(
        lazy_gettext("Persons present"),
        validators=[Optional(), NumberRange(min=0, max=COUNT_MAX)],
    )
    deciding = BooleanField(lazy_gettext("This group's result decides"))
    kind = SelectField(
        lazy_gettext("What the group is"),
        choices=_choices(
            (("", "—"), *((key, lazy_gettext(words)) for key, words in GROUP_KINDS.items()))
        ),
        validators=[Optional()],
    )


def one_time_token() -> str:
    """Return a fresh token for one form: the same form sent twice carries the same token."""
    return secrets.token_urlsafe(16)


class PaperUploadForm(NFCForm):
    """A CSV file of paper ballots, imported once per form and, unless told, once per round."""

    ballots_file = FileField(lazy_gettext("CSV file of paper ballots"))
    issued = IntegerField(
        lazy_gettext("Paper ballots handed out (leave empty to keep the current number)"),
        validators=[Optional(), NumberRange(min=0, max=COUNT_MAX)],
    )
    another_stack = BooleanField(
        lazy_gettext(
            "This file was imported before, but it is another stack of ballots that gives the "
            "same file"
        )
    )
    # A double click, a reload or a resent form carries the same token: imported once.
    submission = HiddenField(default=one_time_token, validators=[Length(max=64)])


class CommitteeForm(NFCForm):
    """The counting committee that holds the key of a round: its members and k."""

    members = TextAreaField(
        lazy_gettext("Members who hold the key"),
        validators=[DataRequired(), Length(max=3000)],
        render_kw={"rows": 3, "spellcheck": "false"},
        # Its own id: the attendance form on the same page has a field named members too.
        id="committee-members",
    )
    threshold = IntegerField(
        lazy_gettext("Members needed to decrypt the totals"),
        validators=[InputRequired(), NumberRange(min=1, max=25)],
        id="committee-threshold",
    )


class CommitteeFileForm(NFCForm):
    """A file sent by a member of the counting committee (made by `votes trustee`)."""

    committee_file = FileField(lazy_gettext("File from a member of the committee"))
