"""The liaison's desk: channels, location, classification, archiving, several units per case, Open311 partners.

``case`` gains the complaint's optional ``latitude``/``longitude``, the words similar complaints are found by
(``search_text``: title, location and body, filled for existing cases from their title), step 3's
``classification``, the units' ``redacted_body``, and why and as a duplicate of what a case was archived
(``archive_reason``, ``duplicate_of``). ``channel`` widens to 20 characters for ``datang_langsung`` (on
PostgreSQL; SQLite does not enforce a string's length), and the JSON API's old code ``api`` becomes the
contract's ``aplikasi``. New tables: ``case_unit`` (every unit a case went to, filled for existing cases from their
unit) and ``partner_key`` (Open311 partners' API keys, hashed).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("classification", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("redacted_body", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("archive_reason", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of", sa.String(length=12), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("case", "channel", type_=sa.String(length=20), existing_nullable=False)
    op.execute("UPDATE \"case\" SET channel = 'aplikasi' WHERE channel = 'api'")
    op.execute('UPDATE "case" SET search_text = title')
    op.create_table(
        "case_unit",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("case_id", "unit_id"),
    )
    op.create_index(op.f("ix_case_unit_unit_id"), "case_unit", ["unit_id"], unique=False)
    op.execute(
        "INSERT INTO case_unit (case_id, unit_id, state, since) SELECT id, unit_id, 'aktif', updated_at FROM \"case\" WHERE unit_id IS NOT NULL"
    )
    op.create_table(
        "partner_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key_hash"),
    )


def downgrade() -> None:
    op.drop_table("partner_key")
    op.drop_index(op.f("ix_case_unit_unit_id"), table_name="case_unit")
    op.drop_table("case_unit")
    op.execute("UPDATE \"case\" SET channel = 'api' WHERE channel = 'aplikasi'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute('UPDATE "case" SET channel = left(channel, 10)')
        op.alter_column("case", "channel", type_=sa.String(length=10), existing_nullable=False)
    with op.batch_alter_table("case", recreate="never") as batch_op:
        for column in ("duplicate_of", "archive_reason", "redacted_body", "classification", "search_text", "longitude", "latitude"):
            batch_op.drop_column(column)
