"""Similar complaints (engine/cases/similar.py): the indexes for finding them.

- ``ix_case_closed_at`` (both backends): the recently closed cases, which with ``ix_case_status`` (the open ones)
  make the cases a search considers.
- ``ix_case_search_fts`` (PostgreSQL): a GIN index over ``to_tsvector('simple', search_text)`` (full-text search;
  Indonesian has no PostgreSQL dictionary, so 'simple': lower-cased words, no stemming). The model declares it too
  (PostgreSQL only), so the schema test sees it on both sides.
- the ``pg_trgm`` extension and ``ix_case_title_trgm`` (PostgreSQL), a GIN trigram index on ``title``, where the
  server allows the extension (it ships with PostgreSQL's contrib; creating it needs the right privilege). Tried
  inside a savepoint: without it the search works, without the trigram part. The model does not declare this index,
  since it exists only where the extension does; engine/db/schema.py's comparison leaves it out
  (``DATABASE_ONLY_INDEXES``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import logging

from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

log = logging.getLogger("lapor.migrations")


def upgrade() -> None:
    op.create_index(op.f("ix_case_closed_at"), "case", ["closed_at"], unique=False)
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_case_search_fts ON \"case\" USING gin (to_tsvector('simple'::regconfig, search_text))")
    try:
        with connection.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            op.execute('CREATE INDEX IF NOT EXISTS ix_case_title_trgm ON "case" USING gin (title gin_trgm_ops)')
    except DBAPIError as error:  # no contrib package or no privilege: similar cases are found without trigrams
        log.warning("pg_trgm not available, similar complaints are searched without title trigrams: %s", error)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_case_title_trgm")
        op.execute("DROP INDEX IF EXISTS ix_case_search_fts")
    op.drop_index(op.f("ix_case_closed_at"), table_name="case")
    # the extension stays: other databases objects may use it, and it is harmless
