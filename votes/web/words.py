"""The domain's words for the templates, from votes.vocabulary, translated when shown."""

from __future__ import annotations

from flask_babel import LazyString

from ..vocabulary import (
    BAND_WORDS,
    BASES,
    BODY_KINDS,
    COUNTED,
    INVALID_MARKS_WORD,
    MARK_WORDS,
    SCALES,
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


WORDS = {
    "status_words": _words(STATES),
    "level_words": LEVEL_WORDS,
    "basis_words": _words(BASES),
    "band_words": _words(BAND_WORDS),
    "body_kind_words": _words(BODY_KINDS),
    "level_names": level_names,
    "counted_states": COUNTED,
}
