"""engine/worker.py on PostgreSQL: several worker processes share one database and fire each timer exactly once.

Each worker claims one due case at a time with ``SELECT ... FOR UPDATE SKIP LOCKED`` inside that case's
transaction. The tests taking ``pg_url`` need a PostgreSQL server whatever LAPOR_TEST_DB says: without
one they are skipped, saying so, and under ``CI=true`` they fail instead. The query-plan test runs on
the suite's backend.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from engine import CaseService, FakeClock
from engine.db.connection import make_engine
from engine.db.tables import AuditEvent, Case, Escalation
from engine.worker import run_once
from tests.engine.support import (
    fast_password_hashing,  # noqa: F401 - autouse fixture
    wib,
)
from tests.scenarios import COMPLAINT

BASE_URL = "http://lapor.test"
CASES = 500
SUBMITTED = wib(2026, 11, 30, 9, 0)  # Monday: the Disposisi target ends Tuesday 23:59:59, the ceiling Thursday 23:59:59
DUE_PASS = wib(2026, 12, 2, 0, 0, 30)  # Wednesday: only the target of every case is due
JOIN_TIMEOUT = 300  # seconds; the workers stop by themselves long before unless something hangs
MAX_PASSES = 1000


def worker_process(url: str, instant: str, batch: int, start: multiprocessing.synchronize.Barrier, results: multiprocessing.Queue) -> None:
    """One worker OS process: passes until a pass finds nothing due; reports (pid, timers fired, passes)."""
    engine = make_engine(url)
    clock = FakeClock(datetime.fromisoformat(instant))
    fired = passes = 0
    try:
        start.wait()
        while passes < MAX_PASSES:
            result = run_once(lambda: Session(engine), clock, BASE_URL, None, batch=batch)
            passes += 1
            fired += result.timers_fired
            if result.timers_fired == 0:
                with Session(engine) as session:
                    if not CaseService(session, clock, BASE_URL).due_case_ids(1):
                        break
        results.put((os.getpid(), fired, passes))
    finally:
        engine.dispose()


def hold_a_claim(url: str, instant: str, claimed: multiprocessing.Queue, never: multiprocessing.synchronize.Event) -> None:
    """A worker that claims one due case and then hangs mid-pass (until it is killed)."""
    engine = make_engine(url)
    with Session(engine) as session:
        case_id = CaseService(session, FakeClock(datetime.fromisoformat(instant)), BASE_URL).claim_due_case()
        claimed.put(case_id)
        never.wait()  # killed here, with the row lock held


def submit_many(db_engine, clock: FakeClock, count: int) -> list[int]:
    with Session(db_engine) as session:
        service = CaseService(session, clock, BASE_URL)
        ids = [service.submit(COMPLAINT).case.id for _ in range(count)]
        session.commit()
    return ids


@pytest.fixture
def pg_engine(pg_url):
    engine = make_engine(pg_url)
    yield engine
    engine.dispose()


def test_two_worker_processes_fire_each_of_500_due_timers_exactly_once(pg_url, pg_engine, clock):
    clock.set(SUBMITTED)
    case_ids = submit_many(pg_engine, clock, CASES)
    clock.set(DUE_PASS)
    with Session(pg_engine) as session:
        assert session.scalar(select(func.count()).select_from(Case).where(Case.next_timer_at <= clock.now())) == CASES

    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=worker_process, args=(pg_url, DUE_PASS.isoformat(), 20, start, results)) for _ in range(2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(JOIN_TIMEOUT)
    hung = [p for p in workers if p.is_alive()]
    for process in hung:
        process.kill()
    assert not hung, "a worker process did not stop by itself"
    assert [p.exitcode for p in workers] == [0, 0]
    reports = [results.get(timeout=5) for _ in workers]

    print("workers (pid, timers fired, passes):", reports)
    assert sum(fired for _pid, fired, _passes in reports) == CASES, reports
    with Session(pg_engine) as session:
        per_case = Counter(session.scalars(select(AuditEvent.case_id).where(AuditEvent.type == "timer_fired")))
        assert per_case == Counter(dict.fromkeys(case_ids, 1))
        fired_timers = Counter(json.loads(data)["timer"] for data in session.scalars(select(AuditEvent.data).where(AuditEvent.type == "timer_fired")))
        assert fired_timers == {"Timer_Disposisi_Target": CASES}
        escalations = Counter(tuple(row) for row in session.execute(select(Escalation.case_id, Escalation.stage, Escalation.clock)))
        assert escalations == Counter({(case_id, "disposisi", "target"): 1 for case_id in case_ids})
        assert session.scalar(select(func.count()).select_from(Case).where(Case.next_timer_at <= clock.now())) == 0
        assert set(session.scalars(select(Case.next_timer_at))) == {wib(2026, 12, 3, 23, 59, 59)}  # the ceilings are next
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.type == "deadline_missed")) == CASES
    # the pass after: nothing fires twice
    assert run_once(lambda: Session(pg_engine), clock, BASE_URL, None).timers_fired == 0


def test_a_claimed_case_is_skipped_by_other_workers_until_its_transaction_ends(pg_engine, clock):
    clock.set(SUBMITTED)
    first_id, second_id = submit_many(pg_engine, clock, 2)
    clock.set(DUE_PASS)
    with Session(pg_engine) as one, Session(pg_engine) as two:
        assert CaseService(one, clock, BASE_URL).claim_due_case() == first_id
        assert CaseService(two, clock, BASE_URL).claim_due_case() == second_id
        with Session(pg_engine) as three:
            assert CaseService(three, clock, BASE_URL).claim_due_case() is None  # both locked: nothing to take
        one.rollback()  # the first worker gave up without firing
        assert CaseService(one, clock, BASE_URL).claim_due_case() == first_id


def test_a_worker_killed_mid_pass_leaves_its_case_to_the_others(pg_url, pg_engine, clock):
    clock.set(SUBMITTED)
    [case_id] = submit_many(pg_engine, clock, 1)
    clock.set(DUE_PASS)
    context = multiprocessing.get_context("spawn")
    claimed, never = context.Queue(), context.Event()
    process = context.Process(target=hold_a_claim, args=(pg_url, DUE_PASS.isoformat(), claimed, never))
    process.start()
    try:
        assert claimed.get(timeout=JOIN_TIMEOUT) == case_id
        with Session(pg_engine) as session:
            assert CaseService(session, clock, BASE_URL).claim_due_case() is None  # held by the hanging worker
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.join(JOIN_TIMEOUT)
    with Session(pg_engine) as session:
        # waits (no sleep, no polling) until the server has ended the dead worker's transaction
        session.execute(text("SET LOCAL lock_timeout = '60s'"))
        session.execute(select(Case.id).where(Case.id == case_id).with_for_update())
        session.rollback()

    assert run_once(lambda: Session(pg_engine), clock, BASE_URL, None).timers_fired == 1
    with Session(pg_engine) as session:
        fired = select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.type == "timer_fired")
        assert session.scalar(fired) == 1


def test_the_claim_reads_the_next_timer_index_on_either_backend(session, clock):
    """The claim is one range scan of ix_case_next_timer_at (a pass costs per due case, not per open case); runs on LAPOR_TEST_DB."""
    query = select(Case.id).where(Case.next_timer_at <= clock.now()).order_by(Case.next_timer_at).limit(1).with_for_update(skip_locked=True)
    sql = str(query.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL enable_seqscan = off"))  # an empty table would be scanned whole: ask whether the index can serve
        plan = " ".join(row[0] for row in session.execute(text("EXPLAIN " + sql)))
        assert "Index Scan using ix_case_next_timer_at" in plan and "LockRows" in plan, plan
        assert "SKIP LOCKED" in sql
    else:
        plan = " ".join(row[-1] for row in session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "INDEX ix_case_next_timer_at" in plan and "TEMP B-TREE" not in plan, plan
