"""Backup and restore: every table as JSON lines, on either backend (a backup moves between SQLite and PostgreSQL).

A backup names the schema revision it was made at; restoring brings an empty database to that revision
(engine/db/schema.py), loads the rows, then migrates on to the newest.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, inspect, text

from engine.db.schema import current_revision, known_revisions, upgrade

BACKUP_FORMAT = "lapor-backup"
BACKUP_VERSION = 1
_BATCH = 1000


class BackupError(RuntimeError):
    """A backup file cannot be restored here (not a backup, cut short, from a newer version, or a non-empty database)."""


def _data_tables(connection: Connection) -> list[Any]:
    """The database's own tables (reflected, so a backup of any revision reads back), parents before children."""
    metadata = MetaData()
    metadata.reflect(connection)
    return [table for table in metadata.sorted_tables if table.name != "alembic_version"]


def _python_type(column: Any) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()  # stored naive means UTC (SQLite)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(column: Any, dialect: str) -> Any:
    kind = _python_type(column)
    if kind is datetime:

        def to_datetime(value: Any) -> Any:
            instant = datetime.fromisoformat(value).astimezone(UTC)
            return instant.replace(tzinfo=None) if dialect == "sqlite" else instant

        return to_datetime
    if kind is date:
        return date.fromisoformat
    if kind is Decimal:
        return Decimal
    if kind is bytes:
        return base64.b64decode
    return None


def backup(engine: Engine, out: Any) -> dict[str, int]:
    """Write every row of every table to the text stream ``out`` as JSON lines; return the row count per table.

    The first line names the format and the schema revision, the last one counts the rows of each
    table (a file cut short is refused on restore). All tables are read in one snapshot (REPEATABLE
    READ on PostgreSQL, one read transaction on SQLite), so the service can keep running meanwhile.
    """
    counts: dict[str, int] = {}
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN")  # the SQLite driver would read each SELECT in its own snapshot
        else:
            connection.execute(text("SET TRANSACTION READ ONLY"))
        revision = current_revision(connection)
        if revision is None:
            raise BackupError("the database has no schema revision: nothing to back up (run 'lapor init' or 'lapor upgrade')")
        tables = _data_tables(connection)
        header = {"format": BACKUP_FORMAT, "version": BACKUP_VERSION, "revision": revision, "dialect": connection.dialect.name}
        out.write(json.dumps({**header, "created_at": datetime.now(UTC).isoformat(), "tables": [t.name for t in tables]}) + "\n")
        for table in tables:
            columns = [column.name for column in table.columns]
            out.write(json.dumps({"table": table.name, "columns": columns}) + "\n")
            order = list(table.primary_key.columns) or list(table.columns)
            result = connection.execution_options(yield_per=_BATCH).execute(table.select().order_by(*order))
            count = 0
            for row in result:
                out.write(json.dumps([_encode(value) for value in row], ensure_ascii=False) + "\n")
                count += 1
            counts[table.name] = count
        out.write(json.dumps({"end": True, "rows": counts}) + "\n")
        connection.rollback()
    return counts


def restore(engine: Engine, lines: Any) -> dict[str, int]:
    """Load a backup (an iterable of its lines) into an empty database, then migrate it to the newest revision.

    A database without a schema first gets the backup's revision; all rows then go in one transaction
    (a failure leaves the database empty, ready for another try); then the schema goes on to the newest revision.
    Returns the row count per table. Raises BackupError for a file that is not a whole backup, one
    made by a newer version of lapor, or a database that already holds data.
    """
    stream = iter(lines)
    try:
        header = json.loads(next(stream))
    except (StopIteration, ValueError):
        raise BackupError("not a lapor backup: the file is empty or its first line is not JSON") from None
    if not isinstance(header, dict) or header.get("format") != BACKUP_FORMAT or header.get("version") != BACKUP_VERSION:
        raise BackupError(f"not a lapor backup (format {BACKUP_FORMAT} version {BACKUP_VERSION})")
    revision = header["revision"]
    if revision not in known_revisions():
        raise BackupError(f"the backup's schema revision {revision} is unknown here: restore it with the lapor version that made it, or newer")

    with engine.connect() as connection:
        found = current_revision(connection)
        if found is None and inspect(connection).get_table_names():
            raise BackupError("the database has tables but no schema revision: restore into an empty database")
    if found is None:
        upgrade(engine, revision)  # committed on its own: a failed restore leaves an empty database at that revision
    elif found != revision:
        raise BackupError(f"the database is at schema revision {found}, the backup at {revision}: restore into an empty database")

    with engine.begin() as connection:
        tables = {table.name: table for table in _data_tables(connection)}
        if occupied := [name for name, table in tables.items() if connection.execute(table.select().limit(1)).first() is not None]:
            raise BackupError(f"the database already holds data (tables {', '.join(sorted(occupied))}): restore into an empty database")
        dialect = connection.dialect.name
        counts: dict[str, int] = {}
        table = None
        columns: list[str] = []
        decoders: list[Any] = []
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            if batch:
                assert table is not None
                connection.execute(table.insert(), batch)
                batch.clear()

        end = None
        for line in stream:
            record = json.loads(line)
            if isinstance(record, list):
                if table is None:
                    raise BackupError("a row before any table in the backup")
                values = zip(columns, decoders, record, strict=True)
                batch.append({name: decode(value) if decode and value is not None else value for name, decode, value in values})
                counts[table.name] += 1
                if len(batch) >= _BATCH:
                    flush()
            elif record.get("end"):
                flush()
                end = record
                break
            else:
                flush()
                if record["table"] not in tables:
                    raise BackupError(f"the backup's table {record['table']} is not in the schema at revision {revision}")
                table = tables[record["table"]]
                columns = record["columns"]
                decoders = [_decoder(table.columns[name], dialect) for name in columns]
                counts[table.name] = 0
        if end is None or end.get("rows") != counts:
            raise BackupError("the backup is cut short (its last line, which counts the rows, is missing or does not match): nothing restored")
        if dialect == "postgresql":
            _reset_sequences(connection, tables.values())
    upgrade(engine)  # a backup of an older revision goes on to the newest
    return counts


def _reset_sequences(connection: Connection, tables: Any) -> None:
    """Move each serial column's sequence past the restored ids, so new rows get new ids."""
    for table in tables:
        for column in table.primary_key.columns:
            sequence = connection.scalar(text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": f'"{table.name}"', "c": column.name})
            if sequence:
                connection.execute(
                    text(f'SELECT setval(:s, COALESCE((SELECT max("{column.name}") FROM "{table.name}"), 0) + 1, false)'), {"s": sequence}
                )
