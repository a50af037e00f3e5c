"""Findings: which band each person falls in, and "two years in a row", with their evidence.

Findings are pure functions of stored, counted rounds (closed or published): computing them
again gives the same answer, and each one carries everything needed to explain it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import N_, Message, message
from .groups import shown_results, small_minimum
from .models import Body, Exemption, Person, Round, Scale
from .profiles import BAND_RULES, ConsecutiveYears, Profile
from .tally import ItemTally, RoundTally, tally_groups, tally_round
from .text import percent, percent_text
from .vocabulary import BAND_WORDS, BASES, COUNTED, SCALES, VOTE_TEST, basis_words

# The level a finding counts, as it reads inside a sentence ("low confidence").
LEVEL_WORDS = {level.name: level.word for scale in SCALES.values() for level in scale}


@dataclass(frozen=True)
class Finding:
    """One flag on one person, with the evidence that explains it."""

    rule: str  # "band" or "consecutive_years"
    person_key: str
    name: str
    position: str
    years: tuple[int, ...]
    rounds: tuple[int, ...]
    band: str
    consequence: dict[str, str]
    evidence: tuple[dict[str, Any], ...]
    # The profile says this consequence calls for a vote of confidence (not part of the JSON:
    # the consequence text says it in words).
    calls_for_vote: bool = False
    # Years inside a chain in which the person was exempt: passed over, not a break (§6).
    passed_over: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """Return the finding as JSON-ready data."""
        return {
            "rule": self.rule,
            "person_key": self.person_key,
            "name": self.name,
            "position": self.position,
            "years": list(self.years),
            "rounds": list(self.rounds),
            "band": self.band,
            "consequence": dict(self.consequence),
            "evidence": [dict(e) for e in self.evidence],
            "passed_over": list(self.passed_over),
        }


def evidence(
    tally: RoundTally, item: ItemTally, band: str, rule: str, level: str
) -> dict[str, Any]:
    """Describe one count behind a finding: round, year, count, D, share, rule, profile."""
    count = item.counts[level]
    return {
        "round": tally.round.id,
        "year": tally.round.year,
        "title": tally.round.title,
        "position": item.position,
        "level": level,
        "count": count,
        level: count,
        "counts": dict(item.counts),
        "denominator": tally.denominator,
        "basis": tally.basis,
        "percent": percent_text(percent(count, tally.denominator)),
        "band": band,
        "rule": rule,
        "profile": {"id": tally.profile.id, "version": tally.profile.version},
    }


def item_bands(tally: RoundTally, item: ItemTally) -> list[Finding]:
    """Return every band of the round's profile that holds for one item (never the collective)."""
    if item.kind != "person" or item.person_key is None or not tally.denominator:
        return []
    d = tally.denominator
    found = []
    if tally.round.scale == Scale.CONFIDENCE_VOTE.value:
        if item.counts["no_trust"] * 2 > d:
            found.append(
                (
                    "over_half",
                    VOTE_TEST,
                    tally.profile.vote_consequence.as_dict(),
                    "no_trust",
                    False,
                )
            )
    else:
        for band in tally.profile.bands:
            if band.holds(item.counts["low"], d):
                found.append(
                    (band.id, band.rule.rule, band.consequence.as_dict(), "low", band.followup_vote)
                )
    return [
        Finding(
            rule="band",
            person_key=item.person_key,
            name=item.name,
            position=item.position,
            years=(tally.round.year,),
            rounds=(tally.round.id,),
            band=band_id,
            consequence=consequence,
            evidence=(evidence(tally, item, band_id, rule, level),),
            calls_for_vote=calls_for_vote,
        )
        for band_id, rule, consequence, level, calls_for_vote in found
    ]


def round_findings(tally: RoundTally) -> list[Finding]:
    """Return the band findings of one round, in ballot order; none when the round is void."""
    if tally.void:
        return []
    return [finding for item in tally.items for finding in item_bands(tally, item)]


@dataclass
class _Year:
    low: list[tuple[RoundTally, ItemTally, ConsecutiveYears]]
    rated: bool
    exempt: bool = False


def in_chain(tally: RoundTally) -> bool:
    """Tell whether a counted round can enter a "years in a row" chain (DOMAIN.md §2, §6).

    Only a poll under a profile with the rule, held while that profile was in force (a round
    allowed by an exception decision outside those dates does not count), with a known D,
    and not void for want of quorum.
    """
    round_ = tally.round
    profile = tally.profile
    if profile.consecutive_years is None or round_.scale != Scale.POLL.value:
        return False
    if not tally.denominator or tally.void:
        return False
    if round_.held_on is not None:
        return profile.in_force_on(round_.held_on)
    return profile.in_force_in(round_.year)


def consecutive_findings(tallies: list[RoundTally]) -> list[Finding]:
    """Apply "N years in a row" across the counted polls of one body (DOMAIN.md §6).

    Only rounds that can enter a chain take part (see `in_chain`). A year counts as low when
    the person was low in any of that year's rounds. A year with no such round, or in which
    the person was not on the ballot, breaks the chain. A year in which the person was exempt
    (and rated in none of that year's rounds) is passed over: neither low nor a break, so an
    exemption is never a way out of the rule; the finding names the years passed over.
    """
    by_person: dict[str, dict[int, _Year]] = defaultdict(dict)
    for tally in tallies:
        rule = tally.profile.consecutive_years
        if rule is None or not in_chain(tally):
            continue
        band = BAND_RULES[rule.band]
        for item in tally.items:
            if item.kind != "person" or item.person_key is None:
                continue
            rated = by_person[item.person_key].setdefault(tally.round.year, _Year([], False))
            rated.rated = True
            if band.holds(item.counts["low"], tally.denominator or 0):
                rated.low.append((tally, item, rule))
        for exemption in tally.round.exemptions:
            exempt = by_person[exemption.person.person_key].setdefault(
                tally.round.year, _Year([], False)
            )
            exempt.exempt = True
    findings = []
    for person_key, years in by_person.items():
        run: list[int] = []
        for year in sorted(years):
            state = years[year]
            if not state.rated:
                continue  # exempt only: passed over, the run goes on
            if state.low and run and _bridged(years, run[-1], year):
                run.append(year)
            elif state.low:
                run = [year]
            else:
                run = []
            if not run:
                continue
            _last_tally, last_item, rule = state.low[-1]
            if len(run) < rule.years:
                continue
            chain = run[-rule.years :]
            low_rounds = [pair for y in chain for pair in years[y].low]
            findings.append(
                Finding(
                    rule="consecutive_years",
                    person_key=person_key,
                    name=last_item.name,
                    position=last_item.position,
                    years=tuple(chain),
                    rounds=tuple(t.round.id for t, _i, _r in low_rounds),
                    band=rule.band,
                    consequence=rule.consequence.as_dict(),
                    evidence=tuple(
                        evidence(t, i, rule.band, BAND_RULES[rule.band].rule, "low")
                        for t, i, _r in low_rounds
                    ),
                    calls_for_vote=rule.followup_vote,
                    passed_over=tuple(y for y in range(chain[0] + 1, chain[-1]) if y not in chain),
                )
            )
    return findings


def _bridged(years: dict[int, _Year], previous: int, year: int) -> bool:
    """Tell whether every year between two rated years was one the person was exempt in."""
    return all(
        between in years and years[between].exempt and not years[between].rated
        for between in range(previous + 1, year)
    )


def counted_tallies(session: Session, body: Body) -> list[RoundTally]:
    """Count every closed or published round of a body, oldest first."""
    rounds = session.scalars(
        select(Round)
        .where(Round.body_id == body.id, Round.status.in_(COUNTED))
        .order_by(Round.year, Round.id)
    ).all()
    return [tally_round(session, round_) for round_ in rounds]


def body_findings(
    session: Session, body: Body, year: int | None = None, person_key: str | None = None
) -> list[Finding]:
    """Return every finding of a body: bands of each round and "years in a row"."""
    tallies = counted_tallies(session, body)
    findings = [f for tally in tallies for f in round_findings(tally)]
    findings += consecutive_findings(tallies)
    if year is not None:
        findings = [f for f in findings if f.years[-1] == year]
    if person_key is not None:
        findings = [f for f in findings if f.person_key == person_key]
    findings.sort(key=lambda f: (f.years[-1], f.rounds[-1], f.rule != "band", f.person_key))
    return findings


def findings_for_round(session: Session, tally: RoundTally) -> dict[int, list[Finding]]:
    """Return the findings of each item of one counted round, by item order.

    Besides the round's own bands, a "years in a row" finding belongs to the round when the
    round is part of its evidence and its last year is the round's year.
    """
    by_order: dict[int, list[Finding]] = {item.order: [] for item in tally.items}
    for finding in round_findings(tally):
        order = next(i.order for i in tally.items if i.person_key == finding.person_key)
        by_order[order].append(finding)
    if tally.round.status in COUNTED and tally.profile.consecutive_years is not None:
        for finding in consecutive_findings(counted_tallies(session, tally.round.body)):
            if tally.round.id in finding.rounds and finding.years[-1] == tally.round.year:
                for item in tally.items:
                    if item.person_key == finding.person_key:
                        by_order[item.order].append(finding)
    return by_order


def person_history(session: Session, body: Body, person: Person) -> dict[str, Any]:
    """Return every counted round of a person in a body, by year, with shares and findings."""
    rounds = []
    used: list[Profile] = []  # the profiles the person was rated under
    for tally in counted_tallies(session, body):
        item = next((i for i in tally.items if i.person_id == person.id), None)
        exempt = session.scalar(
            select(Exemption).where(
                Exemption.round_id == tally.round.id, Exemption.person_id == person.id
            )
        )
        if item is None and exempt is None:
            continue
        entry: dict[str, Any] = {
            "round_id": tally.round.id,
            "year": tally.round.year,
            "title": tally.round.title,
            "status": tally.round.status,
            "scale": tally.round.scale,
            "profile": {"id": tally.profile.id, "version": tally.profile.version},
            "denominator": {"basis": tally.basis, "value": tally.denominator},
        }
        if exempt is not None and item is None:
            entry.update(
                position=exempt.position,
                exempt=exempt.reason,
                exempt_reason_id=exempt.reason_id,
                exempt_decision=exempt.decision,
                counts=None,
                percent=None,
                findings=[],
            )
        elif item is not None:
            entry.update(
                position=item.position,
                exempt=None,
                exempt_reason_id=None,
                exempt_decision=None,
                counts=dict(item.counts),
                percent={
                    level: percent_text(item.share(level, tally.denominator))
                    for level in tally.levels
                },
                findings=[f.as_dict() for f in item_bands(tally, item)],
            )
        if item is not None and len(tally.round.groups) > 1:
            entry.update(_group_shares(session, tally.round, item.order))
        rounds.append(entry)
        used.append(tally.profile)
    findings = body_findings(session, body, person_key=person.person_key)
    return {
        "body": {"code": body.code, "name": body.name, "kind": body.kind},
        "person": {"person_key": person.person_key, "name": person.name},
        "rounds": rounds,
        "findings": [f.as_dict() for f in findings],
        "thresholds": thresholds(used),
    }


def _group_shares(session: Session, round_: Round, order: int) -> dict[str, Any]:
    """Return a person's low share in each voter group of a round and combined.

    A group that is not shown alone (small, or shielding a small one) gives no share here
    either; the combined share is withheld when it would show a small group.
    """
    grouped = tally_groups(session, round_)
    shown = shown_results(
        [(group.number, count.collected, count.members) for group, count in grouped.groups],
        round_.deciding_group,
        small_minimum(),
    )

    def share(count: RoundTally) -> str | None:
        low = count.levels[-1]
        item = next(i for i in count.items if i.order == order)
        return percent_text(item.share(low, count.denominator))

    return {
        "groups": [
            {
                "number": group.number,
                "name": group.name,
                "deciding": round_.deciding_group == group.number,
                "hidden_small": group.number in shown.hidden,
                "low_percent": None if group.number in shown.hidden else share(count),
            }
            for group, count in grouped.groups
        ],
        "combined_low_percent": None if shown.combined_withheld else share(grouped.combined),
    }


def finding_message(finding: dict[str, Any], body_kind: str | None = None) -> Message:
    """Describe a finding in words: "low confidence votes are more than one half of …"."""
    proof = finding["evidence"][0] if finding["evidence"] else {}
    level = proof.get("level", "low")
    basis = str(proof.get("basis", ""))
    words = message(
        N_("{level_word} votes are {band} of {basis}"),
        level_word=message(LEVEL_WORDS.get(level, level)),
        band=message(BAND_WORDS.get(finding["band"], finding["band"])),
        basis=message(basis_words(basis, body_kind) if basis in BASES else basis),
    )
    if finding["rule"] != "consecutive_years":
        return words
    passed = finding.get("passed_over") or []
    if passed:
        return message(
            N_("{finding}, in {years} consecutive years (exempt in {passed}, passed over)"),
            finding=words,
            years=len(finding["years"]),
            passed=", ".join(str(year) for year in passed),
        )
    return message(
        N_("{finding}, in {years} consecutive years"), finding=words, years=len(finding["years"])
    )


def thresholds(used: list[Profile]) -> list[dict[str, str]]:
    """Return the lines a chart of low shares draws: the lower bound of each band in use.

    Only the bands of the profiles the person was rated under: a ⅔ line for a rule that has
    none would suggest a consequence that does not exist.
    """
    found: dict[str, tuple[int, int]] = {}
    for profile in used:
        for band in profile.bands:
            numerator, denominator, _strict = band.rule.lower
            found.setdefault(band.id, (numerator, denominator))
    by_share = {
        percent_text(percent(numerator, denominator)): (band, f"{numerator}/{denominator}")
        for band, (numerator, denominator) in sorted(found.items(), key=lambda kv: Fraction(*kv[1]))
    }
    return [
        {"band": band, "percent": share or "", "fraction": fraction}
        for share, (band, fraction) in by_share.items()
    ]
