"""groups: voter groups of a round; ballots, codes and paper entries carry their group

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 23:00:00

Every existing round becomes a round of one group, number 1, holding the round's own figures
(members, summoned, present, paper ballots issued, and issued/collected if it was closed) and
state; every ballot, code and paper entry belongs to that group. Nothing a seal covers
changes: a round of one group is sealed exactly as before, so every count and seal recorded
before this migration still verifies. The revision it follows is the only line to change when
migrations are chained differently.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The name of the one group of an existing round: the body's own members.
GROUP_NAMES = {
    "party": "Ban Chấp hành",
    "council": "Đại biểu Hội đồng nhân dân",
    "assembly": "Đại biểu Quốc hội",
}


def upgrade() -> None:
    op.create_table(
        "voter_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("summoned", sa.Integer(), nullable=True),
        sa.Column("present", sa.Integer(), nullable=True),
        sa.Column("paper_issued", sa.Integer(), nullable=True),
        sa.Column("issued", sa.Integer(), nullable=True),
        sa.Column("collected", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.Column("committee", sa.Text(), nullable=True),
        sa.CheckConstraint("number >= 1", name=op.f("ck_voter_group_number")),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'closed')", name=op.f("ck_voter_group_status")
        ),
        sa.CheckConstraint("members IS NULL OR members >= 0", name=op.f("ck_voter_group_members")),
        sa.CheckConstraint(
            "summoned IS NULL OR summoned >= 0", name=op.f("ck_voter_group_summoned")
        ),
        sa.CheckConstraint("present IS NULL OR present >= 0", name=op.f("ck_voter_group_present")),
        sa.CheckConstraint(
            "present IS NULL OR summoned IS NULL OR present <= summoned",
            name=op.f("ck_voter_group_present_le_summoned"),
        ),
        sa.CheckConstraint(
            "paper_issued IS NULL OR paper_issued >= 0", name=op.f("ck_voter_group_paper_issued")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
            name=op.f("fk_voter_group_round_id_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voter_group")),
        sa.UniqueConstraint("round_id", "number", name=op.f("uq_voter_group_round_id_number")),
    )
    # A plain ADD COLUMN: on SQLite a constraint would make the batch rebuild the round table,
    # and dropping it would cascade to every ballot, code and item (foreign keys are on).
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deciding_group", sa.Integer(), nullable=True))
    for table in ("ballot", "credential", "sealed_ballot"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("group_number", sa.Integer(), server_default="1", nullable=False)
            )
    with op.batch_alter_table("paper_entry", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("group_number", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.drop_constraint("pk_paper_entry", type_="primary")
        batch_op.create_primary_key("pk_paper_entry", ["round_id", "group_number", "entry"])

    connection = op.get_bind()
    connection.execute(sa.text("UPDATE round SET deciding_group = 1"))
    # What the counting committee decrypts belongs to one electorate: the encrypted totals,
    # each member's partial decryption and the totals are kept per voter group, as JSON
    # objects keyed by the group's number; those of an existing round are its group 1's.
    for table, columns in (
        ("counting_key", ("encrypted_totals", "totals")),
        ("key_holder", ("partial",)),
    ):
        for column in columns:
            connection.execute(
                sa.text(  # names from the constants above, never from input
                    f"UPDATE {table} SET {column} = '{{\"1\":' || {column} || '}}' "  # noqa: S608
                    f"WHERE {column} IS NOT NULL"
                )
            )
    rounds = connection.execute(
        sa.text(
            "SELECT round.id, body.kind, round.status, round.members, round.summoned, "
            "round.present, round.paper_issued, round.issued, round.collected, round.place, "
            "round.held_on FROM round JOIN body ON body.id = round.body_id ORDER BY round.id"
        )
    ).all()
    group = sa.table(
        "voter_group",
        *(
            sa.column(name)
            for name in (
                "round_id",
                "number",
                "name",
                "status",
                "members",
                "summoned",
                "present",
                "paper_issued",
                "issued",
                "collected",
                "place",
                "held_on",
            )
        ),
    )
    rows = [
        {
            "round_id": r.id,
            "number": 1,
            "name": GROUP_NAMES.get(r.kind, GROUP_NAMES["party"]),
            # A published round's group is closed: publishing is the round's, not a group's.
            "status": "draft"
            if r.status == "draft"
            else "open"
            if r.status == "open"
            else "closed",
            "members": r.members,
            "summoned": r.summoned,
            "present": r.present,
            "paper_issued": r.paper_issued,
            "issued": r.issued,
            "collected": r.collected,
            "place": r.place,
            "held_on": r.held_on,
        }
        for r in rounds
    ]
    if rows:
        op.bulk_insert(group, rows)


def downgrade() -> None:
    # Back to one electorate: group 1's totals and partial decryptions (a widened round's
    # other groups cannot be kept without voter groups).
    connection = op.get_bind()
    for table, keys, columns in (
        ("counting_key", "round_id, 0", ("encrypted_totals", "totals")),
        ("key_holder", "round_id, number", ("partial",)),
    ):
        for column in columns:
            rows = connection.execute(
                sa.text(f"SELECT {keys}, {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
            ).all()
            for round_id, number, value in rows:
                inner = json.loads(value).get("1")
                where = "round_id = :id" + (" AND number = :number" if number else "")
                connection.execute(
                    sa.text(f"UPDATE {table} SET {column} = :value WHERE {where}"),  # noqa: S608
                    {
                        "value": None
                        if inner is None
                        else json.dumps(inner, sort_keys=True, separators=(",", ":")),
                        "id": round_id,
                        "number": number,
                    },
                )
    with op.batch_alter_table("paper_entry", schema=None) as batch_op:
        batch_op.drop_constraint("pk_paper_entry", type_="primary")
        batch_op.create_primary_key("pk_paper_entry", ["round_id", "entry"])
        batch_op.drop_column("group_number")
    for table in ("sealed_ballot", "credential", "ballot"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("group_number")
    # Not a batch: rebuilding the round table on SQLite would cascade to its ballots.
    op.drop_column("round", "deciding_group")
    op.drop_table("voter_group")
