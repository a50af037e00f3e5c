"""Rule profiles added by an organisation."""

from __future__ import annotations

import hashlib

from .. import profiles
from ..errors import N_, InvalidInput
from ..profiles import Profile
from .work import Work


def add_profile(work: Work, source: bytes) -> Profile:
    """Validate and store a profile file (TOML, UTF-8); a stored version never changes."""
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(N_("The profile file is not UTF-8.")) from exc
    profile = profiles.add_profile(work.session, text)
    work.log(
        "profile_added",
        details={
            "id": profile.id,
            "version": profile.version,
            "sha256": hashlib.sha256(source).hexdigest(),
        },
    )
    return profile
