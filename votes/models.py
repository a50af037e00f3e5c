"""The data model: bodies, persons, rounds, items, credentials and anonymous ballots."""

from __future__ import annotations

import datetime as dt
import enum
import secrets

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base


class RoundStatus(enum.StrEnum):
    """The life of a round: draft → open → (decrypting →) closed → published.

    A round with encrypted online ballots is `decrypting` from the end of voting until k
    members of its counting committee have decrypted the totals; it has no result until then.
    """

    DRAFT = "draft"
    OPEN = "open"
    DECRYPTING = "decrypting"
    CLOSED = "closed"
    PUBLISHED = "published"


class Scale(enum.StrEnum):
    """Three-level poll or two-level vote of confidence."""

    POLL = "poll"
    CONFIDENCE_VOTE = "confidence_vote"


class Role(enum.StrEnum):
    """Staff roles."""

    ADMIN = "admin"
    ORGANIZER = "organizer"
    AUDITOR = "auditor"


def random_id() -> bytes:
    """Return 16 random bytes: a key that says nothing about when a row was written."""
    return secrets.token_bytes(16)


class Body(Base):
    """An organisation that holds rounds (a Party committee, a People's Council, the Assembly).

    Bodies form a tree (votes/tree.py): each has a level — central, province, commune (the
    two-level local government since July 2025) or an agency — and a parent one level up.
    """

    __tablename__ = "body"
    __table_args__ = (
        CheckConstraint("kind IN ('party', 'council', 'assembly')", name="kind"),
        CheckConstraint("level IN ('central', 'province', 'commune', 'agency')", name="level"),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="party")
    level: Mapped[str] = mapped_column(String(16), default="province", server_default="province")
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("body.id", ondelete="RESTRICT"), index=True
    )

    rounds: Mapped[list[Round]] = relationship(back_populates="body", order_by="Round.id")


def _own_key(context: DefaultExecutionContext) -> str:
    """Default a person's identity to the body's key for them (a person nobody else is yet)."""
    parameters: dict[str, str] = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return parameters["person_key"]


class Person(Base):
    """One rated person in one body: the body's key for them, and their identity tree-wide.

    `person_key` is the body's own key (the roster's, else the name): it is what the rounds
    already sealed name, so it never changes. `identity` is the stable key of the person
    across the whole tree of bodies (votes/persons.py): the same identity in two bodies is
    one person with one history.
    """

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("body_id", "person_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("body.id", ondelete="CASCADE"))
    # The external key when the roster gives one, else the NFC-normalised name.
    person_key: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    identity: Mapped[str] = mapped_column(String(300), index=True, default=_own_key)

    body: Mapped[Body] = relationship()


class Round(Base):
    """A confidence poll (or a vote of confidence) of one body in one year."""

    __tablename__ = "round"
    __table_args__ = (
        CheckConstraint(
            "status IN ('draft', 'open', 'decrypting', 'closed', 'published')", name="status"
        ),
        CheckConstraint("scale IN ('poll', 'confidence_vote')", name="scale"),
        CheckConstraint("year BETWEEN 1945 AND 2200", name="year"),
        CheckConstraint("members IS NULL OR members >= 0", name="members"),
        CheckConstraint("summoned IS NULL OR summoned >= 0", name="summoned"),
        CheckConstraint("present IS NULL OR present >= 0", name="present"),
        CheckConstraint(
            "present IS NULL OR summoned IS NULL OR present <= summoned", name="present_le_summoned"
        ),
        CheckConstraint("paper_issued IS NULL OR paper_issued >= 0", name="paper_issued"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("body.id", ondelete="RESTRICT"))
    year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    profile_id: Mapped[str] = mapped_column(String(64))
    profile_version: Mapped[int] = mapped_column(Integer)
    scale: Mapped[str] = mapped_column(String(16), default=Scale.POLL.value)
    status: Mapped[str] = mapped_column(String(16), default=RoundStatus.DRAFT.value)
    members: Mapped[int | None] = mapped_column(Integer)
    summoned: Mapped[int | None] = mapped_column(Integer)
    present: Mapped[int | None] = mapped_column(Integer)
    # Paper ballots handed out; online codes issued are counted from the credential table.
    paper_issued: Mapped[int | None] = mapped_column(Integer)
    # Ballots issued and collected, frozen when the round closes (the figures of the minutes).
    issued: Mapped[int | None] = mapped_column(Integer)
    collected: Mapped[int | None] = mapped_column(Integer)
    # The meeting (hội nghị): its place and local date (Asia/Ho_Chi_Minh), when it started
    # and when the counting committee counted (UTC), and who presided.
    place: Mapped[str | None] = mapped_column(String(200))
    held_on: Mapped[dt.date | None] = mapped_column()
    starts_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    counted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    chair: Mapped[str | None] = mapped_column(String(300))
    # The number of the decision that allows a round outside its profile's dates or frequency.
    time_exception: Mapped[str | None] = mapped_column(String(200))
    # The round whose finding this vote of confidence follows up.
    followup_of: Mapped[int | None] = mapped_column(ForeignKey("round.id", ondelete="SET NULL"))
    # A vote of confidence on a proposal: who proposed it (an id of the profile's list), the
    # proposal's number and date, and how many deputies signed it where a share is required.
    proposal_by: Mapped[str | None] = mapped_column(String(64))
    proposal_number: Mapped[str | None] = mapped_column(String(200))
    proposal_on: Mapped[dt.date | None] = mapped_column()
    proposal_signatories: Mapped[int | None] = mapped_column(Integer)
    # A round reported by a lower installation in a signed package: read-only here, with its
    # id over there (which its seal names).
    reported_from: Mapped[int | None] = mapped_column(
        ForeignKey("reported_package.id", ondelete="RESTRICT")
    )
    origin_id: Mapped[int | None] = mapped_column(Integer)
    # Which result decides (DOMAIN.md §2, voter groups): the number of a voter group, or
    # NULL for the combined result of all groups. Chosen before the round opens (and logged).
    deciding_group: Mapped[int | None] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    body: Mapped[Body] = relationship(back_populates="rounds")
    items: Mapped[list[BallotItem]] = relationship(
        back_populates="round", order_by="BallotItem.order", cascade="all, delete-orphan"
    )
    exemptions: Mapped[list[Exemption]] = relationship(
        back_populates="round", cascade="all, delete-orphan"
    )
    committee: Mapped[list[CountingMember]] = relationship(
        back_populates="round", order_by="CountingMember.order", cascade="all, delete-orphan"
    )
    groups: Mapped[list[VoterGroup]] = relationship(
        back_populates="round", order_by="VoterGroup.number", cascade="all, delete-orphan"
    )


class VoterGroup(Base):
    """A voter group of a round ("nhóm lấy phiếu"): its own electorate, meeting and state.

    A round is rated by one or more groups that meet separately (the executive committee,
    heads of departments, retired leaders …). Each has its members, summoned and present,
    its own codes and paper ballots, its counting committee and its open/close. The round's
    own figures are the sums over its groups; a round created as before has one group, 1.
    """

    __tablename__ = "voter_group"
    __table_args__ = (
        UniqueConstraint("round_id", "number"),
        CheckConstraint("number >= 1", name="number"),
        CheckConstraint("status IN ('draft', 'open', 'closed')", name="status"),
        CheckConstraint("members IS NULL OR members >= 0", name="members"),
        CheckConstraint("summoned IS NULL OR summoned >= 0", name="summoned"),
        CheckConstraint("present IS NULL OR present >= 0", name="present"),
        CheckConstraint(
            "present IS NULL OR summoned IS NULL OR present <= summoned", name="present_le_summoned"
        ),
        CheckConstraint("paper_issued IS NULL OR paper_issued >= 0", name="paper_issued"),
        CheckConstraint(
            "kind IS NULL OR kind IN ('executive', 'deputies', 'heads', 'retired', 'front', "
            "'staff')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    # What the group is (vocabulary.GROUP_KINDS), so that a profile can name the group whose
    # result decides by default ("executive": the executive committee); NULL: not said.
    kind: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    members: Mapped[int | None] = mapped_column(Integer)
    summoned: Mapped[int | None] = mapped_column(Integer)
    present: Mapped[int | None] = mapped_column(Integer)
    paper_issued: Mapped[int | None] = mapped_column(Integer)
    # Frozen when the group closes, as the round's are when the round closes.
    issued: Mapped[int | None] = mapped_column(Integer)
    collected: Mapped[int | None] = mapped_column(Integer)
    # The group's own meeting: place, local date, and its counting committee (one member a
    # line, "Name" or "head: Name", as `votes round meeting --committee` reads it).
    place: Mapped[str | None] = mapped_column(String(200))
    held_on: Mapped[dt.date | None] = mapped_column()
    committee: Mapped[str | None] = mapped_column(Text)

    round: Mapped[Round] = relationship(back_populates="groups")


class BallotItem(Base):
    """One line of the ballot: a person (or the collective) with the position held that round."""

    __tablename__ = "ballot_item"
    __table_args__ = (
        UniqueConstraint("round_id", "order"),
        UniqueConstraint("round_id", "person_id"),
        CheckConstraint("kind IN ('person', 'collective')", name="kind"),
        CheckConstraint(
            "(kind = 'person' AND person_id IS NOT NULL) "
            "OR (kind = 'collective' AND person_id IS NULL)",
            name="person_or_collective",
        ),
        CheckConstraint('"order" >= 1', name="order"),
        CheckConstraint("referral IS NULL OR referral IN ('finding', 'proposal')", name="referral"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    order: Mapped[int] = mapped_column("order", Integer)
    kind: Mapped[str] = mapped_column(String(16), default="person")
    # On a vote of confidence: whether the person is on it by a finding or by a proposal.
    referral: Mapped[str | None] = mapped_column(String(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    # The name as printed on the ballot (the person's name, or the collective's label).
    name: Mapped[str] = mapped_column(String(300))
    position: Mapped[str] = mapped_column(String(300), default="")

    round: Mapped[Round] = relationship(back_populates="items")
    person: Mapped[Person | None] = relationship()


class Exemption(Base):
    """A person left off the ballot of a round, with the reason."""

    __tablename__ = "exemption"
    __table_args__ = (UniqueConstraint("round_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    position: Mapped[str] = mapped_column(String(300), default="")
    reason: Mapped[str] = mapped_column(String(500))
    # The id of a reason the profile lists, "other" (then `decision` is required), or
    # "resigned" (a vote of confidence: resigned before the vote, with the decision).
    reason_id: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str | None] = mapped_column(String(200))

    round: Mapped[Round] = relationship(back_populates="exemptions")
    person: Mapped[Person] = relationship()


class CountingMember(Base):
    """A member of the counting committee (Ban kiểm phiếu) elected at the round's meeting."""

    __tablename__ = "counting_member"
    __table_args__ = (
        UniqueConstraint("round_id", "order"),
        CheckConstraint("role IN ('head', 'member')", name="role"),
        CheckConstraint('"order" >= 1', name="order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    order: Mapped[int] = mapped_column("order", Integer)
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))

    round: Mapped[Round] = relationship(back_populates="committee")


class Credential(Base):
    """A voter code, kept only as an HMAC digest. It records that it was used, never when.

    Nothing here says which person received the code: codes are printed on slips handed out
    by lot, and nothing links a credential to the ballot cast with it.
    """

    __tablename__ = "credential"
    __table_args__ = (UniqueConstraint("digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"), index=True)
    # The voter group the code was issued for (its number in the round).
    group_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class Ballot(Base):
    """An anonymous ballot: the round, whether it is valid, and its marks. Nothing else.

    No voter, no credential, no time, no sequence (only its voter group): the key is random
    (and on SQLite the table is WITHOUT ROWID, so the file's row order follows that random key,
    not the order of casting).
    `marks` packs one character per ballot item in ballot order (frozen when the round opens):
    H/C/L for a poll, T/K for a vote of confidence, '-' for no box marked, 'X' for several.
    """

    __tablename__ = "ballot"
    __table_args__ = (
        CheckConstraint("status IN ('valid', 'invalid')", name="status"),
        {"sqlite_with_rowid": False},
    )

    round_id: Mapped[int] = mapped_column(
        ForeignKey("round.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True, default=random_id)
    # The voter group that cast it: the only thing a ballot says besides its marks.
    group_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    status: Mapped[str] = mapped_column(String(8), default="valid")
    marks: Mapped[str] = mapped_column(String(2000))


class Receipt(Base):
    """A random receipt handed to an online voter; linked to neither the code nor the ballot."""

    __tablename__ = "receipt"
    __table_args__ = ({"sqlite_with_rowid": False},)

    round_id: Mapped[int] = mapped_column(
        ForeignKey("round.id", ondelete="CASCADE"), primary_key=True
    )
    receipt: Mapped[str] = mapped_column(String(32), primary_key=True)


class PaperEntry(Base):
    """One clerk's typing of a stack of paper ballots, kept until both entries agree.

    Double entry: two clerks type the same stack, in the same order, as entry 1 and entry 2,
    perhaps at two computers. `lines` holds one ballot a line ("V HCL", "I X-L"). The entries
    are deleted when the batch is accepted into the box or the round closes; paper ballots
    come out of the box in no order that leads to a voter, and nothing here records a time.
    """

    __tablename__ = "paper_entry"
    __table_args__ = (CheckConstraint("entry IN (1, 2)", name="entry"),)

    round_id: Mapped[int] = mapped_column(
        ForeignKey("round.id", ondelete="CASCADE"), primary_key=True
    )
    group_number: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False, default=1, server_default="1"
    )
    entry: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    clerk: Mapped[str] = mapped_column(String(100))
    lines: Mapped[str] = mapped_column(Text, default="")
    finished: Mapped[bool] = mapped_column(Boolean, default=False)


class StoredProfile(Base):
    """A rule profile added by an organisation (built-in profiles ship with the package)."""

    __tablename__ = "profile"
    __table_args__ = (UniqueConstraint("profile_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    added_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )


class StaffUser(Base):
    """An organizer, auditor or administrator. Voters never log in."""

    __tablename__ = "staff_user"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'organizer', 'auditor')", name="role"),
        UniqueConstraint("username"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class StaffBody(Base):
    """An organizer's assignment to a body."""

    __tablename__ = "staff_body"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True
    )
    body_id: Mapped[int] = mapped_column(
        ForeignKey("body.id", ondelete="CASCADE"), primary_key=True
    )


class AuditEvent(Base):
    """One entry of the append-only, hash-chained log of every state change.

    Casting a ballot never writes an event: a time or an order here could be matched to a voter.
    The number of ballots enters the log when the round closes.
    """

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    # A plain number, not a foreign key: the log outlives what it describes.
    round_id: Mapped[int | None] = mapped_column(Integer, index=True)
    details: Mapped[str] = mapped_column(Text)  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class InstallationKey(Base):
    """This installation's Ed25519 signing key (one row), made on first use.

    It signs the packages of closed rounds sent up to the upper level (votes/package.py); the
    upper installation registers its public key as a TrustedKey for this installation's body.
    """

    __tablename__ = "installation_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    private_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )


class TrustedKey(Base):
    """The public key of a lower installation, trusted for packages about one body's subtree."""

    __tablename__ = "trusted_key"
    __table_args__ = (UniqueConstraint("body_id", "public_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("body.id", ondelete="CASCADE"))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    added_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )

    body: Mapped[Body] = relationship()


class ReportedPackage(Base):
    """A signed package imported from a lower installation, kept whole as it was received.

    Its rounds are stored as read-only "reported" rounds (Round.reported_from); the package
    itself stays the evidence: verifying a reported round re-verifies this package.
    """

    __tablename__ = "reported_package"
    __table_args__ = (UniqueConstraint("sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    body_id: Mapped[int] = mapped_column(ForeignKey("body.id", ondelete="RESTRICT"))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    imported_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.current_timestamp()
    )


class CommitteeState(enum.StrEnum):
    """The ceremony of a counting committee's key: members named → public parts → key made."""

    # Members named; each makes a key on their own machine and sends its public part.
    SETUP = "setup"
    # Every public part is in; each member sends the shares made for the others.
    SHARES = "shares"
    # Every member checked the shares they received: the joint key is made.
    COMPLETE = "complete"


class CountingKey(Base):
    """The counting committee's key of a round: k of n members can decrypt the totals.

    Only public values are kept: each member's public part (commitments and proofs), the
    shares they made for the others (encrypted to each recipient), each member's check of the
    shares received, and the joint public key the online ballots are encrypted to. After the
    close: the encrypted totals and, once k members have decrypted them, the totals.
    """

    __tablename__ = "counting_key"
    __table_args__ = (
        CheckConstraint("threshold >= 1 AND threshold <= size", name="threshold"),
        CheckConstraint("size BETWEEN 1 AND 25", name="size"),
        CheckConstraint("state IN ('setup', 'shares', 'complete')", name="state"),
        CheckConstraint("single_member = (size = 1)", name="single_member"),
    )

    round_id: Mapped[int] = mapped_column(
        ForeignKey("round.id", ondelete="CASCADE"), primary_key=True
    )
    threshold: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    # One member holds the whole key: for small bodies, and weaker (said wherever it shows).
    single_member: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default=CommitteeState.SETUP.value)
    # The context of the key ceremony (hexadecimal), bound into every member's proofs: the
    # round, its body and title, k, n and the members, as they were when the committee was named.
    ceremony: Mapped[str] = mapped_column(String(64))
    # The joint public key (hexadecimal), set when the ceremony completes.
    public_key: Mapped[str | None] = mapped_column(Text)
    # What every ballot is bound to, fixed when the round opens: the round's items and the
    # options of each, and the context hashed from them (JSON, the record's form).
    parameters: Mapped[str | None] = mapped_column(Text)
    # After the close: the products of the encrypted ballots, per item and level (JSON).
    encrypted_totals: Mapped[str | None] = mapped_column(Text)
    # Once k partial decryptions are in and checked: the online totals (canonical JSON).
    totals: Mapped[str | None] = mapped_column(Text)

    holders: Mapped[list[KeyHolder]] = relationship(
        back_populates="key", order_by="KeyHolder.number", cascade="all, delete-orphan"
    )


class KeyHolder(Base):
    """A member of the counting committee in the key ceremony, by number (1 … n)."""

    __tablename__ = "key_holder"
    __table_args__ = (
        CheckConstraint("number >= 1", name="number"),
        CheckConstraint("role IN ('head', 'member')", name="role"),
    )

    round_id: Mapped[int] = mapped_column(
        ForeignKey("counting_key.round_id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16), default="member")
    # The member's public part: the commitments of their key and its proofs (JSON).
    public_part: Mapped[str | None] = mapped_column(Text)
    # The shares this member made for the others, each encrypted to its recipient (JSON).
    shares: Mapped[str | None] = mapped_column(Text)
    # The member's check of the shares they received, with their verification key (JSON).
    confirmation: Mapped[str | None] = mapped_column(Text)
    # After the close: the member's partial decryption of the totals, with its proofs (JSON).
    partial: Mapped[str | None] = mapped_column(Text)

    key: Mapped[CountingKey] = relationship(back_populates="holders")


class SealedBallot(Base):
    """An online ballot encrypted to the committee's key, with its proofs. Nothing else.

    The key is the ballot's tracker (its hash): no voter, no code, no time, no sequence; on
    SQLite the table is WITHOUT ROWID, so the file's order follows the tracker.
    """

    __tablename__ = "sealed_ballot"
    __table_args__ = ({"sqlite_with_rowid": False},)

    round_id: Mapped[int] = mapped_column(
        ForeignKey("round.id", ondelete="CASCADE"), primary_key=True
    )
    tracker: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    # The voter group that cast it: the only thing a sealed ballot says besides its content.
    group_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The encrypted ballot in the library's canonical encoding (ciphertexts and proofs).
    content: Mapped[bytes] = mapped_column(LargeBinary)
