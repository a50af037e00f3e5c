"""What users do, one function each: the core's only door for the command line, pages and API.

Every operation takes a unit of work (a write transaction and its actor, see `work`) and
plain values (ids, codes, numbers, texts), calls the domain modules and records its own audit
event. Nothing here imports Flask or Click; see docs/ARCHITECTURE.md for the layers.
"""

from __future__ import annotations

from .accounts import add_staff, record_login, set_staff_password
from .ballots import (
    accept_entries,
    add_paper_ballot,
    cast_ballot,
    correct_entries,
    discard_entry,
    finish_entry,
    import_paper_ballots,
    remove_paper_ballot,
    reopen_entry,
)
from .codes import issue_codes
from .committee import create_committee, receive_committee_file, remove_committee
from .documents import Document, log_download
from .groups import add_group, choose_deciding, record_group_meeting
from .packages import import_package, installation_key, trust_key
from .rounds import (
    KEEP,
    add_body,
    close_round,
    create_round,
    exempt_person,
    follow_up,
    open_round,
    place_body,
    publish_round,
    record_attendance,
    record_meeting,
    resign_person,
    restore_person,
    set_roster,
)
from .rules import add_profile
from .work import Work, work

__all__ = [
    "KEEP",
    "Document",
    "Work",
    "accept_entries",
    "add_body",
    "add_group",
    "add_paper_ballot",
    "add_profile",
    "add_staff",
    "cast_ballot",
    "choose_deciding",
    "close_round",
    "correct_entries",
    "create_committee",
    "create_round",
    "discard_entry",
    "exempt_person",
    "finish_entry",
    "follow_up",
    "import_package",
    "import_paper_ballots",
    "installation_key",
    "issue_codes",
    "log_download",
    "open_round",
    "place_body",
    "publish_round",
    "receive_committee_file",
    "record_attendance",
    "record_group_meeting",
    "record_login",
    "record_meeting",
    "remove_committee",
    "remove_paper_ballot",
    "reopen_entry",
    "resign_person",
    "restore_person",
    "set_roster",
    "set_staff_password",
    "trust_key",
    "work",
]
