"""The schema comes only from the Alembic migrations (engine/db/migrations/), and they match the models.

Runs on the backend LAPOR_TEST_DB chooses. ``test_migrated_schema_matches_the_models`` is the guard
for everyone changing engine/db/tables.py: a model change without a migration fails it, naming each
difference and saying how to write the revision.
"""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Column, MetaData, String, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from engine import CaseService
from engine.db.connection import make_engine
from engine.db.schema import (
    SchemaError,
    alembic_config,
    compare_options,
    create_schema,
    current_revision,
    head_revision,
    schema_differences,
    upgrade,
)
from engine.db.tables import AuditEvent, Base, Definition
from tests.scenarios import COMPLAINT
from web.cli import main

HOW_TO_MIGRATE = (
    "the models (engine/db/tables.py) and the migrated schema differ: add a revision under engine/db/migrations/versions/ "
    "(README, 'Running in production': autogenerate it, then review it by hand). Differences:\n"
)


def _tables(engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def _guard_triggers(connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        return set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_event'")))
    query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_event'::regclass AND NOT tgisinternal"
    return set(connection.scalars(text(query)))


@pytest.fixture
def empty_engine(empty_db_url):
    engine = make_engine(empty_db_url)
    yield engine
    engine.dispose()


def test_migrated_schema_matches_the_models(db_engine):
    """The database every test runs on was made by the migrations: it must be what the models describe."""
    with db_engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        differences = schema_differences(connection)
    assert not differences, HOW_TO_MIGRATE + "\n".join(f"  {difference!r}" for difference in differences)


def test_upgrade_from_an_empty_database_creates_every_table_and_the_audit_guards(empty_engine):
    before, after = upgrade(empty_engine)
    assert (before, after) == (None, head_revision())
    assert _tables(empty_engine) == {*Base.metadata.tables, "alembic_version"}
    with empty_engine.connect() as connection:
        assert schema_differences(connection) == []
        assert _guard_triggers(connection), "the initial revision installs the audit table's append-only guards"


def test_upgrading_again_changes_nothing(empty_engine):
    upgrade(empty_engine)
    assert upgrade(empty_engine) == (head_revision(), head_revision())


def test_the_migrated_audit_table_refuses_changes(db_engine, clock):
    with Session(db_engine) as session:
        case = CaseService(session, clock).submit(COMPLAINT).case
        session.commit()
        for statement in (f"UPDATE audit_event SET actor = 'x' WHERE case_id = {case.id}", f"DELETE FROM audit_event WHERE case_id = {case.id}"):
            with pytest.raises(DBAPIError):
                session.execute(text(statement))
            session.rollback()
        assert session.query(AuditEvent).filter_by(case_id=case.id).count() > 0


def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(empty_engine):
    upgrade(empty_engine)
    with empty_engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert _tables(empty_engine) == {"alembic_version"}
    upgrade(empty_engine)
    with empty_engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        assert schema_differences(connection) == []


def test_a_model_change_without_a_migration_is_reported(db_engine):
    """What the schema test sees when someone adds a column to a model and forgets the revision."""
    changed = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["case"].append_column(Column("priority", String(10)))
    with db_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection, opts=compare_options()), changed)
    assert [(d[0], d[2], d[3].name) for d in differences] == [("add_column", "case", "priority")]


def test_a_database_made_before_migrations_is_adopted_when_it_matches(empty_engine):
    Base.metadata.create_all(empty_engine)
    assert upgrade(empty_engine) == (None, head_revision())
    with empty_engine.connect() as connection:
        assert _guard_triggers(connection)


def test_a_database_made_before_migrations_that_differs_is_refused(empty_engine):
    Base.metadata.create_all(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(text("DROP TABLE incident"))
    with pytest.raises(SchemaError, match="no migration record"):
        create_schema(empty_engine)
    with empty_engine.connect() as connection:
        assert current_revision(connection) is None


def test_lapor_upgrade_then_init_on_an_empty_database(empty_db_url, monkeypatch):
    monkeypatch.setenv("LAPOR_DATABASE_URL", empty_db_url)
    monkeypatch.setenv("LAPOR_SECRET_KEY", "test")
    runner = CliRunner()
    result = runner.invoke(main, ["upgrade"])
    assert result.exit_code == 0, result.output
    assert f"ke {head_revision()}" in result.output
    result = runner.invoke(main, ["upgrade"])
    assert result.exit_code == 0 and f"sudah pada revisi {head_revision()}" in result.output
    result = runner.invoke(main, ["init"])
    assert result.exit_code == 0, result.output
    engine = make_engine(empty_db_url)
    try:
        with Session(engine) as session:
            assert session.query(Definition).count() == 1
    finally:
        engine.dispose()
