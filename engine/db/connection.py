"""Connecting to the database (SQLite by default, PostgreSQL for scale) with the settings each backend needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, create_engine, event


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
    cursor.execute("PRAGMA busy_timeout=10000")  # a second writer waits instead of failing at once
    cursor.close()


def _postgresql_utc(dbapi_connection: Any, _record: Any) -> None:
    """Datetimes come back in the session's zone: make it UTC, as SQLite's are, whatever the server or PGTZ say."""
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
    cursor.close()
    dbapi_connection.commit()  # a SET inside a transaction that is rolled back would be undone


def configure_engine(engine: Engine) -> Engine:
    """Apply the settings each backend needs; safe to call on an engine made elsewhere (Flask-SQLAlchemy)."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgresql_utc)
    return engine


def make_engine(url: str, **kwargs: Any) -> Engine:
    return configure_engine(create_engine(url, **kwargs))


IN_LIST = 500  # ids per IN (...) of a batched read: well within every backend's limit on bound parameters


def in_chunks(ids: Sequence[int]) -> list[Sequence[int]]:
    """``ids`` in slices short enough for one ``IN (...)`` each."""
    return [ids[i : i + IN_LIST] for i in range(0, len(ids), IN_LIST)]
