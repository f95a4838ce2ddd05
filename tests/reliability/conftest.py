"""Fixtures of the reliability tests: the web app of tests/web, and empty databases of the chosen backend.

``empty_db_url`` is a database with nothing in it, not even the schema (the migrations and restore
tests start from there): a new SQLite file, or on PostgreSQL a new database named like the suite's
own (``lapor_test_<host>_<pid>_...``), so a killed run's leftovers are dropped by the next run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tests.conftest import _HOST_TAG, _PREFIX, BACKEND, PG_SERVER_URL
from tests.web.conftest import api, app, client  # noqa: F401 - fixtures used here too


@pytest.fixture
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """Make empty databases on a backend ("sqlite" or "postgresql"); each is dropped at the end of the test."""
    made: list[str] = []
    server = make_url(PG_SERVER_URL)
    admin = None

    def make(backend: str) -> str:
        nonlocal admin
        if backend == "sqlite":
            return f"sqlite:///{tmp_path / f'empty-{secrets.token_hex(3)}.db'}"
        request.getfixturevalue("_pg_database")  # skips (or fails under CI) without a server
        name = f"{_PREFIX}{_HOST_TAG}_{os.getpid()}_e{secrets.token_hex(3)}"
        admin = admin or create_engine(server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return server.set(database=name).render_as_string(hide_password=False)

    yield make
    if admin is not None:
        with admin.connect() as connection:
            for name in made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def empty_db_url(new_database) -> str:
    """An empty database (no schema) of the backend LAPOR_TEST_DB chose."""
    return new_database(BACKEND)
