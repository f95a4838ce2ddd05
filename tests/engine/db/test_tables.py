"""engine/db/tables.py: the tables; aware UTC datetimes on every backend, the version guard and the fixed Message-ID."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.db.tables import Case, Notification, OutboxMail, User
from tests.engine.support import (
    fast_password_hashing,  # noqa: F401 - autouse fixture
    submit,
    wib,
)
from tests.scenarios import COMPLAINT


def kominfo(session: Session) -> User:
    return session.scalars(select(User).where(User.username == "kominfo")).one()


def stored_at(session: Session, db_engine, at: datetime) -> datetime:
    """Write a notification at ``at`` and read its time back in a fresh session."""
    note = Notification(user_id=kominfo(session).id, at=at, kind="uji", message="uji")
    session.add(note)
    session.commit()
    with Session(db_engine) as fresh:
        return fresh.get(Notification, note.id).at


def test_datetimes_come_back_aware_in_utc(session, db_engine, clock):
    at = stored_at(session, db_engine, clock.now())
    assert at == clock.now() and at.tzinfo is not None and at.utcoffset().total_seconds() == 0


def test_an_aware_datetime_in_another_zone_is_stored_as_the_same_instant(session, db_engine):
    assert stored_at(session, db_engine, wib(2026, 11, 30, 9, 0)) == datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_a_naive_datetime_is_refused(session):
    session.add(Notification(user_id=kominfo(session).id, at=datetime(2026, 11, 30, 9, 0), kind="uji", message="uji"))
    with pytest.raises(StatementError, match="naive datetime"):
        session.flush()


def test_a_mail_gets_its_own_message_id_when_it_is_written(session, clock):
    mails = [OutboxMail(to_addr="a@x.test", subject="s", body="b", created_at=clock.now(), next_attempt_at=clock.now()) for _ in range(2)]
    session.add_all(mails)
    session.flush()
    ids = [mail.message_id for mail in mails]
    assert ids[0] != ids[1] and all(i.startswith("<") and i.endswith("@lapor.jatimprov.go.id>") for i in ids)
    assert all((mail.status, mail.attempts) == ("queued", 0) for mail in mails)


def test_a_case_changed_meanwhile_by_someone_else_is_not_overwritten(service, db_engine):
    case_id = submit(service, COMPLAINT).case.id
    with Session(db_engine) as first, Session(db_engine) as second:
        mine, theirs = first.get(Case, case_id), second.get(Case, case_id)
        version = mine.version
        mine.title = "Judul baru"
        first.commit()
        assert mine.version == version + 1
        theirs.title = "Judul lain"
        with pytest.raises(StaleDataError):
            second.commit()
    with Session(db_engine) as fresh:
        assert fresh.get(Case, case_id).title == "Judul baru"
