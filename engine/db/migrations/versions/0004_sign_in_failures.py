"""Sign-in failures counted per username and client address.

The lock moves from the account (``user_account.failed_logins`` / ``locked_until``, which anyone could
set off for any account) to the pair (username typed, client address): table ``sign_in_failure``.
Locks in force at the upgrade are not carried over; they lasted 15 minutes at most.

The columns are dropped in place (``recreate="never"``: ALTER TABLE ... DROP COLUMN, SQLite 3.35 or
newer): copying ``user_account`` the way batch mode otherwise does on SQLite would drop a table that
``api_token``, ``notification`` and ``outbox_mail`` refer to, which SQLite refuses while foreign keys
are enforced (engine/db/connection.py turns them on for every connection).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("username_hash", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("username_hash", "address"),
    )
    op.create_index(op.f("ix_sign_in_failure_last_failed_at"), "sign_in_failure", ["last_failed_at"], unique=False)
    with op.batch_alter_table("user_account", recreate="never") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("user_account", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.drop_index(op.f("ix_sign_in_failure_last_failed_at"), table_name="sign_in_failure")
    op.drop_table("sign_in_failure")
