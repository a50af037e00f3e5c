"""The one message catalogue: English ids, the Vietnamese catalogue, {field} placeholders.

The command line, the logic modules, the pages and the documents all translate through here
(no Flask): msgids are English, so English needs no catalogue of its own.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT_LANGUAGE = "vi"


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """Return the msgid → translation mapping of a language (empty for English)."""
    path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    found: dict[str, str] = {}
    for message in catalog:
        if not message.id:
            continue
        # Plural entries have a tuple of ids and of translations: key them by the singular id.
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        string = (
            message.string
            if isinstance(message.string, str)
            else (message.string[0] if message.string and all(message.string) else "")
        )
        if string:
            found[str(msgid)] = str(string)
    return found


def translate(msgid: str, language: str = DEFAULT_LANGUAGE) -> str:
    """Translate a message id, falling back to the English text."""
    return catalogue(language).get(msgid, msgid)


LANGUAGES = ("vi", "en")


def gettext(msgid: str, language: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """Translate a message id and fill its {fields}."""
    return translate(msgid, language).format(**params)
