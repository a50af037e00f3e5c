"""tree: bodies in a tree, persons known tree-wide, installation keys, reported packages

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 23:10:00

Existing bodies get a level from their kind (the Assembly: central; the others: province) and
no parent; an organizer places them with `votes body set`. Existing persons keep the key each
body gave them (the sealed rounds name it, so every seal still verifies) and get an identity
tree-wide: their own key when no other body uses it; when several bodies use one key, the
same explicit key with the same name is one person, anything else (a name serving as the key,
or a key shared by two different names) stays apart under "BODY/key" — never a silent merge.
The revision it follows is the only line to change when migrations are chained differently.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def upgrade() -> None:
    op.create_table(
        "installation_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("private_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installation_key")),
        sa.UniqueConstraint("public_key", name=op.f("uq_installation_key_public_key")),
    )
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("level", sa.String(length=16), server_default="province", nullable=False)
        )
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_body_parent_id"), ["parent_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_body_parent_id_body"), "body", ["parent_id"], ["id"], ondelete="RESTRICT"
        )
        batch_op.create_check_constraint(
            "level", "level IN ('central', 'province', 'commune', 'agency')"
        )
        batch_op.create_check_constraint("not_own_parent", "parent_id IS NULL OR parent_id <> id")
    op.execute("UPDATE body SET level = 'central' WHERE kind = 'assembly'")

    op.create_table(
        "trusted_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "added_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["body_id"], ["body.id"], name=op.f("fk_trusted_key_body_id_body"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_key")),
        sa.UniqueConstraint(
            "body_id", "public_key", name=op.f("uq_trusted_key_body_id_public_key")
        ),
    )
    op.create_table(
        "reported_package",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column(
            "imported_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["body.id"],
            name=op.f("fk_reported_package_body_id_body"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reported_package")),
        sa.UniqueConstraint("sha256", name=op.f("uq_reported_package_sha256")),
    )
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reported_from", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("origin_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_round_reported_from_reported_package"),
            "reported_package",
            ["reported_from"],
            ["id"],
            ondelete="RESTRICT",
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity", sa.String(length=300), nullable=True))
    _fill_identities()
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column("identity", existing_type=sa.String(length=300), nullable=False)
        batch_op.create_index(batch_op.f("ix_person_identity"), ["identity"], unique=False)


def _fill_identities() -> None:
    """Give every existing person an identity tree-wide (see the module's docstring)."""
    connection = op.get_bind()
    persons = connection.execute(
        sa.text(
            "SELECT person.id, person.person_key, person.name, body.code "
            "FROM person JOIN body ON body.id = person.body_id"
        )
    ).all()
    by_key: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    for person_id, key, name, code in persons:
        by_key[key].append((person_id, name, code))
    for key, holders in by_key.items():
        explicit = all(_fold(name) != _fold(key) for _id, name, _code in holders)
        one_name = len({_fold(name) for _id, name, _code in holders}) == 1
        for person_id, _name, code in holders:
            identity = key if len(holders) == 1 or (explicit and one_name) else f"{code}/{key}"
            connection.execute(
                sa.text("UPDATE person SET identity = :identity WHERE id = :id"),
                {"identity": identity, "id": person_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_identity"))
        batch_op.drop_column("identity")
    with op.batch_alter_table("round", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_round_reported_from_reported_package"), type_="foreignkey"
        )
        batch_op.drop_column("origin_id")
        batch_op.drop_column("reported_from")
    op.drop_table("reported_package")
    op.drop_table("trusted_key")
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.drop_constraint("not_own_parent", type_="check")
        batch_op.drop_constraint("level", type_="check")
        batch_op.drop_constraint(batch_op.f("fk_body_parent_id_body"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_body_parent_id"))
        batch_op.drop_column("parent_id")
        batch_op.drop_column("level")
    op.drop_table("installation_key")
