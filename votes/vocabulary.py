"""The words of the domain, defined once: scales and levels, marks, bases, bands, states, kinds.

Every other module, every page, the command line and the documents take these from here.
Labels are English message ids (N_): they are translated where they are shown, from the one
catalogue (votes/translations). The letters and the integer tests of the bands come from
`votes.recount`, the standalone verifier shipped in every export bundle, so that the
application and the bundle count by the very same definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import N_
from .recount import BANDS, INVALID_MARKS, MANY_MARKS, NO_MARK, SCALE_LETTERS

__all__ = [
    "BANDS",
    "BAND_WORDS",
    "BASES",
    "BASIS_UNITS",
    "BODY_KINDS",
    "COUNTED",
    "INVALID_MARKS",
    "MANY_MARKS",
    "NO_MARK",
    "QUORUM_RULES",
    "SCALES",
    "STATES",
    "YEARS",
    "Level",
    "QuorumRule",
    "level_names",
    "levels",
]


@dataclass(frozen=True)
class Level:
    """One level of a scale: its name in data, its letter in packed ballots, its labels."""

    name: str
    letter: str
    label: str  # as the voter reads it on the ballot
    short: str  # a column heading where space is short ("High")
    word: str  # inside a sentence ("low confidence")
    digit: str  # the printed column on paper, counted from 1 ("1")


# (label, short heading when it differs, word in a sentence) of each level.
_LABELS: dict[str, tuple[str, str | None, str]] = {
    "high": (N_("High confidence"), N_("High"), N_("high confidence")),
    "confidence": (N_("Confidence"), None, N_("confidence")),
    "low": (N_("Low confidence"), N_("Low"), N_("low confidence")),
    "trust": (N_("Confidence"), None, N_("confidence")),
    "no_trust": (N_("No confidence"), None, N_("no confidence")),
}


def _level(name: str, letter: str, column: int) -> Level:
    label, short, word = _LABELS[name]
    return Level(name, letter, label, short or label, word, str(column))


# The scales: a three-level poll, a two-level vote of confidence (DOMAIN.md §1, §3).
SCALES: dict[str, tuple[Level, ...]] = {
    scale: tuple(
        _level(name, letter, column) for column, (name, letter) in enumerate(letters, start=1)
    )
    for scale, letters in SCALE_LETTERS.items()
}

# What a paper row without a valid mark holds (DOMAIN.md §3), and how it is called.
MARK_WORDS = {NO_MARK: N_("No box"), MANY_MARKS: N_("Several boxes")}
INVALID_MARKS_WORD = N_("Invalid marks")

# What the denominator D counts (DOMAIN.md §4).
BASES: dict[str, str] = {
    "members": N_("all members"),
    "collected": N_("ballots collected"),
    "summoned": N_("persons summoned"),
    "present": N_("persons present"),
    "valid": N_("valid ballots"),
}

# The unit each basis counts ("32 ballots", "55 persons").
BASIS_UNITS: dict[str, str] = {
    "members": N_("persons"),
    "collected": N_("ballots"),
    "summoned": N_("persons"),
    "present": N_("persons"),
    "valid": N_("ballots"),
}

# The bands (DOMAIN.md §5): the words of each; the integer test is BANDS[band].
BAND_WORDS: dict[str, str] = {
    "over_half": N_("more than one half"),
    "over_half_under_two_thirds": N_("more than one half but less than two thirds"),
    "two_thirds_or_more": N_("two thirds or more"),
    "over_two_thirds": N_("more than two thirds"),
}
# The band's test written out for people: "low*2 > D".
BAND_TESTS: dict[str, str] = {
    "over_half": "low*2 > D",
    "over_half_under_two_thirds": "low*2 > D and low*3 < 2*D",
    "two_thirds_or_more": "low*3 >= 2*D",
    "over_two_thirds": "low*3 > 2*D",
}
VOTE_TEST = "no_trust*2 > D"

# The parts of a round's seal (votes/recount.py SEAL_PARTS), as a verification names them.
SEAL_PART_WORDS: dict[str, str] = {
    "body": N_("the body (code, name, kind)"),
    "round": N_("the round's details (year, title, scale, profile, place, date)"),
    "items": N_("the ballot items (persons, names, positions, order)"),
    "exemptions": N_("the persons left off the ballot"),
    "counts": N_("the counts (attendance, ballots issued and collected, codes)"),
    "receipts": N_("the receipts"),
    "ballots": N_("the ballots"),
}

BODY_KINDS: dict[str, str] = {
    "party": N_("Party committee"),
    "council": N_("People's Council"),
    "assembly": N_("National Assembly"),
}

# The life of a round, and the states in which it has been counted.
STATES: dict[str, str] = {
    "draft": N_("draft"),
    "open": N_("open"),
    "closed": N_("closed"),
    "published": N_("published"),
}
COUNTED = ("closed", "published")
# The years a round may be held in (a plausibility bound; each profile narrows it).
YEARS = (1945, 2200)


@dataclass(frozen=True)
class QuorumRule:
    """A quorum: at least numerator/denominator of those summoned (DOMAIN.md §2)."""

    id: str
    numerator: int
    denominator: int
    words: str

    def met(self, value: int, summoned: int) -> bool:
        """Tell whether `value` (present, or ballots collected) reaches the quorum."""
        return value * self.denominator >= summoned * self.numerator

    def required(self, summoned: int) -> int:
        """Return the smallest number that reaches the quorum."""
        return -(-summoned * self.numerator // self.denominator)


# The quorums a profile may name; "none" is the absence of a rule.
QUORUM_RULES: dict[str, QuorumRule] = {
    "two_thirds_of_summoned": QuorumRule(
        "two_thirds_of_summoned",
        2,
        3,
        N_("At least two thirds of those summoned must be present"),
    ),
}
NO_QUORUM_WORDS = N_("No quorum required")


def levels(scale: str) -> tuple[Level, ...]:
    """Return the levels of a scale in ballot order."""
    return SCALES[scale]


def level_names(scale: str) -> tuple[str, ...]:
    """Return the level names of a scale in ballot order (high/confidence/low, trust/no_trust)."""
    return tuple(level.name for level in SCALES[scale])


def letters(scale: str) -> tuple[str, ...]:
    """Return the letters of a scale in ballot order (H/C/L, T/K)."""
    return tuple(level.letter for level in SCALES[scale])


def low_level(scale: str) -> str:
    """Return the level the thresholds look at: the last one (low, no_trust)."""
    return SCALES[scale][-1].name
