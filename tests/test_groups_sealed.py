"""Voter groups with sealed ballots: each group's sealed box is aggregated and decrypted on its
own, as soon as it closes; a group's result is its paper ballots counted in the clear plus
its decrypted online totals, the combined result the sum over groups. A group too small to
be shown alone is never shown, not even through its decrypted totals.

Every expected value below is counted by hand from the ballots listed in the test.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests import web_fixtures
from tests.factories import (
    MEMBER_KEYS,
    add_committee,
    add_test_body,
    decrypt_round,
    paper_csv,
    person,
    work,
)
from tests.web_fixtures import World, csrf_token
from votes import operations, sealed
from votes.bundle import export_round
from votes.committee import by_group, get_key, pending_groups
from votes.errors import VotesError
from votes.models import Round
from votes.recount import canonical, check_bundle
from votes.results import round_results
from votes.verify import verify_round

SECRET = "test-secret-key-for-groups-sealed"
ROSTER = [person("Nguyễn Văn An", "Bí thư", "a"), person("Trần Thị Bình", "Phó Bí thư", "b")]

# (name, members, paper ballots, online ballots) per group; each ballot is (item a, item b).
# Group 1 decides; groups 3 and 4 are under the minimum of 5 (2 and 3 members): hidden, and
# together they hold 5 ballots from two groups, so no other group has to shield them.
GROUPS: list[tuple[str, int, list[str], list[str]]] = [
    ("Ban Chấp hành", 6, [], ["LH", "LH", "LC", "HC", "HC", "CL"]),
    ("Trưởng các phòng", 6, ["HH", "CL"], ["LL", "LH", "HH", "CC"]),
    ("Cán bộ hưu trí", 2, [], ["LL", "LL"]),
    ("Đoàn thể", 3, [], ["HL", "CL", "LL"]),
]


def counts(high: int, confidence: int, low: int) -> dict[str, int]:
    return {"high": high, "confidence": confidence, "low": low, "invalid": 0}


def items_of(part: dict[str, Any]) -> dict[str, tuple[dict[str, int], dict[str, str | None]]]:
    return {item["person_key"]: (item["counts"], item["percent"]) for item in part["items"]}


def sealed_groups_round(
    session: Session,
    body_code: str,
    groups: list[tuple[str, int, list[str], list[str]]] = GROUPS,
) -> tuple[Round, list[str]]:
    """Open a round of the four GROUPS, cast and import their ballots; return it with a log
    of the states seen (each group closed, then decrypted, in turn)."""
    add_test_body(session, body_code, kind="party")
    task = work(session)
    name, members, _paper, _online = groups[0]
    round_ = operations.create_round(
        task,
        body_code=body_code,
        year=2024,
        profile_id="tn-16kh-2012",
        title="Lấy phiếu tín nhiệm mở rộng, phiếu trực tuyến niêm phong",
        roster=list(ROSTER),
        members=members,
        summoned=members,
        present=members,
    )
    for name, members, _paper, _online in groups[1:]:
        operations.add_group(
            task, round_.id, name, members=members, summoned=members, present=members
        )
    add_committee(session, round_.id)
    codes = {
        number: operations.issue_codes(task, round_.id, len(online), SECRET, group=number)
        for number, (_n, _m, _p, online) in enumerate(groups, start=1)
    }
    operations.open_round(task, round_.id)
    for number, (_n, _m, paper, _online) in enumerate(groups, start=1):
        if paper:
            operations.import_paper_ballots(
                task, round_.id, paper_csv(paper), issued=len(paper), group=number
            )
    session.commit()
    for number, (_n, _m, _p, online) in enumerate(groups, start=1):
        for code, marks in zip(codes[number], online, strict=True):
            operations.cast_ballot(session, SECRET, code, list(marks), round_id=round_.id)
    states = []
    for number in range(1, len(groups) + 1):
        operations.close_round(work(session), round_.id, number)
        session.commit()
        key = get_key(session, round_.id)
        assert key is not None
        states.append(f"{number} closed: {round_.status}, awaiting {pending_groups(key)}")
        decrypt_round(session, round_.id)
        session.commit()
        session.refresh(round_)
        states.append(f"{number} decrypted: {round_.status}")
        if number < len(groups):
            with pytest.raises(VotesError):  # no result while any group votes
                round_results(session, round_)
    return round_, states


def test_each_group_is_decrypted_after_its_own_close(session: Session) -> None:
    round_, states = sealed_groups_round(session, "TU-GS1")
    assert states == [
        "1 closed: open, awaiting [1]",
        "1 decrypted: open",
        "2 closed: open, awaiting [2]",
        "2 decrypted: open",
        "3 closed: open, awaiting [3]",
        "3 decrypted: open",
        "4 closed: decrypting, awaiting [4]",
        "4 decrypted: closed",
    ]
    key = get_key(session, round_.id)
    assert key is not None
    # The server keeps the decrypted totals per group (by hand from GROUPS' online ballots).
    totals = by_group(key.totals)
    assert sorted(totals) == ["1", "2", "3", "4"]
    assert totals["1"][0] == {"high": 2, "confidence": 1, "low": 3}
    assert totals["2"][0] == {"high": 1, "confidence": 1, "low": 2}
    assert totals["2"][1] == {"high": 2, "confidence": 1, "low": 1}


def test_counts_per_group_and_combined(session: Session) -> None:
    round_, _states = sealed_groups_round(session, "TU-GS2")
    result = round_results(session, round_, small_minimum=5)
    one, two, three, four = result["groups"]
    # Group 1, 6 online: a L,L,L,H,H,C; b H,H,C,C,C,L.
    assert one["ballots"] == {"issued": 6, "collected": 6, "valid": 6, "invalid": 0}
    assert items_of(one)["a"] == (
        counts(2, 1, 3),
        {"high": "33.33", "confidence": "16.67", "low": "50.00"},
    )
    assert items_of(one)["b"][0] == counts(2, 3, 1)
    # Group 2: paper HH, CL (in the clear) + online LL, LH, HH, CC (decrypted).
    assert two["ballots"] == {"issued": 6, "collected": 6, "valid": 6, "invalid": 0}
    assert items_of(two)["a"][0] == counts(2, 2, 2)
    assert items_of(two)["b"][0] == counts(3, 1, 2)
    # The deciding result is group 1's: its findings only (a: 3 of 6 low is not over half).
    assert result["items"][0]["counts"] == counts(2, 1, 3)
    # Groups 3 and 4 are too small: shown nowhere alone.
    for hidden in (three, four):
        assert hidden["hidden_small"] is True
        assert "items" not in hidden
        assert "ballots" not in hidden
        assert "sealed" not in hidden
    # Combined, 17 ballots: a H 2+2+0+1, C 1+2+0+1, L 3+2+2+1; b H 2+3, C 3+1, L 1+2+2+3.
    combined = result["combined"]
    assert combined["ballots"]["collected"] == 17
    assert items_of(combined)["a"] == (
        counts(5, 4, 8),
        {"high": "29.41", "confidence": "23.53", "low": "47.06"},
    )
    assert items_of(combined)["b"][0] == counts(5, 4, 8)
    assert verify_round(session, round_).problems == []


def bundle_files(session: Session, round_: Round) -> dict[str, bytes]:
    data = export_round(session, round_, small_minimum=5)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


def test_hidden_groups_sealed_totals_are_never_shown_and_the_bundle_verifies(
    session: Session,
) -> None:
    round_, _states = sealed_groups_round(session, "TU-GS3")
    key = get_key(session, round_.id)
    assert key is not None
    hidden_totals = [canonical(by_group(key.totals)[n]) for n in ("3", "4")]
    files = bundle_files(session, round_)
    record = json.loads(files["sealed_record.json"])
    entries = {entry["number"]: entry for entry in record["groups"]}
    assert sorted(entries) == [1, 2, 3, 4]
    for number in (3, 4):
        assert entries[number]["hidden_small"] is True
        assert "totals" not in entries[number]["record"]
        assert "partial_decryptions" not in entries[number]["record"]
    for number in (1, 2):
        assert "partial_decryptions" in entries[number]["record"]
    # Groups 3 and 4 together only: a L 2+1, b L 2+3 (the combined less groups 1 and 2).
    assert record["hidden_totals"] == [[1, 1, 3], [0, 0, 5]]
    # Neither hidden group's totals in any file of the bundle, nor in the log.
    for name, data in files.items():
        if name.endswith(".json") or name.endswith(".jsonl"):
            for text in hidden_totals:
                assert text.encode() not in data, name
    decrypted = [
        json.loads(line)
        for line in files["events.jsonl"].decode().splitlines()
        if '"totals_decrypted"' in line
    ]
    assert len(decrypted) == 4
    assert all("totals" not in event["details"] for event in decrypted)
    # Each group's box digest is part of the seal (round.json's groups).
    definition = json.loads(files["round.json"])
    for group in definition["groups"]:
        assert group["box_digest"] == entries[group["number"]]["record"]["box_digest"]
    problems, checked = check_bundle(files)
    assert problems == []
    said = [line[0].format(**line[1]) for line in checked]
    # With hidden groups there is no per-group ballot file (the groups' rule): the shown
    # groups' sealed records are checked, and the combined result recounted from the paper
    # ballots, groups 1 and 2's decrypted totals and the hidden groups' sum.
    assert any("17 ballots recounted" in line for line in said), said
    assert any("15 sealed ballots" in line for line in said), said
    assert any("Voter group 3 is too small" in line for line in said), said


def test_a_groups_decrypted_totals_changed_in_the_database_are_caught(session: Session) -> None:
    round_, _states = sealed_groups_round(session, "TU-GS4")
    key = get_key(session, round_.id)
    assert key is not None
    totals = by_group(key.totals)
    # One low mark of group 2's online ballots for person a becomes a high one.
    totals["2"][0] = {"high": 2, "confidence": 1, "low": 1}
    key.totals = canonical(totals)
    session.commit()
    problems = verify_round(session, round_).problems
    assert any("sealed tally" in p.msgid for p in problems)
    # The bundle made from the changed database does not verify either: its results no
    # longer agree with the decryption that the partial decryptions prove.
    files = bundle_files(session, round_)
    problems, _checked = check_bundle(files)
    assert problems


def test_a_hidden_groups_sealed_ballot_removed_is_caught_by_the_bundle(
    session: Session,
) -> None:
    round_, _states = sealed_groups_round(session, "TU-GS5")
    files = bundle_files(session, round_)
    record = json.loads(files["sealed_record.json"])
    entry = next(e for e in record["groups"] if e["number"] == 4)
    entry["record"]["ballots"].pop()
    entry["record"]["trackers"].pop()
    files["sealed_record.json"] = json.dumps(record).encode()
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(v).hexdigest()}  {k}\n"
        for k, v in sorted(files.items())
        if k != "SHA256SUMS"
    ).encode()
    problems, _checked = check_bundle(files)
    assert problems


def test_a_bundle_with_every_group_shown_recounts_each_group_with_its_sealed_totals(
    session: Session,
) -> None:
    round_, _states = sealed_groups_round(session, "TU-GS6", GROUPS[:2])
    files = bundle_files(session, round_)
    assert "group_ballots.csv" in files
    problems, checked = check_bundle(files)
    assert problems == []
    said = [line[0].format(**line[1]) for line in checked]
    # Group 2: 2 paper ballots in group_ballots.csv and 4 sealed ones, decrypted.
    assert any("Voter group 2: 6 ballots recounted" in line for line in said), said
    # One group's sealed totals changed in the record: verify.py names it.
    record = json.loads(files["sealed_record.json"])
    record["groups"][1]["record"]["totals"][0] = [2, 1, 1]
    files["sealed_record.json"] = json.dumps(record).encode()
    files["SHA256SUMS"] = "".join(
        f"{hashlib.sha256(v).hexdigest()}  {k}\n"
        for k, v in sorted(files.items())
        if k != "SHA256SUMS"
    ).encode()
    problems, _checked = check_bundle(files)
    said = [line[0].format(**line[1]) for line in problems]
    assert any("voter group 2" in line for line in said), said


world = web_fixtures.world  # the fixture, under its own name


def test_a_group_closed_early_is_decrypted_through_the_round_page(world: World) -> None:
    """The organizer closes group 2 while group 1 votes; the page offers its encrypted totals,
    the member's partial decryption is received there, and the group is decrypted."""
    round_id = world.ids["draft"]  # a committee of one, 3 codes for group 1
    secret = world.app.config["SECRET_KEY"]
    with operations.work(world.sessions, "setup") as task:
        operations.add_group(task, round_id, "Trưởng các phòng", members=5, summoned=5, present=5)
        codes = operations.issue_codes(task, round_id, 2, secret, group=2)
        operations.open_round(task, round_id)
    with world.sessions() as session:
        for code in codes:
            operations.cast_ballot(session, secret, code, ["H", "C", "L"], round_id=round_id)
    client = world.client("organizer")
    page = client.get(f"/admin/rounds/{round_id}").get_data(as_text=True)
    closed = client.post(
        f"/admin/rounds/{round_id}/groups/2/close",
        data={"csrf_token": csrf_token(page)},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert 'data-testid="groups-awaiting-decryption"' in closed
    document = json.loads(client.get(f"/admin/rounds/{round_id}/totals.json").data)
    assert [(g["number"], g["ballots"]) for g in document["groups"]] == [(2, 2)]
    ceremony = document["ceremony"]
    (key,) = MEMBER_KEYS[ceremony]
    partial = sealed.partial_decrypt(
        key,
        sealed.Committee.from_dict(document["committee"]),
        sealed.RoundParameters.from_dict(document["parameters"]).context,
        sealed.EncryptedTally.from_dict(document["groups"][0]["totals"]),
    )
    answer = {
        "format": document["format"],
        "kind": "partial_decryption",
        "context": document["context"],
        "context_digest": document["context_digest"],
        "ceremony": ceremony,
        "member": key.index,
        "payload": {"groups": {"2": partial.to_dict()}},
    }
    received = client.post(
        f"/admin/rounds/{round_id}/committee/upload",
        data={
            "csrf_token": csrf_token(closed),
            "committee_file": (io.BytesIO(json.dumps(answer).encode()), "partial.json"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    ).get_data(as_text=True)
    assert 'data-testid="groups-awaiting-decryption"' not in received
    with world.sessions() as session:
        key_row = get_key(session, round_id)
        assert key_row is not None
        # Group 2's totals (2 × H, C, L), found while group 1 still votes; never shown yet.
        assert by_group(key_row.totals)["2"][0] == {"high": 2, "confidence": 0, "low": 0}
        round_ = session.get(Round, round_id)
        assert round_ is not None
        assert round_.status == "open"
    assert client.get(f"/admin/rounds/{round_id}/results").status_code == 409
