"""Messages and refusals: an English message id with parameters, translated where it is shown.

Every refusal of the core is a VotesError carrying one Message; the command line, the pages
and the API translate it in the user's language (votes.i18n) and nothing else. A refusal is
raised before anything is written, or inside the transaction that it then rolls back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .i18n import translate


def N_(message: str) -> str:
    """Mark a message for translation without translating it here."""
    return message


# Parameters that hold a word of the vocabulary are translated with the message that holds them.
TRANSLATED_PARAMS = ("status", "basis", "level", "band", "kind_word", "field_word", "part")


@dataclass(frozen=True)
class Message:
    """A text for a user: an English message id and the values of its {fields}."""

    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def text(self, language: str = "vi") -> str:
        """Return the message in a language (Vietnamese by default)."""
        values = {}
        for key, value in self.params.items():
            if isinstance(value, Message | VotesError):
                value = (
                    value.message(language)
                    if isinstance(value, VotesError)
                    else (value.text(language))
                )
            elif key in TRANSLATED_PARAMS and isinstance(value, str):
                value = translate(value, language)
            values[key] = value
        return translate(self.msgid, language).format(**values)

    def __str__(self) -> str:
        return self.text("en")


def message(msgid: str, **params: Any) -> Message:
    """Return a message with its parameters."""
    return Message(msgid, params)


class VotesError(Exception):
    """A refusal with a clear reason; nothing was changed.

    `msgid` is English and goes through the message catalogue; `params` fill its {fields}.
    """

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(self.message("en"))

    def message(self, language: str = "vi") -> str:
        """Return the message in a language (Vietnamese by default)."""
        return Message(self.msgid, self.params).text(language)


class NotFound(VotesError):
    """An unknown body, round, person or code."""


class WrongState(VotesError):
    """The round is not in the state the action needs."""


class InvalidInput(VotesError):
    """Input that cannot be accepted as it is (a CSV line, a mark, a count).

    `problems` lists every problem found when there are several (each line of a file);
    the error's own message is the first of them.
    """

    def __init__(self, msgid: str, *, problems: list[InvalidInput] | None = None, **params: Any):
        self.problems = problems or []
        super().__init__(msgid, **params)

    @classmethod
    def of(cls, problems: list[InvalidInput]) -> InvalidInput:
        """Return one refusal that lists several problems (the first one is its message)."""
        first = problems[0]
        return cls(first.msgid, problems=problems, **first.params)


class CountError(VotesError):
    """Counts that cannot all be true at once (DOMAIN.md §2)."""


class ProfileError(InvalidInput):
    """A rule profile that is not valid; the message says what and where."""
