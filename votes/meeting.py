"""The meeting of a round: its date, start, place and chair, and the counting committee.

A round is held at a conference (hội nghị): a date, a time and a place, a person presiding,
and a counting committee (Ban kiểm phiếu) elected there, which counts at a recorded date and
time and signs the minutes (DOMAIN.md §2). Dates and times are read and shown in Vietnam's
time; the database keeps the moments in UTC. Guard checks and state changes only: the
operation that records a meeting logs it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from .errors import N_, InvalidInput, WrongState
from .models import CountingMember, Round, RoundStatus
from .profiles import Profile
from .text import VIETNAM, clean_name, from_vietnam, in_vietnam, nfc

# The words that mark the head in "Họ tên (Trưởng ban); Họ tên; …" (any case).
HEAD_MARKS = ("trưởng ban", "head")
_MARKED = re.compile(r"^(?P<name>.*?)\s*\((?P<mark>[^()]*)\)\s*$")


@dataclass(frozen=True)
class Member:
    """One member of the counting committee: the head or a member."""

    name: str
    role: str  # "head" or "member"


def parse_committee(text: str) -> list[Member]:
    """Read "Họ tên (Trưởng ban); Họ tên; Họ tên": exactly one head, no name twice."""
    parts = [clean_name(part) for part in nfc(text).split(";")]
    parts = [part for part in parts if part]
    if not parts:
        raise InvalidInput(
            N_(
                "The counting committee is empty: give its members separated by semicolons, "
                "the head marked (Trưởng ban)."
            )
        )
    members: list[Member] = []
    for part in parts:
        marked = _MARKED.match(part)
        if marked is None:
            members.append(Member(part, "member"))
            continue
        name, mark = clean_name(marked["name"]), clean_name(marked["mark"]).casefold()
        if mark not in HEAD_MARKS or not name:
            raise InvalidInput(
                N_(
                    "Counting committee, {part!r}: write a name, and mark only the head, "
                    "as (Trưởng ban)."
                ),
                part=part,
            )
        members.append(Member(name, "head"))
    heads = [member for member in members if member.role == "head"]
    if len(heads) != 1:
        raise InvalidInput(
            N_(
                "The counting committee needs exactly one head, marked (Trưởng ban); "
                "{count} are marked."
            ),
            count=len(heads),
        )
    seen: set[str] = set()
    for member in members:
        if member.name.casefold() in seen:
            raise InvalidInput(N_("The counting committee lists {name} twice."), name=member.name)
        seen.add(member.name.casefold())
    # The head first, as the committee is listed on the minutes.
    return heads + [member for member in members if member.role != "head"]


def committee_text(round_: Round) -> str:
    """Write a round's counting committee back as "Họ tên (Trưởng ban); Họ tên"."""
    return "; ".join(
        f"{m.name} (Trưởng ban)" if m.role == "head" else m.name for m in round_.committee
    )


def parse_local_time(value: str) -> dt.time:
    """Read a time of day "HH:MM" (Vietnam's clock)."""
    try:
        return dt.time.fromisoformat(nfc(value))
    except ValueError as exc:
        raise InvalidInput(N_("{value!r} is not a time of day (HH:MM)."), value=value) from exc


def parse_local_moment(value: str) -> dt.datetime:
    """Read "YYYY-MM-DD HH:MM" (Vietnam's clock) as a naive local date and time."""
    try:
        moment = dt.datetime.fromisoformat(nfc(value))
    except ValueError as exc:
        raise InvalidInput(
            N_("{value!r} is not a date and time (YYYY-MM-DD HH:MM)."), value=value
        ) from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(VIETNAM).replace(tzinfo=None)
    return moment


def record_meeting(
    session: Session,
    round_: Round,
    profile: Profile,
    *,
    held_on: dt.date,
    committee: list[Member],
    starts_at: dt.time | None = None,
    counted_at: dt.datetime | None = None,
    place: str | None = None,
    chair: str | None = None,
) -> dict[str, Any]:
    """Record the meeting of a draft, open or closed round; return what it replaced.

    Once the round is published its minutes are signed, and the meeting stays as recorded.
    `counted_at` is a naive date and time on Vietnam's clock; the caller logs the change.
    """
    if round_.status == RoundStatus.PUBLISHED.value:
        raise WrongState(
            N_(
                "Round {id} is published: its minutes are signed and its meeting can no "
                "longer be changed."
            ),
            id=round_.id,
        )
    if held_on.year != round_.year:
        raise InvalidInput(
            N_("The meeting of round {id} is dated {date}, outside the round's year {year}."),
            id=round_.id,
            date=held_on.strftime("%d/%m/%Y"),
            year=round_.year,
        )
    if not round_.time_exception and not profile.in_force_on(held_on):
        raise InvalidInput(
            N_(
                "On {date} the profile {profile} is not in force ({start} – {end}); record the "
                "number of the decision that allows the exception when the round is created."
            ),
            date=held_on.strftime("%d/%m/%Y"),
            profile=profile.id,
            start=_day(profile.in_force_from),
            end=_day(profile.in_force_until),
        )
    start = dt.datetime.combine(held_on, starts_at) if starts_at is not None else None
    if counted_at is not None and (
        counted_at.date() < held_on or (start is not None and counted_at < start)
    ):
        raise InvalidInput(
            N_("The counting ({counted}) cannot come before the meeting ({meeting})."),
            counted=counted_at.strftime("%d/%m/%Y %H:%M"),
            meeting=start.strftime("%d/%m/%Y %H:%M") if start else held_on.strftime("%d/%m/%Y"),
        )
    before = meeting_details(round_)
    round_.held_on = held_on
    round_.starts_at = from_vietnam(held_on, starts_at) if starts_at is not None else None
    round_.counted_at = (
        from_vietnam(counted_at.date(), counted_at.time()) if counted_at is not None else None
    )
    if place is not None:
        round_.place = clean_name(place) or None
    if chair is not None:
        round_.chair = clean_name(chair) or None
    round_.committee.clear()
    session.flush()
    for order, member in enumerate(committee, start=1):
        round_.committee.append(CountingMember(order=order, name=member.name, role=member.role))
    session.flush()
    return before


def _day(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "…"


def _local(moment: dt.datetime | None) -> str | None:
    return in_vietnam(moment).isoformat(timespec="minutes") if moment else None


def meeting_details(round_: Round) -> dict[str, Any]:
    """Describe a round's meeting for the results and the log (times in Vietnam, ISO 8601)."""
    return {
        "held_on": round_.held_on.isoformat() if round_.held_on else None,
        "starts_at": _local(round_.starts_at),
        "counted_at": _local(round_.counted_at),
        "place": round_.place,
        "chair": round_.chair,
        "committee": [{"name": m.name, "role": m.role} for m in round_.committee],
    }
