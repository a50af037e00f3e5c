"""Rule profiles as versioned data: denominator, invalid-mark scope, quorum, bands, rules.

Built-in profiles ship as TOML files beside this module; organisations add their own with
`votes profiles add FILE`, stored in the `profile` table. A round keeps the id and version it
was counted under, so a new version never changes an old result.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import resources
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..text import nfc

BASES = ("members", "collected", "summoned", "present", "valid")
INVALID_SCOPES = ("row", "ballot")
QUORUMS = ("none", "two_thirds_of_summoned")
SCALES = ("poll", "confidence_vote")
FREQUENCIES = ("annual", "mid_term", "once_a_term")
BODY_KINDS = ("party", "council", "assembly")
# Ids are typed on the command line and stored in a 64-character column.
PROFILE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")

# Every key a profile file may use, table by table. A misspelt key is refused rather than
# ignored: a silently dropped `consecutive_years` would silently drop a rule.
TOP_KEYS = (
    "id", "version", "name", "name_en", "body_kinds", "frequency", "scale", "denominator",
    "invalid_marks", "quorum", "bands", "consecutive_years", "confidence_vote", "exemptions",
)
BAND_KEYS = ("id", "consequence", "followup_vote")
CONSECUTIVE_KEYS = ("band", "years", "consequence", "followup_vote")
VOTE_KEYS = ("denominator", "consequence")
EXEMPTION_KEYS = ("id", "vi", "en")
TEXT_KEYS = ("vi", "en")


@dataclass(frozen=True)
class BandRule:
    """A fixed band: its test on integers, the words of the rule, its position for ordering."""

    id: str
    holds: Callable[[int, int], bool]
    rule: str
    vi: str
    en: str
    # The lower bound, to check the order of bands: (numerator, denominator, strict), where a
    # strict bound ("more than 2/3") comes after the same fraction reached ("2/3 or more").
    lower: tuple[int, int, bool]
    bounded: bool  # True when the band also has an upper bound (it partitions, never overlaps)


# The only comparisons the regulations use, in integers (DOMAIN.md §4, §5).
BAND_RULES: dict[str, BandRule] = {
    rule.id: rule
    for rule in (
        BandRule(
            "over_half", lambda low, d: low * 2 > d, "low*2 > D",
            "quá nửa", "more than one half", (1, 2, True), False,
        ),
        BandRule(
            "over_half_under_two_thirds", lambda low, d: low * 2 > d and low * 3 < 2 * d,
            "low*2 > D and low*3 < 2*D",
            "trên một nửa đến dưới hai phần ba", "more than one half but less than two thirds",
            (1, 2, True), True,
        ),
        BandRule(
            "two_thirds_or_more", lambda low, d: low * 3 >= 2 * d, "low*3 >= 2*D",
            "từ hai phần ba trở lên", "two thirds or more", (2, 3, False), False,
        ),
        BandRule(
            "over_two_thirds", lambda low, d: low * 3 > 2 * d, "low*3 > 2*D",
            "trên hai phần ba", "more than two thirds", (2, 3, True), False,
        ),
    )
}

BASIS_WORDS = {
    "members": ("tổng số thành viên", "all members"),
    "collected": ("tổng số phiếu thu về", "ballots collected"),
    "summoned": ("tổng số người được triệu tập", "persons summoned"),
    "present": ("tổng số người có mặt", "persons present"),
    "valid": ("tổng số phiếu hợp lệ", "valid ballots"),
}


class ProfileError(ValueError):
    """A profile file is not valid; the message says what and where."""


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
    builtin: bool = False
    source: str = ""

    def quorum_met(self, present: int | None, summoned: int | None) -> bool | None:
        """Tell whether the quorum is met: None when a needed number is unknown."""
        if self.quorum == "none":
            return True
        if present is None or summoned is None:
            return None
        return present * 3 >= summoned * 2

    def quorum_text(self) -> Text:
        """Describe the quorum in words."""
        if self.quorum == "none":
            return Text("Không quy định tỷ lệ có mặt tối thiểu", "No quorum required")
        return Text(
            "Số người có mặt phải từ hai phần ba số người được triệu tập trở lên",
            "At least two thirds of those summoned must be present",
        )

    def describe(self) -> dict[str, Any]:
        """Return the profile as JSON-ready data, with every rule in words."""
        basis_vi, basis_en = BASIS_WORDS[self.denominator]
        return {
            "id": self.id,
            "version": self.version,
            "name": self.name.as_dict(),
            "builtin": self.builtin,
            "body_kinds": list(self.body_kinds),
            "frequency": self.frequency,
            "scale": self.scale,
            "denominator": {"basis": self.denominator, "vi": basis_vi, "en": basis_en},
            "invalid_marks": self.invalid_marks,
            "quorum": {"rule": self.quorum, **self.quorum_text().as_dict()},
            "bands": [
                {
                    "id": band.id,
                    "rule": band.rule.rule,
                    "vi": band.rule.vi,
                    "en": band.rule.en,
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
                "rule": "no_trust*2 > D",
                "consequence": self.vote_consequence.as_dict(),
            },
            "exemptions": [{"id": key, **text.as_dict()} for key, text in self.exemptions],
        }


def _keys(data: dict[str, Any], allowed: tuple[str, ...], where: str, strict: bool) -> None:
    unknown = sorted(str(key) for key in data if key not in allowed)
    if strict and unknown:
        raise ProfileError(
            f"{where}: unknown key {unknown[0]!r}; expected one of {', '.join(allowed)}"
        )


def _text(
    data: Any, where: str, strict: bool = True, allowed: tuple[str, ...] = TEXT_KEYS
) -> Text:
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected a table with 'vi' and 'en' texts")
    _keys(data, allowed, where, strict)
    vi = data.get("vi")
    if not isinstance(vi, str) or not vi.strip():
        raise ProfileError(f"{where}: the Vietnamese text ('vi') is missing")
    en = data.get("en")
    if not isinstance(en, str) or not en.strip():
        raise ProfileError(f"{where}: the English text ('en') is missing")
    return Text(nfc(vi), nfc(en))


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or value not in allowed:
        raise ProfileError(
            f"{where}: unknown {key} {value!r}; expected one of {', '.join(allowed)}"
        )
    return value


def _flag(data: dict[str, Any], key: str, where: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ProfileError(f"{where}: {key} must be true or false")
    return value


def _table(data: Any, where: str, strict: bool, allowed: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: expected a table")
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
        raise ProfileError(f"not valid TOML: {exc}") from exc
    profile_id = data.get("id")
    if not isinstance(profile_id, str) or not profile_id.strip():
        raise ProfileError("the profile has no 'id'")
    if strict and not PROFILE_ID.fullmatch(profile_id):
        raise ProfileError(
            f"the profile id {profile_id!r} may only use letters, digits, '.', '_' and '-' "
            "(at most 64 characters)"
        )
    where = f"profile {profile_id}"
    _keys(data, TOP_KEYS, where, strict)
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProfileError(f"{where}: 'version' must be a positive integer")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ProfileError(f"{where}: the Vietnamese name ('name') is missing")
    name_en = data.get("name_en", name)
    if not isinstance(name_en, str) or not name_en.strip():
        if strict:
            raise ProfileError(f"{where}: the English name ('name_en') must be a text")
        name_en = name

    basis = _choice(data, "denominator", BASES, where)
    scope = _choice(data, "invalid_marks", INVALID_SCOPES, where)
    quorum = _choice(data, "quorum", QUORUMS, where) if "quorum" in data else "none"
    scale = _choice(data, "scale", ("poll",), where) if "scale" in data else "poll"
    frequency = str(data.get("frequency", "annual"))
    if strict and frequency not in FREQUENCIES:
        frequency = _choice(data, "frequency", FREQUENCIES, where)

    raw_bands = data.get("bands")
    if not isinstance(raw_bands, list) or not raw_bands:
        raise ProfileError(f"{where}: at least one band is needed ([[bands]])")
    bands: list[Band] = []
    for number, raw in enumerate(raw_bands, start=1):
        band_where = f"{where}, band {number}"
        raw = _table(raw, band_where, strict, BAND_KEYS)
        band_id = raw.get("id")
        if not isinstance(band_id, str) or band_id not in BAND_RULES:
            raise ProfileError(
                f"{band_where}: unknown band {band_id!r}; expected one of {', '.join(BAND_RULES)}"
            )
        bands.append(Band(
            band_id,
            _text(raw.get("consequence"), f"{band_where} consequence", strict),
            _flag(raw, "followup_vote", band_where),
        ))
    _check_bands(bands, where)

    consecutive = None
    if "consecutive_years" in data:
        consecutive_where = f"{where} consecutive_years"
        raw = _table(data["consecutive_years"], consecutive_where, strict, CONSECUTIVE_KEYS)
        band_id = raw.get("band")
        if not isinstance(band_id, str) or band_id not in {b.id for b in bands}:
            raise ProfileError(f"{where}: consecutive_years must name one of the profile's bands")
        years = raw.get("years", 2)
        if not isinstance(years, int) or isinstance(years, bool) or years < 2:
            raise ProfileError(f"{where}: consecutive_years.years must be 2 or more")
        consecutive = ConsecutiveYears(
            band_id, years, _text(raw.get("consequence"), consecutive_where, strict),
            _flag(raw, "followup_vote", consecutive_where),
        )

    vote_where = f"{where} confidence_vote"
    vote = _table(data.get("confidence_vote", {}), vote_where, strict, VOTE_KEYS)
    vote_basis = _choice(vote, "denominator", BASES, vote_where) if (
        "denominator" in vote
    ) else basis
    vote_consequence = _text(vote.get("consequence"), f"{vote_where} consequence", strict)

    raw_exemptions = data.get("exemptions", [])
    if not isinstance(raw_exemptions, list):
        raise ProfileError(f"{where}: exemptions must be a list of tables ([[exemptions]])")
    exemptions = []
    for number, raw in enumerate(raw_exemptions, start=1):
        exemption_where = f"{where}, exemption {number}"
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
            raise ProfileError(f"{exemption_where}: needs an 'id'")
        exemptions.append(
            (raw["id"], _text(raw, exemption_where, strict, allowed=EXEMPTION_KEYS))
        )

    kinds = data.get("body_kinds", list(BODY_KINDS))
    if not isinstance(kinds, list) or (strict and not kinds) or any(
        k not in BODY_KINDS for k in kinds
    ):
        raise ProfileError(f"{where}: body_kinds must list party, council or assembly")

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
        builtin=builtin,
        source=source,
    )


def _check_bands(bands: list[Band], where: str) -> None:
    seen: set[str] = set()
    previous = (Fraction(0), False)
    for band in bands:
        if band.id in seen:
            raise ProfileError(f"{where}: band {band.id} is listed twice")
        seen.add(band.id)
        numerator, denominator, strict = band.rule.lower
        lower = (Fraction(numerator, denominator), strict)
        if lower < previous:
            raise ProfileError(
                f"{where}: bands are not in order; list them from the lowest threshold up"
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
                raise ProfileError(f"{where}: bands {band.id} and {other.id} overlap")


def _load_builtins() -> dict[tuple[str, int], Profile]:
    found: dict[tuple[str, int], Profile] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            profile = parse_profile(entry.read_text(encoding="utf-8"), builtin=True)
            found[(profile.id, profile.version)] = profile
    return found


BUILTIN: dict[tuple[str, int], Profile] = _load_builtins()


class UnknownProfile(LookupError):
    """No profile with that id (and version)."""


def _stored(session: Session) -> dict[tuple[str, int], Profile]:
    from ..models import StoredProfile

    rows = session.scalars(select(StoredProfile)).all()
    return {
        (row.profile_id, row.version): parse_profile(row.source, strict=False) for row in rows
    }


def all_profiles(session: Session | None = None) -> dict[tuple[str, int], Profile]:
    """Return every profile version known: built-in ones and those added to the database."""
    found = dict(BUILTIN)
    if session is not None:
        found.update(_stored(session))
    return found


def get_profile(session: Session | None, profile_id: str, version: int | None = None) -> Profile:
    """Return a profile by id, at a given version or the newest one."""
    candidates = {
        key: profile for key, profile in all_profiles(session).items() if key[0] == profile_id
    }
    if not candidates:
        raise UnknownProfile(f"unknown profile {profile_id!r}")
    if version is None:
        return candidates[max(candidates)]
    if (profile_id, version) not in candidates:
        raise UnknownProfile(f"profile {profile_id!r} has no version {version}")
    return candidates[(profile_id, version)]


def add_profile(session: Session, source: str) -> Profile:
    """Validate and store a profile; an existing version can never be changed, only succeeded."""
    from ..models import Round, StoredProfile

    profile = parse_profile(source)
    known = all_profiles(session)
    key = (profile.id, profile.version)
    if key in known:
        in_use = session.scalar(
            select(func.count(Round.id)).where(
                Round.profile_id == profile.id, Round.profile_version == profile.version
            )
        )
        why = f" and {in_use} round(s) were counted under it" if in_use else ""
        raise ProfileError(
            f"profile {profile.id} version {profile.version} already exists{why}; "
            f"a profile is never changed: add it as version "
            f"{max(v for (i, v) in known if i == profile.id) + 1}"
        )
    older = [v for (i, v) in known if i == profile.id]
    if older and profile.version < max(older):
        raise ProfileError(
            f"profile {profile.id}: version {profile.version} is older than version {max(older)}"
        )
    session.add(StoredProfile(profile_id=profile.id, version=profile.version, source=source))
    session.flush()
    return profile
