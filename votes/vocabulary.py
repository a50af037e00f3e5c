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
    "COMMITTEE_ROLES",
    "COUNTED",
    "DECIDING_BODIES",
    "EXEMPTION_WORDS",
    "FREQUENCY_WORDS",
    "INVALID_MARKS",
    "MANY_MARKS",
    "MEMBER_WORDS",
    "NO_MARK",
    "OTHER_EXEMPTION",
    "PUBLIC_KINDS",
    "QUORUM_RULES",
    "REFERRALS",
    "RESIGNED",
    "SCALES",
    "SIGNATURE_RULES",
    "STATES",
    "YEARS",
    "Level",
    "QuorumRule",
    "basis_words",
    "level_names",
    "levels",
    "member_word",
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
    "sealed_box": N_("the sealed ballots (the encrypted online ballots)"),
    "sealed_tally": N_("the sealed tally (the committee's key, the decryption and the totals)"),
    "groups": N_("the voter groups (their figures and the result that decides)"),
    "group_ballots": N_("the ballots with their voter groups"),
    "group_dates": N_("the dates of the voter groups' meetings"),
    "group_places": N_("the places of the voter groups' meetings"),
}

# What a voter group is (VoterGroup.kind): a profile names the group whose result decides by
# default by one of these keys (its `deciding_group`), or "combined".
GROUP_KINDS: dict[str, str] = {
    "executive": N_("the executive committee"),
    "deputies": N_("the deputies"),
    "heads": N_("heads of departments"),
    "retired": N_("retired leaders"),
    "front": N_("the Front and mass organisations"),
    "staff": N_("the staff of the agency"),
}
# The kind of a round's first group: the body's own members.
FIRST_GROUP_KINDS = {"party": "executive", "council": "deputies", "assembly": "deputies"}
# The result that decides when the organizer names no group: "combined" is written for NULL.
COMBINED = "combined"

BODY_KINDS: dict[str, str] = {
    "party": N_("Party committee"),
    "council": N_("People's Council"),
    "assembly": N_("National Assembly"),
}
# The levels of the tree of bodies (votes/tree.py says which sits under which).
TREE_LEVELS: dict[str, str] = {
    "central": N_("central"),
    "province": N_("province"),
    "commune": N_("commune"),
    "agency": N_("agency"),
}
# What the members of a body are called (DOMAIN.md §1): a Party committee has members
# ("thành viên"), a People's Council and the Assembly have deputies ("đại biểu").
MEMBER_WORDS: dict[str, str] = {
    "party": N_("members"),
    "council": N_("deputies"),
    "assembly": N_("deputies"),
}
MEMBERS_HEADINGS: dict[str, str] = {
    "party": N_("Members"),
    "council": N_("Deputies"),
    "assembly": N_("Deputies"),
}
# Who receives the report of a round's consequences and decides on them (DOMAIN.md §5).
DECIDING_BODIES: dict[str, str] = {
    "party": N_("The Party committee that manages the cadre"),
    "council": N_("The Standing Board of the People's Council"),
    "assembly": N_("The Standing Committee of the National Assembly"),
}
# Whose published results go on the open site; a Party round's results go only to the
# committee and the level that manages the cadre (DOMAIN.md §5, Publication).
PUBLIC_KINDS = ("council", "assembly")

# The counting committee (Ban kiểm phiếu): its head and its members.
COMMITTEE_ROLES: dict[str, str] = {
    "head": N_("Head of the counting committee"),
    "member": N_("Member of the counting committee"),
}
# How a profile says how often a body may poll (DOMAIN.md §2, Time).
FREQUENCY_WORDS: dict[str, str] = {
    "annual": N_("once a year"),
    "mid_term": N_("once in the middle of a term"),
    "once_a_term": N_("once a term"),
}
# What a ballot says about the voter's name (DOMAIN.md §3; per profile).
SIGNATURE_RULES: dict[str, str] = {
    "may_sign": N_("The voter may sign the ballot or leave it unsigned."),
    "must_not_sign": N_("The voter does not write their name on the ballot."),
    "unstated": N_("The rules say nothing about signing the ballot."),
}
# Exemptions that are not a reason of the profile's list (DOMAIN.md §2, Exemptions).
OTHER_EXEMPTION = "other"
RESIGNED = "resigned"
EXEMPTION_WORDS: dict[str, str] = {
    OTHER_EXEMPTION: N_("Other reason"),
    RESIGNED: N_("Resigned before the vote"),
}
# Why a person is on a vote of confidence (DOMAIN.md §5).
REFERRALS: dict[str, str] = {
    "finding": N_("by a finding of the poll"),
    "proposal": N_("by a proposal"),
}

# The life of a round, and the states in which it has been counted.
STATES: dict[str, str] = {
    "draft": N_("draft"),
    "open": N_("open"),
    "decrypting": N_("awaiting decryption"),
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


def basis_words(basis: str, body_kind: str | None = None) -> str:
    """Return what D counts in words, naming deputies for a council or the Assembly."""
    if basis == "members" and body_kind in ("council", "assembly"):
        return N_("all deputies")
    return BASES[basis]


def member_word(body_kind: str | None) -> str:
    """Return what the body's members are called ("members" or "deputies")."""
    return MEMBER_WORDS.get(body_kind or "party", MEMBER_WORDS["party"])


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
