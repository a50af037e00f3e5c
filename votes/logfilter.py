"""Keep voter codes out of logs: a filter that blanks the code of a slip's link /b/CODE."""

from __future__ import annotations

import logging
import re

CODE_IN_PATH = re.compile(r"/b/[^ \"?]+")


class NoCodesInLog(logging.Filter):
    """Blank out voter codes in request lines: the slip link /b/CODE carries one."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record without codes; never drop it."""
        record.msg = CODE_IN_PATH.sub("/b/…", str(record.msg))
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                CODE_IN_PATH.sub("/b/…", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def install_code_filter(logger: str = "werkzeug") -> None:
    """Add the filter to a logger (the development server's by default)."""
    logging.getLogger(logger).addFilter(NoCodesInLog())
