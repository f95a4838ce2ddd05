from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from engine import CaseService, FakeClock
from engine.accounts import seed_demo
from engine.database import create_schema, make_engine
from engine.definitions import project_bundle

WIB = ZoneInfo("Asia/Jakarta")
# A Monday with no holiday near it: deadlines of 1 / 3 / 5 / 10 working days are easy to read.
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=WIB)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9AM)


@pytest.fixture
def db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'lapor.db'}"


@pytest.fixture
def db_engine(db_url):
    engine = make_engine(db_url)
    create_schema(engine)
    with Session(engine) as session:
        seed_demo(session)
        CaseService(session).deploy(project_bundle(), by="test")
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_engine):
    with Session(db_engine) as session:
        yield session


@pytest.fixture
def service(session, clock) -> CaseService:
    return CaseService(session, clock)
