"""A worker process killed (SIGKILL) in the middle of a pass over many due cases, then started again:
every due timer fires exactly once and no case stays locked. SQLite and PostgreSQL (LAPOR_TEST_DB).

Two ways to die: ``holding``, stopped inside a case's transaction after its writes went to the database
(row locks held, nothing committed), and ``running``, killed at whatever point it has reached once it
has committed a number of cases (mid-flush, mid-commit, between cases: the operating system decides).
The worker runs in its own OS process (spawn) with a FakeClock: nothing here waits on wall time
except for the processes themselves.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from collections import Counter
from datetime import datetime
from queue import Empty

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine import CaseService, FakeClock
from engine.db.connection import make_engine
from engine.db.tables import AuditEvent, Case, Escalation
from engine.worker import run_once
from tests.engine.support import wib
from tests.reliability.support import assert_consistent
from tests.scenarios import COMPLAINT

BASE_URL = "http://lapor.test"
CASES = 60
KILL_AFTER = 20  # cases committed before the kill
SUBMITTED = wib(2026, 11, 30, 9, 0)
DUE_PASS = wib(2026, 12, 2, 0, 0, 30)  # every case's Disposisi target (end of Tuesday) is due; the ceilings are not
TIMEOUT = 120  # seconds for any one process step; they finish long before unless something hangs
MAX_PASSES = 200


def dying_worker(url: str, instant: str, mode: str, signals: multiprocessing.Queue) -> None:
    """A worker pass over every due case (batch > CASES) that reports each committed case; in ``holding`` mode
    it stops for good inside the transaction of case KILL_AFTER + 1, after the engine has written it."""
    engine = make_engine(url)
    clock = FakeClock(datetime.fromisoformat(instant))
    committed = 0

    class ReportingSession(Session):
        def commit(self) -> None:
            nonlocal committed
            super().commit()
            committed += 1
            signals.put(("committed", committed))

    if mode == "holding":
        original = CaseService.save

        def save(self, case, parsed, workflow, state=None):  # type: ignore[no-untyped-def]
            original(self, case, parsed, workflow, state)  # flushed: the rows are written and locked, not committed
            if committed == KILL_AFTER:
                signals.put(("holding", case.id))
                multiprocessing.Event().wait()  # until killed

        CaseService.save = save  # type: ignore[method-assign]
    run_once(lambda: ReportingSession(engine), clock, BASE_URL, None, batch=CASES * 2)
    signals.put(("finished", committed))


def restarted_worker(url: str, instant: str, results: multiprocessing.Queue) -> None:
    """The worker started again: passes until nothing is due; reports the timers it fired."""
    engine = make_engine(url)
    clock = FakeClock(datetime.fromisoformat(instant))
    fired = passes = 0
    while passes < MAX_PASSES:
        result = run_once(lambda: Session(engine), clock, BASE_URL, None, batch=CASES * 2)
        passes += 1
        fired += result.timers_fired
        with Session(engine) as session:
            if not CaseService(session, clock, BASE_URL).due_case_ids(1):
                break
    results.put((fired, passes))
    engine.dispose()


def _drain(queue: multiprocessing.Queue) -> list[tuple[str, int]]:
    """What the killed worker had written to the queue when it died, after the test stopped reading."""
    items = []
    while True:
        try:
            items.append(queue.get_nowait())
        except Empty:
            return items


def _wait_until_no_lock_remains(engine, case_ids: list[int]) -> None:
    """Block (no sleep, no polling) until every case row can be locked: the dead worker's transaction is gone.

    PostgreSQL ends a killed client's transaction when it sees the connection closed; SQLite's lock was
    the dead process's file lock, gone with it. Fails if a lock is still held after the timeout.
    """
    with Session(engine) as session:
        if engine.dialect.name == "postgresql":
            session.execute(text(f"SET LOCAL lock_timeout = '{TIMEOUT}s'"))
            session.execute(select(Case.id).where(Case.id.in_(case_ids)).with_for_update())
        else:
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")  # the database's write lock (busy_timeout waits)
        session.rollback()


@pytest.mark.parametrize("mode", ["holding", "running"])
def test_a_worker_killed_mid_pass_and_restarted_fires_every_due_timer_exactly_once(db_url, db_engine, clock, mode):
    clock.set(SUBMITTED)
    with Session(db_engine) as session:
        service = CaseService(session, clock, BASE_URL)
        case_ids = [service.submit(COMPLAINT).case.id for _ in range(CASES)]
        session.commit()
    clock.set(DUE_PASS)

    context = multiprocessing.get_context("spawn")
    signals = context.Queue()
    worker = context.Process(target=dying_worker, args=(db_url, DUE_PASS.isoformat(), mode, signals))
    worker.start()
    try:
        committed = 0
        while committed < KILL_AFTER:
            kind, value = signals.get(timeout=TIMEOUT)
            assert kind == "committed", (kind, value)
            committed = value
        if mode == "holding":
            assert signals.get(timeout=TIMEOUT)[0] == "holding"
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(TIMEOUT)
    assert worker.exitcode == -signal.SIGKILL
    reported = _drain(signals)
    assert "finished" not in {kind for kind, _ in reported}, "the kill came after the pass had finished: nothing was tested"

    _wait_until_no_lock_remains(db_engine, case_ids)
    with Session(db_engine) as session:
        fired_before = session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.type == "timer_fired"))
    assert KILL_AFTER <= fired_before < CASES  # committed cases stay fired; the one in flight (if any) is rolled back

    results = context.Queue()
    restarted = context.Process(target=restarted_worker, args=(db_url, DUE_PASS.isoformat(), results))
    restarted.start()
    restarted.join(TIMEOUT)
    if restarted.is_alive():
        restarted.kill()
        pytest.fail("the restarted worker did not stop by itself")
    fired_after, _passes = results.get(timeout=5)
    assert fired_before + fired_after == CASES

    with Session(db_engine) as session:
        per_case = Counter(session.scalars(select(AuditEvent.case_id).where(AuditEvent.type == "timer_fired")))
        assert per_case == Counter(dict.fromkeys(case_ids, 1)), "every due timer fired exactly once"
        timers = Counter(json.loads(d)["timer"] for d in session.scalars(select(AuditEvent.data).where(AuditEvent.type == "timer_fired")))
        assert timers == {"Timer_Disposisi_Target": CASES}
        assert Counter(session.scalars(select(Escalation.case_id))) == Counter(dict.fromkeys(case_ids, 1))
        assert session.scalar(select(func.count()).select_from(Case).where(Case.next_timer_at <= clock.now())) == 0
        for case_id in case_ids:
            assert_consistent(session, case_id)
    _wait_until_no_lock_remains(db_engine, case_ids)  # and nothing is left locked
    assert run_once(lambda: Session(db_engine), clock, BASE_URL, None).timers_fired == 0
