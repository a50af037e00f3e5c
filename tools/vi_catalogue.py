"""Merge new message ids into the Vietnamese catalogue (developers: pybabel extract first).

    pybabel extract -F babel.cfg -k N_ -k _ -k lazy -k lazy_gettext -o /tmp/messages.pot \
        --no-location .
    python tools/vi_catalogue.py /tmp/messages.pot

Existing translations are kept; ids without one are added empty, and the test suite fails on
any message left untranslated.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "votes/translations/vi/LC_MESSAGES/messages.po"


def command_help() -> list[str]:
    """Return the help texts of the `votes` command (docstrings and option help), in order."""
    import click

    from votes.cli import cli

    found: list[str] = []

    def walk(command: click.Command) -> None:
        if command.help and command.help not in found:
            found.append(command.help)
        for param in command.params:
            if isinstance(param, click.Option) and param.help and param.help not in found:
                found.append(param.help)
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(cli)
    return found


def merge(template_path: str, extra: dict[str, str] | None = None) -> None:
    """Add the template's ids (and the command's help) to the catalogue, keeping translations."""
    with open(template_path, "rb") as handle:
        template = read_po(handle)
    for text in command_help():
        if text not in template:
            template.add(text)
    existing: dict[object, object] = {}
    if PO.exists():
        with PO.open("rb") as handle:
            existing = {m.id: m.string for m in read_po(handle, locale="vi") if m.id}
    existing.update(extra or {})
    # A fixed date: the catalogue changes only where its messages change (and merges cleanly).
    fixed = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    catalog = Catalog(
        locale="vi", project="votes", fuzzy=False, creation_date=fixed, revision_date=fixed
    )
    for message in template:
        if not message.id:
            continue
        # Vietnamese has one plural form: a plural entry keeps a one-element tuple.
        empty: object = ("",) if isinstance(message.id, tuple) else ""
        catalog.add(message.id, existing.get(message.id, empty))
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True, omit_header=False)


if __name__ == "__main__":
    merge(sys.argv[1])
