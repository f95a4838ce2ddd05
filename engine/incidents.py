"""Incidents: commands that failed inside the engine, kept for Admin Pusat (Camunda Cockpit's incidents).

A script or service task that raises while a user completes a task (or while the worker fires a
timer) makes the whole command fail: its transaction is rolled back, so the case stays exactly as it
was and the user task stays open. Whoever ran the command (the request handler, the worker) then
records the failure here in a transaction of its own and commits it. Nothing in this module commits.
"""

from __future__ import annotations

import traceback
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .store import Case, Incident

MAX_DETAIL = 20_000  # characters of traceback kept


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
    """Add the failure to the session (the caller commits), or count it on the open incident of the same
    command, task and error. Returns the incident."""
    kind = f"{type(error).__module__}.{type(error).__qualname__}"[:200]
    message = str(error) or type(error).__name__
    detail = "".join(traceback.format_exception(error))[-MAX_DETAIL:]
    query = select(Incident).where(
        Incident.resolved_at.is_(None),
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


def open_incidents(session: Session, limit: int = 50) -> list[tuple[Incident, str | None]]:
    """Unresolved incidents, most recent first, each with its case's tracking id (None without a case)."""
    query = (
        select(Incident, Case.tracking_id)
        .outerjoin(Case, Case.id == Incident.case_id)
        .where(Incident.resolved_at.is_(None))
        .order_by(Incident.last_at.desc(), Incident.id.desc())
        .limit(limit)
    )
    return [(incident, tracking_id) for incident, tracking_id in session.execute(query)]


def resolve(session: Session, incident_id: int, by: str, at: datetime) -> bool:
    """Mark an incident dealt with (the model or the code was fixed, the user retried). False if unknown or already resolved."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.resolved_at is not None:
        return False
    incident.resolved_at, incident.resolved_by = at, by
    return True
