"""engine/cases/inbox.py: each staff member's inbox (the holder rule itself is tested with engine/cases/access.py), and Admin
Pusat's search over all cases."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import Actor
from engine.cases import ids
from engine.cases.inbox import CaseSearch, counts, inbox, search_cases
from engine.db.tables import OpenTask
from tests.engine.support import (
    KESEHATAN,
    KOMINFO,
    PENDIDIKAN,
    fast_password_hashing,  # noqa: F401 - autouse fixture
    fire_due,
    submit,
    wib,
)
from tests.scenarios import COMPLAINT, FORWARD_SATKER

# ---- the inbox ------------------------------------------------------------------------


def test_inbox_lists_dated_tasks_by_deadline_then_undated_ones_across_pages(service, session, clock):
    made = []
    for hours in (0, 1, 2):
        clock.set(clock.now() + timedelta(hours=hours))
        made.append(submit(service, COMPLAINT).case.id)
    rows = {r.case_id: r for r in session.scalars(select(OpenTask).where(OpenTask.case_id.in_(made)))}
    rows[made[0]].due_at = None  # a task without a deadline goes after every dated one
    session.commit()
    kominfo = Actor("kominfo", "kominfo")
    first, second = inbox(session, kominfo, per_page=2, page=1), inbox(session, kominfo, per_page=2, page=2)
    assert first.total == 3 and first.pages == 2
    assert [t.case_id for t, _c in first.rows + second.rows] == [made[1], made[2], made[0]]


def test_inbox_holds_only_the_actors_tasks_and_filters_by_status_and_category(service, session):
    waiting = submit(service, COMPLAINT).case
    forwarded = submit(service, COMPLAINT, [FORWARD_SATKER]).case
    health = submit(service, {**COMPLAINT, "category": "kesehatan"}).case
    assert {c.id for _t, c in inbox(session, KOMINFO).rows} == {waiting.id, health.id}
    assert [(t.spec_name, c.id) for t, c in inbox(session, PENDIDIKAN).rows] == [("Task_Terima_Satker", forwarded.id)]
    assert inbox(session, KESEHATAN).rows == [] and inbox(session, KESEHATAN).total == 0
    assert [c.id for _t, c in inbox(session, KOMINFO, category="kesehatan").rows] == [health.id]
    assert inbox(session, KOMINFO, status="didisposisikan").total == 0
    assert [c.id for _t, c in inbox(session, PENDIDIKAN, status="didisposisikan").rows] == [forwarded.id]


def test_a_page_past_the_end_shows_the_last_page_and_an_empty_inbox_has_one(service, session, clock):
    made = []
    for _ in range(3):
        clock.advance(minutes=1)  # the same deadline: the older task first
        made.append(submit(service, COMPLAINT).case.id)
    past = inbox(session, KOMINFO, page=9, per_page=2)
    assert (past.page, past.pages, [c.id for _t, c in past.rows]) == (2, 2, [made[2]])
    empty = inbox(session, KESEHATAN, page=0)
    assert (empty.rows, empty.total, empty.page, empty.pages) == ([], 0, 1, 1)


def test_counts_are_the_actors_open_tasks_and_how_many_are_overdue(service, session, clock):
    assert counts(session, KOMINFO) == (0, 0)
    submit(service, COMPLAINT)
    submit(service, COMPLAINT, [FORWARD_SATKER])
    assert counts(session, KOMINFO) == (1, 0) and counts(session, PENDIDIKAN) == (1, 0)
    clock.set(wib(2026, 12, 2, 0, 0, 1))  # the SOP day of both tasks has ended
    fire_due(service)
    assert counts(session, KOMINFO) == (1, 1) and counts(session, PENDIDIKAN) == (1, 1) and counts(session, KESEHATAN) == (0, 0)


# ---- Admin Pusat's search -------------------------------------------------------------------------


def test_a_whole_tracking_id_is_found_exactly_however_it_is_typed(service, session):
    wanted = submit(service, COMPLAINT).case
    submit(service, COMPLAINT)
    typed = "lpr " + wanted.tracking_id[4:8].lower() + " " + wanted.tracking_id[8:].lower()
    assert ids.looks_like_tracking_id(typed) and not ids.looks_like_tracking_id("LPR-SYM")
    rows, has_next = search_cases(session, CaseSearch(text=typed))
    assert [c.id for c in rows] == [wanted.id] and not has_next


def test_title_words_and_filters_narrow_the_list(service, session):
    roof = submit(service, {**COMPLAINT, "title": "Atap puskesmas bocor"}, [FORWARD_SATKER]).case
    submit(service, {**COMPLAINT, "title": "Jalan berlubang di desa"})
    assert [c.id for c in search_cases(session, CaseSearch(text="puskesmas"))[0]] == [roof.id]
    assert [c.id for c in search_cases(session, CaseSearch(status="didisposisikan", unit="dinas-pendidikan"))[0]] == [roof.id]
    assert search_cases(session, CaseSearch(text="puskesmas", category="kesehatan"))[0] == []


def test_percent_and_underscore_are_searched_as_typed_not_as_wildcards(service, session):
    discount = submit(service, {**COMPLAINT, "title": "Diskon 50% pajak kendaraan"}).case
    underscored = submit(service, {**COMPLAINT, "title": "Berkas nama_file hilang"}).case
    submit(service, {**COMPLAINT, "title": "Jalan berlubang di desa"})
    assert [c.id for c in search_cases(session, CaseSearch(text="%"))[0]] == [discount.id]
    assert [c.id for c in search_cases(session, CaseSearch(text="50%"))[0]] == [discount.id]
    assert [c.id for c in search_cases(session, CaseSearch(text="_"))[0]] == [underscored.id]
    assert search_cases(session, CaseSearch(text="Jalan_berlubang"))[0] == [] and search_cases(session, CaseSearch(text="D%n"))[0] == []
    assert search_cases(session, CaseSearch(text="\\"))[0] == []  # the escape character itself is searched as typed too


def test_pages_of_the_list(service, session):
    made = [submit(service, COMPLAINT).case.id for _ in range(3)]
    first, more = search_cases(session, CaseSearch(), page=1, per_page=2)
    second, last = search_cases(session, CaseSearch(), page=2, per_page=2)
    assert more and not last and sorted(c.id for c in first + second) == sorted(made)


def test_the_overdue_and_late_filters_keep_only_such_cases(service, session, clock):
    overdue = submit(service, COMPLAINT).case
    clock.set(wib(2026, 12, 2, 0, 0, 1))  # its SOP day has ended
    fire_due(service)
    fresh = submit(service, COMPLAINT).case
    assert [c.id for c in search_cases(session, CaseSearch(overdue=True))[0]] == [overdue.id]
    assert {c.id for c in search_cases(session, CaseSearch())[0]} == {overdue.id, fresh.id}
    assert search_cases(session, CaseSearch(late=True))[0] == []  # late is the national ceiling, not yet passed
