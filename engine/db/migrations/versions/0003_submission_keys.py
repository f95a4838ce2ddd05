"""Idempotent submissions: the key of each submitted form or API request.

Table ``submission_key``: per one-time key (the web form's hidden key, the API's ``Idempotency-Key``
header) the hash of the key, the hash of the request it came with, and the case it made. The key hash is
the primary key, so two requests with one key at the same moment store one row; the second is answered
with the first one's case (web/submissions.py). A new table only: nothing to carry over.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "submission_key",
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("key_hash"),
    )
    op.create_index(op.f("ix_submission_key_case_id"), "submission_key", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_submission_key_case_id"), table_name="submission_key")
    op.drop_table("submission_key")
