"""What voters see when the database is unreachable for a moment: a clear "try again" page."""

from __future__ import annotations

from flask import Flask


def init_outage(app: Flask) -> None:
    """Register the handler for database outages."""
