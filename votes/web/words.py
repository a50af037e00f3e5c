"""The domain's words for the templates, from votes.vocabulary, translated when shown."""

from __future__ import annotations

from flask_babel import LazyString

from ..errors import N_
from ..vocabulary import (
    BAND_WORDS,
    BASES,
    BODY_KINDS,
    COMMITTEE_ROLES,
    COUNTED,
    EXEMPTION_WORDS,
    FREQUENCY_WORDS,
    GROUP_KINDS,
    INVALID_MARKS_WORD,
    MANY_MARKS,
    MARK_WORDS,
    MEMBERS_HEADINGS,
    NO_MARK,
    REFERRALS,
    SCALES,
    SIGNATURE_RULES,
    STATES,
    level_names,
)
from .common import _, language, lazy


def _words(mapping: dict[str, str]) -> dict[str, LazyString]:
    return {key: lazy(msgid) for key, msgid in mapping.items()}


LEVEL_WORDS: dict[str, LazyString] = {
    **{level.name: lazy(level.label) for scale in SCALES.values() for level in scale},
    "invalid": lazy(INVALID_MARKS_WORD),
}


def level_labels(scale: str) -> list[tuple[str, LazyString]]:
    """Return (letter, label) of each level of a scale, in ballot order."""
    return [(level.letter, lazy(level.label)) for level in SCALES[scale]]


def paper_labels(scale: str) -> dict[str, LazyString]:
    """Return letter → label of what a paper row may hold (levels, several boxes, no box)."""
    return {**dict(level_labels(scale)), **_words(MARK_WORDS)}


def paper_keys(scale: str) -> dict[str, str]:
    """Return letter → the key a clerk types: the printed column's digit, X, or 0 (no box).

    Digits, as printed on the paper: a Vietnamese clerk reads the letter C as "cao" (high).
    """
    return {
        **{level.letter: level.digit for level in SCALES[scale]},
        MANY_MARKS: "X",
        NO_MARK: "0",
    }


WORDS = {
    "status_words": _words(STATES),
    "group_kind_words": _words(GROUP_KINDS),
    "members_headings": _words(MEMBERS_HEADINGS),
    "exemption_words": _words(EXEMPTION_WORDS),
    "role_words": _words(COMMITTEE_ROLES),
    "referral_words": _words(REFERRALS),
    "signature_words": _words(SIGNATURE_RULES),
    "frequency_words": _words(FREQUENCY_WORDS),
    "level_words": LEVEL_WORDS,
    "basis_words": _words(BASES),
    "band_words": _words(BAND_WORDS),
    "body_kind_words": _words(BODY_KINDS),
    "level_names": level_names,
    "counted_states": COUNTED,
}


# How the voter's pages address the voter: a Party committee's member is "đồng chí", a
# deputy of a council or of the Assembly "đại biểu"; English says "you" to both.
ADDRESS = {
    "party": N_("form of address of a Party committee member"),
    "council": N_("form of address of a deputy"),
    "assembly": N_("form of address of a deputy"),
}


def voter_address(kind: str | None) -> dict[str, str]:
    """Return the words that address the voter, {"you": …, "you_cap": …} for the messages."""
    if language() == "en":
        return {"you": "you", "you_cap": "You"}
    words = _(ADDRESS.get(kind or "party", ADDRESS["party"]))
    return {"you": words, "you_cap": words[:1].upper() + words[1:]}


WORDS["voter_address"] = voter_address


# The events of the log in words (the kind itself stays in the log and in the bundle).
EVENT_WORDS = {
    "body_added": N_("Body added"),
    "round_created": N_("Round created"),
    "roster_changed": N_("List of persons changed"),
    "meeting_recorded": N_("Conference and counting committee recorded"),
    "attendance_changed": N_("Attendance changed"),
    "round_opened": N_("Round opened for voting"),
    "round_closed": N_("Round closed and counted"),
    "round_published": N_("Results published"),
    "paper_entries_discarded": N_("Unfinished paper entries discarded"),
    "codes_issued": N_("Voting codes issued"),
    "ballots_imported": N_("Paper ballots entered"),
    "profile_added": N_("Rule profile added"),
    "staff_added": N_("Staff account added"),
    "staff_password_changed": N_("Staff password changed"),
    "staff_login": N_("Staff login"),
    "staff_login_failed": N_("Failed staff login"),
    "report_downloaded": N_("Document downloaded"),
    "bundle_exported": N_("Export bundle downloaded"),
}

# The fields of the events' details in words; a field not listed is shown by its key.
DETAIL_WORDS = {
    "count": N_("Number"),
    "items": N_("Persons on the ballot"),
    "exempt": N_("Exempt persons"),
    "present": N_("Present"),
    "summoned": N_("Summoned"),
    "members": N_("Members"),
    "issued": N_("Ballots issued"),
    "collected": N_("Collected"),
    "valid": N_("Valid"),
    "invalid": N_("Invalid"),
    "paper_issued": N_("Paper ballots issued"),
    "codes_issued": N_("Codes issued"),
    "codes_used": N_("Codes used"),
    "username": N_("Account"),
    "role": N_("Role"),
    "bodies": N_("Bodies"),
    "code": N_("Code of the body"),
    "name": N_("Name"),
    "kind": N_("Kind"),
    "audience": N_("Who sees the results"),
    "sha256": N_("SHA-256 of the document"),
    "seal": N_("Seal of the round"),
    "seal_parts": N_("Seals of the parts"),
    "profile": N_("Rule profile"),
    "denominator": N_("D"),
    "quorum_met": N_("Quorum met"),
    "findings": N_("Findings"),
    "ballots": N_("Ballots"),
    "before": N_("Before"),
    "entered_by": N_("Entered by"),
    "title": N_("Title"),
    "year": N_("Year"),
}

AUDIENCE_WORDS = {
    "public": N_("everyone (public page)"),
    "staff_and_auditors": N_("staff and auditors of the body only"),
}


def detail_value(key: str, value: object) -> str:
    """Say one field of an event's details in words, short enough for a table cell."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _(N_("yes") if value else N_("no"))
    if key == "audience" and isinstance(value, str):
        return _(AUDIENCE_WORDS.get(value, value))
    if key == "profile" and isinstance(value, dict):
        return f"{value.get('id')} v{value.get('version')}"
    if key == "denominator" and isinstance(value, dict):
        basis = BASES.get(str(value.get("basis")), str(value.get("basis")))
        return f"{value.get('value')} ({_(basis)})"
    if isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return value[:16] + "…"
    if isinstance(value, list):
        names = [str(v.get("name")) for v in value if isinstance(v, dict) and v.get("name")]
        if names:
            return f"{len(value)}: " + "; ".join(names)
        if value and all(isinstance(v, dict) for v in value):
            return str(len(value))
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return ", ".join(
            f"{_(DETAIL_WORDS.get(str(k), str(k)))}: {detail_value(k, v)}" for k, v in value.items()
        )
    return str(value)


def detail_lines(details: object) -> list[tuple[str, str]]:
    """Return (field in words, value in words) for each field of an event's details."""
    if not isinstance(details, dict):
        return [("", str(details))]
    return [
        (_(DETAIL_WORDS.get(str(key), str(key))), detail_value(str(key), value))
        for key, value in details.items()
    ]
