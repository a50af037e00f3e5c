"""Documents and downloads: one builder for each, used by the command line and every page.

Each builder returns a Document (its bytes, a file name and a media type); `log_download`
records who took which document and its SHA-256. Results exist only for counted rounds: the
builders refuse the others, so no door can hand out a number of an open round.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import reports

from .. import package, profiles, rounds, rules
from ..bundle import export_round
from ..committee import get_key
from ..errors import N_, NotFound, WrongState
from ..groups import get_group
from ..i18n import translate
from ..limits import file_name_part, searchable, spreadsheet_safe
from ..meeting import meeting_details
from ..models import Person, Round
from ..period import period_report
from ..persons import identity_persons
from ..results import group_view, round_header, round_results
from ..roster import ROSTER_COLUMNS, roster_entries
from ..seal import box_digest
from ..text import name_sort_key
from ..vocabulary import DECIDING_BODIES, member_word
from .codes import issue_codes
from .work import Work

PDF = "application/pdf"


@dataclass(frozen=True)
class Document:
    """A file handed to a user."""

    kind: str
    data: bytes
    filename: str
    mimetype: str

    @property
    def sha256(self) -> str:
        """Return the SHA-256 of the file, as the log records it."""
        return hashlib.sha256(self.data).hexdigest()


def round_document(session: Session, round_: Round) -> dict[str, Any]:
    """Describe a round and its ballot items: the input of the ballot form and the slips."""
    profile = profiles.get_profile(session, round_.profile_id, round_.profile_version)
    return {
        **round_header(round_),
        "profile": {"id": round_.profile_id, "version": round_.profile_version},
        "invalid_scope": profile.invalid_marks,
        "signature": profile.ballot_signature,
        "meeting": meeting_details(round_),
        "items": [
            {"order": i.order, "name": i.name, "position": i.position, "kind": i.kind}
            for i in round_.items
        ],
    }


def _words(kind: str, body_name: str = "") -> dict[str, str]:
    """Return the documents' words for a body, in Vietnamese (votes.vocabulary).

    A People's Council's report goes to its own Standing Board: "Thường trực" and the
    council's name, when the name says which council it is.
    """
    deciding = translate(DECIDING_BODIES[kind], "vi")
    if kind == "council" and body_name.casefold().startswith("hội đồng nhân dân"):
        deciding = f"Thường trực {body_name}"
    return {"member": translate(member_word(kind), "vi"), "deciding": deciding}


def _dated(round_: Round) -> None:
    """Refuse a document dated by the meeting while no meeting date is recorded."""
    if round_.held_on is None:
        raise WrongState(
            N_(
                "Round {id} has no meeting date, and the minutes are dated by the meeting, "
                "never by the day they are printed. Record the meeting first: votes round "
                'meeting {id} --held-on YYYY-MM-DD --committee "Họ tên (Trưởng ban); Họ tên" '
                "(or on the round's page, under The meeting)."
            ),
            id=round_.id,
        )


def _sealed_box(session: Session, round_: Round, group: int | None) -> dict[str, Any] | None:
    """Describe a round's (or a voter group's) box of sealed ballots for the minutes: its
    digest and the counting committee's k of n. None for a round without online ballots."""
    key = get_key(session, round_.id)
    if key is None or key.parameters is None:
        return None
    several = len(round_.groups) > 1
    return {
        "digest": box_digest(session, round_.id, group),
        "threshold": key.threshold,
        "size": key.size,
        # One voter group's box of several: not the whole round's public list.
        "group": get_group(round_, group).name if several and group is not None else None,
    }


def minutes(
    session: Session, round_id: int, *, place: str | None = None, group: int | None = None
) -> Document:
    """Build the counting minutes of a counted round (or of one voter group: its own meeting
    and counting committee), dated and placed by its meeting."""
    round_ = rounds.get_round(session, round_id)
    result = round_results(session, round_)
    if group is not None and len(round_.groups) > 1:
        target = get_group(round_, group)
        if target.held_on is None:
            raise WrongState(
                N_(
                    "Voter group {number} of round {id} has no meeting date, and its minutes "
                    "are dated by its meeting. Record it first: votes group meeting {id} "
                    '{number} --held-on YYYY-MM-DD --committee "Họ tên (Trưởng ban); Họ tên".'
                ),
                number=group,
                id=round_id,
            )
        result = {**group_view(result, group), "sealed_box": _sealed_box(session, round_, group)}
        pdf = reports.minutes(
            result, {"words": _words(round_.body.kind), **({"place": place} if place else {})}
        )
        return Document("minutes", pdf, f"round-{round_id}-group-{group}-minutes.pdf", PDF)
    _dated(round_)
    meta: dict[str, Any] = {"words": _words(round_.body.kind)}
    if place:
        meta["place"] = place
    # The box of the ballots the minutes count: the deciding group's, or all groups' together.
    deciding = None if result["deciding_hidden"] else round_.deciding_group
    pdf = reports.minutes({**result, "sealed_box": _sealed_box(session, round_, deciding)}, meta)
    return Document("minutes", pdf, f"round-{round_id}-minutes.pdf", PDF)


def outcome_report(session: Session, round_id: int) -> Document:
    """Build the report of a counted round's consequences for the committee that decides."""
    round_ = rounds.get_round(session, round_id)
    result = round_results(session, round_)
    _dated(round_)
    words = _words(round_.body.kind, round_.body.name)
    pdf = reports.outcome_report(result, {"words": words, "to": words["deciding"]})
    return Document("report", pdf, f"round-{round_id}-report.pdf", PDF)


def summary(session: Session, round_id: int) -> Document:
    """Build the results summary of a counted round, with its chart."""
    result = round_results(session, rounds.get_round(session, round_id))
    return Document("summary", reports.summary(result), f"round-{round_id}-summary.pdf", PDF)


def groups_summary(session: Session, round_id: int) -> Document:
    """Build the summary across the voter groups of a counted round: persons × groups."""
    result = round_results(session, rounds.get_round(session, round_id))
    return Document("groups", reports.groups_summary(result), f"round-{round_id}-groups.pdf", PDF)


def ballot_form(session: Session, round_id: int) -> Document:
    """Build the paper ballot of a round, with the profile's rule for invalid marks."""
    round_ = rounds.get_round(session, round_id)
    pdf = reports.ballot_form(round_document(session, round_))
    return Document("ballot", pdf, f"round-{round_id}-ballot.pdf", PDF)


def slips(
    work: Work,
    round_id: int,
    count: int,
    secret: str | bytes,
    base_url: str,
    *,
    group: int | None = None,
) -> Document:
    """Issue `count` new codes and print them on slips (codes are never stored, only printed)."""
    codes = issue_codes(work, round_id, count, secret, group=group)
    round_ = work.round(round_id)
    pdf = reports.slips(round_document(work.session, round_), codes, base_url)
    return Document("slips", pdf, f"round-{round_id}-codes.pdf", PDF)


def codes_text(
    work: Work, round_id: int, count: int, secret: str | bytes, *, group: int | None = None
) -> Document:
    """Issue `count` new codes as a text file, one a line."""
    codes = issue_codes(work, round_id, count, secret, group=group)
    data = ("\n".join(codes) + "\n").encode("ascii")
    return Document("codes", data, f"round-{round_id}-codes.txt", "text/plain; charset=utf-8")


def findings(session: Session, body_code: str, year: int | None = None) -> list[dict[str, Any]]:
    """Return the findings of a body (of one year, when given) as JSON-ready data."""
    body = rounds.get_body(session, body_code)
    return [f.as_dict() for f in rules.body_findings(session, body, year)]


def findings_pdf(session: Session, body_code: str, year: int | None = None) -> Document:
    """Build the findings list of a body."""
    body = rounds.get_body(session, body_code)
    pdf = reports.findings_list(
        {"code": body.code, "name": body.name, "kind": body.kind},
        findings(session, body_code, year),
    )
    return Document("findings", pdf, f"{file_name_part(body.code)}-findings.pdf", PDF)


def histories(
    session: Session, body_code: str, person_key: str | None = None
) -> list[dict[str, Any]]:
    """Return the history of every person of a body (or of one), in Vietnamese name order."""
    body = rounds.get_body(session, body_code)
    query = select(Person).where(Person.body_id == body.id)
    if person_key is not None:
        if not searchable(person_key, "person_key"):
            raise NotFound(
                N_("Unknown person {key} in body {code}."), key=person_key, code=body.code
            )
        query = query.where(Person.person_key == person_key)
    persons = sorted(session.scalars(query), key=lambda p: name_sort_key(p.name))
    if person_key is not None and not persons:
        raise NotFound(N_("Unknown person {key} in body {code}."), key=person_key, code=body.code)
    return [rules.person_history(session, body, person) for person in persons]


def history_pdf(session: Session, body_code: str, person_key: str) -> Document:
    """Build one person's history across the years."""
    (history,) = histories(session, body_code, person_key)
    body = rounds.get_body(session, body_code)
    person = session.scalar(
        select(Person).where(Person.body_id == body.id, Person.person_key == person_key)
    )
    number = person.id if person is not None else 0
    name = f"{file_name_part(body.code)}-history-{number}.pdf"
    return Document("history", reports.history(history), name, PDF)


def results_json(session: Session, round_id: int) -> Document:
    """Build the results of a counted round as JSON (the shape of `votes results --format json`)."""
    result = round_results(session, rounds.get_round(session, round_id))
    data = json.dumps(result, ensure_ascii=False, indent=2).encode("utf-8")
    return Document("results.json", data, f"round-{round_id}-results.json", "application/json")


def results_csv_text(result: dict[str, Any], language: str = "vi") -> str:
    """Write a result as CSV, one line per item, each with the round's seal and the log's head.

    Findings are in words, in `language`. Text cells that a spreadsheet would run as a formula
    are written as text (limits).
    """
    kind = result["round"].get("body_kind")
    head = result.get("head")
    head_text = f"{head['id']}:{head['hash']}" if head else ""
    levels = list(result["items"][0]["percent"]) if result["items"] else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "order",
            "person_key",
            "name",
            "position",
            *levels,
            "invalid",
            *[f"{level}_percent" for level in levels],
            "denominator",
            "findings",
            "seal",
            "log_head",
        ]
    )
    groups = result.get("groups") or []
    if len(groups) > 1:
        return _widened_csv(result, language, levels, head_text)
    for item in result["items"]:
        writer.writerow(
            [
                item["order"],
                spreadsheet_safe(item["person_key"] or ""),
                spreadsheet_safe(item["name"]),
                spreadsheet_safe(item["position"]),
                *[item["counts"][level] for level in levels],
                item["counts"]["invalid"],
                *[item["percent"][level] or "" for level in levels],
                result["denominator"]["value"]
                if result["denominator"]["value"] is not None
                else "",
                "; ".join(rules.finding_message(f, kind).text(language) for f in item["findings"]),
                result.get("seal") or "",
                head_text,
            ]
        )
    return out.getvalue()


def _widened_csv(result: dict[str, Any], language: str, levels: list[str], head_text: str) -> str:
    """Write the result of a round of several voter groups: one line per group shown and item,
    then the combined result; a first column names the result ("1", "2", … or "combined")
    and "deciding" marks the one that decides. A hidden (small) group has no line."""
    kind = result["round"].get("body_kind")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "result",
            "group_name",
            "deciding",
            "order",
            "person_key",
            "name",
            "position",
            *levels,
            "invalid",
            *[f"{level}_percent" for level in levels],
            "denominator_basis",
            "denominator",
            "findings",
            "seal",
            "log_head",
        ]
    )
    shown = [
        (str(group["number"]), group["name"], group)
        for group in result["groups"]
        if not group["hidden_small"]
    ]
    if not result["combined"].get("withheld"):
        shown.append(("combined", "", result["combined"]))
    for label, name, part in shown:
        for item in part["items"]:
            writer.writerow(
                [
                    label,
                    spreadsheet_safe(name),
                    "yes" if part["deciding"] else "",
                    item["order"],
                    spreadsheet_safe(item["person_key"] or ""),
                    spreadsheet_safe(item["name"]),
                    spreadsheet_safe(item["position"]),
                    *[item["counts"][level] for level in levels],
                    item["counts"]["invalid"],
                    *[item["percent"][level] or "" for level in levels],
                    part["denominator"]["basis"],
                    part["denominator"]["value"]
                    if part["denominator"]["value"] is not None
                    else "",
                    "; ".join(
                        rules.finding_message(f, kind).text(language) for f in item["findings"]
                    ),
                    result.get("seal") or "",
                    head_text,
                ]
            )
    return out.getvalue()


def results_csv(session: Session, round_id: int) -> Document:
    """Build the results of a counted round as CSV (UTF-8 with a BOM, for spreadsheets)."""
    result = round_results(session, rounds.get_round(session, round_id))
    data = ("\ufeff" + results_csv_text(result)).encode("utf-8")
    return Document("results.csv", data, f"round-{round_id}-results.csv", "text/csv; charset=utf-8")


def bundle(session: Session, round_id: int) -> Document:
    """Build the export bundle of a counted round: anyone can recount it with Python alone."""
    round_ = rounds.get_round(session, round_id)
    # Signed with the installation's key once it has one (operations.installation_key makes
    # it): a signed bundle is the package a lower level sends up (votes/package.py).
    if package.has_installation_key(session) or round_.reported_from is not None:
        data = package.signed_bundle(session, round_)
    else:
        data = export_round(session, round_)
    return Document("bundle", data, f"round-{round_id}-bundle.zip", "application/zip")


def log_download(
    work: Work, document: Document, *, round_id: int | None = None, **details: Any
) -> None:
    """Record who took which document, with its SHA-256 (before it is handed over)."""
    if document.kind == "bundle":
        work.log(
            "bundle_exported", round_id=round_id, details={"sha256": document.sha256, **details}
        )
        return
    work.log(
        "report_downloaded",
        round_id=round_id,
        details={"kind": document.kind, "sha256": document.sha256, **details},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def period(session: Session, body_code: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Return the periodic report of a body and its subtree (JSON-ready; votes.period)."""
    return period_report(session, rounds.get_body(session, body_code), start, end)


def _period_name(body_code: str, start: dt.date, end: dt.date, suffix: str) -> str:
    return f"{file_name_part(body_code)}-report-{start.isoformat()}-{end.isoformat()}.{suffix}"


def period_pdf(session: Session, body_code: str, start: dt.date, end: dt.date) -> Document:
    """Build the periodic report as PDF, with a chart per level."""
    data = reports.period_pdf(period(session, body_code, start, end))
    return Document("period", data, _period_name(body_code, start, end, "pdf"), PDF)


def period_xlsx(session: Session, body_code: str, start: dt.date, end: dt.date) -> Document:
    """Build the periodic report as an Excel workbook ("Tổng hợp", "Kết luận", …)."""
    data = reports.period_workbook(period(session, body_code, start, end))
    return Document("period.xlsx", data, _period_name(body_code, start, end, "xlsx"), XLSX)


def results_xlsx(session: Session, round_id: int) -> Document:
    """Build the results of a counted round as an Excel workbook."""
    result = round_results(session, rounds.get_round(session, round_id))
    data = reports.results_workbook(result)
    return Document("results.xlsx", data, f"round-{round_id}-results.xlsx", XLSX)


def findings_xlsx(session: Session, body_code: str, year: int | None = None) -> Document:
    """Build the findings of a body as an Excel workbook."""
    body = rounds.get_body(session, body_code)
    data = reports.findings_workbook(findings(session, body_code, year))
    return Document("findings.xlsx", data, f"{file_name_part(body.code)}-findings.xlsx", XLSX)


def identity_histories(session: Session, identity: str) -> list[dict[str, Any]]:
    """Return one person's history in every body that polled them (one identity tree-wide)."""
    persons = identity_persons(session, identity) if searchable(identity, "person_key") else []
    if not persons:
        raise NotFound(N_("Unknown person {key}."), key=identity)
    return [rules.person_history(session, person.body, person) for person in persons]


def histories_xlsx(histories: list[dict[str, Any]], name: str) -> Document:
    """Build histories as an Excel workbook: a row per person, body and round."""
    return Document("history.xlsx", reports.histories_workbook(histories), name, XLSX)


def roster_xlsx(session: Session, round_id: int) -> Document:
    """Build a round's roster as an Excel workbook, in the columns a roster is loaded from."""
    round_ = rounds.get_round(session, round_id)
    rows = [list(ROSTER_COLUMNS)] + [
        [
            e.name,
            e.position,
            e.person_key or "",
            e.kind,
            e.exempt_reason,
            e.exempt_decision,
        ]
        for e in roster_entries(round_)
    ]
    data = reports.roster_workbook(rows)
    return Document("roster.xlsx", data, f"round-{round_id}-roster.xlsx", XLSX)
