"""The JSON API: the same rules and the same function as the form."""

from __future__ import annotations

import json
import re

from tests import web_fixtures
from tests.web_fixtures import World
from votes.web.api import OPENAPI

world = web_fixtures.world  # the fixture, under its own name


def test_fetch_and_cast(world: World) -> None:
    client = world.app.test_client()
    code = world.codes["open"][0]
    ballot = client.post("/api/v1/ballot", json={"code": code})
    assert ballot.status_code == 200
    data = ballot.get_json()
    assert [i["name"] for i in data["items"]] == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
    assert [lv["mark"] for lv in data["levels"]] == ["H", "C", "L"]
    cast = client.post(
        "/api/v1/ballots", json={"code": code, "marks": {"1": "H", "2": "C", "3": "L"}}
    )
    assert cast.status_code == 201
    assert re.fullmatch(r"BN( [0-9]{4}){4}", cast.get_json()["receipt"])
    again = client.post(
        "/api/v1/ballots", json={"code": code, "marks": {"1": "H", "2": "C", "3": "L"}}
    )
    assert again.status_code == 409
    assert again.get_json()["error"] == "code_used"


def test_refusals(world: World) -> None:
    client = world.app.test_client()
    marks = {"1": "H", "2": "C", "3": "L"}
    closed = client.post("/api/v1/ballots", json={"code": world.codes["closed"][1], "marks": marks})
    draft = client.post("/api/v1/ballots", json={"code": world.codes["draft"][0], "marks": marks})
    unknown = client.post("/api/v1/ballots", json={"code": "ACDE-FGHJ-KMNP", "marks": marks})
    assert closed.status_code == draft.status_code == unknown.status_code == 403
    assert closed.get_json() == draft.get_json() == unknown.get_json()
    incomplete = client.post(
        "/api/v1/ballots", json={"code": world.codes["open"][1], "marks": {"1": "H", "2": "C"}}
    )
    assert incomplete.status_code == 422
    assert incomplete.get_json()["error"] == "invalid_marks"
    wrong = client.post(
        "/api/v1/ballots",
        json={"code": world.codes["open"][1], "marks": {"1": "H", "2": "C", "3": "Z"}},
    )
    assert wrong.status_code == 422
    assert client.post("/api/v1/ballots", json={"code": "x", "marks": marks}).status_code == 422
    # Only JSON: a cross-site HTML form cannot send it, and the API needs no CSRF token.
    form = client.post("/api/v1/ballots", data={"code": world.codes["open"][1]})
    assert form.status_code == 415


def test_results_need_staff(world: World) -> None:
    anonymous = world.app.test_client()
    path = f"/api/v1/rounds/{world.ids['closed']}/results"
    assert anonymous.get(path).status_code == 401
    auditor = world.client("auditor")
    result = auditor.get(path).get_json()
    assert result["ballots"]["collected"] == 1
    assert world.client("other").get(path).status_code == 403
    assert auditor.get(f"/api/v1/rounds/{world.ids['open']}/results").status_code == 409


def test_openapi_document(world: World) -> None:
    response = world.app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.get_data(as_text=True))
    assert document["openapi"].startswith("3.")
    assert {"/ballot", "/ballots", "/rounds/{round_id}/results"} <= set(document["paths"])
    cast = document["paths"]["/ballots"]["post"]["responses"]
    assert {"201", "403", "409", "422"} <= set(cast)
    # Every $ref resolves.
    text = json.dumps(OPENAPI)
    for name in document["components"]["schemas"]:
        assert name in text
    for ref in set(part.split('"')[0] for part in text.split("#/components/schemas/")[1:]):
        assert ref in document["components"]["schemas"]
