"""gunicorn settings that keep voter codes out of its logs (docs/DEPLOY.md §4).

    gunicorn --config python:votes.gunicorn_config --access-logfile - … wsgi:app

In each worker, once the application is loaded, the watch that keeps the sealing pads of the
rounds about to vote ready starts (votes/pads.py); it is told the number of workers.

The access log's request line, path, query and headers, and the error log, pass through
votes.logfilter before they are written: in the master (which logs before the application
is loaded) as well as in every worker.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from votes.logfilter import NoCodesInLog


class CodeFreeLogger(Logger):  # type: ignore[misc]  # gunicorn ships no types
    """gunicorn's logger with the filter that blanks voter codes on both of its logs."""

    def setup(self, cfg: Any) -> None:
        """Set gunicorn's logs up as usual, then add the filter to each."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            if not any(isinstance(f, NoCodesInLog) for f in log.filters):
                log.addFilter(NoCodesInLog())


logger_class = CodeFreeLogger


def post_worker_init(worker: Any) -> None:
    """Start this worker's watch of the rounds that will seal ballots (votes/pads.py)."""
    start = getattr(worker.wsgi, "extensions", {}).get("votes.watch_pads")
    if callable(start):
        start(max(1, int(worker.cfg.workers)))
