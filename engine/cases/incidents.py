"""Incidents: what failed inside the engine, kept for Admin Pusat (Camunda Cockpit's incidents).

Two kinds, both shown under "Insiden" on "Semua laporan":

- A failed system step (``element`` set): a script task, gateway condition, DMN decision or timer of the model
  raised, left in the task data a value the serializer cannot store, or asked for an effect that could not be
  applied. The case façade (engine/cases/service.py ``_advance``) records it with ``step_failed`` in the command's own
  transaction, keeps the case at its last good state and sets ``case.retry_at`` from ``retry_delay``: the worker
  retries then, Admin Pusat at any time ("Coba lagi"). A waiting case has one open incident: the same failure
  counts up on it (and the retries space out), another failure replaces it. A retry that succeeds resolves it
  (``recovered``). The case's history says it too (engine/audit/trail.py): the audit event ``step_failed`` after a kept
  input whose steps failed, ``steps_retried`` first in a retry that succeeded; the replay reads them (a failed retry,
  or a failed timer pass, changes nothing in the case: only its incident counts it).
- A command that failed whole (``element`` empty): whatever else a request or a worker pass could not do. Its
  transaction is rolled back, and whoever ran it (the request handler, the worker) records it with ``record`` in a
  transaction of its own.

Nothing in this module commits.
"""

from __future__ import annotations

import traceback
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.db.tables import Case, Incident

MAX_DETAIL = 20_000  # characters of traceback kept
RETRY_MINUTES_MAX = 60  # the longest wait between two retries of a failed step


def _describe(error: BaseException) -> tuple[str, str, str]:
    """(the exception's class, its message, the traceback) as an incident keeps them."""
    kind = f"{type(error).__module__}.{type(error).__qualname__}"[:200]
    return kind, str(error) or type(error).__name__, "".join(traceback.format_exception(error))[-MAX_DETAIL:]


def record(
    session: Session,
    at: datetime,
    command: str,
    error: BaseException,
    *,
    actor: str,
    case_id: int | None = None,
    task: str | None = None,
) -> Incident:
    """Add a command that failed whole to the session (the caller commits), or count it on the open incident of the
    same command, task and error. Returns the incident."""
    kind, message, detail = _describe(error)
    query = select(Incident).where(
        Incident.resolved_at.is_(None),
        Incident.element.is_(None),
        Incident.command == command,
        Incident.error == kind,
        Incident.message == message,
        Incident.case_id.is_(None) if case_id is None else Incident.case_id == case_id,
        Incident.task.is_(None) if task is None else Incident.task == task,
    )
    incident = session.scalars(query.limit(1)).first()
    if incident is None:
        incident = Incident(at=at, last_at=at, count=1, command=command, case_id=case_id, task=task, actor=actor, error=kind, message=message)
        incident.detail = detail
        session.add(incident)
    else:
        incident.count += 1
        incident.last_at, incident.actor, incident.detail = at, actor, detail
    session.flush()
    return incident


def step_failed(
    session: Session,
    at: datetime,
    command: str,
    error: BaseException,
    *,
    actor: str,
    case_id: int,
    element: str,
    element_name: str | None,
    task: str | None = None,
) -> Incident:
    """Record that a system step of the case failed at BPMN ``element`` while ``command`` ran (in the caller's
    transaction; the caller flushes, with the case it puts off). The same element and error count up on the case's
    open step incident; a different failure resolves that one (by the system) and opens a new one, so the retries
    start again from a short wait. Returns the incident."""
    kind, message, detail = _describe(error)
    element, element_name = element[:80], element_name[:200] if element_name else None
    current = session.scalars(_open_steps(case_id).limit(1)).first()
    if current is not None and (current.element, current.error, current.message) == (element, kind, message):
        current.count += 1
        current.last_at, current.actor, current.detail, current.element_name = at, actor, detail, element_name
        return current
    if current is not None:
        current.resolved_at, current.resolved_by = at, "sistem"
    incident = Incident(
        at=at,
        last_at=at,
        count=1,
        command=command,
        case_id=case_id,
        task=task,
        element=element,
        element_name=element_name,
        actor=actor,
        error=kind,
        message=message,
        detail=detail,
    )
    session.add(incident)
    return incident


def _open_steps(case_id: int) -> Select[Incident]:
    """The case's open step incidents."""
    return select(Incident).where(Incident.case_id == case_id, Incident.element.is_not(None), Incident.resolved_at.is_(None))


def retry_delay(count: int) -> timedelta:
    """How long a case waits before the retry that follows its ``count``-th failure of the same step: 1, 2, 4, 8, 16,
    32 minutes, then 60 minutes for every later one."""
    return timedelta(minutes=min(2 ** min(max(count, 1) - 1, 6), RETRY_MINUTES_MAX))


def waiting_on(session: Session, case_id: int) -> Incident | None:
    """The case's open step incident: the failure it waits on (None when it was marked resolved by hand meanwhile)."""
    return session.scalars(_open_steps(case_id).order_by(Incident.id.desc()).limit(1)).first()


def recovered(session: Session, case_id: int, by: str, at: datetime) -> int:
    """Resolve the case's open step incidents: its steps have now run. Returns how many were open."""
    resolved = list(session.scalars(_open_steps(case_id)))
    for incident in resolved:
        incident.resolved_at, incident.resolved_by = at, by
    return len(resolved)


def open_incidents(session: Session, limit: int = 50) -> list[tuple[Incident, str | None, datetime | None]]:
    """Unresolved incidents, most recent first, each with its case's tracking id (None without a case) and, when the case
    waits for a retry of a failed step, when the worker retries it (None otherwise)."""
    query = (
        select(Incident, Case.tracking_id, Case.retry_at)
        .outerjoin(Case, Case.id == Incident.case_id)
        .where(Incident.resolved_at.is_(None))
        .order_by(Incident.last_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return [(incident, tracking_id, retry_at) for incident, tracking_id, retry_at in session.execute(query)]


def case_of(session: Session, incident_id: int) -> int | None:
    """The id of the case an incident is about; None for an unknown incident or one about no case."""
    return session.scalar(select(Incident.case_id).where(Incident.id == incident_id))


def resolve(session: Session, incident_id: int, by: str, at: datetime) -> bool:
    """Mark an incident dealt with (the model or the code was fixed, the user retried). False if unknown or already resolved.

    A case that still waits for a retry keeps waiting: the worker tries it at ``retry_at`` as before."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.resolved_at is not None:
        return False
    incident.resolved_at, incident.resolved_by = at, by
    return True
