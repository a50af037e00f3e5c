"""Staff accounts and their logins."""

from __future__ import annotations

from .. import staff
from ..models import StaffUser
from .work import Work


def add_staff(
    work: Work, username: str, password: str, role: str, bodies: list[str] | None = None
) -> StaffUser:
    """Add an organizer, auditor or administrator (the password is never logged)."""
    user = staff.add_user(work.session, username, password, role, bodies)
    work.log(
        "staff_added",
        details={
            "username": user.username,
            "role": user.role,
            "bodies": sorted(bodies or []),
        },
    )
    return user


def set_staff_password(work: Work, username: str, password: str) -> StaffUser:
    """Replace a staff account's password (its open logins end)."""
    user = staff.get_user(work.session, username)
    staff.set_password(work.session, user, password)
    work.log("staff_password_changed", details={"username": user.username})
    return user


def record_login(work: Work, username: str, *, succeeded: bool) -> None:
    """Log a login or a failed attempt: the username only (at most 100 characters)."""
    work.log(
        "staff_login" if succeeded else "staff_login_failed",
        details={"username": staff.normalise_username(username)[:100]},
    )
