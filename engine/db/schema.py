"""The database's schema, made only by the Alembic migrations in ``engine/db/migrations/``.

The migrations ship with the package and are configured here (no alembic.ini): ``create_schema`` and
``upgrade`` bring any database, empty or older, to the newest revision. A model change needs a new revision
(see README, "Running in production"); tests/reliability/test_migrations.py fails, naming each difference,
when the models and the migrated schema disagree.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, String, inspect, text

from engine.audit.trail import install_guards
from engine.db.tables import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_UPGRADE_LOCK = 0x1A904  # a PostgreSQL advisory lock: two `lapor upgrade` at once run one after the other


class SchemaError(RuntimeError):
    """The database's schema cannot be brought to the newest revision as it stands."""


def compare_options() -> dict[str, Any]:
    """How the models are compared with a database (autogenerate and the schema test alike)."""
    return {"compare_type": _compare_type, "compare_server_default": False, "include_object": _include_object}


# Indexes a migration makes only where the database allows them (0006: ix_case_title_trgm needs pg_trgm, an extension the
# server may refuse); the models cannot declare them, so the comparison leaves them out.
DATABASE_ONLY_INDEXES = frozenset({"ix_case_title_trgm"})


def _include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Leave DATABASE_ONLY_INDEXES out of the comparison."""
    return not (type_ == "index" and name in DATABASE_ONLY_INDEXES)


def _compare_type(context: Any, inspected_column: Any, metadata_column: Any, inspected_type: Any, metadata_type: Any) -> bool | None:
    """Alembic's type comparison, except a string's length on SQLite: SQLite stores any length whatever the declared one
    and cannot alter a column's type without copying its table, so a migration widens a string on PostgreSQL only."""
    if context.dialect.name == "sqlite" and isinstance(inspected_type, String) and isinstance(metadata_type, String):
        return False
    return None  # alembic's own comparison


def alembic_config(connection: Connection | None = None) -> Any:
    """An Alembic Config for the package's migrations, bound to ``connection`` when given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    """Every revision the code knows (a backup made at any of them can be restored)."""
    from alembic.script import ScriptDirectory

    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(connection: Connection) -> str | None:
    """The database's revision; None for a database that was never migrated."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def schema_differences(connection: Connection) -> list[Any]:
    """What a new migration would have to change for the database to match the models (alembic's diff tuples)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with warnings.catch_warnings():
        # the models' PostgreSQL-only expression index (ix_case_search_fts) is never made on SQLite, which could not reflect it
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index", UserWarning)
        return list(compare_metadata(MigrationContext.configure(connection, opts=compare_options()), Base.metadata))


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database to ``revision`` in one transaction (on PostgreSQL; SQLite commits each DDL statement).

    A database made before migrations existed (tables, no ``alembic_version``) is adopted when it
    matches the models exactly. Returns (revision before, revision after). Raises SchemaError when
    such a database differs from the models.
    """
    from alembic import command

    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
        before = current_revision(connection)
        config = alembic_config(connection)
        if before is None and inspect(connection).has_table("case"):
            differences = schema_differences(connection)
            if differences:
                raise SchemaError(
                    "the database has lapor tables but no migration record, and they differ from the models "
                    f"({len(differences)} differences, e.g. {differences[0]!r}); it was made before migrations: "
                    "back it up with an older version if needed, then start from an empty database"
                )
            install_guards(connection)  # the one thing the initial revision adds beyond the models
            command.stamp(config, "head")
        else:
            command.upgrade(config, revision)
        return before, current_revision(connection)


def create_schema(engine: Engine) -> None:
    """Bring the database to the newest schema revision (the one path every caller takes: tests, ``lapor init``)."""
    upgrade(engine)
    with engine.begin() as connection:
        install_guards(connection)  # audit_event append-only (the migrations install them too; idempotent)
