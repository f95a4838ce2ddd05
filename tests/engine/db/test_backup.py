"""engine/db/backup.py: what a backup or a restore refuses before it reads or writes a row.

A whole backup restored into an empty database, between backends, and a file cut short or not a backup at all are
tried in tests/reliability/test_backup.py, where the databases they need are made.
"""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import text

from engine.db.backup import BACKUP_FORMAT, BACKUP_VERSION, BackupError, backup, restore
from engine.db.connection import make_engine
from engine.db.schema import head_revision, known_revisions, upgrade


def header(revision: str) -> str:
    return json.dumps({"format": BACKUP_FORMAT, "version": BACKUP_VERSION, "revision": revision}) + "\n"


@pytest.fixture
def engine(tmp_path):
    made = make_engine(f"sqlite:///{tmp_path / 'lapor.db'}")
    yield made
    made.dispose()


def test_a_database_never_migrated_has_nothing_to_back_up(engine):
    with pytest.raises(BackupError, match="no schema revision"):
        backup(engine, io.StringIO())


def test_restore_refuses_tables_without_a_schema_revision(engine):
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
    with pytest.raises(BackupError, match="tables but no schema revision"):
        restore(engine, [header(head_revision())])


def test_restore_refuses_a_database_at_another_revision_than_the_backups(engine):
    older = min(known_revisions())  # the initial revision
    upgrade(engine, older)
    with pytest.raises(BackupError, match=f"at schema revision {older}"):
        restore(engine, [header(head_revision())])
