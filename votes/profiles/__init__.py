"""Rule profiles as versioned data: denominator, invalid-mark scope, quorum, bands, rules.

Built-in profiles ship as TOML files beside this module; organisations add their own with
`votes profiles add FILE`, stored in the `profile` table. A round keeps the id and version it
was counted under, so a new version never changes an old result.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import N_, Message, NotFound, ProfileError, message
from ..i18n import LANGUAGES, translate
from ..limits import ID_MAX
from ..models import Round, StoredProfile
from ..text import nfc
from ..vocabulary import (
    BAND_TESTS,
    BAND_WORDS,
    BANDS,
    BASES,
    BODY_KINDS,
    GROUP_KINDS,
    NO_QUORUM_WORDS,
    OTHER_EXEMPTION,
    QUORUM_RULES,
    RESIGNED,
    SIGNATURE_RULES,
    VOTE_TEST,
    QuorumRule,
)

INVALID_SCOPES = ("row", "ballot")
QUORUMS = ("none", *QUORUM_RULES)
FREQUENCIES = ("annual", "mid_term", "once_a_term")
SIGNATURES = tuple(SIGNATURE_RULES)
# A term of the Assembly, of a People's Council and of a Party committee lasts five years.
DEFAULT_TERM_YEARS = 5
SHARE = re.compile(r"([1-9][0-9]*)/([1-9][0-9]*)")
# Ids are typed on the command line and stored in a 64-character column.
PROFILE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# Every key a profile file may use, table by table. A misspelt key is refused rather than
# ignored: a silently dropped `consecutive_years` would silently drop a rule.
TOP_KEYS = (
    "id",
    "version",
    "name",
    "name_en",
    "body_kinds",
    "frequency",
    "scale",
    "denominator",
    "invalid_marks",
    "quorum",
    "bands",
    "consecutive_years",
    "confidence_vote",
    "exemptions",
    "in_force",
    "term_years",
    "ballot_signature",
    "not_verified",
    "deciding_group",
)
BAND_KEYS = ("id", "consequence", "followup_vote")
CONSECUTIVE_KEYS = ("band", "years", "consequence", "followup_vote")
VOTE_KEYS = ("denominator", "consequence", "may_resign", "proposers")
EXEMPTION_KEYS = ("id", "vi", "en")
PROPOSER_KEYS = ("id", "vi", "en", "body_kinds", "min_share")
IN_FORCE_KEYS = ("from", "until")
TEXT_KEYS = ("vi", "en")
# The ids a profile's exemptions may not take: they have a meaning of their own.
RESERVED_EXEMPTIONS = (OTHER_EXEMPTION, RESIGNED)


@dataclass(frozen=True)
class BandRule:
    """A fixed band: its test on integers, its words, its position for ordering."""

    id: str
    # The lower bound, to check the order of bands: (numerator, denominator, strict), where a
    # strict bound ("more than 2/3") comes after the same fraction reached ("2/3 or more").
    lower: tuple[int, int, bool]
    bounded: bool  # True when the band also has an upper bound (it partitions, never overlaps)

    def holds(self, low: int, denominator: int) -> bool:
        """Tell whether `low` of `denominator` falls in this band (exact integer comparison)."""
        return BANDS[self.id](low, denominator)

    @property
    def rule(self) -> str:
        """Return the band's test written out ("low*2 > D")."""
        return BAND_TESTS[self.id]

    @property
    def words(self) -> str:
        """Return the band's message id ("more than one half")."""
        return BAND_WORDS[self.id]


# The only comparisons the regulations use, in integers (DOMAIN.md §4, §5).
BAND_RULES: dict[str, BandRule] = {
    rule.id: rule
    for rule in (
        BandRule("over_half", (1, 2, True), False),
        BandRule("over_half_under_two_thirds", (1, 2, True), True),
        BandRule("two_thirds_or_more", (2, 3, False), False),
        BandRule("over_two_thirds", (2, 3, True), False),
    )
}


def both_languages(text: Message | str) -> dict[str, str]:
    """Return a message (or a message id) in every language: {"vi": …, "en": …}."""
    if isinstance(text, str):
        return {language: translate(text, language) for language in LANGUAGES}
    return {language: text.text(language) for language in LANGUAGES}


# The usual short forms of the documents' kinds, as an office writes them in a table.
_SHORT_KINDS = (("Quy định ", "QĐ "), ("Nghị quyết ", "NQ "), ("Kế hoạch ", "KH "))
_TITLE_ENDS = (" về ", " thực hiện ", " on ", " implementing ")


def short_name(name: str) -> str:
    """Return a profile's name as people cite it: "QĐ 96-QĐ/TW (2023)", "NQ 35/2012/QH13"."""
    cut = min((i for i in (name.find(end) for end in _TITLE_ENDS) if i > 0), default=len(name))
    short = name[:cut].strip()
    for long, abbreviation in _SHORT_KINDS:
        if short.startswith(long):
            return abbreviation + short[len(long) :]
    return short


@dataclass(frozen=True)
class Text:
    """A text in Vietnamese and English."""

    vi: str
    en: str

    def as_dict(self) -> dict[str, str]:
        """Return {"vi", "en"}."""
        return {"vi": self.vi, "en": self.en}


@dataclass(frozen=True)
class Band:
    """A band of a profile with its consequence.

    `followup_vote` says that the consequence calls for a vote of confidence (bỏ phiếu tín
    nhiệm): only such findings put a person on a follow-up vote (DOMAIN.md §5, §8).
    """

    id: str
    consequence: Text
    followup_vote: bool = False

    @property
    def rule(self) -> BandRule:
        """Return the fixed rule of this band."""
        return BAND_RULES[self.id]

    def holds(self, low: int, denominator: int) -> bool:
        """Tell whether `low` of `denominator` falls in this band (exact integer comparison)."""
        return self.rule.holds(low, denominator)


@dataclass(frozen=True)
class ConsecutiveYears:
    """The rule "low confidence N years in a row"."""

    band: str
    years: int
    consequence: Text
    followup_vote: bool = False


@dataclass(frozen=True)
class Proposer:
    """Who may propose a vote of confidence (DOMAIN.md §5), for which kinds of body.

    `min_share` (numerator, denominator) is the smallest share of all members who must sign
    the proposal ("at least 20 % of deputies" is (1, 5)); None when one body proposes.
    """

    id: str
    text: Text
    body_kinds: tuple[str, ...]
    min_share: tuple[int, int] | None = None


@dataclass(frozen=True)
class Profile:
    """One version of a rule profile."""

    id: str
    version: int
    name: Text
    body_kinds: tuple[str, ...]
    frequency: str
    scale: str
    denominator: str
    invalid_marks: str
    quorum: str
    bands: tuple[Band, ...]
    consecutive_years: ConsecutiveYears | None
    vote_denominator: str
    vote_consequence: Text
    exemptions: tuple[tuple[str, Text], ...] = field(default=())
    in_force_from: dt.date | None = None
    in_force_until: dt.date | None = None
    term_years: int = DEFAULT_TERM_YEARS
    ballot_signature: str = "unstated"
    vote_may_resign: bool = False
    proposers: tuple[Proposer, ...] = field(default=())
    # Keys whose values the texts at hand do not settle ("in_force.until", "exemptions.illness").
    not_verified: tuple[str, ...] = field(default=())
    # The voter group whose result decides by default in a round of several (a kind of
    # vocabulary.GROUP_KINDS, e.g. "executive"), or "combined"; None: the round's first group.
    deciding_group: str | None = None
    builtin: bool = False
    source: str = ""

    def in_force_in(self, year: int) -> bool:
        """Tell whether the profile is in force at some time in a calendar year."""
        first = self.in_force_from.year if self.in_force_from else None
        last = self.in_force_until.year if self.in_force_until else None
        return (first is None or first <= year) and (last is None or year <= last)

    def in_force_on(self, day: dt.date) -> bool:
        """Tell whether the profile is in force on a day."""
        return (self.in_force_from is None or self.in_force_from <= day) and (
            self.in_force_until is None or day <= self.in_force_until
        )

    def exemption(self, reason: str) -> tuple[str, Text] | None:
        """Return the listed exemption a reason names, by its id or its words (any case)."""
        wanted = nfc(reason).casefold()
        for key, text in self.exemptions:
            if wanted in (key.casefold(), text.vi.casefold(), text.en.casefold()):
                return key, text
        return None

    def proposer(self, proposer_id: str) -> Proposer | None:
        """Return who may propose a vote of confidence, by id."""
        return next((p for p in self.proposers if p.id == proposer_id), None)

    @property
    def quorum_rule(self) -> QuorumRule | None:
        """Return the profile's quorum rule, or None when it requires none."""
        return QUORUM_RULES.get(self.quorum)

    def quorum_met(self, present: int | None, summoned: int | None) -> bool | None:
        """Tell whether the quorum is met: None when a needed number is unknown."""
        rule = self.quorum_rule
        if rule is None:
            return True
        if present is None or summoned is None:
            return None
        return rule.met(present, summoned)

    def quorum_words(self) -> str:
        """Return the message id that states the quorum in words."""
        rule = self.quorum_rule
        return NO_QUORUM_WORDS if rule is None else rule.words

    def describe(self) -> dict[str, Any]:
        """Return the profile as JSON-ready data, with every rule in words."""
        return {
            "id": self.id,
            "version": self.version,
            "name": self.name.as_dict(),
            "builtin": self.builtin,
            "body_kinds": list(self.body_kinds),
            "frequency": self.frequency,
            "scale": self.scale,
            "denominator": {"basis": self.denominator, **both_languages(BASES[self.denominator])},
            "invalid_marks": self.invalid_marks,
            "quorum": {"rule": self.quorum, **both_languages(self.quorum_words())},
            # The voter group whose result decides by default (absent: the first group).
            **({"deciding_group": self.deciding_group} if self.deciding_group else {}),
            "bands": [
                {
                    "id": band.id,
                    "rule": band.rule.rule,
                    **both_languages(band.rule.words),
                    "consequence": band.consequence.as_dict(),
                    "followup_vote": band.followup_vote,
                }
                for band in self.bands
            ],
            "consecutive_years": None
            if self.consecutive_years is None
            else {
                "band": self.consecutive_years.band,
                "years": self.consecutive_years.years,
                "consequence": self.consecutive_years.consequence.as_dict(),
                "followup_vote": self.consecutive_years.followup_vote,
            },
            "confidence_vote": {
                "denominator": self.vote_denominator,
                "rule": VOTE_TEST,
                "consequence": self.vote_consequence.as_dict(),
                "may_resign": self.vote_may_resign,
                "proposers": [
                    {
                        "id": p.id,
                        **p.text.as_dict(),
                        "body_kinds": list(p.body_kinds),
                        "min_share": None if p.min_share is None else "{}/{}".format(*p.min_share),
                    }
                    for p in self.proposers
                ],
            },
            "exemptions": [{"id": key, **text.as_dict()} for key, text in self.exemptions],
            "in_force": {
                "from": self.in_force_from.isoformat() if self.in_force_from else None,
                "until": self.in_force_until.isoformat() if self.in_force_until else None,
            },
            "term_years": self.term_years,
            "ballot_signature": {
                "rule": self.ballot_signature,
                **both_languages(SIGNATURE_RULES[self.ballot_signature]),
            },
            "not_verified": list(self.not_verified),
        }


Where = Message  # the place in a profile file that a problem is about


def _keys(data: dict[str, Any], allowed: tuple[str, ...], where: Where, strict: bool) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if strict and unknown:
        raise ProfileError(
            N_("{where}: unknown key {key!r}; expected one of {allowed}"),
            where=where,
            key=unknown[0],
            allowed=", ".join(allowed),
        )


def _text(
    data: Any, where: Where, strict: bool = True, allowed: tuple[str, ...] = TEXT_KEYS
) -> Text:
    if not isinstance(data, dict):
        raise ProfileError(N_("{where}: expected a table with 'vi' and 'en' texts"), where=where)
    _keys(data, allowed, where, strict)
    vi = data.get("vi")
    if not isinstance(vi, str) or not vi.strip():
        raise ProfileError(N_("{where}: the Vietnamese text ('vi') is missing"), where=where)
    en = data.get("en")
    if not isinstance(en, str) or not en.strip():
        raise ProfileError(N_("{where}: the English text ('en') is missing"), where=where)
    return Text(nfc(vi), nfc(en))


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], where: Where) -> str:
    value = data.get(key)
    if not isinstance(value, str) or value not in allowed:
        raise ProfileError(
            N_("{where}: unknown {key} {value!r}; expected one of {allowed}"),
            where=where,
            key=key,
            value=value,
            allowed=", ".join(allowed),
        )
    return value


def _flag(data: dict[str, Any], key: str, where: Where) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ProfileError(N_("{where}: {key} must be true or false"), where=where, key=key)
    return value


def _table(data: Any, where: Where, strict: bool, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProfileError(N_("{where}: expected a table"), where=where)
    _keys(data, allowed, where, strict)
    return data


def parse_profile(source: str, *, builtin: bool = False, strict: bool = True) -> Profile:
    """Read and validate a profile from TOML text; raise ProfileError with a clear reason.

    `strict` also refuses what earlier releases let through (unknown keys, an unusual id,
    frequency or English name). Profiles already stored are read back with strict=False, so
    that a later, stricter release never makes them unreadable.
    """
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(N_("The profile is not valid TOML: {reason}"), reason=str(exc)) from exc
    profile_id = data.get("id")
    if not isinstance(profile_id, str) or not profile_id.strip():
        raise ProfileError(N_("The profile has no 'id'."))
    if strict and not PROFILE_ID.fullmatch(profile_id):
        raise ProfileError(
            N_(
                "The profile id {profile!r} may only use letters, digits, '.', '_' and '-' "
                "(at most 64 characters)."
            ),
            profile=profile_id,
        )
    where = message(N_("profile {profile}"), profile=profile_id)
    _keys(data, TOP_KEYS, where, strict)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= ID_MAX:
        raise ProfileError(N_("{where}: 'version' must be a positive integer"), where=where)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ProfileError(N_("{where}: the Vietnamese name ('name') is missing"), where=where)
    name_en = data.get("name_en", name)
    if not isinstance(name_en, str) or not name_en.strip():
        if strict:
            raise ProfileError(
                N_("{where}: the English name ('name_en') must be a text"), where=where
            )
        name_en = name

    basis = _choice(data, "denominator", tuple(BASES), where)
    scope = _choice(data, "invalid_marks", INVALID_SCOPES, where)
    quorum = _choice(data, "quorum", QUORUMS, where) if "quorum" in data else "none"
    scale = _choice(data, "scale", ("poll",), where) if "scale" in data else "poll"
    deciding_group = (
        _choice(data, "deciding_group", (*GROUP_KINDS, "combined"), where)
        if "deciding_group" in data
        else None
    )
    frequency = str(data.get("frequency", "annual"))
    if strict and frequency not in FREQUENCIES:
        frequency = _choice(data, "frequency", FREQUENCIES, where)

    raw_bands = data.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise ProfileError(N_("{where}: at least one band is needed ([[bands]])"), where=where)
    bands: list[Band] = []
    for number, raw in enumerate(raw_bands, start=1):
        band_where = message(
            N_("profile {profile}, band {number}"), profile=profile_id, number=number
        )
        raw = _table(raw, band_where, strict, BAND_KEYS)
        band_id = raw.get("id")
        if not isinstance(band_id, str) or band_id not in BAND_RULES:
            raise ProfileError(
                N_("{where}: unknown band {band_id!r}; expected one of {allowed}"),
                where=band_where,
                band_id=band_id,
                allowed=", ".join(BAND_RULES),
            )
        consequence_where = message(N_("{where}, consequence"), where=band_where)
        bands.append(
            Band(
                band_id,
                _text(raw.get("consequence"), consequence_where, strict),
                _flag(raw, "followup_vote", band_where),
            )
        )
    _check_bands(bands, where)

    consecutive = None
    if "consecutive_years" in data:
        consecutive_where = message(N_("profile {profile}, consecutive_years"), profile=profile_id)
        raw = _table(data["consecutive_years"], consecutive_where, strict, CONSECUTIVE_KEYS)
        band_id = raw.get("band")
        if not isinstance(band_id, str) or band_id not in {b.id for b in bands}:
            raise ProfileError(
                N_("{where}: consecutive_years must name one of the profile's bands"),
                where=where,
            )
        years = raw.get("years", 2)
        if not isinstance(years, int) or isinstance(years, bool) or years < 2:
            raise ProfileError(
                N_("{where}: consecutive_years.years must be 2 or more"), where=where
            )
        consecutive = ConsecutiveYears(
            band_id,
            years,
            _text(raw.get("consequence"), consecutive_where, strict),
            _flag(raw, "followup_vote", consecutive_where),
        )

    vote_where = message(N_("profile {profile}, confidence_vote"), profile=profile_id)
    vote = _table(data.get("confidence_vote", {}), vote_where, strict, VOTE_KEYS)
    vote_basis = (
        _choice(vote, "denominator", tuple(BASES), vote_where) if ("denominator" in vote) else basis
    )
    vote_consequence = _text(
        vote.get("consequence"), message(N_("{where}, consequence"), where=vote_where), strict
    )

    vote_may_resign = _flag(vote, "may_resign", vote_where)
    proposers = _proposers(vote.get("proposers", []), profile_id, strict)

    raw_exemptions = data.get("exemptions", [])
    if not isinstance(raw_exemptions, list):
        raise ProfileError(
            N_("{where}: exemptions must be a list of tables ([[exemptions]])"), where=where
        )
    exemptions: list[tuple[str, Text]] = []
    for number, raw in enumerate(raw_exemptions, start=1):
        exemption_where = message(
            N_("profile {profile}, exemption {number}"), profile=profile_id, number=number
        )
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            raise ProfileError(N_("{where}: needs an 'id'"), where=exemption_where)
        if strict and (
            raw["id"] in RESERVED_EXEMPTIONS or raw["id"] in {key for key, _t in exemptions}
        ):
            raise ProfileError(
                N_("{where}: the id {id!r} is used twice or reserved (other, resigned)"),
                where=exemption_where,
                id=raw["id"],
            )
        exemptions.append((raw["id"], _text(raw, exemption_where, strict, allowed=EXEMPTION_KEYS)))

    in_force_from, in_force_until = _in_force(data.get("in_force", {}), profile_id, strict)
    term_years = data.get("term_years", DEFAULT_TERM_YEARS)
    if not isinstance(term_years, int) or isinstance(term_years, bool) or term_years < 1:
        raise ProfileError(N_("{where}: term_years must be a positive integer"), where=where)
    signature = (
        _choice(data, "ballot_signature", SIGNATURES, where)
        if "ballot_signature" in data
        else "unstated"
    )

    kinds = data.get("body_kinds", list(BODY_KINDS))
    if (
        not isinstance(kinds, list)
        or (strict and not kinds)
        or any(k not in BODY_KINDS for k in kinds)
    ):
        raise ProfileError(
            N_("{where}: body_kinds must list party, council or assembly"), where=where
        )

    return Profile(
        id=nfc(profile_id),
        version=version,
        name=Text(nfc(name), nfc(name_en)),
        body_kinds=tuple(kinds),
        frequency=frequency,
        scale=scale,
        denominator=basis,
        invalid_marks=scope,
        quorum=quorum,
        bands=tuple(bands),
        consecutive_years=consecutive,
        vote_denominator=vote_basis,
        vote_consequence=vote_consequence,
        exemptions=tuple(exemptions),
        in_force_from=in_force_from,
        in_force_until=in_force_until,
        term_years=term_years,
        ballot_signature=signature,
        vote_may_resign=vote_may_resign,
        proposers=proposers,
        deciding_group=deciding_group,
        not_verified=_not_verified(
            data.get("not_verified", []),
            where,
            strict,
            {
                "bands": {b.id for b in bands},
                "exemptions": {key for key, _t in exemptions},
                "confidence_vote.proposers": {p.id for p in proposers},
            },
        ),
        builtin=builtin,
        source=source,
    )


def _date(value: Any, where: Where, key: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ProfileError(N_("{where}: {key} must be a date (YYYY-MM-DD)"), where=where, key=key)


def _in_force(data: Any, profile_id: str, strict: bool) -> tuple[dt.date | None, dt.date | None]:
    where = message(N_("profile {profile}, in_force"), profile=profile_id)
    raw = _table(data, where, strict, IN_FORCE_KEYS)
    first = _date(raw.get("from"), where, "from")
    last = _date(raw.get("until"), where, "until")
    if first is not None and last is not None and last < first:
        raise ProfileError(N_("{where}: 'until' comes before 'from'"), where=where)
    return first, last


def _proposers(data: Any, profile_id: str, strict: bool) -> tuple[Proposer, ...]:
    if not isinstance(data, list):
        raise ProfileError(
            N_("{where}: proposers must be a list of tables"),
            where=message(N_("profile {profile}, confidence_vote"), profile=profile_id),
        )
    found: list[Proposer] = []
    for number, raw in enumerate(data, start=1):
        where = message(
            N_("profile {profile}, proposer {number}"), profile=profile_id, number=number
        )
        raw = _table(raw, where, strict, PROPOSER_KEYS)
        proposer_id = raw.get("id")
        if not isinstance(proposer_id, str) or not PROFILE_ID.fullmatch(proposer_id):
            raise ProfileError(N_("{where}: needs an 'id'"), where=where)
        if proposer_id in {p.id for p in found}:
            raise ProfileError(
                N_("{where}: the id {id!r} is used twice or reserved (other, resigned)"),
                where=where,
                id=proposer_id,
            )
        kinds = raw.get("body_kinds", list(BODY_KINDS))
        if not isinstance(kinds, list) or not kinds or any(k not in BODY_KINDS for k in kinds):
            raise ProfileError(
                N_("{where}: body_kinds must list party, council or assembly"), where=where
            )
        share = None
        if "min_share" in raw:
            matched = SHARE.fullmatch(str(raw["min_share"]))
            if matched is None or int(matched[1]) > int(matched[2]):
                raise ProfileError(
                    N_("{where}: min_share must be a fraction such as 1/5 or 1/3"), where=where
                )
            share = (int(matched[1]), int(matched[2]))
        found.append(
            Proposer(proposer_id, _text(raw, where, False, PROPOSER_KEYS), tuple(kinds), share)
        )
    return tuple(found)


def _not_verified(
    data: Any, where: Where, strict: bool, ids: dict[str, set[str]]
) -> tuple[str, ...]:
    """Check the list of keys the texts do not settle: each must name a key of the profile."""
    if not isinstance(data, list) or any(not isinstance(path, str) for path in data):
        raise ProfileError(N_("{where}: not_verified must be a list of keys"), where=where)
    known = {
        *TOP_KEYS,
        *(f"in_force.{key}" for key in IN_FORCE_KEYS),
        *(f"confidence_vote.{key}" for key in VOTE_KEYS),
        *(f"{table}.{key}" for table, keys in ids.items() for key in keys),
    }
    if strict:
        for path in data:
            if path not in known:
                raise ProfileError(
                    N_("{where}: not_verified names {key!r}, which is not a key of the profile"),
                    where=where,
                    key=path,
                )
    return tuple(data)


def _check_bands(bands: list[Band], where: Where) -> None:
    seen: set[str] = set()
    previous = (Fraction(0), False)
    for band in bands:
        if band.id in seen:
            raise ProfileError(
                N_("{where}: band {band_id} is listed twice"), where=where, band_id=band.id
            )
        seen.add(band.id)
        numerator, denominator, strict = band.rule.lower
        lower = (Fraction(numerator, denominator), strict)
        if lower < previous:
            raise ProfileError(
                N_("{where}: bands are not in order; list them from the lowest threshold up"),
                where=where,
            )
        previous = lower
    # A bounded band (…_under_two_thirds) exists to partition the range: it may not overlap
    # another band. Unbounded bands may nest (nq85-2014: over_half and two_thirds_or_more).
    probes = [(low, 600) for low in range(0, 601)]
    for band in bands:
        if not band.rule.bounded:
            continue
        for other in bands:
            if other is band:
                continue
            if any(band.holds(low, d) and other.holds(low, d) for low, d in probes):
                raise ProfileError(
                    N_("{where}: bands {band_id} and {other} overlap"),
                    where=where,
                    band_id=band.id,
                    other=other.id,
                )


@functools.cache
def builtin_profiles() -> dict[tuple[str, int], Profile]:
    """Return the profiles shipped with the code, read and checked on first use.

    Not at import: reading and validating the fourteen files is work `votes --help` need not do.
    """
    found: dict[tuple[str, int], Profile] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            profile = parse_profile(entry.read_text(encoding="utf-8"), builtin=True)
            found[(profile.id, profile.version)] = profile
    return found


def __getattr__(name: str) -> Any:
    """`BUILTIN`: the shipped profiles (builtin_profiles()), read when first asked for."""
    if name == "BUILTIN":
        return builtin_profiles()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class UnknownProfile(NotFound):
    """No profile with that id (and version)."""


def _stored(session: Session) -> dict[tuple[str, int], Profile]:
    rows = session.scalars(select(StoredProfile)).all()
    return {(row.profile_id, row.version): parse_profile(row.source, strict=False) for row in rows}


def all_profiles(session: Session | None = None) -> dict[tuple[str, int], Profile]:
    """Return every profile version known: built-in ones and those added to the database."""
    found = dict(builtin_profiles())
    if session is not None:
        found.update(_stored(session))
    return found


def get_profile(session: Session | None, profile_id: str, version: int | None = None) -> Profile:
    """Return a profile by id, at a given version or the newest one."""
    candidates = {
        key: profile for key, profile in all_profiles(session).items() if key[0] == profile_id
    }
    if not candidates:
        raise UnknownProfile(N_("Unknown profile {profile}."), profile=profile_id)
    if version is None:
        return candidates[max(candidates)]
    if (profile_id, version) not in candidates:
        raise UnknownProfile(
            N_("The profile {profile} has no version {version}."),
            profile=profile_id,
            version=version,
        )
    return candidates[(profile_id, version)]


def latest_profiles(session: Session, body_kind: str | None = None) -> list[Profile]:
    """Return the newest version of every profile (for a kind of body, when given)."""
    latest: dict[str, Profile] = {}
    for (profile_id, _version), profile in sorted(all_profiles(session).items()):
        if body_kind is None or body_kind in profile.body_kinds:
            latest[profile_id] = profile
    return list(latest.values())


def add_profile(session: Session, source: str) -> Profile:
    """Validate and store a profile; an existing version can never be changed, only succeeded."""
    profile = parse_profile(source)
    known = all_profiles(session)
    key = (profile.id, profile.version)
    if key in known:
        in_use = (
            session.scalar(
                select(func.count(Round.id)).where(
                    Round.profile_id == profile.id, Round.profile_version == profile.version
                )
            )
            or 0
        )
        raise ProfileError(
            N_(
                "The profile {profile} version {version} already exists ({rounds} rounds were "
                "counted under it); a profile is never changed: add it as version {next}."
            ),
            profile=profile.id,
            version=profile.version,
            rounds=in_use,
            next=max(v for (i, v) in known if i == profile.id) + 1,
        )
    older = [v for (i, v) in known if i == profile.id]
    if older and profile.version < max(older):
        raise ProfileError(
            N_("The profile {profile}: version {version} is older than version {newest}."),
            profile=profile.id,
            version=profile.version,
            newest=max(older),
        )
    session.add(StoredProfile(profile_id=profile.id, version=profile.version, source=source))
    session.flush()
    return profile
