"""Errors the user sees: an English message id with parameters, translated where shown."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a message for translation without translating it here."""
    return message


# The states of a round, as they appear inside messages.
STATES = (N_("draft"), N_("open"), N_("closed"), N_("published"))


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
        from .i18n import translate

        params = {
            key: value.message(language) if isinstance(value, VotesError) else value
            for key, value in self.params.items()
        }
        if isinstance(params.get("status"), str):
            params["status"] = translate(params["status"], language)
        return translate(self.msgid, language).format(**params)


class NotFound(VotesError):
    """An unknown body, round, person or code."""


class WrongState(VotesError):
    """The round is not in the state the action needs."""


class InvalidInput(VotesError):
    """Input that cannot be accepted as it is (a CSV line, a mark, a count)."""

    def __init__(self, msgid: str, *, problems: list[InvalidInput] | None = None, **params: Any):
        self.problems = problems or []
        super().__init__(msgid, **params)


class CountError(VotesError):
    """Counts that cannot all be true at once (DOMAIN.md §2)."""
