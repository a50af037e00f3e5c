"""Every page and action × every role: the expected status (route × role table)."""

from __future__ import annotations

import pytest

from tests import web_fixtures
from tests.web_fixtures import World, csrf_token

world = web_fixtures.world  # the fixture, under its own name


ROLES = ("anonymous", "organizer", "other", "auditor", "admin")
LOGIN = 302  # anonymous staff pages send to the login page

# (method, path template, {role: status}); {draft} {open} {closed} are round ids of body A.
# "organizer" is assigned to body A; "other" is an organizer of body B only.
GET_ROUTES = [
    ("/", dict(anonymous=200, organizer=200, other=200, auditor=200, admin=200)),
    ("/auth/login", dict(anonymous=200, organizer=200, other=200, auditor=200, admin=200)),
    ("/admin/", dict(anonymous=LOGIN, organizer=200, other=200, auditor=200, admin=200)),
    ("/admin/bodies/A", dict(anonymous=LOGIN, organizer=200, other=403, auditor=200, admin=200)),
    ("/admin/bodies/ZZ", dict(anonymous=LOGIN, organizer=404, other=404, auditor=404, admin=404)),
    (
        "/admin/bodies/A/rounds/new",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=403, admin=200),
    ),
    (
        "/admin/rounds/{draft}",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=200, admin=200),
    ),
    (
        "/admin/rounds/{open}",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=200, admin=200),
    ),
    ("/admin/rounds/9999", dict(anonymous=LOGIN, organizer=404, other=404, auditor=404, admin=404)),
    (
        "/admin/rounds/{draft}/roster",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=403, admin=200),
    ),
    (
        "/admin/rounds/{draft}/open",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=403, admin=200),
    ),
    (
        "/admin/rounds/{open}/close",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=403, admin=200),
    ),
    (
        "/admin/rounds/{closed}/publish",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=403, admin=200),
    ),
    (
        "/admin/rounds/{open}/paper",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=403, admin=200),
    ),
    (
        "/admin/rounds/{closed}/results",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=200, admin=200),
    ),
    (
        "/admin/rounds/{open}/results",
        dict(anonymous=LOGIN, organizer=409, other=403, auditor=409, admin=409),
    ),
    (
        "/admin/rounds/{closed}/results.json",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=200, admin=200),
    ),
    (
        "/admin/rounds/{closed}/results.csv",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=200, admin=200),
    ),
    (
        "/admin/rounds/{closed}/minutes.pdf",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=200, admin=200),
    ),
    (
        "/admin/rounds/{draft}/ballot.pdf",
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=200, admin=200),
    ),
    ("/api/v1/openapi.json", dict(anonymous=200, organizer=200, other=200, auditor=200, admin=200)),
    # The counted receipts are public (no login); a draft has none; open: "not yet" (200).
    ("/r/{closed}/receipts", dict(anonymous=200, organizer=200, other=200, auditor=200, admin=200)),
    ("/r/{open}/receipts", dict(anonymous=200, organizer=200, other=200, auditor=200, admin=200)),
    (
        "/r/{open}/receipts.json",
        dict(anonymous=404, organizer=404, other=404, auditor=404, admin=404),
    ),
    ("/r/{draft}/receipts", dict(anonymous=404, organizer=404, other=404, auditor=404, admin=404)),
    (
        "/audit/rounds/{open}/trackers",
        dict(anonymous=LOGIN, organizer=403, other=403, auditor=200, admin=200),
    ),
    (
        "/api/v1/rounds/{closed}/results",
        dict(anonymous=401, organizer=200, other=403, auditor=200, admin=200),
    ),
    (
        "/api/v1/rounds/{open}/results",
        dict(anonymous=401, organizer=409, other=403, auditor=409, admin=409),
    ),
]

# Actions: the form is sent with a valid CSRF token, so only the role decides. The data is
# incomplete on purpose where the action would change the round (a refusal by the form comes
# after the access check), so that one world serves the whole table.
POST_ROUTES = [
    ("/admin/bodies", {}, dict(anonymous=LOGIN, organizer=403, other=403, auditor=403, admin=422)),
    (
        "/admin/bodies/A/rounds/new",
        {},
        dict(anonymous=LOGIN, organizer=200, other=403, auditor=403, admin=200),
    ),
    (
        "/admin/rounds/{draft}/roster",
        {},
        dict(anonymous=LOGIN, organizer=422, other=403, auditor=403, admin=422),
    ),
    (
        "/admin/rounds/{draft}/exempt",
        {},
        dict(anonymous=LOGIN, organizer=302, other=403, auditor=403, admin=302),
    ),
    (
        "/admin/rounds/{draft}/restore",
        {},
        dict(anonymous=LOGIN, organizer=302, other=403, auditor=403, admin=302),
    ),
    (
        "/admin/rounds/{draft}/codes",
        {},
        dict(anonymous=LOGIN, organizer=302, other=403, auditor=403, admin=302),
    ),
    (
        "/admin/rounds/{open}/paper/1",
        {"action": "add"},
        dict(anonymous=LOGIN, organizer=422, other=403, auditor=403, admin=422),
    ),
    (
        "/admin/rounds/{open}/paper/compare",
        {},
        dict(anonymous=LOGIN, organizer=302, other=403, auditor=403, admin=302),
    ),
    (
        "/admin/rounds/{open}/paper/upload",
        {},
        dict(anonymous=LOGIN, organizer=302, other=403, auditor=403, admin=302),
    ),
]


def _has_reports() -> bool:
    try:
        import reports
    except ImportError:
        return False
    return callable(getattr(reports, "minutes", None)) and callable(
        getattr(reports, "ballot_form", None)
    )


if not _has_reports():  # the PDF downloads appear with the reports package
    GET_ROUTES = [(p, t) for p, t in GET_ROUTES if not p.endswith(".pdf")]


def _client(world: World, role: str):  # type: ignore[no-untyped-def]
    return world.client(None if role == "anonymous" else role)


def _path(world: World, template: str) -> str:
    return template.format(**world.ids)


@pytest.mark.parametrize("role", ROLES)
def test_pages_by_role(world: World, role: str) -> None:
    client = _client(world, role)
    got = {path: client.get(_path(world, path)).status_code for path, _ in GET_ROUTES}
    expected = {path: table[role] for path, table in GET_ROUTES}
    assert got == expected


@pytest.mark.parametrize("role", ROLES)
def test_actions_by_role(world: World, role: str) -> None:
    client = _client(world, role)
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    got = {}
    for path, data, _table in POST_ROUTES:
        got[path] = client.post(_path(world, path), data={"csrf_token": token, **data}).status_code
    expected = {path: table[role] for path, _data, table in POST_ROUTES}
    assert got == expected


def test_transitions_by_role(world: World) -> None:
    """Open, close, publish: refused to others, done for the organizer of the body."""
    for role in ("anonymous", "other", "auditor"):
        client = _client(world, role)
        token = csrf_token(client.get("/auth/login").get_data(as_text=True))
        for action, round_name in (("open", "draft"), ("close", "open"), ("publish", "closed")):
            response = client.post(
                f"/admin/rounds/{world.ids[round_name]}/{action}", data={"csrf_token": token}
            )
            assert response.status_code == (LOGIN if role == "anonymous" else 403)
    client = world.client("organizer")
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    for action, round_name, state in (
        ("open", "draft", "open"),
        ("close", "open", "closed"),
        ("publish", "closed", "published"),
    ):
        response = client.post(
            f"/admin/rounds/{world.ids[round_name]}/{action}", data={"csrf_token": token}
        )
        assert response.status_code == 302
        page = client.get(f"/admin/rounds/{world.ids[round_name]}").get_data(as_text=True)
        assert f"badge-{state}" in page
