"""What the audit tests share: driving a scenario as people and the worker would, reading and forging the record, and
the check that a case replays as a match with its hash chain intact."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from engine import CaseService, Submitted
from engine.audit.replay import ReplayResult, replay_case
from engine.audit.trail import guards_lifted, verify_chain
from engine.db.tables import AuditEvent, Case
from tests.engine.support import ask_extension, do, fire_due, submit
from tests.scenarios import AskExtension, Do, Wait


def run(service: CaseService, complaint: dict[str, Any], steps: list[Any]) -> Submitted:
    """Drive a scenario through the façade as people and the worker would, a few minutes apart."""
    submitted = submit(service, complaint)
    for step in steps:
        service.clock.advance(minutes=7)
        if isinstance(step, Do):
            do(service, submitted, step)
        elif isinstance(step, Wait):
            service.clock.advance(seconds=timedelta(days=step.days, hours=step.hours).total_seconds())
            fire_due(service)
        elif isinstance(step, AskExtension):
            ask_extension(service, submitted, step)
    return submitted


def fresh(session, submitted: Submitted | Case) -> Case:
    """The case as stored now (after a commit, or after the record was forged)."""
    session.expire_all()
    return session.get(Case, submitted.case.id if isinstance(submitted, Submitted) else submitted.id)


def forge(session, sql: str, **params: Any) -> None:
    """Change the record behind the system's back (the database owner lifting the guard)."""
    with guards_lifted(session.connection()):
        session.execute(text(sql), params)
    session.commit()


def stored_events(session, case_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)))


def assert_replays(session, case: Case) -> ReplayResult:
    """The case replays as a match ("cocok") and its hash chain verifies (``lapor replay`` and ``lapor verify``)."""
    case = fresh(session, case)
    result = replay_case(session, case)
    assert result.matches, result.difference
    assert result.events == len(stored_events(session, case.id))
    assert verify_chain(session, case) is None
    return result
