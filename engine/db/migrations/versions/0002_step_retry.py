"""Failed system steps wait for a retry (issue: a complaint, once sent, is never lost).

``case.retry_at``: when the worker next retries a case whose system step failed (a partial index of the waiting
cases: the worker claims due retries as it claims due timers, and its claim of due timers, ``retry_at IS NULL``,
keeps to the ``next_timer_at`` index). ``incident.element`` / ``element_name``: the BPMN element that failed.

Columns are dropped in place on downgrade (``recreate="never"``: ALTER TABLE ... DROP COLUMN, SQLite 3.35 or
newer), as in 0004: copying ``case`` the way batch mode otherwise does on SQLite would drop a table that
other tables refer to, which SQLite refuses while foreign keys are enforced.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case", sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
    waiting = sa.text("retry_at IS NOT NULL")  # a partial index: only the few cases that wait for a retry
    op.create_index("ix_case_retry_at", "case", ["retry_at"], unique=False, postgresql_where=waiting, sqlite_where=waiting)
    op.add_column("incident", sa.Column("element", sa.String(length=80), nullable=True))
    op.add_column("incident", sa.Column("element_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("incident", recreate="never") as batch_op:
        batch_op.drop_column("element_name")
        batch_op.drop_column("element")
    op.drop_index("ix_case_retry_at", table_name="case")
    with op.batch_alter_table("case", recreate="never") as batch_op:
        batch_op.drop_column("retry_at")
