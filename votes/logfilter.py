"""Keep voter codes out of every log: the application's, the development server's, gunicorn's.

Voter pages take codes by POST and the slip's QR code carries its code after '#', which no
browser sends: no request line of today's pages holds a code. What remains is guarded here:
a link of the old form /b/CODE (slips printed before), a code typed into an address by hand,
a `code=` parameter. The filter rewrites every record (its message and its arguments, the
tuple of Python's logging as well as the mapping gunicorn's access log passes) and never
drops one. gunicorn is wired with `--config python:votes.gunicorn_config` (docs/DEPLOY.md);
the application installs the same filter on its own loggers and on gunicorn's when it starts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

from .credentials import ALPHABET, CODE_LENGTH, GROUP

BLANK = "…"
# The path of an old slip link: /b/ and anything up to the end of the path.
CODE_IN_PATH = re.compile(r"/b/[^\s\"'?#]+")
# A `code=` parameter of a query string or a form body written to a log.
CODE_PARAMETER = re.compile(r"(\bcode=)[^&\s\"']+", re.IGNORECASE)
# Anything shaped like a code on its own: 12 letters of the codes' alphabet, in groups of four
# with or without dashes, in either case (a hash, longer and lower-case hex, is left alone).
_LETTER = f"[{ALPHABET}]"
_GROUPS = CODE_LENGTH // GROUP
CODE_SHAPED = re.compile(
    r"(?<![A-Za-z0-9])" + r"[-_]?".join([f"{_LETTER}{{{GROUP}}}"] * _GROUPS) + r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)

# Loggers that write request lines or request details.
LOGGERS = ("werkzeug", "votes", "gunicorn.access", "gunicorn.error")


def scrub(text: str) -> str:
    """Return a log text with every voter code blanked."""
    text = CODE_IN_PATH.sub("/b/" + BLANK, text)
    text = CODE_PARAMETER.sub(r"\1" + BLANK, text)
    return CODE_SHAPED.sub(BLANK, text)


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bytes):
        return scrub(value.decode("latin-1")).encode("latin-1")
    return value


class NoCodesInLog(logging.Filter):
    """Blank out voter codes in a record's message and arguments; never drop the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record without codes."""
        if isinstance(record.msg, str):
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_scrubbed(a) for a in record.args)
        elif isinstance(record.args, MutableMapping):
            # gunicorn's access log: a mapping of atoms (%(r)s the request line, %(U)s the
            # path, %(q)s the query, %({referer}i)s a header…) with lookups of its own;
            # rewritten in place so that it keeps them.
            for key in list(record.args):
                record.args[key] = _scrubbed(record.args[key])
        return True


def install_code_filter(*loggers: str) -> None:
    """Add the filter to loggers (by default every logger that writes request lines)."""
    for name in loggers or LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoCodesInLog) for f in logger.filters):
            logger.addFilter(NoCodesInLog())
