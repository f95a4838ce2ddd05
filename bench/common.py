"""What the benchmarks share: throwaway databases on both backends, a seeded schema, percentiles, tables.

Every database a benchmark makes is removed when it ends (SQLite files in a temporary folder,
PostgreSQL databases dropped WITH (FORCE)), so a run leaves nothing behind and never sees another's data.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.scenarios holds the sample complaint and steps

from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import Engine, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from engine import CaseService, FakeClock
from engine.accounts import users as accounts  # noqa: E402
from engine.accounts.users import seed_demo  # noqa: E402
from engine.db.schema import create_schema  # noqa: E402
from engine.definitions.bundle import project_bundle  # noqa: E402
from engine.runtime.serialization import state_json, stored  # noqa: E402

PG_SERVER_URL = os.environ.get("LAPOR_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="lapor-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


@contextmanager
def pg_database() -> Iterator[str]:
    server = create_engine(make_url(PG_SERVER_URL), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    name = f"lapor_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_SERVER_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def database(backend: str):
    return sqlite_database() if backend == "sqlite" else pg_database()


def pg_unavailable() -> str | None:
    """Why PostgreSQL cannot be used (None when a server answers)."""
    try:
        engine = create_engine(make_url(PG_SERVER_URL), poolclass=NullPool, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001
        return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return None


def seed(engine: Engine, clock: FakeClock) -> None:
    """Schema, demo units and accounts (cheap password hashes: nobody logs in with them here), the project's process."""
    create_schema(engine)
    real_hasher, accounts._hasher = accounts._hasher, PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    try:
        with Session(engine) as session:
            seed_demo(session)
            CaseService(session, clock).deploy(project_bundle(), by="bench")
            session.commit()
    finally:
        accounts._hasher = real_hasher


def renumbered(state: str) -> tuple[str, dict[str, str]]:
    """A stored workflow state with every UUID replaced by a fresh one, stored as the engine stores states now;
    returns (state, old id -> new id)."""
    fresh: dict[str, str] = {}
    text = UUID.sub(lambda m: fresh.setdefault(m[0], str(uuid.uuid4())), json.dumps(state_json(state), separators=(",", ":")))
    return stored(json.loads(text)), fresh


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table (it pastes into the README and the closing note as it is)."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells[1:])])
