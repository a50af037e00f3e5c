"""The domain's words for the templates, from votes.vocabulary, translated when shown."""

from __future__ import annotations

from flask_babel import LazyString

from ..vocabulary import (
    BAND_WORDS,
    BASES,
    BODY_KINDS,
    COMMITTEE_ROLES,
    COUNTED,
    EXEMPTION_WORDS,
    FREQUENCY_WORDS,
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
from .common import lazy


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
