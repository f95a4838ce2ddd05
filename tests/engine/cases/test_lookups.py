"""engine/cases/lookups.py: the reads the pages show beside a case or a list."""

from __future__ import annotations

from sqlalchemy import select

from engine.cases import lookups
from engine.db.tables import OutboxMail, Unit
from tests.engine.support import (
    TO_BALASAN,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    open_row,
    submit,
)
from tests.scenarios import COMPLAINT, FORWARD_SATKER


def test_a_cases_open_tasks_and_the_one_that_waits_for_the_reporter(service, session):
    waiting = submit(service, COMPLAINT)
    assert [row.spec_name for row in lookups.open_tasks(session, waiting.case.id)] == ["Task_Disposisi"]
    assert lookups.citizen_task(session, waiting.case.id) is None
    replying = submit(service, COMPLAINT, TO_BALASAN)
    assert lookups.citizen_task(session, replying.case.id) == open_row(session, replying.case.id, "Task_Balasan")
    assert lookups.definition_of(session, waiting.case).id == waiting.case.definition_id


def test_open_task_names_per_case(service, session):
    first, second = submit(service, COMPLAINT), submit(service, COMPLAINT, [FORWARD_SATKER])
    names = lookups.open_task_names(session, [first.case.id, second.case.id])
    assert names == {
        first.case.id: [open_row(session, first.case.id, "Task_Disposisi").name],
        second.case.id: [open_row(session, second.case.id, "Task_Terima_Satker").name],
    }
    assert lookups.open_task_names(session, []) == {}


def test_units_by_name(session):
    assert [u.name for u in lookups.units(session)] == sorted(session.scalars(select(Unit.name)))


def test_recent_mail_newest_first(service, session):
    for _ in range(3):
        submit(service, COMPLAINT)
    newest = sorted(session.scalars(select(OutboxMail.id)), reverse=True)
    assert [m.id for m in lookups.recent_mail(session, limit=2)] == newest[:2]


def test_the_public_sees_no_confidential_case_in_counts_or_pages(service, session):
    submit(service, COMPLAINT)
    submit(service, {**COMPLAINT, "category": "kesehatan"})
    submit(service, {**COMPLAINT, "confidential": True})
    assert lookups.public_counts(session) == {"diterima": 2}
    every = lookups.public_page(session, None, None, 1)
    assert (every.total, every.page, every.pages, len(every.cases)) == (2, 1, 1, 2)
    assert not any(case.confidential for case in every.cases)
    assert [c.category for c in lookups.public_page(session, "kesehatan", None, 1).cases] == ["kesehatan"]
    assert lookups.public_page(session, None, "selesai", 1).total == 0


def test_a_public_page_past_the_end_shows_the_last_newest_first(service, session, clock):
    made = []
    for _ in range(3):
        clock.advance(minutes=1)
        made.append(submit(service, COMPLAINT).case.id)
    past = lookups.public_page(session, None, None, 9, per_page=2)
    assert (past.page, past.pages, [c.id for c in past.cases]) == (2, 2, [made[0]])
    assert [c.id for c in lookups.public_page(session, None, None, 0, per_page=2).cases] == [made[2], made[1]]
