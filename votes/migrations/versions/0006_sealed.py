"""sealed: the counting committee's key, encrypted online ballots, partial decryptions

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 23:00:00

Only additions: rounds without a committee key keep their plaintext ballots and random
receipts; new online ballots are encrypted to the key of their round's counting committee.
The revision it follows is the only line to change when migrations are chained differently.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


BEFORE = "status IN ('draft', 'open', 'closed', 'published')"
AFTER = "status IN ('draft', 'open', 'decrypting', 'closed', 'published')"


def _round_status_check(old: str, new: str) -> None:
    """Change the round's status constraint without rebuilding the round table.

    On SQLite a batch rebuild drops the round table, and with foreign keys on that deletes
    every ballot, code, item and paper entry of every round (ON DELETE CASCADE): the check is
    widened in the stored schema instead, which SQLite documents as safe for a constraint
    that changes nothing on disk (https://sqlite.org/lang_altertable.html, section 7).
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_round_status"), "round", type_="check")
        op.create_check_constraint(op.f("ck_round_status"), "round", new)
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.execute(
        sa.text(
            "UPDATE sqlite_master SET sql = replace(sql, :old, :new) "
            "WHERE type = 'table' AND name = 'round'"
        ),
        {"old": old, "new": new},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade() -> None:
    _round_status_check(BEFORE, AFTER)
    op.create_table(
        "counting_key",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("single_member", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("ceremony", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=True),
        sa.Column("parameters", sa.Text(), nullable=True),
        sa.Column("encrypted_totals", sa.Text(), nullable=True),
        sa.Column("totals", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "threshold >= 1 AND threshold <= size", name=op.f("ck_counting_key_threshold")
        ),
        sa.CheckConstraint("size BETWEEN 1 AND 25", name=op.f("ck_counting_key_size")),
        sa.CheckConstraint(
            "state IN ('setup', 'shares', 'complete')", name=op.f("ck_counting_key_state")
        ),
        sa.CheckConstraint(
            "single_member = (size = 1)", name=op.f("ck_counting_key_single_member")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
            name=op.f("fk_counting_key_round_id_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", name=op.f("pk_counting_key")),
    )
    op.create_table(
        "key_holder",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("public_part", sa.Text(), nullable=True),
        sa.Column("shares", sa.Text(), nullable=True),
        sa.Column("confirmation", sa.Text(), nullable=True),
        sa.Column("partial", sa.Text(), nullable=True),
        sa.CheckConstraint("number >= 1", name=op.f("ck_key_holder_number")),
        sa.CheckConstraint("role IN ('head', 'member')", name=op.f("ck_key_holder_role")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["counting_key.round_id"],
            name=op.f("fk_key_holder_round_id_counting_key"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", "number", name=op.f("pk_key_holder")),
    )
    op.create_table(
        "sealed_ballot",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("tracker", sa.LargeBinary(length=32), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
            name=op.f("fk_sealed_ballot_round_id_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("round_id", "tracker", name=op.f("pk_sealed_ballot")),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("sealed_ballot")
    op.drop_table("key_holder")
    op.drop_table("counting_key")
    _round_status_check(AFTER, BEFORE)
