"""Staff accounts: argon2id password hashes, roles, body assignments (no Flask here)."""

from __future__ import annotations

import functools
import hashlib
import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .errors import N_, InvalidInput, NotFound
from .limits import refused_character, searchable
from .models import Body, Role, StaffBody, StaffUser
from .text import nfc
from .tree import subtree_ids

ROLES = tuple(role.value for role in Role)
MIN_PASSWORD_LENGTH = 10

# argon2id with the library's defaults (RFC 9106 low-memory profile): ≈ 10 verifications a
# second on purpose. Voter codes never go through this: they are high-entropy and HMAC'd.
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Return a hash verified when the username is unknown (made on first use, not at import).

    A wrong username then costs the same time as a wrong password: the login page must not
    tell which usernames exist. Hashing costs ≈ 0.4 s and 64 MiB: no command that never
    authenticates should pay for it.
    """
    return _hasher.hash("not a password of anybody")


def normalise_username(username: str) -> str:
    """Return the canonical username: NFC, stripped, lower case."""
    return nfc(username).lower()


def check_password_strength(password: str) -> None:
    """Refuse a password that is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            N_("The password must have at least {count} characters."), count=MIN_PASSWORD_LENGTH
        )


def add_user(
    session: Session, username: str, password: str, role: str, bodies: list[str] | None = None
) -> StaffUser:
    """Create a staff account with an argon2id hash; assign it to bodies by code."""
    username = normalise_username(username)
    if (
        not username
        or len(username) > 100
        or any(ch.isspace() for ch in username)
        or refused_character(username)
    ):
        raise InvalidInput(N_("A username is one word of at most 100 characters."))
    if role not in ROLES:
        raise InvalidInput(N_("Unknown role {role}: use admin, organizer or auditor."), role=role)
    if session.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise InvalidInput(N_("The user {username} already exists."), username=username)
    check_password_strength(password)
    user = StaffUser(
        username=username, password_hash=_hasher.hash(password), role=role, active=True
    )
    session.add(user)
    session.flush()
    for code in bodies or []:
        assign_body(session, user, code)
    return user


def get_user(session: Session, username: str) -> StaffUser:
    """Return a staff account by username."""
    name = normalise_username(username)
    user = (
        session.scalar(select(StaffUser).where(StaffUser.username == name))
        if searchable(name, "username")
        else None
    )
    if user is None:
        raise NotFound(N_("Unknown user {username}."), username=username)
    return user


def assign_body(session: Session, user: StaffUser, body_code: str) -> None:
    """Let a user work on a body."""
    code = nfc(body_code)
    body = (
        session.scalar(select(Body).where(Body.code == code))
        if searchable(code, "body_code")
        else None
    )
    if body is None:
        raise NotFound(N_("Unknown body {code}."), code=body_code)
    exists = session.get(StaffBody, (user.id, body.id))
    if exists is None:
        session.add(StaffBody(user_id=user.id, body_id=body.id))
        session.flush()


def set_password(session: Session, user: StaffUser, password: str) -> None:
    """Replace a user's password (this also ends the user's open sessions, see fingerprint)."""
    check_password_strength(password)
    user.password_hash = _hasher.hash(password)
    session.flush()


def authenticate(session: Session, username: str, password: str) -> StaffUser | None:
    """Return the active user with this username and password, else None (same time either way)."""
    name = normalise_username(username)
    # A name no account can have is not looked up (the database would refuse a NUL byte);
    # the dummy hash is verified all the same, so the answer takes the same time.
    user = (
        session.scalar(select(StaffUser).where(StaffUser.username == name))
        if searchable(name, "username")
        else None
    )
    stored = user.password_hash if user is not None else _dummy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.flush()
    return user


def fingerprint(user: StaffUser) -> str:
    """Return a short digest of the password hash: a login ends when the password changes."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def same_fingerprint(user: StaffUser, value: str) -> bool:
    """Compare a stored session fingerprint with the user's current one in constant time."""
    return hmac.compare_digest(fingerprint(user), value)


def body_ids(session: Session, user: StaffUser) -> set[int]:
    """Return the ids of the bodies a user may work on: those granted and all under them."""
    granted = session.scalars(select(StaffBody.body_id).where(StaffBody.user_id == user.id))
    return subtree_ids(session, granted)


def can_view(session: Session, user: StaffUser, body_id: int) -> bool:
    """Tell whether a user may see a body's rounds (admins and auditors see every body)."""
    if user.role in (Role.ADMIN.value, Role.AUDITOR.value):
        return True
    return body_id in body_ids(session, user)


def can_manage(session: Session, user: StaffUser, body_id: int) -> bool:
    """Tell whether a user may change a body's rounds (admins, and organizers assigned to it)."""
    if user.role == Role.ADMIN.value:
        return True
    return user.role == Role.ORGANIZER.value and body_id in body_ids(session, user)


def unassign_all(session: Session, user: StaffUser) -> None:
    """Remove every body assignment of a user."""
    session.execute(delete(StaffBody).where(StaffBody.user_id == user.id))
