"""engine/db/connection.py: connecting with each backend's settings."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from engine.db.connection import configure_engine, make_engine


def test_sqlite_connections_enforce_foreign_keys_read_beside_the_writer_and_wait_for_it(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lapor.db'}")
    with engine.connect() as connection:
        settings = [connection.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("foreign_keys", "journal_mode", "busy_timeout")]
    engine.dispose()
    assert settings == [1, "wal", 10000]


def test_an_engine_made_elsewhere_gets_the_same_settings(tmp_path):
    engine = configure_engine(create_engine(f"sqlite:///{tmp_path / 'lapor.db'}"))
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_postgresql_sessions_speak_utc_whatever_the_server_says(pg_url):
    engine = make_engine(pg_url, poolclass=NullPool, connect_args={"options": "-c timezone=Asia/Jakarta"})
    with engine.connect() as connection:
        zone = connection.scalar(text("SHOW TIME ZONE"))
        rolled_back = connection.scalar(text("SELECT now()")).utcoffset().total_seconds()
        connection.rollback()  # the setting outlives a rolled-back transaction
        assert (zone, rolled_back, connection.scalar(text("SHOW TIME ZONE"))) == ("UTC", 0, "UTC")
    engine.dispose()
