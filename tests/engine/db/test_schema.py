"""engine/db/schema.py: the schema revision a database is at.

Migrating (upgrade, downgrade, adopting an old database) is tested in tests/reliability/test_migrations.py, and
backup and restore (engine/db/backup.py) in tests/reliability/test_backup.py, where the databases they need are made.
"""

from __future__ import annotations

from engine.db.connection import make_engine
from engine.db.schema import current_revision, head_revision, upgrade


def test_a_migrated_database_is_at_the_newest_revision_and_upgrading_again_changes_nothing(db_engine):
    with db_engine.connect() as connection:
        assert current_revision(connection) == head_revision()
    assert upgrade(db_engine) == (head_revision(), head_revision())


def test_a_database_never_migrated_has_no_revision(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'leer.db'}")
    with engine.connect() as connection:
        assert current_revision(connection) is None
    engine.dispose()
