"""The public record and its verifier: a good record verifies, each mutation is named."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sealed_helpers import ROUND, committee, replace_row, row_from_bits, row_with_values
from votes.sealed import (
    Ciphertext,
    SealedBallot,
    aggregate,
    group,
    make_record,
    partial_decrypt,
    seal_ballot,
    verify_record,
)

VOTES = [(0, 1), (2, 1), (0, 0), (1, 1), (0, 1), (2, 0)]
EXPECTED = [[3, 1, 2], [2, 4]]  # counted by hand from VOTES


@cache
def _record(ballot_count: int) -> str:
    public, keys = committee(2, 3)
    context = ROUND.context
    ballots = [
        seal_ballot(public.public_key, context, list(v), list(ROUND.options)).to_bytes()
        for v in VOTES[:ballot_count]
    ]
    tally = aggregate(public.public_key, context, ballots, ROUND.options)
    partials = [partial_decrypt(keys[i], public, context, tally) for i in (0, 2)]
    return json.dumps(make_record(ROUND, public, ballots, partials))


def record(ballot_count: int = len(VOTES)) -> dict[str, Any]:
    """The record of the first ballot_count ballots of VOTES (all six unless told)."""
    value: dict[str, Any] = json.loads(_record(ballot_count))
    return value


def test_a_good_record_verifies_and_carries_the_hand_count() -> None:
    good = record()
    assert verify_record(good) == []
    assert good["totals"] == EXPECTED
    assert good["committee"]["mode"] == "threshold"
    assert len(good["ballots"]) == len(VOTES)


def test_spreading_the_checks_over_processes_finds_the_same() -> None:
    good = record()
    assert verify_record(good, workers=2) == []
    bad = record()
    bad["ballots"][3] = _swap_ballot_byte(bad["ballots"][3], 300)
    serial = verify_record(bad)
    assert verify_record(bad, workers=2) == serial
    assert serial != []


def _swap_ballot_byte(text: str, at: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[at] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii")


def _forged_ballot(rec: dict[str, Any]) -> str:
    """A ballot whose first row carries two marks, each mark with an honest 0/1 proof."""
    key = bytes.fromhex(rec["committee"]["public_key"])
    honest = seal_ballot(key, ROUND.context, [0, 0], list(ROUND.options))
    two = replace_row(honest, 0, row_from_bits(key, ROUND.context, 0, [1, 1, 0]))
    return base64.b64encode(two.to_bytes()).decode("ascii")


def _minus_one_last(rec: dict[str, Any]) -> str:
    """A ballot whose first row is (1, 1, −1): it adds up to 1 (its row proof holds) and its
    first two options hold 0/1 proofs; only the last option's 0/1 proof can catch it. The
    tally adds up every option but the last (docs/CRYPTO.md §9), so this is the proof that
    keeps the last option's total (ballots − the others) sound."""
    key = bytes.fromhex(rec["committee"]["public_key"])
    honest = seal_ballot(key, ROUND.context, [0, 0], list(ROUND.options))
    forged = replace_row(honest, 0, row_with_values(key, ROUND.context, 0, [1, 1, -1]))
    return base64.b64encode(forged.to_bytes()).decode("ascii")


def _last_option_changed(text: str) -> str:
    """Re-encrypt nothing, just move the last option of row 1 by G (its beta + G)."""
    ballot = SealedBallot.from_bytes(base64.b64decode(text))
    row = ballot.rows[0]
    last = row.ciphertexts[-1]
    moved = Ciphertext(last.alpha, group.add(last.beta, group.GENERATOR))
    changed = replace_row(
        ballot, 0, dataclasses.replace(row, ciphertexts=(*row.ciphertexts[:-1], moved))
    )
    return base64.b64encode(changed.to_bytes()).decode("ascii")


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(rec: dict[str, Any]) -> None:
        target = rec
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value(target[path[-1]]) if callable(value) else value

    return mutate


def _hexbump(text: str) -> str:
    raw = bytearray(bytes.fromhex(text))
    raw[0] ^= 0x02
    return raw.hex()


G = group.GENERATOR.hex()
G2 = group.base_mult(2).hex()

MUTATIONS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "format": (_set(["format"], "belenios"), "not a votes-sealed-record/2"),
    "version": (_set(["version"], "votes-sealed/0"), "version"),
    "round item renamed": (_set(["round", "items", 0], "Nguyễn Văn C"), "context is not the hash"),
    "round context": (_set(["round", "context"], _hexbump), "context is not the hash"),
    "committee proof": (
        _set(["committee", "members", 1, "proofs", 0, 1], lambda v: _hexbump(v)),
        "member 2: proof for commitment 0 fails",
    ),
    "committee commitment": (
        _set(["committee", "members", 0, "commitments", 1], G),
        "member 1: proof for commitment 1 fails",
    ),
    "joint key": (_set(["committee", "public_key"], G), "joint public key"),
    "verification key": (_set(["committee", "verification_keys", 2], G), "verification key"),
    "mode": (_set(["committee", "mode"], "single"), "mode"),
    "threshold": (_set(["committee", "k"], 1), "k or n"),
    "ballot byte": (_set(["ballots", 2], lambda v: _swap_ballot_byte(v, 200)), "ballot 3"),
    "ballot not base64": (_set(["ballots", 0], "!!"), "ballot 1"),
    "ballot with two marks in a row": (
        lambda rec: rec["ballots"].__setitem__(1, _forged_ballot(rec)),
        "ballot 2: ballot row 1: the row does not provably sum to 1",
    ),
    "ballot of 1, 1, -1 in a row (the last option not 0 or 1)": (
        lambda rec: rec["ballots"].__setitem__(1, _minus_one_last(rec)),
        "ballot 2: ballot row 1 option 3: 0/1 proof fails",
    ),
    "ballot's last option changed": (
        _set(["ballots", 2], _last_option_changed),
        "ballot 3: ballot row 1 option 3: 0/1 proof fails",
    ),
    "ballot removed": (lambda rec: rec["ballots"].pop(4), "trackers"),
    "ballot duplicated": (lambda rec: rec["ballots"].append(rec["ballots"][0]), "twice"),
    "ballots reordered": (lambda rec: rec["ballots"].reverse(), "tracker order"),
    "tracker list": (_set(["trackers", 0], _hexbump), "trackers"),
    "box digest": (_set(["box_digest"], _hexbump), "box digest"),
    "tally ciphertext": (_set(["tally", "rows", 0, 1, 1], G), "tally"),
    "tally count": (_set(["tally", "count"], 7), "tally"),
    "partial value": (
        _set(["partial_decryptions", 0, "rows", 1, 0, 0], G2),
        "member 1, row 2 option 1: proof fails",
    ),
    "partial proof": (
        _set(["partial_decryptions", 1, "rows", 0, 1, 2], _hexbump),
        "member 3, row 1 option 2",
    ),
    "partial relabelled": (_set(["partial_decryptions", 1, "member"], 2), "member 2"),
    "partial missing": (lambda rec: rec["partial_decryptions"].pop(), "cannot be decrypted"),
    "totals": (_set(["totals", 1], [3, 3]), "totals: the record says"),
    "identity point": (
        _set(["committee", "members", 2, "share_key"], bytes(32).hex()),
        "identity",
    ),
    "non-canonical point": (
        _set(["committee", "public_key"], group.GENERATOR[:31].hex() + "f6"),
        "joint public key",
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_each_mutation_of_the_record_is_refused(name: str) -> None:
    mutate, expected = MUTATIONS[name]
    rec = copy.deepcopy(record())
    mutate(rec)
    problems = verify_record(rec)
    assert problems, name
    assert any(expected in problem for problem in problems), problems


def test_a_single_member_record_verifies_and_says_so() -> None:
    public, keys = committee(1, 1)
    context = ROUND.context
    ballots = [
        seal_ballot(public.public_key, context, list(v), list(ROUND.options)).to_bytes()
        for v in VOTES
    ]
    tally = aggregate(public.public_key, context, ballots, ROUND.options)
    rec = make_record(ROUND, public, ballots, [partial_decrypt(keys[0], public, context, tally)])
    assert verify_record(json.loads(json.dumps(rec))) == []
    assert rec["committee"]["mode"] == "single"  # type: ignore[index]
    assert rec["totals"] == EXPECTED


def test_an_empty_box_verifies_with_zero_totals() -> None:
    public, keys = committee(2, 3)
    tally = aggregate(public.public_key, ROUND.context, [], ROUND.options)
    partials = [partial_decrypt(key, public, ROUND.context, tally) for key in keys[:2]]
    rec = json.loads(json.dumps(make_record(ROUND, public, [], partials)))
    assert verify_record(rec) == []
    assert rec["totals"] == [[0, 0, 0], [0, 0]]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += _paths(item, (*prefix, index))
    return found


JUNK: list[Any] = [None, 0, -1, True, "", "zz", "00", [], {}, [None], 2**300, 1.5, G]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_junk_anywhere_gives_problems_not_a_traceback(data: st.DataObject) -> None:
    # Three ballots: _paths reaches the first three items of each list, so every path of the
    # six-ballot record is here too, and each full check costs half.
    rec = copy.deepcopy(record(3))
    path = data.draw(st.sampled_from(_paths(rec)))
    junk = data.draw(st.sampled_from(JUNK))
    target = rec
    for key in path[:-1]:
        target = target[key]
    if target[path[-1]] == junk:
        return
    target[path[-1]] = junk
    problems = verify_record(rec)
    assert problems, (path, junk)
    assert all(isinstance(problem, str) for problem in problems)


def test_a_record_that_is_not_an_object_is_refused() -> None:
    for junk in ([], "record", None, 3):
        assert verify_record(junk) == ["record: expected a JSON object"]  # type: ignore[arg-type]
