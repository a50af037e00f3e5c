"""Commands for the web side: staff accounts and serving the demo."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup


def register(cli: FlaskGroup) -> None:
    """Add the web-side commands to the `votes` command."""


def serve_demo(app: Flask) -> None:
    """Serve the demo site on http://127.0.0.1:5000."""
    click.echo("The web application is not part of this version yet.")
