"""Shared fixtures: a fake clock and a fresh database per test, on SQLite (default) or PostgreSQL.

Backend: ``LAPOR_TEST_DB=postgresql`` runs every test on PostgreSQL (server from ``LAPOR_TEST_PG_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). Each pytest process (each xdist
worker) seeds its data once (schema, demo accounts, the project's definition) and each test starts
from exactly that: on SQLite a copy of the seeded file in the test's tmp_path; on PostgreSQL the
process's own uniquely named database, put back to the seed before each test and dropped at the end
(a killed run's database is dropped by the next run on the machine). Runs never see each other's data.

Tests that need PostgreSQL whatever the backend (several worker processes) take the ``pg_url``
fixture: it skips with the reason when no server answers, and fails instead under ``CI=true``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from engine import CaseService, FakeClock
from engine.accounts import users as accounts
from engine.accounts.users import seed_demo
from engine.audit.trail import guards_lifted
from engine.db.connection import make_engine
from engine.db.schema import create_schema
from engine.db.tables import Base
from engine.definitions.bundle import project_bundle

WIB = ZoneInfo("Asia/Jakarta")
# A Monday with no holiday near it: deadlines of 1 / 3 / 5 / 10 working days are easy to read.
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=WIB)

BACKEND = os.environ.get("LAPOR_TEST_DB", "sqlite").strip().lower() or "sqlite"
PG_SERVER_URL = os.environ.get("LAPOR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
# Database names carry this machine and this process: a later run drops only what dead runs of this machine left.
_HOST_TAG = f"{zlib.crc32(socket.gethostname().encode()):08x}"
_PREFIX = "lapor_test_"


def pytest_configure(config: pytest.Config) -> None:
    if BACKEND not in ("sqlite", "postgresql"):
        raise pytest.UsageError(f"LAPOR_TEST_DB must be sqlite or postgresql, not {BACKEND!r}")
    config.addinivalue_line("markers", "postgresql: needs PostgreSQL whatever LAPOR_TEST_DB says (skipped without a server; fails under CI=true)")


def pytest_sessionstart(session: pytest.Session) -> None:
    if BACKEND == "postgresql" and (reason := _pg_unavailable()) is not None:
        pytest.exit(f"LAPOR_TEST_DB=postgresql but {reason}", returncode=3)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "pg_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgresql)


def pytest_report_header() -> str:
    where = make_url(PG_SERVER_URL).render_as_string(hide_password=True) if BACKEND == "postgresql" else "SQLite files"
    return f"lapor test database: {BACKEND} ({where})"


# ---- PostgreSQL: one database per pytest process -------------------------------------


def _pg_unavailable() -> str | None:
    """Return why the PostgreSQL test server cannot be used, or None when it answers."""
    url = make_url(PG_SERVER_URL)
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "no server for the tests"
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"no PostgreSQL server answers at {url.render_as_string(hide_password=True)} ({first_line})"
    return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PgDatabase:
    """One uniquely named database per pytest process, seeded once and put back to the seed before each test.

    Measured on this 2-core machine: ``CREATE DATABASE ... TEMPLATE`` costs about 350 ms per test, deleting
    every row and copying the seed rows back (with the sequences as they were) about 5 ms.
    """

    SEED_SCHEMA = "lapor_seed"

    def __init__(self, server_url: str) -> None:
        self.server = make_url(server_url)
        self.admin = create_engine(self.server, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._drop_leftovers()
        self.name = f"{_PREFIX}{_HOST_TAG}_{os.getpid()}_{secrets.token_hex(3)}"
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = self.server.set(database=self.name).render_as_string(hide_password=False)
        seeding = make_engine(self.url, poolclass=NullPool)
        seed(seeding)
        seeding.dispose()
        self.engine = create_engine(self.url, pool_size=1, max_overflow=0)
        self.tables = [table.name for table in Base.metadata.sorted_tables]
        with self.engine.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {self.SEED_SCHEMA}"))
            self.seeded = [t for t in self.tables if connection.scalar(text(f'SELECT EXISTS (SELECT 1 FROM "{t}")'))]
            for table in self.seeded:
                connection.execute(text(f'CREATE TABLE {self.SEED_SCHEMA}."{table}" AS TABLE public."{table}"'))
            self.sequences = connection.execute(
                text("SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
            ).all()

    def reset(self) -> str:
        """Put the database back to the seed (ending any connection a test left open); return its URL."""
        with self.engine.begin() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            )
            with guards_lifted(connection):  # audit_event refuses DELETE otherwise (engine/audit/trail.py)
                for table in reversed(self.tables):
                    connection.execute(text(f'DELETE FROM "{table}"'))
            for table in self.seeded:
                connection.execute(text(f'INSERT INTO public."{table}" SELECT * FROM {self.SEED_SCHEMA}."{table}"'))
            for sequence, last_value in self.sequences:
                connection.execute(text("SELECT setval(:s, :v, :called)"), {"s": sequence, "v": last_value or 1, "called": last_value is not None})
        return self.url

    def close(self) -> None:
        self.engine.dispose()
        self._drop(self.name)
        self.admin.dispose()

    def _drop(self, name: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _drop_leftovers(self) -> None:
        """Drop the databases of runs on this machine that were killed (their process is gone)."""
        with self.admin.connect() as connection:
            names = connection.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": f"{_PREFIX}{_HOST_TAG}_%"}).all()
        for name in names:
            pid = name.removeprefix(f"{_PREFIX}{_HOST_TAG}_").split("_")[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                self._drop(name)


def seed(engine) -> None:
    """Schema, demo accounts (cheap password hashes: tests only) and the project's definition."""
    create_schema(engine)
    real_hasher = accounts._hasher
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        with Session(engine) as session:
            seed_demo(session)
            CaseService(session).deploy(project_bundle(), by="test")
            session.commit()
    finally:
        accounts._hasher = real_hasher


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[PgDatabase]:
    if (reason := _pg_unavailable()) is not None:
        if IN_CI:
            pytest.fail(f"CI=true needs PostgreSQL: {reason}", pytrace=False)
        pytest.skip(reason)
    database = PgDatabase(PG_SERVER_URL)
    yield database
    database.close()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "lapor.db"
    engine = make_engine(f"sqlite:///{path}")
    seed(engine)
    engine.dispose()  # the last connection checkpoints the WAL into the file
    return path


# ---- the fixtures tests use ---------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9AM)


@pytest.fixture
def pg_url(_pg_database: PgDatabase) -> str:
    """A PostgreSQL database holding only the seed (schema, demo accounts, definition), whatever LAPOR_TEST_DB says."""
    return _pg_database.reset()


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of the chosen backend holding the schema, the demo accounts and the deployed definition."""
    if BACKEND == "postgresql":
        yield request.getfixturevalue("_pg_database").reset()
    else:
        path = tmp_path / "lapor.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"


@pytest.fixture
def db_engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_engine):
    with Session(db_engine) as session:
        yield session


@pytest.fixture
def service(session, clock) -> CaseService:
    return CaseService(session, clock)
