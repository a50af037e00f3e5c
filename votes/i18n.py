"""The one message catalogue: English ids, the Vietnamese catalogue, {field} placeholders.

The command line, the logic modules, the pages and the documents all translate through here
(no Flask): msgids are English, so English needs no catalogue of its own.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT_LANGUAGE = "vi"


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """Return the msgid → translation mapping of a language (empty for English)."""
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    return read_catalogue(path.read_text(encoding="utf-8"))


def read_catalogue(text: str) -> dict[str, str]:
    """Read the translated messages of a .po file: msgid → msgstr, the header left out.

    A small reader of the gettext format instead of Babel's (which costs a tenth of a second
    and most of the command line's start): comments and flags are skipped, obsolete entries
    (#~) too; a plural entry is keyed by its singular id and kept only when every form is
    translated, its first form standing for all. tests/test_i18n.py checks that it reads the
    catalogue exactly as Babel does.
    """
    found: dict[str, str] = {}
    entry: dict[str, list[str]] = {}
    current: list[str] | None = None

    def flush() -> None:
        msgid = "".join(entry.get("msgid", []))
        if "msgstr[0]" in entry:
            forms = [key for key in entry if key.startswith("msgstr[")]
            strings = ["".join(entry[key]) for key in sorted(forms)]
            string = strings[0] if all(strings) else ""
        else:
            string = "".join(entry.get("msgstr", []))
        if msgid and string:
            found[msgid] = string
        entry.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            current = None
            continue
        if line.startswith('"'):
            if current is not None:
                current.append(_unquote(line))
            continue
        keyword, _, rest = line.partition(" ")
        if (
            keyword in ("msgid", "msgctxt")
            and "msgid" in entry
            and any(key.startswith("msgstr") for key in entry)
        ):
            flush()
        current = entry.setdefault(keyword, [])
        current.append(_unquote(rest.strip()))
    if entry:
        flush()
    return found


def _unquote(quoted: str) -> str:
    """Return the text of a quoted .po string ("a\\n" → a, newline): C escapes, as Python's."""
    if "\\" not in quoted:
        return quoted[1:-1]
    return str(ast.literal_eval(quoted))


def translate(msgid: str, language: str = DEFAULT_LANGUAGE) -> str:
    """Translate a message id, falling back to the English text."""
    return catalogue(language).get(msgid, msgid)


LANGUAGES = ("vi", "en")


def gettext(msgid: str, language: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """Translate a message id and fill its {fields}."""
    return translate(msgid, language).format(**params)
