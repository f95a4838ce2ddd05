"""The staff pages and steps as a year of closed cases grows (issue 20, bench/inbox_scale.py): four indexes.

- ``ix_notification_user_unread`` on ``notification (user_id, read)``: the unread count every staff page shows.
  Over ``ix_notification_user_id`` it read every notification the user ever had (a unit's staff collect several per
  case, nearly all of them read), so each page grew with the closed cases; now it is a range of the unread rows.
- ``ix_notification_case_id``: every completed task and closed case marks its case's notifications read
  (engine/notifications/notify.py ``read_when_task_done``, ``read_when_case_closed``); without it each such step
  scanned every notification ever written.
- ``ix_open_task_role_unit_due`` gains ``overdue``: the navigation's count of open and overdue tasks reads the index
  alone instead of every open task's row (a unit with thousands of open tasks).
- ``ix_escalation_open``, a partial index on ``escalation (at)`` of the unresolved rows: Admin Pusat's open
  escalations, newest first. SQLite knows only the average number of cases per status, so once closed cases
  outnumbered the open ones it scanned the whole case table to find the open ones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OPEN = sa.text("resolved_at IS NULL")


def upgrade() -> None:
    op.create_index("ix_notification_user_unread", "notification", ["user_id", "read"], unique=False)
    op.create_index(op.f("ix_notification_case_id"), "notification", ["case_id"], unique=False)
    op.drop_index("ix_open_task_role_unit_due", table_name="open_task")
    op.create_index("ix_open_task_role_unit_due", "open_task", ["role", "unit_id", "due_at", "overdue"], unique=False)
    op.create_index("ix_escalation_open", "escalation", ["at"], unique=False, postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_escalation_open", table_name="escalation")
    op.drop_index("ix_open_task_role_unit_due", table_name="open_task")
    op.create_index("ix_open_task_role_unit_due", "open_task", ["role", "unit_id", "due_at"], unique=False)
    op.drop_index(op.f("ix_notification_case_id"), table_name="notification")
    op.drop_index("ix_notification_user_unread", table_name="notification")
