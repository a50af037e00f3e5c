"""Vietnamese wording shared by the documents: levels, denominators, bands, rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from votes.i18n import translate
from votes.profiles import UnknownProfile, get_profile, short_name
from votes.vocabulary import BAND_WORDS, BASES, BASIS_UNITS, SCALES

from .text import fmt_int, fmt_percent, nfc


def vi(msgid: str) -> str:
    """Return a word of the vocabulary in Vietnamese, the language of the documents."""
    return translate(msgid, "vi")


CONFIDENCE_VOTE = "confidence_vote"
#: A vote of confidence, as a round mapping (for the words of its low level).
VOTE: Mapping[str, str] = {"scale": CONFIDENCE_VOTE}

#: (counts key, column label, short label) of each level, in the order printed.
POLL_LEVELS = tuple((level.name, vi(level.label), vi(level.short)) for level in SCALES["poll"])
VOTE_LEVELS = tuple(
    (level.name, vi(level.label), vi(level.short)) for level in SCALES[CONFIDENCE_VOTE]
)

#: What D counts, in words: "… được tính trên tổng số phiếu thu về (32 phiếu)."
BASIS_SENTENCE = {basis: vi(words) for basis, words in BASES.items()}
BASIS_UNIT = {basis: vi(unit) for basis, unit in BASIS_UNITS.items()}

#: Band ids (DOMAIN.md §5) as short table labels ("Quá nửa").
BAND_SHORT = {band: vi(words).capitalize() for band, words in BAND_WORDS.items()}
_BAND_PHRASE = {band: vi(words) for band, words in BAND_WORDS.items()}
_CONDITION = {
    "low*2 > D": "số phiếu {low} × 2 > D",
    "low*3 >= 2*D": "số phiếu {low} × 3 ≥ 2 × D",
    "low*3 > 2*D": "số phiếu {low} × 3 > 2 × D",
    "low*2 > D and low*3 < 2*D": "số phiếu {low} × 2 > D và × 3 < 2 × D",
}


def is_confidence_vote(round_: Mapping[str, Any]) -> bool:
    """Tell whether a round is a two-level vote of confidence."""
    return round_.get("scale") == CONFIDENCE_VOTE


def levels(round_: Mapping[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """Return the (key, label, short label) of each level of the round's scale."""
    return VOTE_LEVELS if is_confidence_vote(round_) else POLL_LEVELS


def low_key(round_: Mapping[str, Any]) -> str:
    """Return the counts key the thresholds look at ("low" or "no_trust")."""
    return "no_trust" if is_confidence_vote(round_) else "low"


def low_word(round_: Mapping[str, Any]) -> str:
    """Return the low level in lower case, for sentences."""
    scale = CONFIDENCE_VOTE if is_confidence_vote(round_) else "poll"
    return vi(SCALES[scale][-1].word)


#: What the members of a body are called when the caller does not say (the core passes the
#: words of votes.vocabulary): a Party committee's "thành viên", a council's "đại biểu".
MEMBER_WORD = {"party": "thành viên", "council": "đại biểu", "assembly": "đại biểu"}
#: The counting committee's roles as printed.
ROLE_WORDS = {"head": "Trưởng ban", "member": "Thành viên"}


def member_word(round_: Mapping[str, Any], meta: Mapping[str, Any] | None = None) -> str:
    """Return what the body's members are called: "thành viên" or "đại biểu"."""
    words = (meta or {}).get("words") or {}
    if words.get("member"):
        return nfc(words["member"])
    return MEMBER_WORD.get(str(round_.get("body_kind") or "party"), "thành viên")


def basis_words(basis: str, member: str = "thành viên") -> str:
    """Return what D counts in a sentence, naming the members as the body calls them."""
    if basis == "members":
        return f"tổng số {member}"
    return BASIS_SENTENCE.get(basis, nfc(basis))


def denominator_sentence(denominator: Mapping[str, Any] | None, member: str = "thành viên") -> str:
    """State the denominator in words, as printed under every result."""
    if not denominator or not denominator.get("basis"):
        return "Tỷ lệ phần trăm chưa tính được vì chưa xác định được mẫu số."
    basis = denominator["basis"]
    what = basis_words(basis, member)
    unit = BASIS_UNIT.get(basis, "")
    value = denominator.get("value")
    if value is None:
        return f"Tỷ lệ phần trăm được tính trên {what} (chưa xác định)."
    return f"Tỷ lệ phần trăm được tính trên {what} ({fmt_int(value)} {unit})."


def band_phrase(band: str | None, round_: Mapping[str, Any], basis: str | None = None) -> str:
    """Describe a band: "số phiếu tín nhiệm thấp chiếm quá nửa (trên 1/2) tổng số phiếu thu về"."""
    share = _BAND_PHRASE.get(band or "", nfc(band))
    of_what = basis_words(basis, member_word(round_)) if basis else "tổng số phiếu"
    return f"số phiếu {low_word(round_)} chiếm {share} {of_what}"


def rule_condition(rule: str | None, round_: Mapping[str, Any] | None = None) -> str:
    """Render a rule text from the evidence ("low*2 > D") in Vietnamese."""
    text = nfc(rule)
    key = text.replace(" ", "").replace("and", " and ")
    for pattern, words in _CONDITION.items():
        if pattern.replace(" ", "").replace("and", " and ") == key:
            return words.format(low=low_word(round_ or {}))
    return text


def years_text(years: list[int] | None) -> str:
    """Join years: [2024, 2025] -> "2024, 2025"."""
    return ", ".join(str(y) for y in years or [])


def finding_basis(finding: Mapping[str, Any], default: str | None = None) -> str | None:
    """Return the denominator basis a finding was decided on (from its evidence)."""
    for evidence in finding.get("evidence") or []:
        if evidence.get("basis"):
            return str(evidence["basis"])
    return default


def finding_text(
    finding: Mapping[str, Any], round_: Mapping[str, Any], basis: str | None = None
) -> str:
    """Describe a finding in one Vietnamese sentence, without its consequence."""
    years = finding.get("years") or []
    phrase = band_phrase(finding.get("band"), round_, finding_basis(finding, basis))
    if finding.get("rule") == "consecutive_years":
        return f"{phrase} hai năm liên tiếp ({years_text(years)})"
    if years:
        return f"{phrase} (năm {years_text(years)})"
    return phrase


def consequence_text(finding: Mapping[str, Any]) -> str:
    """Return the Vietnamese consequence of a finding (or "" when none is given)."""
    consequence = finding.get("consequence") or {}
    if isinstance(consequence, str):
        return nfc(consequence)
    return nfc(consequence.get("vi") or "")


def evidence_text(evidence: Mapping[str, Any], round_: Mapping[str, Any]) -> str:
    """Summarise one piece of evidence: "Năm 2024 (đợt 3): 17/32 phiếu, 53,13 %"."""
    low = fmt_int(evidence.get("low"))
    denominator = fmt_int(evidence.get("denominator"))
    percent = fmt_percent(evidence.get("percent"), suffix=" %")
    return (
        f"Năm {evidence.get('year', '')} (đợt {evidence.get('round', '')}): "
        f"{low}/{denominator} phiếu {low_word(round_)}, {percent}"
    )


def local_moment(value: object) -> dt.datetime | None:
    """Read an ISO date and time written in Vietnam's time ("2013-11-30T08:00+07:00")."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def clock(moment: dt.datetime) -> str:
    """Write a time of day the administrative way: "08 giờ 30"."""
    return f"{moment.hour:02d} giờ {moment.minute:02d}"


def day_text(day: dt.date) -> str:
    """Write a date in a sentence: "ngày 30 tháng 11 năm 2013" (Nghị định 30/2020/NĐ-CP)."""
    number = f"{day.day:02d}" if day.day < 10 else str(day.day)
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {number} tháng {month} năm {day.year}"


def committee(
    results: Mapping[str, Any], meta: Mapping[str, Any] | None = None
) -> list[dict[str, str]]:
    """Return the counting committee as printed: the head first, each with a role word."""
    given = (meta or {}).get("committee")
    if given is None:
        given = ((results.get("round") or {}).get("meeting") or {}).get("committee") or []
    members = [
        {
            "name": nfc(m.get("name")).strip(),
            "role": ROLE_WORDS.get(str(m.get("role")), nfc(m.get("role")) or "Thành viên"),
        }
        for m in given
    ]
    return sorted(members, key=lambda m: m["role"] != "Trưởng ban")


def exempt_reason(person: Mapping[str, Any]) -> str:
    """Return an exemption's reason as printed, with its decision when there is one."""
    reason = nfc(person.get("reason"))
    decision = nfc(person.get("decision")).strip()
    if person.get("reason_id") == "other":
        reason = f"Lý do khác: {reason}"
    if decision:
        reason += f" (theo quyết định số {decision})"
    return reason


def profile_citation(profile: Mapping[str, Any] | None) -> str:
    """Name a profile as people cite it, "QĐ 96-QĐ/TW (2023), phiên bản 2" (else its id)."""
    profile = profile or {}
    profile_id = nfc(profile.get("id"))
    version = profile.get("version")
    try:
        found = get_profile(None, profile_id, int(version) if version else None)
    except (UnknownProfile, ValueError):
        return f"{profile_id} (phiên bản {version})" if version else profile_id
    return f"{short_name(found.name.vi)}, phiên bản {found.version}"
