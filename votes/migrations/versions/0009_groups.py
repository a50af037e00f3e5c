"""groups: what a voter group is (its kind), for a profile's default deciding group

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 02:40:00

A voter group gets a kind (vocabulary.GROUP_KINDS) so that a profile can name the group whose
result decides by default. Existing first groups are the body's own members: a Party
committee's is its executive committee, a council's or the Assembly's its deputies. Nothing a
seal covers changes (the kind is not sealed; the result that decides is, and stays).
The revision it follows is the only line to change when migrations are chained differently.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("voter_group", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(
            "kind",
            "kind IS NULL OR kind IN ('executive', 'deputies', 'heads', 'retired', 'front', "
            "'staff')",
        )
    for body_kind, group_kind in (
        ("party", "executive"),
        ("council", "deputies"),
        ("assembly", "deputies"),
    ):
        op.execute(
            sa.text(
                "UPDATE voter_group SET kind = :group_kind WHERE number = 1 AND round_id IN "
                "(SELECT round.id FROM round JOIN body ON body.id = round.body_id "
                "WHERE body.kind = :body_kind)"
            ).bindparams(group_kind=group_kind, body_kind=body_kind)
        )


def downgrade() -> None:
    with op.batch_alter_table("voter_group", schema=None) as batch_op:
        batch_op.drop_constraint("kind", type_="check")
        batch_op.drop_column("kind")
