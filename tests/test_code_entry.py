"""Reading a typed voter code (votes/code_entry.py): forgiving, and specific when it cannot."""

from __future__ import annotations

import pytest

from votes.code_entry import read_code
from votes.credentials import ALPHABET


@pytest.mark.parametrize(
    "typed",
    [
        "EXP6-MCDE-FGHJ",
        "exp6-mcde-fghj",
        "  exp6 mcde fghj ",
        "EXP6–MCDE—FGHJ",  # a word processor's dashes
        "EXP6.MCDE.FGHJ",
        "ＥＸＰ６ＭＣＤＥＦＧＨＪ",  # full-width, from some input methods
        "ẼP6-MCDE-FGHJ",  # Telex: E then X is Ẽ
        "ẽp6 mcde fghj",
    ],
)
def test_a_code_is_read_whatever_the_keyboard_did(typed: str) -> None:
    assert read_code(typed).code == "EXP6MCDEFGHJ"


def test_vni_is_tried_after_telex() -> None:
    # VNI: E then 4 is Ẽ as well; both readings are offered, Telex first.
    assert read_code("ẼP6-MCDE-FGHJ").candidates == ("EXP6MCDEFGHJ", "E4P6MCDEFGHJ")
    assert read_code("Ẽ6P6-MCDE-FGH").candidates[-1] == "E46P6MCDEFGH"


@pytest.mark.parametrize(
    ("typed", "telex"),
    [
        ("ĐCDE-FGHJ-KMN", "DDCDEFGHJKMN"),  # DD → Đ
        ("ƯCDE-FGHJ-KMNP", "WCDEFGHJKMNP"),  # W → Ư
        ("ÂCDE-FGHJ-KMN", "AACDEFGHJKMN"),  # AA → Â
        ("ÀCDE-FGHJ-KMN", "AFCDEFGHJKMN"),  # F: huyền
        ("ẠCDE-FGHJ-KMN", "AJCDEFGHJKMN"),  # J: nặng
        ("ẢCDE-FGHJ-KMN", "ARCDEFGHJKMN"),  # R: hỏi
        ("ĂCDE-FGHJ-KMN", "AWCDEFGHJKMN"),  # AW → Ă
    ],
)
def test_telex_letters_give_back_the_keys(typed: str, telex: str) -> None:
    reading = read_code(typed)
    assert reading.candidates[0] == telex
    assert all(ch in ALPHABET for ch in reading.candidates[0])


@pytest.mark.parametrize(
    ("typed", "problem", "length"),
    [
        ("", "empty", 0),
        (" - ", "empty", 0),
        ("EXP6-MCDE", "short", 8),
        ("EXP6-MCDE-FGHJ-K", "long", 13),
    ],
)
def test_a_wrong_length_is_told_with_the_count(typed: str, problem: str, length: int) -> None:
    reading = read_code(typed)
    assert reading.code is None
    assert (reading.problem, reading.length) == (problem, length)


@pytest.mark.parametrize(
    ("typed", "strange"),
    [
        ("EXP6-MCD0-FGHJ", "0"),
        ("EXP6-MCDO-FGHJ", "O"),
        ("EXP6-MCDE-FGH1", "1"),
        ("IXP6-MCDE-FGHL", "IL"),
        ("SXP6-MCDE-FGH5", "S5"),
    ],
)
def test_look_alikes_are_named_not_guessed(typed: str, strange: str) -> None:
    """O could be D or Q, 1 could be J or 7: naming the character beats a wrong guess."""
    reading = read_code(typed)
    assert reading.problem == "letters"
    assert reading.strange == strange


def test_a_vietnamese_letter_that_no_code_can_give_is_blamed_on_the_keyboard() -> None:
    # Á is A + S (Telex) or A + 1 (VNI): neither S nor 1 is in a code.
    reading = read_code("ÁCDE-FGHJ-KMNP")
    assert reading.problem == "keyboard"
    assert reading.strange == "Á"
    short = read_code("ẼP6-MCDE-FGH")  # a Telex letter and one character missing
    assert short.problem == "keyboard"
    assert short.length == 11
