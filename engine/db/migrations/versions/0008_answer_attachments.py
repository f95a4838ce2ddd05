"""Documents with the answer: a unit's files on its ``tanggapan`` (engine/cases/attachments.py), in ``attachment``.

``attachment`` gains who attached a file (``unit_id``; null: the citizen, as every file before this revision),
the answer task it was uploaded for (``task_id``) and when it was published with an answer (``published_at``).
On SQLite the foreign key needs the table copied (batch mode); no other table refers to ``attachment``, so the
copy is allowed while foreign keys are enforced.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UNIT_KEY = "fk_attachment_unit_id_unit"


def upgrade() -> None:
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("task_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(UNIT_KEY, "unit", ["unit_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("attachment") as batch_op:
        batch_op.drop_constraint(UNIT_KEY, type_="foreignkey")
        batch_op.drop_column("published_at")
        batch_op.drop_column("task_id")
        batch_op.drop_column("unit_id")
