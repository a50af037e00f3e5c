"""JSON API under /api/v1: fetch a ballot, cast it, read results (staff); OpenAPI 3 document.

Voters' calls are exempt from CSRF (no cookie authenticates them: the code does) and accept
only `application/json`, which a cross-site HTML form cannot send. The same functions and the
same refusals as the web form apply (ballot.REFUSALS explains which refusals look alike).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user

from .. import operations, staff
from ..errors import InvalidInput, VotesError, WrongState
from ..limits import COUNT_MAX
from ..models import Round
from ..results import round_results
from ..voting import AlreadyImported, CastRefused
from .ballot import REFUSALS
from .code_budget import code_limit
from .common import find_code, language, message, prepare_sealing, reading, staff_user, working
from .words import level_labels

bp = Blueprint("api", __name__)

ERRORS = {
    "malformed": "malformed_code",
    "unknown": "code_not_accepted",
    "not_open": "code_not_accepted",
    "used": "code_used",
    "marks": "invalid_marks",
}


def _refusal(reason: str, detail: str | None = None) -> tuple[Any, int]:
    status, text = REFUSALS.get(reason, REFUSALS["unknown"])
    body = {"error": ERRORS.get(reason, "code_not_accepted"), "message": str(text)}
    if detail:
        body["detail"] = detail
    return jsonify(body), status


def _json() -> dict[str, Any] | None:
    if not request.is_json:
        return None
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def _unsupported() -> tuple[Any, int]:
    return jsonify({"error": "expected_json_object", "status": 415}), 415


@bp.route("/ballot", methods=["POST"])
@code_limit
def ballot() -> Any:
    """Return the ballot for a code (POST, so that the code stays out of addresses and logs)."""
    data = _json()
    if data is None:
        return _unsupported()
    state, round_ = find_code(reading(), str(data.get("code", "")))
    if state != "ok" or round_ is None:
        return _refusal(state)
    prepare_sealing(round_)  # the cast comes soon: its pads are made meanwhile
    levels = [{"mark": mark, "label": str(label)} for mark, label in level_labels(round_.scale)]
    return jsonify(
        {
            "round": {
                "id": round_.id,
                "title": round_.title,
                "body": round_.body_name,
                "year": round_.year,
                "scale": round_.scale,
            },
            "levels": levels,
            "items": [
                {"order": i.order, "kind": i.kind, "name": i.name, "position": i.position}
                for i in round_.items
            ],
        }
    )


@bp.route("/ballots", methods=["POST"])
@code_limit
def cast() -> Any:
    """Cast a ballot: {"code", "marks": {"1": "H", …}} → 201 {"receipt"}."""
    data = _json()
    if data is None:
        return _unsupported()
    marks = data.get("marks")
    if not isinstance(marks, dict | list):
        return _refusal("marks", "marks must be an object {order: level}")
    session = reading()
    code = str(data.get("code", ""))
    state, round_ = find_code(session, code)
    if state != "ok" or round_ is None:
        return _refusal(state)
    round_id = round_.id
    session.rollback()
    try:
        receipt = operations.cast_ballot(
            session, current_app.config["SECRET_KEY"], code, marks, round_id=round_id
        )
    except CastRefused as refused:
        return _refusal(refused.reason, message(refused) if refused.reason == "marks" else None)
    return jsonify({"receipt": receipt}), 201


@bp.route("/rounds/<int:round_id>/results")
def results(round_id: int) -> Any:
    """Return the results of a closed or published round to logged-in staff who may see it."""
    if not current_user.is_authenticated:
        return jsonify({"error": "unauthorized", "status": 401}), 401
    session = reading()
    round_ = session.get(Round, round_id)
    if round_ is None:
        return jsonify({"error": "not_found", "status": 404}), 404
    if not staff.can_view(session, staff_user(session), round_.body_id):
        return jsonify({"error": "forbidden", "status": 403}), 403
    try:
        return jsonify(round_results(session, round_))
    except VotesError as error:
        return jsonify(
            {"error": "not_closed", "message": error.message(language()), "status": 409}
        ), 409


# The longest Idempotency-Key taken (a UUID is 36 characters).
IDEMPOTENCY_KEY_MAX = 200


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@bp.route("/rounds/<int:round_id>/paper-ballots", methods=["POST"])
def paper_import(round_id: int) -> Any:
    """Import a CSV file of paper ballots (staff who manage the body): the body is text/csv.

    `?issued=N` records the paper ballots handed out; the same file is refused the second
    time (409, with the time of the first import) unless `?another_stack=true`; a request
    sent again with the same `Idempotency-Key` header is always refused. In a round of
    several voter groups `?group=N` names the group the ballots belong to (the same file in
    another group is refused as well, unless another stack). Only text/csv is
    taken, which no cross-site form can send; no session cookie rides on a cross-site POST
    either (SameSite=Lax).
    """
    if request.mimetype != "text/csv":
        return jsonify({"error": "expected_csv", "status": 415}), 415
    if not current_user.is_authenticated:
        return jsonify({"error": "unauthorized", "status": 401}), 401
    session = reading()
    round_ = session.get(Round, round_id)
    if round_ is None:
        return jsonify({"error": "not_found", "status": 404}), 404
    if not staff.can_manage(session, staff_user(session), round_.body_id):
        return jsonify({"error": "forbidden", "status": 403}), 403
    issued_text = request.args.get("issued")
    group_text = request.args.get("group")
    key = request.headers.get("Idempotency-Key")
    if (
        (
            issued_text is not None
            and not (issued_text.isascii() and issued_text.isdigit() and len(issued_text) <= 7)
        )
        or (
            group_text is not None
            and not (group_text.isascii() and group_text.isdigit() and len(group_text) <= 9)
        )
        or (key is not None and len(key) > IDEMPOTENCY_KEY_MAX)
    ):
        return jsonify({"error": "invalid_parameters", "status": 422}), 422
    issued = int(issued_text) if issued_text is not None else None
    if issued is not None and issued > COUNT_MAX:
        return jsonify({"error": "invalid_parameters", "status": 422}), 422
    try:
        with working() as work:
            result = operations.import_paper_ballots(
                work,
                round_id,
                request.get_data(),
                issued=issued,
                another_stack=_flag(request.args.get("another_stack")),
                submission=key,
                group=int(group_text) if group_text is not None else None,
            )
    except AlreadyImported as refused:
        first = refused.first
        return jsonify(
            {
                "error": "already_imported",
                "message": message(refused),
                "first_imported_at": first.isoformat() if hasattr(first, "isoformat") else None,
                "status": 409,
            }
        ), 409
    except WrongState as refused:
        return jsonify({"error": "wrong_state", "message": message(refused), "status": 409}), 409
    except VotesError as refused:
        problems = refused.problems if isinstance(refused, InvalidInput) else []
        return jsonify(
            {
                "error": "refused",
                "message": message(refused),
                "problems": [message(p) for p in problems],
                "status": 422,
            }
        ), 422
    return jsonify(
        {
            "count": result.count,
            "valid": result.valid,
            "invalid": result.invalid,
            "sha256": result.sha256,
            **({"group": result.group} if result.widened else {}),
        }
    ), 201


@bp.route("/openapi.json")
def openapi() -> Any:
    """Return the OpenAPI 3 description of this API."""
    return jsonify(OPENAPI)


def _error_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "detail": {"type": "string"},
        },
        "required": ["error"],
    }


def _response(description: str, schema: str = "Error") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _unavailable() -> dict[str, Any]:
    """The answer of any operation that reaches the database while it is down (outage.py)."""
    return {
        **_response(
            "The database is unavailable for a moment; nothing was stored. "
            "Try again after the number of seconds in Retry-After."
        ),
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again",
                "schema": {"type": "integer"},
            }
        },
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Phiếu tín nhiệm — votes API",
        "version": "1",
        "description": "Fetch and cast confidence-vote ballots with a voter code; read "
        "results of closed rounds (staff, logged in).",
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/ballot": {
            "post": {
                "summary": "Fetch the ballot for a voter code",
                "operationId": "getBallot",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CodeRequest"}}
                    },
                },
                "responses": {
                    "200": _response(
                        "The ballot of the round the code belongs to (used or not: only a "
                        "cast tells that a code was used)",
                        "Ballot",
                    ),
                    "403": _response(
                        "Unknown code, or its round is not open (one answer for both)"
                    ),
                    "415": _response("The body is not a JSON object"),
                    "422": _response("Not a well-formed code"),
                    "429": _response("Too many refused codes from this address"),
                    "503": _unavailable(),
                },
            }
        },
        "/ballots": {
            "post": {
                "summary": "Cast a ballot",
                "operationId": "castBallot",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CastRequest"}}
                    },
                },
                "responses": {
                    "201": _response(
                        "Cast; the random receipt proves nothing about the vote", "Receipt"
                    ),
                    "403": _response(
                        "Unknown code, or its round is not open (one answer for both)"
                    ),
                    "409": _response("The code was already used"),
                    "415": _response("The body is not a JSON object"),
                    "422": _response(
                        "Invalid marks (one level per item required), or a malformed code"
                    ),
                    "429": _response("Too many refused codes from this address"),
                    "503": _unavailable(),
                },
            }
        },
        "/rounds/{round_id}/results": {
            "get": {
                "summary": "Results of a closed or published round (staff)",
                "operationId": "getResults",
                "parameters": [
                    {
                        "name": "round_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "security": [{"session": []}],
                "responses": {
                    "200": {
                        "description": "The result document (as `votes results --format json`): "
                        "the top level is the result that decides; `groups` gives each voter "
                        "group's result (a group under the small-round minimum, or one that "
                        "would let it be computed, has `hidden_small` true and no `ballots` or "
                        "`items`), `combined` the result of all groups together.",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Results"}}
                        },
                    },
                    "401": _response("Not logged in"),
                    "403": _response("Not allowed to see this body"),
                    "404": _response("No such round"),
                    "409": _response("The round is not closed yet"),
                    "503": _unavailable(),
                },
            }
        },
        "/rounds/{round_id}/paper-ballots": {
            "post": {
                "summary": "Import a CSV file of paper ballots (staff who manage the body)",
                "operationId": "importPaperBallots",
                "parameters": [
                    {
                        "name": "round_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    },
                    {
                        "name": "issued",
                        "in": "query",
                        "description": "Paper ballots handed out",
                        "schema": {"type": "integer", "minimum": 0},
                    },
                    {
                        "name": "group",
                        "in": "query",
                        "description": "The voter group the ballots belong to (needed in a "
                        "round of several groups; the answer then repeats it as `group`)",
                        "schema": {"type": "integer", "minimum": 1},
                    },
                    {
                        "name": "another_stack",
                        "in": "query",
                        "description": "The same file was imported before, but this is "
                        "another stack of ballots",
                        "schema": {"type": "boolean"},
                    },
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "description": "A key of the client's own: a request sent again "
                        "with the same key is never imported twice",
                        "schema": {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX},
                    },
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "text/csv": {
                            "schema": {"type": "string"},
                            "example": "status,1,2\nvalid,H,C\ninvalid,,\n",
                        }
                    },
                },
                "security": [{"session": []}],
                "responses": {
                    "201": _response("Imported", "Imported"),
                    "401": _response("Not logged in"),
                    "403": _response("Not allowed to manage this body"),
                    "404": _response("No such round"),
                    "409": _response(
                        "The file (or this request) was imported before, or the round is "
                        "not open; nothing was imported"
                    ),
                    "413": _response("The file is too large"),
                    "415": _response("The body is not text/csv"),
                    "422": _response("A line of the file, or a parameter, is refused"),
                    "503": _unavailable(),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {
                    "200": {
                        "description": "OpenAPI 3 document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
    },
    "components": {
        "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "votes_session"}},
        "schemas": {
            "Error": _error_schema(),
            "Results": {
                "type": "object",
                "required": ["round", "ballots", "denominator", "items", "groups", "combined"],
                "properties": {
                    "round": {"type": "object"},
                    "ballots": {"type": "object"},
                    "denominator": {"type": "object"},
                    "items": {"type": "array", "items": {"type": "object"}},
                    "deciding": {
                        "description": 'the number of the deciding group, or "combined"',
                        "oneOf": [{"type": "integer"}, {"type": "string", "enum": ["combined"]}],
                    },
                    "groups": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["number", "name", "deciding", "hidden_small"],
                            "properties": {
                                "number": {"type": "integer"},
                                "name": {"type": "string"},
                                "deciding": {"type": "boolean"},
                                "hidden_small": {"type": "boolean"},
                                "hidden_reason": {
                                    "type": ["string", "null"],
                                    "enum": ["small", "shields_small", None],
                                },
                                "ballots": {"type": "object"},
                                "items": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    },
                    "combined": {
                        "type": "object",
                        "required": ["deciding", "withheld"],
                        "properties": {
                            "deciding": {"type": "boolean"},
                            "withheld": {"type": "boolean"},
                            "ballots": {"type": "object"},
                            "items": {"type": "array", "items": {"type": "object"}},
                        },
                    },
                },
            },
            "CodeRequest": {
                "type": "object",
                "required": ["code"],
                "properties": {"code": {"type": "string", "example": "ACDE-FGHJ-KMNP"}},
            },
            "CastRequest": {
                "type": "object",
                "required": ["code", "marks"],
                "properties": {
                    "code": {"type": "string"},
                    "marks": {
                        "type": "object",
                        "description": "item order → H/C/L (poll) or T/K (vote of confidence)",
                        "additionalProperties": {
                            "type": "string",
                            "enum": ["H", "C", "L", "T", "K"],
                        },
                        "example": {"1": "H", "2": "C"},
                    },
                },
            },
            "Imported": {
                "type": "object",
                "required": ["count", "valid", "invalid", "sha256"],
                "properties": {
                    "count": {"type": "integer"},
                    "valid": {"type": "integer"},
                    "invalid": {"type": "integer"},
                    "sha256": {"type": "string"},
                    "group": {
                        "type": "integer",
                        "description": "the voter group (a round of several groups)",
                    },
                },
            },
            "Receipt": {
                "type": "object",
                "required": ["receipt"],
                "properties": {"receipt": {"type": "string"}},
            },
            "Ballot": {
                "type": "object",
                "properties": {
                    "round": {"type": "object"},
                    "levels": {"type": "array", "items": {"type": "object"}},
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "order": {"type": "integer"},
                                "kind": {"type": "string"},
                                "name": {"type": "string"},
                                "position": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
    },
}
