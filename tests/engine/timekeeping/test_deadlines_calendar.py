"""Working-day deadlines through the worker: a clock moved hour by hour across a weekend and holidays.

A complaint arrives on Friday 14 August 2026, before the weekend and Monday 17 August (Independence
Day); its unit accepts it on Tuesday 25 August (the Prophet's Birthday). Every task waits past its
deadlines, and the worker runs once per hour of the fake clock. Each reminder and escalation (SOP
target, national ceiling) and the auto-close after 10 working days without a reply must fire in the
first pass after 23:59:59 WIB of the deadline's last working day, and only once.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import holidays
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import CaseService
from engine.db.tables import AuditEvent, Case, Escalation
from engine.worker import run_once
from tests.engine.support import (
    fast_password_hashing,  # noqa: F401 - autouse fixture
    holder,
    open_row,
    submit,
    wib,
)
from tests.scenarios import ACCEPT_SATKER, ANSWER_SATKER, COMPLAINT, FORWARD_SATKER, PUBLISH

BASE_URL = "http://lapor.test"
FRIDAY = wib(2026, 8, 14, 9, 0)
STEP = timedelta(hours=1)


@pytest.fixture(autouse=True)
def _national_holidays_only(monkeypatch, tmp_path):
    """Only the holidays package's days count: no administrator's file, Jakarta time."""
    monkeypatch.setenv("LAPOR_HOLIDAYS_FILE", str(tmp_path / "none.json"))
    monkeypatch.delenv("LAPOR_TIMEZONE", raising=False)


def test_the_chosen_days_are_a_weekend_and_national_holidays():
    listed = holidays.Indonesia(years=2026, categories=("public", "government"))
    assert FRIDAY.weekday() == 4
    assert wib(2026, 8, 17, 0, 0).date() in listed  # Hari Kemerdekaan, the Monday after the weekend
    assert wib(2026, 8, 25, 0, 0).date() in listed  # Maulid Nabi, a Tuesday
    assert wib(2026, 8, 18, 0, 0).date() not in listed


class Worker:
    """Moves the fake clock one hour at a time and runs one worker pass at each step, noting what fired."""

    def __init__(self, db_engine, clock, case_id: int) -> None:
        self.sessions = lambda: Session(db_engine)
        self.db_engine, self.clock, self.case_id = db_engine, clock, case_id
        self.fired: list[tuple[datetime, str]] = []  # (pass instant, timer id) from the timer_fired events
        self.topics: list[tuple[datetime, str]] = []  # (pass instant, mail topic) of notifications queued by timers
        self.passes = 0
        self._seq = self._last_seq()

    def _last_seq(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(AuditEvent.seq).where(AuditEvent.case_id == self.case_id).order_by(AuditEvent.seq.desc()).limit(1)) or 0

    def _new_events(self) -> list[AuditEvent]:
        with self.sessions() as session:
            query = select(AuditEvent).where(AuditEvent.case_id == self.case_id, AuditEvent.seq > self._seq).order_by(AuditEvent.seq)
            events = list(session.scalars(query))
        if events:
            self._seq = events[-1].seq
        return events

    def run_until(self, instant: datetime) -> None:
        """Step the clock to ``instant`` (inclusive), one pass per hour; a second pass at each firing instant fires nothing."""
        self._new_events()  # what a user step recorded is not the worker's
        while self.clock.now() < instant:
            self.clock.advance(hours=1)
            result = run_once(self.sessions, self.clock, BASE_URL, None)
            self.passes += 1
            events = self._new_events()
            fired = [e for e in events if e.type == "timer_fired"]
            assert result.timers_fired == len(fired)
            for event in fired:
                self.fired.append((self.clock.now(), _data(event)["timer"]))
            for event in events:
                if event.type == "notification_queued":
                    self.topics.append((self.clock.now(), _data(event)["topic"]))
            if fired:
                assert run_once(self.sessions, self.clock, BASE_URL, None).timers_fired == 0, "a second pass at the same instant fired again"
                assert self._new_events() == []
        assert self.clock.now() == instant


def _data(event: AuditEvent) -> dict[str, Any]:
    return json.loads(event.data)


def midnight(year: int, month: int, day: int) -> datetime:
    """The first hourly pass after 23:59:59 WIB of the day before."""
    return wib(year, month, day, 0, 0)


def test_reminders_escalations_and_auto_close_fire_once_at_the_right_pass_across_weekend_and_holidays(db_engine, clock):
    clock.set(FRIDAY)
    with Session(db_engine) as session:
        service = CaseService(session, clock, BASE_URL)
        submitted = submit(service, {**COMPLAINT, "incident_date": "2026-08-10"})
        case_id = submitted.case.id
        disposisi = open_row(session, case_id, "Task_Disposisi")
        # 1 working day after Friday: Saturday, Sunday and Monday 17 August (Independence Day) do not count
        assert (disposisi.due_at, disposisi.ceiling_at) == (wib(2026, 8, 18, 23, 59, 59), wib(2026, 8, 20, 23, 59, 59))
    worker = Worker(db_engine, clock, case_id)

    def act(at: datetime, step) -> None:
        worker.run_until(at)
        with Session(db_engine) as session:
            service = CaseService(session, clock, BASE_URL)
            row = open_row(session, case_id, step.task)
            service.complete_task(row.id, step.data, holder(row))
            session.commit()

    act(wib(2026, 8, 21, 10, 0), FORWARD_SATKER)  # after both Disposisi clocks ran out
    act(wib(2026, 8, 25, 9, 0), ACCEPT_SATKER)  # Tuesday 25 August is a holiday: staff may still work
    with Session(db_engine) as session:
        tanggapan = open_row(session, case_id, "Task_Tanggapan_Satker")
        # from the holiday: Wednesday 26 is the 1st working day; 27, 28, Monday 31 August, Tuesday 1 September the 5th
        assert (tanggapan.due_at, tanggapan.ceiling_at) == (wib(2026, 8, 26, 23, 59, 59), wib(2026, 9, 1, 23, 59, 59))
    act(wib(2026, 9, 2, 9, 0), ANSWER_SATKER)
    act(wib(2026, 9, 2, 10, 0), PUBLISH)  # the answer is published: 10 working days for the citizen's reply
    with Session(db_engine) as session:
        balasan = open_row(session, case_id, "Task_Balasan")
        assert balasan.due_at == wib(2026, 9, 16, 23, 59, 59)
    worker.run_until(wib(2026, 9, 21, 9, 0))  # well past the auto-close: nothing more may fire

    assert worker.fired == [
        (midnight(2026, 8, 19), "Timer_Disposisi_Target"),
        (midnight(2026, 8, 21), "Timer_Disposisi_Plafon"),
        (midnight(2026, 8, 25), "Timer_Terima_Satker_Target"),  # Friday 10:00 + 1 working day = Monday 24 August
        (midnight(2026, 8, 27), "Timer_Tanggapan_Satker_Target"),
        (midnight(2026, 9, 2), "Timer_Tanggapan_Satker_Plafon"),
        (midnight(2026, 9, 17), "Timer_Balasan"),
    ]
    reminders = [(at, topic) for at, topic in worker.topics if topic in ("pengingat", "eskalasi", "ditutup_otomatis")]
    assert reminders == [
        (midnight(2026, 8, 19), "pengingat"),
        (midnight(2026, 8, 19), "eskalasi"),
        (midnight(2026, 8, 21), "pengingat"),
        (midnight(2026, 8, 21), "eskalasi"),
        (midnight(2026, 8, 25), "pengingat"),
        (midnight(2026, 8, 25), "eskalasi"),
        (midnight(2026, 8, 27), "pengingat"),
        (midnight(2026, 8, 27), "eskalasi"),
        (midnight(2026, 9, 2), "pengingat"),
        (midnight(2026, 9, 2), "eskalasi"),
        (midnight(2026, 9, 17), "ditutup_otomatis"),
    ]
    with Session(db_engine) as session:
        query = select(Escalation.at, Escalation.stage, Escalation.clock).where(Escalation.case_id == case_id).order_by(Escalation.id)
        escalations = session.execute(query)
        assert [tuple(row) for row in escalations] == [
            (midnight(2026, 8, 19), "disposisi", "target"),
            (midnight(2026, 8, 21), "disposisi", "plafon"),
            (midnight(2026, 8, 25), "terima", "target"),
            (midnight(2026, 8, 27), "tanggapan", "target"),
            (midnight(2026, 9, 2), "tanggapan", "plafon"),
        ]
        case = session.get(Case, case_id)
        assert (case.status, case.closed_at, case.next_timer_at) == ("selesai", midnight(2026, 9, 17), None)
        assert case.late and case.breached == ["disposisi:plafon", "tanggapan:plafon"]
    assert worker.passes == (wib(2026, 9, 21, 9, 0) - FRIDAY) // STEP


def test_timers_that_fell_due_while_no_worker_ran_fire_once_when_one_starts(db_engine, clock):
    clock.set(FRIDAY)
    with Session(db_engine) as session:
        case_id = submit(CaseService(session, clock, BASE_URL), {**COMPLAINT, "incident_date": "2026-08-10"}).case.id
    clock.set(wib(2026, 8, 24, 8, 0))  # no worker ran for ten days: the Disposisi target and ceiling are both past
    sessions = lambda: Session(db_engine)  # noqa: E731

    assert run_once(sessions, clock, BASE_URL, None).timers_fired == 2
    assert run_once(sessions, clock, BASE_URL, None).timers_fired == 0
    with Session(db_engine) as session:
        fired = session.scalars(select(AuditEvent.data).where(AuditEvent.case_id == case_id, AuditEvent.type == "timer_fired"))
        assert sorted(json.loads(data)["timer"] for data in fired) == ["Timer_Disposisi_Plafon", "Timer_Disposisi_Target"]
        assert sorted(session.scalars(select(Escalation.clock).where(Escalation.case_id == case_id))) == ["plafon", "target"]
        assert session.get(Case, case_id).next_timer_at is None  # the open Disposisi task has no timer left
