"""The tree of bodies: levels, parents, subtrees.

Since July 2025 local government has two levels, the province and the commune; above them is
the centre, and an agency (a department, a board, a state enterprise) may sit under any of
them or under another agency. A body's parent is always one level up: a commune under a
province, a province under the centre (or at the top), an agency under anything; nothing
sits under an agency but agencies. A body can never be its own ancestor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import N_, InvalidInput
from .models import Body
from .text import sort_key
from .vocabulary import TREE_LEVELS

LEVELS = TREE_LEVELS  # by its name of old (votes/web/tree.py reads tree.LEVELS)
# The levels each level may sit under (None: at the top of the tree).
PARENT_LEVELS: dict[str, tuple[str | None, ...]] = {
    "central": (None,),
    "province": (None, "central"),
    "commune": ("province",),
    "agency": (None, "central", "province", "commune", "agency"),
}
# The order levels are shown in (an agency after the bodies of its own level).
LEVEL_ORDER = {"central": 0, "province": 1, "commune": 2, "agency": 3}


def default_level(kind: str) -> str:
    """Return the level a body gets when none is given: the Assembly is central."""
    return "central" if kind == "assembly" else "province"


def check_level(level: str) -> str:
    """Return a known level, or refuse it."""
    if level not in LEVELS:
        raise InvalidInput(
            N_("Unknown level {level!r}: use central, province, commune or agency."), level=level
        )
    return level


def ancestors(session: Session, body: Body) -> list[Body]:
    """Return a body's parents, nearest first, up to the top of the tree."""
    found: list[Body] = []
    seen = {body.id}
    current = body
    while current.parent_id is not None:
        parent = session.get(Body, current.parent_id)
        if parent is None or parent.id in seen:
            break
        found.append(parent)
        seen.add(parent.id)
        current = parent
    return found


def place_body(session: Session, body: Body, level: str, parent: Body | None) -> None:
    """Set a body's level and parent, refusing a parent of the wrong level or a cycle."""
    check_level(level)
    if parent is not None and (parent.id == body.id or body in ancestors(session, parent)):
        raise InvalidInput(
            N_("{parent} is under {code}: a body cannot be placed under itself."),
            parent=parent.code,
            code=body.code,
        )
    allowed = PARENT_LEVELS[level]
    if (parent.level if parent is not None else None) not in allowed:
        if parent is None:
            raise InvalidInput(
                N_("A body of the level {level} needs a parent of the level {allowed}."),
                level=level,
                allowed=", ".join(a for a in allowed if a),
            )
        raise InvalidInput(
            N_(
                "{code} ({level}) cannot be placed under {parent} ({parent_level}): its parent "
                "must be of the level {allowed}."
            ),
            code=body.code,
            level=level,
            parent=parent.code,
            parent_level=parent.level,
            allowed=", ".join(a or "-" for a in allowed),
        )
    for child in children(session, body):
        if level not in PARENT_LEVELS[child.level]:
            raise InvalidInput(
                N_("{child} ({child_level}) is under {code}, which cannot become {level}."),
                child=child.code,
                child_level=child.level,
                code=body.code,
                level=level,
            )
    body.level = level
    body.parent_id = parent.id if parent is not None else None
    session.flush()


def children(session: Session, body: Body) -> list[Body]:
    """Return the bodies directly under a body."""
    return list(session.scalars(select(Body).where(Body.parent_id == body.id)))


def subtree_ids(session: Session, roots: Iterable[int]) -> set[int]:
    """Return the ids of some bodies and of every body under them."""
    parents: dict[int, int | None] = {
        row[0]: row[1] for row in session.execute(select(Body.id, Body.parent_id))
    }
    below: dict[int, list[int]] = {}
    for child, parent in parents.items():
        if parent is not None:
            below.setdefault(parent, []).append(child)
    found: set[int] = set()
    stack = [r for r in roots if r in parents]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(below.get(current, []))
    return found


@dataclass(frozen=True)
class TreeLine:
    """One body as the tree lists it: its depth under the top shown."""

    body: Body
    depth: int


def tree_lines(session: Session, only: set[int] | None = None) -> list[TreeLine]:
    """Return the bodies as a tree: each followed by those under it, in Vietnamese order.

    With `only`, the bodies outside it are left out; a body whose parent is left out is shown
    at the top.
    """
    bodies = [b for b in session.scalars(select(Body)) if only is None or b.id in only]
    shown = {b.id for b in bodies}
    below: dict[int | None, list[Body]] = {}
    for body in bodies:
        parent = body.parent_id if body.parent_id in shown else None
        below.setdefault(parent, []).append(body)
    for group in below.values():
        group.sort(key=lambda b: (LEVEL_ORDER[b.level], sort_key(b.name), b.code))
    lines: list[TreeLine] = []

    def walk(parent: int | None, depth: int) -> None:
        for body in below.get(parent, []):
            lines.append(TreeLine(body, depth))
            walk(body.id, depth + 1)

    walk(None, 0)
    return lines


def path_text(session: Session, body: Body) -> str:
    """Return a body's place in the tree as its codes from the top ("T-SL / X-MH")."""
    return " / ".join(b.code for b in [*reversed(ancestors(session, body)), body])
