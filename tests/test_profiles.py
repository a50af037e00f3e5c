"""Rule profiles (votes/profiles): built-ins, custom files, versions, quorum (DOMAIN.md §2, §5)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import VotesRunner
from tests.factories import (
    add_test_body,
    counted_round,
    person,
    rated,
    work,
    year_in_force,
)
from votes import operations, rounds
from votes.errors import CountError
from votes.models import Round, StoredProfile
from votes.profiles import (
    BUILTIN,
    ProfileError,
    add_profile,
    all_profiles,
    get_profile,
    parse_profile,
)
from votes.results import round_results

# DOMAIN.md §5, by hand: basis of D, invalid-mark scope, quorum, bands in order, the band of
# "two years in a row" (or None), and a phrase of each band's Vietnamese consequence.
BUILTIN_TABLE = {
    "tn-16kh-2012": (
        "collected",
        "row",
        "none",
        "over_half",
        {
            "over_half": "Tín nhiệm thấp trong năm",
        },
    ),
    "qd262-2014": (
        "collected",
        "ballot",
        "none",
        None,
        {
            "over_half": "không quy hoạch vào chức vụ cao hơn",
        },
    ),
    "qd96-2023": (
        "collected",
        "ballot",
        "two_thirds_of_summoned",
        None,
        {
            "over_half_under_two_thirds": "tiến hành bỏ phiếu tín nhiệm",
            "two_thirds_or_more": "cho thôi giữ chức vụ",
        },
    ),
    "nq35-2012": (
        "members",
        "row",
        "none",
        "over_half",
        {
            "over_half": "có thể xin từ chức",
            "over_two_thirds": "trình bỏ phiếu tín nhiệm",
        },
    ),
    "nq85-2014": (
        "members",
        "row",
        "none",
        None,
        {
            "over_half": "có thể xin từ chức",
            "two_thirds_or_more": "trình bỏ phiếu tín nhiệm",
        },
    ),
    "nq96-2023": (
        "collected",
        "row",
        "none",
        None,
        {
            "over_half_under_two_thirds": "nếu không xin từ chức thì trình bỏ phiếu tín nhiệm",
            "two_thirds_or_more": "trình miễn nhiệm",
        },
    ),
    # QĐ 165-QĐ/TW (2013): the thresholds are those of Kế hoạch 16-KH/TU, marked not verified.
    "qd165-2013": (
        "collected",
        "row",
        "none",
        "over_half",
        {
            "over_half": "Tín nhiệm thấp trong năm",
        },
    ),
}
# The newest version of each built-in profile (version 2: issue 14's time rules and texts;
# the Party profiles' next version: issue 15's default deciding group, the executive's).
PARTY = ("tn-16kh-2012", "qd262-2014", "qd96-2023")
NEWEST = {pid: 2 for pid in BUILTIN_TABLE} | dict.fromkeys(PARTY, 3) | {"qd165-2013": 2}
# The consequences that call for a vote of confidence (DOMAIN.md §5 and §8), by hand.
CALLS_FOR_VOTE = {
    "tn-16kh-2012": set(),
    "qd262-2014": set(),
    "qd96-2023": {"over_half_under_two_thirds"},
    "nq35-2012": {"over_two_thirds", "consecutive_years"},
    "nq85-2014": {"two_thirds_or_more"},
    "nq96-2023": {"over_half_under_two_thirds"},
    "qd165-2013": set(),
}


@pytest.mark.parametrize("profile_id", sorted(BUILTIN_TABLE))
def test_every_builtin_profile_loads(profile_id: str) -> None:
    basis, scope, quorum, consecutive, bands = BUILTIN_TABLE[profile_id]
    profile = get_profile(None, profile_id)
    assert (profile.id, profile.version, profile.builtin) == (
        profile_id,
        NEWEST[profile_id],
        True,
    )
    assert (profile.denominator, profile.invalid_marks, profile.quorum) == (basis, scope, quorum)
    assert profile.vote_denominator == basis
    assert [band.id for band in profile.bands] == list(bands)
    for band in profile.bands:
        assert bands[band.id] in band.consequence.vi
        assert band.consequence.en.strip()
    assert (profile.consecutive_years and profile.consecutive_years.band) == consecutive
    if profile.consecutive_years is not None:
        assert profile.consecutive_years.years == 2
        assert "Hai năm liền" in profile.consecutive_years.consequence.vi
        assert "two years in a row" in profile.consecutive_years.consequence.en
    assert profile.vote_consequence.vi.startswith("Quá nửa")
    assert profile.vote_consequence.en.startswith("More than half")
    assert profile.name.vi
    assert profile.name.en
    calls = {b.id for b in profile.bands if b.followup_vote}
    if profile.consecutive_years and profile.consecutive_years.followup_vote:
        calls.add("consecutive_years")
    assert calls == CALLS_FOR_VOTE[profile_id]
    # Every exemption has its text in both languages.
    assert profile.exemptions
    assert all(text.vi and text.en for _, text in profile.exemptions)


def test_there_are_exactly_the_builtin_profiles() -> None:
    """Seven regulations; every one but QĐ 165 in version 1 (as first shipped) and 2."""
    assert sorted(BUILTIN) == sorted(
        (pid, version) for pid, newest in NEWEST.items() for version in range(1, newest + 1)
    )


def test_profiles_list(votes: VotesRunner) -> None:
    out = votes("profiles", "list")
    assert out.exit_code == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert [(r[0], r[1]) for r in rows] == sorted(
        (pid, str(version)) for pid, newest in NEWEST.items() for version in range(1, newest + 1)
    )


def test_profiles_show(votes: VotesRunner) -> None:
    out = votes("profiles", "show", "qd96-2023")
    assert out.exit_code == 0, out.stderr
    shown = json.loads(out.stdout)
    assert shown["id"] == "qd96-2023"
    assert shown["version"] == 3
    assert shown["deciding_group"] == "executive"
    assert shown["quorum"] == {
        "rule": "two_thirds_of_summoned",
        "vi": "Số người có mặt phải từ hai phần ba số người được triệu tập trở lên",
        "en": "At least two thirds of those summoned must be present",
    }
    assert shown["denominator"]["basis"] == "collected"
    assert shown["invalid_marks"] == "ballot"
    assert [(b["id"], b["rule"]) for b in shown["bands"]] == [
        ("over_half_under_two_thirds", "low*2 > D and low*3 < 2*D"),
        ("two_thirds_or_more", "low*3 >= 2*D"),
    ]
    assert all(set(b["consequence"]) == {"vi", "en"} for b in shown["bands"])
    assert shown["confidence_vote"]["rule"] == "no_trust*2 > D"

    out = votes("profiles", "show", "no-such-profile")
    assert out.exit_code != 0
    assert len(out.stderr.strip().splitlines()) == 1


# The exact text of each built-in profile version. A round stores only (id, version): changing
# a shipped file without adding a new version would change old results. Add a new version.
BUILTIN_SHA256 = {
    ("nq35-2012", 1): "e6428b08b44a4d932aa8b14095b53236755f7d71e5f28130d3c2f999f265fc83",
    ("nq35-2012", 2): "f6ab40268a0438cfebc7d8aac4b77697ef0eac47e86444fb4b862255c0fd7fff",
    ("nq85-2014", 1): "ea0c215501ab1c954bc3315eba2ef3e51b64f98015db3a651b7944087d894d78",
    ("nq85-2014", 2): "c4e13569859e3d4aa67ac946320d3a22f801f9f772ea4f8456e7d0e9e912f2ba",
    ("nq96-2023", 1): "9b1ff93292b523245c8fcde60ac2d985a6d36c31d288b87d47216622241c8b6e",
    ("nq96-2023", 2): "864f44dbd97927ad3fae8b4216215417dec5bfc8a36d5712cec1a2a0d50eddf1",
    ("qd165-2013", 1): "9f1754c2c0c5d111537849ee35a959c84fd096337a21ddce0c24576f107080f7",
    ("qd165-2013", 2): "f65d2f8cd8c590149cc490a233a6ce7b64e96781c4db4295db060e1473f7eac6",
    ("qd262-2014", 3): "4aaac73d6d6e4b7f74cc22066c95c2634c53ceef229882c28c3cd3dc222c5cd2",
    ("qd96-2023", 3): "73a2a817f7f13a22c7f0713ac670124a767abc67b20e51caba90bd5364d9f919",
    ("tn-16kh-2012", 3): "564dca1320666d23ba55254c978ba3c5eeae389b884e81a5bf11fcd3f87d57cc",
    ("qd262-2014", 1): "23b7fc76efa03f0fcfe6bb249670aaf642d08e3e4a8d0ab98cf5d42fe031d6f1",
    ("qd262-2014", 2): "f46861c01decb58ebed47e4489500ad397c1d8061749f6c48d6bd42eff445bc7",
    ("qd96-2023", 1): "bf498669330332d5783e1e985c2f5eae01cc8646d4d016d3e1d2ea80b136f636",
    ("qd96-2023", 2): "ba92aea211b64e8dc97b40124d429682687a9da607440ee62250c1b001cba95a",
    ("tn-16kh-2012", 1): "e43213293772b0025c05259709aa5e8f66fc1598802562c84ec659e10364c8c4",
    ("tn-16kh-2012", 2): "b6bc89459eb265baedad14d53388a22c76899911c06d0150fcd5dca4b3cbc08b",
}


def test_a_builtin_version_is_never_edited() -> None:
    assert {
        key: hashlib.sha256(profile.source.encode("utf-8")).hexdigest()
        for key, profile in BUILTIN.items()
    } == BUILTIN_SHA256


# ---------------------------------------------------------------------------- custom profiles

CUSTOM = """\
id = "tu-x-2025"
version = 1
name = "Quy định lấy phiếu tín nhiệm của Tỉnh ủy X"
name_en = "Province X Party committee's confidence poll rule"
body_kinds = ["party"]
frequency = "annual"
denominator = "collected"
invalid_marks = "row"
quorum = "two_thirds_of_summoned"

[[bands]]
id = "over_half"
consequence.vi = "Có quá nửa số phiếu tín nhiệm thấp: xem xét, cho thôi giữ chức vụ"
consequence.en = "More than half rate the person low: consider relieving from post"

[consecutive_years]
band = "over_half"
years = 2
followup_vote = true
consequence.vi = "Hai năm liền tín nhiệm thấp: tiến hành bỏ phiếu tín nhiệm"
consequence.en = "Low confidence two years in a row: a vote of confidence is held"

[confidence_vote]
consequence.vi = "Quá nửa số phiếu không tín nhiệm: cho thôi giữ chức vụ"
consequence.en = "More than half vote no confidence: relieved from post"

[[exemptions]]
id = "illness"
vi = "Nghỉ ốm từ 6 tháng trở lên"
en = "Sick leave of six months or more"
"""


def write(tmp_path: Path, text: str, name: str = "profile.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_add_a_custom_profile_and_use_it(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    out = votes("profiles", "add", write(tmp_path, CUSTOM))
    assert out.exit_code == 0, out.stderr
    assert "tu-x-2025" in out.stdout

    out = votes("profiles", "list")
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert ("tu-x-2025", "1") in [(r[0], r[1]) for r in rows]
    assert len(rows) == len(BUILTIN) + 1

    shown = json.loads(votes("profiles", "show", "tu-x-2025").stdout)
    assert shown["builtin"] is False
    assert shown["consecutive_years"]["band"] == "over_half"
    assert shown["exemptions"] == [
        {
            "id": "illness",
            "vi": "Nghỉ ốm từ 6 tháng trở lên",
            "en": "Sick leave of six months or more",
        },
    ]

    assert votes("body", "add", "TU-X", "Tỉnh ủy X", "--kind", "party").exit_code == 0
    roster = write(tmp_path, "name,position\nNguyễn Văn A,Bí thư\n", "roster.csv")
    out = votes(
        "round",
        "create",
        "--body",
        "TU-X",
        "--year",
        2025,
        "--profile",
        "tu-x-2025",
        "--title",
        "Lấy phiếu 2025",
        "--members",
        40,
        "--summoned",
        40,
        "--present",
        30,
        "--roster",
        roster,
    )
    assert out.exit_code == 0, out.stderr
    round_id = int(out.last_line)
    stored = session.get(Round, round_id)
    assert stored is not None
    assert (stored.profile_id, stored.profile_version) == ("tu-x-2025", 1)
    assert "tu-x-2025@1" in votes("round", "list").stdout


# (what to change in CUSTOM, a word the one-line error must contain)
BROKEN_PROFILES = {
    "unknown basis": (('denominator = "collected"', 'denominator = "deputies"'), "deputies"),
    "unknown band": (('id = "over_half"', 'id = "over_a_half"'), "over_a_half"),
    "unordered bands": (
        (
            "[consecutive_years]",
            '[[bands]]\nid = "over_half_under_two_thirds"\n'
            'consequence.vi = "x"\nconsequence.en = "y"\n\n[consecutive_years]',
        ),
        "overlap",
    ),
    "missing Vietnamese consequence": (
        (
            'consequence.vi = "Có quá nửa số phiếu tín nhiệm thấp: '
            'xem xét, cho thôi giữ chức vụ"\n',
            "",
        ),
        "Vietnamese",
    ),
    "empty Vietnamese consequence": (
        (
            'consequence.vi = "Có quá nửa số phiếu tín nhiệm thấp: xem xét, cho thôi giữ chức vụ"',
            'consequence.vi = "  "',
        ),
        "Vietnamese",
    ),
    "invalid TOML": (("version = 1", "version = = 1"), "TOML"),
    "misspelt key": (("[consecutive_years]", "[consecutive_year]"), "consecutive_year"),
    "misspelt band key": (("followup_vote = true", "followup_votes = true"), "followup_votes"),
    "years in a row of 1": (("years = 2", "years = 1"), "2 or more"),
    "band of the rule not in the profile": (
        ('band = "over_half"', 'band = "two_thirds_or_more"'),
        "consecutive_years",
    ),
    "rule band not a text": (('band = "over_half"', 'band = ["over_half"]'), "consecutive_years"),
    "unknown quorum": (('quorum = "two_thirds_of_summoned"', 'quorum = "half"'), "quorum"),
    "unknown frequency": (('frequency = "annual"', 'frequency = "weekly"'), "frequency"),
    "exemptions not a list": (
        (
            '[[exemptions]]\nid = "illness"\nvi = "Nghỉ ốm từ 6 tháng trở lên"\n'
            'en = "Sick leave of six months or more"\n',
            "exemptions = 3\n",
        ),
        "exemptions",
    ),
    "id with spaces": (('id = "tu-x-2025"', 'id = "tu x 2025"'), "id"),
    "no version": (("version = 1\n", ""), "version"),
    "missing vote consequence": (
        (
            '[confidence_vote]\nconsequence.vi = "Quá nửa số phiếu không tín nhiệm: cho thôi giữ '
            'chức vụ"\nconsequence.en = "More than half vote no confidence: relieved from post"\n',
            "",
        ),
        "confidence_vote",
    ),
}


def test_the_broken_profiles_start_from_a_valid_one() -> None:
    profile = parse_profile(CUSTOM)
    assert (profile.id, profile.version) == ("tu-x-2025", 1)
    assert profile.quorum == "two_thirds_of_summoned"


@pytest.mark.parametrize("case", sorted(BROKEN_PROFILES))
def test_broken_profiles_are_refused(case: str) -> None:
    (old, new), word = BROKEN_PROFILES[case]
    assert old in CUSTOM, case
    with pytest.raises(ProfileError, match=word):
        parse_profile(CUSTOM.replace(old, new, 1))


@pytest.mark.parametrize(
    "case",
    [
        "unknown basis",
        "unknown band",
        "unordered bands",
        "missing Vietnamese consequence",
        "invalid TOML",
        "misspelt key",
        "rule band not a text",
        "exemptions not a list",
    ],
)
def test_broken_profiles_are_refused_by_the_command(
    votes: VotesRunner, tmp_path: Path, case: str
) -> None:
    (old, new), word = BROKEN_PROFILES[case]
    broken = CUSTOM.replace(old, new, 1)
    out = votes("profiles", "add", write(tmp_path, broken))
    assert out.exit_code != 0
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    with pytest.raises(ProfileError, match=word) as refused:
        parse_profile(broken)
    # The same refusal, in Vietnamese: no English word of the message is left in it.
    assert lines[0] == "Lỗi: " + refused.value.message("vi")
    assert "Traceback" not in out.stderr
    assert "Unexpected" not in out.stderr
    assert "tu-x-2025" not in votes("profiles", "list").stdout


@pytest.mark.parametrize(
    ("bands", "word"),
    [
        (("two_thirds_or_more", "over_half"), "not in order"),
        (("over_two_thirds", "two_thirds_or_more"), "not in order"),
        (("over_half", "over_half_under_two_thirds"), "overlap"),
        (("over_half_under_two_thirds", "over_half"), "overlap"),
        (("over_half", "over_half"), "twice"),
    ],
)
def test_band_order_and_overlap(bands: tuple[str, ...], word: str) -> None:
    text = (
        CUSTOM.split("[[bands]]")[0]
        + "".join(
            f'[[bands]]\nid = "{band}"\nconsequence.vi = "hậu quả"\n'
            'consequence.en = "consequence"\n\n'
            for band in bands
        )
        + '[confidence_vote]\nconsequence.vi = "a"\nconsequence.en = "b"\n'
    )
    with pytest.raises(ProfileError, match=word):
        parse_profile(text)


@pytest.mark.parametrize(
    "bands",
    [
        ("over_half", "two_thirds_or_more"),
        ("over_half", "over_two_thirds"),
        ("over_half_under_two_thirds", "two_thirds_or_more"),
        ("over_half_under_two_thirds", "over_two_thirds"),
        ("two_thirds_or_more", "over_two_thirds"),
        ("over_half", "two_thirds_or_more", "over_two_thirds"),
    ],
)
def test_nested_or_adjacent_bands_are_accepted(bands: tuple[str, ...]) -> None:
    text = (
        CUSTOM.split("[[bands]]")[0]
        + "".join(
            f'[[bands]]\nid = "{band}"\nconsequence.vi = "hậu quả"\n'
            'consequence.en = "consequence"\n\n'
            for band in bands
        )
        + '[confidence_vote]\nconsequence.vi = "a"\nconsequence.en = "b"\n'
    )
    assert [b.id for b in parse_profile(text).bands] == list(bands)


def test_an_existing_version_is_never_changed(votes: VotesRunner, tmp_path: Path) -> None:
    assert votes("profiles", "add", write(tmp_path, CUSTOM)).exit_code == 0
    changed = CUSTOM.replace("xem xét, cho thôi giữ chức vụ", "cách chức")
    out = votes("profiles", "add", write(tmp_path, changed))
    assert out.exit_code != 0
    assert len(out.stderr.strip().splitlines()) == 1
    assert "đã có" in out.stderr
    assert "phiên bản 2" in out.stderr
    # A built-in profile cannot be replaced either.
    builtin = BUILTIN[("nq35-2012", 1)].source
    out = votes("profiles", "add", write(tmp_path, builtin, "nq35.toml"))
    assert out.exit_code != 0
    assert "phiên bản 3" in out.stderr  # versions 1 and 2 are built in


def test_an_older_version_cannot_follow_a_newer_one(session: Session) -> None:
    add_profile(session, CUSTOM.replace("version = 1", "version = 3"))
    with pytest.raises(ProfileError, match="older"):
        add_profile(session, CUSTOM.replace("version = 1", "version = 2"))


def test_a_counted_round_keeps_its_version(session: Session) -> None:
    """A round counted under version 1 keeps its result after version 2 is added."""
    add_profile(session, CUSTOM)
    body = add_test_body(session, code="TU-X", kind="party")
    old = counted_round(
        session,
        body,
        year=2024,
        profile_id="tu-x-2025",
        roster=[person("A"), person("B")],
        columns=[rated(11, 20), rated(4, 20)],
        members=30,
        summoned=30,
        present=20,
    )
    before = round_results(session, old)
    assert before["denominator"] == {"basis": "collected", "value": 20}
    assert [len(item["findings"]) for item in before["items"]] == [1, 0]

    # Version 2 counts on all members and flags from two thirds.
    v2 = (
        CUSTOM.replace("version = 1", "version = 2")
        .replace('denominator = "collected"', 'denominator = "members"')
        .replace('id = "over_half"', 'id = "two_thirds_or_more"')
        .replace('band = "over_half"', 'band = "two_thirds_or_more"')
    )
    add_profile(session, v2)
    assert get_profile(session, "tu-x-2025").version == 2
    assert sorted(v for (pid, v) in all_profiles(session) if pid == "tu-x-2025") == [1, 2]

    session.expire_all()
    assert round_results(session, old) == before
    new = counted_round(
        session,
        body,
        year=2025,
        profile_id="tu-x-2025",
        roster=[person("A"), person("B")],
        columns=[rated(11, 20), rated(4, 20)],
        members=30,
        summoned=30,
        present=20,
    )
    assert (new.profile_id, new.profile_version) == ("tu-x-2025", 2)
    after = round_results(session, new)
    assert after["round"]["profile"]["version"] == 2
    assert after["denominator"] == {"basis": "members", "value": 30}
    assert [item["findings"] for item in after["items"]] == [[], []]


def test_a_stored_profile_stays_readable(session: Session) -> None:
    """A profile stored by an earlier, laxer release is still read back."""
    older = CUSTOM.replace('frequency = "annual"', 'frequency = "biennial"')
    older += 'note = "từ bản cũ"\n'
    session.add(StoredProfile(profile_id="tu-x-2025", version=1, source=older))
    session.flush()
    stored = get_profile(session, "tu-x-2025", 1)
    assert (stored.frequency, stored.bands[0].id) == ("biennial", "over_half")
    with pytest.raises(ProfileError, match="biennial"):
        parse_profile(older)
    with pytest.raises(ProfileError, match="note"):  # in the last [[exemptions]] table
        parse_profile(CUSTOM + 'note = "từ bản cũ"\n')


# ---------------------------------------------------------------------------- quorum


def draft(session: Session, profile_id: str, summoned: int | None, present: int | None) -> Round:
    body = add_test_body(session, code=f"B-{profile_id}-{present}", kind="party")
    return rounds.create_round(
        session,
        body,
        year=year_in_force(profile_id),
        profile_id=profile_id,
        title="Lấy phiếu 2025",
        roster=[person("A")],
        members=30,
        summoned=summoned,
        present=present,
    )


def test_no_quorum_no_opening(session: Session) -> None:
    """QĐ 96: present * 3 >= summoned * 2, else the round cannot be opened."""
    short = draft(session, "qd96-2023", 30, 19)  # 57 < 60
    with pytest.raises(CountError, match="No quorum"):
        rounds.open_round(session, short)
    assert short.status == "draft"
    exact = draft(session, "qd96-2023", 30, 20)  # 60 >= 60: exactly two thirds is enough
    rounds.open_round(session, exact)
    assert exact.status == "open"


@pytest.mark.parametrize("profile_id", sorted(set(BUILTIN_TABLE) - {"qd96-2023"}))
def test_profiles_without_quorum_open_anyway(session: Session, profile_id: str) -> None:
    round_ = draft(session, profile_id, 30, 19)
    rounds.open_round(session, round_)
    assert round_.status == "open"


def test_no_quorum_through_the_command(
    votes: VotesRunner, session: Session, tmp_path: Path
) -> None:
    short = draft(session, "qd96-2023", 30, 19)
    session.commit()
    out = votes("round", "open", short.id)
    assert out.exit_code != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "19" in lines[0]
    assert "30" in lines[0]
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(("present", "quorum_met"), [(19, False), (20, True), (29, True)])
def test_results_say_whether_the_quorum_was_met(
    session: Session, present: int | None, quorum_met: bool | None
) -> None:
    body = add_test_body(session, code="TU-X", kind="party")
    round_ = counted_round(
        session,
        body,
        year=2025,
        profile_id="qd96-2023",
        roster=[person("A")],
        columns=[rated(3, min(18, present))],
        members=30,
        summoned=30,
        present=max(20, present),  # a paper round opens only with quorum …
        status="open",
    )
    # … and the attendance may change until it closes: judged at close (DOMAIN.md §2).
    operations.record_attendance(work(session), round_.id, present=present)
    operations.close_round(work(session), round_.id)
    result = round_results(session, round_)
    assert result["quorum_met"] is quorum_met
    assert result["quorum"]["rule"] == "two_thirds_of_summoned"
    assert result["void"] is (not quorum_met)
    if not quorum_met:
        # Void for want of quorum: the result cannot be published.
        with pytest.raises(CountError, match="quorum"):
            rounds.publish_round(session, round_)
    else:
        rounds.publish_round(session, round_)
        assert round_.status == "published"


def test_quorum_is_never_checked_with_floats() -> None:
    profile = get_profile(None, "qd96-2023")
    # 2/3 of 3_000_000_001 summoned is 2_000_000_000.67: one fewer present is not enough.
    assert profile.quorum_met(2_000_000_001, 3_000_000_001) is True
    assert profile.quorum_met(2_000_000_000, 3_000_000_001) is False
    assert profile.quorum_met(None, 30) is None
    assert profile.quorum_met(20, None) is None
    assert get_profile(None, "nq35-2012").quorum_met(None, None) is True


def test_stored_profiles_are_in_the_database(session: Session) -> None:
    add_profile(session, CUSTOM)
    rows = session.scalars(select(StoredProfile)).all()
    assert [(r.profile_id, r.version) for r in rows] == [("tu-x-2025", 1)]
