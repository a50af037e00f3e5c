"""The Vietnamese catalogue is complete and its placeholders match the English ids."""

from __future__ import annotations

import re
from pathlib import Path

import click
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from votes import i18n
from votes.cli import cli
from votes.i18n import catalogue

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {
    "_": None,
    "N_": None,
    "gettext": None,
    "lazy": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
}
PLACEHOLDER = re.compile(r"\{[a-z_]+(?:![rs])?\}")


def extracted() -> set[str]:
    method_map = [("votes/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map=method_map, keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return {m for m in found if m}


def test_every_message_has_a_vietnamese_translation() -> None:
    vi = catalogue("vi")
    missing = sorted(m for m in extracted() if not vi.get(m))
    assert missing == []


def test_translations_keep_their_placeholders() -> None:
    for msgid, text in catalogue("vi").items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(text)), msgid


def test_vietnamese_is_the_default(votes) -> None:  # type: ignore[no-untyped-def]
    out = votes("round", "open", 999)
    assert out.exit_code == 1
    assert out.stderr.strip() == "Lỗi: Không có đợt lấy phiếu số 999."


def test_the_command_line_help_is_translated() -> None:
    """Every command's description and option help of `votes` has its Vietnamese text."""
    vi = catalogue("vi")
    missing: list[str] = []

    def walk(command: click.Command) -> None:
        texts = [command.help] + [p.help for p in command.params if isinstance(p, click.Option)]
        missing.extend(t for t in texts if t and not vi.get(t))
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(cli)
    assert missing == []


def test_the_catalogue_is_read_as_babel_reads_it() -> None:
    """votes.i18n reads the .po file itself (fast start); Babel's reader is the reference."""
    path = Path(i18n.TRANSLATIONS) / "vi" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    expected = {}
    for entry in catalog:
        if not entry.id:
            continue
        msgid = entry.id if isinstance(entry.id, str) else entry.id[0]
        string = (
            entry.string
            if isinstance(entry.string, str)
            else (entry.string[0] if entry.string and all(entry.string) else "")
        )
        if string:
            expected[str(msgid)] = str(string)
    assert i18n.read_catalogue(path.read_text(encoding="utf-8")) == expected
    assert len(expected) > 500


def test_the_reader_handles_continued_lines_escapes_plurals_and_obsolete_entries() -> None:
    text = (
        'msgid ""\nmsgstr ""\n"Language: vi\\n"\n\n'
        '#, python-brace-format\nmsgid "Two "\n"lines {n}"\nmsgstr "Hai "\n"dòng {n}"\n\n'
        'msgid "A \\"quote\\"\\n"\nmsgstr "Một \\"trích\\"\\n"\n\n'
        'msgid "one ballot"\nmsgid_plural "{n} ballots"\nmsgstr[0] "{n} phiếu"\n\n'
        'msgid "untranslated"\nmsgstr ""\n\n'
        '#~ msgid "gone"\n#~ msgstr "đã bỏ"\n'
    )
    assert i18n.read_catalogue(text) == {
        "Two lines {n}": "Hai dòng {n}",
        'A "quote"\n': 'Một "trích"\n',
        "one ballot": "{n} phiếu",
    }
