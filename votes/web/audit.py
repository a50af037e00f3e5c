"""Auditors' pages (read-only): bodies, rounds, results, findings, histories, the log."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("audit", __name__)
