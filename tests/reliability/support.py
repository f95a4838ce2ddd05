"""Helpers of the reliability tests: a barrier inside the engine's write, and a case's consistency check."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import CaseService
from engine.audit.trail import first_broken
from engine.db.tables import AuditEvent, Case, OpenTask
from engine.timekeeping.timers import is_timer, timer_due

BARRIER_TIMEOUT = 30  # seconds; a party that never arrives is a failure, not a hang


def release_together_at_save(monkeypatch, parties: int) -> threading.Barrier:
    """Make every command wait, just before it writes the case (``CaseService.save``), until ``parties``
    commands have got there: all of them have read the same version and race for the write."""
    barrier = threading.Barrier(parties, timeout=BARRIER_TIMEOUT)
    original = CaseService.save

    def save(self, case, parsed, workflow, state=None):  # type: ignore[no-untyped-def]
        barrier.wait()
        return original(self, case, parsed, workflow, state)

    monkeypatch.setattr(CaseService, "save", save)
    return barrier


def run_in_threads(*calls: Callable[[], Any]) -> list[tuple[str, Any]]:
    """Run each call in its own thread; return ("ok", result) or ("error", exception) per call, in order."""
    outcomes: list[tuple[str, Any]] = [("missing", None)] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            outcomes[index] = ("ok", call())
        except BaseException as error:  # noqa: BLE001 - reported to the test
            outcomes[index] = ("error", error)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BARRIER_TIMEOUT * 2)
    assert not any(t.is_alive() for t in threads), "a racing command did not finish"
    return outcomes


def assert_consistent(session: Session, case_id: int) -> None:
    """The side tables agree with the case's workflow state and the history verifies.

    Open-task rows are exactly the workflow's ready user tasks (no orphan, none missing), the next
    timer is the earliest waiting one, the audit chain verifies and its seqs run 1..n.
    """
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None
    _parsed, workflow = CaseService(session).workflow_of(case)
    ready = {str(t.id) for t in workflow.get_tasks(state=TaskState.READY, manual=True)}
    rows = set(session.scalars(select(OpenTask.id).where(OpenTask.case_id == case_id)))
    assert rows == ready, f"open_task rows {rows} but ready user tasks {ready}"
    dues = [d for d in (timer_due(t) for t in workflow.get_tasks(state=TaskState.WAITING) if is_timer(t)) if d is not None]
    assert case.next_timer_at == (min(dues) if dues else None)
    assert first_broken(session, case) is None
    seqs = list(session.scalars(select(AuditEvent.seq).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)))
    assert seqs == list(range(1, len(seqs) + 1))


def events(session: Session, case_id: int, type_: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)
    if type_ is not None:
        query = query.where(AuditEvent.type == type_)
    return list(session.scalars(query))
