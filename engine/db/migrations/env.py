"""Alembic environment of the lapor schema (run by engine.db.schema.upgrade; no alembic.ini needed).

engine.db.schema hands over an open connection in ``config.attributes["connection"]``; the
``alembic`` command line works too, given ``-x url=...`` or LAPOR_DATABASE_URL (developers only:
``alembic -c /dev/null`` is not needed, see engine/db/schema.py ``alembic_config``).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection

from engine.db.connection import make_engine
from engine.db.schema import compare_options
from engine.db.tables import Base, UTCDateTime

config = context.config


def _render_item(type_: str, obj: Any, _autogen_context: AutogenContext) -> str | Literal[False]:
    """Autogenerate writes plain SQLAlchemy types: a revision never imports the models as they are later."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
        render_item=_render_item,
        **compare_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url") or os.environ.get("LAPOR_DATABASE_URL")
    if not url:
        raise RuntimeError("no database: pass -x url=... or set LAPOR_DATABASE_URL")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported: the audit guards are installed through a live connection")
run_migrations_online()
