"""Ballots: cast online, imported from a file of paper ballots, or typed twice and accepted."""

from __future__ import annotations

from .. import paper, voting
from ..voting import ImportResult

# Casting has no actor and writes no event: nothing about a cast may be logged
# (docs/ANONYMITY.md). The cast owns its transaction; it is the voting module's own.
from ..voting import cast_ballot as cast_ballot
from .work import Work


def _log_import(
    work: Work,
    round_id: int,
    result: ImportResult,
    paper_issued: int | None,
    entered_by: list[str] | None = None,
) -> None:
    work.log(
        "ballots_imported",
        round_id=round_id,
        details={
            "count": result.count,
            "valid": result.valid,
            "invalid": result.invalid,
            "sha256": result.sha256,
            "paper_issued": paper_issued,
            **({"entered_by": entered_by} if entered_by else {}),
            **({"another_stack": True} if result.another_stack and not entered_by else {}),
            **({"submission": result.submission} if result.submission else {}),
            **({"group": result.group} if result.widened else {}),
        },
    )


def import_paper_ballots(
    work: Work,
    round_id: int,
    data: bytes,
    *,
    issued: int | None = None,
    another_stack: bool = False,
    submission: str | None = None,
    group: int | None = None,
) -> ImportResult:
    """Import a file of paper ballots into an open round (of one voter group): the whole file
    or nothing.

    A file already imported into the round is refused (with the time of that import) unless
    the organizer says it is `another_stack`; `submission` is the one-time token of the form
    (or the API's Idempotency-Key) that sent it, and a token seen before is always refused.
    """
    round_ = work.round(round_id)
    result = voting.import_paper_ballots(
        work.session,
        round_,
        data,
        issued=issued,
        another_stack=another_stack,
        submission=voting.submission_digest(submission),
        group=group,
    )
    _log_import(work, round_.id, result, round_.paper_issued)
    return result


def add_paper_ballot(
    work: Work, round_id: int, entry: int, line: str, *, number: int, group: int | None = None
) -> bool:
    """Add ballot `number` to a clerk's entry; False if a resent form had added it already."""
    return paper.add_ballot(
        work.session,
        work.round(round_id),
        entry,
        line,
        number=number,
        clerk=work.actor,
        group=group,
    )


def remove_paper_ballot(
    work: Work, round_id: int, entry: int, *, number: int, group: int | None = None
) -> bool:
    """Remove the last ballot of an unfinished entry; False if it is gone already."""
    return paper.remove_last(work.session, work.round(round_id), entry, number=number, group=group)


def finish_entry(work: Work, round_id: int, entry: int, group: int | None = None) -> None:
    """Mark a clerk's entry finished."""
    paper.finish(work.session, work.round(round_id), entry, group)


def reopen_entry(work: Work, round_id: int, entry: int, group: int | None = None) -> None:
    """Let a finished entry be typed into again."""
    paper.reopen(work.session, work.round(round_id), entry, group)


def discard_entry(work: Work, round_id: int, entry: int, group: int | None = None) -> None:
    """Throw an entry away, to type it again from the first ballot."""
    paper.discard(work.session, work.round(round_id), entry, group)


def correct_entries(
    work: Work, round_id: int, texts: tuple[str, str], group: int | None = None
) -> None:
    """Save corrections to both finished entries (refused whole if a line is wrong)."""
    paper.correct(work.session, work.round(round_id), texts, group)


def accept_entries(
    work: Work, round_id: int, *, issued: int | None, group: int | None = None
) -> ImportResult:
    """Put the agreed batch of both entries into the ballot box (of the voter group it was
    typed for), naming both clerks in the log."""
    round_ = work.round(round_id)
    result, clerks = paper.accept(work.session, round_, issued=issued, group=group)
    _log_import(work, round_.id, result, round_.paper_issued, clerks)
    return result
