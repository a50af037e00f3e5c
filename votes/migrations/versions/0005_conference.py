"""conference: the meeting, the counting committee, exemptions by reason, proposals

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-29 19:50:51.118940

Only additions: a new table and nullable columns, so that every existing round keeps working
(a round without a meeting recorded cannot print its minutes until one is recorded). The
revision it follows is the only line to change when migrations are chained differently.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "counting_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("order", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.CheckConstraint("role IN ('head', 'member')", name=op.f("ck_counting_member_role")),
        sa.CheckConstraint('"order" >= 1', name=op.f("ck_counting_member_order")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["round.id"],
            name=op.f("fk_counting_member_round_id_round"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counting_member")),
        sa.UniqueConstraint("round_id", "order", name=op.f("uq_counting_member_round_id_order")),
    )
    with op.batch_alter_table("ballot_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("referral", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            "referral", "referral IS NULL OR referral IN ('finding', 'proposal')"
        )

    with op.batch_alter_table("exemption", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("decision", sa.String(length=200), nullable=True))

    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("chair", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("time_exception", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("proposal_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("proposal_number", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("proposal_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("proposal_signatories", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_column("proposal_signatories")
        batch_op.drop_column("proposal_on")
        batch_op.drop_column("proposal_number")
        batch_op.drop_column("proposal_by")
        batch_op.drop_column("time_exception")
        batch_op.drop_column("chair")
        batch_op.drop_column("counted_at")
        batch_op.drop_column("starts_at")

    with op.batch_alter_table("exemption", schema=None) as batch_op:
        batch_op.drop_column("decision")
        batch_op.drop_column("reason_id")

    with op.batch_alter_table("ballot_item", schema=None) as batch_op:
        batch_op.drop_constraint("referral", type_="check")
        batch_op.drop_column("referral")

    op.drop_table("counting_member")
