"""Configuration defaults and the VOTES_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .errors import N_, VotesError

DEFAULT_SECRET_KEY = "dev-not-secret"  # noqa: S105 - a marker, refused in production
# Where `votes demo` serves its site unless told otherwise (--host, --port).
DEMO_HOST = "127.0.0.1"
DEMO_PORT = 5000
# Argon2id costs of a member's key file (votes/sealed/keyfile.py STRENGTHS): "moderate"
# (about a second, 256 MB) unless `votes trustee` is given --strength.
KEY_FILE_STRENGTH = "moderate"


class ConfigError(VotesError):
    """The configuration is unsafe or incomplete."""


def from_environment(instance_path: str) -> dict[str, Any]:
    """Read VOTES_* variables into a Flask configuration mapping."""
    database_url = os.environ.get("VOTES_DATABASE_URL") or (
        "sqlite:///" + str(Path(instance_path) / "votes.sqlite3")
    )
    config: dict[str, Any] = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.environ.get("VOTES_SECRET_KEY", DEFAULT_SECRET_KEY),
        "BASE_URL": os.environ.get("VOTES_BASE_URL", "http://127.0.0.1:5000"),
        "RATELIMIT_STORAGE_URI": os.environ.get("VOTES_REDIS_URL", "memory://"),
        "SMALL_ROUND_MINIMUM": int(os.environ.get("VOTES_SMALL_ROUND_MINIMUM", "5")),
        # How many reverse proxies (nginx) stand in front: their X-Forwarded-For is trusted so
        # that rate limits count each voter's address, not the proxy's. 0 when exposed directly.
        "TRUSTED_PROXIES": int(os.environ.get("VOTES_TRUSTED_PROXIES", "0")),
    }
    if os.environ.get("VOTES_DEBUG") == "1":
        config["DEBUG"] = True
    return config


def check_secret_key(config: dict[str, Any]) -> None:
    """Refuse to run outside debug or testing with a missing or default secret key."""
    if config.get("DEBUG") or config.get("TESTING") or config.get("DEMO"):
        return
    key = config.get("SECRET_KEY")
    if not key or key == DEFAULT_SECRET_KEY or len(str(key)) < 16:
        raise ConfigError(
            N_(
                "VOTES_SECRET_KEY is missing or is the default; set a random value of at least "
                "16 characters (python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        )
